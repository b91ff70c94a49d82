// CPU kernels for the fused optimizer updates; each follows the single-tensor
// code of torch/optim/{sgd,adam,rmsprop,adagrad}.py element by element, in the
// parameter's dtype, as PyTorch does (a half-type expression computes in float
// and rounds where it is stored).
#include <algorithm>
#include <cmath>

#include "kernels/nn_fused.h"
#include "norch/tensor/dtype.h"
#include "norch/tensor/parallel.h"

namespace norch::cpu {
namespace {

template <typename T>
T* opt_ptr(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }

template <typename T>
void sgd_impl(T* p, const T* g, T* buf, int64_t n, const SgdArgs& a) {
  const T lr = static_cast<T>(a.lr), mom = static_cast<T>(a.momentum), wd = static_cast<T>(a.weight_decay);
  const T damp = static_cast<T>(1 - a.dampening);
  parallel_for(n, grain_for(n, n, 65536), [&](int64_t b_, int64_t e_) {
#pragma omp simd
    for (int64_t i = b_; i < e_; ++i) {
      T gi = a.maximize ? T(-g[i]) : g[i];
      if (a.weight_decay != 0) gi = gi + wd * p[i];
      if (a.momentum != 0) {
        const T b = a.init_buffer ? gi : T(buf[i] * mom + damp * gi);
        buf[i] = b;
        gi = a.nesterov ? T(gi + mom * b) : b;
      }
      p[i] = p[i] - lr * gi;
    }
  });
}

template <typename T>
void adam_impl(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, const AdamArgs& a) {
  const double bc1 = 1 - std::pow(a.beta1, static_cast<double>(a.step));
  const double bc2 = 1 - std::pow(a.beta2, static_cast<double>(a.step));
  const T step_size = static_cast<T>(a.lr / bc1), bc2_sqrt = static_cast<T>(std::sqrt(bc2));
  const T b1 = static_cast<T>(1 - a.beta1), b2 = static_cast<T>(a.beta2), b2c = static_cast<T>(1 - a.beta2);
  const T wd = static_cast<T>(a.weight_decay), eps = static_cast<T>(a.eps);
  const T decay = static_cast<T>(1 - a.lr * a.weight_decay);
  parallel_for(n, grain_for(n, n, 65536), [&](int64_t b_, int64_t e_) {
    for (int64_t i = b_; i < e_; ++i) {
      T gi = a.maximize ? T(-g[i]) : g[i];
      if (a.weight_decay != 0) {
        if (a.decoupled) p[i] = p[i] * decay;
        else gi = gi + wd * p[i];
      }
      m[i] = m[i] + b1 * (gi - m[i]);  // lerp_(grad, 1 - beta1)
      v[i] = v[i] * b2 + b2c * gi * gi;
      T second = v[i];
      if (a.amsgrad) {
        vmax[i] = std::max(vmax[i], v[i]);
        second = vmax[i];
      }
      const T denom = std::sqrt(second) / bc2_sqrt + eps;
      p[i] = p[i] - step_size * (m[i] / denom);
    }
  });
}

template <typename T>
void rmsprop_impl(T* p, const T* g, T* sq, T* gavg, T* buf, int64_t n, const RmspropArgs& a) {
  const T alpha = static_cast<T>(a.alpha), ac = static_cast<T>(1 - a.alpha), eps = static_cast<T>(a.eps);
  const T wd = static_cast<T>(a.weight_decay), mom = static_cast<T>(a.momentum), lr = static_cast<T>(a.lr);
  parallel_for(n, grain_for(n, n, 65536), [&](int64_t b_, int64_t e_) {
    for (int64_t i = b_; i < e_; ++i) {
      T gi = a.maximize ? T(-g[i]) : g[i];
      if (a.weight_decay != 0) gi = gi + wd * p[i];
      sq[i] = sq[i] * alpha + ac * gi * gi;
      T avg;
      if (a.centered) {
        gavg[i] = gavg[i] + ac * (gi - gavg[i]);
        avg = std::sqrt(sq[i] - gavg[i] * gavg[i]);
      } else {
        avg = std::sqrt(sq[i]);
      }
      avg = avg + eps;
      if (a.momentum > 0) {
        buf[i] = buf[i] * mom + gi / avg;
        p[i] = p[i] - lr * buf[i];
      } else {
        p[i] = p[i] - lr * (gi / avg);
      }
    }
  });
}

template <typename T>
void adagrad_impl(T* p, const T* g, T* sum, int64_t n, const AdagradArgs& a) {
  const T clr = static_cast<T>(a.lr / (1 + static_cast<double>(a.step - 1) * a.lr_decay));
  const T wd = static_cast<T>(a.weight_decay), eps = static_cast<T>(a.eps);
  parallel_for(n, grain_for(n, n, 65536), [&](int64_t b_, int64_t e_) {
    for (int64_t i = b_; i < e_; ++i) {
      T gi = a.maximize ? T(-g[i]) : g[i];
      if (a.weight_decay != 0) gi = gi + wd * p[i];
      sum[i] = sum[i] + gi * gi;
      const T std_ = std::sqrt(sum[i]) + eps;
      p[i] = p[i] - clr * (gi / std_);
    }
  });
}

void sgd_kernel(const std::vector<OptimTensors>& t, const std::vector<SgdArgs>& a) {
  for (size_t i = 0; i < t.size(); ++i)
    NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(t[i].p.dtype(), "sgd_step_", [&] {
      sgd_impl(t[i].p.data<scalar_t>(), t[i].g.data<scalar_t>(), opt_ptr<scalar_t>(t[i].s0), t[i].p.numel(), a[i]);
    });
}
void adam_kernel(const std::vector<OptimTensors>& t, const std::vector<AdamArgs>& a) {
  for (size_t i = 0; i < t.size(); ++i)
    NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(t[i].p.dtype(), "adam_step_", [&] {
      adam_impl(t[i].p.data<scalar_t>(), t[i].g.data<scalar_t>(), t[i].s0.data<scalar_t>(),
                t[i].s1.data<scalar_t>(), opt_ptr<scalar_t>(t[i].s2), t[i].p.numel(), a[i]);
    });
}
void rmsprop_kernel(const std::vector<OptimTensors>& t, const std::vector<RmspropArgs>& a) {
  for (size_t i = 0; i < t.size(); ++i)
    NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(t[i].p.dtype(), "rmsprop_step_", [&] {
      rmsprop_impl(t[i].p.data<scalar_t>(), t[i].g.data<scalar_t>(), t[i].s0.data<scalar_t>(),
                   opt_ptr<scalar_t>(t[i].s1), opt_ptr<scalar_t>(t[i].s2), t[i].p.numel(), a[i]);
    });
}
void adagrad_kernel(const std::vector<OptimTensors>& t, const std::vector<AdagradArgs>& a) {
  for (size_t i = 0; i < t.size(); ++i)
    NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(t[i].p.dtype(), "adagrad_step_", [&] {
      adagrad_impl(t[i].p.data<scalar_t>(), t[i].g.data<scalar_t>(), t[i].s0.data<scalar_t>(), t[i].p.numel(),
                   a[i]);
    });
}

}  // namespace

NORCH_REGISTER_KERNEL(sgd_stub, CPU, sgd_kernel);
NORCH_REGISTER_KERNEL(adam_stub, CPU, adam_kernel);
NORCH_REGISTER_KERNEL(rmsprop_stub, CPU, rmsprop_kernel);
NORCH_REGISTER_KERNEL(adagrad_stub, CPU, adagrad_kernel);

}  // namespace norch::cpu

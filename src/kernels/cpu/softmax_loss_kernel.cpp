// CPU kernels for softmax/log_softmax (forward and backward) and the class
// gather/scatter/weight loops behind nll_loss and cross_entropy.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/nn_fused.h"
#include "norch/tensor/dtype.h"
#include "norch/tensor/parallel.h"

namespace norch::cpu {
namespace {

// One softmax line of `n` values at stride `st`; accumulates in double.
template <typename T>
void softmax_line(const T* x, T* y, int64_t n, int64_t st, bool log) {
  double mx = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, static_cast<double>(x[i * st]));
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i * st]) - mx);
  if (log) {
    // (x - max) - log(sum), never x - (max + log(sum)): with large logits
    // max + log(sum) rounds to max and the log(sum) term is lost.
    const double ls = std::log(sum);
    for (int64_t i = 0; i < n; ++i) y[i * st] = static_cast<T>((static_cast<double>(x[i * st]) - mx) - ls);
  } else {
    const double inv = 1.0 / sum;
    for (int64_t i = 0; i < n; ++i) y[i * st] = static_cast<T>(std::exp(static_cast<double>(x[i * st]) - mx) * inv);
  }
}

template <typename T>
void softmax_impl(const T* x, T* y, int64_t outer, int64_t dim, int64_t inner, bool log) {
  const int64_t lines = outer * inner;
  parallel_for(lines, grain_for(lines, lines * dim, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t l = b_; l < e_; ++l) {
      const int64_t o = l / inner, i = l % inner;
      softmax_line(x + o * dim * inner + i, y + o * dim * inner + i, dim, inner, log);
    }
  });
}

// softmax:     gx = y * (g - sum(g * y))
// log_softmax: gx = g - exp(y) * sum(g)
template <typename T>
void softmax_backward_impl(const T* g, const T* y, T* gx, int64_t outer, int64_t dim, int64_t inner, bool log) {
  const int64_t lines = outer * inner;
  parallel_for(lines, grain_for(lines, lines * dim, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t l = b_; l < e_; ++l) {
      const int64_t base = (l / inner) * dim * inner + l % inner;
      const T* gl = g + base;
      const T* yl = y + base;
      T* ol = gx + base;
      double s = 0;
      if (log) {
        for (int64_t k = 0; k < dim; ++k) s += gl[k * inner];
        for (int64_t k = 0; k < dim; ++k) ol[k * inner] = static_cast<T>(gl[k * inner] - std::exp(static_cast<double>(yl[k * inner])) * s);
      } else {
        for (int64_t k = 0; k < dim; ++k) s += static_cast<double>(gl[k * inner]) * yl[k * inner];
        for (int64_t k = 0; k < dim; ++k) ol[k * inner] = static_cast<T>(yl[k * inner] * (gl[k * inner] - s));
      }
    }
  });
}

void softmax_kernel(const Tensor& in, const Tensor& out, int64_t outer, int64_t dim, int64_t inner, bool log) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(in.dtype(), "softmax", [&] {
    softmax_impl(in.data<scalar_t>(), out.data<scalar_t>(), outer, dim, inner, log);
  });
}

void softmax_backward_kernel(const Tensor& grad, const Tensor& out, const Tensor& grad_in, int64_t outer,
                             int64_t dim, int64_t inner, bool log) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(out.dtype(), "softmax_backward", [&] {
    softmax_backward_impl(grad.data<scalar_t>(), out.data<scalar_t>(), grad_in.data<scalar_t>(), outer, dim, inner,
                          log);
  });
}

template <typename T>
void class_gather_impl(const T* x, const int64_t* t, int64_t ignore, T* out, int64_t N, int64_t C, int64_t S) {
  parallel_for(N * S, grain_for(N * S, N * S, 65536), [&](int64_t b_, int64_t e_) {
    for (int64_t i = b_; i < e_; ++i) {
      const int64_t n = i / S, s = i % S, c = t[i];
      out[i] = (c == ignore || c < 0 || c >= C) ? T(0) : x[(n * C + c) * S + s];
    }
  });
}

template <typename T>
void class_scatter_impl(const T* v, const int64_t* t, int64_t ignore, T* out, int64_t N, int64_t C, int64_t S) {
  std::fill(out, out + N * C * S, T(0));
  parallel_for(N * S, grain_for(N * S, N * S, 65536), [&](int64_t b_, int64_t e_) {
    for (int64_t i = b_; i < e_; ++i) {
      const int64_t n = i / S, s = i % S, c = t[i];
      if (c != ignore && c >= 0 && c < C) out[(n * C + c) * S + s] = v[i];
    }
  });
}

void class_gather_kernel(const Tensor& x, const Tensor& target, int64_t ignore_index, const Tensor& out) {
  const int64_t N = x.size(0), C = x.size(1), S = x.size(2);
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "nll_loss", [&] {
    class_gather_impl(x.data<scalar_t>(), target.data<int64_t>(), ignore_index, out.data<scalar_t>(), N, C, S);
  });
}

void class_scatter_kernel(const Tensor& v, const Tensor& target, int64_t ignore_index, const Tensor& out) {
  const int64_t N = out.size(0), C = out.size(1), S = out.size(2);
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(v.dtype(), "nll_loss_backward", [&] {
    class_scatter_impl(v.data<scalar_t>(), target.data<int64_t>(), ignore_index, out.data<scalar_t>(), N, C, S);
  });
}

void class_weight_kernel(const Tensor& target, const Tensor& weight, int64_t C, int64_t ignore, const Tensor& out) {
  const int64_t* t = target.data<int64_t>();
  const int64_t n = target.numel();
  for (int64_t i = 0; i < n; ++i)
    NORCH_CHECK_INDEX(t[i] == ignore || (t[i] >= 0 && t[i] < C), "Target ", t[i], " is out of bounds.");
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(out.dtype(), "nll_loss", [&] {
    scalar_t* o = out.data<scalar_t>();
    const scalar_t* w = weight.defined() ? weight.data<scalar_t>() : nullptr;
    for (int64_t i = 0; i < n; ++i) o[i] = t[i] == ignore ? scalar_t(0) : (w ? w[t[i]] : scalar_t(1));
  });
}

void range_check_kernel(const Tensor& x, double lo, double hi, const char* msg) {
  bool ok = true;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "range_check", [&] {
    const scalar_t* p = x.data<scalar_t>();
    for (int64_t i = 0; i < x.numel(); ++i)
      if (!(p[i] >= lo && p[i] <= hi)) { ok = false; break; }
  });
  NORCH_CHECK(ok, msg);
}

}  // namespace

NORCH_REGISTER_KERNEL(softmax_stub, CPU, softmax_kernel);
NORCH_REGISTER_KERNEL(softmax_backward_stub, CPU, softmax_backward_kernel);
NORCH_REGISTER_KERNEL(class_gather_stub, CPU, class_gather_kernel);
NORCH_REGISTER_KERNEL(class_scatter_stub, CPU, class_scatter_kernel);
NORCH_REGISTER_KERNEL(class_weight_stub, CPU, class_weight_kernel);
NORCH_REGISTER_KERNEL(range_check_stub, CPU, range_check_kernel);

}  // namespace norch::cpu

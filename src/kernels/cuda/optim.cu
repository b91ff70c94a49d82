// CUDA fused optimizer updates (SGD, Adam/AdamW, RMSprop, Adagrad), element by
// element the formulas of src/kernels/cpu/optim_kernel.cpp, in the parameter's dtype.
// A half-type expression computes in float and rounds where the CPU's rounds (each
// named T value), so float16/bfloat16 parameters step as they do on the CPU.
//
// Note [Multi-tensor apply]: a model has many small parameters, and a launch per
// tensor per state buffer costs more than the arithmetic. multi_tensor_apply packs
// up to kMaxTensors tensors into one launch: the kernel argument carries their
// pointers and sizes, and a block table maps each block to (tensor, chunk), so one
// launch updates every parameter of a step (PyTorch's _foreach/fused design).
#include <array>
#include <cmath>
#include <vector>

#include "kernels/cuda/nn_common.cuh"
#include "kernels/nn_fused.h"

namespace norch::cuda_kernels {
namespace {

constexpr int kMaxTensors = 24;
constexpr int kMaxBlocks = 320;
constexpr int64_t kChunk = 16 * kThreads;

// Kept under the 4 KiB kernel-argument limit of older toolkits for NP = 5.
template <int NP>
struct TensorListMeta {
  void* ptr[NP][kMaxTensors];  // ptr[j][slot]: operand j (param, grad, state...) of tensor `slot`
  int64_t numel[kMaxTensors];
  int tensor_of_block[kMaxBlocks];
  int chunk_of_block[kMaxBlocks];
};

template <typename T, int NP, typename Op>
__global__ void multi_tensor_kernel(TensorListMeta<NP> meta, Op op) {
  const int t = meta.tensor_of_block[blockIdx.x];
  const int64_t start = meta.chunk_of_block[blockIdx.x] * kChunk;
  const int64_t end = min(meta.numel[t], start + kChunk);
  T* p[NP];
  for (int j = 0; j < NP; ++j) p[j] = static_cast<T*>(meta.ptr[j][t]);
  for (int64_t i = start + threadIdx.x; i < end; i += blockDim.x) op(p, i);
}

// tensors[k] = the NP pointers (param, grad, state...) of tensor k, all of numels[k] elements.
template <typename T, int NP, typename Op>
void multi_tensor_apply(const std::vector<std::array<void*, NP>>& tensors, const std::vector<int64_t>& numels, Op op,
                        const char* name) {
  TensorListMeta<NP> meta{};
  int nt = 0, nb = 0;
  auto launch = [&] {
    if (nb > 0) {
      multi_tensor_kernel<T, NP, Op><<<nb, kThreads, 0, cuda::current_stream()>>>(meta, op);
      check_launch(name);
    }
    nt = 0;
    nb = 0;
  };
  for (size_t k = 0; k < tensors.size(); ++k) {
    const int64_t chunks = (numels[k] + kChunk - 1) / kChunk;
    int slot = -1;  // tensor k's slot in the pending launch, once it has one
    for (int64_t c = 0; c < chunks; ++c) {
      if (slot < 0) {
        if (nt == kMaxTensors) launch();
        slot = nt++;
        for (int j = 0; j < NP; ++j) meta.ptr[j][slot] = tensors[k][j];
        meta.numel[slot] = numels[k];
      }
      meta.tensor_of_block[nb] = slot;
      meta.chunk_of_block[nb] = static_cast<int>(c);
      if (++nb == kMaxBlocks) {
        launch();
        slot = -1;  // the rest of tensor k goes into the next launch
      }
    }
  }
  launch();
}

// sqrt of a stored value, in float for the half types (no 16-bit overload to pick).
template <typename T>
__device__ inline opmath_t<T> sqrt_of(T v) { return sqrt(static_cast<opmath_t<T>>(v)); }

template <typename T>
struct SgdOp {
  T lr, mom, wd, damp;
  bool maximize, has_wd, has_mom, init_buffer, nesterov;
  __device__ void operator()(T** p, int64_t i) const {  // p: param, grad, buf
    T gi = maximize ? T(-p[1][i]) : p[1][i];
    if (has_wd) gi = gi + wd * p[0][i];
    if (has_mom) {
      const T b = init_buffer ? gi : T(p[2][i] * mom + damp * gi);
      p[2][i] = b;
      gi = nesterov ? T(gi + mom * b) : b;
    }
    p[0][i] = p[0][i] - lr * gi;
  }
};

template <typename T>
struct AdamOp {
  T step_size, bc2_sqrt, b1, b2, b2c, wd, eps, decay;
  bool maximize, has_wd, decoupled, amsgrad;
  __device__ void operator()(T** p, int64_t i) const {  // p: param, grad, m, v, vmax
    T gi = maximize ? T(-p[1][i]) : p[1][i];
    if (has_wd) {
      if (decoupled) p[0][i] = p[0][i] * decay;
      else gi = gi + wd * p[0][i];
    }
    const T m = p[2][i] + b1 * (gi - p[2][i]);  // lerp_(grad, 1 - beta1)
    const T v = p[3][i] * b2 + b2c * gi * gi;
    p[2][i] = m;
    p[3][i] = v;
    T second = v;
    if (amsgrad) {
      second = p[4][i] > v ? p[4][i] : v;
      p[4][i] = second;
    }
    const T denom = sqrt_of(second) / bc2_sqrt + eps;
    p[0][i] = p[0][i] - step_size * (m / denom);
  }
};

template <typename T>
struct RmspropOp {
  T alpha, ac, eps, wd, mom, lr;
  bool maximize, has_wd, centered, has_mom;
  __device__ void operator()(T** p, int64_t i) const {  // p: param, grad, square_avg, grad_avg, buf
    T gi = maximize ? T(-p[1][i]) : p[1][i];
    if (has_wd) gi = gi + wd * p[0][i];
    const T sq = p[2][i] * alpha + ac * gi * gi;
    p[2][i] = sq;
    T avg;
    if (centered) {
      const T ga = p[3][i] + ac * (gi - p[3][i]);
      p[3][i] = ga;
      avg = sqrt(static_cast<opmath_t<T>>(sq - ga * ga));
    } else {
      avg = sqrt_of(sq);
    }
    avg = avg + eps;
    if (has_mom) {
      const T b = p[4][i] * mom + gi / avg;
      p[4][i] = b;
      p[0][i] = p[0][i] - lr * b;
    } else {
      p[0][i] = p[0][i] - lr * (gi / avg);
    }
  }
};

template <typename T>
struct AdagradOp {
  T clr, wd, eps;
  bool maximize, has_wd;
  __device__ void operator()(T** p, int64_t i) const {  // p: param, grad, sum
    T gi = maximize ? T(-p[1][i]) : p[1][i];
    if (has_wd) gi = gi + wd * p[0][i];
    const T s = p[2][i] + gi * gi;
    p[2][i] = s;
    const T std_ = sqrt_of(s) + eps;
    p[0][i] = p[0][i] - clr * (gi / std_);
  }
};

// Parameters whose updates are the same functor (same dtype and arguments: in a normal
// step, all of them) share launches; a run ends where either changes.
bool same(const SgdArgs& x, const SgdArgs& y) {
  return x.lr == y.lr && x.momentum == y.momentum && x.dampening == y.dampening &&
         x.weight_decay == y.weight_decay && x.nesterov == y.nesterov && x.maximize == y.maximize &&
         x.init_buffer == y.init_buffer;
}
bool same(const AdamArgs& x, const AdamArgs& y) {
  return x.lr == y.lr && x.beta1 == y.beta1 && x.beta2 == y.beta2 && x.eps == y.eps &&
         x.weight_decay == y.weight_decay && x.step == y.step && x.amsgrad == y.amsgrad &&
         x.maximize == y.maximize && x.decoupled == y.decoupled;
}
bool same(const RmspropArgs& x, const RmspropArgs& y) {
  return x.lr == y.lr && x.alpha == y.alpha && x.eps == y.eps && x.weight_decay == y.weight_decay &&
         x.momentum == y.momentum && x.centered == y.centered && x.maximize == y.maximize;
}
bool same(const AdagradArgs& x, const AdagradArgs& y) {
  return x.lr == y.lr && x.lr_decay == y.lr_decay && x.weight_decay == y.weight_decay && x.eps == y.eps &&
         x.step == y.step && x.maximize == y.maximize;
}

void* ptr(const Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; }

// Calls launch(first, last) for each run [first, last) of one dtype and equal arguments.
template <typename Args, typename Launch>
void for_each_run(const std::vector<OptimTensors>& t, const std::vector<Args>& a, Launch launch) {
  for (size_t i = 0; i < t.size();) {
    size_t j = i + 1;
    while (j < t.size() && t[j].p.dtype() == t[i].p.dtype() && same(a[j], a[i])) ++j;
    launch(i, j);
    i = j;
  }
}

template <int NP>
void collect(const std::vector<OptimTensors>& t, size_t first, size_t last, std::vector<std::array<void*, NP>>& ptrs,
             std::vector<int64_t>& numels) {
  for (size_t k = first; k < last; ++k) {
    const std::array<void*, 5> all{ptr(t[k].p), ptr(t[k].g), ptr(t[k].s0), ptr(t[k].s1), ptr(t[k].s2)};
    std::array<void*, NP> mine{};
    for (int j = 0; j < NP; ++j) mine[j] = all[j];
    ptrs.push_back(mine);
    numels.push_back(t[k].p.numel());
  }
}

void sgd_cuda(const std::vector<OptimTensors>& t, const std::vector<SgdArgs>& args) {
  for_each_run(t, args, [&](size_t first, size_t last) {
    const SgdArgs& a = args[first];
    NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(t[first].p.dtype(), "sgd_step_", [&] {
      using T = scalar_t;
      SgdOp<T> op{static_cast<T>(a.lr), static_cast<T>(a.momentum), static_cast<T>(a.weight_decay),
                  static_cast<T>(1 - a.dampening), a.maximize, a.weight_decay != 0, a.momentum != 0, a.init_buffer,
                  a.nesterov};
      std::vector<std::array<void*, 3>> ptrs;
      std::vector<int64_t> numels;
      collect<3>(t, first, last, ptrs, numels);
      multi_tensor_apply<T, 3>(ptrs, numels, op, "sgd_step_");
    });
  });
}

void adam_cuda(const std::vector<OptimTensors>& t, const std::vector<AdamArgs>& args) {
  for_each_run(t, args, [&](size_t first, size_t last) {
    const AdamArgs& a = args[first];
    const double bc1 = 1 - std::pow(a.beta1, static_cast<double>(a.step));
    const double bc2 = 1 - std::pow(a.beta2, static_cast<double>(a.step));
    NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(t[first].p.dtype(), "adam_step_", [&] {
      using T = scalar_t;
      AdamOp<T> op{static_cast<T>(a.lr / bc1), static_cast<T>(std::sqrt(bc2)), static_cast<T>(1 - a.beta1),
                   static_cast<T>(a.beta2), static_cast<T>(1 - a.beta2), static_cast<T>(a.weight_decay),
                   static_cast<T>(a.eps), static_cast<T>(1 - a.lr * a.weight_decay), a.maximize, a.weight_decay != 0,
                   a.decoupled, a.amsgrad};
      std::vector<std::array<void*, 5>> ptrs;
      std::vector<int64_t> numels;
      collect<5>(t, first, last, ptrs, numels);
      multi_tensor_apply<T, 5>(ptrs, numels, op, "adam_step_");
    });
  });
}

void rmsprop_cuda(const std::vector<OptimTensors>& t, const std::vector<RmspropArgs>& args) {
  for_each_run(t, args, [&](size_t first, size_t last) {
    const RmspropArgs& a = args[first];
    NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(t[first].p.dtype(), "rmsprop_step_", [&] {
      using T = scalar_t;
      RmspropOp<T> op{static_cast<T>(a.alpha), static_cast<T>(1 - a.alpha), static_cast<T>(a.eps),
                      static_cast<T>(a.weight_decay), static_cast<T>(a.momentum), static_cast<T>(a.lr), a.maximize,
                      a.weight_decay != 0, a.centered, a.momentum > 0};
      std::vector<std::array<void*, 5>> ptrs;
      std::vector<int64_t> numels;
      collect<5>(t, first, last, ptrs, numels);
      multi_tensor_apply<T, 5>(ptrs, numels, op, "rmsprop_step_");
    });
  });
}

void adagrad_cuda(const std::vector<OptimTensors>& t, const std::vector<AdagradArgs>& args) {
  for_each_run(t, args, [&](size_t first, size_t last) {
    const AdagradArgs& a = args[first];
    NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(t[first].p.dtype(), "adagrad_step_", [&] {
      using T = scalar_t;
      AdagradOp<T> op{static_cast<T>(a.lr / (1 + static_cast<double>(a.step - 1) * a.lr_decay)),
                      static_cast<T>(a.weight_decay), static_cast<T>(a.eps), a.maximize, a.weight_decay != 0};
      std::vector<std::array<void*, 3>> ptrs;
      std::vector<int64_t> numels;
      collect<3>(t, first, last, ptrs, numels);
      multi_tensor_apply<T, 3>(ptrs, numels, op, "adagrad_step_");
    });
  });
}

}  // namespace

NORCH_REGISTER_KERNEL(sgd_stub, CUDA, sgd_cuda);
NORCH_REGISTER_KERNEL(adam_stub, CUDA, adam_cuda);
NORCH_REGISTER_KERNEL(rmsprop_stub, CUDA, rmsprop_cuda);
NORCH_REGISTER_KERNEL(adagrad_stub, CUDA, adagrad_cuda);

}  // namespace norch::cuda_kernels

// CUDA random fills: uniform, normal, integer, Bernoulli and exponential
// draws, element i from the Philox block at counter offset + i through the
// same per-element math as the CPU kernels (kernels/random_math.h), so a seed
// gives the CPU's bits on the GPU. The half types draw in float32 and round, as
// the CPU kernels (and PyTorch) do. randperm and multinomial are sequential
// algorithms and run on the CPU (the ops copy their results over).
#include <cmath>

#include "kernels/cuda/loops.cuh"
#include "kernels/random.h"
#include "kernels/random_math.h"

namespace norch::cuda_kernels {
namespace {

template <typename T, typename F>
__global__ void generate_kernel(T* out, int64_t n, uint64_t offset, uint64_t key, F f) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = f(random_math::philox(offset + uint64_t(i), 0, key), i);
}

template <typename T, typename F>
void generate(const Tensor& out, uint64_t key, uint64_t offset, F f, const char* op) {
  const int64_t n = out.numel();
  if (n == 0) return;
  generate_kernel<T><<<blocks_for(n), kThreads, 0, cuda::current_stream()>>>(out.data<T>(), n, offset, key, f);
  check_launch(op);
}

template <typename T>
struct UniformDraw {
  T lo, hi, below_hi;
  __device__ T operator()(const random_math::Block& b, int64_t) const {
    return random_math::uniform_value<T>(b, lo, hi, below_hi);
  }
};
// The CPU's uniform_half_loop per element: the float32 draw over [from, to),
// rounded, then stepped below `to` when the rounding reached it.
template <typename T>
struct UniformHalfDraw {
  float lo, hi, below_hi;  // the float32 draw
  T hi_t, below_hi_t;
  bool nonempty;
  __device__ T operator()(const random_math::Block& b, int64_t) const {
    const T v = T(random_math::uniform_value<float>(b, lo, hi, below_hi));
    return nonempty && static_cast<float>(v) >= static_cast<float>(hi_t) ? below_hi_t : v;
  }
};

// The largest value of the half type T below v (v finite), as the CPU kernel steps.
template <typename T>
T half_below(T v) {
  uint16_t bits = v.x;
  if ((bits & 0x7fffu) == 0) return T(uint16_t(0x8001u), FromBits{});  // below +-0: -denorm_min
  bits = (bits & 0x8000u) ? uint16_t(bits + 1) : uint16_t(bits - 1);
  return T(bits, FromBits{});
}

template <typename T>
struct NormalDraw {
  double mean, std;
  __device__ T operator()(const random_math::Block& b, int64_t) const {
    if constexpr (is_half_type_v<T>) return T(random_math::normal_value<float>(b, mean, std));
    else return random_math::normal_value<T>(b, mean, std);
  }
};
template <typename T>
struct IntDraw {
  int64_t from;
  uint64_t range;
  __device__ T operator()(const random_math::Block& b, int64_t) const { return random_math::int_value<T>(b, from, range); }
};
template <typename T>
struct BernoulliDraw {
  double p0;        // the probability, when one serves every element
  const double* p;  // else one per element, in device memory
  __device__ T operator()(const random_math::Block& b, int64_t i) const {
    return random_math::bernoulli_value<T>(b, p ? p[i] : p0);
  }
};
template <typename T>
struct ExponentialDraw {
  double lambd;
  __device__ T operator()(const random_math::Block& b, int64_t) const {
    if constexpr (is_half_type_v<T>) return T(random_math::exponential_value<float>(b, lambd));
    else return random_math::exponential_value<T>(b, lambd);
  }
};

void uniform_cuda(const Tensor& out, uint64_t key, uint64_t offset, double from, double to) {
  NORCH_CUDA_DISPATCH_FLOATING_TYPES(out.dtype(), "uniform_", [&] {
    using T = scalar_t;
    if constexpr (is_half_type_v<T>) {
      const float lo = float(from), hi = float(to);
      const T hi_t = T(to);
      const bool nonempty = static_cast<float>(hi_t) > static_cast<float>(T(from));
      generate<T>(out, key, offset,
                  UniformHalfDraw<T>{lo, hi, std::nextafter(hi, lo), hi_t, half_below(hi_t), nonempty}, "uniform_");
    } else {
      const T lo = T(from), hi = T(to);
      generate<T>(out, key, offset, UniformDraw<T>{lo, hi, std::nextafter(hi, lo)}, "uniform_");
    }
  });
}

void normal_cuda(const Tensor& out, uint64_t key, uint64_t offset, double mean, double std) {
  NORCH_CUDA_DISPATCH_FLOATING_TYPES(out.dtype(), "normal_",
                                     [&] { generate<scalar_t>(out, key, offset, NormalDraw<scalar_t>{mean, std}, "normal_"); });
}

void random_cuda(const Tensor& out, uint64_t key, uint64_t offset, int64_t from, uint64_t range) {
  NORCH_CUDA_DISPATCH_ALL_TYPES(out.dtype(), "random_",
                                [&] { generate<scalar_t>(out, key, offset, IntDraw<scalar_t>{from, range}, "random_"); });
}

void bernoulli_cuda(const Tensor& out, uint64_t key, uint64_t offset, const double* p, bool scalar_p) {
  const int64_t n = out.numel();
  if (n == 0) return;
  if (scalar_p) {  // dropout's case: the probability travels by value, nothing to copy or wait for
    NORCH_CUDA_DISPATCH_ALL_TYPES(out.dtype(), "bernoulli_", [&] {
      generate<scalar_t>(out, key, offset, BernoulliDraw<scalar_t>{p[0], nullptr}, "bernoulli_");
    });
    return;
  }
  // p is host memory (kernels/random.h): the probabilities travel to the device first,
  // and the copy must finish before the caller's buffer goes away.
  const size_t bytes = sizeof(double) * static_cast<size_t>(n);
  double* dp = static_cast<double*>(cuda::allocate_workspace(bytes));
  check(cudaMemcpyAsync(dp, p, bytes, cudaMemcpyHostToDevice, cuda::current_stream()), "bernoulli_");
  check(cudaStreamSynchronize(cuda::current_stream()), "bernoulli_");
  NORCH_CUDA_DISPATCH_ALL_TYPES(out.dtype(), "bernoulli_", [&] {
    generate<scalar_t>(out, key, offset, BernoulliDraw<scalar_t>{0.0, dp}, "bernoulli_");
  });
  cuda::release_workspace(dp);
}

void exponential_cuda(const Tensor& out, uint64_t key, uint64_t offset, double lambd) {
  NORCH_CUDA_DISPATCH_FLOATING_TYPES(out.dtype(), "exponential_", [&] {
    generate<scalar_t>(out, key, offset, ExponentialDraw<scalar_t>{lambd}, "exponential_");
  });
}

}  // namespace

NORCH_REGISTER_KERNEL(uniform_stub, CUDA, uniform_cuda);
NORCH_REGISTER_KERNEL(normal_stub, CUDA, normal_cuda);
NORCH_REGISTER_KERNEL(random_stub, CUDA, random_cuda);
NORCH_REGISTER_KERNEL(bernoulli_stub, CUDA, bernoulli_cuda);
NORCH_REGISTER_KERNEL(exponential_stub, CUDA, exponential_cuda);

}  // namespace norch::cuda_kernels

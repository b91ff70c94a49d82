// CUDA loop patterns, the twins of kernels/cpu/loops.h: a kernel is a NORCH_HD
// functor (the one the CPU runs) handed to launch_elementwise, which picks a
// contiguous path (kVec elements per thread, vector loads when every pointer
// is aligned) or one strided path over the iterator's coalesced geometry.
// nvcc here runs without --extended-lambda, so functors are named structs.
#pragma once
#include <cstdint>
#include <type_traits>
#include <utility>

#include "kernels/cuda/common.cuh"
#include "kernels/functors.h"

namespace norch::cuda_kernels {

// The dtypes CUDA kernels are compiled for, listed once here rather than taken
// from dtype.h, so a dtype the CPU gains reaches CUDA as one line here, and not
// before. float16 and bfloat16 are norch::Half / norch::BFloat16 on the device
// too (half.h is NORCH_HD): kernels load them, compute in opmath_t (float) and
// round once on the store, with the CPU's round-to-nearest-even code.
#define NORCH_CUDA_FLOAT_CASES(...)                           \
  NORCH_DTYPE_CASE(Float32, float, __VA_ARGS__)               \
  NORCH_DTYPE_CASE(Float64, double, __VA_ARGS__)              \
  NORCH_DTYPE_CASE(Float16, ::norch::Half, __VA_ARGS__)       \
  NORCH_DTYPE_CASE(BFloat16, ::norch::BFloat16, __VA_ARGS__)
#define NORCH_CUDA_INT_CASES(...)                   \
  NORCH_DTYPE_CASE(UInt8, uint8_t, __VA_ARGS__)     \
  NORCH_DTYPE_CASE(Int32, int32_t, __VA_ARGS__)     \
  NORCH_DTYPE_CASE(Int64, int64_t, __VA_ARGS__)

#define NORCH_CUDA_DISPATCH_ALL_TYPES(TYPE, NAME, ...)                                     \
  [&] {                                                                                  \
    switch (TYPE) {                                                                      \
      NORCH_DTYPE_CASE(Bool, bool, __VA_ARGS__)                                          \
      NORCH_CUDA_INT_CASES(__VA_ARGS__)                                                  \
      NORCH_CUDA_FLOAT_CASES(__VA_ARGS__)                                                \
      default: break;                                                                    \
    }                                                                                    \
    NORCH_ERROR('"', NAME, "\" is not implemented on cuda for dtype ", ::norch::dtype_name(TYPE)); \
  }()
#define NORCH_CUDA_DISPATCH_NUMERIC_TYPES(TYPE, NAME, ...)                                 \
  [&] {                                                                                  \
    switch (TYPE) {                                                                      \
      NORCH_CUDA_INT_CASES(__VA_ARGS__)                                                  \
      NORCH_CUDA_FLOAT_CASES(__VA_ARGS__)                                                \
      default: break;                                                                    \
    }                                                                                    \
    NORCH_ERROR('"', NAME, "\" is not implemented for dtype ", ::norch::dtype_name(TYPE)); \
  }()
#define NORCH_CUDA_DISPATCH_FLOATING_TYPES(TYPE, NAME, ...)                                \
  [&] {                                                                                  \
    switch (TYPE) {                                                                      \
      NORCH_CUDA_FLOAT_CASES(__VA_ARGS__)                                                \
      default: break;                                                                    \
    }                                                                                    \
    NORCH_ERROR('"', NAME, "\" is not implemented for dtype ", ::norch::dtype_name(TYPE)); \
  }()

constexpr int kVec = 4;

// The device twin of cpu::in_opmath (kernels/cpu/loops.h): a half-type element
// reaches the functor as float and the result rounds once on the way out (a
// predicate's bool is returned unrounded). A named struct, since nvcc runs
// without --extended-lambda; other dtypes get the functor unchanged.
template <typename T, typename F>
struct InOpMath {
  F f;
  template <typename... A>
  NORCH_HD auto operator()(A... a) const {
    using R = decltype(f(static_cast<float>(a)...));
    if constexpr (std::is_same_v<R, bool>) return f(static_cast<float>(a)...);
    else return T(f(static_cast<float>(a)...));
  }
};

template <typename T, typename F>
auto in_opmath(F f) {
  if constexpr (is_half_type_v<T>) return InOpMath<T, F>{f};
  else return f;
}

// Geometry for N operands (Geometry in common.cuh holds three; where needs four).
template <int N>
struct OperandGeometry {
  int ndim;
  int64_t sizes[kMaxDims];
  int64_t strides[N][kMaxDims];  // bytes
};

template <int N>
inline OperandGeometry<N> operand_geometry(const TensorIterator& it) {
  OperandGeometry<N> g{};
  g.ndim = it.ndim();
  for (int d = 0; d < it.ndim(); ++d) {
    g.sizes[d] = it.shape()[d];
    for (int k = 0; k < N; ++k) g.strides[k][d] = it.strides(k)[d];
  }
  return g;
}

// Byte offsets of element `linear` (row-major over the shape) in each operand.
template <int N>
__device__ inline void operand_offsets(const OperandGeometry<N>& g, int64_t linear, int64_t (&off)[N]) {
  if (g.ndim == 1) {  // the common broadcast case (a tensor with a scalar): no division
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = linear * g.strides[k][0];
    return;
  }
#pragma unroll
  for (int k = 0; k < N; ++k) off[k] = 0;
  for (int d = g.ndim - 1; d >= 0; --d) {
    const int64_t i = linear % g.sizes[d];
    linear /= g.sizes[d];
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] += i * g.strides[k][d];
  }
}

template <typename T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

template <typename... T>
struct TypeList {};

template <int N>
struct Ptrs {
  char* p[N > 0 ? N : 1];
};

template <typename out_t, typename F, typename... In>
__device__ inline void apply_vec(const F& f, out_t* r, const Vec<In, kVec>&... in) {
#pragma unroll
  for (int j = 0; j < kVec; ++j) r[j] = f(in.v[j]...);
}

// Element i of every operand at i: thread t takes [kVec t, kVec t + kVec). No
// __restrict__: in-place ops pass the output as an input.
template <bool kAligned, typename out_t, typename F, typename... In>
__global__ void contiguous_kernel(int64_t n, F f, out_t* out, const In*... in) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x * kVec;
  for (int64_t base = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) * kVec; base < n;
       base += step) {
    if (kAligned && base + kVec <= n) {
      Vec<out_t, kVec> r;
      apply_vec<out_t, F, In...>(f, r.v, *reinterpret_cast<const Vec<In, kVec>*>(in + base)...);
      *reinterpret_cast<Vec<out_t, kVec>*>(out + base) = r;
    } else {
#pragma unroll
      for (int j = 0; j < kVec; ++j)
        if (base + j < n) out[base + j] = f(in[base + j]...);
    }
  }
}

// Writes operand 0 from the inputs at byte offsets `off` (a __global__ template
// may hold only one trailing pack, so the pack work happens here).
template <typename out_t, typename List>
struct StridedApply;
template <typename out_t, typename... In>
struct StridedApply<out_t, TypeList<In...>> {
  template <typename F, int N, size_t... I>
  __device__ static void run(const F& f, const Ptrs<N>& p, const int64_t (&off)[N], std::index_sequence<I...>) {
    *reinterpret_cast<out_t*>(p.p[0] + off[0]) = f(*reinterpret_cast<const In*>(p.p[I + 1] + off[I + 1])...);
  }
};

template <typename out_t, typename List, typename Seq, typename F, int N>
__global__ void strided_kernel(int64_t n, OperandGeometry<N> g, F f, Ptrs<N> p) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t off[N];
    operand_offsets<N>(g, i, off);
    StridedApply<out_t, List>::run(f, p, off, Seq{});
  }
}

template <typename T>
inline bool aligned_for_vec(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % (sizeof(T) * kVec) == 0;
}

template <typename out_t, typename... In, typename F, size_t... I>
void launch_elementwise_impl(const TensorIterator& it, const F& f, const char* op, std::index_sequence<I...>) {
  const int64_t n = it.numel();
  if (n == 0) return;
  constexpr int N = 1 + static_cast<int>(sizeof...(In));
  cudaStream_t stream = cuda::current_stream();
  if (it.is_contiguous()) {
    const int blocks = blocks_for((n + kVec - 1) / kVec);
    out_t* out = reinterpret_cast<out_t*>(it.data(0));
    const bool aligned = aligned_for_vec<out_t>(out) && (aligned_for_vec<In>(it.data(I + 1)) && ... && true);
    if (aligned)
      contiguous_kernel<true, out_t, F, In...>
          <<<blocks, kThreads, 0, stream>>>(n, f, out, reinterpret_cast<const In*>(it.data(I + 1))...);
    else
      contiguous_kernel<false, out_t, F, In...>
          <<<blocks, kThreads, 0, stream>>>(n, f, out, reinterpret_cast<const In*>(it.data(I + 1))...);
  } else {
    Ptrs<N> p{};
    for (int k = 0; k < N; ++k) p.p[k] = it.data(k);
    strided_kernel<out_t, TypeList<In...>, std::index_sequence<I...>, F, N>
        <<<blocks_for(n), kThreads, 0, stream>>>(n, operand_geometry<N>(it), f, p);
  }
  check_launch(op);
}

// Operand 0 (out_t) = f(operand 1 (In[0]), operand 2 (In[1]), ...).
template <typename out_t, typename... In, typename F>
void launch_elementwise(const TensorIterator& it, const F& f, const char* op) {
  launch_elementwise_impl<out_t, In...>(it, f, op, std::index_sequence_for<In...>{});
}

}  // namespace norch::cuda_kernels

// CUDA elementwise kernels behind the same DispatchStubs as the CPU ones:
// copy/cast, fill and add (through the functor the CPU kernel runs). Other ops on CUDA raise "not implemented on cuda"
// from the stub until their kernels are added here.
#include "kernels/cuda/common.cuh"

#include "kernels/binary.h"
#include "kernels/copy.h"
#include "kernels/fill.h"

namespace norch::cuda_kernels {

namespace {

// out = f(a, b) with a functor shared with the CPU kernels (kernels/binary.h).
template <typename T, typename F>
__global__ void binary_elementwise(char* out, const char* a, const char* b, Geometry g, int64_t n, bool contiguous,
                                   F f) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    if (contiguous) {
      reinterpret_cast<T*>(out)[i] = f(reinterpret_cast<const T*>(a)[i], reinterpret_cast<const T*>(b)[i]);
    } else {
      int64_t off[3];
      offsets(g, i, off, 3);
      *reinterpret_cast<T*>(out + off[0]) = f(*reinterpret_cast<const T*>(a + off[1]), *reinterpret_cast<const T*>(b + off[2]));
    }
  }
}

template <typename To, typename From>
__global__ void copy_kernel(char* out, const char* in, Geometry g, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t off[2];
    offsets(g, i, off, 2);
    From v = *reinterpret_cast<const From*>(in + off[1]);
    *reinterpret_cast<To*>(out + off[0]) = static_cast<To>(v);
  }
}

template <typename T>
__global__ void fill_kernel(char* out, T value, Geometry g, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t off[1];
    offsets(g, i, off, 1);
    *reinterpret_cast<T*>(out + off[0]) = value;
  }
}

template <typename T, typename F>
void launch_binary(TensorIterator& it, F f) {
  binary_elementwise<T><<<blocks_for(it.numel()), kThreads, 0, cuda::current_stream()>>>(it.data(0), it.data(1), it.data(2), geometry(it), it.numel(),
                                                         it.is_contiguous(), f);
}

void binary_cuda(TensorIterator& it, BinaryOp op) {
  if (op != BinaryOp::Add)
    NORCH_NOT_IMPLEMENTED(binary_op_name(op), " is not implemented on cuda yet (only add has a CUDA kernel)");
  if (it.numel() == 0) return;
  NORCH_DISPATCH_NUMERIC_TYPES(it.common_dtype(), "add", [&] { launch_binary<scalar_t>(it, functors::Add{}); });
  check_launch("add");
}

template <typename To>
void launch_copy(TensorIterator& it) {
  NORCH_DISPATCH_ALL_TYPES(it.common_dtype(), "copy_", [&] {
    copy_kernel<To, scalar_t><<<blocks_for(it.numel()), kThreads, 0, cuda::current_stream()>>>(it.data(0), it.data(1), geometry(it), it.numel());
  });
}

void copy_cuda(TensorIterator& it) {
  if (it.numel() == 0) return;
  NORCH_DISPATCH_ALL_TYPES(it.output_dtype(), "copy_", [&] { launch_copy<scalar_t>(it); });
  check_launch("copy_");
}

template <typename T>
void launch_fill(TensorIterator& it, const Scalar& value) {
  T v = value.is_floating_point() ? static_cast<T>(value.to_double()) : static_cast<T>(value.to_int());
  fill_kernel<T><<<blocks_for(it.numel()), kThreads, 0, cuda::current_stream()>>>(it.data(0), v, geometry(it), it.numel());
}

void fill_cuda(const Tensor& self, const Scalar& value) {
  TensorIterator it = TensorIterator::nullary(self, "fill_");
  if (it.numel() == 0) return;
  NORCH_DISPATCH_ALL_TYPES(self.dtype(), "fill_", [&] { launch_fill<scalar_t>(it, value); });
  check_launch("fill_");
}

}  // namespace

NORCH_REGISTER_KERNEL(binary_stub, CUDA, binary_cuda);
NORCH_REGISTER_KERNEL(copy_stub, CUDA, copy_cuda);
NORCH_REGISTER_KERNEL(fill_stub, CUDA, fill_cuda);

}  // namespace norch::cuda_kernels

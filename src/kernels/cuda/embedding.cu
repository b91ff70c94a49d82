// CUDA embedding lookup and its backward. The lookup checks every index on the
// device first (an IndexError, as on the CPU); the backward adds each gradient row
// into its weight row atomically (atomic.cuh), since several lookups may share a
// row; a half-type add computes in float and rounds, as the CPU's `+=` does.
#include "kernels/cuda/nn_common.cuh"
#include "kernels/nn_fused.h"

namespace norch::cuda_kernels {
namespace {

__global__ void index_check_kernel(const int64_t* idx, int64_t L, int64_t V, long long* bad) {
  NORCH_CUDA_LOOP(i, L) {
    if (idx[i] < 0 || idx[i] >= V) flag_bad(bad, idx[i]);
  }
}

template <typename T>
__global__ void embedding_kernel(const T* w, const int64_t* idx, T* out, int64_t L, int64_t D) {
  NORCH_CUDA_LOOP(i, L * D) out[i] = w[idx[i / D] * D + i % D];
}

template <typename T>
__global__ void embedding_backward_kernel(const T* g, const int64_t* idx, int64_t L, int64_t D, int64_t pad, T* out) {
  NORCH_CUDA_LOOP(i, L * D) {
    const int64_t row = idx[i / D];
    if (row != pad) atomic_add(out + row * D + i % D, g[i]);
  }
}

void embedding_cuda(const Tensor& weight, const Tensor& indices, const Tensor& out) {
  const int64_t V = weight.size(0), D = weight.size(1), L = indices.numel();
  if (L == 0) return;
  {
    DeviceFlag bad("embedding");
    index_check_kernel<<<blocks_for(L), kThreads, 0, cuda::current_stream()>>>(indices.data<int64_t>(), L, V,
                                                                               bad.get());
    NORCH_CHECK_INDEX(!bad.read(), "index out of range in self");
  }
  if (D == 0) return;
  NORCH_DISPATCH_ALL_TYPES_AND_HALF(weight.dtype(), "embedding", [&] {
    embedding_kernel<scalar_t><<<blocks_for(L * D), kThreads, 0, cuda::current_stream()>>>(
        weight.data<scalar_t>(), indices.data<int64_t>(), out.data<scalar_t>(), L, D);
  });
  check_launch("embedding");
}

void embedding_backward_cuda(const Tensor& grad, const Tensor& indices, int64_t padding_idx, const Tensor& out) {
  const int64_t L = indices.numel(), D = out.size(1);
  zero(out, "embedding_backward");
  if (L * D == 0) return;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(grad.dtype(), "embedding_backward", [&] {
    embedding_backward_kernel<scalar_t><<<blocks_for(L * D), kThreads, 0, cuda::current_stream()>>>(
        grad.data<scalar_t>(), indices.data<int64_t>(), L, D, padding_idx, out.data<scalar_t>());
  });
  check_launch("embedding_backward");
}

}  // namespace

NORCH_REGISTER_KERNEL(embedding_stub, CUDA, embedding_cuda);
NORCH_REGISTER_KERNEL(embedding_backward_stub, CUDA, embedding_backward_cuda);

}  // namespace norch::cuda_kernels

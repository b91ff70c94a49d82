// CUDA sort along a dim (full, or the first k for topk): every slice is
// padded to a power of two in workspace and bitonic-sorted in global memory,
// all slices in the same passes. The comparison is the CPU kernel's total
// order (NaN above every number in both directions, ties by position), so the
// result is the stable sort's, exactly as on the CPU. unique runs on the CPU
// (the op copies its input there).
#include <type_traits>

#include "kernels/cuda/loops.cuh"
#include "kernels/select.h"

namespace norch::cuda_kernels {
namespace {

template <typename T>
__device__ inline bool is_nan_value(T v) {
  if constexpr (is_floating_type_v<T>) return v != v;
  else return false;
}
template <typename T>
__device__ inline bool less_nan_last(T a, T b) { return (!is_nan_value(a) && is_nan_value(b)) || a < b; }

// True when (x at position a) comes before (y at position b); padding (-1) comes last.
template <typename T>
__device__ inline bool sorts_before(T x, int64_t a, T y, int64_t b, bool descending) {
  if (a < 0) return false;
  if (b < 0) return true;
  if (descending ? less_nan_last(y, x) : less_nan_last(x, y)) return true;
  if (descending ? less_nan_last(x, y) : less_nan_last(y, x)) return false;
  return a < b;
}

// Slice s's first element in each of three tensors (g: the slice grid, element strides).
template <typename T>
__global__ void load_kernel(const T* self, T* keys, int64_t* pos, Geometry g, int64_t slices, int64_t n, int64_t P,
                            int64_t ss) {
  const int64_t total = slices * P;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t s = i / P, p = i % P;
    if (p < n) {
      int64_t off[3];
      offsets(g, s, off, 3);
      keys[i] = self[off[0] + p * ss];
      pos[i] = p;
    } else {
      keys[i] = T(0);
      pos[i] = -1;
    }
  }
}

template <typename T>
__global__ void bitonic_step(T* keys, int64_t* pos, int64_t total, int64_t P, int64_t j, int64_t k, bool descending) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t p = i % P, partner = p ^ j;
    if (partner <= p) continue;
    const int64_t a = i, b = i - p + partner;
    const bool up = (p & k) == 0;
    const bool swap = up ? sorts_before(keys[b], pos[b], keys[a], pos[a], descending)
                         : sorts_before(keys[a], pos[a], keys[b], pos[b], descending);
    if (swap) {
      const T t = keys[a];
      keys[a] = keys[b];
      keys[b] = t;
      const int64_t q = pos[a];
      pos[a] = pos[b];
      pos[b] = q;
    }
  }
}

template <typename T>
__global__ void store_kernel(const T* keys, const int64_t* pos, T* values, int64_t* indices, Geometry g,
                             int64_t slices, int64_t k, int64_t P, int64_t vs, int64_t is) {
  const int64_t total = slices * k;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t s = i / k, r = i % k;
    int64_t off[3];
    offsets(g, s, off, 3);
    values[off[1] + r * vs] = keys[s * P + r];
    indices[off[2] + r * is] = pos[s * P + r];
  }
}

template <typename T>
void sort_impl(const Tensor& values, const Tensor& indices, const Tensor& self, int64_t dim, bool descending,
               int64_t k) {
  const int64_t n = self.sizes()[dim];
  const int64_t slices = n == 0 ? 0 : self.numel() / n;
  if (slices == 0 || k == 0) return;
  NORCH_CHECK(self.dim() <= kMaxDims, "sort: at most ", kMaxDims, " dims on cuda");
  int64_t P = 1;
  while (P < n) P <<= 1;
  Geometry g{};
  g.ndim = static_cast<int>(self.dim());
  for (int d = 0; d < g.ndim; ++d) {
    g.sizes[d] = d == dim ? 1 : self.sizes()[d];
    g.strides[0][d] = self.strides()[d];
    g.strides[1][d] = values.strides()[d];
    g.strides[2][d] = indices.strides()[d];
  }
  const int64_t total = slices * P;
  T* keys = static_cast<T*>(cuda::allocate_workspace(sizeof(T) * total));
  int64_t* pos = static_cast<int64_t*>(cuda::allocate_workspace(sizeof(int64_t) * total));
  cudaStream_t s = cuda::current_stream();
  load_kernel<T><<<blocks_for(total), kThreads, 0, s>>>(self.data<T>(), keys, pos, g, slices, n, P,
                                                        self.strides()[dim]);
  for (int64_t kk = 2; kk <= P; kk <<= 1)
    for (int64_t j = kk >> 1; j > 0; j >>= 1)
      bitonic_step<T><<<blocks_for(total), kThreads, 0, s>>>(keys, pos, total, P, j, kk, descending);
  store_kernel<T><<<blocks_for(slices * k), kThreads, 0, s>>>(keys, pos, values.data<T>(), indices.data<int64_t>(), g,
                                                              slices, k, P, values.strides()[dim],
                                                              indices.strides()[dim]);
  check_launch("sort");
  cuda::release_workspace(keys);
  cuda::release_workspace(pos);
}

void sort_cuda(const Tensor& values, const Tensor& indices, const Tensor& self, int64_t dim, bool descending,
               int64_t k) {
  NORCH_CUDA_DISPATCH_ALL_TYPES(self.dtype(), "sort",
                                [&] { sort_impl<scalar_t>(values, indices, self, dim, descending, k); });
}

}  // namespace

NORCH_REGISTER_KERNEL(sort_stub, CUDA, sort_cuda);

}  // namespace norch::cuda_kernels

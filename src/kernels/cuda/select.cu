// CUDA gather and scatter over index's shape. The gather/scatter ops leave the
// range check of CUDA indices to these kernels: a device-side bounds flag
// (index_check.cuh) turns a bad index into the op's RuntimeError after the
// kernel instead of a fault; other callers pass checked indices. gather is a thread per
// element. scatter walks each line along `dim` in order on one thread, which
// writes disjoint destinations per line, so repeated indices behave exactly
// as on the CPU (the last write wins, sums in index order); only when there
// are too few lines to fill the GPU does it spread elements over threads, with
// atomic adds for accumulation, as PyTorch's CUDA scatter_add does.
#include <type_traits>

#include "kernels/cuda/atomic.cuh"
#include "kernels/cuda/index_check.cuh"
#include "kernels/cuda/loops.cuh"
#include "kernels/select.h"

namespace norch::cuda_kernels {
namespace {

// Element strides (not bytes) of up to three tensors over one shape.
inline Geometry element_geometry(const Shape& sizes, const Shape& s0, const Shape& s1, const Shape& s2) {
  NORCH_CHECK(sizes.size() <= static_cast<size_t>(kMaxDims), "gather/scatter: at most ", kMaxDims, " dims on cuda");
  Geometry g{};
  g.ndim = static_cast<int>(sizes.size());
  for (int d = 0; d < g.ndim; ++d) {
    g.sizes[d] = sizes[d];
    g.strides[0][d] = s0[d];
    g.strides[1][d] = s1[d];
    g.strides[2][d] = s2[d];
  }
  return g;
}

inline Shape zero_dim(Shape s, int64_t dim) {
  s[dim] = 0;
  return s;
}

template <typename T>
__global__ void gather_kernel(T* out, const T* self, const int64_t* ix, Geometry g, int64_t n, int64_t st,
                              int64_t size, BoundsFlag* flag) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t off[3];
    offsets(g, i, off, 3);
    const int64_t j = ix[off[2]];
    if (index_ok(flag, j, size)) out[off[0]] = self[off[1] + j * st];
  }
}

void gather_cuda(const Tensor& out, const Tensor& self, int64_t dim, const Tensor& index) {
  const int64_t n = index.numel();
  if (n == 0) return;
  BoundsCheck bounds("gather");
  const Geometry g = element_geometry(index.sizes(), out.strides(), zero_dim(self.strides(), dim), index.strides());
  NORCH_CUDA_DISPATCH_ALL_TYPES(self.dtype(), "gather", [&] {
    gather_kernel<scalar_t><<<blocks_for(n), kThreads, 0, cuda::current_stream()>>>(
        out.data<scalar_t>(), self.data<scalar_t>(), index.data<int64_t>(), g, n, self.strides()[dim],
        self.sizes()[dim], bounds.get());
  });
  check_launch("gather");
  bounds.raise_if_bad(dim, self.sizes()[dim]);
}

template <typename T>
__device__ inline T scatter_sum(T a, T b) {
  if constexpr (std::is_same_v<T, bool>) return a || b;
  else return functors::wrapping_add(a, b);
}

// One thread per line along `dim` (g has that dim's size set to 1).
template <typename T>
__global__ void scatter_lines_kernel(T* self, const int64_t* ix, const T* src, Geometry g, int64_t lines,
                                     int64_t len, int64_t st, int64_t ist, int64_t sst, int64_t size, bool accumulate,
                                     BoundsFlag* flag) {
  for (int64_t l = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; l < lines;
       l += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t off[3];
    offsets(g, l, off, 3);
    for (int64_t j = 0; j < len; ++j) {
      const int64_t k = ix[off[1] + j * ist];
      if (!index_ok(flag, k, size)) continue;
      T& dst = self[off[0] + k * st];
      const T v = src[off[2] + j * sst];
      dst = accumulate ? scatter_sum(dst, v) : v;
    }
  }
}

// Atomic accumulation for every dtype: native where CUDA has it, a CAS on the
// enclosing 32-bit word for the one-byte and the half types (atomic.cuh).
template <typename T>
__device__ inline void atomic_accumulate(T* p, T v) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, int32_t>) {
    atomicAdd(p, v);
  } else if constexpr (is_half_type_v<T>) {
    atomic_add_half(p, static_cast<float>(v));
  } else if constexpr (std::is_same_v<T, int64_t>) {
    atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
  } else {
    unsigned int* word = reinterpret_cast<unsigned int*>(reinterpret_cast<uintptr_t>(p) & ~uintptr_t(3));
    const unsigned shift = (reinterpret_cast<uintptr_t>(p) & 3) * 8;
    unsigned int old = *word, assumed;
    do {
      assumed = old;
      const T cur = static_cast<T>((assumed >> shift) & 0xffu);
      const unsigned int next = static_cast<unsigned int>(static_cast<uint8_t>(scatter_sum(cur, v)));
      old = atomicCAS(word, assumed, (assumed & ~(0xffu << shift)) | (next << shift));
    } while (old != assumed);
  }
}

template <typename T>
__global__ void scatter_elements_kernel(T* self, const int64_t* ix, const T* src, Geometry g, int64_t n, int64_t st,
                                        int64_t size, bool accumulate, BoundsFlag* flag) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t off[3];
    offsets(g, i, off, 3);
    const int64_t k = ix[off[1]];
    if (!index_ok(flag, k, size)) continue;
    if (accumulate) atomic_accumulate(self + off[0] + k * st, src[off[2]]);
    else self[off[0] + k * st] = src[off[2]];
  }
}

void scatter_cuda(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, bool accumulate) {
  const int64_t n = index.numel();
  if (n == 0) return;
  const char* op = accumulate ? "scatter_add" : "scatter";  // the op's own name in errors
  BoundsCheck bounds(op);
  const int64_t len = index.sizes()[dim], lines = n / len;
  const int64_t st = self.strides()[dim], size = self.sizes()[dim];
  cudaStream_t s = cuda::current_stream();
  const bool by_line = lines >= 2048 || len <= 32;
  NORCH_CUDA_DISPATCH_ALL_TYPES(self.dtype(), "scatter", [&] {
    using T = scalar_t;
    if (by_line) {
      Shape line_shape = index.sizes();
      line_shape[dim] = 1;
      const Geometry g = element_geometry(line_shape, zero_dim(self.strides(), dim), index.strides(), src.strides());
      scatter_lines_kernel<T><<<blocks_for(lines), kThreads, 0, s>>>(
          self.data<T>(), index.data<int64_t>(), src.data<T>(), g, lines, len, st, index.strides()[dim],
          src.strides()[dim], size, accumulate, bounds.get());
    } else {
      const Geometry g = element_geometry(index.sizes(), zero_dim(self.strides(), dim), index.strides(), src.strides());
      scatter_elements_kernel<T><<<blocks_for(n), kThreads, 0, s>>>(self.data<T>(), index.data<int64_t>(),
                                                                    src.data<T>(), g, n, st, size, accumulate,
                                                                    bounds.get());
    }
  });
  check_launch(op);
  bounds.raise_if_bad(dim, size);
}

}  // namespace

NORCH_REGISTER_KERNEL(gather_stub, CUDA, gather_cuda);
NORCH_REGISTER_KERNEL(scatter_stub, CUDA, scatter_cuda);

}  // namespace norch::cuda_kernels

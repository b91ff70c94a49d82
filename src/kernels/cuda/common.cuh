// What every CUDA kernel file shares: the iterator's geometry passed by value,
// the launch shape, the stream kernels run on, and the one way a CUDA error is
// reported (with the op's name, so "sum: CUDA error: ..." says which op failed).
#pragma once
#include <cuda_runtime.h>

#include "norch/error.h"
#include "norch/tensor/iterator.h"

namespace norch::cuda {

// The stream norch's kernels and copies are issued on (the current stream of
// the current device; the legacy default stream until streams are selected).
cudaStream_t current_stream();

// Scratch memory from the caching allocator for a kernel's temporaries
// (reduction partials, cuBLAS workspace). Freed back to the cache on release.
void* allocate_workspace(size_t nbytes);
void release_workspace(void* p);

}  // namespace norch::cuda

namespace norch::cuda_kernels {

constexpr int kMaxDims = 16;
constexpr int kThreads = 256;

// The iterator's geometry, small enough to pass as a kernel argument.
struct Geometry {
  int ndim;
  int64_t sizes[kMaxDims];
  int64_t strides[3][kMaxDims];  // bytes, per operand (output first)
};

inline Geometry geometry(const TensorIterator& it) {
  Geometry g{};
  g.ndim = it.ndim();
  for (int d = 0; d < it.ndim(); ++d) {
    g.sizes[d] = it.shape()[d];
    for (int k = 0; k < it.ntensors() && k < 3; ++k) g.strides[k][d] = it.strides(k)[d];
  }
  return g;
}

// Byte offsets of element `linear` (row-major over the iterator's shape) in each operand.
__host__ __device__ inline void offsets(const Geometry& g, int64_t linear, int64_t* off, int nops) {
  for (int k = 0; k < nops; ++k) off[k] = 0;
  for (int d = g.ndim - 1; d >= 0; --d) {
    int64_t i = linear % g.sizes[d];
    linear /= g.sizes[d];
    for (int k = 0; k < nops; ++k) off[k] += i * g.strides[k][d];
  }
}

// Grid-stride loops keep the grid bounded; 65535 blocks of 256 saturate any current GPU.
inline int blocks_for(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<int>(b < 65535 ? (b < 1 ? 1 : b) : 65535);
}

// Raises a RuntimeError naming `op` when the last launch (or `err`) failed.
inline void check(cudaError_t err, const char* op) {
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free error so the process stays usable
    NORCH_ERROR(op, ": CUDA error: ", cudaGetErrorString(err));
  }
}
inline void check_launch(const char* op) { check(cudaGetLastError(), op); }

}  // namespace norch::cuda_kernels

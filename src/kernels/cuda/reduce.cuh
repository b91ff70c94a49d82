// The CUDA reduction machinery over Note [Reduction layout] (kernels/reduce.h):
// a Policy says what an element contributes (load), how two partial results
// combine and what the identity is; the row kernel reduces contiguous rows
// with a block (or a warp, for short rows), the column kernel walks columns with
// one thread each. A long reduction is split into chunks whose partials land
// in workspace and are reduced by a second pass. Every step runs in an order
// fixed by (M, K) alone, so a result never changes from run to run.
#pragma once
#include <algorithm>
#include <cstdint>

#include "kernels/cuda/common.cuh"

namespace norch::cuda_kernels {

constexpr int kWarp = 32;

// Warp shuffle of any trivially copyable value, 32 bits at a time.
template <typename A>
__device__ inline A shfl_down(A v, int s) {
  static_assert(sizeof(A) % 4 == 0 || sizeof(A) < 4, "shuffled values are whole words or smaller");
  if constexpr (sizeof(A) < 4) {
    int w = static_cast<int>(v);
    return static_cast<A>(__shfl_down_sync(0xffffffffu, w, s));
  } else {
    constexpr int kWords = sizeof(A) / 4;
    union U {
      A a;
      int w[kWords];
      __device__ U() {}
    } u;
    u.a = v;
#pragma unroll
    for (int i = 0; i < kWords; ++i) u.w[i] = __shfl_down_sync(0xffffffffu, u.w[i], s);
    return u.a;
  }
}

// Tree-combines the value of each group of kGroup consecutive threads
// (kGroup = 32 or kThreads); lane 0 of each group gets the result.
template <int kGroup, typename P, typename A>
__device__ inline A group_reduce(const P& p, A v, A* smem) {
#pragma unroll
  for (int s = kWarp / 2; s > 0; s /= 2) v = p.combine(v, shfl_down(v, s));
  if constexpr (kGroup > kWarp) {
    const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
    if (lane == 0) smem[warp] = v;
    __syncthreads();
    v = lane < kGroup / kWarp ? smem[lane] : p.identity();
    if (warp == 0) {
#pragma unroll
      for (int s = kWarp / 2; s > 0; s /= 2) v = p.combine(v, shfl_down(v, s));
    }
    __syncthreads();
  }
  return v;
}

// Row kernel: rows of `load` (m, k) for k in [0, K), chunk c covering
// [c * chunk, min(K, (c + 1) * chunk)); store(m, c, result).
template <int kGroup, typename P, typename Load, typename Store>
__global__ void reduce_rows_kernel(P p, Load load, Store store, int64_t M, int64_t K, int64_t chunks, int64_t chunk) {
  using A = typename P::acc_t;
  __shared__ A smem[kThreads / kWarp];
  constexpr int kGroups = kThreads / kGroup;
  const int group = threadIdx.x / kGroup, t = threadIdx.x % kGroup;
  const int64_t tasks = M * chunks;
  // Every thread of the block runs the same number of iterations (group_reduce syncs).
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * kGroups; base < tasks;
       base += static_cast<int64_t>(gridDim.x) * kGroups) {
    const int64_t task = base + group;
    A v = p.identity();
    if (task < tasks) {
      const int64_t m = task / chunks, c = task % chunks;
      const int64_t b = c * chunk, e = b + chunk < K ? b + chunk : K;
      // Four loads in flight before they are combined, in the same order as one at a time.
      int64_t k = b + t;
      for (; k + 3 * kGroup < e; k += 4 * kGroup) {
        const A x0 = load(m, k), x1 = load(m, k + kGroup), x2 = load(m, k + 2 * kGroup), x3 = load(m, k + 3 * kGroup);
        v = p.combine(p.combine(p.combine(p.combine(v, x0), x1), x2), x3);
      }
      for (; k < e; k += kGroup) v = p.combine(v, load(m, k));
    }
    v = group_reduce<kGroup>(p, v, smem);
    if (t == 0 && task < tasks) store(task / chunks, task % chunks, v);
  }
}

// Column kernel: thread (m, chunk c) combines load(m, k) for k in its chunk in order.
template <typename P, typename Load, typename Store>
__global__ void reduce_cols_kernel(P p, Load load, Store store, int64_t M, int64_t K, int64_t chunk) {
  const int64_t c = blockIdx.y;
  const int64_t b = c * chunk, e = b + chunk < K ? b + chunk : K;
  for (int64_t m = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; m < M;
       m += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    typename P::acc_t v = p.identity();
    int64_t k = b;
    for (; k + 3 < e; k += 4) {
      const auto x0 = load(m, k), x1 = load(m, k + 1), x2 = load(m, k + 2), x3 = load(m, k + 3);
      v = p.combine(p.combine(p.combine(p.combine(v, x0), x1), x2), x3);
    }
    for (; k < e; ++k) v = p.combine(v, load(m, k));
    store(m, c, v);
  }
}

// Loads of the 2-d problem: row-major [M, K] (inner) or [K, M] (outer).
template <typename P, typename in_t>
struct LoadInner {
  P p;
  const in_t* in;
  int64_t K;
  __device__ typename P::acc_t operator()(int64_t m, int64_t k) const { return p.load(in[m * K + k], k); }
};
template <typename P, typename in_t>
struct LoadOuter {
  P p;
  const in_t* in;
  int64_t M;
  __device__ typename P::acc_t operator()(int64_t m, int64_t k) const { return p.load(in[k * M + m], k); }
};
// Partials of the first pass: [M, chunks] (rows) or [chunks, M] (columns).
template <typename A>
struct LoadPartialRows {
  const A* part;
  int64_t chunks;
  __device__ A operator()(int64_t m, int64_t c) const { return part[m * chunks + c]; }
};
template <typename A>
struct LoadPartialCols {
  const A* part;
  int64_t M;
  __device__ A operator()(int64_t m, int64_t c) const { return part[c * M + m]; }
};
template <typename A>
struct StorePartialRows {
  A* part;
  int64_t chunks;
  __device__ void operator()(int64_t m, int64_t c, A v) const { part[m * chunks + c] = v; }
};
template <typename A>
struct StorePartialCols {
  A* part;
  int64_t M;
  __device__ void operator()(int64_t m, int64_t c, A v) const { part[c * M + m] = v; }
};

inline int grid_for(int64_t tasks) { return static_cast<int>(std::min<int64_t>(std::max<int64_t>(tasks, 1), 65535)); }

template <typename P, typename Load, typename Store>
void launch_rows(const P& p, const Load& load, const Store& store, int64_t M, int64_t K, int64_t chunks,
                 int64_t chunk) {
  cudaStream_t s = cuda::current_stream();
  if (chunk <= 64) {  // short rows: a warp each, eight rows a block
    reduce_rows_kernel<kWarp><<<grid_for((M * chunks + 7) / 8), kThreads, 0, s>>>(p, load, store, M, K, chunks, chunk);
  } else {
    reduce_rows_kernel<kThreads><<<grid_for(M * chunks), kThreads, 0, s>>>(p, load, store, M, K, chunks, chunk);
  }
}

// Reduces the 2-d problem in[M, K] (inner) or in[K, M] (outer) into store(m, acc).
// Chunking depends on M and K only, never on the device, so results are reproducible.
template <typename P, typename in_t, typename Store>
void reduce_2d(const P& p, const in_t* in, bool inner, int64_t M, int64_t K, const Store& store, const char* op) {
  using A = typename P::acc_t;
  if (M == 0) return;
  cudaStream_t s = cuda::current_stream();
  if (inner) {
    const int64_t chunks = (M < 512 && K > 16384) ? std::min<int64_t>((K + 8191) / 8192, std::max<int64_t>(1024 / M, 1)) : 1;
    if (chunks == 1) {
      launch_rows(p, LoadInner<P, in_t>{p, in, K}, store, M, K, 1, K);
    } else {
      const int64_t chunk = (K + chunks - 1) / chunks;
      A* part = static_cast<A*>(cuda::allocate_workspace(sizeof(A) * M * chunks));
      launch_rows(p, LoadInner<P, in_t>{p, in, K}, StorePartialRows<A>{part, chunks}, M, K, chunks, chunk);
      launch_rows(p, LoadPartialRows<A>{part, chunks}, store, M, chunks, 1, chunks);
      check_launch(op);
      cuda::release_workspace(part);
    }
  } else {
    const int64_t bx = (M + kThreads - 1) / kThreads;
    const int64_t chunks = (bx < 128 && K > 256) ? std::min<int64_t>((K + 255) / 256, std::max<int64_t>(512 / bx, 1)) : 1;
    const int64_t chunk = (K + chunks - 1) / chunks;
    const dim3 grid(static_cast<unsigned>(std::min<int64_t>(bx, 65535)), static_cast<unsigned>(chunks));
    if (chunks == 1) {
      reduce_cols_kernel<<<grid, kThreads, 0, s>>>(p, LoadOuter<P, in_t>{p, in, M}, store, M, K, K);
    } else {
      A* part = static_cast<A*>(cuda::allocate_workspace(sizeof(A) * M * chunks));
      reduce_cols_kernel<<<grid, kThreads, 0, s>>>(p, LoadOuter<P, in_t>{p, in, M}, StorePartialCols<A>{part, M}, M,
                                                   K, chunk);
      const dim3 grid2(grid.x, 1);
      reduce_cols_kernel<<<grid2, kThreads, 0, s>>>(p, LoadPartialCols<A>{part, M}, store, M, chunks, chunks);
      check_launch(op);
      cuda::release_workspace(part);
    }
  }
  check_launch(op);
}

}  // namespace norch::cuda_kernels

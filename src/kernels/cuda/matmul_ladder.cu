// The CUDA matmul ladder, llm.c style: each kernel a step up from the one before,
// each tested against cuBLAS (test_linalg.py) and timed beside it
// (benchmarks/bench_cuda.py). Shapes in comments: a [B, n, k], b [B, k, m], out [B, n, m].
// The half types accumulate in float (opmath_t) and round once into out.
#include "kernels/cuda/matmul.cuh"
#include "norch/tensor/dtype.h"

namespace norch::cuda_kernels {
namespace {

// Element strides of one operand, passed by value.
struct Strides3 {
  int64_t batch, row, col;
};

inline Strides3 strides_of(const Tensor& t) { return {t.strides()[0], t.strides()[1], t.strides()[2]}; }

// 1. Naive: thread (i, j) of batch z walks the k dimension. Every element of a and
// b is read from global memory n (or m) times; the memory system, not the ALUs,
// sets the speed. Integer dtypes wrap as on the CPU.
template <typename T>
__global__ void bmm_naive_kernel(const T* a, Strides3 sa, const T* b, Strides3 sb, T* out, int64_t n, int64_t k,
                                 int64_t m) {
  const int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  const int64_t i = blockIdx.y * static_cast<int64_t>(blockDim.y) + threadIdx.y;
  const int64_t z = blockIdx.z;
  if (i >= n || j >= m) return;
  const T* ar = a + z * sa.batch + i * sa.row;
  const T* bc = b + z * sb.batch + j * sb.col;
  using A = opmath_t<T>;
  A acc = A(0);
  for (int64_t kk = 0; kk < k; ++kk) acc += static_cast<A>(ar[kk * sa.col]) * static_cast<A>(bc[kk * sb.row]);
  out[(z * n + i) * m + j] = static_cast<T>(acc);
}

// 2. Tiled: a block owns a 32x32 tile of out. It walks k in steps of 32, staging a
// 32x32 tile of a and of b in shared memory, so each global element is read once per
// block instead of once per thread. 32x8 threads: thread (tx, ty) computes rows
// ty, ty+8, ty+16, ty+24 of column tx, which keeps 4 accumulators in registers.
// The +1 column of padding keeps the transposed reads of `as` free of bank conflicts.
constexpr int kTile = 32;
constexpr int kRowsPerThread = 4;
constexpr int kTileThreadsY = kTile / kRowsPerThread;

template <typename T>
__global__ void bmm_tiled_kernel(const T* a, Strides3 sa, const T* b, Strides3 sb, T* out, int64_t n, int64_t k,
                                 int64_t m) {
  __shared__ T as[kTile][kTile + 1];
  __shared__ T bs[kTile][kTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t row0 = blockIdx.y * static_cast<int64_t>(kTile), col0 = blockIdx.x * static_cast<int64_t>(kTile);
  const int64_t z = blockIdx.z;
  a += z * sa.batch;
  b += z * sb.batch;
  using A = opmath_t<T>;
  A acc[kRowsPerThread];
  for (int r = 0; r < kRowsPerThread; ++r) acc[r] = A(0);
  for (int64_t k0 = 0; k0 < k; k0 += kTile) {
    for (int r = 0; r < kRowsPerThread; ++r) {
      const int ly = ty + r * kTileThreadsY;
      const int64_t ai = row0 + ly, ak = k0 + tx;
      as[ly][tx] = (ai < n && ak < k) ? a[ai * sa.row + ak * sa.col] : T(0);
      const int64_t bk = k0 + ly, bj = col0 + tx;
      bs[ly][tx] = (bk < k && bj < m) ? b[bk * sb.row + bj * sb.col] : T(0);
    }
    __syncthreads();
    for (int kk = 0; kk < kTile; ++kk) {
      const A bv = static_cast<A>(bs[kk][tx]);
      for (int r = 0; r < kRowsPerThread; ++r) acc[r] += static_cast<A>(as[ty + r * kTileThreadsY][kk]) * bv;
    }
    __syncthreads();
  }
  for (int r = 0; r < kRowsPerThread; ++r) {
    const int64_t i = row0 + ty + r * kTileThreadsY, j = col0 + tx;
    if (i < n && j < m) out[(z * n + i) * m + j] = static_cast<T>(acc[r]);
  }
}

// Grid z is the batch (at most 65535 per launch), so large batches go in chunks.
constexpr int64_t kMaxGridZ = 65535;

template <typename Launch>
void over_batches(const Tensor& a, const Tensor& b, const Tensor& out, Launch launch) {
  const int64_t B = a.sizes()[0];
  for (int64_t z0 = 0; z0 < B; z0 += kMaxGridZ) {
    const int64_t nz = B - z0 < kMaxGridZ ? B - z0 : kMaxGridZ;
    launch(z0, static_cast<unsigned>(nz));
  }
}

}  // namespace

void bmm_naive(const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t n = a.sizes()[1], k = a.sizes()[2], m = b.sizes()[2];
  const Strides3 sa = strides_of(a), sb = strides_of(b);
  NORCH_CHECK((n + 7) / 8 <= 65535, "bmm: ", n, " rows are too many for the naive CUDA kernel");
  NORCH_DISPATCH_NUMERIC_TYPES_AND_HALF(out.dtype(), "bmm", [&] {
    const scalar_t* pa = a.data<scalar_t>();
    const scalar_t* pb = b.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    over_batches(a, b, out, [&](int64_t z0, unsigned nz) {
      const dim3 threads(32, 8);
      const dim3 grid(static_cast<unsigned>((m + 31) / 32), static_cast<unsigned>((n + 7) / 8), nz);
      bmm_naive_kernel<scalar_t><<<grid, threads, 0, cuda::current_stream()>>>(
          pa + z0 * sa.batch, sa, pb + z0 * sb.batch, sb, po + z0 * n * m, n, k, m);
    });
  });
  check_launch("bmm");
}

void bmm_tiled(const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t n = a.sizes()[1], k = a.sizes()[2], m = b.sizes()[2];
  const Strides3 sa = strides_of(a), sb = strides_of(b);
  NORCH_CHECK((n + kTile - 1) / kTile <= 65535, "bmm: ", n, " rows are too many for the tiled CUDA kernel");
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(out.dtype(), "bmm", [&] {
    const scalar_t* pa = a.data<scalar_t>();
    const scalar_t* pb = b.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    over_batches(a, b, out, [&](int64_t z0, unsigned nz) {
      const dim3 threads(kTile, kTileThreadsY);
      const dim3 grid(static_cast<unsigned>((m + kTile - 1) / kTile), static_cast<unsigned>((n + kTile - 1) / kTile),
                      nz);
      bmm_tiled_kernel<scalar_t><<<grid, threads, 0, cuda::current_stream()>>>(
          pa + z0 * sa.batch, sa, pb + z0 * sb.batch, sb, po + z0 * n * m, n, k, m);
    });
  });
  check_launch("bmm");
}

}  // namespace norch::cuda_kernels

// CUDA scans (cumsum, cumprod) along the middle dim of a contiguous
// [outer, n, inner] tensor, accumulating as the CPU does (floats in double,
// the half types in float, integers in int64). Many lines: a thread walks each line in order, which is
// the CPU's exact arithmetic. Few long lines: a block per line, each thread
// scanning a fixed slice and one thread carrying the slice totals in order,
// so results are the same on every run.
#include <type_traits>

#include "kernels/cuda/loops.cuh"
#include "kernels/reduce.h"

namespace norch::cuda_kernels {
namespace {

template <typename T>
using scan_acc_t = std::conditional_t<is_half_type_v<T>, float,
                                      std::conditional_t<std::is_floating_point_v<T>, double, int64_t>>;

template <typename A>
__device__ inline A scan_combine(bool is_sum, A a, A b) {
  if constexpr (std::is_integral_v<A>)  // wraps like the CPU's int64 arithmetic, without signed overflow
    return is_sum ? static_cast<A>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b))
                  : static_cast<A>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
  else
    return is_sum ? a + b : a * b;
}

// Position `step` of line `line` in the scan order.
__device__ inline int64_t line_offset(int64_t line, int64_t step, int64_t n, int64_t inner, bool reverse) {
  const int64_t o = line / inner, i = line % inner;
  const int64_t j = reverse ? n - 1 - step : step;
  return (o * n + j) * inner + i;
}

template <typename T>
__global__ void scan_lines_kernel(const T* in, T* out, int64_t lines, int64_t n, int64_t inner, bool is_sum,
                                  bool reverse) {
  using A = scan_acc_t<T>;
  for (int64_t line = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; line < lines;
       line += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    A acc = is_sum ? A(0) : A(1);
    for (int64_t step = 0; step < n; ++step) {
      const int64_t off = line_offset(line, step, n, inner, reverse);
      acc = scan_combine(is_sum, acc, static_cast<A>(in[off]));
      out[off] = static_cast<T>(acc);
    }
  }
}

template <typename T>
__global__ void scan_block_kernel(const T* in, T* out, int64_t lines, int64_t n, int64_t inner, bool is_sum,
                                  bool reverse) {
  using A = scan_acc_t<T>;
  __shared__ A totals[kThreads];
  const A id = is_sum ? A(0) : A(1);
  const int64_t slice = (n + kThreads - 1) / kThreads;
  const int64_t b = threadIdx.x * slice, e = b + slice < n ? b + slice : n;
  for (int64_t line = blockIdx.x; line < lines; line += gridDim.x) {
    A acc = id;
    for (int64_t s = b; s < e; ++s) acc = scan_combine(is_sum, acc, static_cast<A>(in[line_offset(line, s, n, inner, reverse)]));
    totals[threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.x == 0) {  // exclusive prefix of the slice totals, in slice order
      A run = id;
      for (int t = 0; t < kThreads; ++t) {
        const A v = totals[t];
        totals[t] = run;
        run = scan_combine(is_sum, run, v);
      }
    }
    __syncthreads();
    acc = totals[threadIdx.x];
    for (int64_t s = b; s < e; ++s) {
      const int64_t off = line_offset(line, s, n, inner, reverse);
      acc = scan_combine(is_sum, acc, static_cast<A>(in[off]));
      out[off] = static_cast<T>(acc);
    }
    __syncthreads();
  }
}

template <typename T>
void scan_typed(ScanOp op, const Tensor& in, const Tensor& out, bool reverse) {
  const int64_t outer = in.sizes()[0], n = in.sizes()[1], inner = in.sizes()[2];
  const int64_t lines = outer * inner;
  if (lines == 0 || n == 0) return;
  const bool is_sum = op == ScanOp::Sum;
  cudaStream_t s = cuda::current_stream();
  if (lines >= 2048 || n <= 1024)
    scan_lines_kernel<T><<<blocks_for(lines), kThreads, 0, s>>>(in.data<T>(), out.data<T>(), lines, n, inner, is_sum,
                                                              reverse);
  else
    scan_block_kernel<T><<<static_cast<unsigned>(lines < 65535 ? lines : 65535), kThreads, 0, s>>>(
        in.data<T>(), out.data<T>(), lines, n, inner, is_sum, reverse);
  check_launch(is_sum ? "cumsum" : "cumprod");
}

void scan_cuda(ScanOp op, const Tensor& in, const Tensor& out, bool reverse) {
  NORCH_CUDA_DISPATCH_NUMERIC_TYPES(in.dtype(), op == ScanOp::Sum ? "cumsum" : "cumprod",
                                    [&] { scan_typed<scalar_t>(op, in, out, reverse); });
}

}  // namespace

NORCH_REGISTER_KERNEL(scan_stub, CUDA, scan_cuda);

}  // namespace norch::cuda_kernels

// CUDA im2col / col2im: the unfolding that turns convolution into one cuBLAS
// product (the convolution ops in src/nn/conv.cpp run bmm on the columns).
// im2col writes each column entry from its source pixel; col2im gathers, for each
// pixel, every column entry that came from it, so no two threads write one place
// and the sums are formed in a fixed order (deterministic, no atomics); the half
// types sum in float and round once.
#include "kernels/conv.h"
#include "kernels/cuda/nn_common.cuh"

namespace norch::cuda_kernels {
namespace {

// Start of row (c, kernel offset kidx) of sample n in either cols layout (Im2colKernel).
__host__ __device__ inline int64_t row_offset(int64_t n, int64_t c, int64_t kidx, int64_t N, int64_t C, int64_t K,
                                              int64_t L, bool batch_inner) {
  return batch_inner ? ((c * K + kidx) * N + n) * L : ((n * C + c) * K + kidx) * L;
}

// One thread per column entry: (n, c, ki, kj, oy, ox) from the flat index.
template <typename T>
__global__ void im2col_kernel(const T* x, Window2d w, T* cols, int64_t N, int64_t C, bool batch_inner) {
  const int64_t L = w.oh * w.ow, K = w.kh * w.kw, total = N * C * K * L;
  NORCH_CUDA_LOOP(i, total) {
    const int64_t ox = i % w.ow, oy = (i / w.ow) % w.oh;
    const int64_t kidx = (i / L) % K, c = (i / (L * K)) % C, n = i / (L * K * C);
    const int64_t ki = kidx / w.kw, kj = kidx % w.kw;
    const int64_t iy = oy * w.sh - w.ph + ki * w.dh, ix = ox * w.sw - w.pw + kj * w.dw;
    const T v = (iy >= 0 && iy < w.H && ix >= 0 && ix < w.W) ? x[((n * C + c) * w.H + iy) * w.W + ix] : T(0);
    cols[row_offset(n, c, kidx, N, C, K, L, batch_inner) + oy * w.ow + ox] = v;
  }
}

// One thread per pixel (n, c, iy, ix): every (ki, kj) whose window position
// (oy, ox) lands exactly on it contributes its column entry.
template <typename T>
__global__ void col2im_kernel(const T* cols, Window2d w, T* out, int64_t N, int64_t C, bool batch_inner) {
  const int64_t L = w.oh * w.ow, K = w.kh * w.kw, total = N * C * w.H * w.W;
  NORCH_CUDA_LOOP(i, total) {
    const int64_t ix = i % w.W, iy = (i / w.W) % w.H, c = (i / (w.W * w.H)) % C, n = i / (w.W * w.H * C);
    opmath_t<T> acc = 0;
    for (int64_t ki = 0; ki < w.kh; ++ki) {
      const int64_t ty = iy + w.ph - ki * w.dh;
      if (ty < 0 || ty % w.sh != 0) continue;
      const int64_t oy = ty / w.sh;
      if (oy >= w.oh) continue;
      for (int64_t kj = 0; kj < w.kw; ++kj) {
        const int64_t tx = ix + w.pw - kj * w.dw;
        if (tx < 0 || tx % w.sw != 0) continue;
        const int64_t ox = tx / w.sw;
        if (ox >= w.ow) continue;
        const int64_t at = row_offset(n, c, ki * w.kw + kj, N, C, K, L, batch_inner) + oy * w.ow + ox;
        acc += static_cast<opmath_t<T>>(cols[at]);
      }
    }
    out[i] = static_cast<T>(acc);
  }
}

void im2col_cuda(const Tensor& x, const Window2d& w, bool batch_inner, const Tensor& cols) {
  const int64_t N = x.sizes()[0], C = x.sizes()[1];
  if (cols.numel() == 0) return;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "im2col", [&] {
    im2col_kernel<scalar_t><<<blocks_for(cols.numel()), kThreads, 0, cuda::current_stream()>>>(
        x.data<scalar_t>(), w, cols.data<scalar_t>(), N, C, batch_inner);
  });
  check_launch("im2col");
}

void col2im_cuda(const Tensor& cols, const Window2d& w, bool batch_inner, const Tensor& out) {
  const int64_t N = out.sizes()[0], C = out.sizes()[1];
  if (out.numel() == 0) return;
  if (cols.numel() == 0) return zero(out, "col2im");
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(out.dtype(), "col2im", [&] {
    col2im_kernel<scalar_t><<<blocks_for(out.numel()), kThreads, 0, cuda::current_stream()>>>(
        cols.data<scalar_t>(), w, out.data<scalar_t>(), N, C, batch_inner);
  });
  check_launch("col2im");
}

}  // namespace

NORCH_REGISTER_KERNEL(im2col_stub, CUDA, im2col_cuda);
NORCH_REGISTER_KERNEL(col2im_stub, CUDA, col2im_cuda);

}  // namespace norch::cuda_kernels

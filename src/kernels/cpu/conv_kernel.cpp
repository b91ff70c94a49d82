// CPU im2col / col2im: the unfolding that turns convolution into a matrix product.
// Loops over (sample, channel) planes in parallel; each plane owns its rows of
// `cols` and its slice of the output, so no two threads write the same place.
#include <algorithm>
#include <cstring>

#include "kernels/conv.h"
#include "kernels/cpu/loops.h"
#include "norch/tensor/parallel.h"

namespace norch::cpu {
namespace {

// The output positions ox in [lo, hi) whose source x0 + ox * stride lies in [0, W).
inline void valid_range(int64_t x0, int64_t stride, int64_t W, int64_t ow, int64_t& lo, int64_t& hi) {
  // ceil(-x0 / stride) without forming -x0 + stride - 1, which overflows for a
  // huge stride and would make lo negative (writes before the row).
  lo = x0 >= 0 ? 0 : (-x0) / stride + ((-x0) % stride != 0);
  hi = x0 >= W ? 0 : std::min(ow, (W - 1 - x0) / stride + 1);
  lo = std::min(lo, ow);
}

// Start of row (c, kernel offset kidx) of sample n in either cols layout.
inline int64_t row_offset(int64_t n, int64_t c, int64_t kidx, int64_t N, int64_t C, int64_t K, int64_t L,
                          bool batch_inner) {
  return batch_inner ? ((c * K + kidx) * N + n) * L : ((n * C + c) * K + kidx) * L;
}

// x: [N, C, H, W] -> cols (see Im2colKernel for the two layouts).
template <typename T>
void im2col_typed(const T* x, const Window2d& w, T* cols, int64_t N, int64_t C, bool batch_inner) {
  const int64_t L = w.oh * w.ow, K = w.kh * w.kw, NC = N * C;
  parallel_for(NC, grain_for(NC, NC * K * L, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t p = b_; p < e_; ++p) {
      const T* plane = x + p * w.H * w.W;
      for (int64_t ki = 0; ki < w.kh; ++ki) {
        for (int64_t kj = 0; kj < w.kw; ++kj) {
          T* row = cols + row_offset(p / C, p % C, ki * w.kw + kj, N, C, K, L, batch_inner);
          for (int64_t oy = 0; oy < w.oh; ++oy) {
            T* dst = row + oy * w.ow;
            const int64_t iy = oy * w.sh - w.ph + ki * w.dh;
            if (iy < 0 || iy >= w.H) {
              for (int64_t ox = 0; ox < w.ow; ++ox) dst[ox] = T(0);
              continue;
            }
            const T* src = plane + iy * w.W;
            const int64_t x0 = kj * w.dw - w.pw;
            int64_t lo, hi;
            valid_range(x0, w.sw, w.W, w.ow, lo, hi);
            for (int64_t ox = 0; ox < lo; ++ox) dst[ox] = T(0);
            if (w.sw == 1) {
              if (hi > lo) std::memcpy(dst + lo, src + x0 + lo, sizeof(T) * (hi - lo));
            } else {
              for (int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[x0 + ox * w.sw];
            }
            for (int64_t ox = std::max(lo, hi); ox < w.ow; ++ox) dst[ox] = T(0);
          }
        }
      }
    }
  });
}

template <typename T>
void col2im_typed(const T* cols, const Window2d& w, T* out, int64_t N, int64_t C, bool batch_inner) {
  const int64_t L = w.oh * w.ow, K = w.kh * w.kw, NC = N * C;
  parallel_for(NC, grain_for(NC, NC * K * L, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t p = b_; p < e_; ++p) {
      T* plane = out + p * w.H * w.W;
      for (int64_t ki = 0; ki < w.kh; ++ki) {
        for (int64_t kj = 0; kj < w.kw; ++kj) {
          const T* row = cols + row_offset(p / C, p % C, ki * w.kw + kj, N, C, K, L, batch_inner);
          for (int64_t oy = 0; oy < w.oh; ++oy) {
            const int64_t iy = oy * w.sh - w.ph + ki * w.dh;
            if (iy < 0 || iy >= w.H) continue;
            const T* src = row + oy * w.ow;
            T* dst = plane + iy * w.W;
            const int64_t x0 = kj * w.dw - w.pw;
            int64_t lo, hi;
            valid_range(x0, w.sw, w.W, w.ow, lo, hi);
            if (w.sw == 1) {
#pragma omp simd
              for (int64_t ox = lo; ox < hi; ++ox) dst[x0 + ox] += src[ox];
            } else {
              for (int64_t ox = lo; ox < hi; ++ox) dst[x0 + ox * w.sw] += src[ox];
            }
          }
        }
      }
    }
  });
}

void im2col_kernel(const Tensor& x, const Window2d& w, bool batch_inner, const Tensor& cols) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "im2col", [&] {
    im2col_typed<scalar_t>(x.data<scalar_t>(), w, cols.data<scalar_t>(), x.sizes()[0], x.sizes()[1], batch_inner);
  });
}

void col2im_kernel(const Tensor& cols, const Window2d& w, bool batch_inner, const Tensor& out) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(out.dtype(), "col2im", [&] {
    std::memset(out.data_ptr(), 0, sizeof(scalar_t) * out.numel());
    col2im_typed<scalar_t>(cols.data<scalar_t>(), w, out.data<scalar_t>(), out.sizes()[0], out.sizes()[1],
                           batch_inner);
  });
}

}  // namespace
NORCH_REGISTER_KERNEL(im2col_stub, CPU, im2col_kernel);
NORCH_REGISTER_KERNEL(col2im_stub, CPU, col2im_kernel);
}  // namespace norch::cpu

// CPU im2col / col2im: the unfolding that turns convolution into a matrix product.
// Loops over (sample, channel) planes in parallel; each plane owns its rows of
// `cols` and its slice of the output, so no two threads write the same place.
#include <cstring>

#include "kernels/conv.h"
#include "kernels/cpu/loops.h"

namespace norch::cpu {
namespace {

// x: [NC, H, W] planes -> cols: [NC, kh*kw, oh*ow] (the [N, C*kh*kw, L] layout).
template <typename T>
void im2col_typed(const T* x, const Window2d& w, T* cols, int64_t NC) {
  const int64_t L = w.oh * w.ow, K = w.kh * w.kw;
#pragma omp parallel for schedule(static) if (NC * K * L > 32768)
  for (int64_t p = 0; p < NC; ++p) {
    const T* plane = x + p * w.H * w.W;
    for (int64_t ki = 0; ki < w.kh; ++ki) {
      for (int64_t kj = 0; kj < w.kw; ++kj) {
        T* row = cols + (p * K + ki * w.kw + kj) * L;
        for (int64_t oy = 0; oy < w.oh; ++oy) {
          T* dst = row + oy * w.ow;
          const int64_t iy = oy * w.sh - w.ph + ki * w.dh;
          if (iy < 0 || iy >= w.H) {
            for (int64_t ox = 0; ox < w.ow; ++ox) dst[ox] = T(0);
            continue;
          }
          const T* src = plane + iy * w.W;
          const int64_t x0 = kj * w.dw - w.pw;
          for (int64_t ox = 0; ox < w.ow; ++ox) {
            const int64_t ix = x0 + ox * w.sw;
            dst[ox] = (ix >= 0 && ix < w.W) ? src[ix] : T(0);
          }
        }
      }
    }
  }
}

template <typename T>
void col2im_typed(const T* cols, const Window2d& w, T* out, int64_t NC) {
  const int64_t L = w.oh * w.ow, K = w.kh * w.kw;
#pragma omp parallel for schedule(static) if (NC * K * L > 32768)
  for (int64_t p = 0; p < NC; ++p) {
    T* plane = out + p * w.H * w.W;
    for (int64_t ki = 0; ki < w.kh; ++ki) {
      for (int64_t kj = 0; kj < w.kw; ++kj) {
        const T* row = cols + (p * K + ki * w.kw + kj) * L;
        for (int64_t oy = 0; oy < w.oh; ++oy) {
          const int64_t iy = oy * w.sh - w.ph + ki * w.dh;
          if (iy < 0 || iy >= w.H) continue;
          const T* src = row + oy * w.ow;
          T* dst = plane + iy * w.W;
          const int64_t x0 = kj * w.dw - w.pw;
          for (int64_t ox = 0; ox < w.ow; ++ox) {
            const int64_t ix = x0 + ox * w.sw;
            if (ix >= 0 && ix < w.W) dst[ix] += src[ox];
          }
        }
      }
    }
  }
}

void im2col_kernel(const Tensor& x, const Window2d& w, const Tensor& cols) {
  const int64_t NC = x.sizes()[0] * x.sizes()[1];
  NORCH_DISPATCH_FLOATING_TYPES(x.dtype(), "im2col", [&] {
    im2col_typed<scalar_t>(x.data<scalar_t>(), w, cols.data<scalar_t>(), NC);
  });
}

void col2im_kernel(const Tensor& cols, const Window2d& w, const Tensor& out) {
  const int64_t NC = out.sizes()[0] * out.sizes()[1];
  NORCH_DISPATCH_FLOATING_TYPES(out.dtype(), "col2im", [&] {
    std::memset(out.data_ptr(), 0, sizeof(scalar_t) * out.numel());
    col2im_typed<scalar_t>(cols.data<scalar_t>(), w, out.data<scalar_t>(), NC);
  });
}

}  // namespace
NORCH_REGISTER_KERNEL(im2col_stub, CPU, im2col_kernel);
NORCH_REGISTER_KERNEL(col2im_stub, CPU, col2im_kernel);
}  // namespace norch::cpu

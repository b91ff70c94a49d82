// CPU pooling and separable resampling kernels (see Note [Separable resampling]
// in kernels/conv.h). Parallel over planes; every plane is written by one thread.
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/conv.h"
#include "kernels/cpu/loops.h"
#include "norch/tensor/parallel.h"

namespace norch::cpu {
namespace {

template <typename T>
void max_pool_typed(const T* x, const Window2d& w, T* out, int64_t* ind, int64_t B) {
  parallel_for(B, grain_for(B, B * w.oh * w.ow * w.kh * w.kw, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t b = b_; b < e_; ++b) {
      const T* plane = x + b * w.H * w.W;
      for (int64_t oy = 0; oy < w.oh; ++oy) {
        int64_t hs = oy * w.sh - w.ph;
        const int64_t he = std::min(hs + (w.kh - 1) * w.dh + 1, w.H);
        while (hs < 0) hs += w.dh;
        for (int64_t ox = 0; ox < w.ow; ++ox) {
          int64_t ws = ox * w.sw - w.pw;
          const int64_t we = std::min(ws + (w.kw - 1) * w.dw + 1, w.W);
          while (ws < 0) ws += w.dw;
          int64_t best = hs * w.W + ws;
          T bv = -std::numeric_limits<T>::infinity();
          for (int64_t iy = hs; iy < he; iy += w.dh)
            for (int64_t ix = ws; ix < we; ix += w.dw) {
              const T v = plane[iy * w.W + ix];
              if (v > bv || std::isnan(v)) {
                bv = v;
                best = iy * w.W + ix;
              }
            }
          const int64_t o = (b * w.oh + oy) * w.ow + ox;
          out[o] = bv;
          ind[o] = best;
        }
      }
    }
  });
}

void max_pool2d_kernel(const Tensor& x, const Window2d& w, const Tensor& out, const Tensor& indices) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "max_pool2d", [&] {
    max_pool_typed<scalar_t>(x.data<scalar_t>(), w, out.data<scalar_t>(), indices.data<int64_t>(), x.sizes()[0]);
  });
}

template <typename T>
void gather_typed(const T* x, const int64_t* idx, T* out, int64_t B, int64_t P, int64_t Q) {
  parallel_for(B, grain_for(B, B * Q, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t b = b_; b < e_; ++b)
      for (int64_t q = 0; q < Q; ++q) {
        const int64_t i = idx[b * Q + q];
        out[b * Q + q] = (i >= 0 && i < P) ? x[b * P + i] : T(0);   // bounds: indices may come from outside
      }
  });
}

template <typename T>
void scatter_typed(const T* src, const int64_t* idx, T* out, int64_t B, int64_t P, int64_t Q) {
  parallel_for(B, grain_for(B, B * Q, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t b = b_; b < e_; ++b)
      for (int64_t q = 0; q < Q; ++q) {
        const int64_t i = idx[b * Q + q];
        if (i >= 0 && i < P) out[b * P + i] += src[b * Q + q];
      }
  });
}

void plane_gather_kernel(const Tensor& x, const Tensor& idx, const Tensor& out) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "max_pool2d_backward", [&] {
    gather_typed<scalar_t>(x.data<scalar_t>(), idx.data<int64_t>(), out.data<scalar_t>(), x.sizes()[0],
                           x.sizes()[1], idx.sizes()[1]);
  });
}

void plane_scatter_kernel(const Tensor& src, const Tensor& idx, const Tensor& out) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(src.dtype(), "max_pool2d_backward", [&] {
    std::memset(out.data_ptr(), 0, sizeof(scalar_t) * out.numel());
    scatter_typed<scalar_t>(src.data<scalar_t>(), idx.data<int64_t>(), out.data<scalar_t>(), out.sizes()[0],
                            out.sizes()[1], idx.sizes()[1]);
  });
}

// Columns first into a [H, ow] scratch row block, then rows: the cost is
// (taps per column + taps per row) per output instead of their product.
template <typename T>
void resample_typed(const T* x, const Taps& rows, const Taps& cols, T* out, int64_t B) {
  const int64_t H = rows.in_size, W = cols.in_size, oh = rows.out_size(), ow = cols.out_size();
  parallel_for(B, grain_for(B, B * (H + oh) * ow, 32768), [&](int64_t b_, int64_t e_) {
    std::vector<T> tmp(H * ow);
    for (int64_t b = b_; b < e_; ++b) {
      const T* plane = x + b * H * W;
      for (int64_t h = 0; h < H; ++h)
        for (int64_t j = 0; j < ow; ++j) {
          T acc = T(0);
          for (int64_t t = cols.offsets[j]; t < cols.offsets[j + 1]; ++t)
            acc += T(cols.weight[t]) * plane[h * W + cols.index[t]];
          tmp[h * ow + j] = acc;
        }
      T* o = out + b * oh * ow;
      for (int64_t i = 0; i < oh; ++i) {
        T* orow = o + i * ow;
        for (int64_t j = 0; j < ow; ++j) orow[j] = T(0);
        for (int64_t t = rows.offsets[i]; t < rows.offsets[i + 1]; ++t) {
          const T wt = T(rows.weight[t]);
          const T* trow = tmp.data() + rows.index[t] * ow;
          for (int64_t j = 0; j < ow; ++j) orow[j] += wt * trow[j];
        }
      }
    }
  });
}

template <typename T>
void resample_adjoint_typed(const T* g, const Taps& rows, const Taps& cols, T* out, int64_t B) {
  const int64_t H = rows.in_size, W = cols.in_size, oh = rows.out_size(), ow = cols.out_size();
  parallel_for(B, grain_for(B, B * (H + oh) * ow, 32768), [&](int64_t b_, int64_t e_) {
    std::vector<T> tmp(H * ow);
    for (int64_t b = b_; b < e_; ++b) {
      std::fill(tmp.begin(), tmp.end(), T(0));
      const T* gp = g + b * oh * ow;
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t t = rows.offsets[i]; t < rows.offsets[i + 1]; ++t) {
          const T wt = T(rows.weight[t]);
          T* trow = tmp.data() + rows.index[t] * ow;
          for (int64_t j = 0; j < ow; ++j) trow[j] += wt * gp[i * ow + j];
        }
      T* plane = out + b * H * W;
      for (int64_t h = 0; h < H; ++h)
        for (int64_t j = 0; j < ow; ++j) {
          const T v = tmp[h * ow + j];
          for (int64_t t = cols.offsets[j]; t < cols.offsets[j + 1]; ++t)
            plane[h * W + cols.index[t]] += T(cols.weight[t]) * v;
        }
    }
  });
}

void resample_kernel(const Tensor& x, const Taps& rows, const Taps& cols, const Tensor& out) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "resample", [&] {
    resample_typed<scalar_t>(x.data<scalar_t>(), rows, cols, out.data<scalar_t>(), x.sizes()[0]);
  });
}

void resample_adjoint_kernel(const Tensor& g, const Taps& rows, const Taps& cols, const Tensor& out) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(g.dtype(), "resample_backward", [&] {
    std::memset(out.data_ptr(), 0, sizeof(scalar_t) * out.numel());
    resample_adjoint_typed<scalar_t>(g.data<scalar_t>(), rows, cols, out.data<scalar_t>(), g.sizes()[0]);
  });
}

}  // namespace
NORCH_REGISTER_KERNEL(max_pool2d_stub, CPU, max_pool2d_kernel);
NORCH_REGISTER_KERNEL(plane_gather_stub, CPU, plane_gather_kernel);
NORCH_REGISTER_KERNEL(plane_scatter_stub, CPU, plane_scatter_kernel);
NORCH_REGISTER_KERNEL(resample_stub, CPU, resample_kernel);
NORCH_REGISTER_KERNEL(resample_adjoint_stub, CPU, resample_adjoint_kernel);
}  // namespace norch::cpu

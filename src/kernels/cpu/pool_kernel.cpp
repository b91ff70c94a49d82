// CPU pooling and separable resampling kernels (see Note [Separable resampling]
// in kernels/conv.h). Parallel over planes; every plane is written by one thread.
// max_pool2d, 2 x 2 / stride 2 over [64, 6, 24, 24] on one core (LeNet's first pool):
// branchy scalar loop 0.60 ms, branchless selects (GCC still branched) 0.60 ms, four
// outputs per SSE2 step 0.08 ms; PyTorch 2.13 0.88 ms in the same run (load 5).
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <cstring>
#include <vector>

#include "kernels/conv.h"
#include "kernels/cpu/loops.h"
#include "norch/tensor/parallel.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace norch::cpu {
namespace {

// The taking test is a select, not a branch: which tap wins is data-dependent, and
// the branchy loop mispredicted about half its taps (15% of a LeNet training step went
// to this kernel). Later NaNs win and ties keep the first tap, as in PyTorch.
template <typename T>
inline void take_max(T v, int64_t i, T& bv, int64_t& best) {
  const bool take = (v > bv) | (v != v);
  bv = take ? v : bv;
  best = take ? i : best;
}

// The general window: clipped by padding or a ceil_mode edge, any dilation.
template <typename T>
void max_window(const T* plane, const Window2d& w, int64_t oy, int64_t ox, T* out, int64_t* ind) {
  int64_t hs = oy * w.sh - w.ph, ws = ox * w.sw - w.pw;
  const int64_t he = std::min(hs + (w.kh - 1) * w.dh + 1, w.H), we = std::min(ws + (w.kw - 1) * w.dw + 1, w.W);
  while (hs < 0) hs += w.dh;
  while (ws < 0) ws += w.dw;
  T bv = -std::numeric_limits<T>::infinity();
  int64_t best = hs * w.W + ws;
  for (int64_t iy = hs; iy < he; iy += w.dh)
    for (int64_t ix = ws; ix < we; ix += w.dw) take_max(plane[iy * w.W + ix], iy * w.W + ix, bv, best);
  *out = bv;
  *ind = best;
}

#if defined(__SSE2__)
// Four outputs of a stride-2 row at once (the common 2 x 2 / stride 2 pool, and 3 x 3 /
// stride 2): tap c of outputs ox..ox+3 is every other float from x0 + c, split out of two
// loads by one shuffle. The compares give lane masks that select values and int32
// indices without branches; GCC turns the scalar selects into branches (measured: 10 ns
// per output at 2 x 2, against about 1 ns here). Needs plane indices below 2^31 and
// loads (never uses) one float past the window's last tap, which the caller keeps
// inside the plane.
template <int KH, int KW>
inline void max4_stride2(const float* plane, int64_t W, int64_t first, float* o, int64_t* id) {
  const __m128i step = _mm_setr_epi32(0, 2, 4, 6);
  __m128 bv = _mm_set1_ps(-std::numeric_limits<float>::infinity());
  __m128i best = _mm_add_epi32(_mm_set1_epi32(int32_t(first)), step);
  for (int a = 0; a < KH; ++a)
    for (int c = 0; c < KW; ++c) {
      const int64_t at = first + a * W + c;
      const __m128 v = _mm_shuffle_ps(_mm_loadu_ps(plane + at), _mm_loadu_ps(plane + at + 4), _MM_SHUFFLE(2, 0, 2, 0));
      const __m128 take = _mm_or_ps(_mm_cmpgt_ps(v, bv), _mm_cmpunord_ps(v, v));
      const __m128i mi = _mm_castps_si128(take);
      bv = _mm_or_ps(_mm_and_ps(take, v), _mm_andnot_ps(take, bv));
      const __m128i idx = _mm_add_epi32(_mm_set1_epi32(int32_t(at)), step);
      best = _mm_or_si128(_mm_and_si128(mi, idx), _mm_andnot_si128(mi, best));
    }
  _mm_storeu_ps(o, bv);
  const __m128i zero = _mm_setzero_si128();   // indices are non-negative: widen with zeros
  _mm_storeu_si128(reinterpret_cast<__m128i*>(id), _mm_unpacklo_epi32(best, zero));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(id + 2), _mm_unpackhi_epi32(best, zero));
}
#endif

// One plane. Windows wholly inside the plane at dilation 1 with a KH x KW kernel known
// at compile time (2 x 2 and 3 x 3, the common pools) run as a loop over the output
// row that the compiler vectorises; the first tap seeds the maximum, which is what the
// -inf start gives too (a -inf first tap keeps its index either way).
template <typename T, int KH, int KW>
void max_pool_plane(const T* plane, const Window2d& w, T* out, int64_t* ind) {
  const bool fixed = KH > 0 && w.dh == 1 && w.dw == 1 && w.kh == KH && w.kw == KW;
  // Output columns whose window lies inside [0, W): ox * sw - pw >= 0 and + KW <= W.
  int64_t lo = w.ow, hi = w.ow;
  if (fixed && w.W >= KW) {
    lo = std::min(w.ow, (w.pw + w.sw - 1) / w.sw);
    hi = std::max(lo, std::min(w.ow, (w.W - KW + w.pw) / w.sw + 1));
  }
  for (int64_t oy = 0; oy < w.oh; ++oy) {
    T* o = out + oy * w.ow;
    int64_t* id = ind + oy * w.ow;
    const int64_t y0 = oy * w.sh - w.ph;
    if (!fixed || y0 < 0 || y0 + KH > w.H) {
      for (int64_t ox = 0; ox < w.ow; ++ox) max_window(plane, w, oy, ox, o + ox, id + ox);
      continue;
    }
    for (int64_t ox = 0; ox < lo; ++ox) max_window(plane, w, oy, ox, o + ox, id + ox);
    const int64_t sw = w.sw, pw = w.pw, W = w.W;
    int64_t ox = lo;
#if defined(__SSE2__)
    if constexpr (std::is_same_v<T, float>)
      if (sw == 2 && w.H * W < (int64_t(1) << 31))
        for (; ox + 4 <= hi && y0 * W + ox * 2 - pw + (KH - 1) * W + KW + 6 < w.H * W; ox += 4)
          max4_stride2<KH, KW>(plane, W, y0 * W + ox * 2 - pw, o + ox, id + ox);
#endif
    for (; ox < hi; ++ox) {
      const int64_t first = y0 * W + ox * sw - pw;
      T bv = plane[first];
      int64_t best = first;
      for (int a = 0; a < KH; ++a)
        for (int c = (a == 0); c < KW; ++c) take_max(plane[first + a * W + c], first + a * W + c, bv, best);
      o[ox] = bv;
      id[ox] = best;
    }
    for (int64_t ox = hi; ox < w.ow; ++ox) max_window(plane, w, oy, ox, o + ox, id + ox);
  }
}

template <typename T>
void max_pool_typed(const T* x, const Window2d& w, T* out, int64_t* ind, int64_t B) {
  using PlaneFn = void (*)(const T*, const Window2d&, T*, int64_t*);
  PlaneFn fn = max_pool_plane<T, 0, 0>;
  if (w.kh == 2 && w.kw == 2) fn = max_pool_plane<T, 2, 2>;
  else if (w.kh == 3 && w.kw == 3) fn = max_pool_plane<T, 3, 3>;
  const int64_t plane_out = w.oh * w.ow;
  parallel_for(B, grain_for(B, B * plane_out * w.kh * w.kw, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t b = b_; b < e_; ++b) fn(x + b * w.H * w.W, w, out + b * plane_out, ind + b * plane_out);
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

// CPU im2col / col2im (the unfolding that turns convolution into a matrix product) and
// the blocked float32/float64 conv2d forward and first-order backward built on them,
// each choosing conv_rows_kernel.cpp's row-table path where that is faster.
// im2col/col2im loop over (sample, channel) planes in parallel; each plane owns its rows
// of `cols` and its slice of the output, so no two threads write the same place.
//
// Note [Blocked convolution]: unfolding the whole batch first (v1, the bmm path still
// used for create_graph, half types and CUDA) writes C*kh*kw*N*oh*ow values to memory and
// reads them back once per 12-row panel of the product: 75 MB at the CIFAR ResNet's
// 16->16 3x3 layer (batch 128, 32x32). v2 cuts the batch into blocks of whole samples
// whose columns fit in L2 (kBlockBytes), unfolds one block into per-thread scratch and
// multiplies it while it is hot, so memory sees only x, the weights and the output.
// Blocks never depend on the thread count, and the weight gradient sums per-block
// products in a fixed order (kWeightGroups partial sums), so results are the same on
// any number of threads. v3 cut the per-row work of the unfolding: short rows copied
// and added in fixed-size vector pieces instead of memcpy calls, the padded rows and
// columns of each tap found once per tap, no memset call per one-element fill.
// v1-v3 GFLOP/s on one core (AMD Zen 5, AVX-512; bench_conv.py --threads 1 --cpu-time,
// the machine at load 7-9, so +-10%); "grad input" and "grad weight" time the forward with
// that one gradient and count both passes; PyTorch 2.13 (oneDNN) in the same run:
//                       forward      grad input   grad weight
//   LeNet conv2  v1     43           52           67
//                v2     61           63           55
//                v3     86           74           75
//                torch  131          61           64
//   ResNet 16@32 v1     30           31           40
//                v2     95           93           84
//                v3     89           87           79
//                torch  108          52           52
//   ResNet 64@8  v1     64           67           86
//                v2     121          129          117
//                v3     136          132          128
//                torch  217          200          189
// v4: padded stride-1 windows unfold from (and fold into) a zero-padded copy of each
// plane, so every row of a tap is one plain copy (add) with no edge tests, and a block
// of one sample multiplies straight into the output and reads grad in place (its
// layout is already the product's); sums and results are bit for bit those of v3.
// Forward / grad input ms on one core (AMD EPYC, AVX-512; bench_conv.py shapes, 1 thread,
// CPU time, v3 and v4 alternated twice in one session at load 2.4-2.8, medians of 11-15):
//                       v3 fwd  v4 fwd  torch   v3 gi   v4 gi   torch
//   ResNet 16->16 @32   5.6-6.3 5.3-5.7 4.8     12.0-13.2 12.0-12.4 23-25
//   ResNet 32->32 @16   4.1-4.2 3.9     2.8-3.0 8.8-9.2 8.6-8.7 6.1-6.6
//   ResNet 64->64 @8    3.9-4.0 3.7-3.8 2.4-2.5 8.3-8.7 7.8-7.9 5.2-5.6
// What is left: with the unfolding skipped altogether (a timing experiment, wrong
// results) the forward takes 3.49 / 2.54 / 2.83 ms at those three shapes against
// torch's 4.78 / 2.81 / 2.64, so the unfolding is still 30-40% of the time, and even
// columns that cost nothing would leave 64@8 7% behind: the product runs at ~213
// GFLOP/s there, oneDNN at ~240. Packing GEMM panels straight from x does not remove
// a copy in the forward: with at most 72 output channels the product already reads
// the columns in place (gemm_isa.cpp v5), so a gather packer writes what im2col
// writes. Removing it needs the micro-kernel to read B through a table of row
// offsets (per tap c*Hp*Wp + ki*dh*Wp + kj*dw into padded planes, output on the
// padded-width grid: (Wp-ow)/Wp more columns, 20% at ow = 8), or a direct kernel.
// v5 does the former for stride 1 and at most 16 output channels per group (Note
// [Row-table convolution] in conv_rows_kernel.cpp, with its measurements).
#include <algorithm>
#include <atomic>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/conv.h"
#include "kernels/cpu/conv_common.h"
#include "kernels/cpu/isa/gemm.h"
#include "kernels/cpu/loops.h"
#include "norch/tensor/parallel.h"

namespace norch::cpu {
namespace {
using namespace conv;

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

// Rows of im2col are short (8 and 24 floats in LeNet, 4-32 in a CIFAR ResNet, one less
// where padding cuts them): a memcpy call per row was half of LeNet conv2's forward
// time. Fixed-size pieces compile to plain vector moves, inline; a ragged end is one
// more piece overlapping the last (the same values written twice), not a scalar loop.
template <typename T>
inline void copy_row(const T* src, T* dst, int64_t n) {
  constexpr int64_t P = 32 / sizeof(T), H = P / 2;
  if (n >= P) {
    int64_t i = 0;
    for (; i + P <= n; i += P) std::memcpy(dst + i, src + i, 32);
    if (i < n) std::memcpy(dst + n - P, src + n - P, 32);
  } else if (n >= H && H > 0) {
    std::memcpy(dst, src, 16);
    std::memcpy(dst + n - H, src + n - H, 16);
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
  }
}

// One input plane into its kh*kw rows of columns: row kidx starts at base + kidx * rs.
// The zero fills of padded edges are one or two elements a row: GCC would make each a
// memset call (3-4% of a padded conv's forward), so that rewrite is off here.
template <typename T>
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
void im2col_plane(const T* plane, const Window2d& w, T* base, int64_t rs) {
  for (int64_t ki = 0; ki < w.kh; ++ki) {
    // Output rows [ylo, yhi) read input rows; the rest lie in the padding. Found once
    // per tap rather than tested per row: with LeNet's 8-float rows the per-row
    // bookkeeping cost more than the copying.
    const int64_t y0 = ki * w.dh - w.ph;
    int64_t ylo, yhi;
    valid_range(y0, w.sh, w.H, w.oh, ylo, yhi);
    yhi = std::max(ylo, yhi);
    for (int64_t kj = 0; kj < w.kw; ++kj) {
      T* row = base + (ki * w.kw + kj) * rs;
      const int64_t x0 = kj * w.dw - w.pw;
      int64_t lo, hi;
      valid_range(x0, w.sw, w.W, w.ow, lo, hi);
      hi = std::max(lo, hi);
      if (w.sw == 1 && lo == 0 && hi == w.ow && ylo == 0 && yhi == w.oh) {   // no padding reaches this tap
        const T* src = plane + y0 * w.W + x0;
        for (int64_t oy = 0; oy < w.oh; ++oy) copy_row(src + oy * w.sh * w.W, row + oy * w.ow, w.ow);
        continue;
      }
      for (int64_t i = 0; i < ylo * w.ow; ++i) row[i] = T(0);
      for (int64_t i = yhi * w.ow; i < w.oh * w.ow; ++i) row[i] = T(0);
      for (int64_t oy = ylo; oy < yhi; ++oy) {
        T* dst = row + oy * w.ow;
        const T* src = plane + (oy * w.sh + y0) * w.W + x0;
        for (int64_t ox = 0; ox < lo; ++ox) dst[ox] = T(0);
        if (w.sw == 1) {
          copy_row(src + lo, dst + lo, hi - lo);
        } else {
          for (int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[ox * w.sw];
        }
        for (int64_t ox = hi; ox < w.ow; ++ox) dst[ox] = T(0);
      }
    }
  }
}

// dst[i] += src[i]: fixed-count pieces the compiler turns into vector adds, for the
// same short rows as copy_row.
template <typename T>
inline void add_row(const T* __restrict src, T* __restrict dst, int64_t n) {
  constexpr int64_t P = 32 / sizeof(T);
  int64_t i = 0;
  for (; i + P <= n; i += P)
    for (int64_t j = 0; j < P; ++j) dst[i + j] += src[i + j];
  for (; i < n; ++i) dst[i] += src[i];
}

// The adjoint of im2col_plane: adds the rows back into the plane (padded rows and
// columns of each tap found once, as there).
template <typename T>
void col2im_plane(const T* base, int64_t rs, const Window2d& w, T* plane) {
  for (int64_t ki = 0; ki < w.kh; ++ki) {
    const int64_t y0 = ki * w.dh - w.ph;
    int64_t ylo, yhi;
    valid_range(y0, w.sh, w.H, w.oh, ylo, yhi);
    for (int64_t kj = 0; kj < w.kw; ++kj) {
      const T* row = base + (ki * w.kw + kj) * rs;
      const int64_t x0 = kj * w.dw - w.pw;
      int64_t lo, hi;
      valid_range(x0, w.sw, w.W, w.ow, lo, hi);
      if (hi <= lo) continue;
      for (int64_t oy = ylo; oy < yhi; ++oy) {
        const T* src = row + oy * w.ow;
        T* dst = plane + (oy * w.sh + y0) * w.W + x0;
        if (w.sw == 1) {
          add_row(src + lo, dst + lo, hi - lo);
        } else {
          for (int64_t ox = lo; ox < hi; ++ox) dst[ox * w.sw] += src[ox];
        }
      }
    }
  }
}

// x: [N, C, H, W] -> cols (see Im2colKernel for the two layouts).
template <typename T>
void im2col_typed(const T* x, const Window2d& w, T* cols, int64_t N, int64_t C, bool batch_inner) {
  const int64_t L = w.oh * w.ow, K = w.kh * w.kw, NC = N * C;
  parallel_for(NC, grain_for(NC, NC * K * L, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t p = b_; p < e_; ++p)
      im2col_plane(x + p * w.H * w.W, w, cols + row_offset(p / C, p % C, 0, N, C, K, L, batch_inner),
                   batch_inner ? N * L : L);
  });
}

template <typename T>
void col2im_typed(const T* cols, const Window2d& w, T* out, int64_t N, int64_t C, bool batch_inner) {
  const int64_t L = w.oh * w.ow, K = w.kh * w.kw, NC = N * C;
  parallel_for(NC, grain_for(NC, NC * K * L, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t p = b_; p < e_; ++p)
      col2im_plane(cols + row_offset(p / C, p % C, 0, N, C, K, L, batch_inner), batch_inner ? N * L : L, w,
                   out + p * w.H * w.W);
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

// ---- blocked conv2d (Note [Blocked convolution]) --------------------------------------

// C [M x N] (row stride c_rs) = A [M x K] @ B [K x N], on the calling thread.
template <typename T>
bool gemm1(int64_t M, int64_t N, int64_t K, const T* a, int64_t a_rs, int64_t a_cs, const T* b, int64_t b_rs,
           int64_t b_cs, T* c, int64_t c_rs) {
  GemmArgs g{};
  g.batch = 1;
  g.M = M;
  g.N = N;
  g.K = K;
  g.a = a;
  g.a_rs = a_rs;
  g.a_cs = a_cs;
  g.b = b;
  g.b_rs = b_rs;
  g.b_cs = b_cs;
  g.c = c;
  g.c_rs = c_rs;
  g.threads = 1;
  if constexpr (std::is_same_v<T, float>) return gemm_f32(g);
  else return gemm_f64(g);
}

// im2col_plane for stride-1 columns from a padded plane: no edge cases left per row.
template <typename T>
void im2col_padded(const T* xp, int64_t Wp, const Window2d& w, T* base, int64_t rs) {
  for (int64_t ki = 0; ki < w.kh; ++ki)
    for (int64_t kj = 0; kj < w.kw; ++kj) {
      T* row = base + (ki * w.kw + kj) * rs;
      const T* src = xp + ki * w.dh * Wp + kj * w.dw;
      for (int64_t oy = 0; oy < w.oh; ++oy) copy_row(src + oy * w.sh * Wp, row + oy * w.ow, w.ow);
    }
}

// Samples [n0, n0 + m) of x unfolded into cols [C*K, m*L] (every group's rows stacked).
// Padded stride-1 windows go through a padded copy of each plane (v4): the edge
// bookkeeping per row cost more than the copying (ResNet's 8- to 32-float rows).
template <typename T>
void unfold_block(const T* x, const Window2d& w, const ConvShape& s, int64_t n0, int64_t m, T* cols) {
  if (w.sw == 1 && (w.ph > 0 || w.pw > 0) && w.oh > 0 && w.ow > 0) {
    const int64_t Hp = (w.oh - 1) * w.sh + (w.kh - 1) * w.dh + 1, Wp = w.ow + (w.kw - 1) * w.dw;
    Scratch<T> pad_buf(3, size_t(Hp * Wp));
    T* xp = pad_buf.get();
    for (int64_t n = 0; n < m; ++n)
      for (int64_t c = 0; c < s.C; ++c) {
        pad_plane(x + ((n0 + n) * s.C + c) * s.plane, w, Hp, Wp, xp);
        im2col_padded(xp, Wp, w, cols + c * s.K * m * s.L + n * s.L, m * s.L);
      }
    return;
  }
  for (int64_t n = 0; n < m; ++n)
    for (int64_t c = 0; c < s.C; ++c)
      im2col_plane(x + ((n0 + n) * s.C + c) * s.plane, w, cols + c * s.K * m * s.L + n * s.L, m * s.L);
}

// The adjoint of unfold_block: cols [C*K, m*L] added into samples [n0, n0 + m) of gi,
// which it overwrites. Padded stride-1 windows add into a zeroed padded plane and copy
// its interior out, in the same order of additions as col2im_plane, so bit for bit the
// same sums.
template <typename T>
void fold_block(const T* cols, const Window2d& w, const ConvShape& s, int64_t n0, int64_t m, T* gi) {
  const int64_t cols_n = m * s.L;
  if (w.sw == 1 && (w.ph > 0 || w.pw > 0) && w.oh > 0 && w.ow > 0) {
    const int64_t Hp = (w.oh - 1) * w.sh + (w.kh - 1) * w.dh + 1, Wp = w.ow + (w.kw - 1) * w.dw;
    const int64_t xlo = std::min(w.pw, Wp), xhi = std::max(xlo, std::min(Wp, w.W + w.pw));
    Scratch<T> pad_buf(3, size_t(Hp * Wp));
    T* xp = pad_buf.get();
    for (int64_t n = 0; n < m; ++n)
      for (int64_t c = 0; c < s.C; ++c) {
        std::fill(xp, xp + Hp * Wp, T(0));
        const T* base = cols + c * s.K * cols_n + n * s.L;
        for (int64_t ki = 0; ki < w.kh; ++ki)
          for (int64_t kj = 0; kj < w.kw; ++kj) {
            const T* row = base + (ki * w.kw + kj) * cols_n;
            T* dst = xp + ki * w.dh * Wp + kj * w.dw;
            for (int64_t oy = 0; oy < w.oh; ++oy) add_row(row + oy * w.ow, dst + oy * w.sh * Wp, w.ow);
          }
        T* plane = gi + ((n0 + n) * s.C + c) * s.plane;
        for (int64_t y = 0; y < w.H; ++y) {
          T* d = plane + y * w.W;
          const int64_t py = y + w.ph;
          if (py >= Hp) {
            std::fill(d, d + w.W, T(0));
            continue;
          }
          // Columns x = px - pw for px in [xlo, xhi) lie in the padded plane; the rest
          // of the row is beyond every window.
          std::memcpy(d, xp + py * Wp + xlo, sizeof(T) * size_t(xhi - xlo));
          std::fill(d + (xhi - xlo), d + w.W, T(0));
        }
      }
    return;
  }
  std::memset(gi + n0 * s.C * s.plane, 0, sizeof(T) * size_t(m * s.C * s.plane));
  for (int64_t n = 0; n < m; ++n)
    for (int64_t c = 0; c < s.C; ++c)
      col2im_plane(cols + c * s.K * cols_n + n * s.L, cols_n, w, gi + ((n0 + n) * s.C + c) * s.plane);
}

// grad [N, OC, L] samples [n0, n0 + m) as gT [OC, m*L]: each group's rows side by side.
template <typename T>
void gather_grad(const T* grad, const ConvShape& s, int64_t n0, int64_t m, T* gT) {
  for (int64_t n = 0; n < m; ++n)
    for (int64_t o = 0; o < s.OC; ++o)
      std::memcpy(gT + o * m * s.L + n * s.L, grad + ((n0 + n) * s.OC + o) * s.L, sizeof(T) * s.L);
}

template <typename T>
void conv_forward_typed(const T* x, const T* wt, const T* bias, const Window2d& w, const ConvShape& s, T* out,
                        std::atomic<bool>& ok) {
  parallel_for(s.blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t n0 = blk * s.nb, m = std::min(s.nb, s.N - n0), cols_n = m * s.L;
      Scratch<T> cols_buf(0, size_t(s.C * s.K * cols_n));
      T* cols = cols_buf.get();
      unfold_block(x, w, s, n0, m, cols);
      if (m == 1) {  // one sample: its [OC, L] output is the product's layout, written in place
        T* dst = out + n0 * s.OC * s.L;
        for (int64_t g = 0; g < s.G; ++g)
          if (!gemm1<T>(s.OCg, cols_n, s.Ckk, wt + g * s.OCg * s.Ckk, s.Ckk, 1, cols + g * s.Ckk * cols_n, cols_n, 1,
                        dst + g * s.OCg * s.L, s.L))
            ok = false;
        if (bias)
          for (int64_t oc = 0; oc < s.OC; ++oc) {
            const T bv = bias[oc];
            T* row = dst + oc * s.L;
#pragma omp simd
            for (int64_t l = 0; l < s.L; ++l) row[l] += bv;
          }
        continue;
      }
      Scratch<T> tmp_buf(1, size_t(s.OCg * cols_n));
      T* tmp = tmp_buf.get();
      for (int64_t g = 0; g < s.G; ++g) {
        if (!gemm1<T>(s.OCg, cols_n, s.Ckk, wt + g * s.OCg * s.Ckk, s.Ckk, 1, cols + g * s.Ckk * cols_n, cols_n, 1,
                      tmp, cols_n))
          ok = false;
        for (int64_t n = 0; n < m; ++n)
          for (int64_t o = 0; o < s.OCg; ++o) {
            const int64_t oc = g * s.OCg + o;
            const T bv = bias ? bias[oc] : T(0);
            const T* src = tmp + o * cols_n + n * s.L;
            T* dst = out + ((n0 + n) * s.OC + oc) * s.L;
#pragma omp simd
            for (int64_t l = 0; l < s.L; ++l) dst[l] = src[l] + bv;
          }
      }
    }
  });
}

template <typename T>
void conv_grad_input_typed(const T* grad, const T* wt, const Window2d& w, const ConvShape& s, T* gi,
                           std::atomic<bool>& ok) {
  parallel_for(s.blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t n0 = blk * s.nb, m = std::min(s.nb, s.N - n0), cols_n = m * s.L;
      Scratch<T> gT_buf(1, m == 1 ? 0 : size_t(s.OC * cols_n));
      const T* gT = m == 1 ? grad + n0 * s.OC * s.L : gT_buf.get();
      Scratch<T> gcols_buf(0, size_t(s.C * s.K * cols_n));
      T* gcols = gcols_buf.get();
      if (m > 1) gather_grad(grad, s, n0, m, gT_buf.get());
      // gcols[g] [Ckk, m*L] = W[g]^T [Ckk, OCg] @ gT[g] [OCg, m*L]
      for (int64_t g = 0; g < s.G; ++g)
        if (!gemm1<T>(s.Ckk, cols_n, s.OCg, wt + g * s.OCg * s.Ckk, 1, s.Ckk, gT + g * s.OCg * cols_n, cols_n, 1,
                      gcols + g * s.Ckk * cols_n, cols_n))
          ok = false;
      fold_block(gcols, w, s, n0, m, gi);
    }
  });
}

template <typename T>
void conv_grad_weight_typed(const T* grad, const T* x, const Window2d& w, const ConvShape& s, T* gw,
                            std::atomic<bool>& ok) {
  // Partial sums over fixed runs of blocks, added in order at the end: the same sums
  // whatever the thread count.
  const int64_t parts = std::min(s.blocks, kWeightGroups), wsize = s.OC * s.Ckk;
  std::vector<T> partial(size_t(parts * wsize), T(0));
  parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* acc = partial.data() + p * wsize;
      for (int64_t blk = s.blocks * p / parts; blk < s.blocks * (p + 1) / parts; ++blk) {
        const int64_t n0 = blk * s.nb, m = std::min(s.nb, s.N - n0), cols_n = m * s.L;
        Scratch<T> cols_buf(0, size_t(s.C * s.K * cols_n));
        T* cols = cols_buf.get();
        Scratch<T> gT_buf(1, m == 1 ? 0 : size_t(s.OC * cols_n));
        const T* gT = m == 1 ? grad + n0 * s.OC * s.L : gT_buf.get();
        Scratch<T> tmp_buf(2, size_t(wsize));
        T* tmp = tmp_buf.get();
        unfold_block(x, w, s, n0, m, cols);
        if (m > 1) gather_grad(grad, s, n0, m, gT_buf.get());
        // dW[g] [OCg, Ckk] += gT[g] [OCg, m*L] @ cols[g]^T [m*L, Ckk]
        for (int64_t g = 0; g < s.G; ++g)
          if (!gemm1<T>(s.OCg, s.Ckk, cols_n, gT + g * s.OCg * cols_n, cols_n, 1, cols + g * s.Ckk * cols_n, 1,
                        cols_n, tmp + g * s.OCg * s.Ckk, s.Ckk))
            ok = false;
#pragma omp simd
        for (int64_t i = 0; i < wsize; ++i) acc[i] += tmp[i];
      }
    }
  });
  std::memcpy(gw, partial.data(), sizeof(T) * size_t(wsize));
  for (int64_t p = 1; p < parts; ++p)
    for (int64_t i = 0; i < wsize; ++i) gw[i] += partial[size_t(p * wsize + i)];
}

void check_gemm(const std::atomic<bool>& ok, const char* what) {
  NORCH_CHECK(ok.load(), what, ": could not allocate the packing buffer of the matrix product");
}

void conv2d_forward_kernel(const Tensor& x, const Tensor& weight, const Tensor& bias, const Window2d& w,
                           int64_t groups, const Tensor& out) {
  std::atomic<bool> ok{true};
  NORCH_DISPATCH_FLOATING_TYPES(x.dtype(), "conv2d", [&] {
    const ConvShape s(x.sizes()[0], x.sizes()[1], groups, weight.sizes()[0], w, sizeof(scalar_t));
    if (use_rows(w, s))
      conv_forward_rows<scalar_t>(x.data<scalar_t>(), weight.data<scalar_t>(),
                                  bias.defined() ? bias.data<scalar_t>() : nullptr, w, s, out.data<scalar_t>(), ok);
    else
      conv_forward_typed<scalar_t>(x.data<scalar_t>(), weight.data<scalar_t>(),
                                 bias.defined() ? bias.data<scalar_t>() : nullptr, w, s, out.data<scalar_t>(), ok);
  });
  check_gemm(ok, "conv2d");
}

void conv2d_grad_input_kernel(const Tensor& grad, const Tensor& weight, const Window2d& w, int64_t groups,
                              const Tensor& gi) {
  std::atomic<bool> ok{true};
  NORCH_DISPATCH_FLOATING_TYPES(grad.dtype(), "conv2d_backward", [&] {
    const ConvShape s(gi.sizes()[0], gi.sizes()[1], groups, weight.sizes()[0], w, sizeof(scalar_t));
    // Stride 1: the full correlation of grad with the flipped weights, run as a forward
    // (Note [Row-table convolution]) padded by d*(k-1) - p, where that is not negative.
    const Window2d t{w.oh, w.ow, w.kh, w.kw, 1, 1, w.dh * (w.kh - 1) - w.ph, w.dw * (w.kw - 1) - w.pw,
                     w.dh, w.dw, w.H, w.W};
    const ConvShape ts(s.N, s.OC, groups, s.C, t, sizeof(scalar_t));
    if (w.sh == 1 && w.sw == 1 && t.ph >= 0 && t.pw >= 0 && w.H > 0 && w.W > 0 && use_rows_grad_input(t, ts)) {
      std::vector<scalar_t> flipped(size_t(s.C * s.OCg * s.K));
      const scalar_t* wt = weight.data<scalar_t>();
      // flipped[g*Cg + c, o, i, j] = weight[g*OCg + o, c, kh-1-i, kw-1-j]
      for (int64_t g = 0; g < s.G; ++g)
        for (int64_t c = 0; c < s.Cg; ++c)
          for (int64_t o = 0; o < s.OCg; ++o)
            for (int64_t k = 0; k < s.K; ++k)
              flipped[size_t(((g * s.Cg + c) * s.OCg + o) * s.K + k)] =
                  wt[((g * s.OCg + o) * s.Cg + c) * s.K + (s.K - 1 - k)];
      conv_forward_rows<scalar_t>(grad.data<scalar_t>(), flipped.data(), nullptr, t, ts, gi.data<scalar_t>(), ok);
    } else
      conv_grad_input_typed<scalar_t>(grad.data<scalar_t>(), weight.data<scalar_t>(), w, s, gi.data<scalar_t>(), ok);
  });
  check_gemm(ok, "conv2d_backward");
}

void conv2d_grad_weight_kernel(const Tensor& grad, const Tensor& x, const Window2d& w, int64_t groups,
                               const Tensor& gw) {
  std::atomic<bool> ok{true};
  NORCH_DISPATCH_FLOATING_TYPES(grad.dtype(), "conv2d_backward", [&] {
    const ConvShape s(x.sizes()[0], x.sizes()[1], groups, gw.sizes()[0], w, sizeof(scalar_t));
    if (use_rows_grad_weight(w, s) && all_finite(x.data<scalar_t>(), x.numel()))
      conv_grad_weight_rows<scalar_t>(grad.data<scalar_t>(), x.data<scalar_t>(), w, s, gw.data<scalar_t>(), ok);
    else
      conv_grad_weight_typed<scalar_t>(grad.data<scalar_t>(), x.data<scalar_t>(), w, s, gw.data<scalar_t>(), ok);
  });
  check_gemm(ok, "conv2d_backward");
}

}  // namespace
NORCH_REGISTER_KERNEL(im2col_stub, CPU, im2col_kernel);
NORCH_REGISTER_KERNEL(col2im_stub, CPU, col2im_kernel);
NORCH_REGISTER_KERNEL(conv2d_forward_stub, CPU, conv2d_forward_kernel);
NORCH_REGISTER_KERNEL(conv2d_grad_input_stub, CPU, conv2d_grad_input_kernel);
NORCH_REGISTER_KERNEL(conv2d_grad_weight_stub, CPU, conv2d_grad_weight_kernel);
}  // namespace norch::cpu

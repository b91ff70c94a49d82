// The row-table conv2d (Note [Row-table convolution]): stride-1 forward, input gradient
// (a forward of grad with the flipped weights) and weight gradient as products whose B
// operand is addressed through a table of row offsets into zero-padded planes, so no
// im2col columns are written.
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/cpu/conv_common.h"
#include "kernels/cpu/isa/gemm.h"
#include "norch/tensor/parallel.h"

namespace norch::cpu::conv {
namespace {

constexpr int64_t kRowsMaxChannels = 16;

// Note [Row-table convolution] (v5 of Note [Blocked convolution]): for stride 1 the
// im2col row of tap (c, ki, kj) is the padded plane of c read from c*Hp*Wp + ki*dh*Wp +
// kj*dw, if the output is laid on the padded-width grid (row oy of the output at oy*Wp,
// the Wp-ow columns past ow of each row garbage). So the forward is one product per group whose B rows are windows
// into the padded planes (GemmArgs::b_rows), read in place by the micro-kernel: no
// columns are written. (oh-1)*Wp + ow columns end exactly at the plane's last element,
// so no read passes the buffer; with no padding, x itself is the padded plane.
// The input gradient is the same forward applied to grad with the flipped, transposed
// weights and padding d*(k-1) - p (conv_kernel.cpp); the weight gradient reads B^T
// through the same table as columns (GemmArgs::b_cols), packing from the padded planes.
// Milliseconds on one core (AMD EPYC, AVX-512; bench_conv.py --threads 1 --cpu-time,
// load 1.6-1.8), v4 (unfolding) and v5 in one session, PyTorch 2.13 (oneDNN) beside:
//                         forward          grad input       grad weight
//                         v4   v5   torch  v4   v5   torch  v4   v5   torch
//   LeNet conv1           0.14 0.09 0.25   0.35 (v4) 2.4    0.46 0.37 0.50
//   LeNet conv2           0.21 0.21 0.13   0.45 (v4) 0.44   0.48 0.46 0.46
//   ResNet stem 3->16@32  1.20 0.84 1.1    3.12 2.98 16     3.44 3.15 2.6
//   ResNet 16->16 @32     5.6  4.1  4.6*   12.1 8.7  26     13.3 10.2 21
//   ResNet 32->32 @16     3.72 (v4) 2.66   8.41 (v4) 5.85   9.11 8.73 6.0 (+)
// (* torch's figure swung between 4.6 and 15 ms across runs; "grad input" and "grad
// weight" time the forward with that gradient; (+) a shorter script of the same pass,
// v4 and v5 alternated 3 times at load 1.3, medians of 15.) At 32->32 @16 and 64->64 @8 the row-table
// forward took 4.03 / 4.58 ms against 3.85 / 3.86 ms unfolded (12% and 25% extra
// columns, and B loads that straddle cache lines at every tap offset), so those shapes
// keep the unfolding path (kRowsMaxChannels).
struct RowGeom {
  int64_t Hp, Wp, P, Np;
  bool in_x;                  // no padding: then Hp = H, Wp = W and x is read itself
  std::vector<int64_t> rows;  // tap (c, ki, kj) of a group -> its offset in the group's planes
  RowGeom(const Window2d& w, const ConvShape& s)
      : Hp(w.oh + (w.kh - 1) * w.dh), Wp(w.ow + (w.kw - 1) * w.dw), P(Hp * Wp), Np((w.oh - 1) * Wp + w.ow),
        in_x(w.ph == 0 && w.pw == 0), rows(size_t(s.Ckk)) {
    for (int64_t c = 0; c < s.Cg; ++c)
      for (int64_t ki = 0; ki < w.kh; ++ki)
        for (int64_t kj = 0; kj < w.kw; ++kj)
          rows[size_t((c * w.kh + ki) * w.kw + kj)] = c * P + ki * w.dh * Wp + kj * w.dw;
  }
  // Sample n's padded planes [C, Hp, Wp] (xp: scratch of C * P, unused when in_x).
  template <typename T>
  const T* planes(const T* x, const Window2d& w, const ConvShape& s, int64_t n, T* xp) const {
    const T* xs = x + n * s.C * s.plane;
    if (in_x) return xs;
    for (int64_t c = 0; c < s.C; ++c) pad_plane(xs + c * s.plane, w, Hp, Wp, xp + c * P);
    return xp;
  }
};

template <typename T>
GemmArgs rows_gemm(int64_t M, int64_t N, int64_t K, const T* a, int64_t a_rs, const T* b, T* c, int64_t c_rs) {
  GemmArgs g{};
  g.batch = 1;
  g.M = M;
  g.N = N;
  g.K = K;
  g.a = a;
  g.a_rs = a_rs;
  g.a_cs = 1;
  g.b = b;
  g.c = c;
  g.c_rs = c_rs;
  g.threads = 1;
  return g;
}

template <typename T>
bool run_gemm(const GemmArgs& g) {
  if constexpr (std::is_same_v<T, float>) return gemm_f32(g);
  else return gemm_f64(g);
}

}  // namespace

template <typename T>
void conv_forward_rows(const T* x, const T* wt, const T* bias, const Window2d& w, const ConvShape& s, T* out,
                       std::atomic<bool>& ok) {
  const RowGeom r(w, s);
  const int64_t Wp = r.Wp, P = r.P;
  parallel_for(s.N, 1, [&](int64_t n0, int64_t n1) {
    Scratch<T> xp_buf(0, r.in_x ? 0 : size_t(s.C * P));
    Scratch<T> y_buf(1, size_t(s.OCg * w.oh * Wp));
    T* y = y_buf.get();
    for (int64_t n = n0; n < n1; ++n) {
      const T* xs = r.planes(x, w, s, n, xp_buf.get());
      for (int64_t g = 0; g < s.G; ++g) {
        GemmArgs a = rows_gemm<T>(s.OCg, r.Np, s.Ckk, wt + g * s.OCg * s.Ckk, s.Ckk, xs + g * s.Cg * P, y, w.oh * Wp);
        a.b_cs = 1;
        a.b_rows = r.rows.data();
        if (!run_gemm<T>(a)) ok = false;
        for (int64_t o = 0; o < s.OCg; ++o) {
          const int64_t oc = g * s.OCg + o;
          const T bv = bias ? bias[oc] : T(0);
          T* dst = out + (n * s.OC + oc) * s.L;
          for (int64_t oy = 0; oy < w.oh; ++oy) {
            const T* src = y + o * w.oh * Wp + oy * Wp;
            T* d = dst + oy * w.ow;
#pragma omp simd
            for (int64_t l = 0; l < w.ow; ++l) d[l] = src[l] + bv;
          }
        }
      }
    }
  });
}

// dW[g] [OCg, Ckk] = sum over samples of grad[g] [OCg, Np] @ B[g]^T, with grad laid on
// the padded-width grid (zeros in its extra columns) and B^T's columns the row table's
// windows (GemmArgs::b_cols), packed straight from the padded planes. Samples are
// summed in kWeightGroups fixed runs, so the sums do not depend on the thread count.
template <typename T>
void conv_grad_weight_rows(const T* grad, const T* x, const Window2d& w, const ConvShape& s, T* gw,
                           std::atomic<bool>& ok) {
  const RowGeom r(w, s);
  const int64_t parts = std::min(s.N, kWeightGroups), wsize = s.OC * s.Ckk;
  std::vector<T> partial(size_t(parts * wsize), T(0));
  parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
    Scratch<T> xp_buf(0, r.in_x ? 0 : size_t(s.C * r.P));
    Scratch<T> y_buf(1, size_t(s.OC * r.Np));
    Scratch<T> tmp_buf(2, size_t(wsize));
    T *y = y_buf.get(), *tmp = tmp_buf.get();
    for (int64_t p = p0; p < p1; ++p) {
      T* acc = partial.data() + p * wsize;
      for (int64_t n = s.N * p / parts; n < s.N * (p + 1) / parts; ++n) {
        const T* xs = r.planes(x, w, s, n, xp_buf.get());
        for (int64_t oc = 0; oc < s.OC; ++oc)
          for (int64_t oy = 0; oy < w.oh; ++oy) {
            T* d = y + oc * r.Np + oy * r.Wp;
            std::memcpy(d, grad + (n * s.OC + oc) * s.L + oy * w.ow, sizeof(T) * size_t(w.ow));
            if (oy + 1 < w.oh) std::fill(d + w.ow, d + r.Wp, T(0));
          }
        for (int64_t g = 0; g < s.G; ++g) {
          GemmArgs a = rows_gemm<T>(s.OCg, s.Ckk, r.Np, y + g * s.OCg * r.Np, r.Np, xs + g * s.Cg * r.P,
                                    tmp + g * s.OCg * s.Ckk, s.Ckk);
          a.b_rs = 1;
          a.b_cols = r.rows.data();
          if (!run_gemm<T>(a)) ok = false;
        }
#pragma omp simd
        for (int64_t i = 0; i < wsize; ++i) acc[i] += tmp[i];
      }
    }
  });
  std::memcpy(gw, partial.data(), sizeof(T) * size_t(wsize));
  for (int64_t p = 1; p < parts; ++p)
    for (int64_t i = 0; i < wsize; ++i) gw[i] += partial[size_t(p * wsize + i)];
}

// Where the row-table paths run (Note [Row-table convolution]): stride 1, few output
// channels per group. With more, each column the unfolding writes is reused by more rows
// of the product, and the extra columns and misaligned B loads cost more than it saves.
bool use_rows(const Window2d& w, const ConvShape& s) {
  return w.sh == 1 && w.sw == 1 && w.oh > 0 && w.ow > 0 && s.N > 0 && s.OCg <= kRowsMaxChannels;
}

// The input gradient's product has only C/groups rows, and a wide kernel on a small
// plane wastes many columns: one row (LeNet conv1, 1.24x the unfolding path's time) or
// 31% extra columns (LeNet conv2, 1.44x) lose; 3 rows and 6% extra (the ResNet stem) win.
bool use_rows_grad_input(const Window2d& t, const ConvShape& ts) {
  const int64_t Wp = t.ow + (t.kw - 1) * t.dw, Np = (t.oh - 1) * Wp + t.ow;
  return use_rows(t, ts) && ts.OCg >= 2 && Np * 100 <= ts.L * 115;
}

// The weight gradient saves the unfolding's write but still packs B^T, so its reuse
// per column matters less: 32 channels at 16 x 16 (12% extra columns) win, forward +
// weight gradient 9.11 -> 8.73 ms (v4 and v5 alternated 3 times, load 1.3); 64 at 8 x 8
// (25% extra) lose, 8.25 -> 8.5.
bool use_rows_grad_weight(const Window2d& w, const ConvShape& s) {
  return w.sh == 1 && w.sw == 1 && w.oh > 0 && w.ow > 0 && s.N > 0 && s.OCg <= 2 * kRowsMaxChannels;
}

template void conv_forward_rows<float>(const float*, const float*, const float*, const Window2d&, const ConvShape&,
                                       float*, std::atomic<bool>&);
template void conv_forward_rows<double>(const double*, const double*, const double*, const Window2d&,
                                        const ConvShape&, double*, std::atomic<bool>&);
template void conv_grad_weight_rows<float>(const float*, const float*, const Window2d&, const ConvShape&, float*,
                                           std::atomic<bool>&);
template void conv_grad_weight_rows<double>(const double*, const double*, const Window2d&, const ConvShape&, double*,
                                            std::atomic<bool>&);

}  // namespace norch::cpu::conv

// CPU kernels for layer/group norm (per-row statistics) and batch norm
// (per-channel statistics), forward and first-order backward.
#include <cmath>
#include <vector>

#include "kernels/nn_fused.h"
#include "norch/tensor/dtype.h"
#include "norch/tensor/parallel.h"

namespace norch::cpu {
namespace {

template <typename T>
const T* ptr_or_null(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }
template <typename T>
T* mut_or_null(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }

// Row statistics in double; `omp simd reduction` lets the compiler vectorize
// the sums without reassociation flags.
template <typename T>
void row_stats(const T* xr, int64_t K, double eps, double& m, double& rs) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t k = 0; k < K; ++k) sum += xr[k];
  m = sum / K;
  double v = 0;
  const double mm = m;
#pragma omp simd reduction(+ : v)
  for (int64_t k = 0; k < K; ++k) v += (xr[k] - mm) * (xr[k] - mm);
  rs = 1.0 / std::sqrt(v / K + eps);
}

// Each row holds Cg = K / S channels of S contiguous elements; channel c of
// row r uses weight index (r % G) * Cg + c. Output is x * a_c + b_c per channel.
template <typename T>
void row_norm_impl(const T* x, const T* w, const T* b, int64_t R, int64_t K, int64_t G, int64_t S, double eps, T* y,
                   T* mean, T* rstd) {
  const int64_t Cg = K / S;
  parallel_for(R, grain_for(R, R * K, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t r = b_; r < e_; ++r) {
      const T* xr = x + r * K;
      T* yr = y + r * K;
      double m, rs;
      row_stats(xr, K, eps, m, rs);
      mean[r] = static_cast<T>(m);
      rstd[r] = static_cast<T>(rs);
      const int64_t ch0 = (r % G) * Cg;
      if (S == 1) {
        const T tm = static_cast<T>(m), trs = static_cast<T>(rs);
        const T* wr = w ? w + ch0 : nullptr;
        const T* br = b ? b + ch0 : nullptr;
        if (wr && br) {
#pragma omp simd
          for (int64_t k = 0; k < K; ++k) yr[k] = (xr[k] - tm) * trs * wr[k] + br[k];
        } else if (wr) {
#pragma omp simd
          for (int64_t k = 0; k < K; ++k) yr[k] = (xr[k] - tm) * trs * wr[k];
        } else {
#pragma omp simd
          for (int64_t k = 0; k < K; ++k) yr[k] = (xr[k] - tm) * trs + (br ? br[k] : T(0));
        }
        continue;
      }
      for (int64_t c = 0; c < Cg; ++c) {
        const double a = rs * (w ? static_cast<double>(w[ch0 + c]) : 1.0);
        const T ta = static_cast<T>(a), tb = static_cast<T>((b ? static_cast<double>(b[ch0 + c]) : 0.0) - m * a);
        const T* xc = xr + c * S;
        T* yc = yr + c * S;
#pragma omp simd
        for (int64_t s = 0; s < S; ++s) yc[s] = xc[s] * ta + tb;
      }
    }
  });
}

// Layer norm (one channel per element, G = 1): the same formula as below with
// per-element weights, so every loop runs over the contiguous row.
template <typename T>
void layer_norm_backward_impl(const T* g, const T* x, const T* mean, const T* rstd, const T* w, int64_t R, int64_t K,
                              T* gx, T* gw, T* gb) {
  if (gx) {
    parallel_for(R, grain_for(R, R * K, 32768), [&](int64_t b_, int64_t e_) {
      for (int64_t r = b_; r < e_; ++r) {
        const T* gr = g + r * K;
        const T* xr = x + r * K;
        const double m = mean[r], rs = rstd[r];
        double s1 = 0, s2 = 0;  // sum(g * w), sum(g * w * x)
        if (w) {
#pragma omp simd reduction(+ : s1, s2)
          for (int64_t k = 0; k < K; ++k) {
            const double gwk = static_cast<double>(gr[k]) * w[k];
            s1 += gwk;
            s2 += gwk * xr[k];
          }
        } else {
#pragma omp simd reduction(+ : s1, s2)
          for (int64_t k = 0; k < K; ++k) {
            s1 += gr[k];
            s2 += static_cast<double>(gr[k]) * xr[k];
          }
        }
        const double mgx = (s2 - m * s1) * rs / K, mg = s1 / K;
        const T trs = static_cast<T>(rs), B = static_cast<T>(-rs * rs * mgx);
        const T C = static_cast<T>(-rs * mg + m * rs * rs * mgx);
        T* o = gx + r * K;
        if (w) {
#pragma omp simd
          for (int64_t k = 0; k < K; ++k) o[k] = trs * w[k] * gr[k] + B * xr[k] + C;
        } else {
#pragma omp simd
          for (int64_t k = 0; k < K; ++k) o[k] = trs * gr[k] + B * xr[k] + C;
        }
      }
    });
  }
  if (gw || gb) {
    std::vector<double> aw(K, 0.0), ab(K, 0.0);
    for (int64_t r = 0; r < R; ++r) {
      const T* gr = g + r * K;
      const T* xr = x + r * K;
      const double m = mean[r], rs = rstd[r];
#pragma omp simd
      for (int64_t k = 0; k < K; ++k) {
        aw[k] += gr[k] * (xr[k] - m) * rs;
        ab[k] += gr[k];
      }
    }
    for (int64_t k = 0; k < K; ++k) {
      if (gw) gw[k] = static_cast<T>(aw[k]);
      if (gb) gb[k] = static_cast<T>(ab[k]);
    }
  }
}

// gx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)) with gw = g * weight, per
// row; written as gx = A_c * g + B * x + C so the inner loops are plain FMAs.
template <typename T>
void row_norm_backward_impl(const T* g, const T* x, const T* mean, const T* rstd, const T* w, int64_t R, int64_t K,
                            int64_t G, int64_t S, T* gx, T* gw, T* gb, int64_t channels) {
  if (S == 1 && G == 1) return layer_norm_backward_impl(g, x, mean, rstd, w, R, K, gx, gw, gb);
  const int64_t Cg = K / S;
  // Per (row, channel) sums of g and g * x, reused for gw/gb.
  std::vector<double> sg(R * Cg), sgx(R * Cg);
  parallel_for(R, grain_for(R, R * K, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t r = b_; r < e_; ++r) {
      const T* gr = g + r * K;
      const T* xr = x + r * K;
      const double m = mean[r], rs = rstd[r];
      const int64_t ch0 = (r % G) * Cg;
      double s1 = 0, s2 = 0;  // sum(g * w), sum(g * w * x)
      for (int64_t c = 0; c < Cg; ++c) {
        double a = 0, ax = 0;
        const T* gc = gr + c * S;
        const T* xc = xr + c * S;
#pragma omp simd reduction(+ : a, ax)
        for (int64_t s = 0; s < S; ++s) {
          a += gc[s];
          ax += static_cast<double>(gc[s]) * xc[s];
        }
        sg[r * Cg + c] = a;
        sgx[r * Cg + c] = ax;
        const double wc = w ? static_cast<double>(w[ch0 + c]) : 1.0;
        s1 += wc * a;
        s2 += wc * ax;
      }
      if (!gx) continue;
      // mean(gw * xhat) = (s2 - m * s1) * rs / K
      const double mgx = (s2 - m * s1) * rs / K, mg = s1 / K;
      const T B = static_cast<T>(-rs * rs * mgx);
      const T C = static_cast<T>(-rs * mg + m * rs * rs * mgx);
      T* gxr = gx + r * K;
      for (int64_t c = 0; c < Cg; ++c) {
        const T A = static_cast<T>(rs * (w ? static_cast<double>(w[ch0 + c]) : 1.0));
        const T* gc = gr + c * S;
        const T* xc = xr + c * S;
        T* oc = gxr + c * S;
#pragma omp simd
        for (int64_t s = 0; s < S; ++s) oc[s] = A * gc[s] + B * xc[s] + C;
      }
    }
  });
  if (gw || gb) {
    // Serial over rows so that channels shared by several rows never race.
    std::vector<double> aw(channels, 0.0), ab(channels, 0.0);
    for (int64_t r = 0; r < R; ++r) {
      const int64_t ch0 = (r % G) * Cg;
      const double m = mean[r], rs = rstd[r];
      const double* sgr = sg.data() + r * Cg;
      const double* sgxr = sgx.data() + r * Cg;
      double* awr = aw.data() + ch0;
      double* abr = ab.data() + ch0;
#pragma omp simd
      for (int64_t c = 0; c < Cg; ++c) {
        awr[c] += (sgxr[c] - m * sgr[c]) * rs;
        abr[c] += sgr[c];
      }
    }
    for (int64_t c = 0; c < channels; ++c) {
      if (gw) gw[c] = static_cast<T>(aw[c]);
      if (gb) gb[c] = static_cast<T>(ab[c]);
    }
  }
}

void row_norm_kernel(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t G, int64_t S, double eps,
                     const Tensor& y, const Tensor& mean, const Tensor& rstd) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "norm", [&] {
    row_norm_impl(x.data<scalar_t>(), ptr_or_null<scalar_t>(weight), ptr_or_null<scalar_t>(bias), x.size(0),
                  x.size(1), G, S, eps, y.data<scalar_t>(), mean.data<scalar_t>(), rstd.data<scalar_t>());
  });
}

void row_norm_backward_kernel(const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                              const Tensor& weight, int64_t G, int64_t S, const Tensor& gx, const Tensor& gw,
                              const Tensor& gb) {
  const int64_t channels = gw.defined() ? gw.numel() : gb.defined() ? gb.numel() : 0;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "norm_backward", [&] {
    row_norm_backward_impl(g.data<scalar_t>(), x.data<scalar_t>(), mean.data<scalar_t>(), rstd.data<scalar_t>(),
                           ptr_or_null<scalar_t>(weight), x.size(0), x.size(1), G, S, mut_or_null<scalar_t>(gx),
                           mut_or_null<scalar_t>(gw), mut_or_null<scalar_t>(gb), channels);
  });
}

template <typename T>
void channel_stats_impl(const T* x, int64_t N, int64_t C, int64_t S, T* mean, T* var) {
  parallel_for(C, grain_for(C, N * C * S, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t c = b_; c < e_; ++c) {
      double m = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t s = 0; s < S; ++s) m += x[(n * C + c) * S + s];
      m /= static_cast<double>(N * S);
      double v = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t s = 0; s < S; ++s) {
          const double d = x[(n * C + c) * S + s] - m;
          v += d * d;
        }
      mean[c] = static_cast<T>(m);
      var[c] = static_cast<T>(v / static_cast<double>(N * S));
    }
  });
}

void channel_stats_kernel(const Tensor& x, const Tensor& mean, const Tensor& var) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "batch_norm", [&] {
    channel_stats_impl(x.data<scalar_t>(), x.size(0), x.size(1), x.size(2), mean.data<scalar_t>(),
                       var.data<scalar_t>());
  });
}

template <typename T>
void channel_affine_impl(const T* x, const T* scale, const T* shift, int64_t N, int64_t C, int64_t S, T* y) {
  parallel_for(N * C, grain_for(N * C, N * C * S, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t nc = b_; nc < e_; ++nc) {
      const T a = scale[nc % C], b = shift[nc % C];
      for (int64_t s = 0; s < S; ++s) y[nc * S + s] = x[nc * S + s] * a + b;
    }
  });
}

void channel_affine_kernel(const Tensor& x, const Tensor& scale, const Tensor& shift, const Tensor& y) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "batch_norm", [&] {
    channel_affine_impl(x.data<scalar_t>(), scale.data<scalar_t>(), shift.data<scalar_t>(), x.size(0), x.size(1),
                        x.size(2), y.data<scalar_t>());
  });
}

// gx = weight * rstd * (g - mean(g) - xhat * mean(g * xhat)), means over (N, S).
template <typename T>
void batch_norm_backward_impl(const T* g, const T* x, const T* mean, const T* rstd, const T* w, int64_t N, int64_t C,
                              int64_t S, T* gx, T* gw, T* gb) {
  const double M = static_cast<double>(N * S);
  parallel_for(C, grain_for(C, N * C * S, 32768), [&](int64_t b_, int64_t e_) {
    for (int64_t c = b_; c < e_; ++c) {
      const double m = mean[c], rs = rstd[c];
      double sg = 0, sgx = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t s = 0; s < S; ++s) {
          const int64_t i = (n * C + c) * S + s;
          sg += g[i];
          sgx += g[i] * (x[i] - m) * rs;
        }
      if (gw) gw[c] = static_cast<T>(sgx);
      if (gb) gb[c] = static_cast<T>(sg);
      if (!gx) continue;
      const double wc = w ? static_cast<double>(w[c]) : 1.0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t s = 0; s < S; ++s) {
          const int64_t i = (n * C + c) * S + s;
          gx[i] = static_cast<T>(wc * rs * (g[i] - sg / M - (x[i] - m) * rs * sgx / M));
        }
    }
  });
}

void batch_norm_backward_kernel(const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                                const Tensor& weight, const Tensor& gx, const Tensor& gw, const Tensor& gb) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "batch_norm_backward", [&] {
    batch_norm_backward_impl(g.data<scalar_t>(), x.data<scalar_t>(), mean.data<scalar_t>(), rstd.data<scalar_t>(),
                             ptr_or_null<scalar_t>(weight), x.size(0), x.size(1), x.size(2),
                             mut_or_null<scalar_t>(gx), mut_or_null<scalar_t>(gw), mut_or_null<scalar_t>(gb));
  });
}

}  // namespace

NORCH_REGISTER_KERNEL(row_norm_stub, CPU, row_norm_kernel);
NORCH_REGISTER_KERNEL(row_norm_backward_stub, CPU, row_norm_backward_kernel);
NORCH_REGISTER_KERNEL(channel_stats_stub, CPU, channel_stats_kernel);
NORCH_REGISTER_KERNEL(channel_affine_stub, CPU, channel_affine_kernel);
NORCH_REGISTER_KERNEL(batch_norm_backward_stub, CPU, batch_norm_backward_kernel);

}  // namespace norch::cpu

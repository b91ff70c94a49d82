// CUDA layer/group norm (per-row statistics) and batch norm (per-channel
// statistics), forward and first-order backward, matching src/kernels/cpu/norm_kernel.cpp.
// A block owns a row (or a channel): its threads stride the elements, Welford
// states (forward) or double sums (backward) combine in a fixed tree, so a result
// is the same on every run.
#include "kernels/cuda/nn_common.cuh"
#include "kernels/nn_fused.h"

namespace norch::cuda_kernels {
namespace {

int grid_for(int64_t items) { return static_cast<int>(items < 65535 ? (items < 1 ? 1 : items) : 65535); }

// Row r of x [R, K] holds Cg = K / S channels of S elements; channel c of row r uses
// affine index (r % G) * Cg + c.
template <typename T>
__global__ void row_norm_kernel(const T* x, const T* w, const T* b, int64_t R, int64_t K, int64_t G, int64_t S,
                                double eps, T* y, T* mean, T* rstd) {
  for (int64_t r = blockIdx.x; r < R; r += gridDim.x) {
    const T* xr = x + r * K;
    Welford st;
    for (int64_t k = threadIdx.x; k < K; k += blockDim.x) st.add(static_cast<double>(xr[k]));
    st = block_welford(st);
    const double m = K > 0 ? st.mean : NAN, rs = 1.0 / sqrt(st.m2 / K + eps);
    if (threadIdx.x == 0) {
      mean[r] = static_cast<T>(m);
      rstd[r] = static_cast<T>(rs);
    }
    const int64_t ch0 = (r % G) * (K / S);
    T* yr = y + r * K;
    for (int64_t k = threadIdx.x; k < K; k += blockDim.x) {
      const int64_t ch = ch0 + k / S;
      const double a = rs * (w ? static_cast<double>(w[ch]) : 1.0);
      const double sh = (b ? static_cast<double>(b[ch]) : 0.0) - m * a;
      yr[k] = static_cast<T>(static_cast<double>(xr[k]) * a + sh);
    }
  }
}

// gx = A_c * g + B * x + C per row (see the CPU kernel): two block sums, then a map.
template <typename T>
__global__ void row_norm_backward_gx(const T* g, const T* x, const T* mean, const T* rstd, const T* w, int64_t R,
                                     int64_t K, int64_t G, int64_t S, T* gx) {
  for (int64_t r = blockIdx.x; r < R; r += gridDim.x) {
    const T* gr = g + r * K;
    const T* xr = x + r * K;
    const int64_t ch0 = (r % G) * (K / S);
    double s1 = 0, s2 = 0;  // sum(g * w), sum(g * w * x)
    for (int64_t k = threadIdx.x; k < K; k += blockDim.x) {
      const double gw = static_cast<double>(gr[k]) * (w ? static_cast<double>(w[ch0 + k / S]) : 1.0);
      s1 += gw;
      s2 += gw * static_cast<double>(xr[k]);
    }
    s1 = block_sum(s1);
    s2 = block_sum(s2);
    const double m = mean[r], rs = rstd[r];
    const double mgx = (s2 - m * s1) * rs / K, mg = s1 / K;
    const double Bc = -rs * rs * mgx, Cc = -rs * mg + m * rs * rs * mgx;
    T* o = gx + r * K;
    for (int64_t k = threadIdx.x; k < K; k += blockDim.x) {
      const double A = rs * (w ? static_cast<double>(w[ch0 + k / S]) : 1.0);
      o[k] = static_cast<T>(A * static_cast<double>(gr[k]) + Bc * static_cast<double>(xr[k]) + Cc);
    }
  }
}

// Layer norm's weight/bias gradients: one thread per column k, walking the rows
// (neighbouring threads read neighbouring addresses).
template <typename T>
__global__ void layer_norm_backward_gwb(const T* g, const T* x, const T* mean, const T* rstd, int64_t R, int64_t K,
                                        T* gw, T* gb) {
  NORCH_CUDA_LOOP(k, K) {
    double aw = 0, ab = 0;
    for (int64_t r = 0; r < R; ++r) {
      const double gv = g[r * K + k];
      aw += gv * (static_cast<double>(x[r * K + k]) - static_cast<double>(mean[r])) * static_cast<double>(rstd[r]);
      ab += gv;
    }
    if (gw) gw[k] = static_cast<T>(aw);
    if (gb) gb[k] = static_cast<T>(ab);
  }
}

// Group norm's weight/bias gradients: a block per channel ch (group grp = ch / Cg,
// channel c = ch % Cg) sums over the rows r = n * G + grp and the S positions.
template <typename T>
__global__ void group_norm_backward_gwb(const T* g, const T* x, const T* mean, const T* rstd, int64_t R, int64_t K,
                                        int64_t G, int64_t S, int64_t channels, T* gw, T* gb) {
  const int64_t Cg = K / S, per = (R / G) * S;
  for (int64_t ch = blockIdx.x; ch < channels; ch += gridDim.x) {
    const int64_t grp = ch / Cg, c = ch % Cg;
    double aw = 0, ab = 0;
    for (int64_t e = threadIdx.x; e < per; e += blockDim.x) {
      const int64_t r = (e / S) * G + grp, i = r * K + c * S + e % S;
      const double gv = g[i];
      aw += gv * (static_cast<double>(x[i]) - static_cast<double>(mean[r])) * static_cast<double>(rstd[r]);
      ab += gv;
    }
    aw = block_sum(aw);
    ab = block_sum(ab);
    if (threadIdx.x == 0) {
      if (gw) gw[ch] = static_cast<T>(aw);
      if (gb) gb[ch] = static_cast<T>(ab);
    }
  }
}

// x [N, C, S]: a block per channel.
template <typename T>
__global__ void channel_stats_kernel(const T* x, int64_t N, int64_t C, int64_t S, T* mean, T* var) {
  for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
    Welford st;
    for (int64_t e = threadIdx.x; e < N * S; e += blockDim.x) st.add(static_cast<double>(x[((e / S) * C + c) * S + e % S]));
    st = block_welford(st);
    if (threadIdx.x == 0) {
      mean[c] = static_cast<T>(st.n > 0 ? st.mean : NAN);
      var[c] = static_cast<T>(st.n > 0 ? st.m2 / st.n : NAN);
    }
  }
}

template <typename T>
__global__ void channel_affine_kernel(const T* x, const T* scale, const T* shift, int64_t N, int64_t C, int64_t S,
                                      T* y) {
  NORCH_CUDA_LOOP(i, N * C * S) {
    const int64_t c = (i / S) % C;
    y[i] = x[i] * scale[c] + shift[c];
  }
}

// gx = weight * rstd * (g - mean(g) - xhat * mean(g * xhat)), means over (N, S).
template <typename T>
__global__ void batch_norm_backward_kernel(const T* g, const T* x, const T* mean, const T* rstd, const T* w,
                                           int64_t N, int64_t C, int64_t S, T* gx, T* gw, T* gb) {
  const double M = static_cast<double>(N * S);
  for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
    const double m = mean[c], rs = rstd[c];
    double sg = 0, sgx = 0;
    for (int64_t e = threadIdx.x; e < N * S; e += blockDim.x) {
      const int64_t i = ((e / S) * C + c) * S + e % S;
      sg += g[i];
      sgx += static_cast<double>(g[i]) * (static_cast<double>(x[i]) - m) * rs;
    }
    sg = block_sum(sg);
    sgx = block_sum(sgx);
    if (threadIdx.x == 0) {
      if (gw) gw[c] = static_cast<T>(sgx);
      if (gb) gb[c] = static_cast<T>(sg);
    }
    if (!gx) continue;
    const double wc = w ? static_cast<double>(w[c]) : 1.0;
    for (int64_t e = threadIdx.x; e < N * S; e += blockDim.x) {
      const int64_t i = ((e / S) * C + c) * S + e % S;
      gx[i] = static_cast<T>(wc * rs * (g[i] - sg / M - (static_cast<double>(x[i]) - m) * rs * sgx / M));
    }
  }
}

void row_norm_cuda(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t G, int64_t S, double eps,
                   const Tensor& y, const Tensor& mean, const Tensor& rstd) {
  const int64_t R = x.size(0), K = x.size(1);
  if (R == 0) return;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "norm", [&] {
    row_norm_kernel<scalar_t><<<grid_for(R), kThreads, 0, cuda::current_stream()>>>(
        x.data<scalar_t>(), ptr_or_null<scalar_t>(weight), ptr_or_null<scalar_t>(bias), R, K, G, S, eps,
        y.data<scalar_t>(), mean.data<scalar_t>(), rstd.data<scalar_t>());
  });
  check_launch("norm");
}

void row_norm_backward_cuda(const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                            const Tensor& weight, int64_t G, int64_t S, const Tensor& gx, const Tensor& gw,
                            const Tensor& gb) {
  const int64_t R = x.size(0), K = x.size(1);
  const int64_t channels = gw.defined() ? gw.numel() : gb.defined() ? gb.numel() : 0;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "norm_backward", [&] {
    if (gx.defined() && R > 0)
      row_norm_backward_gx<scalar_t><<<grid_for(R), kThreads, 0, cuda::current_stream()>>>(
          g.data<scalar_t>(), x.data<scalar_t>(), mean.data<scalar_t>(), rstd.data<scalar_t>(),
          ptr_or_null<scalar_t>(weight), R, K, G, S, gx.data<scalar_t>());
    if (channels > 0) {
      if (G == 1 && S == 1)
        layer_norm_backward_gwb<scalar_t><<<blocks_for(K), kThreads, 0, cuda::current_stream()>>>(
            g.data<scalar_t>(), x.data<scalar_t>(), mean.data<scalar_t>(), rstd.data<scalar_t>(), R, K,
            ptr_or_null<scalar_t>(gw), ptr_or_null<scalar_t>(gb));
      else
        group_norm_backward_gwb<scalar_t><<<grid_for(channels), kThreads, 0, cuda::current_stream()>>>(
            g.data<scalar_t>(), x.data<scalar_t>(), mean.data<scalar_t>(), rstd.data<scalar_t>(), R, K, G, S,
            channels, ptr_or_null<scalar_t>(gw), ptr_or_null<scalar_t>(gb));
    }
  });
  check_launch("norm_backward");
}

void channel_stats_cuda(const Tensor& x, const Tensor& mean, const Tensor& var) {
  const int64_t N = x.size(0), C = x.size(1), S = x.size(2);
  if (C == 0) return;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "batch_norm", [&] {
    channel_stats_kernel<scalar_t><<<grid_for(C), kThreads, 0, cuda::current_stream()>>>(
        x.data<scalar_t>(), N, C, S, mean.data<scalar_t>(), var.data<scalar_t>());
  });
  check_launch("batch_norm");
}

void channel_affine_cuda(const Tensor& x, const Tensor& scale, const Tensor& shift, const Tensor& y) {
  const int64_t N = x.size(0), C = x.size(1), S = x.size(2);
  if (N * C * S == 0) return;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "batch_norm", [&] {
    channel_affine_kernel<scalar_t><<<blocks_for(N * C * S), kThreads, 0, cuda::current_stream()>>>(
        x.data<scalar_t>(), scale.data<scalar_t>(), shift.data<scalar_t>(), N, C, S, y.data<scalar_t>());
  });
  check_launch("batch_norm");
}

void batch_norm_backward_cuda(const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                              const Tensor& weight, const Tensor& gx, const Tensor& gw, const Tensor& gb) {
  const int64_t N = x.size(0), C = x.size(1), S = x.size(2);
  if (C == 0) return;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "batch_norm_backward", [&] {
    batch_norm_backward_kernel<scalar_t><<<grid_for(C), kThreads, 0, cuda::current_stream()>>>(
        g.data<scalar_t>(), x.data<scalar_t>(), mean.data<scalar_t>(), rstd.data<scalar_t>(),
        ptr_or_null<scalar_t>(weight), N, C, S, ptr_or_null<scalar_t>(gx), ptr_or_null<scalar_t>(gw),
        ptr_or_null<scalar_t>(gb));
  });
  check_launch("batch_norm_backward");
}

}  // namespace

NORCH_REGISTER_KERNEL(row_norm_stub, CUDA, row_norm_cuda);
NORCH_REGISTER_KERNEL(row_norm_backward_stub, CUDA, row_norm_backward_cuda);
NORCH_REGISTER_KERNEL(channel_stats_stub, CUDA, channel_stats_cuda);
NORCH_REGISTER_KERNEL(channel_affine_stub, CUDA, channel_affine_cuda);
NORCH_REGISTER_KERNEL(batch_norm_backward_stub, CUDA, batch_norm_backward_cuda);

}  // namespace norch::cuda_kernels

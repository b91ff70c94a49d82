// CUDA softmax/log_softmax (forward and backward) and the class gather/scatter/
// weight kernels behind nll_loss and cross_entropy. Lines of [outer, dim, inner]:
// with inner == 1 a line is contiguous and one warp owns it (lanes stride the row,
// shuffles combine); otherwise one thread owns a line, and neighbouring threads
// read neighbouring addresses. Sums are in double, as on the CPU.
#include "kernels/cuda/nn_common.cuh"
#include "kernels/nn_fused.h"

namespace norch::cuda_kernels {
namespace {

constexpr int kWarpsPerBlock = kThreads / 32;

// Warp-wide sum/max returned to every lane.
template <typename T>
__device__ inline T warp_allsum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ inline double warp_allmax(double v) {
  for (int o = 16; o > 0; o >>= 1) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// fmax skips NaN like the CPU's std::max(mx, x); a NaN still ends in NaN outputs
// through exp(NaN - mx).
template <typename T>
__global__ void softmax_rows(const T* x, T* y, int64_t rows, int64_t dim, bool log) {
  const int lane = threadIdx.x & 31;
  for (int64_t r = blockIdx.x * static_cast<int64_t>(kWarpsPerBlock) + (threadIdx.x >> 5); r < rows;
       r += static_cast<int64_t>(gridDim.x) * kWarpsPerBlock) {
    const T* xr = x + r * dim;
    T* yr = y + r * dim;
    double mx = -INFINITY;
    for (int64_t k = lane; k < dim; k += 32) mx = fmax(mx, static_cast<double>(xr[k]));
    mx = warp_allmax(mx);
    double sum = 0;
    for (int64_t k = lane; k < dim; k += 32) sum += exp(static_cast<double>(xr[k]) - mx);
    sum = warp_allsum(sum);
    if (log) {
      const double ls = ::log(sum);  // (x - max) - log(sum): see the CPU kernel
      for (int64_t k = lane; k < dim; k += 32) yr[k] = static_cast<T>((static_cast<double>(xr[k]) - mx) - ls);
    } else {
      const double inv = 1.0 / sum;
      for (int64_t k = lane; k < dim; k += 32) yr[k] = static_cast<T>(exp(static_cast<double>(xr[k]) - mx) * inv);
    }
  }
}

template <typename T>
__global__ void softmax_lines(const T* x, T* y, int64_t outer, int64_t dim, int64_t inner, bool log) {
  NORCH_CUDA_LOOP(l, outer * inner) {
    const int64_t base = (l / inner) * dim * inner + l % inner;
    const T* xl = x + base;
    T* yl = y + base;
    double mx = -INFINITY;
    for (int64_t k = 0; k < dim; ++k) mx = fmax(mx, static_cast<double>(xl[k * inner]));
    double sum = 0;
    for (int64_t k = 0; k < dim; ++k) sum += exp(static_cast<double>(xl[k * inner]) - mx);
    if (log) {
      const double ls = ::log(sum);
      for (int64_t k = 0; k < dim; ++k) yl[k * inner] = static_cast<T>((static_cast<double>(xl[k * inner]) - mx) - ls);
    } else {
      const double inv = 1.0 / sum;
      for (int64_t k = 0; k < dim; ++k) yl[k * inner] = static_cast<T>(exp(static_cast<double>(xl[k * inner]) - mx) * inv);
    }
  }
}

// softmax:     gx = y * (g - sum(g * y));  log_softmax: gx = g - exp(y) * sum(g)
template <typename T>
__global__ void softmax_backward_rows(const T* g, const T* y, T* gx, int64_t rows, int64_t dim, bool log) {
  const int lane = threadIdx.x & 31;
  for (int64_t r = blockIdx.x * static_cast<int64_t>(kWarpsPerBlock) + (threadIdx.x >> 5); r < rows;
       r += static_cast<int64_t>(gridDim.x) * kWarpsPerBlock) {
    const T* gr = g + r * dim;
    const T* yr = y + r * dim;
    T* o = gx + r * dim;
    double s = 0;
    for (int64_t k = lane; k < dim; k += 32) s += log ? static_cast<double>(gr[k]) : static_cast<double>(gr[k]) * yr[k];
    s = warp_allsum(s);
    for (int64_t k = lane; k < dim; k += 32)
      o[k] = log ? static_cast<T>(gr[k] - exp(static_cast<double>(yr[k])) * s) : static_cast<T>(yr[k] * (gr[k] - s));
  }
}

template <typename T>
__global__ void softmax_backward_lines(const T* g, const T* y, T* gx, int64_t outer, int64_t dim, int64_t inner,
                                       bool log) {
  NORCH_CUDA_LOOP(l, outer * inner) {
    const int64_t base = (l / inner) * dim * inner + l % inner;
    const T* gl = g + base;
    const T* yl = y + base;
    T* ol = gx + base;
    double s = 0;
    for (int64_t k = 0; k < dim; ++k)
      s += log ? static_cast<double>(gl[k * inner]) : static_cast<double>(gl[k * inner]) * yl[k * inner];
    for (int64_t k = 0; k < dim; ++k)
      ol[k * inner] = log ? static_cast<T>(gl[k * inner] - exp(static_cast<double>(yl[k * inner])) * s)
                          : static_cast<T>(yl[k * inner] * (gl[k * inner] - s));
  }
}

int row_blocks(int64_t rows) {
  const int64_t b = (rows + kWarpsPerBlock - 1) / kWarpsPerBlock;
  return static_cast<int>(b < 65535 ? (b < 1 ? 1 : b) : 65535);
}

void softmax_cuda(const Tensor& in, const Tensor& out, int64_t outer, int64_t dim, int64_t inner, bool log) {
  if (outer * dim * inner == 0) return;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(in.dtype(), "softmax", [&] {
    if (inner == 1)
      softmax_rows<scalar_t><<<row_blocks(outer), kThreads, 0, cuda::current_stream()>>>(
          in.data<scalar_t>(), out.data<scalar_t>(), outer, dim, log);
    else
      softmax_lines<scalar_t><<<blocks_for(outer * inner), kThreads, 0, cuda::current_stream()>>>(
          in.data<scalar_t>(), out.data<scalar_t>(), outer, dim, inner, log);
  });
  check_launch(log ? "log_softmax" : "softmax");
}

void softmax_backward_cuda(const Tensor& grad, const Tensor& out, const Tensor& grad_in, int64_t outer, int64_t dim,
                           int64_t inner, bool log) {
  if (outer * dim * inner == 0) return;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(out.dtype(), "softmax_backward", [&] {
    if (inner == 1)
      softmax_backward_rows<scalar_t><<<row_blocks(outer), kThreads, 0, cuda::current_stream()>>>(
          grad.data<scalar_t>(), out.data<scalar_t>(), grad_in.data<scalar_t>(), outer, dim, log);
    else
      softmax_backward_lines<scalar_t><<<blocks_for(outer * inner), kThreads, 0, cuda::current_stream()>>>(
          grad.data<scalar_t>(), out.data<scalar_t>(), grad_in.data<scalar_t>(), outer, dim, inner, log);
  });
  check_launch(log ? "log_softmax_backward" : "softmax_backward");
}

template <typename T>
__global__ void class_gather_kernel(const T* x, const int64_t* t, int64_t ignore, T* out, int64_t N, int64_t C,
                                    int64_t S) {
  NORCH_CUDA_LOOP(i, N * S) {
    const int64_t n = i / S, s = i % S, c = t[i];
    out[i] = (c == ignore || c < 0 || c >= C) ? T(0) : x[(n * C + c) * S + s];
  }
}

template <typename T>
__global__ void class_scatter_kernel(const T* v, const int64_t* t, int64_t ignore, T* out, int64_t N, int64_t C,
                                     int64_t S) {
  NORCH_CUDA_LOOP(i, N * S) {
    const int64_t n = i / S, s = i % S, c = t[i];
    if (c != ignore && c >= 0 && c < C) out[(n * C + c) * S + s] = v[i];
  }
}

__global__ void target_check_kernel(const int64_t* t, int64_t n, int64_t C, int64_t ignore, long long* bad) {
  NORCH_CUDA_LOOP(i, n) {
    if (!(t[i] == ignore || (t[i] >= 0 && t[i] < C))) flag_bad(bad, t[i]);
  }
}

template <typename T>
__global__ void class_weight_kernel(const int64_t* t, const T* w, int64_t n, int64_t ignore, T* out) {
  NORCH_CUDA_LOOP(i, n) out[i] = t[i] == ignore ? T(0) : (w ? w[t[i]] : T(1));
}

template <typename T>
__global__ void range_check_kernel(const T* x, int64_t n, double lo, double hi, long long* bad) {
  NORCH_CUDA_LOOP(i, n) {
    if (!(x[i] >= lo && x[i] <= hi)) flag_bad(bad, 0);
  }
}

void class_gather_cuda(const Tensor& x, const Tensor& target, int64_t ignore_index, const Tensor& out) {
  const int64_t N = x.size(0), C = x.size(1), S = x.size(2);
  if (N * S == 0) return;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "nll_loss", [&] {
    class_gather_kernel<scalar_t><<<blocks_for(N * S), kThreads, 0, cuda::current_stream()>>>(
        x.data<scalar_t>(), target.data<int64_t>(), ignore_index, out.data<scalar_t>(), N, C, S);
  });
  check_launch("nll_loss");
}

void class_scatter_cuda(const Tensor& v, const Tensor& target, int64_t ignore_index, const Tensor& out) {
  const int64_t N = out.size(0), C = out.size(1), S = out.size(2);
  zero(out, "nll_loss_backward");
  if (N * S == 0) return;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(v.dtype(), "nll_loss_backward", [&] {
    class_scatter_kernel<scalar_t><<<blocks_for(N * S), kThreads, 0, cuda::current_stream()>>>(
        v.data<scalar_t>(), target.data<int64_t>(), ignore_index, out.data<scalar_t>(), N, C, S);
  });
  check_launch("nll_loss_backward");
}

// The target check waits for the device (as PyTorch's device-side assert would not):
// a bad class index is then an IndexError the process survives.
void class_weight_cuda(const Tensor& target, const Tensor& weight, int64_t C, int64_t ignore, const Tensor& out) {
  const int64_t n = target.numel();
  if (n == 0) return;
  {
    DeviceFlag bad("nll_loss");
    target_check_kernel<<<blocks_for(n), kThreads, 0, cuda::current_stream()>>>(target.data<int64_t>(), n, C, ignore,
                                                                                 bad.get());
    NORCH_CHECK_INDEX(!bad.read(), "Target ", bad.value(), " is out of bounds.");
  }
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(out.dtype(), "nll_loss", [&] {
    class_weight_kernel<scalar_t><<<blocks_for(n), kThreads, 0, cuda::current_stream()>>>(
        target.data<int64_t>(), weight.defined() ? weight.data<scalar_t>() : nullptr, n, ignore,
        out.data<scalar_t>());
  });
  check_launch("nll_loss");
}

void range_check_cuda(const Tensor& x, double lo, double hi, const char* msg) {
  if (x.numel() == 0) return;
  DeviceFlag bad("range_check");
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "range_check", [&] {
    range_check_kernel<scalar_t><<<blocks_for(x.numel()), kThreads, 0, cuda::current_stream()>>>(
        x.data<scalar_t>(), x.numel(), lo, hi, bad.get());
  });
  NORCH_CHECK(!bad.read(), msg);
}

}  // namespace

NORCH_REGISTER_KERNEL(softmax_stub, CUDA, softmax_cuda);
NORCH_REGISTER_KERNEL(softmax_backward_stub, CUDA, softmax_backward_cuda);
NORCH_REGISTER_KERNEL(class_gather_stub, CUDA, class_gather_cuda);
NORCH_REGISTER_KERNEL(class_scatter_stub, CUDA, class_scatter_cuda);
NORCH_REGISTER_KERNEL(class_weight_stub, CUDA, class_weight_cuda);
NORCH_REGISTER_KERNEL(range_check_stub, CUDA, range_check_cuda);

}  // namespace norch::cuda_kernels

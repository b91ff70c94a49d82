// What the CUDA nn kernels (conv, pool, softmax/loss, norm, embedding, optim) share:
// warp and block sums, a Welford merge, and the device-side input check that
// turns a bad index into the same Python exception the CPU kernel raises.
#pragma once
#include "kernels/cuda/atomic.cuh"
#include "kernels/cuda/common.cuh"
#include "norch/tensor/dtype.h"

namespace norch::cuda_kernels {

template <typename T>
__device__ inline T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

template <typename T>
__device__ inline T warp_max(T v) {
  for (int o = 16; o > 0; o >>= 1) {
    const T w = __shfl_down_sync(0xffffffffu, v, o);
    v = w > v ? w : v;
  }
  return v;
}

// Sum over the block, returned to every thread. blockDim.x must be a multiple of 32
// (at most 1024); the fixed tree order makes the result the same on every run.
template <typename T>
__device__ inline T block_sum(T v) {
  __shared__ T partial[32];
  __shared__ T total;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_sum(v);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    T s = lane < static_cast<int>(blockDim.x >> 5) ? partial[lane] : T(0);
    s = warp_sum(s);
    if (lane == 0) total = s;
  }
  __syncthreads();
  const T r = total;
  __syncthreads();  // the shared slots may be reused by the next call
  return r;
}

// Welford's running (count, mean, M2): numerically stable one-pass variance; two
// partial states merge exactly (Chan et al.), so threads and warps combine in a tree.
struct Welford {
  double n = 0, mean = 0, m2 = 0;
  __device__ void add(double x) {
    n += 1;
    const double d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
  }
  __device__ void merge(const Welford& o) {
    if (o.n == 0) return;
    if (n == 0) {
      *this = o;
      return;
    }
    const double t = n + o.n, d = o.mean - mean;
    mean += d * (o.n / t);
    m2 += o.m2 + d * d * (n * o.n / t);
    n = t;
  }
};

__device__ inline Welford block_welford(Welford w) {
  // Plain doubles: a __shared__ variable cannot run a constructor.
  __shared__ double sn[32], smean[32], sm2[32];
  __shared__ double tn, tmean, tm2;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int o = 16; o > 0; o >>= 1) {
    Welford other;
    other.n = __shfl_down_sync(0xffffffffu, w.n, o);
    other.mean = __shfl_down_sync(0xffffffffu, w.mean, o);
    other.m2 = __shfl_down_sync(0xffffffffu, w.m2, o);
    w.merge(other);
  }
  if (lane == 0) {
    sn[warp] = w.n;
    smean[warp] = w.mean;
    sm2[warp] = w.m2;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    Welford t;
    for (int i = 0; i < static_cast<int>(blockDim.x >> 5); ++i) {
      Welford p;
      p.n = sn[i];
      p.mean = smean[i];
      p.m2 = sm2[i];
      t.merge(p);
    }
    tn = t.n;
    tmean = t.mean;
    tm2 = t.m2;
  }
  __syncthreads();
  Welford r;
  r.n = tn;
  r.mean = tmean;
  r.m2 = tm2;
  __syncthreads();
  return r;
}

// A device flag a kernel sets when it meets a bad input (with the offending value,
// any one of them); read() waits for the stream and reports whether it was set, so
// the op raises the CPU kernel's exception before returning.
class DeviceFlag {
 public:
  explicit DeviceFlag(const char* op) : op_(op) {
    p_ = static_cast<long long*>(cuda::allocate_workspace(2 * sizeof(long long)));
    check(cudaMemsetAsync(p_, 0, 2 * sizeof(long long), cuda::current_stream()), op_);
  }
  ~DeviceFlag() { cuda::release_workspace(p_); }
  DeviceFlag(const DeviceFlag&) = delete;
  DeviceFlag& operator=(const DeviceFlag&) = delete;
  // [0]: set to 1 on a bad input; [1]: the bad value.
  long long* get() const { return p_; }
  bool read() {
    check_launch(op_);
    check(cudaMemcpyAsync(host_, p_, sizeof(host_), cudaMemcpyDeviceToHost, cuda::current_stream()), op_);
    check(cudaStreamSynchronize(cuda::current_stream()), op_);
    return host_[0] != 0;
  }
  long long value() const { return host_[1]; }

 private:
  const char* op_;
  long long* p_;
  long long host_[2] = {0, 0};
};

__device__ inline void flag_bad(long long* flag, long long value) {
  flag[1] = value;
  flag[0] = 1;
}

inline void zero(const Tensor& t, const char* op) {
  if (t.numel() > 0) check(cudaMemsetAsync(t.data_ptr(), 0, t.numel() * t.element_size(), cuda::current_stream()), op);
}

template <typename T>
inline T* ptr_or_null(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }

// Grid-stride loop over [0, n).
#define NORCH_CUDA_LOOP(i, n)                                                                   \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

}  // namespace norch::cuda_kernels

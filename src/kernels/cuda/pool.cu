// CUDA pooling and separable resampling (Note [Separable resampling] in
// kernels/conv.h): max pooling with its indices, the per-plane gather/scatter of
// its backward, and the one resampling kernel and its adjoint behind avg/adaptive
// pooling, interpolate and reflect/replicate pad. The half types compare and
// accumulate in float (opmath_t) and round once on the store.
#include <cstring>
#include <vector>

#include "kernels/conv.h"
#include "kernels/cuda/nn_common.cuh"

namespace norch::cuda_kernels {
namespace {

// One thread per output: the same scan as the CPU kernel, so ties and NaN pick the
// same index (the first maximum; NaN wins).
template <typename T>
__global__ void max_pool_kernel(const T* x, Window2d w, T* out, int64_t* ind, int64_t B) {
  const int64_t total = B * w.oh * w.ow;
  NORCH_CUDA_LOOP(o, total) {
    const int64_t ox = o % w.ow, oy = (o / w.ow) % w.oh, b = o / (w.ow * w.oh);
    const T* plane = x + b * w.H * w.W;
    int64_t hs = oy * w.sh - w.ph;
    const int64_t he = min(hs + (w.kh - 1) * w.dh + 1, w.H);
    while (hs < 0) hs += w.dh;
    int64_t ws = ox * w.sw - w.pw;
    const int64_t we = min(ws + (w.kw - 1) * w.dw + 1, w.W);
    while (ws < 0) ws += w.dw;
    int64_t best = hs * w.W + ws;
    using A = opmath_t<T>;
    A bv = -INFINITY;
    for (int64_t iy = hs; iy < he; iy += w.dh)
      for (int64_t ix = ws; ix < we; ix += w.dw) {
        const A v = static_cast<A>(plane[iy * w.W + ix]);
        if (v > bv || isnan(v)) {
          bv = v;
          best = iy * w.W + ix;
        }
      }
    out[o] = static_cast<T>(bv);
    ind[o] = best;
  }
}

template <typename T>
__global__ void gather_kernel(const T* x, const int64_t* idx, T* out, int64_t B, int64_t P, int64_t Q) {
  NORCH_CUDA_LOOP(i, B * Q) {
    const int64_t b = i / Q, j = idx[i];
    out[i] = (j >= 0 && j < P) ? x[b * P + j] : T(0);  // bounds: indices may come from outside
  }
}

// Overlapping windows can share a maximum, so several sources add into one place.
template <typename T>
__global__ void scatter_kernel(const T* src, const int64_t* idx, T* out, int64_t B, int64_t P, int64_t Q) {
  NORCH_CUDA_LOOP(i, B * Q) {
    const int64_t b = i / Q, j = idx[i];
    if (j >= 0 && j < P) atomic_add(out + b * P + j, src[i]);
  }
}

void max_pool2d_cuda(const Tensor& x, const Window2d& w, const Tensor& out, const Tensor& indices) {
  if (out.numel() == 0) return;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "max_pool2d", [&] {
    max_pool_kernel<scalar_t><<<blocks_for(out.numel()), kThreads, 0, cuda::current_stream()>>>(
        x.data<scalar_t>(), w, out.data<scalar_t>(), indices.data<int64_t>(), x.sizes()[0]);
  });
  check_launch("max_pool2d");
}

void plane_gather_cuda(const Tensor& x, const Tensor& idx, const Tensor& out) {
  if (out.numel() == 0) return;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "max_pool2d_backward", [&] {
    gather_kernel<scalar_t><<<blocks_for(out.numel()), kThreads, 0, cuda::current_stream()>>>(
        x.data<scalar_t>(), idx.data<int64_t>(), out.data<scalar_t>(), x.sizes()[0], x.sizes()[1], idx.sizes()[1]);
  });
  check_launch("max_pool2d_backward");
}

void plane_scatter_cuda(const Tensor& src, const Tensor& idx, const Tensor& out) {
  zero(out, "max_pool2d_backward");
  if (idx.numel() == 0) return;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(src.dtype(), "max_pool2d_backward", [&] {
    scatter_kernel<scalar_t><<<blocks_for(idx.numel()), kThreads, 0, cuda::current_stream()>>>(
        src.data<scalar_t>(), idx.data<int64_t>(), out.data<scalar_t>(), out.sizes()[0], out.sizes()[1],
        idx.sizes()[1]);
  });
  check_launch("max_pool2d_backward");
}

// A tap list on the device, in compressed-row form: the taps of position i are
// [off[i], off[i + 1]) of (idx, wt).
template <typename T>
struct DeviceTaps {
  const int64_t* off;
  const int64_t* idx;
  const T* wt;
};

// Device copies of tap lists, in one workspace block that lives as long as this
// object (the kernels using it are queued on the same stream before release).
template <typename T>
class TapsUpload {
 public:
  explicit TapsUpload(const char* op) : op_(op) {}
  ~TapsUpload() {
    if (block_) cuda::release_workspace(block_);
  }
  TapsUpload(const TapsUpload&) = delete;
  TapsUpload& operator=(const TapsUpload&) = delete;

  // Queues one list (offsets, index, weight); returns its slot for device().
  int add(std::vector<int64_t> off, std::vector<int64_t> idx, const std::vector<double>& wt) {
    lists_.push_back({std::move(off), std::move(idx), std::vector<T>(wt.begin(), wt.end())});
    return static_cast<int>(lists_.size()) - 1;
  }
  int add(const Taps& t) { return add(t.offsets, t.index, t.weight); }
  // The adjoint's view of a tap list: for each source position, the outputs that read it.
  int add_transposed(const Taps& t) {
    const int64_t n_out = t.out_size();
    std::vector<int64_t> off(t.in_size + 1, 0), idx(t.index.size());
    std::vector<double> wt(t.index.size());
    for (int64_t tap = 0; tap < static_cast<int64_t>(t.index.size()); ++tap) ++off[t.index[tap] + 1];
    for (int64_t p = 0; p < t.in_size; ++p) off[p + 1] += off[p];
    std::vector<int64_t> fill(off.begin(), off.end() - 1);
    for (int64_t i = 0; i < n_out; ++i)   // outputs in increasing order: a fixed summation order
      for (int64_t tap = t.offsets[i]; tap < t.offsets[i + 1]; ++tap) {
        const int64_t slot = fill[t.index[tap]]++;
        idx[slot] = i;
        wt[slot] = t.weight[tap];
      }
    return add(std::move(off), std::move(idx), wt);
  }

  void upload() {
    size_t bytes = 0;
    for (auto& l : lists_) bytes += (l.off.size() + l.idx.size()) * sizeof(int64_t) + l.wt.size() * sizeof(T) + 16;
    std::vector<char> host(bytes);
    block_ = static_cast<char*>(cuda::allocate_workspace(bytes));
    size_t at = 0;
    auto put = [&](const void* src, size_t n) {
      at = (at + 7) & ~size_t(7);
      if (n) std::memcpy(host.data() + at, src, n);
      const void* dev = block_ + at;
      at += n;
      return dev;
    };
    for (auto& l : lists_) {
      DeviceTaps<T> d;
      d.off = static_cast<const int64_t*>(put(l.off.data(), l.off.size() * sizeof(int64_t)));
      d.idx = static_cast<const int64_t*>(put(l.idx.data(), l.idx.size() * sizeof(int64_t)));
      d.wt = static_cast<const T*>(put(l.wt.data(), l.wt.size() * sizeof(T)));
      dev_.push_back(d);
    }
    // Pageable source: the copy has finished reading `host` when the call returns.
    check(cudaMemcpyAsync(block_, host.data(), bytes, cudaMemcpyHostToDevice, cuda::current_stream()), op_);
  }
  DeviceTaps<T> device(int slot) const { return dev_[slot]; }

 private:
  struct List {
    std::vector<int64_t> off, idx;
    std::vector<T> wt;
  };
  const char* op_;
  std::vector<List> lists_;
  std::vector<DeviceTaps<T>> dev_;
  char* block_ = nullptr;
};

// out[b, i, j] = sum_a rw[a] * (sum_t cw[t] * x[b, ri[a], ci[t]]): columns first,
// then rows, the CPU kernel's order of operations.
template <typename T>
__global__ void resample_kernel(const T* x, DeviceTaps<T> rows, DeviceTaps<T> cols, T* out, int64_t B, int64_t H,
                                int64_t W, int64_t oh, int64_t ow) {
  NORCH_CUDA_LOOP(o, B * oh * ow) {
    const int64_t j = o % ow, i = (o / ow) % oh, b = o / (ow * oh);
    const T* plane = x + b * H * W;
    using A = opmath_t<T>;
    A acc = A(0);
    for (int64_t a = rows.off[i]; a < rows.off[i + 1]; ++a) {
      const T* row = plane + rows.idx[a] * W;
      A s = A(0);
      for (int64_t t = cols.off[j]; t < cols.off[j + 1]; ++t)
        s += static_cast<A>(cols.wt[t]) * static_cast<A>(row[cols.idx[t]]);
      acc += static_cast<A>(rows.wt[a]) * s;
    }
    out[o] = static_cast<T>(acc);
  }
}

void resample_cuda(const Tensor& x, const Taps& rows, const Taps& cols, const Tensor& out) {
  if (out.numel() == 0) return;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(x.dtype(), "resample", [&] {
    TapsUpload<scalar_t> up("resample");
    const int r = up.add(rows), c = up.add(cols);
    up.upload();
    resample_kernel<scalar_t><<<blocks_for(out.numel()), kThreads, 0, cuda::current_stream()>>>(
        x.data<scalar_t>(), up.device(r), up.device(c), out.data<scalar_t>(), x.sizes()[0], rows.in_size,
        cols.in_size, rows.out_size(), cols.out_size());
    check_launch("resample");
  });
}

void resample_adjoint_cuda(const Tensor& g, const Taps& rows, const Taps& cols, const Tensor& out) {
  if (out.numel() == 0) return;
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(g.dtype(), "resample_backward", [&] {
    TapsUpload<scalar_t> up("resample_backward");
    const int r = up.add_transposed(rows), c = up.add_transposed(cols);
    up.upload();
    // The adjoint is the same resampling through the transposed tap lists, from the
    // (oh, ow) gradient plane to the (H, W) input plane: each source pixel gathers
    // the outputs that read it, so there are no atomics and the order is fixed.
    resample_kernel<scalar_t><<<blocks_for(out.numel()), kThreads, 0, cuda::current_stream()>>>(
        g.data<scalar_t>(), up.device(r), up.device(c), out.data<scalar_t>(), g.sizes()[0], rows.out_size(),
        cols.out_size(), rows.in_size, cols.in_size);
    check_launch("resample_backward");
  });
}

}  // namespace

NORCH_REGISTER_KERNEL(max_pool2d_stub, CUDA, max_pool2d_cuda);
NORCH_REGISTER_KERNEL(plane_gather_stub, CUDA, plane_gather_cuda);
NORCH_REGISTER_KERNEL(plane_scatter_stub, CUDA, plane_scatter_cuda);
NORCH_REGISTER_KERNEL(resample_stub, CUDA, resample_cuda);
NORCH_REGISTER_KERNEL(resample_adjoint_stub, CUDA, resample_adjoint_cuda);

}  // namespace norch::cuda_kernels

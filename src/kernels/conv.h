// Kernel signatures for convolution, pooling and resampling (private to the core).
// Every kernel takes contiguous inputs and writes a contiguous, preallocated output.
#pragma once
#include <memory>
#include <vector>

#include "norch/dispatch.h"
#include "norch/tensor/tensor.h"

namespace norch {

// Geometry of a 2-d sliding window over [H, W] planes (shared by im2col/col2im).
struct Window2d {
  int64_t H, W;          // input plane
  int64_t kh, kw;        // kernel
  int64_t sh, sw;        // stride
  int64_t ph, pw;        // zero padding (each side)
  int64_t dh, dw;        // dilation
  int64_t oh, ow;        // output plane (number of window positions)
};

// cols [N, C*kh*kw, oh*ow] from x [N, C, H, W]; padded positions read as 0. With
// batch_inner the layout is [C*kh*kw, N*oh*ow] instead: the samples side by side,
// so one matrix product serves the whole batch.
using Im2colKernel = void (*)(const Tensor& x, const Window2d& w, bool batch_inner, const Tensor& cols);
// The adjoint: out [N, C, H, W] = sum of every column entry back at its source (out zeroed first).
using Col2imKernel = void (*)(const Tensor& cols, const Window2d& w, bool batch_inner, const Tensor& out);
extern DispatchStub<Im2colKernel> im2col_stub;
extern DispatchStub<Col2imKernel> col2im_stub;

// Blocked conv2d on the CPU (Note [Blocked convolution] in cpu/conv_kernel.cpp), float32
// and float64: x [N, C, H, W], weight [OC, C / groups, kh, kw], grad and out [N, OC, oh,
// ow], all contiguous. forward writes out (+ bias [OC] when defined); grad_input and
// grad_weight write the first-order gradients (no autograd inside).
using Conv2dForwardKernel = void (*)(const Tensor& x, const Tensor& weight, const Tensor& bias, const Window2d& w,
                                     int64_t groups, const Tensor& out);
using Conv2dGradInputKernel = void (*)(const Tensor& grad, const Tensor& weight, const Window2d& w, int64_t groups,
                                       const Tensor& grad_input);
using Conv2dGradWeightKernel = void (*)(const Tensor& grad, const Tensor& x, const Window2d& w, int64_t groups,
                                        const Tensor& grad_weight);
extern DispatchStub<Conv2dForwardKernel> conv2d_forward_stub;
extern DispatchStub<Conv2dGradInputKernel> conv2d_grad_input_stub;
extern DispatchStub<Conv2dGradWeightKernel> conv2d_grad_weight_stub;

// Max pooling over x [B, H, W] -> out, indices [B, oh, ow] (index = h * W + w in the plane;
// padding acts as -inf; NaN wins, as in PyTorch).
using MaxPool2dKernel = void (*)(const Tensor& x, const Window2d& w, const Tensor& out, const Tensor& indices);
extern DispatchStub<MaxPool2dKernel> max_pool2d_stub;

// Per-plane gather/scatter through int64 indices: x [B, P], idx [B, Q].
// gather: out [B, Q] = x[b, idx[b, q]];  scatter: out [B, P] (zeroed) += src [B, Q] at idx.
using PlaneGatherKernel = void (*)(const Tensor& x, const Tensor& idx, const Tensor& out);
using PlaneScatterKernel = void (*)(const Tensor& src, const Tensor& idx, const Tensor& out);
extern DispatchStub<PlaneGatherKernel> plane_gather_stub;
extern DispatchStub<PlaneScatterKernel> plane_scatter_stub;

// Note [Separable resampling]: average pooling, adaptive average pooling, nearest
// and bilinear interpolation and reflect/replicate padding are all linear maps of
// each [H, W] plane that factor into a map of rows and a map of columns:
//   out[i, j] = sum_a sum_b row.w[a] * col.w[b] * x[row.idx[a], col.idx[b]]
// over the taps a of output row i and b of output column j. One kernel and its
// adjoint serve them all, and each is the other's backward, so gradients of any
// order come for free.
struct Taps {
  std::vector<int64_t> offsets;  // taps of output position i: [offsets[i], offsets[i + 1])
  std::vector<int64_t> index;    // source position of each tap
  std::vector<double> weight;    // weight of each tap
  int64_t in_size = 0;           // length of the source dim
  int64_t out_size() const { return static_cast<int64_t>(offsets.size()) - 1; }
  void add(int64_t idx, double w) { index.push_back(idx); weight.push_back(w); }
  void next() { offsets.push_back(static_cast<int64_t>(index.size())); }
  Taps(int64_t in) : offsets{0}, in_size(in) {}
  // Sizes the lists for `out` positions of up to `per` taps at once, so that an
  // absurd output size fails in one allocation instead of growing memory
  // gradually until the machine runs out.
  Taps(int64_t in, int64_t out, int64_t per) : Taps(in) {
    offsets.reserve(static_cast<size_t>(out) + 1);
    index.reserve(static_cast<size_t>(out) * static_cast<size_t>(per));
    weight.reserve(static_cast<size_t>(out) * static_cast<size_t>(per));
  }
};
using TapsPtr = std::shared_ptr<const Taps>;

// x [B, H, W] -> out [B, rows.out_size(), cols.out_size()].
using ResampleKernel = void (*)(const Tensor& x, const Taps& rows, const Taps& cols, const Tensor& out);
// The adjoint: g [B, oh, ow] -> out [B, H, W] (zeroed first).
using ResampleAdjointKernel = void (*)(const Tensor& g, const Taps& rows, const Taps& cols, const Tensor& out);
extern DispatchStub<ResampleKernel> resample_stub;
extern DispatchStub<ResampleAdjointKernel> resample_adjoint_stub;

}  // namespace norch

// Pooling ops: max_pool{1,2}d (with indices), avg_pool{1,2}d, adaptive_avg_pool{1,2}d,
// and the separable resampling op behind average pooling and interpolation
// (Note [Separable resampling] in kernels/conv.h). Max pooling's backward is a
// scatter of the gradient through the argmax indices; its own backward is the
// matching gather, so gradients of any order exist.
#include <cmath>

#include "kernels/conv.h"
#include "nn/nn_utils.h"
#include "norch/autograd/function.h"
#include "norch/nn/functional.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/shape.h"

namespace norch {

DispatchStub<MaxPool2dKernel> max_pool2d_stub("max_pool2d");
DispatchStub<PlaneGatherKernel> plane_gather_stub("max_pool2d_double_backward");
DispatchStub<PlaneScatterKernel> plane_scatter_stub("max_pool2d_backward");
DispatchStub<ResampleKernel> resample_stub("resample");
DispatchStub<ResampleAdjointKernel> resample_adjoint_stub("resample_backward");

using autograd::BackwardContext;
using nn_detail::bracket;
using nn_detail::expand_param;

namespace {

int64_t numel_of(const Shape& s) {
  int64_t n = 1;
  for (auto v : s) n *= v;
  return n;
}

// ---- resampling: the map and its adjoint, each the other's backward ---------------

Tensor resample_adjoint(const Tensor& g, const TapsPtr& rows, const TapsPtr& cols, const char* name,
                        const char* adjoint_name);

Tensor resample_forward(const Tensor& x, const TapsPtr& rows, const TapsPtr& cols, const char* name,
                        const char* adjoint_name) {
  Shape lead(x.sizes().begin(), x.sizes().end() - 2);
  const int64_t B = numel_of(lead);
  Shape out_shape = lead;
  out_shape.push_back(rows->out_size());
  out_shape.push_back(cols->out_size());
  Tensor out = empty(out_shape, TensorOptions(x.dtype(), x.device()));
  if (out.numel() > 0) {
    Tensor xc = reshape(contiguous(x.detach()), {B, rows->in_size, cols->in_size});
    resample_stub(x.device())(xc, *rows, *cols, out);
  }
  if (autograd::needs_grad(x))
    autograd::record(name, {x}, {out}, {}, [=](BackwardContext&, const TensorList& g) -> TensorList {
      return {resample_adjoint(g[0], rows, cols, name, adjoint_name)};
    });
  return out;
}

Tensor resample_adjoint(const Tensor& g, const TapsPtr& rows, const TapsPtr& cols, const char* name,
                        const char* adjoint_name) {
  Shape lead(g.sizes().begin(), g.sizes().end() - 2);
  const int64_t B = numel_of(lead);
  Shape out_shape = lead;
  out_shape.push_back(rows->in_size);
  out_shape.push_back(cols->in_size);
  Tensor out = zeros(out_shape, TensorOptions(g.dtype(), g.device()));
  if (out.numel() > 0 && g.numel() > 0) {
    Tensor gc = reshape(contiguous(g.detach()), {B, rows->out_size(), cols->out_size()});
    resample_adjoint_stub(g.device())(gc, *rows, *cols, out);
  }
  if (autograd::needs_grad(g))
    autograd::record(adjoint_name, {g}, {out}, {}, [=](BackwardContext&, const TensorList& gg) -> TensorList {
      return {resample_forward(gg[0], rows, cols, name, adjoint_name)};
    });
  return out;
}

// ---- gather/scatter through pooling indices ---------------------------------------

Tensor scatter_planes(const Tensor& src, const Tensor& idx, const Shape& in_shape);

// x [..., in plane], idx [..., out plane] (same leading dims) -> [..., out plane].
Tensor gather_planes(const Tensor& x, const Tensor& idx, const Shape& in_shape) {
  const int64_t P = in_shape[in_shape.size() - 1] * in_shape[in_shape.size() - 2];
  const int64_t B = P ? numel_of(in_shape) / P : 0;
  Tensor out = empty(idx.sizes(), TensorOptions(x.dtype(), x.device()));
  if (out.numel() > 0)
    plane_gather_stub(x.device())(reshape(contiguous(x.detach()), {B, P}), view(idx, {B, idx.numel() / B}),
                                  view(out, {B, idx.numel() / B}));
  if (autograd::needs_grad(x))
    autograd::record("MaxPool2DWithIndicesBackwardBackward0", {x}, {out}, {},
                     [idx, in_shape](BackwardContext&, const TensorList& g) -> TensorList {
                       return {scatter_planes(g[0], idx, in_shape)};
                     });
  return out;
}

Tensor scatter_planes(const Tensor& src, const Tensor& idx, const Shape& in_shape) {
  const int64_t P = in_shape[in_shape.size() - 1] * in_shape[in_shape.size() - 2];
  const int64_t B = P ? numel_of(in_shape) / P : 0;
  Tensor out = empty(in_shape, TensorOptions(src.dtype(), src.device()));
  if (out.numel() > 0) {
    if (idx.numel() == 0) out = zeros(in_shape, TensorOptions(src.dtype(), src.device()));
    else
      plane_scatter_stub(src.device())(view(contiguous(src.detach()), {B, idx.numel() / B}),
                                       view(idx, {B, idx.numel() / B}), view(out, {B, P}));
  }
  if (autograd::needs_grad(src))
    autograd::record("MaxPool2DWithIndicesBackward0Backward0", {src}, {out}, {},
                     [idx, in_shape](BackwardContext&, const TensorList& g) -> TensorList {
                       return {gather_planes(g[0], idx, in_shape)};
                     });
  return out;
}

// ---- shared pooling checks ----------------------------------------------------------

// PyTorch's pooling_output_shape: floor or ceil division, and with ceil_mode the
// last window must start inside the input or its left padding.
int64_t pool_out(int64_t in, int64_t k, int64_t p, int64_t s, int64_t d, bool ceil_mode) {
  const char* op = "pooling";
  const int64_t room = nn_detail::padded_length(in, p, op) - nn_detail::window_span(k, d, op);
  const int64_t num = checked_add(room, ceil_mode ? s - 1 : 0, op);
  int64_t out = (num >= 0 ? num / s : -(checked_add(-num, s - 1, op) / s)) + 1;
  // |(out - 1) * s| <= |num| + s - 1, checked above: the product cannot overflow.
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

struct PoolGeometry {
  Shape k, s, p, d;
};

// Checks input rank and parameters; returns kernel/stride/padding/dilation as pairs.
PoolGeometry pool_geometry(const Tensor& input, const Shape& kernel_size, const Shape& stride, const Shape& padding,
                           const Shape& dilation, const char* op, bool avg) {
  NORCH_CHECK(input.dim() == 3 || input.dim() == 4, op, ": expected 3D or 4D (batch mode) tensor with optional 0 dim ",
              "batch size for input, but got: ", bracket(input.sizes()));
  for (int64_t i = input.dim() - 3; i < input.dim(); ++i)
    NORCH_CHECK(input.sizes()[i] > 0, op, ": expected 3D or 4D (batch mode) tensor with optional 0 dim batch size ",
                "for input, but got: ", bracket(input.sizes()));
  NORCH_CHECK(input.is_floating_point(), op, ": not implemented for dtype ", dtype_name(input.dtype()));
  NORCH_CHECK(!kernel_size.empty(), op, ": kernel_size must be given");
  PoolGeometry g{expand_param(kernel_size, 2, "kernel_size", op),
                 stride.empty() ? expand_param(kernel_size, 2, "kernel_size", op)
                                : expand_param(stride, 2, "stride", op),
                 expand_param(padding, 2, "padding", op), expand_param(dilation, 2, "dilation", op)};
  NORCH_CHECK(g.k[0] > 0 && g.k[1] > 0, op, ": kernel size should be greater than zero, but got kH: ", g.k[0],
              " kW: ", g.k[1]);
  NORCH_CHECK(g.s[0] > 0 && g.s[1] > 0, op, ": stride should be greater than zero, but got dH: ", g.s[0], " dW: ",
              g.s[1]);
  NORCH_CHECK(g.d[0] > 0 && g.d[1] > 0, op, ": dilation should be greater than zero, but got dilationH: ", g.d[0],
              " dilationW: ", g.d[1]);
  for (int i = 0; i < 2; ++i) {
    NORCH_CHECK(g.p[i] >= 0, op, ": pad must be non-negative, but got pad=", bracket(g.p));
    if (avg)
      NORCH_CHECK(g.p[i] <= g.k[i] / 2, op, ": pad should be at most half of kernel size, but got pad=", g.p[i],
                  " and kernel_size=", g.k[i]);
    else
      NORCH_CHECK(g.p[i] <= ((g.k[i] - 1) * g.d[i] + 1) / 2, op,
                  ": pad should be at most half of effective kernel size, but got pad=", g.p[i], ", kernel_size=",
                  g.k[i], " and dilation=", g.d[i]);
    // PyTorch also bounds padding by the undilated kernel; this keeps every
    // max-pooling window non-empty.
    NORCH_CHECK(g.p[i] <= g.k[i] / 2, op, ": pad should be smaller than or equal to half of kernel size, but got ",
                "padW = ", g.p[1], ", padH = ", g.p[0], ", kW = ", g.k[1], ", kH = ", g.k[0]);
  }
  return g;
}

void check_out_size(const Tensor& input, int64_t oh, int64_t ow, const char* op) {
  const int64_t C = input.sizes()[input.dim() - 3], H = input.sizes()[input.dim() - 2],
                W = input.sizes()[input.dim() - 1];
  NORCH_CHECK(oh >= 1 && ow >= 1, op, ": given input size: (", C, "x", H, "x", W, "). Calculated output size: (", C,
              "x", oh, "x", ow, "). Output size is too small");
}

// Taps of one dim of average pooling: each output averages its clamped window.
TapsPtr avg_taps(int64_t in, int64_t out, int64_t k, int64_t s, int64_t p, bool count_include_pad,
                 std::optional<double> fixed_weight) {
  auto t = std::make_shared<Taps>(in);
  for (int64_t o = 0; o < out; ++o) {
    int64_t start = o * s - p, end = std::min(start + k, in + p);
    const int64_t padded = end - start;
    start = std::max<int64_t>(start, 0);
    end = std::min(end, in);
    const int64_t count = count_include_pad ? padded : end - start;
    for (int64_t i = start; i < end; ++i) t->add(i, fixed_weight ? *fixed_weight : 1.0 / count);
    t->next();
  }
  return t;
}

TapsPtr adaptive_taps(int64_t in, int64_t out) {
  auto t = std::make_shared<Taps>(in);
  for (int64_t o = 0; o < out; ++o) {
    const int64_t start = (o * in) / out, end = ((o + 1) * in + out - 1) / out;
    for (int64_t i = start; i < end; ++i) t->add(i, 1.0 / (end - start));
    t->next();
  }
  return t;
}

Shape one_d(const Shape& v, const char* name, const char* op, int64_t fill) {
  if (v.empty()) return v;
  return nn_detail::one_d_param(expand_param(v, 1, name, op), fill);
}

Tensor unbatched_1d(const Tensor& input, const char* op) {
  NORCH_CHECK(input.dim() == 2 || input.dim() == 3, op, ": expected 2D or 3D (batch mode) tensor for input, but got: ",
              bracket(input.sizes()));
  return unsqueeze(input, -2);
}

}  // namespace

Tensor nn_detail::resample2d(const Tensor& x, const TapsPtr& rows, const TapsPtr& cols, const char* name,
                             const char* adjoint_name) {
  return resample_forward(x, rows, cols, name, adjoint_name);
}

// ---- max pooling ----------------------------------------------------------------

std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, Shape kernel_size, Shape stride,
                                                   Shape padding, Shape dilation, bool ceil_mode) {
  const char* op = "max_pool2d";
  PoolGeometry g = pool_geometry(input, kernel_size, stride, padding, dilation, op, false);
  const int64_t H = input.sizes()[input.dim() - 2], W = input.sizes()[input.dim() - 1];
  Window2d w{H, W, g.k[0], g.k[1], g.s[0], g.s[1], g.p[0], g.p[1], g.d[0], g.d[1], 0, 0};
  w.oh = pool_out(H, w.kh, w.ph, w.sh, w.dh, ceil_mode);
  w.ow = pool_out(W, w.kw, w.pw, w.sw, w.dw, ceil_mode);
  check_out_size(input, w.oh, w.ow, op);
  Shape out_shape(input.sizes().begin(), input.sizes().end() - 2);
  const int64_t B = numel_of(out_shape);
  out_shape.push_back(w.oh);
  out_shape.push_back(w.ow);
  Tensor out = empty(out_shape, TensorOptions(input.dtype(), input.device()));
  Tensor indices = empty(out_shape, TensorOptions(ScalarType::Int64, input.device()));
  if (out.numel() > 0)
    max_pool2d_stub(input.device())(reshape(contiguous(input.detach()), {B, H, W}), w, out, indices);
  if (autograd::needs_grad(input))
    autograd::record("MaxPool2DWithIndicesBackward0", {input}, {out}, {},
                     [indices, in_shape = input.sizes()](BackwardContext&, const TensorList& gr) -> TensorList {
                       return {scatter_planes(gr[0], indices, in_shape)};
                     });
  return {out, indices};
}

Tensor max_pool2d(const Tensor& input, Shape kernel_size, Shape stride, Shape padding, Shape dilation, bool ceil_mode) {
  return std::get<0>(max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode));
}

std::tuple<Tensor, Tensor> max_pool1d_with_indices(const Tensor& input, Shape kernel_size, Shape stride,
                                                   Shape padding, Shape dilation, bool ceil_mode) {
  const char* op = "max_pool1d";
  auto [out, idx] = max_pool2d_with_indices(unbatched_1d(input, op), one_d(kernel_size, "kernel_size", op, 1),
                                            one_d(stride, "stride", op, 1), one_d(padding, "padding", op, 0),
                                            one_d(dilation, "dilation", op, 1), ceil_mode);
  return {squeeze(out, {-2}), squeeze(idx, {-2})};
}

Tensor max_pool1d(const Tensor& input, Shape kernel_size, Shape stride, Shape padding, Shape dilation, bool ceil_mode) {
  return std::get<0>(max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode));
}

// ---- average pooling ------------------------------------------------------------

Tensor avg_pool2d(const Tensor& input, Shape kernel_size, Shape stride, Shape padding, bool ceil_mode,
                  bool count_include_pad, std::optional<int64_t> divisor_override) {
  const char* op = "avg_pool2d";
  PoolGeometry g = pool_geometry(input, kernel_size, stride, padding, {1}, op, true);
  NORCH_CHECK(!divisor_override || *divisor_override != 0, op, ": divisor must be not zero");
  const int64_t H = input.sizes()[input.dim() - 2], W = input.sizes()[input.dim() - 1];
  const int64_t oh = pool_out(H, g.k[0], g.p[0], g.s[0], 1, ceil_mode);
  const int64_t ow = pool_out(W, g.k[1], g.p[1], g.s[1], 1, ceil_mode);
  check_out_size(input, oh, ow, op);
  // A divisor override scales every window by one constant: put it on the rows.
  std::optional<double> row_w, col_w;
  if (divisor_override) {
    row_w = 1.0 / static_cast<double>(*divisor_override);
    col_w = 1.0;
  }
  TapsPtr rows = avg_taps(H, oh, g.k[0], g.s[0], g.p[0], count_include_pad, row_w);
  TapsPtr cols = avg_taps(W, ow, g.k[1], g.s[1], g.p[1], count_include_pad, col_w);
  return nn_detail::resample2d(input, rows, cols, "AvgPool2DBackward0", "AvgPool2DBackwardBackward0");
}

Tensor avg_pool1d(const Tensor& input, Shape kernel_size, Shape stride, Shape padding, bool ceil_mode,
                  bool count_include_pad) {
  const char* op = "avg_pool1d";
  return squeeze(avg_pool2d(unbatched_1d(input, op), one_d(kernel_size, "kernel_size", op, 1),
                            one_d(stride, "stride", op, 1), one_d(padding, "padding", op, 0), ceil_mode,
                            count_include_pad),
                 {-2});
}

Tensor adaptive_avg_pool2d(const Tensor& input, Shape output_size) {
  const char* op = "adaptive_avg_pool2d";
  NORCH_CHECK(input.dim() == 3 || input.dim() == 4, op, ": expected 3D or 4D tensor, but got input of size ",
              bracket(input.sizes()));
  NORCH_CHECK(input.is_floating_point(), op, ": not implemented for dtype ", dtype_name(input.dtype()));
  for (int64_t i = input.dim() - 3; i < input.dim(); ++i)
    NORCH_CHECK(input.sizes()[i] > 0, op, ": expected input to have non-zero size for non-batch dimensions, but ",
                "input has sizes ", bracket(input.sizes()), " with dimension ", i, " being empty");
  Shape os = expand_param(output_size, 2, "output_size", op);
  const int64_t H = input.sizes()[input.dim() - 2], W = input.sizes()[input.dim() - 1];
  if (os[0] == -1) os[0] = H;
  if (os[1] == -1) os[1] = W;
  NORCH_CHECK(os[0] >= 0 && os[1] >= 0, op, ": output_size must be non-negative, but got ", bracket(os));
  return nn_detail::resample2d(input, adaptive_taps(H, os[0]), adaptive_taps(W, os[1]), "AdaptiveAvgPool2DBackward0",
                               "AdaptiveAvgPool2DBackwardBackward0");
}

Tensor adaptive_avg_pool1d(const Tensor& input, Shape output_size) {
  const char* op = "adaptive_avg_pool1d";
  NORCH_CHECK(input.dim() == 2 || input.dim() == 3, op, ": expected 2D or 3D tensor, but got input of size ",
              bracket(input.sizes()));
  Shape os = expand_param(output_size, 1, "output_size", op);
  return squeeze(adaptive_avg_pool2d(unsqueeze(input, -2), {1, os[0]}), {-2});
}

}  // namespace norch

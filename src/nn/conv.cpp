// Convolution ops: unfold/fold (im2col/col2im), conv2d, conv1d, conv_transpose2d.
// Forward = im2col + matmul (float32/float64 on the CPU: blocked kernels that unfold
// and multiply a few samples at a time; otherwise the bmm op over the whole batch).
// Backward formulas are built from these same ops, so gradients of any order exist:
// d conv2d / d input is a conv_transpose2d, d conv2d / d weight is a matmul of grad
// with the unfolded input, and the reverse for conv_transpose2d.
#include <tuple>

#include "kernels/conv.h"
#include "nn/nn_utils.h"
#include "norch/ops/autocast.h"
#include "norch/autograd/function.h"
#include "norch/nn/functional.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/linalg.h"
#include "norch/ops/reduce.h"
#include "norch/ops/shape.h"

namespace norch {

DispatchStub<Im2colKernel> im2col_stub("im2col");
DispatchStub<Col2imKernel> col2im_stub("col2im");
DispatchStub<Conv2dForwardKernel> conv2d_forward_stub("conv2d");
DispatchStub<Conv2dGradInputKernel> conv2d_grad_input_stub("conv2d_backward");
DispatchStub<Conv2dGradWeightKernel> conv2d_grad_weight_stub("conv2d_backward");

using autograd::BackwardContext;
using nn_detail::bracket;
using nn_detail::expand_param;

namespace nn_detail {

Shape expand_param(const Shape& v, int64_t n, const char* name, const char* op) {
  if (static_cast<int64_t>(v.size()) == n) return v;
  NORCH_CHECK(v.size() == 1, op, ": expected ", name, " to be a single integer value or a list of ", n,
              " values to match the convolution dimensions, but got ", name, "=", bracket(v));
  return Shape(n, v[0]);
}

std::string bracket(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

}  // namespace nn_detail

namespace {

struct ConvParams {
  Shape stride, padding, dilation;
};

ConvParams conv_params(Shape stride, Shape padding, Shape dilation, const char* op) {
  ConvParams p{expand_param(stride, 2, "stride", op), expand_param(padding, 2, "padding", op),
               expand_param(dilation, 2, "dilation", op)};
  for (int i = 0; i < 2; ++i) {
    NORCH_CHECK(p.stride[i] > 0, op, ": non-positive stride is not supported (got stride=", bracket(p.stride), ")");
    NORCH_CHECK(p.padding[i] >= 0, op, ": negative padding is not supported (got padding=", bracket(p.padding), ")");
    NORCH_CHECK(p.dilation[i] > 0, op, ": dilation should be greater than zero (got dilation=", bracket(p.dilation),
                ")");
  }
  return p;
}

Window2d window(int64_t H, int64_t W, const Shape& k, const ConvParams& p) {
  Window2d w{H, W, k[0], k[1], p.stride[0], p.stride[1], p.padding[0], p.padding[1], p.dilation[0], p.dilation[1], 0, 0};
  using nn_detail::padded_length;
  using nn_detail::window_span;
  w.oh = (padded_length(H, w.ph, "conv") - window_span(w.kh, w.dh, "conv")) / w.sh + 1;
  w.ow = (padded_length(W, w.pw, "conv") - window_span(w.kw, w.dw, "conv")) / w.sw + 1;
  return w;
}

// x [N, C, H, W] -> [N, C * kh * kw, oh * ow], or [C * kh * kw, N * oh * ow] with
// batch_inner; no autograd.
Tensor im2col_raw(const Tensor& x, const Window2d& w, bool batch_inner = false) {
  const int64_t N = x.sizes()[0], CK = x.sizes()[1] * w.kh * w.kw, L = w.oh * w.ow;
  Tensor cols = empty(batch_inner ? Shape{CK, N * L} : Shape{N, CK, L}, TensorOptions(x.dtype(), x.device()));
  if (cols.numel() > 0) im2col_stub(x.device())(contiguous(x), w, batch_inner, cols);
  return cols;
}

// The adjoint of im2col_raw: cols -> [N, C, H, W]; no autograd.
Tensor col2im_raw(const Tensor& cols, const Window2d& w, int64_t N, int64_t C, bool batch_inner = false) {
  Tensor out = empty({N, C, w.H, w.W}, TensorOptions(cols.dtype(), cols.device()));
  if (out.numel() == 0) return out;
  if (cols.numel() == 0) return zeros(out.sizes(), TensorOptions(cols.dtype(), cols.device()));
  col2im_stub(cols.device())(contiguous(cols), w, batch_inner, out);
  return out;
}

void check_float(const Tensor& t, const char* op, const char* what) {
  NORCH_CHECK(t.is_floating_point(), op, ": expected ", what, " to be a floating point tensor, but got dtype ",
              dtype_name(t.dtype()));
}

void check_conv_operands(const Tensor& input, const Tensor& weight, const Tensor& bias, int64_t out_channels,
                         const char* op) {
  check_float(input, op, "input");
  NORCH_CHECK(input.dtype() == weight.dtype(), op, ": input type (", dtype_name(input.dtype()),
              ") and weight type (", dtype_name(weight.dtype()), ") should be the same");
  NORCH_CHECK(input.device() == weight.device(), op, ": input and weight must be on the same device, but got ",
              input.device().str(), " and ", weight.device().str());
  if (!bias.defined()) return;
  NORCH_CHECK(bias.dim() == 1 && bias.sizes()[0] == out_channels, op, ": given weight of size ",
              bracket(weight.sizes()), ", expected bias to be 1-dimensional with ", out_channels,
              " elements, but got bias of size ", bracket(bias.sizes()), " instead");
  NORCH_CHECK(bias.dtype() == input.dtype() && bias.device() == input.device(), op, ": bias (",
              dtype_name(bias.dtype()), ", ", bias.device().str(), ") must match input (", dtype_name(input.dtype()),
              ", ", input.device().str(), ")");
}

// Adds bias [C] over dim 1 of a fresh output, in place, outside autograd.
void add_bias_(Tensor& out, const Tensor& bias) {
  if (!bias.defined()) return;
  autograd::NoGradGuard no_grad;
  add_(out, view(bias.detach(), {1, bias.sizes()[0], 1, 1}));
}

// Accepts [C, H, W] as a batch of one, as PyTorch does.
Tensor batched(const Tensor& input, const char* op, int64_t dims) {
  NORCH_CHECK(input.dim() == dims || input.dim() == dims + 1, "Expected ", dims, "D (unbatched) or ", dims + 1,
              "D (batched) input to ", op, ", but got input of size: ", bracket(input.sizes()));
  return input.dim() == dims ? unsqueeze(input, 0) : input;
}

}  // namespace

// ---- unfold / fold ----------------------------------------------------------------

Tensor unfold(const Tensor& input, Shape kernel_size, Shape dilation, Shape padding, Shape stride) {
  NORCH_CHECK(input.dim() == 3 || input.dim() == 4, "unfold: expected 3D or 4D input, but got input of size ",
              bracket(input.sizes()));
  check_float(input, "unfold", "input");
  Tensor x = input.dim() == 3 ? unsqueeze(input, 0) : input;
  Shape k = expand_param(kernel_size, 2, "kernel_size", "unfold");
  NORCH_CHECK(k[0] > 0 && k[1] > 0, "unfold: kernel size should be greater than zero, but got kernel_size=",
              bracket(k));
  ConvParams p = conv_params(stride, padding, dilation, "unfold");
  const int64_t H = x.sizes()[2], W = x.sizes()[3];
  Window2d w = window(H, W, k, p);
  NORCH_CHECK(w.oh > 0 && w.ow > 0, "unfold: given input with spatial size (", H, ", ", W, "), kernel_size=",
              bracket(k), ", dilation=", bracket(p.dilation), ", padding=", bracket(p.padding),
              ", calculated shape of the array of sliding blocks as (", w.oh, ", ", w.ow,
              "), but its components must be at least one.");
  Tensor out = im2col_raw(x.detach(), w);
  if (input.dim() == 3) out = squeeze(out, {0});
  if (autograd::needs_grad(input))
    autograd::record("Im2ColBackward0", {input}, {out}, {},
                     [=](BackwardContext&, const TensorList& g) -> TensorList {
                       return {fold(g[0], {H, W}, k, p.dilation, p.padding, p.stride)};
                     });
  return out;
}

Tensor fold(const Tensor& input, Shape output_size, Shape kernel_size, Shape dilation, Shape padding, Shape stride) {
  NORCH_CHECK(input.dim() == 2 || input.dim() == 3, "fold: expected 2D or 3D input, but got input of size ",
              bracket(input.sizes()));
  check_float(input, "fold", "input");
  Tensor x = input.dim() == 2 ? unsqueeze(input, 0) : input;
  Shape k = expand_param(kernel_size, 2, "kernel_size", "fold");
  Shape os = expand_param(output_size, 2, "output_size", "fold");
  NORCH_CHECK(os[0] > 0 && os[1] > 0, "fold: expected output_size to be positive, but got output_size=", bracket(os));
  NORCH_CHECK(k[0] > 0 && k[1] > 0, "fold: kernel size should be greater than zero, but got kernel_size=", bracket(k));
  ConvParams p = conv_params(stride, padding, dilation, "fold");
  Window2d w = window(os[0], os[1], k, p);
  const int64_t kk = k[0] * k[1];
  NORCH_CHECK(x.sizes()[1] % kk == 0, "fold: expected size of input's dimension 1 to be divisible by the product of ",
              "kernel_size, but got input.size(1)=", x.sizes()[1], " and kernel_size=", bracket(k));
  NORCH_CHECK(w.oh > 0 && w.ow > 0 && x.sizes()[2] == w.oh * w.ow, "fold: given output_size=", bracket(os),
              ", kernel_size=", bracket(k), ", dilation=", bracket(p.dilation), ", padding=", bracket(p.padding),
              ", stride=", bracket(p.stride), ", expected size of input's dimension 2 to match the calculated number ",
              "of sliding blocks ", w.oh, " * ", w.ow, " = ", w.oh * w.ow, ", but got input.size(2)=", x.sizes()[2]);
  Tensor out = col2im_raw(x.detach(), w, x.sizes()[0], x.sizes()[1] / kk);
  if (input.dim() == 2) out = squeeze(out, {0});
  if (autograd::needs_grad(input))
    autograd::record("Col2ImBackward0", {input}, {out}, {},
                     [=](BackwardContext&, const TensorList& g) -> TensorList {
                       return {unfold(g[0], k, p.dilation, p.padding, p.stride)};
                     });
  return out;
}

// ---- conv2d -----------------------------------------------------------------------

namespace {
// The checks conv2d and conv_transpose2d start with: input batched to [N, C, H, W],
// a 4-d weight (`layout` names its dims), positive groups, expanded parameters.
std::pair<Tensor, ConvParams> conv2d_prologue(const Tensor& input, const Tensor& weight, const Shape& stride,
                                              const Shape& padding, const Shape& dilation, int64_t groups,
                                              const char* op, const char* layout) {
  Tensor x = batched(input, op, 3);
  NORCH_CHECK(weight.dim() == 4, op, ": expected weight to be 4-dimensional ", layout, ", but got weight of size ",
              bracket(weight.sizes()));
  NORCH_CHECK(groups > 0, op, ": non-positive groups is not supported (got groups=", groups, ")");
  return {x, conv_params(stride, padding, dilation, op)};
}
}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, Shape stride, Shape padding,
              Shape dilation, int64_t groups) {
  NORCH_AUTOCAST(conv2d(autocast::lower(input), autocast::lower(weight), autocast::lower(bias), stride, padding, dilation, groups));
  const char* op = "conv2d";
  Tensor x;
  ConvParams p;
  std::tie(x, p) = conv2d_prologue(input, weight, stride, padding, dilation, groups, op,
                                   "[out_channels, in_channels / groups, kH, kW]");
  const int64_t N = x.sizes()[0], C = x.sizes()[1], H = x.sizes()[2], W = x.sizes()[3];
  const int64_t OC = weight.sizes()[0], Cg = weight.sizes()[1];
  NORCH_CHECK(OC % groups == 0, "Given groups=", groups, ", expected weight to be divisible by ", groups,
              " at dimension 0, but got weight of size ", bracket(weight.sizes()), " instead");
  NORCH_CHECK(C == Cg * groups, "Given groups=", groups, ", weight of size ", bracket(weight.sizes()),
              ", expected input", bracket(x.sizes()), " to have ", Cg * groups, " channels, but got ", C,
              " channels instead");
  check_conv_operands(x, weight, bias, OC, op);
  const Shape k{weight.sizes()[2], weight.sizes()[3]};
  const int64_t eh = nn_detail::window_span(k[0], p.dilation[0], op);
  const int64_t ew = nn_detail::window_span(k[1], p.dilation[1], op);
  const int64_t ph = nn_detail::padded_length(H, p.padding[0], op), pw = nn_detail::padded_length(W, p.padding[1], op);
  NORCH_CHECK(ph >= eh && pw >= ew, "Calculated padded input size per channel: (", ph, " x ", pw,
              "). Kernel size: (", eh, " x ", ew, "). Kernel size can't be greater than actual input size");
  Window2d w = window(H, W, k, p);
  const int64_t G = groups, OCg = OC / G, Ckk = Cg * k[0] * k[1], L = w.oh * w.ow;

  // float32/float64 on a device with the blocked kernels (Note [Blocked convolution] in
  // cpu/conv_kernel.cpp): no batch-wide columns; first-order backward runs them too.
  // Otherwise, Note [Batched im2col]: the columns of all samples sit side by side,
  // cols [G, Cg*kk, N*L], so one product per group covers the whole batch:
  // out^T [G, OCg, N*L] = W [G, OCg, Cg*kk] @ cols. The same cols serve the
  // weight gradient, so they are kept for backward instead of recomputed.
  const bool blocked = (x.dtype() == ScalarType::Float32 || x.dtype() == ScalarType::Float64) &&
                       conv2d_forward_stub.has(x.device()) && N * L > 0 && OC > 0;
  Tensor out, cols;
  if (blocked) {
    autograd::NoGradGuard no_grad;
    out = empty({N, OC, w.oh, w.ow}, TensorOptions(x.dtype(), x.device()));
    conv2d_forward_stub(x.device())(contiguous(x.detach()), contiguous(weight.detach()),
                                    bias.defined() ? contiguous(bias.detach()) : Tensor(), w, G, out);
  } else {
    autograd::NoGradGuard no_grad;
    cols = view(im2col_raw(x.detach(), w, /*batch_inner=*/true), {G, Ckk, N * L});
    Tensor outT = view(bmm(view(contiguous(weight.detach()), {G, OCg, Ckk}), cols), {OC, N, L});
    Tensor perm = permute(outT, {1, 0, 2});                                       // [N, OC, L]
    out = bias.defined() ? add(perm, view(bias.detach(), {1, OC, 1})) : contiguous(perm);
    out = view(out, {N, OC, w.oh, w.ow});
  }
  const bool unbatched = input.dim() == 3;
  if (unbatched) out = squeeze(out, {0});
  if (autograd::needs_grad({input, weight, bias})) {
    // Saved like the inputs, so backward frees the columns unless retain_graph.
    if (!weight.requires_grad()) cols = Tensor();
    autograd::record(
        "ConvolutionBackward0", {input, weight, bias}, {out}, {input, weight, cols},
        [unbatched, blocked, p, k, w, G, N, C, H, W, L, OC, OCg, Ckk, eh, ew, wshape = weight.sizes()](
            BackwardContext& ctx, const TensorList& grads) -> TensorList {
          Tensor xs = ctx.saved(0), ws = ctx.saved(1);
          Tensor g = unbatched ? unsqueeze(grads[0], 0) : grads[0];    // [N, OC, oh, ow]
          if (unbatched) xs = unsqueeze(xs, 0);
          Tensor gi, gw, gb;
          if (ctx.needs_input_grad(2)) gb = sum(g, {0, 2, 3});
          if (blocked && !autograd::GradMode::is_enabled()) {
            const Tensor gc = contiguous(g);
            if (ctx.needs_input_grad(0)) {
              gi = empty({N, C, H, W}, TensorOptions(gc.dtype(), gc.device()));
              conv2d_grad_input_stub(gc.device())(gc, contiguous(ws), w, G, gi);
              if (unbatched) gi = squeeze(gi, {0});
            }
            if (ctx.needs_input_grad(1)) {
              gw = empty(wshape, TensorOptions(gc.dtype(), gc.device()));
              conv2d_grad_weight_stub(gc.device())(gc, contiguous(xs), w, G, gw);
            }
            return {gi, gw, gb};
          }
          if (!autograd::GradMode::is_enabled() && !blocked) {
            // First-order backward (no create_graph): reuse the batched layout of the
            // forward. The branch below is the differentiable version of the same maths.
            Tensor gT = view(contiguous(permute(reshape(g, {N, OC, L}), {1, 0, 2})), {G, OCg, N * L});
            if (ctx.needs_input_grad(0)) {
              // reshape: the saved weight may be a strided view (a sliced parameter).
              Tensor gcols = bmm(transpose(reshape(ws, {G, OCg, Ckk}), 1, 2), gT);  // [G, Ckk, N*L]
              gi = col2im_raw(view(gcols, {G * Ckk, N * L}), w, N, C, /*batch_inner=*/true);
              if (unbatched) gi = squeeze(gi, {0});
            }
            if (ctx.needs_input_grad(1)) gw = view(bmm(gT, transpose(ctx.saved(2), 1, 2)), wshape);
            return {gi, gw, gb};
          }
          if (ctx.needs_input_grad(0)) {
            Shape op{H + 2 * p.padding[0] - eh - (w.oh - 1) * p.stride[0],
                     W + 2 * p.padding[1] - ew - (w.ow - 1) * p.stride[1]};
            gi = conv_transpose2d(g, ws, Tensor(), p.stride, p.padding, op, G, p.dilation);
            if (unbatched) gi = squeeze(gi, {0});
          }
          if (ctx.needs_input_grad(1)) {
            // dW[g] = grad[g] [OCg, N*L] @ unfold(x)[g]^T [N*L, Ckk]
            Tensor ucols = view(unfold(xs, k, p.dilation, p.padding, p.stride), {N, G, Ckk, L});
            Tensor colsT = reshape(permute(ucols, {1, 0, 3, 2}), {G, N * L, Ckk});
            Tensor gg = reshape(permute(reshape(g, {N, G, OCg, L}), {1, 2, 0, 3}), {G, OCg, N * L});
            gw = view(bmm(gg, colsT), wshape);
          }
          return {gi, gw, gb};
        });
  }
  return out;
}

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, Shape stride, const std::string& padding,
              Shape dilation, int64_t groups) {
  NORCH_AUTOCAST(conv2d(autocast::lower(input), autocast::lower(weight), autocast::lower(bias), stride, padding, dilation, groups));
  NORCH_CHECK(padding == "same" || padding == "valid", "Invalid padding string: '", padding, "'");
  if (padding == "valid") return conv2d(input, weight, bias, stride, Shape{0}, dilation, groups);
  Shape s = expand_param(stride, 2, "stride", "conv2d"), d = expand_param(dilation, 2, "dilation", "conv2d");
  NORCH_CHECK(s[0] == 1 && s[1] == 1, "padding='same' is not supported for strided convolutions");
  NORCH_CHECK(weight.dim() == 4, "conv2d: expected weight to be 4-dimensional, but got weight of size ",
              bracket(weight.sizes()));
  // Total padding d * (k - 1) per dim; when odd, the extra element goes on the
  // right/bottom (PyTorch's choice), which needs an explicit pad.
  Shape sym(2), extra(2);
  for (int i = 0; i < 2; ++i) {
    const int64_t total = d[i] * (weight.sizes()[2 + i] - 1);
    sym[i] = total / 2;
    extra[i] = total - 2 * sym[i];
  }
  Tensor x = input;
  if (extra[0] || extra[1]) x = pad(input, {0, extra[1], 0, extra[0]});
  return conv2d(x, weight, bias, s, sym, d, groups);
}

// ---- conv1d: a conv2d over [N, C, 1, L] --------------------------------------------

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, Shape stride, Shape padding,
              Shape dilation, int64_t groups) {
  NORCH_AUTOCAST(conv1d(autocast::lower(input), autocast::lower(weight), autocast::lower(bias), stride, padding, dilation, groups));
  batched(input, "conv1d", 2);
  NORCH_CHECK(weight.dim() == 3, "conv1d: expected weight to be 3-dimensional [out_channels, in_channels / groups, ",
              "kW], but got weight of size ", bracket(weight.sizes()));
  auto one = [](const Shape& v, const char* name, int64_t fill) {
    return nn_detail::one_d_param(expand_param(v, 1, name, "conv1d"), fill);
  };
  Tensor out = conv2d(unsqueeze(input, -2), unsqueeze(weight, 2), bias, one(stride, "stride", 1),
                      one(padding, "padding", 0), one(dilation, "dilation", 1), groups);
  return squeeze(out, {-2});
}

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, Shape stride, const std::string& padding,
              Shape dilation, int64_t groups) {
  NORCH_AUTOCAST(conv1d(autocast::lower(input), autocast::lower(weight), autocast::lower(bias), stride, padding, dilation, groups));
  batched(input, "conv1d", 2);
  NORCH_CHECK(weight.dim() == 3, "conv1d: expected weight to be 3-dimensional, but got weight of size ",
              bracket(weight.sizes()));
  Shape s = nn_detail::one_d_param(expand_param(stride, 1, "stride", "conv1d"), 1);
  Shape d = nn_detail::one_d_param(expand_param(dilation, 1, "dilation", "conv1d"), 1);
  return squeeze(conv2d(unsqueeze(input, -2), unsqueeze(weight, 2), bias, s, padding, d, groups), {-2});
}

// ---- conv_transpose2d -------------------------------------------------------------

Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias, Shape stride, Shape padding,
                        Shape output_padding, int64_t groups, Shape dilation) {
  NORCH_AUTOCAST(conv_transpose2d(autocast::lower(input), autocast::lower(weight), autocast::lower(bias), stride, padding,
                                  output_padding, groups, dilation));
  const char* op = "conv_transpose2d";
  Tensor x;
  ConvParams p;
  std::tie(x, p) = conv2d_prologue(input, weight, stride, padding, dilation, groups, op,
                                   "[in_channels, out_channels / groups, kH, kW]");
  Shape opad = expand_param(output_padding, 2, "output_padding", op);
  for (int i = 0; i < 2; ++i)
    NORCH_CHECK(opad[i] >= 0 && (opad[i] < p.stride[i] || opad[i] < p.dilation[i]), op,
                ": output padding must be smaller than either stride or dilation, but got output_padding=",
                bracket(opad), ", stride=", bracket(p.stride), ", dilation=", bracket(p.dilation));
  const int64_t N = x.sizes()[0], C = x.sizes()[1], H = x.sizes()[2], W = x.sizes()[3];
  const int64_t G = groups, OCg = weight.sizes()[1], OC = OCg * G;
  NORCH_CHECK(weight.sizes()[0] % G == 0, "Given groups=", G, ", expected weight to be divisible by ", G,
              " at dimension 0, but got weight of size ", bracket(weight.sizes()), " instead");
  NORCH_CHECK(C == weight.sizes()[0], "Given transposed=1, weight of size ", bracket(weight.sizes()),
              ", expected input", bracket(x.sizes()), " to have ", weight.sizes()[0], " channels, but got ", C,
              " channels instead");
  check_conv_operands(x, weight, bias, OC, op);
  const Shape k{weight.sizes()[2], weight.sizes()[3]};
  // (in - 1) * stride - 2 * pad + span + output_padding, each step checked.
  auto out_len = [&](int64_t in, int i) {
    const int64_t grown = checked_add(checked_mul(in - 1, p.stride[i], op),
                                      checked_add(nn_detail::window_span(k[i], p.dilation[i], op), opad[i], op), op);
    return checked_add(grown, checked_mul(-2, p.padding[i], op), op);
  };
  const int64_t Ho = out_len(H, 0), Wo = out_len(W, 1);
  NORCH_CHECK(Ho > 0 && Wo > 0, op, ": given input of size ", bracket(x.sizes()), ", the calculated output size (",
              Ho, " x ", Wo, ") is too small");
  // The forward conv geometry that maps the output [Ho, Wo] back onto the input [H, W].
  Window2d w{Ho, Wo, k[0], k[1], p.stride[0], p.stride[1], p.padding[0], p.padding[1], p.dilation[0], p.dilation[1],
             H, W};
  const int64_t Cg = C / G, OCkk = OCg * k[0] * k[1], L = H * W;

  Tensor out;
  {
    autograd::NoGradGuard no_grad;
    Tensor wt = transpose(view(contiguous(weight.detach()), {1, G, Cg, OCkk}), 2, 3);     // [1, G, OCkk, Cg]
    Tensor wg = reshape(expand(wt, {N, G, OCkk, Cg}), {N * G, OCkk, Cg});
    Tensor cols = bmm(wg, view(contiguous(x.detach()), {N * G, Cg, L}));                 // [N, OC * kk, L]
    out = col2im_raw(view(cols, {N, OC * k[0] * k[1], L}), w, N, OC);
    add_bias_(out, bias);
  }
  const bool unbatched = input.dim() == 3;
  if (unbatched) out = squeeze(out, {0});
  if (autograd::needs_grad({input, weight, bias}))
    autograd::record(
        "ConvolutionBackward0", {input, weight, bias}, {out}, {input, weight},
        [unbatched, p, k, G, N, H, W, L, Cg, OCkk, Ho, Wo, wshape = weight.sizes()](
            BackwardContext& ctx, const TensorList& grads) -> TensorList {
          Tensor xs = ctx.saved(0), ws = ctx.saved(1);
          Tensor g = unbatched ? unsqueeze(grads[0], 0) : grads[0];    // [N, OC, Ho, Wo]
          if (unbatched) xs = unsqueeze(xs, 0);
          Tensor gi, gw, gb;
          if (ctx.needs_input_grad(0)) {
            gi = conv2d(g, ws, Tensor(), p.stride, p.padding, p.dilation, G);
            // output_padding >= stride (allowed when below dilation) adds positions no input feeds.
            if (gi.sizes()[2] != H || gi.sizes()[3] != W) gi = narrow(narrow(gi, 2, 0, H), 3, 0, W);
            if (unbatched) gi = squeeze(gi, {0});
          }
          if (ctx.needs_input_grad(1)) {
            // dW[g] = x[g] [Cg, N*L] @ unfold(grad)[g]^T [N*L, OCkk]
            Tensor u = unfold(g, k, p.dilation, p.padding, p.stride);
            const int64_t uh = (Ho + 2 * p.padding[0] - p.dilation[0] * (k[0] - 1) - 1) / p.stride[0] + 1;
            const int64_t uw = (Wo + 2 * p.padding[1] - p.dilation[1] * (k[1] - 1) - 1) / p.stride[1] + 1;
            if (uh != H || uw != W)   // see output_padding note above
              u = reshape(narrow(narrow(view(u, {N, G * OCkk, uh, uw}), 2, 0, H), 3, 0, W), {N, G * OCkk, L});
            Tensor cols = view(u, {N, G, OCkk, L});
            Tensor colsT = reshape(permute(cols, {1, 0, 3, 2}), {G, N * L, OCkk});
            Tensor xg = reshape(permute(reshape(xs, {N, G, Cg, L}), {1, 2, 0, 3}), {G, Cg, N * L});
            gw = view(bmm(xg, colsT), wshape);
          }
          if (ctx.needs_input_grad(2)) gb = sum(g, {0, 2, 3});
          return {gi, gw, gb};
        });
  return out;
}

}  // namespace norch

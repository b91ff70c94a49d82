// batch_norm, layer_norm, group_norm: fused forward kernels; the backward runs a
// fused kernel, or, while a graph is being built (create_graph), the same
// formula in differentiable norch ops so that double backward works.
#include <cmath>

#include "kernels/nn_fused.h"
#include "norch/ops/autocast.h"
#include "norch/autograd/function.h"
#include "norch/nn/norm.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/reduce.h"
#include "norch/ops/shape.h"
#include "norch/ops/unary.h"

namespace norch {

DispatchStub<RowNormKernel> row_norm_stub("row_norm");
DispatchStub<RowNormBackwardKernel> row_norm_backward_stub("row_norm_backward");
DispatchStub<ChannelStatsKernel> channel_stats_stub("channel_stats");
DispatchStub<ChannelAffineKernel> channel_affine_stub("channel_affine");
DispatchStub<BatchNormBackwardKernel> batch_norm_backward_stub("batch_norm_backward");

namespace nn {
namespace {

using autograd::BackwardContext;

int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}
Tensor flat(const Tensor& t, ScalarType dt) {
  return t.defined() ? contiguous(reshape(to_dtype(t.detach(), dt), {t.numel()})) : Tensor();
}
// [C] -> [C, 1, ..., 1] broadcasting along dim 1 of an input of `ndim` dims.
Tensor channel_view(const Tensor& t, int64_t ndim) {
  Shape sh(ndim - 1, 1);
  sh[0] = t.numel();
  return reshape(t, sh);
}
Shape range_dims(int64_t from, int64_t to) {
  Shape d;
  for (int64_t i = from; i < to; ++i) d.push_back(i);
  return d;
}
bool building_graph(const TensorList& ts) { return autograd::GradMode::is_enabled() && autograd::needs_grad(ts); }

// The normalization gradient in norch ops: xg holds the elements of one group
// along `dims` (statistics are taken over them); gw is grad * weight.
Tensor normalized_grad(const Tensor& xg, const Tensor& gwg, const Shape& dims, double eps) {
  Tensor mu = mean(xg, dims, true);
  Tensor xc = sub(xg, mu);
  Tensor rs = rsqrt(add(mean(mul(xc, xc), dims, true), scalar(eps)));
  Tensor xhat = mul(xc, rs);
  return mul(rs, sub(sub(gwg, mean(gwg, dims, true)), mul(xhat, mean(mul(gwg, xhat), dims, true))));
}
Tensor normalized(const Tensor& xg, const Shape& dims, double eps) {
  Tensor xc = sub(xg, mean(xg, dims, true));
  return mul(xc, rsqrt(add(mean(mul(xc, xc), dims, true), scalar(eps))));
}

// Shared by layer and group norm: x viewed as [R, K] with groups of G rows, S spatial.
Tensor row_norm(const char* node_name, const Tensor& input, const Tensor& weight, const Tensor& bias, int64_t R,
                int64_t K, int64_t G, int64_t S, double eps, std::function<Tensor(const Tensor&)> group_view,
                std::function<Tensor(const Tensor&)> param_view, Shape param_sum_dims) {
  const ScalarType dt = input.dtype();
  Tensor x2 = contiguous(reshape(input.detach(), {R, K}));
  Tensor w = flat(weight, dt), b = flat(bias, dt);
  Tensor y = empty(input.sizes(), TensorOptions(dt, input.device()));
  Tensor mean_ = empty({R}, TensorOptions(dt, input.device())), rstd = empty({R}, TensorOptions(dt, input.device()));
  if (input.numel() > 0) row_norm_stub(input.device())(x2, w, b, G, S, eps, y, mean_, rstd);
  if (autograd::needs_grad({input, weight, bias})) {
    autograd::record(node_name, {input, weight, bias}, {y}, {input, weight},
                     [=](BackwardContext& ctx, const TensorList& g) -> TensorList {
                       Tensor x = ctx.saved(0), wt = ctx.saved(1);
                       const bool nx = ctx.needs_input_grad(0), nw = ctx.needs_input_grad(1),
                                  nb = ctx.needs_input_grad(2);
                       if (building_graph({g[0], x, wt})) {
                         Tensor gw = wt.defined() ? mul(g[0], param_view(wt)) : g[0];
                         Tensor gx = nx ? reshape(normalized_grad(group_view(x), group_view(gw),
                                                                  {group_view(x).dim() - 1}, eps), x.sizes())
                                        : Tensor();
                         Tensor xhat = reshape(normalized(group_view(x), {group_view(x).dim() - 1}, eps), x.sizes());
                         // sum over no dims would mean "all dims": skip it when there is no batch dim.
                         auto batch_sum = [&](const Tensor& t) {
                           return param_sum_dims.empty() ? t : sum(t, param_sum_dims);
                         };
                         Tensor gW = nw ? reshape(batch_sum(mul(g[0], xhat)), wt.sizes()) : Tensor();
                         Tensor gB = nb ? reshape(batch_sum(g[0]), ctx.input(2).shape) : Tensor();
                         return {gx, gW, gB};
                       }
                       Tensor gx = nx ? empty(x.sizes(), TensorOptions(x.dtype(), x.device())) : Tensor();
                       Tensor gW = nw ? empty({wt.numel()}, TensorOptions(x.dtype(), x.device())) : Tensor();
                       Tensor gB = nb ? empty({numel_of(ctx.input(2).shape)},
                                              TensorOptions(x.dtype(), x.device()))
                                      : Tensor();
                       if (x.numel() > 0)
                         row_norm_backward_stub(x.device())(contiguous(reshape(to_dtype(g[0], x.dtype()), {R, K})),
                                                            contiguous(reshape(x, {R, K})), mean_, rstd,
                                                            wt.defined() ? flat(wt, x.dtype()) : Tensor(), G, S,
                                                            gx.defined() ? reshape(gx, {R, K}) : gx, gW, gB);
                       else {
                         if (gW.defined()) zero_(gW);
                         if (gB.defined()) zero_(gB);
                       }
                       return {gx, gW.defined() ? reshape(gW, wt.sizes()) : gW,
                               gB.defined() ? reshape(gB, ctx.input(2).shape) : gB};
                     });
  }
  return y;
}

}  // namespace

Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  NORCH_AUTOCAST(layer_norm(autocast::fp32_on_cuda(input), normalized_shape, autocast::fp32_on_cuda(weight), autocast::fp32_on_cuda(bias), eps));
  NORCH_CHECK(input.is_floating_point(), "layer_norm: expected a floating point input, got ",
              dtype_name(input.dtype()));
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  bool ok = k >= 1 && input.dim() >= k;
  for (int64_t i = 0; ok && i < k; ++i) ok = input.size(input.dim() - k + i) == normalized_shape[i];
  NORCH_CHECK(ok, "Given normalized_shape=", normalized_shape, ", expected input with shape [*, ",
              shape_str(normalized_shape), "], but got input of size", input.sizes());
  if (weight.defined())
    NORCH_CHECK(weight.sizes() == normalized_shape, "layer_norm: expected weight of shape ", normalized_shape,
                ", got ", weight.sizes());
  if (bias.defined())
    NORCH_CHECK(bias.sizes() == normalized_shape, "layer_norm: expected bias of shape ", normalized_shape, ", got ",
                bias.sizes());
  int64_t K = 1;
  for (auto d : normalized_shape) K *= d;
  const int64_t R = K == 0 ? 0 : input.numel() / K;
  const int64_t lead = input.dim() - k;
  auto group_view = [R, K](const Tensor& t) { return reshape(t, {R, K}); };
  auto param_view = [](const Tensor& t) { return t; };
  return row_norm("NativeLayerNormBackward0", input, weight, bias, R, K, 1, 1, eps, group_view, param_view,
                  range_dims(0, lead));
}

Tensor group_norm(const Tensor& input, int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps) {
  NORCH_AUTOCAST(group_norm(autocast::fp32_on_cuda(input), num_groups, autocast::fp32_on_cuda(weight), autocast::fp32_on_cuda(bias), eps));
  NORCH_CHECK(input.is_floating_point(), "group_norm: expected a floating point input, got ",
              dtype_name(input.dtype()));
  NORCH_CHECK(input.dim() >= 2, "group_norm: expected at least 2 dimensions for input tensor but received ",
              input.dim());
  const int64_t N = input.size(0), C = input.size(1);
  NORCH_CHECK(num_groups > 0 && C % num_groups == 0, "Expected number of channels in input to be divisible by ",
              "num_groups, but got input of shape ", input.sizes(), " and num_groups=", num_groups);
  if (weight.defined())
    NORCH_CHECK(weight.dim() == 1 && weight.numel() == C, "Expected weight to be a vector of size equal to the ",
                "number of channels in input, but got weight of shape ", weight.sizes(), " and input of shape ",
                input.sizes());
  if (bias.defined())
    NORCH_CHECK(bias.dim() == 1 && bias.numel() == C, "Expected bias to be a vector of size equal to the ",
                "number of channels in input, but got bias of shape ", bias.sizes(), " and input of shape ",
                input.sizes());
  int64_t S = 1;
  for (int64_t i = 2; i < input.dim(); ++i) S *= input.size(i);
  const int64_t G = num_groups, R = N * G, K = (C / G) * S;
  const int64_t nd = input.dim();
  auto group_view = [N, G](const Tensor& t) { return reshape(t, {N, G, -1}); };
  auto param_view = [nd](const Tensor& t) { return channel_view(t, nd); };
  Shape sum_dims = {0};
  for (int64_t i = 2; i < nd; ++i) sum_dims.push_back(i);
  if (N * C * S == 0) {
    // reshape(-1) is ambiguous on empty tensors; compute the empty result plainly.
    return empty(input.sizes(), TensorOptions(input.dtype(), input.device()));
  }
  return row_norm("NativeGroupNormBackward0", input, weight, bias, R, K, G, S, eps, group_view, param_view,
                  sum_dims);
}

namespace {

void check_batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                      const Tensor& weight, const Tensor& bias, bool training) {
  NORCH_CHECK(input.is_floating_point(), "batch_norm: expected a floating point input, got ",
              dtype_name(input.dtype()));
  NORCH_CHECK_VALUE(input.dim() >= 2, "batch_norm: expected 2D or higher input (got ", input.dim(), "D input)");
  const int64_t N = input.size(0), C = input.size(1);
  int64_t S = 1;
  for (int64_t i = 2; i < input.dim(); ++i) S *= input.size(i);
  for (const Tensor* t : {&running_mean, &running_var, &weight, &bias})
    if (t->defined())
      NORCH_CHECK(t->numel() == C, "batch_norm: running_mean, running_var, weight and bias must have ", C,
                  " elements (the number of channels of input ", input.sizes(), "), got shape ", t->sizes());
  if (training)
    NORCH_CHECK_VALUE(N * S > 1, "Expected more than 1 value per channel when training, got input size ",
                      input.sizes());
  else
    NORCH_CHECK(running_mean.defined() && running_var.defined(),
                "batch_norm: running_mean and running_var must be defined in evaluation mode");
}

// What the forward pass leaves for backward: per-channel statistics [C] and the
// folded affine map y = x * scale + shift, for input [N, C, S] of nd dims.
struct BatchNormState {
  Tensor mean, rstd, scale;
  int64_t N, C, S, nd;
  double eps;
  bool training;
};

// Per-channel mean and 1/std: of the batch when training (and the running
// statistics move towards them, with the unbiased variance), else the running ones.
void batch_norm_statistics(const Tensor& x3, const Tensor& running_mean, const Tensor& running_var, bool training,
                           double momentum, double eps, BatchNormState& st) {
  const ScalarType dt = x3.dtype();
  const Device dev = x3.device();
  if (!training) {
    autograd::NoGradGuard no_grad;
    st.mean = flat(running_mean, dt);
    st.rstd = rsqrt(add(flat(running_var, dt), scalar(eps)));
    return;
  }
  st.mean = empty({st.C}, TensorOptions(dt, dev));
  Tensor var = empty({st.C}, TensorOptions(dt, dev));
  if (x3.numel() > 0) channel_stats_stub(dev)(x3, st.mean, var);
  autograd::NoGradGuard no_grad;
  st.rstd = rsqrt(add(var, scalar(eps)));
  const double n = static_cast<double>(st.N * st.S);
  if (running_mean.defined()) {
    Tensor upd = add(mul(to_dtype(running_mean, dt), scalar(1 - momentum)), mul(st.mean, scalar(momentum)));
    copy_data(running_mean, reshape(upd, running_mean.sizes()));
    running_mean.bump_version();
  }
  if (running_var.defined()) {
    Tensor upd = add(mul(to_dtype(running_var, dt), scalar(1 - momentum)), mul(var, scalar(momentum * n / (n - 1))));
    copy_data(running_var, reshape(upd, running_var.sizes()));
    running_var.bump_version();
  }
}

// Backward of batch_norm, three ways: in evaluation mode the statistics are
// constants, so the output is affine in x; with create_graph (or an input that
// requires grad) the formula is written with differentiable ops; otherwise one
// fused kernel computes all three gradients.
TensorList batch_norm_backward(BackwardContext& ctx, const TensorList& g, const BatchNormState& st) {
  Tensor x = ctx.saved(0), wt = ctx.saved(1);
  const bool nx = ctx.needs_input_grad(0), nw = ctx.needs_input_grad(1), nb = ctx.needs_input_grad(2);
  const int64_t N = st.N, C = st.C, S = st.S, nd = st.nd;
  Shape dims = {0};
  for (int64_t i = 2; i < nd; ++i) dims.push_back(i);
  const Shape wshape = wt.defined() ? wt.sizes() : ctx.input(2).shape;
  if (!st.training) {
    Tensor gx = nx ? mul(g[0], channel_view(st.scale, nd)) : Tensor();
    Tensor xhat = mul(sub(x, channel_view(st.mean, nd)), channel_view(st.rstd, nd));
    Tensor gW = nw ? reshape(sum(mul(g[0], xhat), dims), wshape) : Tensor();
    Tensor gB = nb ? reshape(sum(g[0], dims), ctx.input(2).shape) : Tensor();
    return {gx, gW, gB};
  }
  if (building_graph({g[0], x, wt})) {
    Tensor gw = wt.defined() ? mul(g[0], channel_view(wt, nd)) : g[0];
    Tensor gx = nx ? normalized_grad(x, gw, dims, st.eps) : Tensor();
    Tensor xhat = normalized(x, dims, st.eps);
    Tensor gW = nw ? reshape(sum(mul(g[0], xhat), dims), wshape) : Tensor();
    Tensor gB = nb ? reshape(sum(g[0], dims), ctx.input(2).shape) : Tensor();
    return {gx, gW, gB};
  }
  Tensor gx = nx ? empty(x.sizes(), TensorOptions(x.dtype(), x.device())) : Tensor();
  Tensor gW = nw ? empty({C}, TensorOptions(x.dtype(), x.device())) : Tensor();
  Tensor gB = nb ? empty({C}, TensorOptions(x.dtype(), x.device())) : Tensor();
  batch_norm_backward_stub(x.device())(contiguous(reshape(to_dtype(g[0], x.dtype()), {N, C, S})),
                                       contiguous(reshape(x, {N, C, S})), st.mean, st.rstd,
                                       wt.defined() ? flat(wt, x.dtype()) : Tensor(),
                                       gx.defined() ? reshape(gx, {N, C, S}) : gx, gW, gB);
  return {gx, gW.defined() ? reshape(gW, wshape) : gW, gB.defined() ? reshape(gB, ctx.input(2).shape) : gB};
}

}  // namespace

Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  check_batch_norm(input, running_mean, running_var, weight, bias, training);
  BatchNormState st;
  st.N = input.size(0);
  st.C = input.size(1);
  st.S = 1;
  for (int64_t i = 2; i < input.dim(); ++i) st.S *= input.size(i);
  st.nd = input.dim();
  st.eps = eps;
  st.training = training;
  const ScalarType dt = input.dtype();
  const Device dev = input.device();
  Tensor x3 = contiguous(reshape(input.detach(), {st.N, st.C, st.S}));
  batch_norm_statistics(x3, running_mean, running_var, training, momentum, eps, st);
  Tensor shift;
  {
    autograd::NoGradGuard no_grad;
    Tensor w = flat(weight, dt), b = flat(bias, dt);
    st.scale = w.defined() ? mul(st.rstd, w) : st.rstd;
    shift = neg(mul(st.mean, st.scale));
    if (b.defined()) shift = add(shift, b);
    st.scale = contiguous(st.scale);
    shift = contiguous(shift);
  }
  Tensor y = empty(input.sizes(), TensorOptions(dt, dev));
  if (input.numel() > 0) channel_affine_stub(dev)(x3, st.scale, shift, reshape(y, {st.N, st.C, st.S}));
  if (autograd::needs_grad({input, weight, bias}))
    autograd::record("NativeBatchNormBackward0", {input, weight, bias}, {y}, {input, weight},
                     [st](BackwardContext& ctx, const TensorList& g) { return batch_norm_backward(ctx, g, st); });
  return y;
}

}  // namespace nn
}  // namespace norch

// Losses: nll_loss and cross_entropy on fused class gather/scatter kernels, and
// the pointwise losses (mse, l1, smooth_l1, huber, bce, bce_with_logits, kl_div)
// as compositions of differentiable norch ops, so every loss has gradients of
// any order. Semantics and checks follow torch.nn.functional.
#include <cmath>

#include "kernels/nn_fused.h"
#include "norch/ops/autocast.h"
#include "norch/autograd/function.h"
#include "norch/nn/loss.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/reduce.h"
#include "norch/ops/shape.h"
#include "norch/ops/unary.h"

namespace norch {

DispatchStub<ClassGatherKernel> class_gather_stub("class_gather");
DispatchStub<ClassScatterKernel> class_scatter_stub("class_scatter");
DispatchStub<ClassWeightKernel> class_weight_stub("class_weight");
DispatchStub<RangeCheckKernel> range_check_stub("range_check");

namespace nn {
namespace {

using autograd::BackwardContext;

Tensor reduce(const Tensor& l, Reduction r) {
  switch (r) {
    case Reduction::None: return l;
    case Reduction::Mean: return mean(l);
    case Reduction::Sum: return sum(l);
  }
  return l;
}

// PyTorch accepts int64 and uint8 class indices; the kernels read int64.
Tensor index_target(const Tensor& target, const char* op) {
  NORCH_CHECK(target.dtype() == ScalarType::Int64 || target.dtype() == ScalarType::UInt8, op,
              ": expected target dtype to be Long or Byte, but got ", dtype_name(target.dtype()));
  return target.dtype() == ScalarType::Int64 ? target : to_dtype(target, ScalarType::Int64);
}

// weight[target] per target element (0 where ignored), in `dtype`, without history.
Tensor target_weights(const Tensor& target2d, const Tensor& weight, int64_t C, int64_t ignore, ScalarType dtype) {
  Tensor out = empty(target2d.sizes(), TensorOptions(dtype, target2d.device()));
  Tensor w = weight.defined() ? contiguous(to_dtype(weight.detach(), dtype)) : Tensor();
  class_weight_stub(target2d.device())(target2d, w, C, ignore, out);
  return out;
}

void check_class_weight(const Tensor& weight, int64_t C, const char* op) {
  if (!weight.defined()) return;
  NORCH_CHECK(weight.dim() == 1 && weight.numel() == C, op, ": weight tensor should be defined either for all ", C,
              " classes or no classes but got weight tensor of shape: ", weight.sizes());
}

void check_floating(const Tensor& t, const char* op, const char* what) {
  NORCH_CHECK(t.is_floating_point(), op, ": expected a floating point ", what, ", got ", dtype_name(t.dtype()));
}

}  // namespace

Reduction reduction_from_string(const std::string& r, const char* op_name) {
  if (r == "none") return Reduction::None;
  if (r == "mean") return Reduction::Mean;
  if (r == "sum") return Reduction::Sum;
  NORCH_CHECK_VALUE(false, r, " is not a valid value for reduction (", op_name, ")");
  return Reduction::Mean;
}

Tensor class_gather(const Tensor& x, const Tensor& target, int64_t ignore_index) {
  NORCH_CHECK(x.dim() == 3 && target.dim() == 2 && x.size(0) == target.size(0) && x.size(2) == target.size(1),
              "class_gather: expected x [N, C, S] and target [N, S], got ", x.sizes(), " and ", target.sizes());
  Tensor t = contiguous(target);
  Tensor out = empty(t.sizes(), TensorOptions(x.dtype(), x.device()));
  if (out.numel() > 0) class_gather_stub(x.device())(contiguous(x.detach()), t, ignore_index, out);
  const int64_t C = x.size(1);
  if (autograd::needs_grad(x))
    autograd::record("NllLossBackward0", {x}, {out}, {}, [t, C, ignore_index](BackwardContext&, const TensorList& g) {
      return TensorList{class_scatter(g[0], t, C, ignore_index)};
    });
  return out;
}

Tensor class_scatter(const Tensor& v, const Tensor& target, int64_t num_classes, int64_t ignore_index) {
  NORCH_CHECK(v.dim() == 2 && v.sizes() == target.sizes(), "class_scatter: expected v and target [N, S], got ",
              v.sizes(), " and ", target.sizes());
  Tensor t = contiguous(target);
  Tensor out = empty({v.size(0), num_classes, v.size(1)}, TensorOptions(v.dtype(), v.device()));
  if (out.numel() > 0) class_scatter_stub(v.device())(contiguous(v.detach()), t, ignore_index, out);
  if (autograd::needs_grad(v))
    autograd::record("NllLossBackwardBackward0", {v}, {out}, {}, [t, ignore_index](BackwardContext&, const TensorList& g) {
      return TensorList{class_gather(g[0], t, ignore_index)};
    });
  return out;
}

Tensor nll_loss(const Tensor& input, const Tensor& target_in, const Tensor& weight, Reduction reduction,
                int64_t ignore_index) {
  NORCH_AUTOCAST(nll_loss(autocast::fp32(input), target_in, autocast::fp32(weight), reduction, ignore_index));
  NORCH_CHECK_VALUE(input.dim() >= 1, "nll_loss: expected 1 or more dimensions (got ", input.dim(), ")");
  check_floating(input, "nll_loss", "input");
  const Tensor target = index_target(target_in, "nll_loss");
  int64_t N = 1, C, S = 1;
  if (input.dim() == 1) {
    NORCH_CHECK(target.dim() == 0, "nll_loss: 1D input expects a 0D target, got target of shape ", target.sizes());
    C = input.size(0);
  } else {
    NORCH_CHECK(target.dim() == input.dim() - 1, "nll_loss: expected target of ", input.dim() - 1,
                " dimensions for input of shape ", input.sizes(), ", got target of shape ", target.sizes());
    N = input.size(0);
    C = input.size(1);
    NORCH_CHECK_VALUE(target.size(0) == N, "Expected input batch_size (", N, ") to match target batch_size (",
                      target.size(0), ").");
    for (int64_t i = 2; i < input.dim(); ++i) {
      if (input.size(i) != target.size(i - 1)) {
        Shape expected = input.sizes();
        expected.erase(expected.begin() + 1);
        NORCH_CHECK(false, "Expected target size ", shape_str(expected), ", got ", shape_str(target.sizes()));
      }
      S *= input.size(i);
    }
  }
  check_class_weight(weight, C, "nll_loss");
  Tensor x3 = reshape(input, {N, C, S});
  Tensor t2 = contiguous(reshape(target, {N, S}));
  Tensor wt = target_weights(t2, weight, C, ignore_index, input.dtype());
  Tensor losses = neg(mul(class_gather(x3, t2, ignore_index), wt));
  switch (reduction) {
    case Reduction::None: return reshape(losses, target.sizes());
    case Reduction::Sum: return sum(losses);
    case Reduction::Mean: return div(sum(losses), sum(wt));
  }
  return losses;
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction,
                     int64_t ignore_index, double label_smoothing) {
  NORCH_AUTOCAST(cross_entropy(autocast::fp32(input), autocast::fp32(target), autocast::fp32(weight), reduction, ignore_index, label_smoothing));
  NORCH_CHECK_VALUE(input.dim() >= 1, "cross_entropy: expected 1 or more dimensions (got ", input.dim(), ")");
  NORCH_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0,
              "label_smoothing must be between 0.0 and 1.0. Got: ", label_smoothing);
  check_floating(input, "cross_entropy", "input");
  const int64_t cdim = input.dim() == 1 ? 0 : 1;
  const int64_t C = input.size(cdim);
  check_class_weight(weight, C, "cross_entropy");
  // weight shaped to broadcast along the class dim: [C, 1, ..., 1]
  Tensor wb;
  if (weight.defined()) {
    Shape ws(input.dim() - cdim, 1);
    ws[0] = C;
    wb = reshape(to_dtype(weight.detach(), input.dtype()), ws);
  }
  Tensor logp = log_softmax(input, cdim);
  if (target.is_floating_point() && target.sizes() == input.sizes()) {
    // Class probabilities.
    Tensor t = target;
    if (label_smoothing > 0) t = add(mul(t, scalar(1 - label_smoothing)), scalar(label_smoothing / C));
    Tensor prod = mul(logp, t);
    if (wb.defined()) prod = mul(prod, wb);
    Tensor l = neg(sum(prod, {cdim}));
    switch (reduction) {
      case Reduction::None: return l;
      case Reduction::Sum: return sum(l);
      case Reduction::Mean:
        return div(sum(l), scalar(static_cast<double>(input.numel()) / static_cast<double>(std::max<int64_t>(C, 1))));
    }
  }
  NORCH_CHECK(!target.is_floating_point() || target.dim() == input.dim() - 1,
              "cross_entropy: expected target of the same shape as input ", input.sizes(),
              " for class probabilities, got ", target.sizes());
  Tensor nll = nll_loss(logp, target, weight, reduction, ignore_index);
  if (label_smoothing <= 0) return nll;
  Tensor smooth = neg(sum(wb.defined() ? mul(logp, wb) : logp, {cdim}));
  Tensor keep = to_dtype(ne(target, scalar_to_tensor(Scalar(ignore_index))), input.dtype());
  smooth = mul(smooth, keep);
  Tensor ret;
  switch (reduction) {
    case Reduction::None: ret = smooth; break;
    case Reduction::Sum: ret = sum(smooth); break;
    case Reduction::Mean:
      if (wb.defined()) {
        Tensor t2 = contiguous(reshape(index_target(target, "cross_entropy"), {1, target.numel()}));
        ret = div(sum(smooth), sum(target_weights(t2, weight, C, ignore_index, input.dtype())));
      } else {
        ret = div(sum(smooth), sum(keep));
      }
      break;
  }
  return add(mul(nll, scalar(1 - label_smoothing)), mul(ret, scalar(label_smoothing / C)));
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  NORCH_AUTOCAST(mse_loss(autocast::fp32(input), autocast::fp32(target), reduction));
  Tensor d = sub(input, target);
  return reduce(mul(d, d), reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  NORCH_AUTOCAST(l1_loss(autocast::fp32(input), autocast::fp32(target), reduction));
  return reduce(abs(sub(input, target)), reduction);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  NORCH_AUTOCAST(smooth_l1_loss(autocast::fp32(input), autocast::fp32(target), reduction, beta));
  NORCH_CHECK(beta >= 0, "smooth_l1_loss does not support negative values for beta.");
  Tensor z = abs(sub(input, target));
  if (beta == 0) return reduce(z, reduction);
  Tensor quad = div(mul(mul(z, z), scalar(0.5)), scalar(beta));
  return reduce(where(lt(z, scalar(beta)), quad, sub(z, scalar(0.5 * beta))), reduction);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
  NORCH_AUTOCAST(huber_loss(autocast::fp32(input), autocast::fp32(target), reduction, delta));
  NORCH_CHECK(delta > 0, "huber_loss does not support non-positive values for delta.");
  Tensor z = abs(sub(input, target));
  Tensor quad = mul(mul(z, z), scalar(0.5));
  return reduce(where(lt(z, scalar(delta)), quad, mul(sub(z, scalar(0.5 * delta)), scalar(delta))), reduction);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction) {
  NORCH_AUTOCAST(binary_cross_entropy(autocast::fp32(input), autocast::fp32(target), autocast::fp32(weight), reduction));
  NORCH_CHECK_VALUE(input.sizes() == target.sizes(), "Using a target size (", target.sizes(),
                    ") that is different to the input size (", input.sizes(),
                    ") is deprecated. Please ensure they have the same size.");
  check_floating(input, "binary_cross_entropy", "input");
  check_floating(target, "binary_cross_entropy", "target");
  if (input.numel() > 0)
    range_check_stub(input.device())(contiguous(input.detach()), 0.0, 1.0,
                                      "all elements of input should be between 0 and 1");
  // PyTorch clamps each log at -100 so that a confident wrong answer costs 100, not inf.
  Tensor l;
  {
    autograd::NoGradGuard no_grad;
    Tensor lx = clamp(log(input), Scalar(-100.0), std::nullopt);
    Tensor l1x = clamp(log(sub(scalar(1.0), input)), Scalar(-100.0), std::nullopt);
    l = neg(add(mul(target, lx), mul(sub(scalar(1.0), target), l1x)));
    if (weight.defined()) l = mul(l, weight);
  }
  // Its own node, as PyTorch's: the clamped forward has no useful derivative
  // at p = 0 or 1 (differentiating the clamp gives 0 * inf = NaN). PyTorch's
  // gradient is (p - t) / max(p (1 - p), eps) with eps the float 1e-12.
  if (autograd::needs_grad(input, target)) {
    Tensor w = weight.defined() ? weight.detach() : Tensor();
    autograd::record("BinaryCrossEntropyBackward0", {input, target}, {l}, {input, target},
                     [w](autograd::BackwardContext& ctx, const TensorList& g) -> TensorList {
                       Tensor p = ctx.saved(0), t = ctx.saved(1);
                       Tensor gi, gt;
                       if (ctx.needs_input_grad(0)) {
                         Tensor den = clamp(mul(sub(scalar(1.0), p), p), Scalar(static_cast<double>(1e-12f)), std::nullopt);
                         gi = mul(g[0], div(sub(p, t), den));
                         if (w.defined()) gi = mul(gi, w);
                       }
                       if (ctx.needs_input_grad(1)) {
                         // -logit(p), unclamped, as PyTorch's target gradient.
                         gt = mul(g[0], neg(log(div(p, sub(scalar(1.0), p)))));
                         if (w.defined()) gt = mul(gt, w);
                       }
                       return {gi, gt};
                     });
  }
  return reduce(l, reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        Reduction reduction, const Tensor& pos_weight) {
  NORCH_AUTOCAST(binary_cross_entropy_with_logits(autocast::fp32(input), autocast::fp32(target), autocast::fp32(weight), reduction, autocast::fp32(pos_weight)));
  NORCH_CHECK_VALUE(input.sizes() == target.sizes(), "Target size (", target.sizes(),
                    ") must be the same as input size (", input.sizes(), ")");
  check_floating(input, "binary_cross_entropy_with_logits", "input");
  // softplus(-x) = max(-x, 0) + log1p(exp(-|x|)) never overflows; max(-x, 0) is
  // written (|x| - x) / 2 so that autograd gives the true slope -1/2 at x = 0
  // (where zero-initialized logits sit), not relu's and abs's 0.
  Tensor sp = add(mul(sub(abs(input), input), scalar(0.5)), log1p(exp(neg(abs(input)))));
  Tensor l;
  if (pos_weight.defined()) {
    Tensor lw = add(mul(sub(pos_weight, scalar(1.0)), target), scalar(1.0));
    l = add(mul(sub(scalar(1.0), target), input), mul(lw, sp));
  } else {
    l = add(mul(sub(scalar(1.0), target), input), sp);
  }
  if (weight.defined()) l = mul(l, weight);
  return reduce(l, reduction);
}

Tensor kl_div(const Tensor& input, const Tensor& target, const std::string& reduction, bool log_target) {
  NORCH_AUTOCAST(kl_div(autocast::fp32(input), autocast::fp32(target), reduction, log_target));
  const bool batchmean = reduction == "batchmean";
  const Reduction r = batchmean ? Reduction::Sum : reduction_from_string(reduction, "kl_div");
  Tensor l;
  if (log_target) {
    l = mul(exp(target), sub(target, input));
  } else {
    // xlogy(t, t) - t * x, with 0 * log 0 = 0 and no NaN gradient at t = 0; a
    // negative target gives NaN, as log does (and PyTorch's xlogy).
    Tensor nonzero = ne(target, scalar(0.0));
    Tensor safe = where(nonzero, target, scalar(1.0));
    l = sub(mul(target, log(safe)), mul(target, input));
  }
  Tensor out = reduce(l, r);
  if (batchmean && input.dim() > 0) out = div(out, scalar(static_cast<double>(input.size(0))));
  return out;
}

}  // namespace nn
}  // namespace norch

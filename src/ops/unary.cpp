// Unary elementwise ops, where, clamp, lerp: rules, dispatch, backward formulas.
#include "norch/ops/unary.h"

#include <cmath>
#include <limits>

#include "kernels/unary.h"
#include "norch/autograd/function.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "ops/inplace.h"

namespace norch {

DispatchStub<UnaryKernel> unary_stub("unary");
DispatchStub<WhereKernel> where_stub("where");
DispatchStub<ClampKernel> clamp_stub("clamp");
DispatchStub<NanToNumKernel> nan_to_num_stub("nan_to_num");

using autograd::BackwardContext;

namespace {

Tensor run(UnaryOp op, const Tensor& a, const Tensor& out = Tensor()) {
  NORCH_CHECK(a.defined(), unary_op_name(op), ": undefined tensor argument");
  TensorIterator::Config cfg;
  cfg.op_name = unary_op_name(op);
  cfg.promote_inputs = false;
  cfg.promote_integer_to_float = unary_op_kind(op) == UnaryKind::FloatMath;
  if (unary_op_kind(op) == UnaryKind::Predicate) {
    cfg.has_output_dtype = true;
    cfg.output_dtype = ScalarType::Bool;
    cfg.cast_to_output = true;
  }
  if (op == UnaryOp::Neg)
    NORCH_CHECK(a.dtype() != ScalarType::Bool, "Negation, the `-` operator, on a bool tensor is not supported. If you "
                "are trying to invert a mask, use the `~` or `logical_not()` operator instead.");
  TensorIterator it = TensorIterator::unary(out, a, cfg);
  unary_stub(it.device(), unary_op_name(op))(it, op);
  return it.output();
}

// One differentiable unary op: forward kernel plus a formula of (grad, input, output).
template <typename Formula>
Tensor unary(UnaryOp op, const char* node_name, const Tensor& a, bool save_input, bool save_output, Formula f) {
  Tensor out = run(op, a);
  if (autograd::needs_grad(a) && out.is_floating_point()) {
    autograd::record(node_name, {a}, {out}, {save_input ? a : Tensor(), save_output ? out : Tensor()},
                     [f](BackwardContext& ctx, const TensorList& g) -> TensorList {
                       return {f(g[0], ctx.saved(0), ctx.saved(1))};
                     });
  }
  return out;
}

Tensor zero_grad_unary(UnaryOp op, const char* node_name, const Tensor& a) {
  return unary(op, node_name, a, false, false,
               [](const Tensor& g, const Tensor&, const Tensor&) { return zeros_like(g); });
}

}  // namespace

Tensor neg(const Tensor& a) {
  return unary(UnaryOp::Neg, "NegBackward0", a, false, false,
               [](const Tensor& g, const Tensor&, const Tensor&) { return neg(g); });
}
Tensor abs(const Tensor& a) {
  return unary(UnaryOp::Abs, "AbsBackward0", a, true, false,
               [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, sign(x)); });
}
Tensor sign(const Tensor& a) {
  if (a.dtype() == ScalarType::Bool) return clone(a);  // sign of a bool is itself
  return zero_grad_unary(UnaryOp::Sign, "SignBackward0", a);
}
Tensor floor(const Tensor& a) { return zero_grad_unary(UnaryOp::Floor, "FloorBackward0", a); }
Tensor ceil(const Tensor& a) { return zero_grad_unary(UnaryOp::Ceil, "CeilBackward0", a); }
Tensor round(const Tensor& a) { return zero_grad_unary(UnaryOp::Round, "RoundBackward0", a); }
Tensor round(const Tensor& a, int64_t decimals) {
  if (decimals == 0) return round(a);
  if (!a.is_floating_point())
    NORCH_NOT_IMPLEMENTED("\"round\" with decimals is not implemented for dtype ", dtype_name(a.dtype()));
  // Scale, round half to even, scale back: PyTorch's definition, including its rounding error.
  const double scale = std::pow(10.0, static_cast<double>(decimals));
  return div(round(mul(a, scalar(scale))), scalar(scale));
}
Tensor trunc(const Tensor& a) { return zero_grad_unary(UnaryOp::Trunc, "TruncBackward0", a); }
Tensor frac(const Tensor& a) {
  if (!a.is_floating_point()) NORCH_NOT_IMPLEMENTED("\"frac\" is not implemented for dtype ", dtype_name(a.dtype()));
  return unary(UnaryOp::Frac, "FracBackward0", a, false, false,
               [](const Tensor& g, const Tensor&, const Tensor&) { return g; });
}
Tensor square(const Tensor& a) {
  if (a.dtype() == ScalarType::Bool) return square(to_dtype(a, ScalarType::Int64));  // pow(bool, 2) is int64
  return unary(UnaryOp::Square, "PowBackward0", a, true, false,
               [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, mul(x, scalar(2.0))); });
}
Tensor relu(const Tensor& a) {
  return unary(UnaryOp::Relu, "ReluBackward0", a, false, true, [](const Tensor& g, const Tensor&, const Tensor& y) {
    return mul(g, gt(y, scalar_to_tensor(Scalar(0))));
  });
}
Tensor exp(const Tensor& a) {
  return unary(UnaryOp::Exp, "ExpBackward0", a, false, true,
               [](const Tensor& g, const Tensor&, const Tensor& y) { return mul(g, y); });
}
Tensor exp2(const Tensor& a) {
  return unary(UnaryOp::Exp2, "Exp2Backward0", a, false, true,
               [](const Tensor& g, const Tensor&, const Tensor& y) { return mul(g, mul(y, scalar(std::log(2.0)))); });
}
Tensor log(const Tensor& a) {
  return unary(UnaryOp::Log, "LogBackward0", a, true, false,
               [](const Tensor& g, const Tensor& x, const Tensor&) { return div(g, x); });
}
Tensor log2(const Tensor& a) {
  return unary(UnaryOp::Log2, "Log2Backward0", a, true, false,
               [](const Tensor& g, const Tensor& x, const Tensor&) { return div(g, mul(x, scalar(std::log(2.0)))); });
}
Tensor log10(const Tensor& a) {
  return unary(UnaryOp::Log10, "Log10Backward0", a, true, false,
               [](const Tensor& g, const Tensor& x, const Tensor&) { return div(g, mul(x, scalar(std::log(10.0)))); });
}
Tensor log1p(const Tensor& a) {
  return unary(UnaryOp::Log1p, "Log1PBackward0", a, true, false,
               [](const Tensor& g, const Tensor& x, const Tensor&) { return div(g, add(x, scalar(1.0))); });
}
Tensor expm1(const Tensor& a) {
  return unary(UnaryOp::Expm1, "Expm1Backward0", a, false, true,
               [](const Tensor& g, const Tensor&, const Tensor& y) { return mul(g, add(y, scalar(1.0))); });
}
Tensor sqrt(const Tensor& a) {
  return unary(UnaryOp::Sqrt, "SqrtBackward0", a, false, true,
               [](const Tensor& g, const Tensor&, const Tensor& y) { return div(g, mul(y, scalar(2.0))); });
}
Tensor rsqrt(const Tensor& a) {
  return unary(UnaryOp::Rsqrt, "RsqrtBackward0", a, false, true, [](const Tensor& g, const Tensor&, const Tensor& y) {
    return mul(g, mul(mul(y, mul(y, y)), scalar(-0.5)));
  });
}
Tensor sin(const Tensor& a) {
  return unary(UnaryOp::Sin, "SinBackward0", a, true, false,
               [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, cos(x)); });
}
Tensor cos(const Tensor& a) {
  return unary(UnaryOp::Cos, "CosBackward0", a, true, false,
               [](const Tensor& g, const Tensor& x, const Tensor&) { return neg(mul(g, sin(x))); });
}
Tensor tan(const Tensor& a) {
  return unary(UnaryOp::Tan, "TanBackward0", a, false, true,
               [](const Tensor& g, const Tensor&, const Tensor& y) { return mul(g, add(mul(y, y), scalar(1.0))); });
}
Tensor asin(const Tensor& a) {
  return unary(UnaryOp::Asin, "AsinBackward0", a, true, false, [](const Tensor& g, const Tensor& x, const Tensor&) {
    return div(g, sqrt(sub(scalar(1.0), mul(x, x))));
  });
}
Tensor acos(const Tensor& a) {
  return unary(UnaryOp::Acos, "AcosBackward0", a, true, false, [](const Tensor& g, const Tensor& x, const Tensor&) {
    return neg(div(g, sqrt(sub(scalar(1.0), mul(x, x)))));
  });
}
Tensor atan(const Tensor& a) {
  return unary(UnaryOp::Atan, "AtanBackward0", a, true, false,
               [](const Tensor& g, const Tensor& x, const Tensor&) { return div(g, add(mul(x, x), scalar(1.0))); });
}
Tensor sinh(const Tensor& a) {
  return unary(UnaryOp::Sinh, "SinhBackward0", a, true, false,
               [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, cosh(x)); });
}
Tensor cosh(const Tensor& a) {
  return unary(UnaryOp::Cosh, "CoshBackward0", a, true, false,
               [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, sinh(x)); });
}
Tensor tanh(const Tensor& a) {
  return unary(UnaryOp::Tanh, "TanhBackward0", a, false, true,
               [](const Tensor& g, const Tensor&, const Tensor& y) { return mul(g, sub(scalar(1.0), mul(y, y))); });
}
Tensor sigmoid(const Tensor& a) {
  return unary(UnaryOp::Sigmoid, "SigmoidBackward0", a, false, true,
               [](const Tensor& g, const Tensor&, const Tensor& y) { return mul(g, mul(y, sub(scalar(1.0), y))); });
}
Tensor erf(const Tensor& a) {
  return unary(UnaryOp::Erf, "ErfBackward0", a, true, false, [](const Tensor& g, const Tensor& x, const Tensor&) {
    return mul(g, mul(exp(neg(mul(x, x))), scalar(2.0 / std::sqrt(M_PI))));
  });
}
Tensor reciprocal(const Tensor& a) {
  return unary(UnaryOp::Reciprocal, "ReciprocalBackward0", a, false, true,
               [](const Tensor& g, const Tensor&, const Tensor& y) { return neg(mul(g, mul(y, y))); });
}
Tensor sinc(const Tensor& a) {
  return unary(UnaryOp::Sinc, "SincBackward0", a, true, false, [](const Tensor& g, const Tensor& x, const Tensor&) {
    // (pi x cos(pi x) - sin(pi x)) / (pi x^2), and 0 at x == 0 where sinc is flat.
    Tensor px = mul(x, scalar(M_PI));
    Tensor d = div(sub(mul(px, cos(px)), sin(px)), mul(px, x));
    return mul(g, where(eq(x, scalar(0.0)), zeros_like(d), d));
  });
}
Tensor logical_not(const Tensor& a) { return run(UnaryOp::LogicalNot, a); }
Tensor bitwise_not(const Tensor& a) {
  if (!is_integral(a.dtype(), true))
    NORCH_NOT_IMPLEMENTED("\"bitwise_not\" is not implemented for dtype ", dtype_name(a.dtype()),
                          " (needs an integer or bool tensor)");
  return run(UnaryOp::BitNot, a);
}
Tensor isnan(const Tensor& a) { return run(UnaryOp::IsNan, a); }
Tensor isinf(const Tensor& a) { return run(UnaryOp::IsInf, a); }
Tensor isfinite(const Tensor& a) { return run(UnaryOp::IsFinite, a); }

Tensor nan_to_num(const Tensor& a, std::optional<double> nan, std::optional<double> posinf,
                  std::optional<double> neginf) {
  if (!a.is_floating_point()) return clone(a);
  // The dtype's largest finite value (what PyTorch substitutes for +-inf).
  const double big = a.dtype() == ScalarType::Float32    ? std::numeric_limits<float>::max()
                     : a.dtype() == ScalarType::Float16  ? 65504.0
                     : a.dtype() == ScalarType::BFloat16 ? 3.3895313892515355e+38
                                                         : std::numeric_limits<double>::max();
  TensorIterator::Config cfg;
  cfg.op_name = "nan_to_num";
  TensorIterator it = TensorIterator::unary(Tensor(), a, cfg);
  nan_to_num_stub(it.device())(it, nan.value_or(0.0), posinf.value_or(big), neginf.value_or(-big));
  Tensor out = it.output();
  if (autograd::needs_grad(a))
    autograd::record("NanToNumBackward0", {a}, {out}, {a}, [](BackwardContext& ctx, const TensorList& g) -> TensorList {
      return {mul(g[0], isfinite(ctx.saved(0)))};
    });
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  NORCH_CHECK(cond.dtype() == ScalarType::Bool || cond.dtype() == ScalarType::UInt8,
              "where expected condition to be a boolean tensor, but got a tensor with dtype ", dtype_name(cond.dtype()));
  ScalarType common = result_type({a, b});
  Tensor c = cond.dtype() == ScalarType::Bool ? cond : to_dtype(cond, ScalarType::Bool);
  TensorIterator::Config cfg;
  cfg.op_name = "where";
  cfg.allow_mixed_input_dtypes = true;
  TensorIterator it = TensorIterator::build(Tensor(), {c, to_dtype(a, common), to_dtype(b, common)}, cfg);
  where_stub(it.device())(it);
  Tensor out = it.output();
  if (autograd::needs_grad(a, b))
    autograd::record("WhereBackward0", {a, b}, {out}, {c}, [](BackwardContext& ctx, const TensorList& g) -> TensorList {
      Tensor m = ctx.saved(0);
      Tensor z = zeros({}, TensorOptions(g[0].dtype(), g[0].device()));
      return {ctx.needs_input_grad(0) ? where(m, g[0], z) : Tensor(),
              ctx.needs_input_grad(1) ? where(m, z, g[0]) : Tensor()};
    });
  return out;
}

Tensor clamp(const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max) {
  NORCH_CHECK(min || max, "torch.clamp: At least one of 'min' or 'max' must not be None");
  ScalarType dt = a.dtype();
  if (min) dt = result_type(a, *min) > dt ? result_type(a, *min) : dt;
  if (max) dt = result_type(a, *max) > dt ? result_type(a, *max) : dt;
  NORCH_CHECK(dt != ScalarType::Bool, "clamp is not supported for bool tensors with bool bounds");
  TensorIterator::Config cfg;
  cfg.op_name = "clamp";
  TensorIterator it = TensorIterator::unary(Tensor(), to_dtype(a, dt), cfg);
  const double lo = min ? min->to_double() : 0.0, hi = max ? max->to_double() : 0.0;
  clamp_stub(it.device())(it, lo, hi, min.has_value(), max.has_value());
  Tensor out = it.output();
  if (autograd::needs_grad(a)) {
    const bool has_lo = min.has_value(), has_hi = max.has_value();
    autograd::record("ClampBackward1", {a}, {out}, {a},
                     [has_lo, has_hi, lo, hi](BackwardContext& ctx, const TensorList& g) -> TensorList {
                       Tensor x = ctx.saved(0);
                       Tensor keep = ones_like(x);
                       if (has_lo) keep = mul(keep, ge(x, scalar_to_tensor(Scalar(lo))));
                       if (has_hi) keep = mul(keep, le(x, scalar_to_tensor(Scalar(hi))));
                       return {mul(g[0], keep)};
                     });
  }
  return out;
}

Tensor clamp(const Tensor& a, const Tensor& min, const Tensor& max) {
  NORCH_CHECK(min.defined() || max.defined(), "torch.clamp: At least one of 'min' or 'max' must not be None");
  Tensor out = a;
  if (min.defined()) out = maximum(out, min);
  if (max.defined()) out = minimum(out, max);
  return out;
}

Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& weight) {
  if (!a.is_floating_point() || !b.is_floating_point())
    NORCH_NOT_IMPLEMENTED("\"lerp\" is not implemented for dtypes ", dtype_name(a.dtype()), " and ",
                          dtype_name(b.dtype()), " (needs floating point tensors)");
  // Composite: each piece is differentiable, so the gradient comes for free.
  return add(a, mul(weight, sub(b, a)));
}

// The in-place forms of the table's ops (the `Yes` column of NORCH_UNARY_OPS).
#define NORCH_UNARY_INPLACE_Yes(name)                                                          \
  Tensor& name##_(Tensor& a) {                                                                 \
    return inplace(a, #name "_", autograd::needs_grad(a), [](const Tensor& x) { return name(x); }); \
  }
#define NORCH_UNARY_INPLACE_No(name)
#define NORCH_UNARY_INPLACE(E, name, kind, inplace) NORCH_UNARY_INPLACE_##inplace(name)
NORCH_UNARY_OPS(NORCH_UNARY_INPLACE)
#undef NORCH_UNARY_INPLACE
#undef NORCH_UNARY_INPLACE_No
#undef NORCH_UNARY_INPLACE_Yes

Tensor& clamp_(Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max) {
  return inplace(a, "clamp_", autograd::needs_grad(a), [&](const Tensor& x) { return clamp(x, min, max); });
}
Tensor& clamp_(Tensor& a, const Tensor& min, const Tensor& max) {
  return inplace(a, "clamp_", autograd::needs_grad({a, min, max}),
                 [&](const Tensor& x) { return clamp(x, min, max); });
}
Tensor& nan_to_num_(Tensor& a, std::optional<double> nan, std::optional<double> posinf,
                    std::optional<double> neginf) {
  return inplace(a, "nan_to_num_", autograd::needs_grad(a), [&](const Tensor& x) { return nan_to_num(x, nan, posinf, neginf); });
}

Tensor operator-(const Tensor& a) { return neg(a); }

}  // namespace norch

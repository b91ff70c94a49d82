// Unary elementwise ops, where, clamp, lerp: rules, dispatch, backward formulas.
#include "norch/ops/unary.h"

#include <cmath>
#include <limits>

#include "kernels/unary.h"
#include "norch/autograd/function.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"

namespace norch {

DispatchStub<UnaryKernel> unary_stub("unary");
DispatchStub<WhereKernel> where_stub("where");
DispatchStub<ClampKernel> clamp_stub("clamp");
DispatchStub<NanToNumKernel> nan_to_num_stub("nan_to_num");

using autograd::BackwardContext;

const char* unary_op_name(UnaryOp op) {
  static const char* names[] = {"neg", "abs", "sign", "floor", "ceil", "round", "trunc", "frac", "square", "relu",
                                "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt",
                                "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid",
                                "erf", "reciprocal", "logical_not", "isnan", "isinf", "isfinite", "bitwise_not"};
  return names[static_cast<int>(op)];
}

namespace {

Tensor run(UnaryOp op, const Tensor& a, const Tensor& out = Tensor()) {
  NORCH_CHECK(a.defined(), unary_op_name(op), ": undefined tensor argument");
  TensorIterator::Config cfg;
  cfg.op_name = unary_op_name(op);
  cfg.promote_inputs = false;
  cfg.promote_integer_to_float = op >= UnaryOp::Exp && op <= UnaryOp::Reciprocal;
  if (op >= UnaryOp::LogicalNot && op <= UnaryOp::IsFinite) {
    cfg.has_output_dtype = true;
    cfg.output_dtype = ScalarType::Bool;
    cfg.cast_to_output = true;
  }
  if (op == UnaryOp::Neg)
    NORCH_CHECK(a.dtype() != ScalarType::Bool, "Negation, the `-` operator, on a bool tensor is not supported. If you "
                "are trying to invert a mask, use the `~` or `logical_not()` operator instead.");
  TensorIterator it = TensorIterator::unary(out, a, cfg);
  unary_stub(it.device())(it, op);
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

// In-place unary: like binary's, clone first when history must be recorded.
template <typename OutOfPlace>
Tensor& inplace(Tensor& self, const char* name, OutOfPlace f) {
  autograd::check_inplace(self, name);
  const bool record = autograd::needs_grad(self);
  Tensor result = f(record ? clone(self) : self);
  // exp_ on an int tensor would silently truncate: refuse, as PyTorch does.
  NORCH_CHECK(can_cast(result.dtype(), self.dtype()), "result type ", dtype_name(result.dtype()),
              " can't be cast to the desired output type ", dtype_name(self.dtype()));
  if (record) {
    copy_data(self, result);
    self.bump_version();
    autograd::rebase_history(self, result);
    return self;
  }
  copy_data(self, result);
  self.bump_version();
  return self;
}

Tensor s(double v) { return scalar_to_tensor(Scalar(v)); }

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
  return div(round(mul(a, s(scale))), s(scale));
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
               [](const Tensor& g, const Tensor& x, const Tensor&) { return mul(g, mul(x, s(2.0))); });
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
               [](const Tensor& g, const Tensor&, const Tensor& y) { return mul(g, mul(y, s(std::log(2.0)))); });
}
Tensor log(const Tensor& a) {
  return unary(UnaryOp::Log, "LogBackward0", a, true, false,
               [](const Tensor& g, const Tensor& x, const Tensor&) { return div(g, x); });
}
Tensor log2(const Tensor& a) {
  return unary(UnaryOp::Log2, "Log2Backward0", a, true, false,
               [](const Tensor& g, const Tensor& x, const Tensor&) { return div(g, mul(x, s(std::log(2.0)))); });
}
Tensor log10(const Tensor& a) {
  return unary(UnaryOp::Log10, "Log10Backward0", a, true, false,
               [](const Tensor& g, const Tensor& x, const Tensor&) { return div(g, mul(x, s(std::log(10.0)))); });
}
Tensor log1p(const Tensor& a) {
  return unary(UnaryOp::Log1p, "Log1PBackward0", a, true, false,
               [](const Tensor& g, const Tensor& x, const Tensor&) { return div(g, add(x, s(1.0))); });
}
Tensor expm1(const Tensor& a) {
  return unary(UnaryOp::Expm1, "Expm1Backward0", a, false, true,
               [](const Tensor& g, const Tensor&, const Tensor& y) { return mul(g, add(y, s(1.0))); });
}
Tensor sqrt(const Tensor& a) {
  return unary(UnaryOp::Sqrt, "SqrtBackward0", a, false, true,
               [](const Tensor& g, const Tensor&, const Tensor& y) { return div(g, mul(y, s(2.0))); });
}
Tensor rsqrt(const Tensor& a) {
  return unary(UnaryOp::Rsqrt, "RsqrtBackward0", a, false, true, [](const Tensor& g, const Tensor&, const Tensor& y) {
    return mul(g, mul(mul(y, mul(y, y)), s(-0.5)));
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
               [](const Tensor& g, const Tensor&, const Tensor& y) { return mul(g, add(mul(y, y), s(1.0))); });
}
Tensor asin(const Tensor& a) {
  return unary(UnaryOp::Asin, "AsinBackward0", a, true, false, [](const Tensor& g, const Tensor& x, const Tensor&) {
    return div(g, sqrt(sub(s(1.0), mul(x, x))));
  });
}
Tensor acos(const Tensor& a) {
  return unary(UnaryOp::Acos, "AcosBackward0", a, true, false, [](const Tensor& g, const Tensor& x, const Tensor&) {
    return neg(div(g, sqrt(sub(s(1.0), mul(x, x)))));
  });
}
Tensor atan(const Tensor& a) {
  return unary(UnaryOp::Atan, "AtanBackward0", a, true, false,
               [](const Tensor& g, const Tensor& x, const Tensor&) { return div(g, add(mul(x, x), s(1.0))); });
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
               [](const Tensor& g, const Tensor&, const Tensor& y) { return mul(g, sub(s(1.0), mul(y, y))); });
}
Tensor sigmoid(const Tensor& a) {
  return unary(UnaryOp::Sigmoid, "SigmoidBackward0", a, false, true,
               [](const Tensor& g, const Tensor&, const Tensor& y) { return mul(g, mul(y, sub(s(1.0), y))); });
}
Tensor erf(const Tensor& a) {
  return unary(UnaryOp::Erf, "ErfBackward0", a, true, false, [](const Tensor& g, const Tensor& x, const Tensor&) {
    return mul(g, mul(exp(neg(mul(x, x))), s(2.0 / std::sqrt(M_PI))));
  });
}
Tensor reciprocal(const Tensor& a) {
  return unary(UnaryOp::Reciprocal, "ReciprocalBackward0", a, false, true,
               [](const Tensor& g, const Tensor&, const Tensor& y) { return neg(mul(g, mul(y, y))); });
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
  const bool f32 = a.dtype() == ScalarType::Float32;
  const double big = f32 ? std::numeric_limits<float>::max() : std::numeric_limits<double>::max();
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

Tensor& neg_(Tensor& a) { return inplace(a, "neg_", [](const Tensor& x) { return neg(x); }); }
Tensor& abs_(Tensor& a) { return inplace(a, "abs_", [](const Tensor& x) { return abs(x); }); }
Tensor& exp_(Tensor& a) { return inplace(a, "exp_", [](const Tensor& x) { return exp(x); }); }
Tensor& log_(Tensor& a) { return inplace(a, "log_", [](const Tensor& x) { return log(x); }); }
Tensor& sqrt_(Tensor& a) { return inplace(a, "sqrt_", [](const Tensor& x) { return sqrt(x); }); }
Tensor& sigmoid_(Tensor& a) { return inplace(a, "sigmoid_", [](const Tensor& x) { return sigmoid(x); }); }
Tensor& tanh_(Tensor& a) { return inplace(a, "tanh_", [](const Tensor& x) { return tanh(x); }); }
Tensor& relu_(Tensor& a) { return inplace(a, "relu_", [](const Tensor& x) { return relu(x); }); }
Tensor& floor_(Tensor& a) { return inplace(a, "floor_", [](const Tensor& x) { return floor(x); }); }
Tensor& ceil_(Tensor& a) { return inplace(a, "ceil_", [](const Tensor& x) { return ceil(x); }); }
Tensor& round_(Tensor& a) { return inplace(a, "round_", [](const Tensor& x) { return round(x); }); }
Tensor& trunc_(Tensor& a) { return inplace(a, "trunc_", [](const Tensor& x) { return trunc(x); }); }
Tensor& reciprocal_(Tensor& a) { return inplace(a, "reciprocal_", [](const Tensor& x) { return reciprocal(x); }); }
Tensor& square_(Tensor& a) { return inplace(a, "square_", [](const Tensor& x) { return square(x); }); }
Tensor& sign_(Tensor& a) { return inplace(a, "sign_", [](const Tensor& x) { return sign(x); }); }
Tensor& exp2_(Tensor& a) { return inplace(a, "exp2_", [](const Tensor& x) { return exp2(x); }); }
Tensor& log2_(Tensor& a) { return inplace(a, "log2_", [](const Tensor& x) { return log2(x); }); }
Tensor& log10_(Tensor& a) { return inplace(a, "log10_", [](const Tensor& x) { return log10(x); }); }
Tensor& log1p_(Tensor& a) { return inplace(a, "log1p_", [](const Tensor& x) { return log1p(x); }); }
Tensor& expm1_(Tensor& a) { return inplace(a, "expm1_", [](const Tensor& x) { return expm1(x); }); }
Tensor& rsqrt_(Tensor& a) { return inplace(a, "rsqrt_", [](const Tensor& x) { return rsqrt(x); }); }
Tensor& sin_(Tensor& a) { return inplace(a, "sin_", [](const Tensor& x) { return sin(x); }); }
Tensor& cos_(Tensor& a) { return inplace(a, "cos_", [](const Tensor& x) { return cos(x); }); }
Tensor& tan_(Tensor& a) { return inplace(a, "tan_", [](const Tensor& x) { return tan(x); }); }
Tensor& asin_(Tensor& a) { return inplace(a, "asin_", [](const Tensor& x) { return asin(x); }); }
Tensor& acos_(Tensor& a) { return inplace(a, "acos_", [](const Tensor& x) { return acos(x); }); }
Tensor& atan_(Tensor& a) { return inplace(a, "atan_", [](const Tensor& x) { return atan(x); }); }
Tensor& sinh_(Tensor& a) { return inplace(a, "sinh_", [](const Tensor& x) { return sinh(x); }); }
Tensor& cosh_(Tensor& a) { return inplace(a, "cosh_", [](const Tensor& x) { return cosh(x); }); }
Tensor& erf_(Tensor& a) { return inplace(a, "erf_", [](const Tensor& x) { return erf(x); }); }
Tensor& frac_(Tensor& a) { return inplace(a, "frac_", [](const Tensor& x) { return frac(x); }); }
Tensor& logical_not_(Tensor& a) { return inplace(a, "logical_not_", [](const Tensor& x) { return logical_not(x); }); }
Tensor& bitwise_not_(Tensor& a) { return inplace(a, "bitwise_not_", [](const Tensor& x) { return bitwise_not(x); }); }
Tensor& clamp_(Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max) {
  return inplace(a, "clamp_", [&](const Tensor& x) { return clamp(x, min, max); });
}
Tensor& nan_to_num_(Tensor& a, std::optional<double> nan, std::optional<double> posinf,
                    std::optional<double> neginf) {
  return inplace(a, "nan_to_num_", [&](const Tensor& x) { return nan_to_num(x, nan, posinf, neginf); });
}

Tensor operator-(const Tensor& a) { return neg(a); }

}  // namespace norch

// Binary elementwise ops: shape and dtype rules, dispatch, backward formulas.
#include "norch/ops/binary.h"

#include "kernels/binary.h"
#include "norch/autograd/function.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/unary.h"
#include "ops/inplace.h"

namespace norch {

DispatchStub<BinaryKernel> binary_stub("binary");

using autograd::BackwardContext;

namespace {

// Runs the kernel; `out` undefined allocates. No autograd here.
Tensor run(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out = Tensor()) {
  NORCH_CHECK(a.defined() && b.defined(), binary_op_name(op), ": undefined tensor argument");
  TensorIterator::Config cfg;
  cfg.op_name = binary_op_name(op);
  const BinaryKind kind = binary_op_kind(op);
  cfg.promote_integer_to_float = kind == BinaryKind::FloatMath;
  if (kind == BinaryKind::Compare) {
    cfg.has_output_dtype = true;
    cfg.output_dtype = ScalarType::Bool;
    cfg.cast_to_output = true;
  }
  TensorIterator it = TensorIterator::binary(out, a, b, cfg);
  // NotImplementedError (a RuntimeError) for dtypes the kernel lacks, as PyTorch.
  if (kind == BinaryKind::Bitwise || kind == BinaryKind::Shift)
    NORCH_CHECK_KIND(ErrorKind::NotImplemented, is_integral(it.common_dtype(), true), '"', binary_op_name(op),
                     "\" is not implemented for dtype ", dtype_name(it.common_dtype()),
                     " (bitwise ops need integer or bool tensors)");
  if (kind == BinaryKind::FloatOnly)
    NORCH_CHECK_KIND(ErrorKind::NotImplemented, is_floating_point(it.common_dtype()), '"', binary_op_name(op),
                     "\" not implemented for dtype ", dtype_name(it.common_dtype()));
  if (kind == BinaryKind::Shift)
    NORCH_CHECK_KIND(ErrorKind::NotImplemented, it.common_dtype() != ScalarType::Bool, '"', binary_op_name(op),
                     "\" is not implemented for dtype bool");
  if ((op == BinaryOp::FloorDiv || op == BinaryOp::TruncDiv || op == BinaryOp::Remainder || op == BinaryOp::Fmod) &&
      !is_floating_point(it.common_dtype())) {
    Tensor zero_check = run(BinaryOp::Eq, b, scalar_to_tensor(Scalar(0)));
    bool any_zero = false;
    Tensor cz = contiguous(to_device(zero_check, Device()));
    for (int64_t i = 0; i < cz.numel(); ++i) any_zero = any_zero || cz.data<bool>()[i];
    NORCH_CHECK(!any_zero, "ZeroDivisionError: integer division or modulo by zero in ", binary_op_name(op));
  }
  binary_stub(it.device(), binary_op_name(op))(it, op);
  return it.output();
}

// Every `op_(self, other)`: the kernel writes into self directly unless history
// must be recorded (Note [In-place elementwise ops], ops/inplace.h).
template <typename OutOfPlace>
Tensor& inplace(Tensor& self, const Tensor& other, BinaryOp op, const char* name, OutOfPlace f) {
  return norch::inplace(self, name, autograd::needs_grad(self, other),
                        [&](const Tensor& src) { return f(src, other); }, [&] { run(op, self, other, self); });
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  if (!(alpha.is_integral() && alpha.to_int() == 1)) return add(a, mul(b, alpha));
  Tensor out = run(BinaryOp::Add, a, b);
  if (autograd::needs_grad(a, b))
    autograd::record("AddBackward0", {a, b}, {out}, {}, [](BackwardContext&, const TensorList& g) -> TensorList {
      return {g[0], g[0]};
    });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  NORCH_CHECK(!(a.dtype() == ScalarType::Bool && b.dtype() == ScalarType::Bool),
              "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` "
              "operator instead.");
  NORCH_CHECK(a.dtype() != ScalarType::Bool && b.dtype() != ScalarType::Bool,
              "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a "
              "mask, use the `~` or `logical_not()` operator instead.");
  if (!(alpha.is_integral() && alpha.to_int() == 1)) return sub(a, mul(b, alpha));
  Tensor out = run(BinaryOp::Sub, a, b);
  if (autograd::needs_grad(a, b))
    autograd::record("SubBackward0", {a, b}, {out}, {}, [](BackwardContext& ctx, const TensorList& g) -> TensorList {
      return {g[0], ctx.needs_input_grad(1) ? neg(g[0]) : Tensor()};
    });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = run(BinaryOp::Mul, a, b);
  if (autograd::needs_grad(a, b)) {
    // Save only what the other input's gradient needs.
    autograd::record("MulBackward0", {a, b}, {out}, {b.requires_grad() ? a : Tensor(), a.requires_grad() ? b : Tensor()},
                     [](BackwardContext& ctx, const TensorList& g) -> TensorList {
                       return {ctx.needs_input_grad(0) ? mul(g[0], ctx.saved(1)) : Tensor(),
                               ctx.needs_input_grad(1) ? mul(g[0], ctx.saved(0)) : Tensor()};
                     });
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b, const std::string& rounding_mode) {
  if (rounding_mode == "floor") return floor_divide(a, b);
  if (rounding_mode == "trunc") {
    Tensor out = run(BinaryOp::TruncDiv, a, b);
    if (autograd::needs_grad(a, b))
      autograd::record("DivBackward1", {a, b}, {out}, {}, [](BackwardContext&, const TensorList& g) -> TensorList {
        return {zeros_like(g[0]), zeros_like(g[0])};
      });
    return out;
  }
  NORCH_CHECK(rounding_mode.empty(), "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '",
                    rounding_mode, "'");
  Tensor out = run(BinaryOp::Div, a, b);
  if (autograd::needs_grad(a, b)) {
    autograd::record("DivBackward0", {a, b}, {out}, {b.requires_grad() ? a : Tensor(), b},
                     [](BackwardContext& ctx, const TensorList& g) -> TensorList {
                       Tensor b = ctx.saved(1);
                       Tensor ga = ctx.needs_input_grad(0) ? div(g[0], b) : Tensor();
                       // d(a/b)/db = -a / b^2
                       Tensor gb = ctx.needs_input_grad(1) ? neg(div(mul(g[0], ctx.saved(0)), mul(b, b))) : Tensor();
                       return {ga, gb};
                     });
  }
  return out;
}

Tensor floor_divide(const Tensor& a, const Tensor& b) {
  Tensor out = run(BinaryOp::FloorDiv, a, b);
  if (autograd::needs_grad(a, b))
    autograd::record("DivBackward1", {a, b}, {out}, {}, [](BackwardContext&, const TensorList& g) -> TensorList {
      return {zeros_like(g[0]), zeros_like(g[0])};
    });
  return out;
}


Tensor remainder(const Tensor& a, const Tensor& b) {
  Tensor out = run(BinaryOp::Remainder, a, b);
  if (autograd::needs_grad(a, b))
    autograd::record("RemainderBackward0", {a, b}, {out}, {b.requires_grad() ? a : Tensor(), b.requires_grad() ? b : Tensor()},
                     [](BackwardContext& ctx, const TensorList& g) -> TensorList {
                       Tensor gb;
                       if (ctx.needs_input_grad(1)) gb = neg(mul(g[0], floor_divide(ctx.saved(0), ctx.saved(1))));
                       return {g[0], gb};
                     });
  return out;
}

Tensor fmod(const Tensor& a, const Tensor& b) {
  // Its own kernel (std::fmod is exact; a - trunc(a / b) * b is not).
  Tensor out = run(BinaryOp::Fmod, a, b);
  if (autograd::needs_grad(a, b))
    autograd::record("FmodBackward1", {a, b}, {out}, {b.requires_grad() ? a : Tensor(), b.requires_grad() ? b : Tensor()},
                     [](BackwardContext& ctx, const TensorList& g) -> TensorList {
                       Tensor gb;
                       if (ctx.needs_input_grad(1)) gb = neg(mul(g[0], div(ctx.saved(0), ctx.saved(1), "trunc")));
                       return {g[0], gb};
                     });
  return out;
}

Tensor pow(const Tensor& a, const Tensor& b) {
  // Only a Python number is checked: a tensor of negative exponents gives 0 (or
  // +-1) per element, as in PyTorch.
  if (b.impl()->is_wrapped_number && is_integral(a.dtype(), true) && b.dtype() == ScalarType::Int64)
    NORCH_CHECK(b.item().to_int() >= 0, "Integers to negative integer powers are not allowed.");
  Tensor out = run(BinaryOp::Pow, a, b);
  if (autograd::needs_grad(a, b)) {
    autograd::record("PowBackward1", {a, b}, {out}, {a, b, b.requires_grad() ? out : Tensor()},
                     [](BackwardContext& ctx, const TensorList& g) -> TensorList {
                       Tensor x = ctx.saved(0), e = ctx.saved(1);
                       Tensor ga, gb;
                       if (ctx.needs_input_grad(0)) {
                         // d/dx x^e = e * x^(e-1); 0 where e == 0 (so 0^0 does not give NaN)
                         Tensor d = mul(e, pow(x, sub(e, scalar_to_tensor(Scalar(1)))));
                         ga = mul(g[0], where(eq(e, scalar_to_tensor(Scalar(0))), zeros_like(d), d));
                       }
                       if (ctx.needs_input_grad(1)) {
                         // d/de x^e = x^e * log(x); 0 where x == 0 and e >= 0
                         Tensor d = mul(ctx.saved(2), log(x));
                         Tensor mask = logical_and(eq(x, scalar_to_tensor(Scalar(0))), ge(e, scalar_to_tensor(Scalar(0))));
                         gb = mul(g[0], where(mask, zeros_like(d), d));
                       }
                       return {ga, gb};
                     });
  }
  return out;
}

namespace {
// Gradient of maximum/minimum: the winner takes it; ties split it evenly.
TensorList select_grad(const Tensor& g, const Tensor& a, const Tensor& b, bool is_max, BackwardContext& ctx) {
  Tensor z = zeros_like(g);
  Tensor half = mul(g, scalar_to_tensor(Scalar(0.5)));
  Tensor a_wins = is_max ? gt(a, b) : lt(a, b);
  Tensor b_wins = is_max ? lt(a, b) : gt(a, b);
  Tensor tie = eq(a, b);
  Tensor ga, gb;
  if (ctx.needs_input_grad(0)) ga = where(a_wins, g, where(tie, half, z));
  if (ctx.needs_input_grad(1)) gb = where(b_wins, g, where(tie, half, z));
  return {ga, gb};
}
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = run(BinaryOp::Maximum, a, b);
  if (autograd::needs_grad(a, b))
    autograd::record("MaximumBackward0", {a, b}, {out}, {a, b}, [](BackwardContext& ctx, const TensorList& g) {
      return select_grad(g[0], ctx.saved(0), ctx.saved(1), true, ctx);
    });
  return out;
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor out = run(BinaryOp::Minimum, a, b);
  if (autograd::needs_grad(a, b))
    autograd::record("MinimumBackward0", {a, b}, {out}, {a, b}, [](BackwardContext& ctx, const TensorList& g) {
      return select_grad(g[0], ctx.saved(0), ctx.saved(1), false, ctx);
    });
  return out;
}

Tensor atan2(const Tensor& a, const Tensor& b) {
  Tensor out = run(BinaryOp::Atan2, a, b);
  if (autograd::needs_grad(a, b))
    autograd::record("Atan2Backward0", {a, b}, {out}, {a, b}, [](BackwardContext& ctx, const TensorList& g) -> TensorList {
      Tensor y = ctx.saved(0), x = ctx.saved(1);
      // PyTorch zeroes the reciprocal where it is infinite (both inputs 0, or their
      // squares underflow), so atan2(x, x) has a finite gradient at 0.
      Tensor recip = reciprocal(add(mul(y, y), mul(x, x)));
      recip = where(isinf(recip), zeros_like(recip), recip);
      return {ctx.needs_input_grad(0) ? mul(mul(g[0], x), recip) : Tensor(),
              ctx.needs_input_grad(1) ? mul(mul(g[0], neg(y)), recip) : Tensor()};
    });
  return out;
}

Tensor hypot(const Tensor& a, const Tensor& b) {
  Tensor out = run(BinaryOp::Hypot, a, b);
  if (autograd::needs_grad(a, b))
    autograd::record("HypotBackward0", {a, b}, {out}, {a, b, out}, [](BackwardContext& ctx, const TensorList& g) -> TensorList {
      Tensor y = ctx.saved(2);
      return {ctx.needs_input_grad(0) ? div(mul(g[0], ctx.saved(0)), y) : Tensor(),
              ctx.needs_input_grad(1) ? div(mul(g[0], ctx.saved(1)), y) : Tensor()};
    });
  return out;
}

// Comparisons and logical/bitwise ops have no gradient: their outputs are bool/integer.
Tensor eq(const Tensor& a, const Tensor& b) { return run(BinaryOp::Eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return run(BinaryOp::Ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return run(BinaryOp::Lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return run(BinaryOp::Le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return run(BinaryOp::Gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return run(BinaryOp::Ge, a, b); }
Tensor logical_and(const Tensor& a, const Tensor& b) { return run(BinaryOp::LogicalAnd, a, b); }
Tensor logical_or(const Tensor& a, const Tensor& b) { return run(BinaryOp::LogicalOr, a, b); }
Tensor logical_xor(const Tensor& a, const Tensor& b) { return run(BinaryOp::LogicalXor, a, b); }
Tensor bitwise_and(const Tensor& a, const Tensor& b) { return run(BinaryOp::BitAnd, a, b); }
Tensor bitwise_or(const Tensor& a, const Tensor& b) { return run(BinaryOp::BitOr, a, b); }
Tensor bitwise_xor(const Tensor& a, const Tensor& b) { return run(BinaryOp::BitXor, a, b); }
Tensor bitwise_left_shift(const Tensor& a, const Tensor& b) { return run(BinaryOp::LeftShift, a, b); }
Tensor bitwise_right_shift(const Tensor& a, const Tensor& b) { return run(BinaryOp::RightShift, a, b); }

Tensor add(const Tensor& a, const Scalar& b) { return add(a, scalar_to_tensor(b, a.device())); }
Tensor sub(const Tensor& a, const Scalar& b) { return sub(a, scalar_to_tensor(b, a.device())); }
Tensor mul(const Tensor& a, const Scalar& b) { return mul(a, scalar_to_tensor(b, a.device())); }
Tensor div(const Tensor& a, const Scalar& b) { return div(a, scalar_to_tensor(b, a.device())); }
Tensor pow(const Tensor& a, const Scalar& b) { return pow(a, scalar_to_tensor(b, a.device())); }

Tensor& add_(Tensor& self, const Tensor& other, const Scalar& alpha) {
  if (!(alpha.is_integral() && alpha.to_int() == 1)) return add_(self, mul(other, alpha));
  return inplace(self, other, BinaryOp::Add, "add_", [](const Tensor& a, const Tensor& b) { return add(a, b); });
}
Tensor& sub_(Tensor& self, const Tensor& other, const Scalar& alpha) {
  if (!(alpha.is_integral() && alpha.to_int() == 1)) return sub_(self, mul(other, alpha));
  return inplace(self, other, BinaryOp::Sub, "sub_", [](const Tensor& a, const Tensor& b) { return sub(a, b); });
}
Tensor& div_(Tensor& self, const Tensor& other, const std::string& rounding_mode) {
  BinaryOp op = rounding_mode == "floor" ? BinaryOp::FloorDiv
                : rounding_mode == "trunc" ? BinaryOp::TruncDiv
                                           : BinaryOp::Div;
  return inplace(self, other, op, "div_", [&](const Tensor& a, const Tensor& b) { return div(a, b, rounding_mode); });
}
// The other in-place forms come from the table (the `Yes` column of NORCH_BINARY_OPS).
#define NORCH_BINARY_INPLACE_Yes(E, name)                                                               \
  Tensor& name##_(Tensor& self, const Tensor& other) {                                                  \
    return inplace(self, other, BinaryOp::E, #name "_", [](const Tensor& a, const Tensor& b) { return name(a, b); }); \
  }
#define NORCH_BINARY_INPLACE_No(E, name)
#define NORCH_BINARY_INPLACE(E, name, kind, inplace) NORCH_BINARY_INPLACE_##inplace(E, name)
NORCH_BINARY_OPS(NORCH_BINARY_INPLACE)
#undef NORCH_BINARY_INPLACE
#undef NORCH_BINARY_INPLACE_No
#undef NORCH_BINARY_INPLACE_Yes

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, const Scalar& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Scalar& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Scalar& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Scalar& b) { return div(a, b); }

}  // namespace norch

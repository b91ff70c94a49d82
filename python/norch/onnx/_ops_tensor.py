"""ONNX handlers for norch's tensor ops: elementwise math, comparisons, reductions, matmul.

A handler receives the Graph and the op's own arguments (the call ran already; its
result is ``g.out``) and returns the ONNX name of each tensor in the result. ONNX does
not promote types, so operands are cast to the dtype norch computed (``g.out.dtype``).
Shape ops, indexing and factories are in _ops_shape.py, nn ops in _ops_nn.py.
"""
from .. import _C
from ._graph import Unsupported
from ._symint import SymInt
from ._tracer import handler


def _keys(*names, inplace=True):
    keys = []
    for n in names:
        keys += [n, "Tensor." + n]
        if inplace:
            keys.append("Tensor." + n + "_")
    return keys


# ---- elementwise unary ---------------------------------------------------------------
_UNARY = {"neg": "Neg", "negative": "Neg", "abs": "Abs", "absolute": "Abs", "exp": "Exp", "log": "Log",
          "sqrt": "Sqrt", "sin": "Sin", "cos": "Cos", "tan": "Tan", "asin": "Asin", "arcsin": "Asin",
          "acos": "Acos", "arccos": "Acos", "atan": "Atan", "arctan": "Atan", "sinh": "Sinh", "cosh": "Cosh",
          "tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu", "erf": "Erf", "floor": "Floor", "ceil": "Ceil",
          "reciprocal": "Reciprocal", "sign": "Sign"}


def _unary(op_type):
    def h(g, input, *args, **kwargs):
        return g.op(op_type, g.v(input, g.out.dtype))
    return h


for _n, _op in _UNARY.items():
    handler(*_keys(_n))(_unary(_op))
handler("Tensor.__neg__")(_unary("Neg"))
handler("Tensor.__abs__")(_unary("Abs"))


@handler("Tensor.__pos__")
def _pos(g, input):
    return g.op("Identity", g.v(input))


@handler(*_keys("round"))
def _round(g, input, decimals=0):
    x = g.v(input, g.out.dtype)
    if decimals == 0:
        return g.op("Round", x)
    scale = g.scalar(10.0 ** decimals, g.out.dtype)
    return g.op("Div", g.op("Round", g.op("Mul", x, scale)), scale)


def _trunc_name(g, x):
    return g.op("Mul", g.op("Sign", x), g.op("Floor", g.op("Abs", x)))


@handler(*_keys("trunc", "fix"))
def _trunc(g, input):
    return _trunc_name(g, g.v(input, g.out.dtype))


@handler(*_keys("frac"))
def _frac(g, input):
    x = g.v(input, g.out.dtype)
    return g.op("Sub", x, _trunc_name(g, x))


@handler(*_keys("rsqrt"))
def _rsqrt(g, input):
    return g.op("Reciprocal", g.op("Sqrt", g.v(input, g.out.dtype)))


@handler(*_keys("square"))
def _square(g, input):
    x = g.v(input, g.out.dtype)
    return g.op("Mul", x, x)


@handler(*_keys("exp2"))
def _exp2(g, input):
    return g.op("Pow", g.scalar(2.0, g.out.dtype), g.v(input, g.out.dtype))


def _log_base(base):
    import math

    def h(g, input):
        return g.op("Div", g.op("Log", g.v(input, g.out.dtype)), g.scalar(math.log(base), g.out.dtype))
    return h


handler(*_keys("log2"))(_log_base(2.0))
handler(*_keys("log10"))(_log_base(10.0))


@handler(*_keys("log1p"))
def _log1p(g, input):
    return g.op("Log", g.op("Add", g.v(input, g.out.dtype), g.scalar(1.0, g.out.dtype)))


@handler(*_keys("expm1"))
def _expm1(g, input):
    return g.op("Sub", g.op("Exp", g.v(input, g.out.dtype)), g.scalar(1.0, g.out.dtype))


@handler(*_keys("isnan", inplace=False))
def _isnan(g, input):
    return g.op("IsNaN", g.v(input))


@handler(*_keys("isinf", inplace=False))
def _isinf(g, input):
    return g.op("IsInf", g.v(input))


@handler(*_keys("isfinite", inplace=False))
def _isfinite(g, input):
    x = g.v(input)
    return g.op("Not", g.op("Or", g.op("IsNaN", x), g.op("IsInf", x)))


# ---- elementwise binary --------------------------------------------------------------
def _scaled(g, other, alpha, dt):
    b = g.v(other, dt)
    return b if alpha == 1 else g.op("Mul", b, g.scalar(alpha, dt))


def _arith(op_type, swap=False):
    def h(g, input, other, *, alpha=1, out=None):
        dt = g.out.dtype
        a, b = (other, input) if swap else (input, other)
        if alpha != 1:
            return g.op(op_type, g.v(a, dt), _scaled(g, b, alpha, dt))
        return g.op(op_type, g.v(a, dt), g.v(b, dt))
    return h


handler(*_keys("add"), "Tensor.__add__", "Tensor.__radd__", "Tensor.__iadd__")(_arith("Add"))
handler(*_keys("sub", "subtract"), "Tensor.__sub__", "Tensor.__isub__")(_arith("Sub"))
handler("Tensor.__rsub__")(_arith("Sub", swap=True))
handler(*_keys("mul", "multiply"), "Tensor.__mul__", "Tensor.__rmul__", "Tensor.__imul__")(_arith("Mul"))
handler(*_keys("maximum"))(_arith("Max"))
handler(*_keys("minimum"))(_arith("Min"))
handler(*_keys("pow"), "Tensor.__pow__", "Tensor.__ipow__")(_arith("Pow"))
handler("Tensor.__rpow__")(_arith("Pow", swap=True))


@handler("rsub")
def _rsub(g, input, other, alpha=1):
    dt = g.out.dtype
    return g.op("Sub", g.v(other, dt), _scaled(g, input, alpha, dt))


def _floor_div(g, a, b, dt):
    if dt.is_floating_point:
        return g.op("Floor", g.op("Div", g.v(a, dt), g.v(b, dt)))
    f = _C.float64
    return g.cast(g.op("Floor", g.op("Div", g.v(a, f), g.v(b, f))), dt)


def _div(swap=False):
    def h(g, input, other, *, rounding_mode=None, out=None):
        a, b = (other, input) if swap else (input, other)
        dt = g.out.dtype
        if rounding_mode is None:
            return g.op("Div", g.v(a, dt), g.v(b, dt))
        if rounding_mode == "floor":
            return _floor_div(g, a, b, dt)
        if rounding_mode == "trunc":
            if dt.is_floating_point:
                return _trunc_name(g, g.op("Div", g.v(a, dt), g.v(b, dt)))
            return g.op("Div", g.v(a, dt), g.v(b, dt))  # ONNX integer Div truncates
        raise Unsupported(f"rounding_mode={rounding_mode!r}")
    return h


handler(*_keys("div", "divide", "true_divide"), "Tensor.__truediv__", "Tensor.__itruediv__")(_div())
handler("Tensor.__rtruediv__")(_div(swap=True))


@handler(*_keys("floor_divide"), "Tensor.__floordiv__", "Tensor.__ifloordiv__")
def _floordiv(g, input, other):
    return _floor_div(g, input, other, g.out.dtype)


@handler("Tensor.__rfloordiv__")
def _rfloordiv(g, input, other):
    return _floor_div(g, other, input, g.out.dtype)


def _remainder_name(g, a, b, dt):
    if not dt.is_floating_point:
        return g.op("Mod", g.v(a, dt), g.v(b, dt))  # fmod=0: the sign of the divisor, as Python's %
    x, y = g.v(a, dt), g.v(b, dt)
    return g.op("Sub", x, g.op("Mul", g.op("Floor", g.op("Div", x, y)), y))


@handler(*_keys("remainder"), "Tensor.__mod__", "Tensor.__imod__")
def _remainder(g, input, other):
    return _remainder_name(g, input, other, g.out.dtype)


@handler("Tensor.__rmod__")
def _rmod(g, input, other):
    return _remainder_name(g, other, input, g.out.dtype)


@handler(*_keys("fmod"))
def _fmod(g, input, other):
    dt = g.out.dtype
    return g.op("Mod", g.v(input, dt), g.v(other, dt), fmod=1)


def _promote(a, b):
    return _C.result_type(a, b)


def _compare(op_type, negate=False):
    def h(g, input, other):
        dt = _promote(input, other)
        r = g.op(op_type, g.v(input, dt), g.v(other, dt))
        return g.op("Not", r) if negate else r
    return h


handler(*_keys("eq"), "Tensor.__eq__")(_compare("Equal"))
handler(*_keys("ne", "not_equal"), "Tensor.__ne__")(_compare("Equal", negate=True))
handler(*_keys("lt", "less"), "Tensor.__lt__")(_compare("Less"))
handler(*_keys("le", "less_equal"), "Tensor.__le__")(_compare("LessOrEqual"))
handler(*_keys("gt", "greater"), "Tensor.__gt__")(_compare("Greater"))
handler(*_keys("ge", "greater_equal"), "Tensor.__ge__")(_compare("GreaterOrEqual"))


def _logical(op_type):
    def h(g, input, other):
        return g.op(op_type, g.v(input, _C.bool), g.v(other, _C.bool))
    return h


handler(*_keys("logical_and"))(_logical("And"))
handler(*_keys("logical_or"))(_logical("Or"))
handler(*_keys("logical_xor"))(_logical("Xor"))


@handler(*_keys("clamp", "clip"))
def _clamp(g, input, min=None, max=None):
    dt = g.out.dtype
    x = g.v(input, dt)
    if min is not None:
        x = g.op("Max", x, g.v(min, dt))
    if max is not None:
        x = g.op("Min", x, g.v(max, dt))
    return x


@handler("where")
def _where(g, condition, input, other):
    dt = g.out.dtype
    return g.op("Where", g.v(condition, _C.bool), g.v(input, dt), g.v(other, dt))


@handler("Tensor.where")
def _where_method(g, self, condition, other):
    return _where(g, condition, self, other)


@handler(*_keys("masked_fill"))
def _masked_fill(g, input, mask, value):
    dt = g.out.dtype
    return g.op("Where", g.v(mask, _C.bool), g.v(value, dt), g.v(input, dt))


@handler(*_keys("lerp"))
def _lerp(g, input, end, weight):
    dt = g.out.dtype
    a = g.v(input, dt)
    return g.op("Add", a, g.op("Mul", g.v(weight, dt), g.op("Sub", g.v(end, dt), a)))


# ---- reductions ----------------------------------------------------------------------
def _axes(dim, ndim):
    if dim is None:
        return list(range(ndim))
    if isinstance(dim, int):
        return [dim % max(ndim, 1)]
    return [d % max(ndim, 1) for d in dim]


def _reduce_attr(op_type):
    def h(g, input, dim=None, keepdim=False, *, dtype=None):
        x = g.v(input, g.out.dtype)
        if input.dim() == 0:
            return g.op("Identity", x)
        return g.op(op_type, x, axes=_axes(dim, input.dim()), keepdims=int(bool(keepdim)))
    return h


@handler(*_keys("sum", inplace=False))
def _sum(g, input, dim=None, keepdim=False, *, dtype=None):
    x = g.v(input, g.out.dtype)
    if input.dim() == 0:
        return g.op("Identity", x)
    return g.op("ReduceSum", x, g.i64(_axes(dim, input.dim())), keepdims=int(bool(keepdim)))


handler(*_keys("mean", inplace=False))(_reduce_attr("ReduceMean"))
handler(*_keys("prod", inplace=False))(_reduce_attr("ReduceProd"))
handler(*_keys("amax", inplace=False))(_reduce_attr("ReduceMax"))
handler(*_keys("amin", inplace=False))(_reduce_attr("ReduceMin"))
handler(*_keys("logsumexp", inplace=False))(_reduce_attr("ReduceLogSumExp"))


def _max_min(reduce_op, arg_op, binary_op):
    def h(g, input, dim=None, keepdim=None):
        if isinstance(dim, _C.Tensor):
            dt = g.out.dtype
            return g.op(binary_op, g.v(input, dt), g.v(dim, dt))
        x = g.v(input)
        if dim is None:
            return g.op(reduce_op, x, keepdims=0) if input.dim() else g.op("Identity", x)
        keep = int(bool(keepdim))
        axis = dim % max(input.dim(), 1)
        if input.dim() == 0:
            return [g.op("Identity", x), g.const(0, "int64")]
        return [g.op(reduce_op, x, axes=[axis], keepdims=keep), g.op(arg_op, x, axis=axis, keepdims=keep)]
    return h


handler(*_keys("max", inplace=False))(_max_min("ReduceMax", "ArgMax", "Max"))
handler(*_keys("min", inplace=False))(_max_min("ReduceMin", "ArgMin", "Min"))


def _arg(op_type):
    def h(g, input, dim=None, keepdim=False):
        x = g.v(input)
        if dim is None:
            flat = g.op("Reshape", x, g.i64([-1]))
            r = g.op(op_type, flat, axis=0, keepdims=0)
            return g.op("Reshape", r, g.i64([1] * input.dim())) if keepdim else r
        return g.op(op_type, x, axis=dim % max(input.dim(), 1), keepdims=int(bool(keepdim)))
    return h


handler(*_keys("argmax", inplace=False))(_arg("ArgMax"))
handler(*_keys("argmin", inplace=False))(_arg("ArgMin"))


def _count(g, input, axes):
    """The number of elements reduced over ``axes``, as a tensor of input's dtype (dynamic sizes included)."""
    n = 1
    sizes = g.sizes(input)
    for a in axes:
        n = n * sizes[a]
    if isinstance(n, SymInt) and not n.static:
        return g.cast(g.op("Squeeze", g.sym(n), g.i64([0])), input.dtype)
    return g.scalar(int(n), input.dtype)


def _var_name(g, input, dim, unbiased, keepdim, correction):
    axes = _axes(dim, input.dim())
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    x = g.v(input, g.out.dtype)
    mean = g.op("ReduceMean", x, axes=axes, keepdims=1)
    d = g.op("Sub", x, mean)
    ss = g.op("ReduceSum", g.op("Mul", d, d), g.i64(axes), keepdims=int(bool(keepdim)))
    n = _count(g, input, axes)
    return g.op("Div", ss, g.op("Sub", n, g.scalar(correction, g.out.dtype)))


@handler(*_keys("var", inplace=False))
def _var(g, input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _var_name(g, input, dim, unbiased, keepdim, correction)


@handler(*_keys("std", inplace=False))
def _std(g, input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return g.op("Sqrt", _var_name(g, input, dim, unbiased, keepdim, correction))


@handler(*_keys("norm", inplace=False))
def _norm(g, input, p="fro", dim=None, keepdim=False, dtype=None):
    x = g.v(input, g.out.dtype)
    axes, keep = _axes(dim, input.dim()), int(bool(keepdim))
    if p in ("fro", 2, 2.0):
        return g.op("ReduceL2", x, axes=axes, keepdims=keep)
    if p in (1, 1.0):
        return g.op("ReduceL1", x, axes=axes, keepdims=keep)
    if p == float("inf"):
        return g.op("ReduceMax", g.op("Abs", x), axes=axes, keepdims=keep)
    raise Unsupported(f"p={p!r}")


def _all_any(op_type):
    def h(g, input, dim=None, keepdim=False):
        x = g.v(input, _C.int32)
        r = g.op(op_type, x, axes=_axes(dim, input.dim()), keepdims=int(bool(keepdim))) if input.dim() else x
        return g.cast(r, _C.bool)
    return h


handler(*_keys("all", inplace=False))(_all_any("ReduceMin"))
handler(*_keys("any", inplace=False))(_all_any("ReduceMax"))


@handler(*_keys("cumsum"))
def _cumsum(g, input, dim, *, dtype=None):
    return g.op("CumSum", g.v(input, g.out.dtype), g.const(dim % max(input.dim(), 1), "int64"))


# ---- matrix products -----------------------------------------------------------------
@handler(*_keys("matmul", "mm", "bmm", "mv", "dot", inplace=False), "Tensor.__matmul__")
def _matmul(g, input, other):
    dt = g.out.dtype
    return g.op("MatMul", g.v(input, dt), g.v(other, dt))


@handler("Tensor.__rmatmul__")
def _rmatmul(g, input, other):
    return _matmul(g, other, input)


@handler(*_keys("outer", inplace=False))
def _outer(g, input, vec2):
    dt = g.out.dtype
    return g.op("Mul", g.op("Unsqueeze", g.v(input, dt), g.i64([1])), g.op("Unsqueeze", g.v(vec2, dt), g.i64([0])))


@handler(*_keys("addmm"))
def _addmm(g, input, mat1, mat2, *, beta=1, alpha=1):
    dt = g.out.dtype
    return g.op("Gemm", g.v(mat1, dt), g.v(mat2, dt), g.v(input, dt), alpha=float(alpha), beta=float(beta))

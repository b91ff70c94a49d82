"""Elementwise ops: one table row per op drives forward checks against NumPy for
every dtype, PyTorch's type promotion, layouts (broadcast, non-contiguous, 0-d,
empty), gradcheck/gradgradcheck; then where/clamp/lerp and errors. Operators and
in-place forms: test_operators.py."""
import math

import numpy as np
import pytest

import torch  # second oracle, for dtype promotion

import norch
from norch.autograd.gradcheck import gradcheck, gradgradcheck

from _oracle import ALL, FLOATS, INTS, NUMERIC, T, check, make


def erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


# --- unary table ------------------------------------------------------------------
# (name, NumPy reference, input domain, dtypes, result kind, differentiable, has `name_`)
# kind: "keep" = same dtype, "float" = ints compute in float32, "bool" = bool result.
UNARY = [
    ("neg", np.negative, "real", NUMERIC, "keep", True, True),
    ("abs", np.abs, "real", NUMERIC, "keep", True, True),
    ("sign", lambda x: x if x.dtype == bool else np.sign(x), "real", ALL, "keep", True, True),
    ("exp", np.exp, "small", ALL, "float", True, True),
    ("exp2", np.exp2, "small", ALL, "float", True, True),
    ("log", np.log, "pos", ALL, "float", True, True),
    ("log2", np.log2, "pos", ALL, "float", True, True),
    ("log10", np.log10, "pos", ALL, "float", True, True),
    ("log1p", np.log1p, "pos", ALL, "float", True, True),
    ("expm1", np.expm1, "small", ALL, "float", True, True),
    ("sqrt", np.sqrt, "pos", ALL, "float", True, True),
    ("rsqrt", lambda x: 1 / np.sqrt(x), "pos", ALL, "float", True, True),
    ("sin", np.sin, "real", ALL, "float", True, True),
    ("cos", np.cos, "real", ALL, "float", True, True),
    ("tan", np.tan, "unit", ALL, "float", True, True),
    ("asin", np.arcsin, "unit", ALL, "float", True, True),
    ("acos", np.arccos, "unit", ALL, "float", True, True),
    ("atan", np.arctan, "real", ALL, "float", True, True),
    ("sinh", np.sinh, "small", ALL, "float", True, True),
    ("cosh", np.cosh, "small", ALL, "float", True, True),
    ("tanh", np.tanh, "real", ALL, "float", True, True),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x)), "real", ALL, "float", True, True),
    ("erf", erf, "real", ALL, "float", True, True),
    ("reciprocal", lambda x: 1 / x, "nonzero", ALL, "float", True, True),
    ("sinc", np.sinc, "real", ALL, "float", True, True),
    ("relu", lambda x: np.maximum(x, 0), "real", NUMERIC, "keep", True, True),
    ("floor", np.floor, "real", NUMERIC, "keep", True, True),
    ("ceil", np.ceil, "real", NUMERIC, "keep", True, True),
    ("round", np.round, "real", NUMERIC, "keep", True, True),
    ("trunc", np.trunc, "real", NUMERIC, "keep", True, True),
    ("frac", lambda x: x - np.trunc(x), "real", FLOATS, "keep", True, True),
    ("square", lambda x: x.astype(np.int64) ** 2 if x.dtype == bool else x * x, "real", ALL, "keep", True, True),
    ("logical_not", np.logical_not, "real", ALL, "bool", False, True),
    ("bitwise_not", np.invert, "real", ("bool",) + INTS, "keep", False, True),
    ("isnan", lambda x: np.isnan(x.astype(np.float64)), "real", ALL, "bool", False, False),
    ("isinf", lambda x: np.isinf(x.astype(np.float64)), "real", ALL, "bool", False, False),
    ("isfinite", lambda x: np.isfinite(x.astype(np.float64)), "real", ALL, "bool", False, False),
    ("nan_to_num", np.nan_to_num, "real", ALL, "keep", True, True),
]
UNARY_IDS = [r[0] for r in UNARY]


def unary_dtype(kind, dtype, name):
    if kind == "bool":
        return "bool"
    if kind == "float" and dtype not in FLOATS:
        return "float32"
    if name == "square" and dtype == "bool":
        return "int64"
    return dtype


def unary_ref(fn, a, kind):
    with np.errstate(divide="ignore", invalid="ignore"):  # log(False) is -inf, as in norch
        if kind == "float" and a.dtype.kind != "f":
            return fn(a.astype(np.float64))
        return fn(a)


def on(device, fn, *arrays):
    """fn on tensors made from `arrays` on `device`, with the result brought back to the
    CPU. Off the CPU, the CPU's result is the reference it must match."""
    out = fn(*[T(x).to(device) for x in arrays])
    if device == "cpu":
        return out
    expected = fn(*[T(x) for x in arrays])
    out = out.cpu()
    check(out, expected.numpy(), str(expected.dtype).replace("norch.", ""))
    return out


@pytest.mark.parametrize("name,ref,domain,dtypes,kind,diff,inplace", UNARY, ids=UNARY_IDS)
def test_unary_forward_every_dtype(name, ref, domain, dtypes, kind, diff, inplace, device):
    for dt in dtypes:
        a = make(dt, (3, 5), domain)
        check(on(device, getattr(norch, name), a), unary_ref(ref, a, kind), unary_dtype(kind, dt, name))
        check(on(device, lambda t: getattr(t, name)(), a), unary_ref(ref, a, kind),
              unary_dtype(kind, dt, name))  # method form


# Only the rows that leave some dtype out have anything to refuse.
UNARY_PARTIAL = [r for r in UNARY if set(ALL) - set(r[3])]


def test_unary_partial_rows_exist():
    assert len(UNARY_PARTIAL) >= 1


@pytest.mark.parametrize("name,ref,domain,dtypes,kind,diff,inplace", UNARY_PARTIAL, ids=[r[0] for r in UNARY_PARTIAL])
def test_unary_unsupported_dtypes_raise(name, ref, domain, dtypes, kind, diff, inplace, device):
    unsupported = sorted(set(ALL) - set(dtypes))
    assert unsupported
    for dt in unsupported:
        with pytest.raises(RuntimeError, match=f"(?i){name}"):
            getattr(norch, name)(T(make(dt, (2, 3), domain)).to(device))


@pytest.mark.parametrize("name,ref,domain,dtypes,kind,diff,inplace", [r for r in UNARY if r[6]],
                         ids=[r[0] for r in UNARY if r[6]])
def test_unary_inplace(name, ref, domain, dtypes, kind, diff, inplace, device):
    """`t.name_()` writes `name(t)` into t in every dtype that can hold the result, bumps
    the version once and returns t itself; a result t cannot hold is refused."""
    for dt in dtypes:
        a = make(dt, (3, 5), domain)
        t = T(a).to(device)
        v0 = t._version
        expected = unary_dtype(kind, dt, name)
        if expected != dt and kind != "bool":  # exp_ on an int tensor would truncate
            with pytest.raises(RuntimeError, match="can't be cast"):
                getattr(t, name + "_")()
            continue
        assert getattr(t, name + "_")() is t
        assert t._version == v0 + 1
        check(t.cpu(), unary_ref(ref, a, kind).astype(a.dtype), dt)
        check(t.cpu(), getattr(norch, name)(T(a)).numpy().astype(a.dtype), dt)


@pytest.mark.parametrize("name,ref,domain,dtypes,kind,diff,inplace", UNARY, ids=UNARY_IDS)
def test_unary_layouts(name, ref, domain, dtypes, kind, diff, inplace, device):
    dt = dtypes[-1]
    fn = getattr(norch, name)
    base = make(dt, (4, 6), domain)
    check(on(device, lambda t: fn(t.t()), base), unary_ref(ref, base.T, kind))                    # transposed
    check(on(device, lambda t: fn(t[1:, ::2]), base), unary_ref(ref, base[1:, ::2], kind))        # sliced
    check(on(device, lambda t: fn(t.expand(2, 4, 6)), base),
          unary_ref(ref, np.broadcast_to(base, (2, 4, 6)), kind))                                 # stride 0
    check(on(device, fn, base[1, 2]), unary_ref(ref, base[1, 2], kind))                           # 0-d
    empty = fn(T(make(dt, (0, 3), domain)).to(device))
    assert tuple(empty.shape) == (0, 3) and str(empty.dtype) == "norch." + unary_dtype(kind, dt, name)


@pytest.mark.parametrize("name,ref,domain,dtypes,kind,diff,inplace", [r for r in UNARY if r[5]],
                         ids=[r[0] for r in UNARY if r[5]])
def test_unary_gradcheck(name, ref, domain, dtypes, kind, diff, inplace, device):
    fn = getattr(norch, name)
    base = make("float64", (3, 4), domain, seed=1)
    x = T(base).to(device).requires_grad_()
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))
    assert gradcheck(lambda v: fn(v.t()), (x,))                       # non-contiguous input
    assert gradcheck(fn, (T(base[0, 0]).to(device).requires_grad_(),))  # 0-d
    e = T(make("float64", (0, 2), domain)).to(device).requires_grad_()
    fn(e).sum().backward()
    assert tuple(e.grad.shape) == (0, 2)


def test_sinc_at_zero():
    # The removable singularity: value 1 and slope 0 at 0, as in PyTorch; ints compute in float.
    x = T(np.array([0.0, 0.5, -1.5]), requires_grad=True)
    check(norch.sinc(x).detach(), np.sinc(x.detach().numpy()))
    norch.sinc(x).sum().backward()
    px = np.pi * np.array([0.5, -1.5])
    check(x.grad, np.concatenate([[0.0], (px * np.cos(px) - np.sin(px)) / (px * np.array([0.5, -1.5]))]))
    check(norch.sinc(T(np.array([0, 1, 2]))), np.sinc(np.array([0.0, 1.0, 2.0])), "float32")


def test_unary_special_values():
    x = T(np.array([np.nan, np.inf, -np.inf, 0.0, -2.5, 2.5, 0.5, 1.5], dtype=np.float32))
    check(norch.isnan(x), np.isnan(x.numpy()))
    check(norch.isinf(x), np.isinf(x.numpy()))
    check(norch.isfinite(x), np.isfinite(x.numpy()))
    check(norch.round(x), np.round(x.numpy()))                        # half to even: 0.5 -> 0, 2.5 -> 2
    check(norch.nan_to_num(x), np.nan_to_num(x.numpy()))
    check(norch.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-3.0), np.nan_to_num(x.numpy(), nan=1, posinf=2, neginf=-3))
    check(x.nan_to_num(nan=7.0), np.nan_to_num(x.numpy(), nan=7.0))
    # sigmoid must not overflow at large |x|
    check(norch.sigmoid(T(np.array([-1000.0, 1000.0]))), np.array([0.0, 1.0]))
    # PyTorch's sign(nan) is 0
    check(norch.sign(T(np.array([np.nan, -0.0, 3.0]))), np.array([0.0, 0.0, 1.0]))


@pytest.mark.parametrize("decimals", [0, 1, 2, -1])
def test_round_decimals(decimals):
    a = np.array([[1.2345, -2.5551, 123.456], [0.05, 15.0, -0.449]])
    check(norch.round(T(a), decimals=decimals), np.round(a, decimals), "float64")
    check(T(a).round(decimals=decimals), np.round(a, decimals))
    x = T(np.array([1.2377, -2.5512, 12.3412, 0.0731, 15.0131, -0.4492]), requires_grad=True)  # off the steps
    assert gradcheck(lambda v: norch.round(v, decimals=decimals), (x,))  # zero almost everywhere
    with pytest.raises(RuntimeError, match="round"):
        norch.round(T(np.array([1, 2])), decimals=1)
    check(norch.round(T(np.array([1, 2]))), np.array([1, 2]), "int64")


# --- binary table -----------------------------------------------------------------
def trunc_div(a, b):
    if a.dtype.kind == "f":
        return np.trunc(a / b)
    return (np.trunc(a.astype(np.float64) / b)).astype(np.result_type(a, b))


def rdiv(mode):
    return lambda a, b: norch.div(a, b, rounding_mode=mode)


def bool_pow_safe(a, b):
    return np.power(a, b)


# (name, norch function, NumPy reference, domain of b, dtypes, result kind, differentiable,
#  in-place method or None)
BINARY = [
    ("add", norch.add, np.add, "real", ALL, "keep", True, "add_"),
    ("sub", norch.sub, np.subtract, "real", NUMERIC, "keep", True, "sub_"),
    ("mul", norch.mul, np.multiply, "real", ALL, "keep", True, "mul_"),
    ("div", norch.div, np.true_divide, "nonzero", NUMERIC, "float", True, "div_"),
    ("div_floor", rdiv("floor"), np.floor_divide, "nonzero", NUMERIC, "keep", True, None),
    ("div_trunc", rdiv("trunc"), trunc_div, "nonzero", NUMERIC, "keep", True, None),
    ("floor_divide", norch.floor_divide, np.floor_divide, "nonzero", NUMERIC, "keep", True, "floor_divide_"),
    ("remainder", norch.remainder, np.remainder, "nonzero", NUMERIC, "keep", True, "remainder_"),
    ("fmod", norch.fmod, np.fmod, "nonzero", NUMERIC, "keep", True, "fmod_"),
    ("pow", norch.pow, np.power, "small", NUMERIC, "keep", True, "pow_"),
    ("maximum", norch.maximum, np.maximum, "real", ALL, "keep", True, "maximum_"),
    ("minimum", norch.minimum, np.minimum, "real", ALL, "keep", True, "minimum_"),
    ("atan2", norch.atan2, np.arctan2, "real", NUMERIC, "float", True, "atan2_"),
    ("hypot", norch.hypot, np.hypot, "real", FLOATS, "keep", True, "hypot_"),
    ("eq", norch.eq, np.equal, "real", ALL, "bool", False, None),
    ("ne", norch.ne, np.not_equal, "real", ALL, "bool", False, None),
    ("lt", norch.lt, np.less, "real", ALL, "bool", False, None),
    ("le", norch.le, np.less_equal, "real", ALL, "bool", False, None),
    ("gt", norch.gt, np.greater, "real", ALL, "bool", False, None),
    ("ge", norch.ge, np.greater_equal, "real", ALL, "bool", False, None),
    ("logical_and", norch.logical_and, np.logical_and, "real", ALL, "bool", False, None),
    ("logical_or", norch.logical_or, np.logical_or, "real", ALL, "bool", False, None),
    ("logical_xor", norch.logical_xor, np.logical_xor, "real", ALL, "bool", False, None),
    ("bitwise_and", norch.bitwise_and, np.bitwise_and, "real", ("bool",) + INTS, "keep", False, "bitwise_and_"),
    ("bitwise_or", norch.bitwise_or, np.bitwise_or, "real", ("bool",) + INTS, "keep", False, "bitwise_or_"),
    ("bitwise_xor", norch.bitwise_xor, np.bitwise_xor, "real", ("bool",) + INTS, "keep", False, "bitwise_xor_"),
    ("bitwise_left_shift", norch.bitwise_left_shift, np.left_shift, "small", INTS, "keep", False, "bitwise_left_shift_"),
    ("bitwise_right_shift", norch.bitwise_right_shift, np.right_shift, "small", INTS, "keep", False, "bitwise_right_shift_"),
]
BINARY_IDS = [r[0] for r in BINARY]


def binary_inputs(name, dt, domain, shape_a=(3, 4), shape_b=(3, 4), seed=0):
    a = make(dt, shape_a, "pos" if name == "pow" and dt in FLOATS else "real", seed)
    b = make(dt, shape_b, domain, seed + 1)
    if name == "pow" and dt in INTS:
        a = make(dt, shape_a, "small", seed)  # keeps integer powers in range
    return a, b


def binary_dtype(kind, dt):
    if kind == "bool":
        return "bool"
    if kind == "float" and dt not in FLOATS:
        return "float32"
    return dt


def binary_ref(ref, a, b, kind):
    if kind == "float" and a.dtype.kind != "f":
        return ref(a.astype(np.float64), b.astype(np.float64))
    return ref(a, b)


@pytest.mark.parametrize("name,fn,ref,domain,dtypes,kind,diff,inplace", BINARY, ids=BINARY_IDS)
def test_binary_forward_every_dtype(name, fn, ref, domain, dtypes, kind, diff, inplace, device):
    for dt in dtypes:
        a, b = binary_inputs(name, dt, domain)
        check(on(device, fn, a, b), binary_ref(ref, a, b, kind), binary_dtype(kind, dt))


@pytest.mark.parametrize("name,fn,ref,domain,dtypes,kind,diff,inplace", [r for r in BINARY if r[7]],
                         ids=[r[0] for r in BINARY if r[7]])
def test_binary_inplace(name, fn, ref, domain, dtypes, kind, diff, inplace, device):
    """`a.name_(b)` writes `name(a, b)` into a (b broadcast to a's shape) where a's dtype
    can hold the result, bumps the version once and returns a; otherwise it is refused."""
    for dt in dtypes:
        a, b = binary_inputs(name, dt, domain, (3, 4), (4,))
        t = T(a).to(device)
        v0 = t._version
        if binary_dtype(kind, dt) != dt:  # int.div_ would truncate
            with pytest.raises(RuntimeError, match="can't be cast"):
                getattr(t, inplace)(T(b).to(device))
            continue
        assert getattr(t, inplace)(T(b).to(device)) is t
        assert t._version == v0 + 1
        check(t.cpu(), binary_ref(ref, a, b, kind), dt)
    a, b = binary_inputs(name, dtypes[-1], domain, (4,), (3, 4))
    with pytest.raises(RuntimeError):  # the result must keep self's shape
        getattr(T(a).to(device), inplace)(T(b).to(device))


@pytest.mark.parametrize("name,fn,ref,domain,dtypes,kind,diff,inplace", BINARY, ids=BINARY_IDS)
def test_binary_layouts(name, fn, ref, domain, dtypes, kind, diff, inplace, device):
    dt = dtypes[-1]
    a, b = binary_inputs(name, dt, domain, (3, 1, 4), (2, 1))
    check(on(device, fn, a, b), binary_ref(ref, a, b, kind))                          # broadcast both ways
    a, b = binary_inputs(name, dt, domain, (4, 6), (6, 4))
    check(on(device, lambda u, v: fn(u[:, ::2], v.t()[:, 1::2]), a, b),
          binary_ref(ref, a[:, ::2], b.T[:, 1::2], kind))                             # non-contiguous
    check(on(device, fn, a[0, 0], b[0, 0]), binary_ref(ref, a[0, 0], b[0, 0], kind))  # 0-d with 0-d
    check(on(device, fn, a[0, 0], b), binary_ref(ref, a[0, 0], b, kind))              # 0-d with 2-d
    ea, eb = binary_inputs(name, dt, domain, (0, 3), (3,))
    out = fn(T(ea).to(device), T(eb).to(device))
    assert tuple(out.shape) == (0, 3) and str(out.dtype) == "norch." + binary_dtype(kind, dt)


@pytest.mark.parametrize("name,fn,ref,domain,dtypes,kind,diff,inplace", [r for r in BINARY if r[6]],
                         ids=[r[0] for r in BINARY if r[6]])
def test_binary_gradcheck(name, fn, ref, domain, dtypes, kind, diff, inplace, device):
    a, b = binary_inputs(name, "float64", domain, (2, 3), (3,), seed=3)
    x, y = T(a).to(device).requires_grad_(), T(b).to(device).requires_grad_()
    assert gradcheck(fn, (x, y))                                  # broadcast gradient reduced to (3,)
    assert gradgradcheck(fn, (x, y))
    assert gradcheck(lambda u, v: fn(u.t(), v.unsqueeze(1).expand(3, 2)), (x, y))  # non-contiguous
    assert gradcheck(fn, (T(a[0, 0]).to(device).requires_grad_(), T(b[0]).to(device).requires_grad_()))  # 0-d
    assert gradcheck(lambda u: fn(u, y.detach()), (x,))           # only one input requires grad
    assert gradcheck(lambda v: fn(x.detach(), v), (y,))


def test_hypot_refuses_integers_as_pytorch():
    for dt in ("bool",) + INTS:  # PyTorch: "hypot_cpu" not implemented for 'Long'
        with pytest.raises(NotImplementedError, match="hypot"):
            norch.hypot(T(make(dt, (3,))), T(make(dt, (3,), seed=1)))


def test_maximum_minimum_ties_split_gradient():
    a = T(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = T(np.array([1.0, 5.0, 0.0]), requires_grad=True)
    norch.maximum(a, b).sum().backward()
    check(a.grad, np.array([0.5, 0.0, 1.0]))
    check(b.grad, np.array([0.5, 1.0, 0.0]))


def test_integer_division_semantics():
    a = np.array([7, -7, 7, -7, 0])
    b = np.array([2, 2, -2, -2, 3])
    check(norch.floor_divide(T(a), T(b)), np.floor_divide(a, b), "int64")
    check(norch.div(T(a), T(b), rounding_mode="trunc"), np.array([3, -3, -3, 3, 0]), "int64")
    check(norch.remainder(T(a), T(b)), np.remainder(a, b), "int64")
    check(norch.fmod(T(a), T(b)), np.fmod(a, b), "int64")
    check(norch.div(T(a), T(b)), a / b, "float32")
    af = a.astype(np.float64)
    check(norch.remainder(T(af), T(b.astype(np.float64))), np.remainder(af, b))
    check(T(np.array([1.0, -1.0, 0.0])) // 0, np.array([np.inf, -np.inf, np.nan]))  # floats do not raise
    # integer powers, including negative exponent tensors (0, or +-1 for bases +-1)
    check(T(np.array([2, -1, 1, 3])) ** T(np.array([-1, -3, -2, 0])), np.array([0, -1, 1, 1]), "int64")


def test_nan_propagation():
    nan = np.nan
    a, b = np.array([nan, 1.0, 2.0]), np.array([1.0, nan, 1.0])
    check(norch.maximum(T(a), T(b)), np.maximum(a, b))
    check(norch.minimum(T(a), T(b)), np.minimum(a, b))
    check(norch.eq(T(a), T(a)), np.equal(a, a))
    check(norch.ne(T(a), T(a)), np.not_equal(a, a))


# --- type promotion ----------------------------------------------------------------
# (lhs dtype or kind, rhs, expected) following PyTorch: dimensioned tensors > 0-d
# tensors > Python numbers, a weaker participant only lifting the category.
PROMOTION = [
    (("t", "int32"), ("t", "int64"), "int64"),
    (("t", "uint8"), ("t", "int32"), "int32"),
    (("t", "bool"), ("t", "uint8"), "uint8"),
    (("t", "int64"), ("t", "float32"), "float32"),
    (("t", "float32"), ("t", "float64"), "float64"),
    (("t", "int32"), ("0d", "int64"), "int32"),
    (("t", "int32"), ("0d", "float64"), "float64"),
    (("t", "float32"), ("0d", "float64"), "float32"),
    (("t", "uint8"), ("0d", "int64"), "uint8"),
    (("t", "bool"), ("0d", "int32"), "int32"),
    (("0d", "int32"), ("0d", "float64"), "float64"),
    (("0d", "int32"), ("0d", "int64"), "int64"),
    (("t", "int32"), ("py", 2), "int32"),
    (("t", "int64"), ("py", 2.5), "float32"),
    (("t", "float64"), ("py", 2.5), "float64"),
    (("t", "float32"), ("py", 2), "float32"),
    (("t", "bool"), ("py", 2), "int64"),
    (("t", "bool"), ("py", 2.5), "float32"),
    (("t", "uint8"), ("py", True), "uint8"),
    (("t", "bool"), ("py", True), "bool"),
    (("0d", "int32"), ("py", 2.5), "float32"),
    (("0d", "float64"), ("py", 2), "float64"),
]


def operand(spec, seed=0):
    kind, v = spec
    if kind == "py":
        return v, v
    a = make(v, (2, 3) if kind == "t" else (), "pos", seed)
    return T(a), a


@pytest.mark.parametrize("lhs,rhs,expected", PROMOTION, ids=[f"{l}-{r}" for l, r, _ in PROMOTION])
def test_type_promotion(lhs, rhs, expected):
    ta, na = operand(lhs)
    tb, nb = operand(rhs, 1)
    for fn, ref in ((norch.add, np.add), (norch.mul, np.multiply), (norch.maximum, np.maximum)):
        if not isinstance(tb, norch.Tensor) and fn is norch.maximum:
            continue
        out = fn(ta, tb)
        assert str(out.dtype) == "norch." + expected, (fn, out.dtype)
        np.testing.assert_allclose(out.numpy().astype(np.float64),
                                   np.asarray(ref(np.asarray(na, np.float64), np.asarray(nb, np.float64))).astype(
                                       out.numpy().dtype).astype(np.float64), rtol=1e-6)
    # reflected operator with a Python number on the left
    if not isinstance(tb, norch.Tensor):
        assert str((tb + ta).dtype) == "norch." + expected
        assert str((tb * ta).dtype) == "norch." + expected
    assert norch.result_type(ta, tb) == getattr(norch, expected)
    # true division always produces a float, comparisons always bool
    assert (ta / tb).dtype.is_floating_point
    assert (ta < tb).dtype == norch.bool


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "floor_divide", "remainder", "maximum", "atan2",
                                  "eq", "lt", "logical_and", "bitwise_or", "pow", "fmod"])
def test_promotion_matches_pytorch_for_all_dtype_pairs(name):
    """Every (dtype, dtype) pair and 0-d/Python-number mixes: same result dtype, or both raise."""
    def outcome(mod, a, b):
        try:
            return str(getattr(mod, name)(a, b).dtype).split(".")[-1]
        except Exception as e:  # noqa: BLE001 - the exception type is what is compared
            return "RuntimeError" if isinstance(e, RuntimeError) else type(e).__name__

    for da in ALL:
        for db in ALL:
            for shape_b in ((2, 3), ()):
                a = make(da, (2, 3), "pos")
                b = make(db, shape_b, "pos", 1)
                t_out = outcome(torch, torch.from_numpy(a), torch.from_numpy(np.array(b)))
                n_out = outcome(norch, T(a), T(b))
                assert n_out == t_out, (da, db, shape_b)
        for scalar in (3, 2.5, True):
            a = make(da, (2, 3), "pos")
            if name in ("maximum", "atan2", "logical_and", "fmod", "remainder", "pow", "bitwise_or"):
                break  # some of these refuse Python numbers in PyTorch; norch accepts them
            assert outcome(norch, T(a), scalar) == outcome(torch, torch.from_numpy(a), scalar), (da, scalar)


# --- where, clamp, lerp ---------------------------------------------------------------
def test_where():
    c = make("bool", (3, 1))
    a, b = make("float64", (3, 4)), make("float64", (4,), seed=1)
    check(norch.where(T(c), T(a), T(b)), np.where(c, a, b))
    check(norch.where(T(c), T(a), 0.0), np.where(c, a, 0.0), "float64")
    check(T(a).where(T(c), T(b)), np.where(c, a, b))
    check(norch.where(T(c), T(make("int32", (3, 4))), 1.5), np.where(c, make("int32", (3, 4)), 1.5), "float32")
    check(norch.where(T(c[0, 0]), T(a[0, 0]), T(b[0])), np.where(c[0, 0], a[0, 0], b[0]))  # 0-d
    x, y = T(a, requires_grad=True), T(b, requires_grad=True)
    assert gradcheck(lambda u, v: norch.where(T(c), u, v), (x, y))
    assert gradgradcheck(lambda u, v: norch.where(T(c), u, v), (x, y))
    with pytest.raises(RuntimeError, match="condition"):
        norch.where(T(np.array([1, 0])), T(a[0, :2]), T(b[:2]))


def test_clamp():
    a = make("float64", (3, 4))
    check(norch.clamp(T(a), -0.5, 0.5), np.clip(a, -0.5, 0.5))
    check(norch.clamp(T(a), min=0.1), np.maximum(a, 0.1))
    check(T(a).clamp(max=0.2), np.minimum(a, 0.2))
    check(norch.clip(T(a), -1, 1), np.clip(a, -1, 1))
    check(norch.clamp(T(a), 1.0, -1.0), np.full_like(a, -1.0))  # min > max gives max, as PyTorch
    lo, hi = make("float64", (4,), seed=1) - 1, make("float64", (3, 1), seed=2) + 1
    check(norch.clamp(T(a), T(lo), T(hi)), np.minimum(np.maximum(a, lo), hi))
    check(norch.clamp(T(a), min=T(lo)), np.maximum(a, lo))
    ia = make("int64", (3, 4))
    check(norch.clamp(T(ia), -2, 2), np.clip(ia, -2, 2), "int64")
    check(norch.clamp(T(ia), 1.5), np.maximum(ia, 1.5), "float32")
    check(norch.clamp(T(a[0, 0]), 0, 0.1), np.clip(a[0, 0], 0, 0.1))  # 0-d
    x = T(a, requires_grad=True)
    assert gradcheck(lambda v: norch.clamp(v, -0.5, 0.5), (x,))
    assert gradgradcheck(lambda v: norch.clamp(v, -0.5, 0.5), (x,))
    assert gradcheck(lambda v, l: norch.clamp(v, l, None), (x, T(lo, requires_grad=True)))
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        norch.clamp(T(a))


def test_lerp():
    a, b = make("float64", (3, 4)), make("float64", (4,), seed=1)
    w = make("float64", (3, 1), "unit", 2)
    check(norch.lerp(T(a), T(b), 0.25), a + 0.25 * (b - a))
    check(T(a).lerp(T(b), T(w)), a + w * (b - a))
    args = (T(a, requires_grad=True), T(b, requires_grad=True), T(w, requires_grad=True))
    assert gradcheck(norch.lerp, args)
    assert gradgradcheck(norch.lerp, args)
    with pytest.raises(RuntimeError, match="lerp"):
        norch.lerp(T(np.array([1, 2])), T(np.array([3, 4])), 0.5)


# --- errors -------------------------------------------------------------------------
def test_errors():
    with pytest.raises(RuntimeError, match=r"\(2, 3\) and \(4,\)"):
        T(np.ones((2, 3))) + T(np.ones(4))
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        T(np.ones(3)).add_(T(np.ones((2, 3))))  # in-place result may not grow self
    f, i, b = T(np.ones(2)), T(np.array([4, 6])), T(np.array([True, False]))
    with pytest.raises(RuntimeError, match="bitwise_and"):
        f & f
    with pytest.raises(RuntimeError, match="bitwise_xor"):
        norch.bitwise_xor(f, 1)
    with pytest.raises(RuntimeError, match="bitwise_not"):
        norch.bitwise_not(f)
    with pytest.raises(TypeError, match="integer and Boolean"):
        ~f
    with pytest.raises(RuntimeError, match="left_shift"):
        b << b
    with pytest.raises(RuntimeError, match="two bool tensors"):
        b - b
    with pytest.raises(RuntimeError, match="with a bool tensor"):
        i - b
    with pytest.raises(RuntimeError, match="Negation"):
        -b
    for op in (lambda: i // T(np.array([0, 1])), lambda: i % 0, lambda: norch.fmod(i, 0),
               lambda: norch.div(i, 0, rounding_mode="trunc"), lambda: i.floor_divide_(0)):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            op()
    check(i, np.array([4, 6]))
    with pytest.raises(RuntimeError, match="negative integer powers"):
        i ** -1
    with pytest.raises((RuntimeError, ValueError), match="rounding_mode"):
        norch.div(f, f, rounding_mode="ceil")
    with pytest.raises(TypeError):
        norch.add(f, "a")
    with pytest.raises(TypeError):
        f + "a"
    with pytest.raises(RuntimeError, match="frac"):
        norch.frac(i)
    assert (f == "a") is False  # Python falls back to identity comparison


@pytest.mark.skipif(not norch.cuda.is_available(), reason="no CUDA device")
def test_family_stubs_run_each_ops_own_cuda_kernel():
    # Ops share one stub per family; each op still reaches its own functor on CUDA.
    a = make("float32", (5,), "pos")
    x = T(a).to("cuda")
    check(norch.exp(x), np.exp(a))
    check(norch.mul(x, x), a * a)
    check(norch.log(x), np.log(a))
    check(norch.maximum(x, -x), np.maximum(a, -a))

"""Tensor's operators as number slots (Note [Operator slots], src/python/operators_bind.cpp)
and the core's fast paths under them (Note [Binary fast path] and the 0-d input cast,
src/ops/iterator_build.cpp; the one-run loop of TensorIterator::serial_for_each).

PyTorch is the oracle: every operator on the operand kinds that take the fast paths
(same shape, dtype and device) and those that leave them (broadcast, non-contiguous,
0-d, empty, mixed dtypes, Python and NumPy scalars on either side) gives torch's
values, dtype and exception type. Then the slot's own contract: NotImplemented for
unknown operands, subclasses, in-place identity and version counters, autograd,
and a replaced-then-restored Tensor.__add__."""
import operator

import numpy as np
import pytest
import torch

import norch
from norch.autograd.gradcheck import gradcheck

OPS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod,
       operator.and_, operator.or_, operator.xor, operator.lshift, operator.rshift]
IOPS = [operator.iadd, operator.isub, operator.imul, operator.itruediv, operator.ifloordiv, operator.imod,
        operator.iand, operator.ior, operator.ixor, operator.ilshift, operator.irshift]


def _arr(kind, dtype, seed):
    rng = np.random.default_rng(seed)
    shape = {"vec": (5,), "mat": (3, 4), "row": (1, 4), "0d": (), "empty": (0, 4), "big": (70000,)}[kind]
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype in ("uint8", "int32", "int64"):
        return rng.integers(1, 5, shape).astype(dtype)
    return (rng.random(shape) * 4 + 0.5).astype(dtype)


def _pair(kind, dtype, seed):
    """The same values as a norch and a torch tensor; "mat_t" is a transposed view."""
    if kind == "mat_t":
        a = _arr("mat", dtype, seed).reshape(4, 3)
        return norch.from_numpy(a.copy()).t(), torch.from_numpy(a.copy()).t()
    a = _arr(kind, dtype, seed)
    return norch.from_numpy(np.array(a)), torch.from_numpy(np.array(a))


def _run(f, *args):
    try:
        return f(*args), None
    except Exception as e:  # noqa: BLE001 - the exception type is what is compared
        return None, type(e)


def _same(ours, ref):
    r, e = ours
    rr, re = ref
    if re is not None:
        # Where torch's kernel lacks a dtype it raises NotImplementedError, which is a
        # RuntimeError; norch refuses some of those pairs with RuntimeError itself.
        assert e is not None and issubclass(e, RuntimeError if re is NotImplementedError else re), (e, re)
        return
    assert e is None, e
    assert isinstance(r, norch.Tensor)
    assert str(r.dtype).split(".")[-1] == str(rr.dtype).split(".")[-1]
    assert tuple(r.shape) == tuple(rr.shape)
    # float16: torch keeps a 0-d float operand at full precision inside a half op,
    # norch rounds it to half first (as it did before these fast paths): one ulp.
    tol = 2e-3 if r.dtype == norch.float16 else 1e-6
    np.testing.assert_allclose(r.numpy().astype(np.float64), rr.numpy().astype(np.float64), rtol=tol, atol=tol)


KINDS = [("vec", "vec"), ("mat", "mat"), ("mat_t", "mat"), ("mat", "row"), ("0d", "vec"), ("vec", "0d"),
         ("0d", "0d"), ("empty", "empty"), ("empty", "row"), ("big", "big")]
DTYPES = [("float32", "float32"), ("float64", "float64"), ("int64", "int64"), ("int32", "int32"), ("uint8", "uint8"),
          ("bool", "bool"), ("float32", "float64"), ("int64", "float32"), ("uint8", "int32"), ("bool", "int64"),
          ("float16", "float16"), ("float16", "float32")]


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.__name__)
@pytest.mark.parametrize("kinds", KINDS, ids=lambda k: "-".join(k))
@pytest.mark.parametrize("dtypes", DTYPES, ids=lambda d: "-".join(d))
def test_operator_matches_torch(op, kinds, dtypes):
    (na, ta), (nb, tb) = _pair(kinds[0], dtypes[0], 1), _pair(kinds[1], dtypes[1], 2)
    _same(_run(op, na, nb), _run(op, ta, tb))


# (np.bool_ is left out: torch reads it as a float, norch as a bool.)
SCALARS = [2, -3, 0, 2.5, True, False, np.float32(1.5), np.int64(3), np.float64(0.25)]


@pytest.mark.parametrize("op", OPS, ids=lambda o: o.__name__)
@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
@pytest.mark.parametrize("dtype", ["float32", "int64", "uint8", "bool", "float16"])
@pytest.mark.parametrize("side", ["right", "left"])
def test_scalar_on_either_side_matches_torch(op, scalar, dtype, side):
    na, ta = _pair("vec", dtype, 3)
    if side == "right":
        ours, ref = _run(op, na, scalar), _run(op, ta, scalar)
    else:
        ours, ref = _run(op, scalar, na), _run(op, scalar, ta)
    if isinstance(scalar, np.generic) and side == "left":
        # NumPy's scalar answers first: what it does with a tensor is NumPy's business,
        # and norch and torch differ there (torch has no __array_priority__).
        return
    _same(ours, ref)


@pytest.mark.parametrize("iop", IOPS, ids=lambda o: o.__name__)
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("float32", "int64"), ("int64", "float32"),
                                    ("int64", "int64"), ("uint8", "int64"), ("bool", "bool"), ("float64", "float32")],
                         ids=lambda d: "-".join(d))
@pytest.mark.parametrize("kinds", [("vec", "vec"), ("vec", "0d"), ("mat", "row"), ("row", "mat"), ("mat_t", "mat")],
                         ids=lambda k: "-".join(k))
def test_inplace_operator_matches_torch_and_returns_self(iop, dtypes, kinds):
    (na, ta), (nb, tb) = _pair(kinds[0], dtypes[0], 4), _pair(kinds[1], dtypes[1], 5)
    v = na._version
    ours, ref = _run(iop, na, nb), _run(iop, ta, tb)
    _same(ours, ref)
    if ours[1] is None:
        assert ours[0] is na
        assert na._version > v
        np.testing.assert_allclose(na.numpy().astype(np.float64), ta.numpy().astype(np.float64), rtol=1e-6)


def test_inplace_with_a_scalar_keeps_identity_and_bumps_the_version():
    a = norch.ones(3)
    b = a
    v = a._version
    b += 2
    b *= 1.5
    assert b is a and a._version == v + 2
    assert a.tolist() == [4.5, 4.5, 4.5]
    view = a[1:]
    view -= 1  # a view's in-place write reaches the base
    assert a.tolist() == [4.5, 3.5, 3.5]


def test_inplace_refusals():
    leaf = norch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf += 1
    i = norch.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i += 1.5
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        r = norch.ones(1, 3)
        r += norch.ones(2, 3)


class _Other:
    def __radd__(self, other):
        return ("radd", other)

    def __rmul__(self, other):
        return ("rmul", other)

    def __iadd__(self, other):
        return "never reached"


def test_unknown_operands_get_notimplemented():
    a = norch.ones(2)
    assert a + _Other() == ("radd", a)
    assert a * _Other() == ("rmul", a)
    b = a
    b += _Other()  # __iadd__ declines, then __add__ declines, then _Other.__radd__
    assert b == ("radd", a)
    for bad in ("x", None, [1, 2], object()):
        with pytest.raises(TypeError, match="unsupported operand"):
            a + bad
        with pytest.raises(TypeError, match="unsupported operand"):
            bad - a
    assert norch.Tensor.__add__(a, "x") is NotImplemented
    assert norch.Tensor.__radd__(a, 10).tolist() == [11.0, 11.0]
    assert norch.Tensor.__rsub__(a, 10).tolist() == [9.0, 9.0]


def test_numpy_operands():
    a = norch.tensor([1.0, 2.0])
    # NumPy arrays are not read as tensors by the operators (as in PyTorch only == does):
    # the tensor declines and NumPy's reflected operator answers.
    r = a + np.array([1.0, 1.0])
    assert np.allclose(np.asarray(r), [2.0, 3.0])
    r = np.float32(2) * a
    assert np.allclose(np.asarray(r), [2.0, 4.0])
    r = a * np.float32(2)
    assert isinstance(r, norch.Tensor) and r.dtype == norch.float32 and r.tolist() == [2.0, 4.0]


def test_errors_name_the_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"add: .*shapes \(2,\) and \(3,\)"):
        norch.ones(2) + norch.ones(3)
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with two bool tensors"):
        norch.tensor([True]) - norch.tensor([False])
    with pytest.raises(RuntimeError, match="overflow"):
        norch.ones(2) + 2 ** 70
    with pytest.raises(TypeError):
        norch.Tensor.__new__(norch.Tensor) + 1


def test_subclasses_inherit_the_slots_and_overrides_win():
    p = norch.nn.Parameter(norch.ones(2))
    a = norch.tensor([1.0, 2.0])
    for r in (p + a, a + p, 2 * p, p - 1):
        assert isinstance(r, norch.Tensor) and r.requires_grad
    assert (a + p).tolist() == [2.0, 3.0]

    class Mine(norch.Tensor):
        def __radd__(self, other):
            return "mine"

    m = Mine(norch.ones(2))
    assert a + m == "mine"  # a subclass's reflected operator runs first, as Python specifies
    assert (m + a).tolist() == [2.0, 3.0]  # its __add__ is Tensor's


def test_replaced_then_restored_operator():
    T = norch.Tensor
    orig = T.__dict__["__add__"]
    assert type(orig).__name__ == "wrapper_descriptor"
    calls = []

    def traced(self, other):
        calls.append(1)
        return orig(self, other)

    T.__add__ = traced
    try:
        assert (norch.ones(2) + 1).tolist() == [2.0, 2.0] and calls == [1]
    finally:
        T.__add__ = orig
    assert (norch.ones(2) + 1).tolist() == [2.0, 2.0] and calls == [1]
    assert T.__dict__["__add__"] is orig


def test_autograd_through_the_operators():
    x = norch.tensor([0.5, 1.5, -2.0], dtype=norch.float64, requires_grad=True)
    y = norch.tensor([1.5, -0.5, 3.0], dtype=norch.float64, requires_grad=True)

    def f(x, y):
        return (2 * x + y - 1) * (x / (y + 4)) - 3 / (x + 5) + (1 - y) * x

    assert gradcheck(f, (x, y))
    z = f(x, y)
    assert z.grad_fn is not None
    seen = []
    z.register_hook(lambda g: seen.append(g.tolist()))
    z.sum().backward()
    assert seen == [[1.0, 1.0, 1.0]]
    tx = torch.tensor([0.5, 1.5, -2.0], dtype=torch.float64, requires_grad=True)
    ty = torch.tensor([1.5, -0.5, 3.0], dtype=torch.float64, requires_grad=True)
    f(tx, ty).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy())
    with norch.no_grad():
        assert not (x + y).requires_grad and (x + y).grad_fn is None


def test_saved_operand_modified_in_place_is_caught():
    x = norch.ones(2, requires_grad=True)
    a = x * 1
    y = a * a
    a += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("value,tdtype", [(300, "uint8"), (-1, "uint8"), (1.0e10, "float16"), (0.1, "float16"),
                                          (0.1, "bfloat16"), (True, "int32"), (7, "bool"), (2.5, "int64"),
                                          (float("nan"), "float32"), (-(2 ** 62), "int32")])
@pytest.mark.parametrize("wrapped", [True, False])
def test_zero_dim_operand_cast_matches_torch(value, tdtype, wrapped):
    # A 0-d operand whose dtype loses to the other's is converted with the copy
    # kernel's cast (Python numbers are 0-d "wrapped numbers").
    base = np.array([1, 2, 3]).astype("float32" if tdtype == "bfloat16" else tdtype)
    na, ta = norch.from_numpy(base.copy()), torch.from_numpy(base.copy())
    if tdtype == "bfloat16":
        na, ta = na.to(norch.bfloat16), ta.to(torch.bfloat16)
    if wrapped:
        ours, ref = _run(operator.add, na, value), _run(operator.add, ta, value)
    else:
        ours, ref = _run(operator.add, na, norch.tensor(value)), _run(operator.add, ta, torch.tensor(value))
    r, e = ours
    rr, re = ref
    assert (e is None) == (re is None), (e, re)
    if e is None:
        assert str(r.dtype).split(".")[-1] == str(rr.dtype).split(".")[-1]
        np.testing.assert_array_equal(r.float().numpy(), rr.float().numpy())

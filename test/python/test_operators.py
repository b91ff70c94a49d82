"""Python operators (plain, reflected, in place), in-place methods with their
version-counter bumps and casting rules, and autograd through in-place ops.
The dtype/layout/gradient table of every op lives in test_elementwise.py."""
import operator

import numpy as np
import pytest

import norch
from norch.autograd.gradcheck import gradcheck, gradgradcheck
from test_elementwise import T, check, make

# --- Python operators ---------------------------------------------------------------
OPERATORS = [
    (operator.add, np.add, "real"), (operator.sub, np.subtract, "real"), (operator.mul, np.multiply, "real"),
    (operator.truediv, np.true_divide, "nonzero"), (operator.floordiv, np.floor_divide, "nonzero"),
    (operator.mod, np.remainder, "nonzero"), (operator.pow, np.power, "small"),
    (operator.eq, np.equal, "real"), (operator.ne, np.not_equal, "real"), (operator.lt, np.less, "real"),
    (operator.le, np.less_equal, "real"), (operator.gt, np.greater, "real"), (operator.ge, np.greater_equal, "real"),
]
INT_OPERATORS = [(operator.and_, np.bitwise_and), (operator.or_, np.bitwise_or), (operator.xor, np.bitwise_xor),
                 (operator.lshift, np.left_shift), (operator.rshift, np.right_shift)]


@pytest.mark.parametrize("op,ref,domain", OPERATORS, ids=[o[0].__name__ for o in OPERATORS])
@pytest.mark.parametrize("dt", ["float64", "int64"])
def test_operators(op, ref, domain, dt):
    a = make(dt, (3, 4), "pos" if op is operator.pow else "real")
    b = make(dt, (3, 4), domain, 1)
    expect = lambda x, y: ref(np.asarray(x, np.float64), np.asarray(y, np.float64)) if op is operator.truediv else ref(x, y)  # noqa: E731
    check(op(T(a), T(b)), expect(a, b))
    s = 2 if dt == "int64" else 1.5
    check(op(T(a), s), expect(a, np.array(s, a.dtype)))            # tensor op number
    check(op(s, T(b)), expect(np.array(s, a.dtype), b))            # reflected: number op tensor


@pytest.mark.parametrize("op,ref", INT_OPERATORS, ids=[o[0].__name__ for o in INT_OPERATORS])
def test_integer_operators(op, ref):
    a, b = make("int64", (3, 4), "real"), make("int64", (3, 4), "small", 1)
    check(op(T(a), T(b)), ref(a, b), "int64")
    check(op(T(a), 2), ref(a, 2), "int64")
    check(op(5, T(b)), ref(5, b), "int64")
    if op not in (operator.lshift, operator.rshift):
        m, n = make("bool", (3, 4)), make("bool", (3, 4), seed=1)
        check(op(T(m), T(n)), ref(m, n), "bool")


def test_unary_operators_and_matmul():
    a = make("float64", (3, 4))
    check(-T(a), -a)
    check(+T(a), a)
    check(abs(T(a)), np.abs(a))
    check(~T(make("int32", (3,))), ~make("int32", (3,)))
    check(~T(np.array([True, False])), np.array([False, True]))
    b = make("float64", (4, 2), seed=1)
    check(T(a) @ T(b), a @ b)


# --- in place --------------------------------------------------------------------
INPLACE = [
    ("__iadd__", "add_", np.add, 1.5), ("__isub__", "sub_", np.subtract, 1.5),
    ("__imul__", "mul_", np.multiply, 1.5), ("__itruediv__", "div_", np.true_divide, 1.5),
    ("__ifloordiv__", "floor_divide_", np.floor_divide, 1.5), ("__imod__", "remainder_", np.remainder, 1.5),
    ("__ipow__", "pow_", np.power, 2.0),
]


@pytest.mark.parametrize("dunder,method,ref,scalar", INPLACE, ids=[r[1] for r in INPLACE])
def test_inplace_operators_and_methods(dunder, method, ref, scalar):
    a = make("float32", (3, 4), "pos")
    b = make("float32", (4,), "nonzero", 1)
    for apply in (lambda t, o: getattr(t, dunder)(o), lambda t, o: getattr(t, method)(o)):
        for other, np_other in ((T(b), b), (scalar, np.float32(scalar))):
            t = T(a)
            v0 = t._version
            r = apply(t, other)
            assert r._is_same(t) if hasattr(r, "_is_same") else r is t
            assert t._version == v0 + 1
            check(t, ref(a, np_other).astype(np.float32))
    # The statement form keeps the Python object: `t += x` rebinds t to the same tensor.
    t = T(a)
    keep = t
    t += 1
    assert keep._is_same(t) and np.allclose(keep.numpy(), a + 1)


def test_inplace_on_view_writes_base():
    base = T(np.zeros((3, 4)))
    v = base[1]
    v += 5
    v.mul_(2)
    check(base, np.array([[0] * 4, [10] * 4, [0] * 4], dtype=np.float64))
    assert base._version == 2  # views share the version counter


def test_inplace_method_variants():
    a = make("float64", (3, 4), "pos")
    cases = {"add_": (lambda t: t.add_(T(a), alpha=2), a + 2 * a), "sub_": (lambda t: t.sub_(1, alpha=3), a - 3),
             "div_": (lambda t: t.div_(2, rounding_mode="floor"), np.floor(a / 2)),
             "fmod_": (lambda t: t.fmod_(0.7), np.fmod(a, 0.7)), "atan2_": (lambda t: t.atan2_(T(a)), np.arctan2(a, a)),
             "clamp_": (lambda t: t.clamp_(0.5, 1.5), np.clip(a, 0.5, 1.5))}
    for name, (fn, expected) in cases.items():
        t = T(a)
        v0 = t._version
        fn(t)
        assert t._version == v0 + 1, name
        check(t, expected)
    m = T(np.array([3, 5, 12]))
    for name, arg, ref in (("bitwise_and_", 6, np.bitwise_and), ("bitwise_or_", 6, np.bitwise_or),
                           ("bitwise_xor_", 6, np.bitwise_xor), ("bitwise_left_shift_", 1, np.left_shift),
                           ("bitwise_right_shift_", 1, np.right_shift)):
        t = m.clone()
        getattr(t, name)(arg)
        check(t, ref(m.numpy(), arg), "int64")
    t = m.clone()
    t &= 6
    t |= 1
    t ^= 2
    t <<= 1
    t >>= 1
    check(t, ((((m.numpy() & 6) | 1) ^ 2) << 1) >> 1)
    b = T(np.array([True, False]))
    b.logical_not_()
    check(b, np.array([False, True]))
    b.bitwise_not_()
    check(b, np.array([True, False]))


def test_inplace_casting_rules():
    """In-place results must fit self's dtype category (PyTorch's can_cast)."""
    i = T(np.array([1, 2, 3]))
    with pytest.raises(RuntimeError, match="can't be cast"):
        i += 1.5
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.div_(2)
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.exp_()
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.add_(T(np.array([0.5])))
    with pytest.raises(RuntimeError, match="can't be cast"):
        T(np.array([True])).add_(1)
    with pytest.raises(RuntimeError, match="can't be cast"):  # also when the other side requires grad
        i.add_(T(np.ones(3), requires_grad=True))
    check(i, np.array([1, 2, 3]))  # refused ops leave self untouched
    i += 2                       # same category: fine, and int32 += int64 stays int32
    check(i, np.array([3, 4, 5]), "int64")
    j = T(np.array([1, 2], dtype=np.int32))
    j += T(np.array([10, 20]))
    check(j, np.array([11, 22]), "int32")
    u = T(np.array([1, 2], dtype=np.uint8))
    u -= 3                       # wraps like PyTorch
    check(u, np.array([254, 255]), "uint8")
    f = T(np.array([1.0, 2.0], dtype=np.float32))
    f += T(np.array([0.5, 0.5]))  # float64 into float32: same category, allowed
    f *= T(np.array([2, 2]))
    f += True
    check(f, np.array([4.0, 6.0]), "float32")
    b = T(np.array([True, False]))
    b |= True
    check(b, np.array([True, True]), "bool")


# --- autograd through in-place ops ------------------------------------------------
def test_autograd_through_inplace_on_non_leaf():
    a = np.array([0.5, -1.0, 2.0])
    x = T(a, requires_grad=True)
    y = x * 2
    y.add_(1)
    y.mul_(x)          # y = (2x + 1) * x
    y.sin_()
    assert y.grad_fn is not None
    y.sum().backward()
    check(x.grad, np.cos((2 * a + 1) * a) * (4 * a + 1))


def test_gradcheck_through_inplace_chain():
    x = T(make("float64", (2, 3), "pos"), requires_grad=True)
    w = T(make("float64", (3,), "pos", 1), requires_grad=True)

    def f(x, w):
        y = x.clone()
        y *= w
        y += 1
        y.sqrt_()
        y.pow_(3)
        return y

    assert gradcheck(f, (x, w))
    assert gradgradcheck(f, (x, w))


def test_inplace_errors_with_autograd():
    leaf = T(np.ones(3), requires_grad=True)
    for op in (lambda t: t.add_(1), lambda t: t.__iadd__(1), lambda t: t.exp_(), lambda t: t.clamp_(0, 1)):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            op(leaf)
    with norch.no_grad():
        leaf.add_(1)  # allowed without grad mode
    check(leaf.detach(), np.full(3, 2.0))
    # modifying a tensor saved for backward is detected
    x = T(np.ones(3), requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_clamp_inplace_with_tensor_bounds():
    a = make("float64", (3, 4), "real")
    lo, hi = make("float64", (4,), "real", seed=1) - 1, make("float64", (3, 1), "real", seed=2) + 1
    t = T(a)
    v0 = t._version
    assert t.clamp_(T(lo), T(hi)) is t and t._version == v0 + 1
    check(t, np.minimum(np.maximum(a, lo), hi))
    t = T(a)
    t.clamp_(min=T(lo))
    check(t, np.maximum(a, lo))
    # The gradient flows through the in-place result, as for the out-of-place clamp.
    x = T(a, requires_grad=True)
    y = x * 1
    y.clamp_(T(lo), None)
    y.sum().backward()
    check(x.grad, (a >= lo).astype(np.float64))
    with pytest.raises(RuntimeError, match="can't be cast"):  # an int tensor can't hold float bounds
        T(np.arange(4)).clamp_(T(np.array(0.5)), None)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        T(a[0]).clamp_(T(lo), T(hi))


def _large_forward_that_makes_nan(x):
    return norch.sqrt(x) * 0  # large enough that the sqrt runs with the GIL released


def test_large_ops_capture_the_python_stack_without_the_gil():
    # Note [GIL around elementwise kernels]: anomaly mode records the Python stack while
    # the op runs, with the GIL released; the trace provider must take it back.
    n = 1 << 16
    a = np.ones(n)
    a[0] = 0.0
    x = T(a, requires_grad=True)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        mode = norch.autograd.detect_anomaly()
    with mode:
        y = _large_forward_that_makes_nan(x).sum()
        with pytest.raises(RuntimeError, match="SqrtBackward0") as e:
            y.backward()
    assert "_large_forward_that_makes_nan" in str(e.value)
    # A large op on a NumPy-backed tensor whose array is dropped meanwhile still frees it safely.
    t = norch.from_numpy(np.arange(n, dtype=np.float64))
    out = t + t
    del t
    check(out, 2 * np.arange(n, dtype=np.float64))

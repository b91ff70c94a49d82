"""Reductions and scans: a table of ops checked against NumPy over dims given as
None/int/tuple/negative, keepdim, every dtype, non-contiguous, 0-d and empty
inputs, with gradcheck/gradgradcheck; then the ops with their own shape
(max/min with indices, argmax, var/std, norm, logsumexp, cumsum/cumprod, all/any)."""
import numpy as np
import pytest

import norch
from norch.autograd.gradcheck import gradcheck, gradgradcheck

from _oracle import ALL, FLOATS, T, check, check_op, make

# The NumPy references warn on the NaN/inf cases (one-sample var, log(0)) that are checked on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

def np_logsumexp(a, axis=None, keepdims=False):
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    r = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis) if axis is not None else r.reshape(())


def as_float(a):
    return a.astype(np.float64) if a.dtype.kind != "f" else a


# (name, norch call, NumPy reference, dtypes, result dtype rule, differentiable)
# dtype rule: "keep", "int64" (ints/bool accumulate in int64), "bool" (uint8 stays), "float".
REDUCTIONS = [
    ("sum", lambda t, d, k: t.sum(d, k), lambda a, d, k: np.sum(a, d, keepdims=k), ALL, "int64", True),
    ("mean", lambda t, d, k: norch.mean(t, d, k), lambda a, d, k: np.mean(a, d, keepdims=k), FLOATS, "keep", True),
    ("prod", lambda t, d, k: t.prod(d, k), lambda a, d, k: np.prod(a, d, keepdims=k), ALL, "int64", True),
    ("amax", lambda t, d, k: t.amax(() if d is None else d, k), lambda a, d, k: np.max(a, d, keepdims=k), ALL,
     "keep", True),
    ("amin", lambda t, d, k: norch.amin(t, () if d is None else d, k), lambda a, d, k: np.min(a, d, keepdims=k),
     ALL, "keep", True),
    ("var", lambda t, d, k: t.var(d, keepdim=k), lambda a, d, k: np.var(a, d, ddof=1, keepdims=k), FLOATS, "keep",
     True),
    ("std", lambda t, d, k: norch.std(t, d, keepdim=k), lambda a, d, k: np.std(a, d, ddof=1, keepdims=k), FLOATS,
     "keep", True),
    ("norm", lambda t, d, k: t.norm(dim=d, keepdim=k), lambda a, d, k: np.sqrt(np.sum(a * a, d, keepdims=k)), FLOATS,
     "keep", True),
    ("logsumexp", lambda t, d, k: norch.logsumexp(t, () if d is None else d, k),
     lambda a, d, k: np_logsumexp(as_float(a), d, k), ALL, "float", True),
    ("all", lambda t, d, k: t.all(d, k), lambda a, d, k: np.all(a, d, keepdims=k), ALL, "bool", False),
    ("any", lambda t, d, k: norch.any(t, d, k), lambda a, d, k: np.any(a, d, keepdims=k), ALL, "bool", False),
]
IDS = [r[0] for r in REDUCTIONS]
DIMS = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]


def result_dtype(rule, dt):
    if rule == "int64":
        return "int64" if dt not in FLOATS else dt
    if rule == "bool":
        return "uint8" if dt == "uint8" else "bool"
    if rule == "float":
        return dt if dt in FLOATS else "float32"
    return dt


def tuple_dims(d):
    return d if not isinstance(d, int) else (d,)


@pytest.mark.parametrize("name,fn,ref,dtypes,rule,diff", REDUCTIONS, ids=IDS)
def test_forward_dims_keepdim_dtypes(name, fn, ref, dtypes, rule, diff, device):
    for dt in dtypes:
        a = make(dt, (2, 3, 4), "pos" if name == "prod" else "real")
        for d in DIMS:
            for k in (False, True):
                out = fn(T(a, device=device), d, k)
                check(out, ref(a, None if d is None else tuple_dims(d), k), result_dtype(rule, dt))


@pytest.mark.parametrize("name,fn,ref,dtypes,rule,diff", REDUCTIONS, ids=IDS)
def test_layouts(name, fn, ref, dtypes, rule, diff, device):
    dt = dtypes[-1]
    a = make(dt, (4, 3, 5), seed=1)
    t = T(a, device=device)
    for d in (None, 0, (1, 2), -1):
        nd = None if d is None else tuple_dims(d)
        check(fn(t.transpose(0, 2), d, False), ref(a.transpose(2, 1, 0), nd, False))   # permuted
        check(fn(t[::2, :, 1:], d, True), ref(a[::2, :, 1:], nd, True))                 # sliced
    check(fn(t.expand(2, 4, 3, 5), (0, 3), False), ref(np.broadcast_to(a, (2, 4, 3, 5)), (0, 3), False))
    s = a[1, 2, 3]
    for d in (None, 0, -1):
        check(fn(T(s, device=device), d, False), ref(s, None, False))  # 0-d: dim 0 and -1 are the tensor itself
        assert fn(T(s, device=device), d, True).dim() == 0


@pytest.mark.parametrize("name,fn,ref,dtypes,rule,diff", REDUCTIONS, ids=IDS)
def test_empty(name, fn, ref, dtypes, rule, diff, device):
    dt = dtypes[-1]
    e = make(dt, (0, 3))
    te = T(e, device=device)
    if name in ("amax", "amin"):
        with pytest.raises(RuntimeError, match="Expected reduction dim to be specified"):
            fn(te, None, False)
        with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
            fn(te, 0, False)
        check(fn(te, 1, False), np.zeros((0,), dt))  # reducing the non-empty dim is fine
        return
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for d in (None, 0, 1):
            expected = np.log(np.sum(np.exp(e), d)) if name == "logsumexp" else ref(e, d, False)
            check(fn(te, d, False), expected)  # sum 0, prod 1, mean/var NaN, all True, any False


@pytest.mark.parametrize("name,fn,ref,dtypes,rule,diff", [r for r in REDUCTIONS if r[5]],
                         ids=[r[0] for r in REDUCTIONS if r[5]])
def test_gradcheck(name, fn, ref, dtypes, rule, diff, device):
    a = make("float64", (2, 3, 4), "pos" if name == "prod" else "real", seed=2)
    for d, k in ((None, False), (1, False), ((0, 2), True), (-1, True)):
        nd = None if d is None else tuple_dims(d)
        check_op(lambda t: fn(t, d, k), [a], lambda x: ref(x, nd, k), device=device)
    check_op(lambda t: fn(t.transpose(0, 2), (0, 1), False), [a],  # non-contiguous
             lambda x: ref(x.transpose(2, 1, 0), (0, 1), False), device=device, gradgrad=False)
    if name not in ("var", "std"):  # one sample has no spread: NaN, as in PyTorch
        check_op(lambda t: fn(t, None, False), [np.array(0.7)], lambda x: ref(x, None, False),  # 0-d
                 device=device, gradgrad=False)


def test_sum_dtype_and_grad_broadcast():
    a = make("int32", (3, 4))
    check(T(a).sum(dtype=norch.float64), a.sum().astype(np.float64), "float64")
    check(norch.sum(T(a), 1, dtype=norch.int32), a.sum(1), "int32")
    check(T(make("bool", (5,))).sum(), make("bool", (5,)).sum(), "int64")
    x = T(np.ones((2, 3)), requires_grad=True)
    x.sum(1).sum().backward()
    check(x.grad, np.ones((2, 3)))


def test_prod_gradient_with_zeros():
    for a in ([2.0, 0.0, 3.0, 4.0], [0.0, 0.0, 3.0, 1.5], [1.5, -2.0, 3.0, 0.5]):
        x = T(np.array(a), requires_grad=True)
        x.prod().backward()
        a = np.array(a)
        expected = np.array([np.prod(np.delete(a, i)) for i in range(4)])
        check(x.grad, expected)
    x = T(np.array([[2.0, 0.0, 3.0], [1.0, 2.0, 0.0], [0.5, 1.5, 2.0]]), requires_grad=True)
    assert gradcheck(lambda t: t.prod(1), (x,))
    assert gradcheck(lambda t: t.prod(), (x,))


def test_max_min_with_dim():
    a = make("float64", (3, 4, 5), seed=4)
    for name, np_val, np_idx in (("max", np.max, np.argmax), ("min", np.min, np.argmin)):
        for d in (0, 1, -1):
            r = getattr(norch, name)(T(a), d)
            values, indices = r                      # unpacks as a tuple
            assert r.values is values and r.indices is indices
            check(values, np_val(a, d), "float64")
            check(indices, np_idx(a, d), "int64")
            r = getattr(T(a), name)(dim=d, keepdim=True)
            check(r.values, np_val(a, d, keepdims=True))
            check(r.indices, np.expand_dims(np_idx(a, d), d))
        assert type(r).__name__ == name and "values" in repr(r)
        vi = getattr(norch, name)(T(np.array(2.5)), 0)  # 0-d
        check(vi.values, np.array(2.5))
        check(vi.indices, np.array(0))
    for dt in ALL:
        b = make(dt, (3, 4), seed=5)
        r = T(b).max(1)
        check(r.values, b.max(1), dt)
        check(r.indices, b.argmax(1), "int64")
    # the gradient goes to the (first) index, ties included
    x = T(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]]), requires_grad=True)
    x.max(1).values.sum().backward()
    check(x.grad, np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]))
    x = T(a, requires_grad=True)
    for d, k in ((0, False), (-1, True)):
        assert gradcheck(lambda t: t.max(d, k).values, (x,))
        assert gradgradcheck(lambda t: norch.min(t, d, k)[0], (x,))
    assert gradcheck(lambda t: t.transpose(0, 2).max(1).values, (x,))  # non-contiguous


def test_max_min_full_and_binary():
    a = make("float32", (3, 4), seed=6)
    check(norch.max(T(a)), a.max(), "float32")
    check(T(a).min(), a.min())
    b = make("float32", (4,), seed=7)
    check(norch.max(T(a), T(b)), np.maximum(a, b))
    check(T(a).min(T(b)), np.minimum(a, b))
    check(T(make("int64", (5,))).max(), make("int64", (5,)).max(), "int64")
    check(T(np.array([-np.inf, -np.inf])).max(), np.array(-np.inf))   # not the lowest finite float
    check(T(np.array([np.inf, 1.0])).min(), np.array(1.0))
    check(T(np.array([1.0, np.nan, 3.0])).max(), np.array(np.nan))     # NaN propagates
    # ties share the gradient evenly (PyTorch's amax/amin and dim-less max/min)
    for fn in (lambda t: t.max(), lambda t: t.amax(), lambda t: t.amax(0)):
        x = T(np.array([1.0, 3.0, 3.0, 3.0]), requires_grad=True)
        fn(x).backward()
        check(x.grad, np.array([0.0, 1 / 3, 1 / 3, 1 / 3]))
    x = T(np.array([[1.0, 1.0], [0.0, 2.0]]), requires_grad=True)
    x.amin(1).sum().backward()
    check(x.grad, np.array([[0.5, 0.5], [1.0, 0.0]]))
    with pytest.raises(RuntimeError, match="Expected reduction dim to be specified"):
        norch.max(T(np.zeros((0, 2))))
    with pytest.raises(IndexError, match="non-zero size"):
        T(np.zeros((0, 2))).min(0)


def test_argmax_argmin():
    a = make("float64", (3, 4, 5), seed=8)
    for name, ref in (("argmax", np.argmax), ("argmin", np.argmin)):
        fn = getattr(norch, name)
        check(fn(T(a)), ref(a), "int64")                          # flattened
        assert tuple(fn(T(a), keepdim=True).shape) == (1, 1, 1)
        for d in (0, 1, -1):
            check(fn(T(a), d), ref(a, d))
            check(getattr(T(a), name)(d, True), np.expand_dims(ref(a, d), d))
        check(fn(T(a).transpose(0, 2), 1), ref(a.transpose(2, 1, 0), 1))  # non-contiguous
        check(fn(T(np.array(3.0))), np.array(0))                  # 0-d
        check(fn(T(np.array(3.0)), 0), np.array(0))
        for dt in ALL:
            b = make(dt, (4, 6), seed=9)
            check(fn(T(b), 1), ref(b, 1), "int64")
            check(fn(T(b), 0), ref(b, 0))
    check(norch.argmax(T(np.array([1, 3, 3, 2]))), np.array(1))  # first of ties
    check(norch.argmax(T(np.array([1.0, np.nan, 3.0, np.nan]))), np.array(1))  # NaN is the max
    check(norch.argmin(T(np.array([1.0, np.nan, -3.0]))), np.array(1))
    with pytest.raises(IndexError, match="Expected reduction dim"):
        norch.argmax(T(np.zeros((0,))))
    with pytest.raises(IndexError, match="non-zero size"):
        norch.argmin(T(np.zeros((2, 0))), 1)
    check(norch.argmax(T(np.zeros((0, 2))), 1), np.zeros((0,), np.int64))


def test_var_std_corrections():
    a = make("float64", (3, 4, 5), seed=10)
    for fn, ref in ((norch.var, np.var), (norch.std, np.std)):
        check(fn(T(a)), ref(a, ddof=1))
        check(fn(T(a), 1, correction=0), ref(a, 1, ddof=0))
        check(fn(T(a), (0, 2), correction=2, keepdim=True), ref(a, (0, 2), ddof=2, keepdims=True))
        check(fn(T(a), 1, unbiased=False), ref(a, 1, ddof=0))   # legacy keyword
        check(fn(T(a), 1, False, True), ref(a, 1, ddof=0, keepdims=True))  # legacy positional
        check(fn(T(a), False), ref(a, ddof=0))                   # var(unbiased)
        x = T(a, requires_grad=True)
        assert gradcheck(lambda t: fn(t, 1, correction=0), (x,))
    with pytest.raises(RuntimeError, match="floating point"):
        norch.var(T(np.array([1, 2, 3])))
    with pytest.raises(RuntimeError, match="unbiased and correction"):
        norch.std(T(a), 0, unbiased=True, correction=1)
    check(norch.var(T(np.array([1.0]))), np.array(np.nan))  # one sample: NaN, as PyTorch


def test_norm_orders():
    a = make("float64", (3, 4), seed=11)
    cases = [(2, lambda x, d, k: np.sqrt((x * x).sum(d, keepdims=k))),
             ("fro", lambda x, d, k: np.sqrt((x * x).sum(d, keepdims=k))),
             (1, lambda x, d, k: np.abs(x).sum(d, keepdims=k)),
             (3, lambda x, d, k: (np.abs(x) ** 3).sum(d, keepdims=k) ** (1 / 3)),
             (0.5, lambda x, d, k: (np.abs(x) ** 0.5).sum(d, keepdims=k) ** 2),
             (float("inf"), lambda x, d, k: np.abs(x).max(d, keepdims=k)),
             (float("-inf"), lambda x, d, k: np.abs(x).min(d, keepdims=k)),
             (0, lambda x, d, k: (x != 0).sum(d, keepdims=k).astype(np.float64))]
    for p, ref in cases:
        for d, k in ((None, False), (1, False), (0, True), ((0, 1), False)):
            check(norch.norm(T(a), p, d, k), ref(a, d, k), "float64")
        check(T(a).t().norm(p, 0), ref(a.T, 0, False))
        x = T(a, requires_grad=True)
        assert gradcheck(lambda t: t.norm(p, 1), (x,)), p
        if p not in (0.5,):
            assert gradgradcheck(lambda t: t.norm(p, 1), (x,)), p
    check(T(a.astype(np.float32)).norm(), np.sqrt((a * a).sum()), "float32")
    # a zero vector has gradient 0, not NaN
    z = T(np.zeros(3), requires_grad=True)
    z.norm().backward()
    check(z.grad, np.zeros(3))
    check(norch.norm(T(np.zeros((0, 3)))), np.array(0.0))
    with pytest.raises(RuntimeError, match="floating point"):
        norch.norm(T(np.array([3, 4])))
    check(norch.norm(T(np.array([3, 4])), dtype=norch.float64), np.array(5.0))


def test_logsumexp_stable():
    a = np.array([[1000.0, 1000.0], [-1000.0, -1001.0], [-np.inf, -np.inf], [np.inf, 1.0]])
    check(norch.logsumexp(T(a), 1), np_logsumexp(a, 1))
    assert np.isfinite(norch.logsumexp(T(a[:2]), 1).numpy()).all()
    check(norch.logsumexp(T(np.zeros((0, 2))), 0), np.full(2, -np.inf))
    check(norch.logsumexp(T(np.array([1, 2, 3])), 0), np_logsumexp(np.array([1.0, 2, 3]), 0), "float32")
    x = T(np.array([[1000.0, 999.0], [-3.0, 2.0]]), requires_grad=True)
    norch.logsumexp(x, 1).sum().backward()
    e = np.exp(x.detach().numpy() - np_logsumexp(x.detach().numpy(), 1, True))
    check(x.grad, e)  # softmax


@pytest.mark.parametrize("name,ref", [("cumsum", np.cumsum), ("cumprod", np.cumprod)])
def test_scans(name, ref):
    a = make("float64", (3, 4, 5), "pos" if name == "cumprod" else "real", seed=12)
    fn = getattr(norch, name)
    for d in (0, 1, 2, -1):
        check(fn(T(a), d), ref(a, d), "float64")
        check(getattr(T(a), name)(dim=d), ref(a, d))
    check(fn(T(a).transpose(0, 2), 1), ref(a.transpose(2, 1, 0), 1))  # non-contiguous
    check(fn(T(a)[:, ::2], 1), ref(a[:, ::2], 1))
    for dt in ALL:
        b = make(dt, (3, 4), seed=13)
        check(fn(T(b), 1), ref(b.astype(np.int64) if dt not in FLOATS else b, 1),
              "int64" if dt not in FLOATS else dt)
    check(fn(T(make("int32", (4,))), 0, dtype=norch.float32), ref(make("int32", (4,)), 0).astype(np.float32),
          "float32")
    check(fn(T(np.array(2.5)), 0), np.array(2.5))                     # 0-d
    check(fn(T(np.zeros((0, 3))), 0), np.zeros((0, 3)))               # empty
    x = T(a, requires_grad=True)
    for d in (0, -1):
        assert gradcheck(lambda t: fn(t, d), (x,))
        assert gradgradcheck(lambda t: fn(t, d), (x,))
    assert gradcheck(lambda t: fn(t.transpose(0, 1), 0), (x,))
    with pytest.raises(IndexError, match="Dimension out of range"):
        fn(T(a), 3)


def test_cumprod_gradient_with_zeros():
    a = np.array([[2.0, 0.0, 3.0, 0.0, 1.5], [0.0, 1.2, 0.5, 2.0, 3.0], [1.1, 1.3, 0.7, 2.0, 0.0]])
    x = T(a, requires_grad=True)
    assert gradcheck(lambda t: t.cumprod(1), (x,))
    assert gradcheck(lambda t: t.t().cumprod(0), (x,))
    g = np.arange(1.0, 6.0)
    x.cumprod(1).mul(T(g)).sum().backward()
    # brute force: d/dx_i sum_j g_j prod_{k<=j} x_k
    expected = np.array([[sum(g[j] * np.prod(np.delete(row[:j + 1], i)) for j in range(i, 5)) for i in range(5)]
                         for row in a])
    check(x.grad, expected)


def test_all_any():
    a = np.array([[1.0, 0.0, np.nan], [2.0, 3.0, -1.0]])
    check(norch.all(T(a)), np.array(False), "bool")
    check(T(a).all(1), np.all(a, 1))
    check(T(a).any(0, keepdim=True), np.any(a, 0, keepdims=True))
    check(norch.all(T(np.array([np.nan]))), np.array(True))  # NaN is nonzero
    u = T(np.array([[0, 2], [3, 4]], dtype=np.uint8))
    check(u.all(), np.array(0), "uint8")  # uint8 stays uint8, as in PyTorch
    check(u.any(1), np.array([1, 1]), "uint8")
    check(T(np.zeros((0, 2))).all(), np.array(True))
    check(T(np.zeros((0, 2))).any(), np.array(False))
    check(T(make("bool", (3, 4))).all((0, 1)), np.all(make("bool", (3, 4))))


@pytest.mark.parametrize("call", [
    lambda t: t.sum(3), lambda t: t.sum((0, -4)), lambda t: t.mean(5), lambda t: t.prod(3), lambda t: t.amax(3),
    lambda t: t.max(3), lambda t: t.min(-4), lambda t: t.argmax(3), lambda t: t.var(3), lambda t: t.std(-5),
    lambda t: t.norm(dim=4), lambda t: t.all(3), lambda t: t.any(-4), lambda t: t.logsumexp(3),
    lambda t: t.cumsum(3), lambda t: t.cumprod(-4), lambda t: norch.sum(T(np.array(1.0)), 1)])
def test_dim_out_of_range_is_index_error(call):
    with pytest.raises(IndexError, match="out of range"):
        call(T(np.ones((2, 3, 4))))


def test_other_errors():
    t = T(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="multiple times"):
        t.sum((0, 0))
    with pytest.raises(RuntimeError, match="multiple times"):
        t.amax((1, -1))
    with pytest.raises(RuntimeError, match="mean"):
        T(np.array([1, 2])).mean()
    with pytest.raises(RuntimeError, match="mean"):
        T(np.array([1, 2])).mean()
    with pytest.raises(RuntimeError, match="nuc"):
        t.norm("nuc")

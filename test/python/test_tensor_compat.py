"""Python-side Tensor methods and top-level functions (norch/_tensor_compat.py, _functions.py)
against PyTorch: values on ordinary, broadcast, non-contiguous, 0-d and empty inputs, and
gradcheck in float64 where the op is differentiable."""
import math

import numpy as np
import pytest

import norch
from norch.autograd.gradcheck import gradcheck

import torch  # the oracle: required, never skipped

rng = np.random.default_rng(0)


def A(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape)


def P(*shape):
    return rng.uniform(0.2, 0.8, size=shape)


def _conv(x, lib, grad=False):
    if isinstance(x, np.ndarray):
        if lib == "norch":
            t = norch.from_numpy(x.copy())
            return t.requires_grad_(True) if grad and x.dtype == np.float64 else t
        t = torch.from_numpy(x.copy())
        return t.requires_grad_(True) if grad and x.dtype == np.float64 else t
    if isinstance(x, (list, tuple)) and x and isinstance(x[0], np.ndarray):
        return type(x)(_conv(v, lib) for v in x)
    return x


def _np(x):
    if isinstance(x, (norch.Tensor, torch.Tensor)):
        return x.detach().numpy()
    if isinstance(x, (tuple, list)):
        return [_np(v) for v in x]
    return x


def _same(a, b, tol=1e-6):
    if isinstance(b, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y, tol)
        return
    a, b = _np(a), _np(b)
    if isinstance(b, np.ndarray):
        assert a.shape == b.shape, (a.shape, b.shape)
        if b.dtype == np.bool_ or b.dtype.kind in "iu":
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol, equal_nan=True)
    else:
        assert a == b or (isinstance(b, float) and math.isclose(a, b, rel_tol=tol, abs_tol=tol))


T = np.arange(12.0).reshape(3, 4).T  # non-contiguous
I = np.array([[1, 2, 3], [4, 6, 8]], dtype=np.int64)
CASES = [
    ("acosh", (A(3, 4, lo=1.2, hi=3),), {}, True), ("asinh", (A(3, 4),), {}, True),
    ("atanh", (A(3, 4, lo=-0.8, hi=0.8),), {}, True), ("arcsinh", (A(0, 3),), {}, False),
    ("deg2rad", (A(3, 4),), {}, True), ("rad2deg", (T,), {}, True), ("signbit", (np.array([-0.0, 0.0, -1, 2]),), {}, False),
    ("copysign", (A(3, 4), A(4)), {}, False), ("hypot", (A(3, 4), A(4)), {}, True),
    ("logaddexp", (A(3, 4), A(4)), {}, True), ("logaddexp2", (A(3, 4), A(3, 4)), {}, True),
    ("xlogy", (np.array([0.0, 1, 2]), np.array([0.0, 3, 0.5])), {}, False), ("logit", (P(3, 4),), {}, True),
    ("logit", (P(5),), {"eps": 0.3}, False), ("float_power", (A(3), 2), {}, True),
    ("ldexp", (A(3), np.array([1, 2, 3])), {}, False), ("fmax", (np.array([1.0, np.nan, 3]), np.array([np.nan, 2, 1])), {}, False),
    ("fmin", (np.array([1.0, np.nan, 3]), np.array([np.nan, 2, 1])), {}, False),
    ("heaviside", (np.array([-1.0, 0, 2]), np.array([0.5])), {}, False), ("hardshrink", (A(3, 4),), {}, True),
    ("sgn", (A(5),), {}, False), ("angle", (np.array([-1.0, 0, 2]),), {}, False),
    ("gcd", (I, np.array([2, 4, 6], dtype=np.int64)), {}, False), ("lcm", (I, np.array([2, 4, 6], dtype=np.int64)), {}, False),
    ("isneginf", (np.array([-np.inf, np.inf, 1]),), {}, False), ("isposinf", (np.array([-np.inf, np.inf, 1]),), {}, False),
    ("isclose", (np.array([1.0, np.nan, np.inf, 2]), np.array([1 + 1e-9, np.nan, np.inf, 2.1])), {}, False),
    ("isclose", (np.array([1.0, np.nan]), np.array([1.0, np.nan])), {"equal_nan": True}, False),
    ("allclose", (A(3), A(3)), {}, False), ("equal", (I, I), {}, False),
    ("clamp_min", (A(3, 4), 0.5), {}, True), ("clamp_max", (A(3, 4), 0.5), {}, True),
    ("addcmul", (A(3, 4), A(4), A(3, 1)), {"value": 0.5}, True), ("addcdiv", (A(3, 4), A(4), P(3, 1)), {"value": 2}, True),
    ("addmv", (A(3), A(3, 4), A(4)), {"beta": 0.5, "alpha": 2}, True), ("addr", (A(3, 4), A(3), A(4)), {}, True),
    ("baddbmm", (A(2, 3, 4), A(2, 3, 5), A(2, 5, 4)), {"beta": 0}, True),
    ("addbmm", (A(3, 4), A(2, 3, 5), A(2, 5, 4)), {"alpha": 3}, True),
    ("inner", (A(2, 3), A(4, 3)), {}, True), ("inner", (A(3), A(3)), {}, False), ("vdot", (A(3), A(3)), {}, True),
    ("ger", (A(3), A(2)), {}, True), ("kron", (A(2, 3), A(3, 2)), {}, True), ("kron", (A(2), A(2, 2)), {}, False),
    ("matrix_power", (A(3, 3), 3), {}, True), ("matrix_power", (A(2, 3, 3), 0), {}, False),
    ("dist", (A(3, 4), A(4)), {"p": 3}, True), ("cross", (A(4, 3), A(4, 3)), {"dim": 1}, True),
    ("count_nonzero", (I - 2,), {}, False), ("count_nonzero", (I - 2,), {"dim": 0}, False),
    ("nansum", (np.array([[1.0, np.nan], [2, 3]]),), {"dim": 1}, False),
    ("nanmean", (np.array([[1.0, np.nan], [2, 3]]),), {}, False),
    ("kthvalue", (A(3, 5), 2), {"dim": 1}, False), ("kthvalue", (A(3, 5), 3), {"dim": 0, "keepdim": True}, False),
    ("median", (A(3, 5),), {}, False), ("median", (A(4, 6),), {"dim": 1}, False),
    ("msort", (A(4, 3),), {}, False),
    ("quantile", (A(3, 7), 0.3), {"dim": 1}, False), ("quantile", (A(20), 0.5), {}, False),
    ("nanquantile", (np.array([[1.0, np.nan, 3, 4], [np.nan] * 4]), 0.4), {"dim": 1}, False),
    ("logcumsumexp", (A(3, 4),), {"dim": 1}, True),
    ("cov", (A(3, 6),), {}, True), ("cov", (A(3, 6),), {"correction": 0}, False), ("corrcoef", (A(3, 6),), {}, False),
    ("bincount", (np.array([0, 3, 3, 1], dtype=np.int64),), {"minlength": 6}, False),
    ("histc", (A(50),), {"bins": 7, "min": -1, "max": 1}, False),
    ("diagonal", (A(3, 4),), {"offset": 1}, True), ("diagonal", (A(2, 3, 4),), {"offset": -1, "dim1": 1, "dim2": 2}, True),
    ("diagonal", (T,), {}, False), ("diag_embed", (A(2, 3),), {"offset": 1}, True), ("diag", (A(3),), {"diagonal": -1}, True),
    ("diag", (A(3, 4),), {}, True), ("diagflat", (A(2, 2),), {}, False), ("trace", (A(3, 4),), {}, True),
    ("diff", (A(3, 5),), {"n": 2}, True), ("diff", (A(3, 5),), {"dim": 0, "prepend": A(1, 5)}, False),
    ("fliplr", (A(3, 4),), {}, False), ("flipud", (A(3, 4),), {}, False),
    ("rot90", (A(3, 4),), {}, True), ("rot90", (A(3, 4), 3), {}, False), ("rot90", (A(3, 4), 2, (1, 0)), {}, False),
    ("ravel", (T,), {}, False), ("tensor_split", (A(7, 2), 3), {}, False), ("tensor_split", (A(7, 2), [1, 5]), {}, False),
    ("hsplit", (A(2, 6), 3), {}, False), ("vsplit", (A(4, 2), [1]), {}, False), ("dsplit", (A(1, 2, 4), 2), {}, False),
    ("unfold", (A(2, 7), 1, 3, 2), {}, True), ("unfold", (T, 0, 2, 1), {}, False),
    ("take", (A(3, 4), np.array([[0, 5], [11, 2]])), {}, True),
    ("take_along_dim", (A(3, 4), np.array([[0], [2], [1]])), {"dim": 1}, True),
    ("sum_to_size", (A(3, 4), 1, 4), {}, True),
    ("repeat_interleave", (A(3, 2), 2), {"dim": 0}, True), ("repeat_interleave", (A(3),), {"repeats": np.array([1, 0, 2])}, False),
    ("repeat_interleave", (A(3, 2), np.array([2])), {"dim": 1}, False),
    ("unique_consecutive", (np.array([1, 1, 2, 2, 3, 1, 1], dtype=np.int64),), {"return_inverse": True, "return_counts": True}, False),
    ("masked_scatter", (A(3, 4), np.array([True, False, True, True]), A(12)), {}, False),
    ("index_copy", (A(4, 3), 0, np.array([2, 0]), A(2, 3)), {}, False),
    ("index_fill", (A(4, 3), 1, np.array([2, 0]), -1.0), {}, False),
    ("put", (A(3, 4), np.array([1, 7]), np.array([9.0, 8.0])), {}, False),
    ("select_scatter", (np.zeros((3, 4)), A(4), 0, 1), {}, False),
    ("slice_scatter", (np.zeros((4, 4)), A(4, 2)), {"dim": 1, "start": 0, "end": 4, "step": 2}, False),
    ("diagonal_scatter", (np.zeros((3, 3)), A(3)), {}, False),
    ("renorm", (A(3, 4), 2, 0, 1.0), {}, False),
    ("nonzero_static", (np.array([0, 3, 0, 4]),), {"size": 3}, False),
    ("prelu", (A(2, 3, 4), np.array([0.1, 0.2, 0.3])), {}, True),
    ("type_as", (A(3), I), {}, False), ("positive", (A(3),), {}, False),
    ("aminmax", (A(3, 4),), {"dim": 1}, False), ("aminmax", (A(3, 4),), {}, False),
    ("is_same_size", (A(3), A(3)), {}, False), ("is_signed", (I,), {}, False),
    ("get_device", (A(3),), {}, False), ("is_complex", (A(3),), {}, False), ("dim_order", (T,), {}, False),
    ("absolute", (A(3),), {}, False), ("arctan2", (A(3), A(3)), {}, False), ("true_divide", (A(3), P(3)), {}, False),
    ("moveaxis", (A(2, 3, 4), 0, 2), {}, False), ("swapdims", (A(2, 3), 0, 1), {}, False),
    ("erfc", (A(3, 4),), {}, True), ("sinc", (np.array([0.0, 0.5, -1.5, 2]),), {}, True),
    ("frexp", (np.array([0.0, 1.0, -3.5, 1024, 1e-3, np.inf]),), {}, False),
    ("cummax", (np.array([[1.0, 3, 2, 3, 0], [5, 1, 6, 6, 2]]),), {"dim": 1}, False),
    ("cummin", (A(4, 3),), {"dim": 0}, False),
    ("nanmedian", (np.array([[1.0, np.nan, 3, 4], [2, 9, np.nan, np.nan]]),), {"dim": 1}, False),
    ("nanmedian", (np.array([1.0, np.nan, 3, 4]),), {}, False),
    ("lgamma", (np.array([-2.5, -0.3, 0.1, 0.5, 1, 2, 3.7, 10, 50.0, 0, -1]),), {}, False),
    ("lgamma", (A(3, 4, lo=0.2, hi=6),), {}, True),
    ("digamma", (np.array([-2.5, -0.3, 0.1, 0.5, 1, 2, 3.7, 10, 50.0, 0, -1]),), {}, False),
    ("digamma", (A(3, 4, lo=0.2, hi=6),), {}, True),
    ("polygamma", (A(5, lo=0.1, hi=20), 1), {}, True), ("polygamma", (A(5, lo=0.1, hi=20), 3), {}, False),
    ("mvlgamma", (A(4, lo=1.5, hi=5), 3), {}, True), ("i0", (A(6, lo=-30, hi=30),), {}, True),
    ("erfinv", (np.array([-0.999999, -0.9, -0.3, 0, 0.2, 0.99, 0.9999999, 1, -1, 1.5]),), {}, False),
    ("erfinv", (A(5, lo=-0.9, hi=0.9),), {}, True),
    ("nextafter", (np.array([0.0, 1, 1, -1, 0.5, 3, -0.0, 1e-300]), np.array([1.0, 2, 0, 0, -1, 3, -1, 0])), {}, False),
    ("mode", (np.array([[1, 3, 3, 2, 2, 5], [4, 4, 1, 1, 1, 0]], dtype=np.int64),), {"dim": 1}, False),
    ("acosh", (np.array(1.5),), {}, False), ("logaddexp", (np.array([-np.inf, np.inf]), np.array([-np.inf, np.inf])), {}, False),
]


@pytest.mark.parametrize("name,args,kwargs,diff", CASES, ids=[c[0] for c in CASES])
def test_method_matches_torch(name, args, kwargs, diff):
    nargs = [_conv(a, "norch") for a in args]
    targs = [_conv(a, "torch") for a in args]
    nk = {k: _conv(v, "norch") for k, v in kwargs.items()}
    tk = {k: _conv(v, "torch") for k, v in kwargs.items()}
    out = getattr(nargs[0], name)(*nargs[1:], **nk)
    ref = getattr(targs[0], name)(*targs[1:], **tk)
    _same(out, ref)
    if hasattr(torch, name) and hasattr(norch, name) and name not in ("get_device", "polygamma"):
        _same(getattr(norch, name)(*nargs, **nk), ref)


@pytest.mark.parametrize("name,args,kwargs,diff", [c for c in CASES if c[3]], ids=[c[0] for c in CASES if c[3]])
def test_method_gradcheck(name, args, kwargs, diff):
    nargs = [_conv(a, "norch", grad=True) for a in args]
    inputs = tuple(a for a in nargs if isinstance(a, norch.Tensor) and a.requires_grad)
    assert inputs

    def fn(*xs):
        it = iter(xs)
        full = [next(it) if isinstance(a, norch.Tensor) and a.requires_grad else a for a in nargs]
        return getattr(full[0], name)(*full[1:], **kwargs)
    assert gradcheck(fn, inputs)


INPLACE = [("acosh_", A(3, lo=1.5, hi=3)), ("deg2rad_", A(3)), ("clamp_min_", A(3)), ("tril_", A(3, 3)),
           ("cumsum_", A(4)), ("logit_", P(3)), ("fix_", A(3)), ("absolute_", A(3)), ("negative_", A(3)),
           ("sgn_", A(3))]


@pytest.mark.parametrize("name,x", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_forms(name, x):
    extra = {"clamp_min_": (0.1,), "cumsum_": (0,)}.get(name, ())
    n, t = _conv(x, "norch"), _conv(x, "torch")
    r = getattr(n, name)(*extra)
    getattr(t, name)(*extra)
    assert r is n
    _same(n, t)


def test_inplace_comparison_keeps_dtype():
    n, t = norch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 3.0])
    n.gt_(1.5)
    t.gt_(1.5)
    assert n.dtype == norch.float32
    _same(n, t)


def test_cummax_gradient_and_volatile():
    x = norch.tensor([1.0, 3.0, 2.0, 4.0], dtype=norch.float64, requires_grad=True)
    assert gradcheck(lambda t: t.cummax(0)[0], (x,))
    with pytest.warns(UserWarning, match="volatile was removed"):
        assert norch.ones(1).volatile is False


def test_fill_diagonal():
    for shape, wrap in (((3, 3), False), ((5, 2), False), ((7, 3), True), ((2, 2, 2), False)):
        n, t = norch.zeros(shape), torch.zeros(shape)
        n.fill_diagonal_(2.5, wrap=wrap)
        t.fill_diagonal_(2.5, wrap=wrap)
        _same(n, t)


def test_random_fills_have_the_right_support():
    x = norch.empty(2000, dtype=norch.float64)
    assert (x.log_normal_() > 0).all().item()
    g = norch.empty(2000).geometric_(0.3)
    assert (g >= 1).all().item() and (g == g.round()).all().item()
    assert abs(g.double().mean().item() - 1 / 0.3) < 0.3
    c = norch.empty(2000).cauchy_()
    assert abs(c.median().item()) < 0.15


def test_properties_match_torch():
    n, t = norch.ones(2), torch.ones(2)
    for p in ("is_xpu", "is_mps", "is_sparse", "is_quantized", "is_meta", "is_nested", "is_mkldnn", "is_cuda",
              "is_leaf", "is_sparse_csr"):
        assert getattr(n, p) == getattr(t, p), p
    assert n.is_complex() is False and n.is_conj() is False and n.is_inference() is False
    assert repr(n.layout) == "norch.strided" and n.layout is norch.strided
    assert n.conj() is n and n.resolve_conj() is n and n.real is n
    m = norch.arange(6.0).reshape(2, 3)
    _same(m.H, torch.arange(6.0).reshape(2, 3).H)
    _same(m.adjoint(), torch.arange(6.0).reshape(2, 3).adjoint())


def test_bad_inputs_raise_like_torch():
    with pytest.raises(IndexError, match="kthvalue"):
        norch.ones(3).kthvalue(4)
    with pytest.raises(RuntimeError, match="diag"):
        norch.ones(2, 2, 2).diag()
    with pytest.raises(RuntimeError, match="quantile"):
        norch.ones(3).quantile(1.5)
    with pytest.raises(RuntimeError, match="gcd"):
        norch.ones(3).gcd(norch.ones(3))
    with pytest.raises(RuntimeError, match="bincount"):
        norch.tensor([-1, 2]).bincount()
    with pytest.raises(RuntimeError, match="ambiguous"):
        norch.ones(2).is_nonzero()
    with pytest.raises(RuntimeError, match="length 3"):
        norch.ones(2, 4).cross(norch.ones(2, 4), dim=1)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        norch.broadcast_shapes((2, 3), (4,))


def test_top_level_helpers_match_torch():
    a, b = A(3), A(2)
    na, nb, ta, tb = _conv(a, "norch"), _conv(b, "norch"), _conv(a, "torch"), _conv(b, "torch")
    _same(norch.meshgrid(na, nb, indexing="xy"), torch.meshgrid(ta, tb, indexing="xy"))
    _same(norch.meshgrid(na, nb), torch.meshgrid(ta, tb, indexing="ij"))
    _same(norch.cartesian_prod(na, nb), torch.cartesian_prod(ta, tb))
    _same(norch.block_diag(na.reshape(1, 3), nb), torch.block_diag(ta.reshape(1, 3), tb))
    for f in ("hstack", "vstack", "column_stack"):
        _same(getattr(norch, f)([na, na]), getattr(torch, f)([ta, ta]))
    _same(norch.dstack([na, na]), torch.dstack([ta, ta]))
    _same(norch.atleast_3d(na), torch.atleast_3d(ta))
    x, y = A(2, 3, 4), A(4, 3, 5)
    _same(norch.tensordot(_conv(x, "norch"), _conv(y, "norch"), dims=([1, 2], [1, 0])),
          torch.tensordot(_conv(x, "torch"), _conv(y, "torch"), dims=([1, 2], [1, 0])))
    s = np.array([1.0, 3, 5, 7])
    v = np.array([[0.0, 3, 6], [5, 7, 8]])
    for right in (False, True):
        _same(norch.searchsorted(_conv(s, "norch"), _conv(v, "norch"), right=right),
              torch.searchsorted(_conv(s, "torch"), _conv(v, "torch"), right=right))
        _same(norch.bucketize(_conv(v, "norch"), _conv(s, "norch"), right=right),
              torch.bucketize(_conv(v, "torch"), _conv(s, "torch"), right=right))
    _same(norch.isin(norch.tensor([1, 2, 3]), norch.tensor([2, 5])), torch.isin(torch.tensor([1, 2, 3]), torch.tensor([2, 5])))
    _same(norch.unravel_index(norch.tensor([5, 7]), (2, 4)), torch.unravel_index(torch.tensor([5, 7]), (2, 4)))
    y1 = A(5)
    _same(norch.trapezoid(_conv(y1, "norch")), torch.trapezoid(_conv(y1, "torch")))
    _same(norch.cumulative_trapezoid(_conv(y1, "norch"), dx=0.5), torch.cumulative_trapezoid(_conv(y1, "torch"), dx=0.5))
    _same(norch.logspace(0, 2, 5), torch.logspace(0, 2, 5))
    _same(norch.broadcast_tensors(na.reshape(3, 1), nb), torch.broadcast_tensors(ta.reshape(3, 1), tb))
    assert tuple(norch.broadcast_shapes((3, 1), (2,), 1)) == tuple(torch.broadcast_shapes((3, 1), (2,), 1))
    e = norch.empty_strided((2, 3), (1, 2))
    assert e.stride() == (1, 2) and tuple(e.shape) == (2, 3)
    assert norch.finfo(norch.float32).eps == torch.finfo(torch.float32).eps
    assert norch.iinfo(norch.int64).max == torch.iinfo(torch.int64).max
    assert norch.can_cast(norch.float64, norch.int32) == torch.can_cast(torch.float64, torch.int32)
    assert norch.pi == torch.pi and norch.inf == torch.inf and math.isnan(norch.nan)
    arr = np.arange(3.0)
    assert norch.as_tensor(arr).numpy().__array_interface__["data"][0] == arr.__array_interface__["data"][0]
    _same(norch.abs_(norch.tensor([-1.0])), torch.tensor([1.0]))


def test_cdist_matches_torch():
    x, y = A(2, 3, 4), A(2, 5, 4)
    for p in (1.0, 2.0, 3.0, math.inf):
        _same(norch.cdist(_conv(x, "norch"), _conv(y, "norch"), p=p),
              torch.cdist(_conv(x, "torch"), _conv(y, "torch"), p=p), tol=1e-5)


EINSUM = [("ij,jk->ik", [(3, 4), (4, 5)]), ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]), ("ii->i", [(4, 4)]),
          ("ii", [(4, 4)]), ("i,i", [(3,), (3,)]), ("i,j->ij", [(3,), (4,)]), ("...ij,...jk", [(2, 3, 4), (4, 5)]),
          ("bij,bjk,bkl->bil", [(2, 3, 4), (2, 4, 5), (2, 5, 6)]), ("ij->", [(3, 4)]), ("ij->ji", [(3, 4)]),
          ("b i d, b j d -> b i j", [(2, 3, 4), (2, 5, 4)]), ("ijk,jk->i", [(2, 3, 4), (3, 4)]),
          ("ij,ij->i", [(3, 4), (1, 4)]), ("ij,jk", [(0, 2), (2, 3)])]


@pytest.mark.parametrize("eq,shapes", EINSUM, ids=[e for e, _ in EINSUM])
def test_einsum_matches_torch(eq, shapes):
    arrs = [A(*s) for s in shapes]
    _same(norch.einsum(eq, *[_conv(a, "norch") for a in arrs]), torch.einsum(eq, *[_conv(a, "torch") for a in arrs]))
    if all(arrs_i.size for arrs_i in arrs):
        assert gradcheck(lambda *xs: norch.einsum(eq, *xs), tuple(_conv(a, "norch", grad=True) for a in arrs))


def test_einsum_bad_equations():
    with pytest.raises(RuntimeError, match="subscripts"):
        norch.einsum("ij,jk", norch.ones(2, 3), norch.ones(3))
    with pytest.raises(ValueError, match="operands"):
        norch.einsum("ij,jk", norch.ones(2, 3))


def test_small_top_level_functions_match_torch():
    x = A(3, 5)
    for f in ("var_mean", "std_mean"):
        _same(getattr(norch, f)(_conv(x, "norch"), 1), getattr(torch, f)(_conv(x, "torch"), 1))
        _same(getattr(norch, f)(_conv(x, "norch")), getattr(torch, f)(_conv(x, "torch")))
    with pytest.warns(UserWarning, match="deprecated"):
        r = norch.range(1, 4, 0.5)
    with pytest.warns(UserWarning):
        _same(r, torch.range(1, 4, 0.5))
    m = [A(2, 3), A(3, 4), A(4, 2)]
    _same(norch.chain_matmul(*[_conv(a, "norch") for a in m]), torch.linalg.multi_dot([_conv(a, "torch") for a in m]))
    v = np.array([1.0, 2, 3])
    _same(norch.vander(_conv(v, "norch"), N=4), torch.vander(_conv(v, "torch"), N=4))
    _same(norch.vander(_conv(v, "norch"), increasing=True), torch.vander(_conv(v, "torch"), increasing=True))


def test_nextafter_float32_and_polygamma_function_form():
    u = np.array([0.0, 1, 1, -1, 0.5, 1e-30], dtype=np.float32)
    v = np.array([1.0, 2, 0, 0, -1, 0], dtype=np.float32)
    _same(norch.from_numpy(u).nextafter(norch.from_numpy(v)), torch.from_numpy(u).nextafter(torch.from_numpy(v)), 0)
    x = A(4, lo=0.5, hi=3)
    _same(norch.polygamma(2, _conv(x, "norch")), torch.polygamma(2, _conv(x, "torch")))


rng_la = np.random.default_rng(1)
_M = rng_la.standard_normal((2, 4, 4))
_SPD = _M @ _M.transpose(0, 2, 1) + 4 * np.eye(4)
_B = rng_la.standard_normal((2, 4, 3))
_L = np.linalg.cholesky(_SPD)
LINALG = [
    ("cholesky", (_SPD,), {}), ("cholesky", (_SPD,), {"upper": True}), ("cholesky_solve", (_B, _L), {}),
    ("cholesky_inverse", (_L[0],), {}), ("triangular_solve", (_B, np.triu(_M)), {}),
    ("triangular_solve", (_B, np.tril(_M)), {"upper": False, "transpose": True}),
    ("triangular_solve", (_B, np.triu(_M)), {"unitriangular": True}),
    ("det", (_M,), {}), ("slogdet", (_M,), {}), ("logdet", (_SPD,), {}), ("inverse", (_M,), {}), ("lu", (_M,), {}),
    ("qr", (rng_la.standard_normal((5, 3)),), {}), ("qr", (rng_la.standard_normal((3, 5)),), {"some": False}),
    ("qr", (rng_la.standard_normal((2, 4, 4)),), {}), ("matrix_exp", (_M,), {}), ("matrix_exp", (_M * 5,), {}),
    ("det", (np.zeros((0, 0)),), {}), ("det", (np.array([[1.0, 2], [2, 4]]),), {}),
]


@pytest.mark.parametrize("name,args,kwargs", LINALG, ids=[c[0] for c in LINALG])
def test_linalg_matches_torch(name, args, kwargs):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates some of these names in favour of torch.linalg
        ref = getattr(_conv(args[0], "torch"), name)(*[_conv(a, "torch") for a in args[1:]], **kwargs)
    out = getattr(_conv(args[0], "norch"), name)(*[_conv(a, "norch") for a in args[1:]], **kwargs)
    _same(out, ref, tol=1e-9 if name != "matrix_exp" else 1e-7)


@pytest.mark.parametrize("name,args", [("cholesky", (_SPD[0],)), ("det", (_M[0],)), ("inverse", (_M[0],)),
                                       ("cholesky_solve", (_B[0], _L[0])), ("matrix_exp", (_M[0] * 0.5,)),
                                       ("qr", (_M[0],)), ("triangular_solve", (_B[0], np.triu(_M[0]) + 3 * np.eye(4)))])
def test_linalg_gradcheck(name, args):
    def fn(*xs):
        out = getattr(xs[0], name)(*xs[1:])
        return out[0] if isinstance(out, tuple) else out
    xs = tuple(_conv(a, "norch", grad=True) for a in args)
    assert gradcheck(fn, xs)


def test_linalg_bad_inputs():
    with pytest.raises(RuntimeError, match="not positive-definite"):
        norch.tensor([[1.0, 2.0], [2.0, 1.0]]).cholesky()
    with pytest.raises(RuntimeError, match="square matrices"):
        norch.ones(2, 3).det()
    with pytest.raises(RuntimeError, match="singular"):
        norch.tensor([[1.0, 2.0], [2.0, 4.0]]).inverse()
    with pytest.raises(RuntimeError, match="floating point"):
        norch.ones(2, 2, dtype=norch.int64).det()


def test_more_top_level_functions_match_torch():
    x = A(4)
    for r, w in ((2, False), (3, False), (2, True)):
        _same(norch.combinations(_conv(x, "norch"), r, w), torch.combinations(_conv(x, "torch"), r, w))
    buf = bytearray(np.arange(4, dtype=np.float32).tobytes())
    t = norch.frombuffer(buf, dtype=norch.float32)
    assert t.tolist() == torch.frombuffer(bytearray(buf), dtype=torch.float32).tolist()
    e = norch.empty_permuted((2, 3, 4), (0, 2, 1))
    assert tuple(e.shape) == (2, 3, 4) and e.stride() == torch.empty_permuted((2, 3, 4), (0, 2, 1)).stride()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LU, piv = torch.from_numpy(_M).lu()
        ref = torch.lu_unpack(LU, piv)
    _same(norch.lu_unpack(*_conv(_M, "norch").lu()), ref)
    counts = np.array([2, 0, 3], dtype=np.int64)
    _same(norch.repeat_interleave(_conv(counts, "norch")), torch.repeat_interleave(_conv(counts, "torch")))
    assert norch.get_default_device() == norch.device("cpu")
    assert norch.get_device_module("cuda") is norch.cuda
    norch.set_default_tensor_type(norch.DoubleTensor)
    try:
        assert norch.ones(1).dtype == norch.float64
    finally:
        norch.set_default_tensor_type("torch.FloatTensor")
    assert norch.get_default_dtype() == norch.float32


@pytest.mark.parametrize("name,x,y", [("asinh", np.array([0.0, -2.0, 1e-8]), None),
                                      ("logaddexp", np.array([1.0, 2.0, -3.0]), np.array([1.0, 5.0, -3.0])),
                                      ("logaddexp2", np.array([1.0, 2.0]), np.array([1.0, -2.0])),
                                      ("renorm", np.random.default_rng(3).standard_normal((3, 4)), None)])
def test_gradients_at_ties_and_zero_match_torch(name, x, y):
    extra = (2, 0, 1.0) if name == "renorm" else ()
    a, b = _conv(x, "norch").requires_grad_(True), _conv(x, "torch").requires_grad_(True)
    na = (getattr(a, name)(_conv(y, "norch")) if y is not None else getattr(a, name)(*extra))
    tb = (getattr(b, name)(_conv(y, "torch")) if y is not None else getattr(b, name)(*extra))
    (na * na).sum().backward()
    (tb * tb).sum().backward()
    _same(a.grad, b.grad, 1e-10)


def test_deepcopy_of_tensors_and_state_dicts():
    import copy
    for lib in (norch, torch):
        a = lib.tensor(A(2, 3).astype(np.float32), requires_grad=True)
        (a * 2).sum().backward()
        nt = lib.tensor(A(4).astype(np.int64))[1:]
        b, c = copy.deepcopy(a), copy.deepcopy(nt)
        assert b is not a and b.is_leaf and b.requires_grad and b.dtype == a.dtype
        np.testing.assert_array_equal(b.detach().numpy(), a.detach().numpy())
        np.testing.assert_array_equal(b.grad.numpy(), a.grad.numpy())
        np.testing.assert_array_equal(c.numpy(), nt.numpy())
        with lib.no_grad():
            b.add_(1.0)       # the copy owns its values
        assert not np.array_equal(b.detach().numpy(), a.detach().numpy())
        state = copy.deepcopy({"w": a, "again": [a, 3], "empty": lib.zeros(0)})
        assert state["w"] is state["again"][0] and state["again"][1] == 3
        assert tuple(state["empty"].shape) == (0,)
        with pytest.raises(RuntimeError, match="graph leaves"):
            copy.deepcopy(a * 2)


_PICKLED = np.random.default_rng(7).uniform(-2.0, 2.0, (2, 3)).astype(np.float32)


@pytest.mark.parametrize("make", [
    lambda L: L.tensor(_PICKLED, requires_grad=True),
    lambda L: L.tensor(_PICKLED, requires_grad=True) * 2,                     # a non-leaf pickles too
    lambda L: L.arange(6.0, dtype=L.float64)[::2],                            # non-contiguous
    lambda L: L.tensor(3),                                                    # 0-d
    lambda L: L.zeros(0, 3, dtype=L.int32),                                   # empty
    lambda L: L.tensor([True, False]),
])
def test_pickle_roundtrip_matches_torch(make):
    import pickle
    n, t = pickle.loads(pickle.dumps(make(norch))), pickle.loads(pickle.dumps(make(torch)))
    assert type(n) is norch.Tensor and tuple(n.shape) == tuple(t.shape)
    assert str(n.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert n.requires_grad == t.requires_grad and n.is_leaf and n.grad is None
    np.testing.assert_array_equal(n.detach().numpy(), t.detach().numpy())

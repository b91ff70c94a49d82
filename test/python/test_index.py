"""Indexing (__getitem__/__setitem__, basic and advanced) and selection ops
(gather/scatter/index_select/masked_*/nonzero/sort/topk/unique/one_hot):
forward against PyTorch (same API, so one lambda serves both), gradcheck in
float64, non-contiguous/0-d/empty inputs, and PyTorch's exception types."""
import numpy as np
import pytest
import torch  # the oracle for these tests

import norch
import norch.nn.functional as F
from norch.autograd.gradcheck import gradcheck, gradgradcheck

from _oracle import arr, leaf, noncontig_leaf, norch_on, to_np


def assert_same(out, ref):
    if isinstance(ref, (tuple, list)):
        assert isinstance(out, (tuple, list)) and len(out) == len(ref)
        for o, r in zip(out, ref):
            assert_same(o, r)
        return
    r = to_np(ref)
    o = to_np(out)
    assert o.shape == r.shape, (o.shape, r.shape)
    assert str(o.dtype) == str(r.dtype), (o.dtype, r.dtype)
    np.testing.assert_array_equal(o, r)


def run_both(fn, arrays, device="cpu"):
    L = norch_on(device)
    return fn(L, *[L.tensor(a) for a in arrays]), fn(torch, *[torch.tensor(a) for a in arrays])


# ---------------------------------------------------------------------------
# __getitem__: (id, input shape, index built from a library module L)
GETITEM = [
    ("int", (3, 4), lambda L: 1),
    ("neg_int", (3, 4), lambda L: (-1, -2)),
    ("slice_step", (5, 4), lambda L: (slice(None, None, 2), slice(1, None))),
    ("none_ellipsis", (2, 3, 4), lambda L: (None, Ellipsis, 1)),
    ("list", (4, 3), lambda L: [0, 2, 0]),
    ("neg_list", (4, 3), lambda L: [-1, 0]),
    ("empty_list", (4, 3), lambda L: []),
    ("tensor_2d", (4, 3), lambda L: L.tensor([[0, 1], [3, 2]])),
    ("tensor", (4, 3), lambda L: L.tensor([[1, 3]])),
    ("int32_tensor", (4, 3), lambda L: L.tensor([1, 3], dtype=L.int32)),
    ("tensor_0d", (4, 3), lambda L: L.tensor(2)),
    ("two_adjacent", (2, 3, 4), lambda L: (slice(None), [0, 2], [1, 3])),
    ("two_broadcast", (3, 4), lambda L: (L.tensor([[0], [2]]), L.tensor([1, 3, 0]))),
    ("separated", (2, 3, 4), lambda L: ([0, 1], slice(None), [1, 2])),
    ("separated_by_int", (2, 3, 4, 5), lambda L: ([0, 1], slice(None), 1, [1, 2])),
    ("int_then_list", (2, 3, 4), lambda L: (0, slice(None), [1, 2])),
    ("ellipsis_list", (2, 3, 4), lambda L: (Ellipsis, [0, 3])),
    ("none_list", (2, 3), lambda L: (None, [1, 0], None)),
    ("slice_list_slice", (2, 3, 4), lambda L: (slice(None), [2, 0], slice(1, 3))),
    ("mask_full", (3, 4), lambda L: L.tensor(np.arange(12).reshape(3, 4) % 3 == 0)),
    ("mask_dim1", (3, 4), lambda L: (slice(None), L.tensor([True, False, True, True]))),
    ("mask_two_of_three", (2, 3, 4), lambda L: L.tensor([[True, False, True], [False, False, True]])),
    ("mask_list", (3, 2), lambda L: [True, False, True]),
    ("mask_and_list", (3, 4), lambda L: (L.tensor([True, False, True]), [0, 3])),
    ("mask_empty", (3, 4), lambda L: L.tensor([False, False, False])),
    ("true", (3, 2), lambda L: True),
    ("false", (3, 2), lambda L: False),
    ("true_with_list", (3, 2), lambda L: (True, [0, 2])),
    ("empty_input", (0, 3), lambda L: (slice(None), [0, 2])),
]


@pytest.mark.parametrize("name,shape,ix", GETITEM, ids=[g[0] for g in GETITEM])
def test_getitem_forward(name, shape, ix, device):
    a, L = arr(*shape), norch_on(device)
    assert_same(L.tensor(a)[ix(L)], torch.tensor(a)[ix(torch)])


@pytest.mark.parametrize("name,shape,ix", GETITEM, ids=[g[0] for g in GETITEM])
def test_getitem_noncontiguous(name, shape, ix, device):
    a, L = arr(*shape[::-1]), norch_on(device)
    n, t = L.tensor(a), torch.tensor(a)
    perm = tuple(range(a.ndim))[::-1]
    assert_same(n.permute(*perm)[ix(L)], t.permute(*perm)[ix(torch)])


@pytest.mark.parametrize("name,shape,ix", GETITEM, ids=[g[0] for g in GETITEM])
def test_getitem_grad(name, shape, ix):
    assert gradcheck(lambda x: x[ix(norch)], (leaf(arr(*shape)),))


def test_getitem_double_backward_and_repeats():
    t = leaf(arr(4, 3))
    assert gradgradcheck(lambda x: x[[0, 0, 2], 1:] ** 2, (t,))
    y = t[[1, 1, 1]].sum()
    y.backward()
    expected = np.zeros((4, 3))
    expected[1] = 3
    np.testing.assert_array_equal(t.grad.numpy(), expected)


def test_basic_getitem_is_a_view_advanced_is_a_copy():
    t = norch.zeros(4, 3)
    v = t[1:, None, 0]
    assert v._storage_id() == t._storage_id()
    v.fill_(1.0)
    assert t.numpy()[1:, 0].tolist() == [1.0, 1.0, 1.0]
    c = t[[1, 2]]
    assert c._storage_id() != t._storage_id()
    c.fill_(5.0)
    assert t.numpy().max() == 1.0


def test_zero_dim_indexing_deviation():
    # Documented deviation from PyTorch: a 0-d tensor indexed by 0 or -1 is itself.
    loss = norch.tensor(2.5)
    assert loss[0].item() == 2.5 and loss[0].dim() == 0
    assert loss[-1]._storage_id() == loss._storage_id()
    for bad in (1, -2, 5):
        with pytest.raises(IndexError, match="0-d tensor"):
            loss[bad]
    loss[0] = 4.0
    assert loss.item() == 4.0
    with pytest.raises(IndexError):
        loss[1] = 4.0
    # Other indices behave as in PyTorch.
    assert_same(loss[None], torch.tensor(4.0)[None])
    assert_same(loss[...], torch.tensor(4.0)[...])
    assert_same(loss[True], torch.tensor(4.0)[True])


GETITEM_ERRORS = [
    ((3, 4), lambda: [0, 3], IndexError, "index 3 is out of bounds for dimension 0 with size 3"),
    ((3, 4), lambda: (slice(None), [-5]), IndexError, "index -5 is out of bounds for dimension 1 with size 4"),
    ((3, 4), lambda: 3, IndexError, "index 3 is out of bounds for dimension 0 with size 3"),
    ((3, 4), lambda: (0, 0, 0), IndexError, "too many indices"),
    ((3, 4), lambda: norch.tensor([True, False]), IndexError, "shape of the mask"),
    ((3, 4), lambda: norch.tensor([0.0, 1.0]), IndexError, "tensors used as indices must be long"),
    ((3, 4), lambda: 1.5, IndexError, "only integers, slices"),
    ((3, 4), lambda: "a", TypeError, "invalid data type"),
    ((3, 4), lambda: ([0, 1], [0, 1, 2]), IndexError, "shape mismatch: indexing tensors could not be broadcast"),
    ((3, 4), lambda: slice(None, None, -1), ValueError, "step must be"),
]


@pytest.mark.parametrize("shape,ix,exc,match", GETITEM_ERRORS)
def test_getitem_errors(shape, ix, exc, match):
    with pytest.raises(exc, match=match):
        norch.zeros(*shape)[ix()]


# ---------------------------------------------------------------------------
# __setitem__: (id, shape, index, value built from L)
SETITEM = [
    ("basic_scalar", (3, 4), lambda L: (1, slice(1, 3)), lambda L: 7.0),
    ("list_scalar", (3, 4), lambda L: [0, 2], lambda L: -1.0),
    ("list_row", (3, 4), lambda L: [2, 0], lambda L: L.tensor([1.0, 2.0, 3.0, 4.0], dtype=L.float64)),
    ("pairs", (3, 4), lambda L: ([0, 2], [1, 3]), lambda L: L.tensor([5.0, 6.0], dtype=L.float64)),
    ("separated", (2, 3, 4), lambda L: ([0, 1], slice(None), [1, 2]),
     lambda L: L.tensor(np.arange(6.0).reshape(2, 3))),
    ("mask", (3, 4), lambda L: L.tensor(np.arange(12).reshape(3, 4) % 2 == 0), lambda L: 0.5),
    ("mask_values", (3, 4), lambda L: L.tensor([True, False, True]),
     lambda L: L.tensor(np.arange(8.0).reshape(2, 4))),
    ("mask_broadcast_col", (3, 4), lambda L: (slice(None), L.tensor([True, False, True, False])),
     lambda L: L.tensor([[1.0], [2.0], [3.0]], dtype=L.float64)),
    ("basic_int_value_cast", (3, 4), lambda L: 1, lambda L: L.tensor([1, 2, 3, 4])),
    ("leading_one", (3, 4), lambda L: [1, 2], lambda L: L.tensor(np.ones((1, 2, 4)))),
    ("ellipsis", (2, 3), lambda L: (Ellipsis, [0]), lambda L: 9.0),
]


@pytest.mark.parametrize("name,shape,ix,val", SETITEM, ids=[s[0] for s in SETITEM])
def test_setitem_forward(name, shape, ix, val, device):
    a, L = arr(*shape), norch_on(device)
    n, t = L.tensor(a), torch.tensor(a)
    n[ix(L)] = val(L)
    t[ix(torch)] = val(torch)
    assert_same(n, t)


@pytest.mark.parametrize("name,shape,ix,val", SETITEM, ids=[s[0] for s in SETITEM])
def test_setitem_grad(name, shape, ix, val):
    v0 = val(norch)
    v = leaf(v0.numpy() if isinstance(v0, norch.Tensor) else v0)

    def f(x, v):
        y = x.clone()
        y[ix(norch)] = v
        return y * y

    assert gradcheck(f, (leaf(arr(*shape)), v))


def test_setitem_through_view_and_version():
    base = norch.zeros(4, 3)
    view = base[1:]
    before = base._version
    view[[0, 2], 1] = 3.0
    assert base._version > before
    assert base.numpy()[[1, 3], 1].tolist() == [3.0, 3.0]
    # Gradient through a view written by advanced setitem (the written view
    # carries the history; the base of a view is not rebased, see the report).
    def f(x, v):
        y = (x * 1.0).t()
        y[[1, 2], 0] = v
        return y

    assert gradcheck(f, (leaf(arr(3, 4)), leaf(arr(2))))


def test_setitem_on_leaf_requiring_grad_raises():
    x = leaf(arr(3))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[[0]] = 1.0


def test_setitem_errors():
    x = norch.zeros(3, 4)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x[[0, 1]] = norch.zeros(3)
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 1 with size 4"):
        x[:, [4]] = 1.0
    with pytest.raises(RuntimeError, match="dtypes match"):
        x[[1]] = norch.tensor([1, 2, 3, 4])


def test_index_put_accumulate():
    a = arr(5)
    n, t = norch.tensor(a), torch.tensor(a)
    idx, vals = [0, 2, 0, 4], [1.0, 2.0, 3.0, 4.0]
    n.index_put_((norch.tensor(idx),), norch.tensor(vals, dtype=norch.float64), accumulate=True)
    t.index_put_((torch.tensor(idx),), torch.tensor(vals, dtype=torch.float64), accumulate=True)
    assert_same(n, t)
    out = norch.index_put(norch.tensor(a), (norch.tensor([1]),), norch.tensor(0.0, dtype=norch.float64))
    assert_same(out, torch.index_put(torch.tensor(a), (torch.tensor([1]),), torch.tensor(0.0, dtype=torch.float64)))
    assert gradcheck(lambda x, v: norch.index_put(x, (norch.tensor([1, 1, 3]),), v, accumulate=True),
                     (leaf(a), leaf(arr(3))))


# ---------------------------------------------------------------------------
# Selection and sorting ops: (id, input arrays, fn(L, *tensors)); the same
# lambda runs on norch and on torch, and float64 inputs are gradchecked.
I = np.array([[0, 2, 1], [2, 2, 0]])
J = np.array([[0, 2, 1], [2, 1, 0]])  # no repeats within a column: scatter's gradient is defined
SELECT = [
    ("gather", [arr(2, 4)], lambda L, x: L.gather(x, 1, L.tensor([[0, 3, 3], [1, 0, 2]]))),
    ("gather_dim0", [arr(3, 2)], lambda L, x: x.gather(0, L.tensor([[2, 0], [1, 1], [0, 2], [2, 2]])[:2])),
    ("gather_0d", [arr()], lambda L, x: x.gather(0, L.tensor(0))),
    ("gather_empty", [arr(2, 3)], lambda L, x: x.gather(1, L.zeros(2, 0, dtype=L.int64))),
    ("scatter", [arr(3, 4), arr(2, 3)], lambda L, x, s: L.scatter(x, 0, L.tensor(J), s)),
    ("scatter_value", [arr(3, 4)], lambda L, x: x.scatter(1, L.tensor(I), value=2.5)),
    ("scatter_add", [arr(3, 4), arr(2, 3)], lambda L, x, s: L.scatter_add(x, 0, L.tensor(I), s)),
    ("scatter_add_dim1", [arr(2, 5), arr(2, 3)], lambda L, x, s: x.scatter_add(1, L.tensor(I) + 1, s)),
    ("index_select", [arr(4, 3)], lambda L, x: L.index_select(x, 0, L.tensor([3, 0, 3]))),
    ("index_select_dim1", [arr(4, 3)], lambda L, x: x.index_select(-1, L.tensor([2, 1], dtype=L.int32))),
    ("index_select_empty", [arr(4, 3)], lambda L, x: x.index_select(0, L.tensor([], dtype=L.int64))),
    ("index_add", [arr(4, 3), arr(2, 3)], lambda L, x, s: x.index_add(0, L.tensor([1, 1]), s, alpha=2.0)),
    ("masked_fill", [arr(3, 4)], lambda L, x: x.masked_fill(L.tensor([True, False, True, False]), -1.0)),
    ("masked_fill_tensor_value", [arr(3, 4), arr()],
     lambda L, x, v: L.masked_fill(x, L.tensor(np.eye(3, 4, dtype=bool)), v)),
    ("masked_fill_broadcast_out", [arr(4)], lambda L, x: x.masked_fill(L.tensor([[True], [False]]), 0.0)),
    ("masked_select", [arr(3, 4)], lambda L, x: L.masked_select(x, x > 0)),
    ("masked_select_broadcast", [arr(3, 1)], lambda L, x: x.masked_select(L.tensor([True, False, True]))),
    ("sort", [arr(3, 5)], lambda L, x: tuple(L.sort(x))),
    ("sort_desc_dim0", [arr(4, 3)], lambda L, x: tuple(x.sort(0, descending=True))),
    ("sort_stable_ties", [np.array([2.0, 1.0, 2.0, 1.0, 0.0])], lambda L, x: tuple(x.sort(stable=True))),
    ("sort_nan", [np.array([1.0, np.nan, -1.0])], lambda L, x: tuple(L.sort(x, descending=True))),
    ("sort_values_attr", [arr(2, 3)], lambda L, x: L.sort(x, 1).values * 2),
    ("sort_0d", [arr()], lambda L, x: tuple(L.sort(x))),
    ("argsort", [arr(3, 5)], lambda L, x: L.argsort(x, dim=0, descending=True)),
    ("topk", [arr(3, 5)], lambda L, x: tuple(L.topk(x, 2))),
    ("topk_smallest", [arr(4, 3)], lambda L, x: tuple(x.topk(3, dim=0, largest=False))),
    ("topk_zero", [arr(4, 3)], lambda L, x: tuple(x.topk(0))),
    ("topk_indices", [arr(6)], lambda L, x: x.topk(2).indices),
    ("nonzero", [np.array([[0.0, 1.5], [2.0, 0.0]])], lambda L, x: L.nonzero(x)),
    ("nonzero_tuple", [np.array([[0.0, 1.5], [2.0, 3.0]])], lambda L, x: L.nonzero(x, as_tuple=True)),
    ("nonzero_0d", [np.array(3.0)], lambda L, x: x.nonzero()),
    ("nonzero_empty", [np.zeros((0, 3))], lambda L, x: x.nonzero()),
    ("unique", [np.array([3, 1, 3, 2, 1])], lambda L, x: L.unique(x)),
    ("unique_all", [np.array([[3, 1], [3, 0]])],
     lambda L, x: L.unique(x, return_inverse=True, return_counts=True)),
    ("unique_counts", [np.array([2.0, 2.0, -1.0])], lambda L, x: x.unique(return_counts=True)),
    ("unique_dim0", [np.array([[1, 2, 1], [0, 5, 0], [1, 2, 1]])],
     lambda L, x: L.unique(x, dim=0, return_inverse=True, return_counts=True)),
    ("unique_dim1", [np.array([[1, 2, 1, 3], [0, 5, 0, 1]])],
     lambda L, x: x.unique(dim=-1, return_inverse=True, return_counts=True)),
    ("unique_dim_empty", [np.zeros((0, 3))], lambda L, x: x.unique(dim=0)),
    ("unique_0d", [np.array(5.0)], lambda L, x: L.unique(x, return_inverse=True)),
    ("one_hot", [np.array([0, 2, 1])], lambda L, x: (torch.nn.functional if L is torch else F).one_hot(x)),
    ("one_hot_classes", [np.array([[0], [3]])],
     lambda L, x: (torch.nn.functional if L is torch else F).one_hot(x, num_classes=5)),
]


@pytest.mark.parametrize("name,arrays,fn", SELECT, ids=[s[0] for s in SELECT])
def test_select_forward(name, arrays, fn, device):
    out, ref = run_both(fn, arrays, device)
    assert_same(out, ref)


@pytest.mark.parametrize("name,arrays,fn", SELECT, ids=[s[0] for s in SELECT])
def test_select_noncontiguous(name, arrays, fn, device):
    # Inputs laid out transposed in memory (same logical values).
    def noncontig(L, a):
        if a.ndim < 2:
            return L.tensor(a)
        return L.tensor(np.ascontiguousarray(a.T)).T
    L = norch_on(device)
    out = fn(L, *[noncontig(L, a) for a in arrays])
    ref = fn(torch, *[torch.tensor(a) for a in arrays])
    assert_same(out, ref)


GRAD_ROWS = [s for s in SELECT if all(a.dtype == np.float64 for a in s[1]) and not s[0].startswith(
    ("nonzero", "argsort", "topk_indices", "sort_nan", "sort_stable_ties", "unique"))]


@pytest.mark.parametrize("name,arrays,fn", GRAD_ROWS, ids=[s[0] for s in GRAD_ROWS])
def test_select_grad(name, arrays, fn):
    assert gradcheck(lambda *xs: fn(norch, *xs), tuple(leaf(a) for a in arrays))


@pytest.mark.parametrize("name,arrays,fn", GRAD_ROWS[::3], ids=[s[0] for s in GRAD_ROWS[::3]])
def test_select_double_backward(name, arrays, fn):
    assert gradgradcheck(lambda *xs: fn(norch, *xs), tuple(leaf(a) for a in arrays))


def test_sort_returns_named_tuple():
    r = norch.sort(norch.tensor([3.0, 1.0]))
    values, indices = r
    assert r.values is values and r.indices is indices
    assert indices.dtype == norch.int64
    assert norch.topk(norch.tensor([3.0, 1.0]), 1).values.item() == 3.0


def test_inplace_selection_ops():
    a = arr(3, 4)
    n, t = norch.tensor(a), torch.tensor(a)
    m = np.array([[True, False, False, True]])
    n.masked_fill_(norch.tensor(m), 0.25)
    t.masked_fill_(torch.tensor(m), 0.25)
    assert_same(n, t)
    n.scatter_(1, norch.tensor(I), norch.tensor(arr(2, 3) * 0 + 1.0))
    t.scatter_(1, torch.tensor(I), torch.ones(2, 3, dtype=torch.float64))
    assert_same(n, t)
    n.scatter_add_(0, norch.tensor(I), norch.ones(2, 3, dtype=norch.float64))
    t.scatter_add_(0, torch.tensor(I), torch.ones(2, 3, dtype=torch.float64))
    assert_same(n, t)
    n.index_add_(1, norch.tensor([0, 0]), norch.ones(3, 2, dtype=norch.float64))
    t.index_add_(1, torch.tensor([0, 0]), torch.ones(3, 2, dtype=torch.float64))
    assert_same(n, t)
    v = n.masked_fill_(norch.tensor(m), 1.0)
    assert v._storage_id() == n._storage_id()

    def f(x, v):
        y = x * 1.0
        y.masked_fill_(norch.tensor(m), v)
        y.scatter_add_(0, norch.tensor(I), x[:2, :3])
        return y

    assert gradcheck(f, (leaf(a), leaf(arr())))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf(a).masked_fill_(norch.tensor(m), 0.0)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        norch.zeros(4).masked_fill_(norch.tensor([[True], [False]]), 0.0)


SELECT_ERRORS = [
    (lambda: norch.zeros(2, 3).gather(1, norch.tensor([[0, 3]])), RuntimeError,
     "index 3 is out of bounds for dimension 1 with size 3"),
    (lambda: norch.zeros(2, 3).gather(1, norch.tensor([[-1]])), RuntimeError, "out of bounds"),
    (lambda: norch.zeros(2, 3).gather(1, norch.tensor([[0]], dtype=norch.uint8)), RuntimeError,
     "Expected dtype int32/int64 for index"),
    (lambda: norch.zeros(2, 3).gather(1, norch.tensor([0])), RuntimeError, "same number of dimensions"),
    (lambda: norch.zeros(2, 3).gather(1, norch.zeros(3, 1, dtype=norch.int64)), RuntimeError,
     "Size does not match at dimension 0"),
    (lambda: norch.zeros(2, 3).gather(2, norch.zeros(2, 1, dtype=norch.int64)), IndexError, "Dimension out of range"),
    (lambda: norch.zeros(2, 3).scatter(0, norch.tensor([[0, 1]]), norch.zeros(1, 1)), RuntimeError,
     "no larger than src"),
    (lambda: norch.zeros(2, 3).scatter(0, norch.tensor([[0]]), norch.zeros(1, 1, dtype=norch.float64)), RuntimeError,
     "Expected self.dtype to be equal to src.dtype"),
    (lambda: norch.zeros(2, 3).scatter_add(0, norch.tensor([[2]]), norch.zeros(1, 1)), RuntimeError, "out of bounds"),
    (lambda: norch.zeros(4).index_select(0, norch.tensor([4])), IndexError, "out of range"),
    (lambda: norch.zeros(4).index_select(0, norch.tensor([[0]])), IndexError, "Index is supposed to be a vector"),
    (lambda: norch.zeros(4).index_select(0, norch.tensor([0.0])), RuntimeError, "int32/int64"),
    (lambda: norch.zeros(4, 2).index_add(0, norch.tensor([0]), norch.zeros(2, 2)), RuntimeError, "source"),
    (lambda: norch.zeros(4).masked_fill(norch.tensor([1, 0, 1, 0]), 0.0), RuntimeError, "boolean masks"),
    (lambda: norch.zeros(4).masked_fill(norch.tensor([True] * 4), norch.zeros(2)), RuntimeError,
     "0-dimensional value tensor"),
    (lambda: norch.zeros(4).masked_fill(norch.tensor([True] * 3), 1.0), RuntimeError, "size"),
    (lambda: norch.zeros(4).masked_select(norch.tensor([1, 0, 1, 0])), RuntimeError, "BoolTensor"),
    (lambda: norch.zeros(4).topk(5), RuntimeError, "selected index k out of range"),
    (lambda: norch.zeros(4).sort(1), IndexError, "Dimension out of range"),
    (lambda: F.one_hot(norch.tensor([0.0])), RuntimeError, "LongTensor"),
    (lambda: F.one_hot(norch.tensor([-1])), RuntimeError, "non-negative"),
    (lambda: F.one_hot(norch.tensor([3]), 3), RuntimeError, "smaller than num_classes"),
    (lambda: F.one_hot(norch.tensor([], dtype=norch.int64)), RuntimeError, "empty tensor"),
    (lambda: norch.unique(norch.zeros(3, 0), dim=0), RuntimeError, "0 sized dimensions"),
    (lambda: norch.unique(norch.zeros(3), dim=1), IndexError, "Dimension out of range"),
]


@pytest.mark.parametrize("fn,exc,match", SELECT_ERRORS)
def test_select_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def test_index_combinations_match_torch():
    # Every ordered triple of index kinds (basic, integer lists, masks over one
    # or two dims, 0-d bools) on a 3-d tensor, read and written, against torch.
    import itertools
    a = arr(3, 4, 5)
    m4 = np.array([True, False, True, True])
    m34 = arr(3, 4) > 0
    kinds = [slice(None), None, Ellipsis, 1, [0, 2], np.array([True, False, True]), m4, m34, True, False,
             slice(0, 2)]
    checked = 0
    for combo in itertools.product(kinds, repeat=3):
        if sum(k is Ellipsis for k in combo) > 1:
            continue

        def ix(L):
            return tuple(L.tensor(k) if isinstance(k, (list, np.ndarray)) else k for k in combo)

        try:
            ref = torch.tensor(a)[ix(torch)]
        except (IndexError, RuntimeError):
            with pytest.raises((IndexError, RuntimeError)):
                norch.tensor(a)[ix(norch)]
            continue
        assert_same(norch.tensor(a)[ix(norch)], ref)
        n, t = norch.tensor(a), torch.tensor(a)
        n[ix(norch)] = 7.0
        t[ix(torch)] = 7.0
        assert_same(n, t)
        checked += 1
    assert checked > 500


@pytest.mark.parametrize("name,arrays,fn", GRAD_ROWS, ids=[s[0] for s in GRAD_ROWS])
def test_select_grad_noncontiguous(name, arrays, fn):
    assert gradcheck(lambda *xs: fn(norch, *xs), tuple(noncontig_leaf(a) for a in arrays))


@pytest.mark.parametrize("name,shape,ix", GETITEM, ids=[g[0] for g in GETITEM])
def test_getitem_grad_noncontiguous(name, shape, ix):
    x = norch.tensor(arr(*shape[::-1])).permute(*range(len(shape))[::-1]).detach().requires_grad_(True)
    assert gradcheck(lambda x: x[ix(norch)], (x,))


DTYPE_OPS = [
    ("gather", lambda L, x: x.gather(1, L.tensor([[0, 2], [1, 1]]))),
    ("scatter", lambda L, x: x.scatter(1, L.tensor([[2, 0]]), x[:1, :2])),
    ("scatter_add", lambda L, x: x.scatter_add(0, L.tensor([[1, 0, 1]]), x[:1])),
    ("index_select", lambda L, x: x.index_select(1, L.tensor([2, 0]))),
    ("masked_fill", lambda L, x: x.masked_fill(L.tensor([True, False, True]), 1)),
    ("masked_select", lambda L, x: x.masked_select(L.tensor([True, False, True]))),
    ("sort", lambda L, x: tuple(x.sort(dim=1, stable=True))),
    ("topk", lambda L, x: x.topk(2).values),
    ("cat", lambda L, x: L.cat([x, x], 1)),
    ("flip", lambda L, x: x.flip(0, 1)),
    ("roll", lambda L, x: x.roll(1, 1)),
    ("tril", lambda L, x: x.tril()),
    ("getitem", lambda L, x: x[[1, 0], [2, 2]]),
    ("unique", lambda L, x: L.unique(x, return_counts=True)),
]


def _scatter_add_bool(a):
    out = a.copy()
    np.logical_or.at(out, (np.array([1, 0, 1]), np.arange(3)), a[0])  # bool addition is "or"
    return out


# NumPy references where torch has no CPU kernel on bool; the calls are those of DTYPE_OPS.
BOOL_REFS = {
    "scatter_add": _scatter_add_bool,
    "topk": lambda a: np.sort(a, axis=1)[:, ::-1][:, :2],
}


@pytest.mark.parametrize("dtype", ["float32", "int32", "int64", "uint8", "bool"])
@pytest.mark.parametrize("name,fn", DTYPE_OPS, ids=[d[0] for d in DTYPE_OPS])
def test_select_dtypes(name, fn, dtype, device):
    a = (np.array([[3, 0, 2], [1, 1, 0]]) * (1 if dtype == "bool" else 7)).astype(dtype)
    L = norch_on(device)
    out = fn(L, L.tensor(a))
    if dtype == "bool" and name in BOOL_REFS:
        ref = np.ascontiguousarray(BOOL_REFS[name](a))
    else:
        ref = fn(torch, torch.tensor(a))
    assert_same(out, ref)

"""Views and shape ops (view/reshape/.../movedim) and joining ops (cat/stack/split/
chunk/unbind/flip/roll/repeat/tile/tril/triu): forward against NumPy, storage
sharing of views, gradcheck in float64, non-contiguous/0-d/empty inputs, errors."""
import numpy as np
import pytest

import norch
from norch.autograd.gradcheck import gradcheck

from _oracle import arr, check, check_op, leaf, noncontig_leaf

# ---------------------------------------------------------------------------
# Views: (name, input shape, norch fn, numpy fn)
VIEWS = [
    ("view", (2, 3, 4), lambda t: t.view(6, 4), lambda a: a.reshape(6, 4)),
    ("view_infer", (2, 3, 4), lambda t: t.view(-1, 2), lambda a: a.reshape(-1, 2)),
    ("reshape", (2, 3, 4), lambda t: t.reshape(4, -1), lambda a: a.reshape(4, -1)),
    ("flatten", (2, 3, 4), lambda t: t.flatten(1), lambda a: a.reshape(2, 12)),
    ("flatten_0d", (), lambda t: t.flatten(), lambda a: a.reshape(1)),
    ("unflatten", (2, 12), lambda t: t.unflatten(1, (3, -1)), lambda a: a.reshape(2, 3, 4)),
    ("transpose", (2, 3, 4), lambda t: t.transpose(0, 2), lambda a: a.transpose(2, 1, 0)),
    ("permute", (2, 3, 4), lambda t: t.permute(1, 2, 0), lambda a: a.transpose(1, 2, 0)),
    ("T", (3, 4), lambda t: t.T, lambda a: a.T),
    ("mT", (2, 3, 4), lambda t: t.mT, lambda a: np.swapaxes(a, -1, -2)),
    ("expand", (3, 1), lambda t: t.expand(2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4))),
    ("expand_as", (1, 4), lambda t: t.expand_as(norch.zeros(3, 4)), lambda a: np.broadcast_to(a, (3, 4))),
    ("squeeze", (1, 3, 1), lambda t: t.squeeze(), lambda a: a.squeeze()),
    ("squeeze_dim", (1, 3, 1), lambda t: t.squeeze(-1), lambda a: a.squeeze(-1)),
    ("unsqueeze", (2, 3), lambda t: t.unsqueeze(1), lambda a: a[:, None]),
    ("unsqueeze_0d", (), lambda t: t.unsqueeze(0), lambda a: a.reshape(1)),
    ("narrow", (4, 5), lambda t: t.narrow(1, 1, 3), lambda a: a[:, 1:4]),
    ("select", (4, 5), lambda t: t.select(0, -1), lambda a: a[-1]),
    ("movedim", (2, 3, 4), lambda t: t.movedim(0, -1), lambda a: np.moveaxis(a, 0, -1)),
    ("split", (5, 3), lambda t: norch.split(t, 2)[2], lambda a: a[4:]),
    ("split_sizes", (5, 3), lambda t: t.split([1, 4])[1], lambda a: a[1:]),
    ("chunk", (3, 7), lambda t: t.chunk(3, 1)[2], lambda a: a[:, 6:]),
    ("unbind", (3, 4), lambda t: t.unbind(1)[2], lambda a: a[:, 2]),
    ("empty_view", (0, 3), lambda t: t.view(3, 0), lambda a: a.reshape(3, 0)),
    ("empty_transpose", (0, 3), lambda t: t.t(), lambda a: a.T),
    ("view_0d", (), lambda t: t.view(1, 1), lambda a: a.reshape(1, 1)),
    ("reshape_to_0d", (1, 1), lambda t: t.reshape(()), lambda a: a.reshape(())),
    ("expand_0d", (), lambda t: t.expand(2, 3), lambda a: np.broadcast_to(a, (2, 3))),
    ("squeeze_0d", (), lambda t: t.squeeze(0), lambda a: a),
    ("transpose_0d", (), lambda t: t.transpose(0, -1), lambda a: a),
]


@pytest.mark.parametrize("name,shape,fn,ref", VIEWS, ids=[v[0] for v in VIEWS])
def test_view_forward_shares_storage_and_grad(name, shape, fn, ref, device):
    a = arr(*shape)
    t = leaf(a, device=device)
    out = fn(t)
    check(out, ref(a))
    assert out._storage_id() == t._storage_id()
    check_op(fn, [a], ref, device=device, gradgrad=False)
    if out.numel() and not name.startswith("expand"):
        # A write through the view lands in the base (detach keeps the storage).
        base = t.detach().clone()
        v = fn(base)
        v.fill_(7.0)
        expected = ref(a).copy()
        expected[...] = 7.0
        check(fn(base), expected)


@pytest.mark.parametrize("name,shape,fn,ref", VIEWS[:8], ids=[v[0] for v in VIEWS[:8]])
def test_view_double_backward(name, shape, fn, ref, device):
    check_op(fn, [arr(*shape)], ref, device=device)


def test_views_on_noncontiguous_input():
    a = arr(4, 3)
    t = leaf(a).t()  # (3, 4), not contiguous
    assert not t.is_contiguous()
    check(t.reshape(12), a.T.reshape(12))
    check(t.flatten(), a.T.ravel())
    check(t.unsqueeze(0).squeeze(0), a.T)
    check(t[1:, ::2].transpose(0, 1), a.T[1:, ::2].T)
    assert gradcheck(lambda x: x.t().reshape(2, 6), (leaf(a),))
    with pytest.raises(RuntimeError, match="reshape"):
        t.view(12)


def test_view_errors():
    t = norch.zeros(2, 3)
    with pytest.raises(RuntimeError, match="invalid for input of size 6"):
        t.view(4, 2)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        t.view(-1, -1)
    with pytest.raises(RuntimeError, match="invalid shape dimension -2"):
        t.reshape(-2, 3)
    with pytest.raises(RuntimeError, match="expanded size"):
        t.expand(4, 3)
    with pytest.raises(RuntimeError, match="isn't allowed in a leading"):
        t.expand(-1, 2, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.transpose(0, 2)
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 2"):
        t.select(0, 2)
    with pytest.raises(RuntimeError, match="duplicate dims"):
        t.permute(0, 0)
    with pytest.raises(RuntimeError, match="exceeds dimension size"):
        t.narrow(1, 2, 2)
    with pytest.raises(RuntimeError, match="is invalid for input of size 0"):
        norch.zeros(0).view(-1, 0)  # -1 cannot be inferred from 0 elements
    with pytest.raises(IndexError, match="start out of range"):
        t.narrow(0, 3, 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        norch.tensor(1.0).unsqueeze(2)
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions"):
        norch.zeros(1, 2, 3).t()


# ---------------------------------------------------------------------------
# Joining and rearranging ops that copy: (name, input shapes, norch fn, numpy fn)
JOINS = [
    ("cat0", [(2, 3), (4, 3)], lambda x, y: norch.cat([x, y]), lambda x, y: np.concatenate([x, y])),
    ("cat_neg", [(2, 3), (2, 1)], lambda x, y: norch.cat((x, y), -1), lambda x, y: np.concatenate([x, y], -1)),
    ("cat_empty", [(2, 3), (0, 3)], lambda x, y: norch.cat([x, y]), lambda x, y: np.concatenate([x, y])),
    ("concat", [(2, 3), (2, 3)], lambda x, y: norch.concat([x, y], 1), lambda x, y: np.concatenate([x, y], 1)),
    ("stack", [(2, 3), (2, 3)], lambda x, y: norch.stack([x, y]), lambda x, y: np.stack([x, y])),
    ("stack_last", [(2, 3), (2, 3)], lambda x, y: norch.stack([x, y], -1), lambda x, y: np.stack([x, y], -1)),
    ("stack_0d", [(), ()], lambda x, y: norch.stack([x, y]), lambda x, y: np.stack([x, y])),
    ("flip", [(2, 3, 4)], lambda x: norch.flip(x, (0, 2)), lambda x: np.flip(x, (0, 2))),
    ("flip_method", [(3, 4)], lambda x: x.flip(-1), lambda x: np.flip(x, -1)),
    ("flip_0d", [()], lambda x: x.flip(0), lambda x: x),
    ("roll", [(3, 4)], lambda x: norch.roll(x, 1, 1), lambda x: np.roll(x, 1, 1)),
    ("roll_multi", [(3, 4)], lambda x: x.roll((-1, 5), (0, 1)), lambda x: np.roll(x, (-1, 5), (0, 1))),
    ("roll_flat", [(3, 4)], lambda x: x.roll(5), lambda x: np.roll(x, 5)),
    ("repeat", [(2, 3)], lambda x: x.repeat(2, 1, 3), lambda x: np.tile(x, (2, 1, 3))),
    ("repeat_ones", [(2, 3)], lambda x: x.repeat(1, 1), lambda x: x),
    ("repeat_0d", [()], lambda x: x.repeat(3), lambda x: np.tile(x, 3)),
    ("tile", [(2, 3)], lambda x: norch.tile(x, (2,)), lambda x: np.tile(x, 2)),
    ("tile_method", [(2, 3)], lambda x: x.tile(2, 1, 2), lambda x: np.tile(x, (2, 1, 2))),
    ("tril", [(4, 5)], lambda x: norch.tril(x), lambda x: np.tril(x)),
    ("tril_k", [(2, 4, 5)], lambda x: x.tril(-1), lambda x: np.tril(x, -1)),
    ("triu", [(4, 5)], lambda x: norch.triu(x, 1), lambda x: np.triu(x, 1)),
    ("triu_tall", [(5, 3)], lambda x: x.triu(-2), lambda x: np.triu(x, -2)),
    ("tril_empty", [(0, 3)], lambda x: x.tril(), lambda x: np.tril(x)),
]


@pytest.mark.parametrize("name,shapes,fn,ref", JOINS, ids=[j[0] for j in JOINS])
def test_join_forward_and_grad(name, shapes, fn, ref, device):
    arrays = [arr(*s) for s in shapes]
    ts = [leaf(a, device=device) for a in arrays]
    out = fn(*ts)
    check(out, ref(*arrays))
    if out.numel():
        assert out._storage_id() not in [t._storage_id() for t in ts]  # these copy
    check_op(fn, arrays, ref, device=device, gradgrad=False)


@pytest.mark.parametrize("name,shapes,fn,ref", JOINS[::3], ids=[j[0] for j in JOINS[::3]])
def test_join_double_backward(name, shapes, fn, ref, device):
    check_op(fn, [arr(*s) for s in shapes], ref, device=device)


@pytest.mark.parametrize("name,shapes,fn,ref", JOINS, ids=[j[0] for j in JOINS])
def test_join_noncontiguous(name, shapes, fn, ref, device):
    # Same op on transposed-then-transposed-back (non-contiguous) inputs.
    arrays = [arr(*s) for s in shapes]
    ts = [norch.tensor(np.ascontiguousarray(a.T), device=device).T if a.ndim >= 2 else norch.tensor(a, device=device)
          for a in arrays]
    # An empty tensor is contiguous whatever its strides (PyTorch's rule).
    assert any(not t.is_contiguous() for t in ts) or all(a.ndim < 2 or a.size == 0 for a in arrays)
    check(fn(*ts), ref(*arrays))


def test_cat_dtype_promotion_and_legacy_empty():
    a = norch.tensor([[1, 2]], dtype=norch.int64)
    b = norch.tensor([[0.5, 1.5]], dtype=norch.float32)
    out = norch.cat([a, b])
    assert out.dtype == norch.float32
    check(out, [[1, 2], [0.5, 1.5]])
    out = norch.cat([norch.zeros(0), norch.ones(2, 2)], 1)  # (0,) tensors are skipped
    assert tuple(out.shape) == (2, 2)


def test_split_chunk_unbind_are_views():
    t = leaf(arr(6, 4))
    parts = t.split(4)
    assert [tuple(p.shape) for p in parts] == [(4, 4), (2, 4)]
    assert all(p._storage_id() == t._storage_id() for p in parts)
    assert [tuple(p.shape) for p in norch.chunk(t, 4)] == [(2, 4)] * 3
    assert [tuple(p.shape) for p in norch.chunk(norch.zeros(0, 2), 3)] == [(0, 2)] * 3
    assert [tuple(p.shape) for p in norch.split(norch.zeros(0, 2), 0)] == [(0, 2)]
    assert isinstance(t.unbind(), tuple) and len(t.unbind(1)) == 4
    base = t.detach().clone()
    base.split(3)[1].fill_(2.0)
    np.testing.assert_array_equal(base.numpy()[3:], 2.0)
    # Gradients flow through every piece.
    assert gradcheck(lambda x: tuple(p * (i + 1) for i, p in enumerate(x.split([1, 2, 3]))), (t,))
    assert gradcheck(lambda x: x.unbind(1)[0] * x.unbind(1)[3], (t,))


JOIN_ERRORS = [
    (lambda: norch.cat([]), RuntimeError, "non-empty list"),
    (lambda: norch.cat([norch.zeros(2, 3), norch.zeros(2, 4)]), RuntimeError,
     "Sizes of tensors must match except in dimension 0"),
    (lambda: norch.cat([norch.zeros(2, 3), norch.zeros(2)]), RuntimeError, "same number of dimensions"),
    (lambda: norch.cat([norch.tensor(1.0)]), RuntimeError, "zero-dimensional tensor"),
    (lambda: norch.cat([norch.zeros(2)], 1), IndexError, "Dimension out of range"),
    (lambda: norch.stack([norch.zeros(2), norch.zeros(3)]), RuntimeError, "stack expects each tensor to be equal size"),
    (lambda: norch.zeros(4).split(-1), RuntimeError, "non-negative"),
    (lambda: norch.zeros(4).split(0), RuntimeError, "split_size can only be 0"),
    (lambda: norch.zeros(4).split([1, 2]), RuntimeError, "sum exactly to 4"),
    (lambda: norch.zeros(4).chunk(0), RuntimeError, "greater than 0"),
    (lambda: norch.tensor(1.0).unbind(), IndexError, "no dimensions"),
    (lambda: norch.zeros(2, 2).flip((0, 0)), RuntimeError, "dims has duplicates"),
    (lambda: norch.zeros(2, 2).roll((1, 2), 0), RuntimeError, "shifts and dimensions must align"),
    (lambda: norch.zeros(2, 2).repeat(2), RuntimeError, "can not be smaller"),
    (lambda: norch.zeros(2).repeat(-1), RuntimeError, "negative dimension"),
    (lambda: norch.zeros(3).tril(), RuntimeError, "at least 2 dimensions"),
    (lambda: norch.zeros(3).triu(), RuntimeError, "at least 2 dimensions"),
]


@pytest.mark.parametrize("fn,exc,match", JOIN_ERRORS)
def test_join_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


@pytest.mark.parametrize("name,shapes,fn,ref", JOINS, ids=[j[0] for j in JOINS])
def test_join_grad_noncontiguous(name, shapes, fn, ref):
    ts = tuple(noncontig_leaf(arr(*s)) for s in shapes)
    assert gradcheck(fn, ts)

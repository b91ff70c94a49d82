# Silent wrong results found by hostile inputs (issue 9, items 10, 11, 13):
# hooks that change a gradient's shape or dtype, log_softmax precision with
# large logits, and gradients that were NaN where PyTorch's are finite. Each
# case is compared with PyTorch on the same inputs.
import math

import pytest
import torch
import torch.nn.functional as TF

import norch
import norch.nn.functional as F


def grads(fn, *values, dtype="float64"):
    """The gradients of fn(lib, *leaves) summed to a scalar, for norch and torch."""
    out = []
    for lib in (norch, torch):
        leaves = [lib.tensor(v, dtype=getattr(lib, dtype), requires_grad=True) for v in values]
        y = fn(lib, *leaves)
        y.sum().backward()
        out.append([leaf.grad.tolist() for leaf in leaves])
    return out


def assert_same(a, b):
    """Equal lists, NaN equal to NaN, inf to inf, finite values to 1e-9 relative."""
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            assert_same(x, y)
        return
    if math.isnan(b):
        assert math.isnan(a), (a, b)
    else:
        assert a == pytest.approx(b, rel=1e-9, abs=0), (a, b)


# --- item 10: a tensor hook may not change the gradient's shape or dtype ----

@pytest.mark.parametrize("leaf", [True, False])
def test_hook_changing_shape_is_refused(leaf):
    x = norch.randn(3, 4, requires_grad=True)
    t = x if leaf else x * 2
    t.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="hook .*has changed the size of value"):
        (t * 1).sum().backward()
    assert x.grad is None


@pytest.mark.parametrize("leaf", [True, False])
def test_hook_changing_dtype_is_refused(leaf):
    x = norch.randn(3, 4, requires_grad=True)
    t = x if leaf else x * 2
    t.register_hook(lambda g: g.double())
    with pytest.raises(RuntimeError, match="hook .*has changed the type of value"):
        (t * 1).sum().backward()


def test_hook_changing_values_is_kept():
    x = norch.ones(3, 4, requires_grad=True)
    x.register_hook(lambda g: g * 3)
    (x * 2).sum().backward()
    assert x.grad.tolist() == [[6.0] * 4] * 3


def test_torch_refuses_the_same_hooks():
    # The reference behaviour the tests above follow.
    x = torch.randn(3, 4, requires_grad=True)
    x.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="has changed the size of value"):
        (x * 2).sum().backward()


# --- item 11: log_softmax with large logits ---------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("values", [[1e20, 1e20], [1e30, 1e30, -1e30], [3e38, -3e38, 0.0], [1e8, 1e8 + 1, 1e8 - 1]])
def test_log_softmax_large_logits(dtype, values):
    x = norch.tensor(values, dtype=getattr(norch, dtype))
    ref = torch.log_softmax(torch.tensor(values, dtype=getattr(torch, dtype)), 0)
    assert_same(F.log_softmax(x, 0).tolist(), ref.tolist())


def test_log_softmax_gradient_large_logits():
    w = [[1.0, 2.0, 3.0]]
    n, t = grads(lambda L, x: (TF if L is torch else F).log_softmax(x, 1) * L.tensor(w, dtype=x.dtype),
                 [[1e30, 1e30, -1e30]])
    assert_same(n, t)
    assert n == [[[-2.0, -1.0, 3.0]]]


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_large_logits(label_smoothing):
    res = []
    for lib, fn in ((norch, F), (torch, TF)):
        x = lib.tensor([[1e30, 1e30, -1e30], [1e20, 0.0, 1e20]], dtype=lib.float64, requires_grad=True)
        loss = fn.cross_entropy(x, lib.tensor([0, 2]), label_smoothing=label_smoothing)
        loss.backward()
        res.append((loss.item(), x.grad.tolist()))
    assert_same(res[0][0], res[1][0])
    assert_same(res[0][1], res[1][1])


def test_nll_of_log_softmax_large_logits():
    res = []
    for lib, fn in ((norch, F), (torch, TF)):
        x = lib.tensor([[1e20, 1e20]], dtype=lib.float32)
        res.append(fn.nll_loss(fn.log_softmax(x, 1), lib.tensor([1])).item())
    assert_same(res[0], res[1])
    assert res[0] == pytest.approx(math.log(2), rel=1e-6)


# --- item 13: finite gradients where PyTorch's are finite ---------------------

@pytest.mark.parametrize("op", ["std", "var"])
@pytest.mark.parametrize("kw", [{}, {"dim": 0}, {"dim": 1, "keepdim": True}, {"correction": 0}])
def test_std_var_of_constant(op, kw):
    n, t = grads(lambda L, x: getattr(x, op)(**kw), [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]])
    assert_same(n, t)
    assert n == [[[0.0] * 3] * 2]


def test_std_gradient_elsewhere_unchanged():
    n, t = grads(lambda L, x: x.std(dim=1) * L.tensor([1.0, 2.0], dtype=x.dtype), [[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]])
    assert_same(n, t)
    assert norch.autograd.gradcheck(lambda x: x.std(dim=0), (norch.randn(4, 3, dtype=norch.float64, requires_grad=True),))
    assert norch.autograd.gradgradcheck(lambda x: x.std(), (norch.randn(5, dtype=norch.float64, requires_grad=True),))


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
def test_normalize_zero_vector(p):
    n, t = grads(lambda L, x: (TF if L is torch else F).normalize(x, p=p, dim=0), [0.0, 0.0, 0.0])
    assert_same(n, t)
    n, t = grads(lambda L, x: (TF if L is torch else F).normalize(x, p=p, dim=1) * L.tensor([1.0, 2.0], dtype=x.dtype),
                 [[0.0, 0.0], [3.0, -4.0]])
    assert_same(n, t)


@pytest.mark.parametrize("values", [
    [math.inf, 2.0, 3.0], [0.0, 2.0, 3.0], [0.0, 0.0, 3.0], [math.inf, 0.0, 3.0], [-math.inf, 0.0, 0.0],
    [[0.0, 2.0, 3.0], [1.0, math.inf, 2.0]], [[1.0, 2.0], [3.0, 4.0]],
])
@pytest.mark.parametrize("dim", [None, 0, -1])
def test_prod_gradient_with_zeros_and_infinities(values, dim):
    n, t = grads(lambda L, x: x.prod() if dim is None else x.prod(dim), values)
    assert_same(n, t)


def test_prod_gradient_gradcheck_with_a_zero():
    x = norch.tensor([[0.0, 2.0, 3.0], [1.5, 0.5, 2.0]], dtype=norch.float64, requires_grad=True)
    assert norch.autograd.gradcheck(lambda x: x.prod(1), (x,))
    assert norch.autograd.gradcheck(lambda x: x.prod(), (x,))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_atan2_gradient_at_the_origin(dtype):
    # Both inputs zero (and squares that underflow): PyTorch's gradient is 0, not NaN.
    n, t = grads(lambda L, x: L.atan2(x, x), [0.0, -0.0, 1.0, 1e-200], dtype=dtype)
    assert_same(n, t)
    y, x = [0.0, 0.0, -0.0, 1.0, 0.0, 1e-170], [0.0, -0.0, 0.0, 0.0, -2.0, 1e-170]
    n, t = grads(lambda L, a, b: L.atan2(a, b), y, x, dtype=dtype)
    assert_same(n, t)
    assert all(math.isfinite(v) for g in n for v in g)


def test_atan2_gradcheck_away_from_the_origin():
    y = norch.tensor([[0.5, -1.0, 2.0]], dtype=norch.float64, requires_grad=True)
    x = norch.tensor([[1.5], [-0.3]], dtype=norch.float64, requires_grad=True)
    assert norch.autograd.gradcheck(norch.atan2, (y, x))


@pytest.mark.parametrize("index", [0, slice(0, 2), (Ellipsis, 1)])
def test_setitem_region_under_infinite_gradient(index):
    def fn(L, x):
        y = x * 1
        y[index] = 5.0
        return y * L.tensor([math.inf, 1.0, 1.0], dtype=x.dtype)
    n, t = grads(fn, [1.0, 2.0, 3.0])
    assert_same(n, t)


def test_write_into_view_under_infinite_gradient():
    def fn(L, x):
        y = x * 1
        v = y[1:]
        v.fill_(7.0)
        return y * L.tensor([[1.0, 1.0], [math.inf, math.nan]], dtype=x.dtype)
    n, t = grads(fn, [[1.0, 2.0], [3.0, 4.0]])
    assert_same(n, t)
    assert n == [[[1.0, 1.0], [0.0, 0.0]]]


def test_sdpa_fully_masked_row():
    mask = [[True, True, False], [False, False, False]]
    res = []
    for lib, fn in ((norch, F), (torch, TF)):
        g = lib.Generator().manual_seed(0) if lib is torch else None
        q = lib.tensor([[[0.1, 0.2], [0.3, -0.4]]], dtype=lib.float64, requires_grad=True)
        k = lib.tensor([[[0.5, 0.6], [-0.7, 0.8], [0.9, 1.0]]], dtype=lib.float64, requires_grad=True)
        v = lib.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]], dtype=lib.float64, requires_grad=True)
        out = fn.scaled_dot_product_attention(q, k, v, attn_mask=lib.tensor(mask))
        out.sum().backward()
        res.append([out.tolist(), q.grad.tolist(), k.grad.tolist(), v.grad.tolist()])
    assert_same(res[0], res[1])
    assert res[0][0][0][1] == [0.0, 0.0]


def test_sdpa_fully_masked_row_additive_mask():
    res = []
    for lib, fn in ((norch, F), (torch, TF)):
        q = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
        mask = lib.tensor([[0.0, 0.0], [-math.inf, -math.inf]], dtype=lib.float64)
        out = fn.scaled_dot_product_attention(q, q, q, attn_mask=mask)
        out.sum().backward()
        res.append([out.tolist(), q.grad.tolist()])
    assert_same(res[0], res[1])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("target", [[1.0, 0.0, 0.0, 1.0], [0.5, 0.5, 0.25, 0.75]])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_gradient_at_zero_and_one(dtype, target, reduction):
    res = []
    for lib, fn in ((norch, F), (torch, TF)):
        p = lib.tensor([0.0, 1.0, 0.0, 1.0], dtype=getattr(lib, dtype), requires_grad=True)
        t = lib.tensor(target, dtype=getattr(lib, dtype), requires_grad=True)
        loss = fn.binary_cross_entropy(p, t, reduction=reduction)
        loss.sum().backward()
        res.append([loss.tolist(), p.grad.tolist(), t.grad.tolist()])
    assert_same(res[0], res[1])


def test_bce_gradient_with_weight_and_gradcheck():
    res = []
    for lib, fn in ((norch, F), (torch, TF)):
        p = lib.tensor([[0.0, 0.3], [0.9, 1.0]], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([2.0, 0.5], dtype=lib.float64)
        fn.binary_cross_entropy(p, lib.tensor([[1.0, 0.0], [1.0, 0.0]], dtype=lib.float64), weight=w).backward()
        res.append(p.grad.tolist())
    assert_same(res[0], res[1])
    p = norch.tensor([0.2, 0.7, 0.4], dtype=norch.float64, requires_grad=True)
    t = norch.tensor([0.1, 0.9, 0.5], dtype=norch.float64, requires_grad=True)
    assert norch.autograd.gradcheck(lambda p, t: F.binary_cross_entropy(p, t), (p, t))
    assert norch.autograd.gradgradcheck(lambda p: F.binary_cross_entropy(p, t.detach()), (p,))

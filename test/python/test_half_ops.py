"""Every op PyTorch's CPU backend runs in float16 and bfloat16, against PyTorch on
the same inputs: forward within the dtype's rounding (both compute in float32 and
round once), backward within a few units in the last place (each backward op
rounds), on plain, broadcast, non-contiguous, 0-d and empty inputs. The elementwise,
reduction and matmul cases run on the `device` fixture: on CUDA too where there is a GPU."""
import pytest
import torch

import norch

from _half_util import HALF, nd, td, to_torch, to_norch, rtol


def _inputs(shapes, name, domain, seed):
    g = torch.Generator().manual_seed(seed)
    out = []
    for s in shapes:
        x = torch.rand(s, generator=g, dtype=torch.float64)
        lo, hi = domain
        out.append((lo + (hi - lo) * x).to(td(name)))
    return out


# name -> (function of (lib, *tensors), input shapes, input domain, differentiable)
UNARY = {n: (lambda L, x, n=n: getattr(L, n)(x), (-3, 3)) for n in [
    "neg", "abs", "sign", "floor", "ceil", "round", "trunc", "frac", "square", "relu", "exp", "exp2", "expm1",
    "sin", "cos", "atan", "sinh", "cosh", "tanh", "sigmoid", "erf", "sinc"]}
UNARY.update({n: (lambda L, x, n=n: getattr(L, n)(x), (0.1, 4)) for n in [
    "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal"]})
UNARY.update({n: (lambda L, x, n=n: getattr(L, n)(x), (-0.9, 0.9)) for n in ["asin", "acos", "tan"]})

BINARY = {n: (lambda L, a, b, n=n: getattr(L, n)(a, b), (-3, 3)) for n in [
    "add", "sub", "mul", "maximum", "minimum", "atan2", "hypot", "eq", "ne", "lt", "le", "gt", "ge"]}
BINARY.update({n: (lambda L, a, b, n=n: getattr(L, n)(a, b), (0.5, 3)) for n in [
    "div", "floor_divide", "remainder", "fmod", "pow"]})

SHAPES = {"plain": [(4, 5), (4, 5)], "broadcast": [(3, 1, 5), (4, 1)], "zero_d": [(), ()], "empty": [(0, 3), (0, 3)]}


def _run(fn, xs, name, grad, atol_scale=1.0, grad_tol=4.0, device="cpu"):
    tx = [x.clone().requires_grad_(grad) for x in xs]
    nx = [to_norch(x).to(device).requires_grad_(grad) for x in xs]
    want = fn(torch, *tx)
    got = fn(norch, *nx)
    assert got.device.type == device, got.device
    if want.dtype == torch.bool or not want.dtype.is_floating_point:
        assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
        assert to_torch(got).tolist() == want.tolist()
        return
    finite = want.detach().double().abs()
    finite = finite[torch.isfinite(finite)]
    scale = finite.max().item() if finite.numel() else 1.0
    tol = rtol(name)
    assert str(got.dtype) == "norch." + str(want.dtype).split(".")[1]
    torch.testing.assert_close(to_torch(got).double(), want.detach().double(), rtol=tol,
                               atol=tol * max(scale, 1.0) * atol_scale, equal_nan=True)
    if grad and want.numel():
        g = _inputs([tuple(want.shape)], name, (-1, 1), 99)[0]
        want.backward(g)
        got.backward(to_norch(g).to(device))
        for t, n in zip(tx, nx):
            if t.grad is None:
                assert n.grad is None
                continue
            gs = t.grad.double().abs().max().item() if t.grad.numel() else 1.0
            torch.testing.assert_close(to_torch(n.grad).double(), t.grad.double(), rtol=grad_tol * tol,
                                       atol=grad_tol * tol * max(gs, 1.0), equal_nan=True)
            assert n.grad.dtype == n.dtype


@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("op", sorted(UNARY))
@pytest.mark.parametrize("layout", ["plain", "zero_d", "empty", "strided"])
def test_unary(op, name, layout, device):
    fn, domain = UNARY[op]
    if layout == "strided":
        xs = [x.t() for x in _inputs([(5, 6)], name, domain, 1)]
    else:
        xs = _inputs(SHAPES[layout][:1], name, domain, 1)
    grad = op not in ("sign", "floor", "ceil", "round", "trunc")
    _run(fn, xs, name, grad, device=device)


@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("layout", ["plain", "broadcast", "zero_d", "empty", "strided"])
def test_binary(op, name, layout, device):
    fn, domain = BINARY[op]
    if layout == "strided":
        xs = [x[:, ::2] for x in _inputs([(4, 8), (4, 8)], name, domain, 2)]
    else:
        xs = _inputs(SHAPES[layout], name, domain, 2)
    grad = op in ("add", "sub", "mul", "div", "maximum", "minimum", "atan2", "hypot", "pow")
    _run(fn, xs, name, grad, device=device)


@pytest.mark.parametrize("name", HALF)
def test_mixed_dtype_binary_promotes(name):
    a, b = _inputs([(3, 4), (3, 4)], name, (-2, 2), 3)
    _run(lambda L, x, y: x * y.float(), [a, b], "float32", True)
    _run(lambda L, x, y: x + 2.5, [a, b], name, True)
    _run(lambda L, x, y: x * L.ones(4, dtype=L.int64), [a, b], name, False)


REDUCE = {
    "sum": lambda L, x: x.sum(), "sum_dim": lambda L, x: x.sum(1), "sum_dim0": lambda L, x: x.sum(0, keepdim=True),
    "mean": lambda L, x: x.mean(), "mean_dim": lambda L, x: x.mean(-1), "prod": lambda L, x: x.prod(1),
    "amax": lambda L, x: x.amax(1), "amin": lambda L, x: x.amin(0), "max": lambda L, x: x.max(),
    "min": lambda L, x: x.min(), "max_dim": lambda L, x: x.max(1)[0], "argmax": lambda L, x: x.argmax(1),
    "argmin": lambda L, x: x.argmin(), "std": lambda L, x: x.std(1), "var": lambda L, x: x.var(),
    "norm": lambda L, x: x.norm(), "logsumexp": lambda L, x: x.logsumexp(1), "cumsum": lambda L, x: x.cumsum(1),
    "cumprod": lambda L, x: x.cumprod(0), "softmax": lambda L, x: x.softmax(1),
    "log_softmax": lambda L, x: x.log_softmax(0), "sort": lambda L, x: x.sort(1)[0],
    "topk": lambda L, x: x.topk(2, 1)[0], "all": lambda L, x: x.all(), "any": lambda L, x: (x > 0).any(1),
    "count_nonzero": lambda L, x: L.count_nonzero(x > 0),
}


@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("op", sorted(REDUCE))
def test_reductions(op, name, device):
    x = _inputs([(6, 7)], name, (-2, 2), 4)
    grad = op not in ("argmax", "argmin", "all", "any", "count_nonzero")
    _run(REDUCE[op], x, name, grad, device=device)
    _run(REDUCE[op], [x[0].t()], name, grad, device=device)  # non-contiguous


@pytest.mark.parametrize("name", HALF)
def test_long_sum_accumulates_in_float(name, device):
    # 4096 ones in a half type: a half accumulator would stall at 2048 (float16) or 256 (bfloat16).
    x = torch.ones(4096, dtype=td(name))
    _run(lambda L, t: t.sum(), [x], name, False, device=device)
    _run(lambda L, t: t.mean(), [x * 0.1], name, False, device=device)
    _run(lambda L, t: t.cumsum(0), [x[:600] * 0.1], name, False, atol_scale=4.0, device=device)


MATMUL = {
    "matmul": ((5, 64), (64, 7), lambda L, a, b: a @ b),
    "mm_t": ((64, 5), (7, 64), lambda L, a, b: a.t() @ b.t()),
    "bmm": ((3, 4, 33), (3, 33, 6), lambda L, a, b: L.bmm(a, b)),
    "matvec": ((4, 40), (40,), lambda L, a, b: a @ b),
    "dot": ((40,), (40,), lambda L, a, b: L.dot(a, b)),
    "broadcast": ((2, 1, 3, 16), (4, 16, 5), lambda L, a, b: L.matmul(a, b)),
    "empty_k": ((3, 0), (0, 4), lambda L, a, b: a @ b),
}


@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("op", sorted(MATMUL))
def test_matmul_accumulates_in_float(op, name, device):
    sa, sb, fn = MATMUL[op]
    xs = _inputs([sa, sb], name, (-1, 1), 5)
    _run(fn, xs, name, True, atol_scale=2.0, grad_tol=8.0, device=device)


def _nn(L):
    return L.nn.functional


NN = {
    "linear": ([(4, 10), (6, 10), (6,)], lambda L, x, w, b: _nn(L).linear(x, w, b)),
    "conv2d": ([(2, 3, 7, 7), (4, 3, 3, 3), (4,)], lambda L, x, w, b: _nn(L).conv2d(x, w, b, padding=1)),
    "conv2d_stride": ([(1, 2, 8, 8), (3, 2, 3, 3), (3,)], lambda L, x, w, b: _nn(L).conv2d(x, w, b, stride=2)),
    "conv1d": ([(2, 3, 9), (4, 3, 3), (4,)], lambda L, x, w, b: _nn(L).conv1d(x, w, b)),
    "layer_norm": ([(4, 8), (8,), (8,)], lambda L, x, w, b: _nn(L).layer_norm(x, (8,), w, b)),
    "group_norm": ([(2, 4, 5), (4,), (4,)], lambda L, x, w, b: _nn(L).group_norm(x, 2, w, b)),
    "batch_norm": ([(6, 3, 4), (3,), (3,)], lambda L, x, w, b: _nn(L).batch_norm(x, None, None, w, b, training=True)),
    "max_pool2d": ([(2, 3, 6, 6)], lambda L, x: _nn(L).max_pool2d(x, 2)),
    "avg_pool2d": ([(2, 3, 6, 6)], lambda L, x: _nn(L).avg_pool2d(x, 2)),
    "adaptive_avg_pool2d": ([(2, 3, 6, 6)], lambda L, x: _nn(L).adaptive_avg_pool2d(x, 1)),
    "gelu": ([(4, 5)], lambda L, x: _nn(L).gelu(x)),
    "silu": ([(4, 5)], lambda L, x: _nn(L).silu(x)),
    "softplus": ([(4, 5)], lambda L, x: _nn(L).softplus(x)),
    "leaky_relu": ([(4, 5)], lambda L, x: _nn(L).leaky_relu(x, 0.1)),
    "elu": ([(4, 5)], lambda L, x: _nn(L).elu(x)),
    "hardtanh": ([(4, 5)], lambda L, x: _nn(L).hardtanh(x)),
    "mse_loss": ([(4, 5), (4, 5)], lambda L, x, y: _nn(L).mse_loss(x, y)),
    "l1_loss": ([(4, 5), (4, 5)], lambda L, x, y: _nn(L).l1_loss(x, y)),
    "smooth_l1_loss": ([(4, 5), (4, 5)], lambda L, x, y: _nn(L).smooth_l1_loss(x, y)),
    "bce_with_logits": ([(4, 5), (4, 5)], lambda L, x, y: _nn(L).binary_cross_entropy_with_logits(x, (y + 2) / 4)),
    "cross_entropy": ([(6, 5)], lambda L, x: _nn(L).cross_entropy(x, L.tensor([0, 4, 2, 1, 3, 0]))),
    "nll_loss": ([(6, 5)], lambda L, x: _nn(L).nll_loss(x.log_softmax(1), L.tensor([0, 4, 2, 1, 3, 0]))),
    "embedding": ([(10, 4)], lambda L, w: _nn(L).embedding(L.tensor([[1, 3], [3, 9]]), w)),
    "dropout_eval": ([(4, 5)], lambda L, x: _nn(L).dropout(x, 0.5, training=False)),
    "pad": ([(2, 3)], lambda L, x: _nn(L).pad(x, (1, 2))),
    "interpolate": ([(1, 2, 4, 4)], lambda L, x: _nn(L).interpolate(x, scale_factor=2, mode="nearest")),
    "normalize": ([(4, 5)], lambda L, x: _nn(L).normalize(x, dim=1)),
}


@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("op", sorted(NN))
def test_nn_functional(op, name):
    shapes, fn = NN[op]
    xs = _inputs(shapes, name, (-2, 2), 6)
    _run(fn, xs, name, True, atol_scale=2.0, grad_tol=8.0)


SHAPE_OPS = {
    "cat": lambda L, a, b: L.cat([a, b], 0), "stack": lambda L, a, b: L.stack([a, b], 1),
    "where": lambda L, a, b: L.where(a > 0, a, b), "clamp": lambda L, a, b: a.clamp(-0.5, 0.7),
    "clamp_t": lambda L, a, b: L.clamp(a, min=b), "index_select": lambda L, a, b: a.index_select(1, L.tensor([2, 0])),
    "gather": lambda L, a, b: a.gather(1, L.tensor([[0, 1], [2, 2], [4, 0], [1, 1]])),
    "index": lambda L, a, b: a[L.tensor([3, 0])], "masked_fill": lambda L, a, b: a.masked_fill(b > 0, 1.5),
    "flip": lambda L, a, b: a.flip(0), "transpose_clone": lambda L, a, b: a.t().contiguous(),
    "lerp": lambda L, a, b: L.lerp(a, b, 0.3), "addcmul": lambda L, a, b: L.addcmul(a, a, b, value=0.5),
    "nan_to_num": lambda L, a, b: L.nan_to_num(a / (b - b)),
    "scatter_add": lambda L, a, b: L.zeros(4, 5, dtype=a.dtype).scatter_add(0, L.tensor([[0, 1, 2, 3, 0]] * 4), a),
    "unique": lambda L, a, b: L.unique(a.round()), "nonzero": lambda L, a, b: (a.round()).nonzero(),
    "tril": lambda L, a, b: a.tril(), "roll": lambda L, a, b: a.roll(1, 0), "repeat": lambda L, a, b: a.repeat(2, 1),
}


@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("op", sorted(SHAPE_OPS))
def test_shape_and_index_ops(op, name):
    xs = _inputs([(4, 5), (4, 5)], name, (-2, 2), 7)
    grad = op not in ("unique", "nonzero", "nan_to_num", "scatter_add")
    _run(SHAPE_OPS[op], xs, name, grad)


@pytest.mark.parametrize("name", HALF)
def test_inplace_ops_stay_in_dtype(name):
    a, b = _inputs([(3, 4), (3, 4)], name, (-2, 2), 8)
    n = to_norch(a)
    n.add_(to_norch(b)).mul_(1.5).clamp_(-1, 1).exp_()
    a.add_(b).mul_(1.5).clamp_(-1, 1).exp_()
    assert n.dtype == nd(name)
    torch.testing.assert_close(to_torch(n).double(), a.double(), rtol=rtol(name), atol=rtol(name))
    # An in-place op keeps its half dtype when the other operand is wider (same category)...
    t = torch.ones(2, dtype=td(name)).add_(torch.full((2,), 1.0 / 3))
    m = norch.ones(2, dtype=nd(name)).add_(norch.full((2,), 1.0 / 3))
    assert m.dtype == nd(name) and to_torch(m).tolist() == t.tolist()
    # ...and refuses a result of a higher category, as PyTorch does.
    with pytest.raises(RuntimeError):
        torch.ones(2, dtype=torch.int64).add_(torch.ones(2, dtype=td(name)))
    with pytest.raises(RuntimeError):
        norch.ones(2, dtype=norch.int64).add_(norch.ones(2, dtype=nd(name)))


@pytest.mark.parametrize("name", HALF)
def test_special_values_propagate(name, device):
    x = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 65504.0 if name == "float16" else 3e38],
                     dtype=td(name))
    for fn in (lambda L, t: t * 2, lambda L, t: t.exp(), lambda L, t: t.sum(), lambda L, t: t.max(),
               lambda L, t: L.isnan(t), lambda L, t: L.isinf(t), lambda L, t: L.isfinite(t), lambda L, t: t.relu(),
               lambda L, t: t.sort()[0], lambda L, t: t.clamp(-1, 1), lambda L, t: L.nan_to_num(t)):
        _run(fn, [x], name, False, device=device)


@pytest.mark.parametrize("name", HALF)
def test_bitwise_ops_refuse_half_like_torch(name):
    x = norch.ones(3, dtype=nd(name))
    for op in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        with pytest.raises(RuntimeError):
            getattr(torch, op)(torch.ones(3, dtype=td(name)), torch.ones(3, dtype=td(name)))
        with pytest.raises(RuntimeError, match=op):
            getattr(norch, op)(x, x)
    with pytest.raises((RuntimeError, TypeError)):
        torch.ones(3, dtype=td(name)).bitwise_not()
    with pytest.raises((RuntimeError, TypeError)):
        x.bitwise_not()


REFUSED = {
    "inverse": lambda L, a: a.inverse(), "det": lambda L, a: a.det(), "slogdet": lambda L, a: a.slogdet(),
    "logdet": lambda L, a: a.logdet(), "cholesky": lambda L, a: a.cholesky(), "qr": lambda L, a: a.qr(),
    "lu": lambda L, a: a.lu(), "triangular_solve": lambda L, a: L.triangular_solve(a, a),
    "cholesky_solve": lambda L, a: L.cholesky_solve(a, a), "cholesky_inverse": lambda L, a: L.cholesky_inverse(a),
    "cdist": lambda L, a: L.cdist(a, a), "quantile": lambda L, a: a.quantile(0.5),
    "nanquantile": lambda L, a: a.nanquantile(0.5),
}


@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("op", sorted(REFUSED))
def test_ops_torch_refuses_are_refused_alike(op, name):
    import warnings
    a = torch.eye(3, dtype=td(name)) + 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises((RuntimeError, NotImplementedError)) as want:
            REFUSED[op](torch, a)
    with pytest.raises(want.type) as got:
        REFUSED[op](norch, to_norch(a))
    assert str(got.value) == str(want.value).split("\n")[0]

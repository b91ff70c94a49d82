"""Softmax, losses, norms, embedding, dropout (norch.nn.functional) and the fused
optimizer steps (norch._C._optim), checked against PyTorch (CPU) as the oracle."""
import math

import numpy as np
import pytest
torch = pytest.importorskip("torch")  # the oracle for these tests
import torch.nn.functional as TF

import norch
import norch.nn.functional as F
from norch.autograd import gradcheck, gradgradcheck

_optim = norch._C._optim
rng = np.random.default_rng(0)
# torch warns that kl_div(reduction="mean") will change meaning; norch follows today's behaviour.
pytestmark = pytest.mark.filterwarnings("ignore:reduction. .mean. divides")


def nt(a, grad=False, dtype=None):
    a = np.asarray(a)
    if dtype is not None:
        a = a.astype(dtype)
    return norch.tensor(a, requires_grad=grad)


def tt(a, dtype=None):
    a = np.asarray(a)
    if dtype is not None:
        a = a.astype(dtype)
    return torch.tensor(a)


def close(n, t, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(n.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)


def randn(*shape):
    return rng.standard_normal(shape)


# ---------------------------------------------------------------- softmax

SOFTMAX_CASES = [((3, 5), 1), ((3, 5), 0), ((2, 3, 4), -1), ((2, 3, 4), 1), ((4,), 0), ((), 0), ((0, 3), 1)]


@pytest.mark.parametrize("shape,dim", SOFTMAX_CASES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_forward_backward(name, shape, dim):
    x = randn(*shape)
    close(getattr(F, name)(nt(x), dim), getattr(TF, name)(tt(x), dim))
    if x.size:
        assert gradcheck(lambda a: getattr(F, name)(a, dim), (nt(x, True),))
        assert gradgradcheck(lambda a: getattr(F, name)(a, dim), (nt(x, True),))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_noncontiguous_dtype_and_extremes(name):
    x = randn(5, 4)
    close(getattr(F, name)(nt(x).t(), 1), getattr(TF, name)(tt(x).t(), 1))
    assert gradcheck(lambda a: getattr(F, name)(a.t(), 0), (nt(x, True),))
    # dtype= casts before computing (float32 input, float64 result)
    out = getattr(F, name)(nt(x, dtype=np.float32), 1, dtype=norch.float64)
    assert out.dtype == norch.float64
    close(out, getattr(TF, name)(tt(x, np.float32), 1, dtype=torch.float64))
    big = np.array([[1000.0, 0.0, -1000.0]])
    close(getattr(F, name)(nt(big), 1), getattr(TF, name)(tt(big), 1))
    close(getattr(F, name)(nt(x)), getattr(TF, name)(tt(x), dim=1))  # implicit dim for 2-d


def test_softmax_int_input_raises():
    with pytest.raises(NotImplementedError, match="softmax"):
        F.softmax(nt(np.array([1, 2, 3])), 0)
    close(F.softmax(nt(np.array([1, 2, 3])), 0, dtype=norch.float64), TF.softmax(tt([1.0, 2.0, 3.0]), 0))
    with pytest.raises(IndexError):
        F.softmax(nt(randn(2, 3)), 2)


# ---------------------------------------------------------------- cross entropy / nll

def _targets(n, c, shape_extra=(), ignore=None):
    t = rng.integers(0, c, size=(n,) + shape_extra)
    if ignore is not None:
        t.flat[0] = ignore
    return t


CE_CASES = [
    dict(),
    dict(reduction="sum"),
    dict(reduction="none"),
    dict(weight=True),
    dict(weight=True, reduction="none"),
    dict(ignore_index=1),
    dict(ignore_index=-100, ignored=True),
    dict(weight=True, ignore_index=2, ignored=True),
    dict(label_smoothing=0.2),
    dict(label_smoothing=0.3, weight=True),
    dict(label_smoothing=0.1, ignore_index=0, ignored=True, weight=True),
    dict(label_smoothing=0.1, ignore_index=0, ignored=True, reduction="sum"),
    dict(label_smoothing=0.1, reduction="none", ignored=True),
]


@pytest.mark.parametrize("spatial", [(), (3,), (2, 2)])
@pytest.mark.parametrize("case", CE_CASES, ids=str)
def test_cross_entropy_and_nll_indices(case, spatial):
    N, C = 4, 5
    x = randn(N, C, *spatial)
    case = dict(case)
    ignored = case.pop("ignored", False)
    ignore_index = case.get("ignore_index", -100)
    t = _targets(N, C, spatial, ignore_index if ignored else None)
    w = rng.uniform(0.5, 2.0, C) if case.pop("weight", False) else None
    kw = dict(case)
    nw = nt(w) if w is not None else None
    tw = tt(w) if w is not None else None
    close(F.cross_entropy(nt(x), nt(t), weight=nw, **kw), TF.cross_entropy(tt(x), tt(t), weight=tw, **kw))
    assert gradcheck(lambda a: F.cross_entropy(a, nt(t), weight=nw, **kw), (nt(x, True),))
    kw.pop("label_smoothing", None)
    lp = randn(N, C, *spatial)
    close(F.nll_loss(nt(lp), nt(t), weight=nw, **kw), TF.nll_loss(tt(lp), tt(t), weight=tw, **kw))
    assert gradcheck(lambda a: F.nll_loss(a, nt(t), weight=nw, **kw), (nt(lp, True),))


def test_cross_entropy_double_backward_and_1d():
    x, t = randn(3, 4), np.array([0, 3, 1])
    assert gradgradcheck(lambda a: F.cross_entropy(a, nt(t), label_smoothing=0.1), (nt(x, True),))
    v = randn(4)
    close(F.cross_entropy(nt(v), nt(np.array(2))), TF.cross_entropy(tt(v), tt(np.array(2))))
    close(F.nll_loss(nt(v), nt(np.array(1))), TF.nll_loss(tt(v), tt(np.array(1))))
    assert gradcheck(lambda a: F.cross_entropy(a, nt(np.array(2))), (nt(v, True),))


@pytest.mark.parametrize("kw", [dict(), dict(reduction="sum"), dict(reduction="none"), dict(label_smoothing=0.25),
                                dict(weight=True), dict(weight=True, label_smoothing=0.1, reduction="none")], ids=str)
@pytest.mark.parametrize("spatial", [(), (3,)])
def test_cross_entropy_probabilities(kw, spatial):
    kw = dict(kw)
    x = randn(3, 4, *spatial)
    p = np.exp(randn(3, 4, *spatial))
    p /= p.sum(1, keepdims=True)
    w = rng.uniform(0.5, 2, 4) if kw.pop("weight", False) else None
    nw, tw = (nt(w), tt(w)) if w is not None else (None, None)
    close(F.cross_entropy(nt(x), nt(p), weight=nw, **kw), TF.cross_entropy(tt(x), tt(p), weight=tw, **kw))
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, weight=nw, **kw), (nt(x, True), nt(p, True)))


def test_cross_entropy_noncontiguous_and_empty():
    x = randn(5, 3)
    t = np.array([0, 2, 1])
    close(F.cross_entropy(nt(x).t(), nt(t)), TF.cross_entropy(tt(x).t(), tt(t)))
    assert gradcheck(lambda a: F.cross_entropy(a.t(), nt(t)), (nt(x, True),))
    e = np.zeros((0, 3))
    et = np.zeros((0,), dtype=np.int64)
    close(F.cross_entropy(nt(e), nt(et), reduction="sum"), TF.cross_entropy(tt(e), tt(et), reduction="sum"))
    assert np.isnan(F.cross_entropy(nt(e), nt(et)).item())
    assert F.cross_entropy(nt(e), nt(et), reduction="none").shape == (0,)


def test_nll_and_cross_entropy_errors():
    x = nt(randn(3, 4))
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(x, nt(np.array([0, 4, 1])))
    with pytest.raises(IndexError, match="out of bounds"):
        F.nll_loss(x, nt(np.array([0, -1, 1])))
    with pytest.raises(ValueError, match="batch_size"):
        F.nll_loss(x, nt(np.array([0, 1])))
    with pytest.raises(RuntimeError, match="Long or Byte"):
        F.nll_loss(x, nt(np.array([0, 1, 2], dtype=np.int32)))
    u8 = np.array([0, 3, 1], dtype=np.uint8)
    close(F.cross_entropy(x, nt(u8)), TF.cross_entropy(tt(x.numpy()), torch.tensor(u8.astype(np.int64))))
    with pytest.raises(RuntimeError):
        F.cross_entropy(x, nt(np.array([0.0, 1.0, 2.0])))
    with pytest.raises(RuntimeError):
        F.cross_entropy(x, nt(randn(3, 5)))
    with pytest.raises(RuntimeError, match="weight"):
        F.cross_entropy(x, nt(np.array([0, 1, 2])), weight=nt(np.ones(3)))
    with pytest.raises(RuntimeError, match="label_smoothing"):
        F.cross_entropy(x, nt(np.array([0, 1, 2])), label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, nt(np.array([0, 1, 2])), reduction="avg")
    with pytest.raises(RuntimeError, match=r"Expected target size \(2, 4\), got \(2, 5\)"):
        F.nll_loss(nt(randn(2, 3, 4)), nt(np.zeros((2, 5), dtype=np.int64)))


# ---------------------------------------------------------------- pointwise losses

POINTWISE = [
    ("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", dict(beta=0.5)),
    ("smooth_l1_loss", dict(beta=0.0)), ("huber_loss", {}), ("huber_loss", dict(delta=0.3)),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,kw", POINTWISE, ids=str)
def test_pointwise_losses(name, kw, reduction):
    x, y = randn(3, 4), randn(3, 4)
    close(getattr(F, name)(nt(x), nt(y), reduction=reduction, **kw),
          getattr(TF, name)(tt(x), tt(y), reduction=reduction, **kw))
    assert gradcheck(lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kw), (nt(x, True), nt(y, True)))
    # non-contiguous input, 0-d
    close(getattr(F, name)(nt(x).t(), nt(y).t(), reduction=reduction, **kw),
          getattr(TF, name)(tt(x).t(), tt(y).t(), reduction=reduction, **kw))
    close(getattr(F, name)(nt(np.array(0.3)), nt(np.array(-1.2)), reduction=reduction, **kw),
          getattr(TF, name)(tt(np.array(0.3)), tt(np.array(-1.2)), reduction=reduction, **kw))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_pointwise_losses_broadcast_target(name):
    x, y = randn(3, 4), randn(4)
    with pytest.warns(UserWarning):
        ref = getattr(TF, name)(tt(x), tt(y))
    with pytest.warns(UserWarning, match=r"Using a target size \(norch.Size\(\[4\]\)\) that is different to the "
                                         r"input size \(norch.Size\(\[3, 4\]\)\)"):
        out = getattr(F, name)(nt(x), nt(y))
    close(out, ref)
    with pytest.warns(UserWarning):
        assert gradcheck(lambda a, b: getattr(F, name)(a, b), (nt(x, True), nt(y, True)))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_pointwise_losses_same_shape_do_not_warn(name):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(F, name)(nt(randn(3, 4)), nt(randn(3, 4)))


def test_mse_double_backward_and_empty():
    x, y = randn(3, 4), randn(3, 4)
    assert gradgradcheck(lambda a, b: F.mse_loss(a, b), (nt(x, True), nt(y, True)))
    assert F.mse_loss(nt(np.zeros((0, 2))), nt(np.zeros((0, 2))), reduction="sum").item() == 0.0


def test_negative_beta_delta_raise():
    with pytest.raises(RuntimeError, match="beta"):
        F.smooth_l1_loss(nt(randn(2)), nt(randn(2)), beta=-1.0)
    with pytest.raises(RuntimeError, match="delta"):
        F.huber_loss(nt(randn(2)), nt(randn(2)), delta=0.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(reduction, weighted):
    x = rng.uniform(0.05, 0.95, (3, 4))
    y = rng.uniform(0, 1, (3, 4))
    w = rng.uniform(0.5, 2, (4,)) if weighted else None
    nw, tw = (nt(w), tt(w)) if weighted else (None, None)
    close(F.binary_cross_entropy(nt(x), nt(y), weight=nw, reduction=reduction),
          TF.binary_cross_entropy(tt(x), tt(y), weight=tw, reduction=reduction))
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, weight=nw, reduction=reduction),
                     (nt(x, True), nt(y, True)))


def test_binary_cross_entropy_clamps_log_and_checks():
    x = np.array([0.0, 1.0, 0.5])
    y = np.array([1.0, 0.0, 1.0])
    close(F.binary_cross_entropy(nt(x), nt(y), reduction="none"),
          TF.binary_cross_entropy(tt(x), tt(y), reduction="none"))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(nt(np.array([1.5])), nt(np.array([1.0])))
    with pytest.raises(ValueError, match="target size"):
        F.binary_cross_entropy(nt(np.array([0.5, 0.5])), nt(np.array([1.0])))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted,pos", [(False, False), (True, False), (False, True), (True, True)])
def test_binary_cross_entropy_with_logits(reduction, weighted, pos):
    x = randn(3, 4) * 3
    y = rng.uniform(0, 1, (3, 4))
    w = rng.uniform(0.5, 2, (3, 1)) if weighted else None
    pw = rng.uniform(0.5, 3, (4,)) if pos else None
    kn = dict(weight=nt(w) if weighted else None, pos_weight=nt(pw) if pos else None, reduction=reduction)
    kt = dict(weight=tt(w) if weighted else None, pos_weight=tt(pw) if pos else None, reduction=reduction)
    close(F.binary_cross_entropy_with_logits(nt(x), nt(y), **kn), TF.binary_cross_entropy_with_logits(tt(x), tt(y), **kt))
    kn_g = dict(kn)
    args = [nt(x, True), nt(y, True)]
    if pos:
        args.append(nt(pw, True))
        assert gradcheck(lambda a, b, p: F.binary_cross_entropy_with_logits(a, b, **{**kn_g, "pos_weight": p}),
                         tuple(args))
    else:
        assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, **kn_g), tuple(args))


def test_bce_with_logits_is_stable_and_checks_shape():
    x = np.array([-1000.0, 1000.0, 0.0])
    y = np.array([1.0, 0.0, 0.5])
    close(F.binary_cross_entropy_with_logits(nt(x), nt(y), reduction="none"),
          TF.binary_cross_entropy_with_logits(tt(x), tt(y), reduction="none"))
    # zero logits: the slope there is sigmoid(0) - y
    a = nt(np.zeros(3), True)
    F.binary_cross_entropy_with_logits(a, nt(y), reduction="sum").backward()
    np.testing.assert_allclose(a.grad.numpy(), 0.5 - y)
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(nt(randn(2, 3)), nt(randn(3)))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    x = np.log(rng.uniform(0.1, 1, (3, 4)))
    y = rng.uniform(0.1, 1, (3, 4))
    if log_target:
        y = np.log(y)
    y[0, 0] = -np.inf if log_target else 0.0  # a zero-probability target contributes 0
    close(F.kl_div(nt(x), nt(y), reduction=reduction, log_target=log_target),
          TF.kl_div(tt(x), tt(y), reduction=reduction, log_target=log_target))
    y[0, 0] = -1.0 if log_target else 0.3
    assert gradcheck(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                     (nt(x, True), nt(y, True)))


# ---------------------------------------------------------------- norms

@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 2, 2)])
@pytest.mark.parametrize("affine", [False, True])
def test_batch_norm_training_updates_running_stats(shape, affine):
    C = shape[1]
    x = randn(*shape)
    rm, rv = randn(C), rng.uniform(0.5, 2, C)
    w, b = (randn(C), randn(C)) if affine else (None, None)
    n_rm, n_rv = nt(rm), nt(rv)
    t_rm, t_rv = tt(rm), tt(rv)
    out = F.batch_norm(nt(x), n_rm, n_rv, nt(w) if affine else None, nt(b) if affine else None, True, 0.2, 1e-3)
    ref = TF.batch_norm(tt(x), t_rm, t_rv, tt(w) if affine else None, tt(b) if affine else None, True, 0.2, 1e-3)
    close(out, ref)
    close(n_rm, t_rm)
    close(n_rv, t_rv)
    args = [nt(x, True)] + ([nt(w, True), nt(b, True)] if affine else [])

    def f(a, *wb):
        return F.batch_norm(a, None, None, *wb, training=True, eps=1e-3)
    assert gradcheck(f, tuple(args))
    assert gradgradcheck(f, tuple(args))


@pytest.mark.parametrize("affine", [False, True])
def test_batch_norm_eval(affine):
    x = randn(4, 3, 2)
    rm, rv = randn(3), rng.uniform(0.5, 2, 3)
    w, b = randn(3), randn(3)
    kn = dict(weight=nt(w, True), bias=nt(b, True)) if affine else {}
    kt = dict(weight=tt(w), bias=tt(b)) if affine else {}
    close(F.batch_norm(nt(x), nt(rm), nt(rv), **kn), TF.batch_norm(tt(x), tt(rm), tt(rv), **kt))
    if affine:
        assert gradcheck(lambda a, ww, bb: F.batch_norm(a, nt(rm), nt(rv), ww, bb), (nt(x, True), nt(w, True), nt(b, True)))
    else:
        assert gradcheck(lambda a: F.batch_norm(a, nt(rm), nt(rv)), (nt(x, True),))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(nt(randn(1, 3)), None, None, training=True)
    with pytest.raises(RuntimeError, match="channels"):
        F.batch_norm(nt(randn(4, 3)), nt(np.zeros(2)), nt(np.ones(2)), training=True)


def test_batch_norm_noncontiguous():
    x = randn(3, 5)  # [C, N] seen through .t() as [N, C]
    rm, rv = nt(np.zeros(3)), nt(np.ones(3))
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    close(F.batch_norm(nt(x).t(), rm, rv, training=True), TF.batch_norm(tt(x).t(), trm, trv, training=True))
    close(rv, trv)
    assert gradcheck(lambda a: F.batch_norm(a.t(), None, None, training=True), (nt(x, True),))


LN_CASES = [((4, 5), (5,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)), ((6,), (6,))]


@pytest.mark.parametrize("shape,norm_shape", LN_CASES)
@pytest.mark.parametrize("affine", [False, True])
def test_layer_norm(shape, norm_shape, affine):
    x = randn(*shape)
    w, b = randn(*norm_shape), randn(*norm_shape)
    kn = dict(weight=nt(w), bias=nt(b)) if affine else {}
    kt = dict(weight=tt(w), bias=tt(b)) if affine else {}
    close(F.layer_norm(nt(x), norm_shape, eps=1e-4, **kn), TF.layer_norm(tt(x), norm_shape, eps=1e-4, **kt))
    if affine:
        def f(a, ww, bb):
            return F.layer_norm(a, norm_shape, ww, bb, eps=1e-4)
        args = (nt(x, True), nt(w, True), nt(b, True))
    else:
        def f(a):
            return F.layer_norm(a, norm_shape, eps=1e-4)
        args = (nt(x, True),)
    assert gradcheck(f, args)
    assert gradgradcheck(f, args)


def test_layer_norm_noncontiguous_and_errors():
    x = randn(5, 4)
    close(F.layer_norm(nt(x).t(), (5,)), TF.layer_norm(tt(x).t(), (5,)))
    assert gradcheck(lambda a: F.layer_norm(a.t(), (5,)), (nt(x, True),))
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(nt(x), (5,))
    with pytest.raises(RuntimeError, match="weight"):
        F.layer_norm(nt(x), (4,), weight=nt(np.ones(3)))


@pytest.mark.parametrize("shape,groups", [((2, 4), 2), ((2, 6, 3), 3), ((2, 4, 2, 2), 1), ((3, 4, 5), 4)])
@pytest.mark.parametrize("affine", [False, True])
def test_group_norm(shape, groups, affine):
    C = shape[1]
    x = randn(*shape)
    w, b = randn(C), randn(C)
    kn = dict(weight=nt(w), bias=nt(b)) if affine else {}
    kt = dict(weight=tt(w), bias=tt(b)) if affine else {}
    close(F.group_norm(nt(x), groups, eps=1e-4, **kn), TF.group_norm(tt(x), groups, eps=1e-4, **kt))
    if affine:
        def f(a, ww, bb):
            return F.group_norm(a, groups, ww, bb, eps=1e-4)
        args = (nt(x, True), nt(w, True), nt(b, True))
    else:
        def f(a):
            return F.group_norm(a, groups, eps=1e-4)
        args = (nt(x, True),)
    assert gradcheck(f, args)
    assert gradgradcheck(f, args)


def test_kl_div_zero_dim_and_norm_empty():
    a, b = np.array(-0.5), np.array(0.4)
    for r in ["mean", "sum", "none", "batchmean"]:
        close(F.kl_div(nt(a), nt(b), reduction=r), TF.kl_div(tt(a), tt(b), reduction=r))
    assert F.layer_norm(nt(np.zeros((0, 4))), (4,)).shape == (0, 4)
    assert F.group_norm(nt(np.zeros((0, 4))), 2).shape == (0, 4)
    assert F.softmax(nt(np.zeros((0, 4))), 1).shape == (0, 4)
    with pytest.raises(ValueError, match="reduction"):
        F.kl_div(nt(a), nt(b), reduction="bad")


def test_group_norm_errors():
    with pytest.raises(RuntimeError, match="divisible"):
        F.group_norm(nt(randn(2, 5)), 2)


def test_norms_float32_first_order_matches_torch():
    # The fused backward kernels (no create_graph) against torch.
    x, w, b = randn(4, 6, 3), randn(6), randn(6)
    for nfn, tfn in [(lambda a, ww, bb: F.layer_norm(a, (6, 3), None, None), lambda a, ww, bb: TF.layer_norm(a, (6, 3))),
                     (lambda a, ww, bb: F.layer_norm(a.transpose(1, 2), (6,), ww, bb).transpose(1, 2),
                      lambda a, ww, bb: TF.layer_norm(a.transpose(1, 2), (6,), ww, bb).transpose(1, 2)),
                     (lambda a, ww, bb: F.group_norm(a, 3, ww, bb), lambda a, ww, bb: TF.group_norm(a, 3, ww, bb)),
                     (lambda a, ww, bb: F.batch_norm(a, None, None, ww, bb, True),
                      lambda a, ww, bb: TF.batch_norm(a, None, None, ww, bb, True))]:
        na, nw, nb = nt(x, True, np.float32), nt(w, True, np.float32), nt(b, True, np.float32)
        ta, tw, tb = (torch.tensor(v.astype(np.float32), requires_grad=True) for v in (x, w, b))
        g = randn(4, 6, 3).astype(np.float32)
        (nfn(na, nw, nb) * nt(g)).sum().backward()
        (tfn(ta, tw, tb) * torch.tensor(g)).sum().backward()
        close(na.grad, ta.grad, rtol=1e-4, atol=1e-4)
        for nn_, tt_ in [(nw, tw), (nb, tb)]:
            if tt_.grad is not None:
                close(nn_.grad, tt_.grad, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------- embedding, dropout

def test_embedding_forward_backward_padding():
    W = randn(6, 3)
    idx = np.array([[0, 2, 2], [5, 1, 2]])
    close(F.embedding(nt(idx), nt(W)), TF.embedding(tt(idx), tt(W)))
    nw = nt(W, True)
    F.embedding(nt(idx), nw, padding_idx=2).sum().backward()
    tw = torch.tensor(W, requires_grad=True)
    TF.embedding(tt(idx), tw, padding_idx=2).sum().backward()
    close(nw.grad, tw.grad)
    assert np.all(nw.grad.numpy()[2] == 0)
    assert gradcheck(lambda w: F.embedding(nt(idx), w), (nt(W, True),))
    nw = nt(W, True)
    F.embedding(nt(idx), nw, padding_idx=-1).sum().backward()  # -1 wraps to row 5
    assert np.all(nw.grad.numpy()[5] == 0) and np.all(nw.grad.numpy()[0] == 1)
    assert gradgradcheck(lambda w: F.embedding(nt(idx), w, padding_idx=2) ** 2, (nt(W, True),))
    close(F.embedding(nt(idx.astype(np.int32)), nt(W)), TF.embedding(tt(idx), tt(W)))
    assert F.embedding(nt(np.zeros((0,), dtype=np.int64)), nt(W)).shape == (0, 3)


def test_embedding_errors():
    W = nt(randn(4, 3))
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(nt(np.array([4])), W)
    with pytest.raises(RuntimeError, match="Long, Int"):
        F.embedding(nt(np.array([1.0])), W)
    with pytest.raises(AssertionError, match="Padding_idx"):
        F.embedding(nt(np.array([1])), W, padding_idx=4)


def test_dropout_statistics_and_edge_cases():
    x = nt(np.ones((200, 500)))
    out = F.dropout(x, 0.3).numpy()
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(out[kept], 1 / 0.7)
    assert abs(out.mean() - 1.0) < 0.02
    assert F.dropout(x, 0.3, training=False)._is_same(x)
    np.testing.assert_array_equal(F.dropout(x, 0.0).numpy(), x.numpy())
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), np.zeros((200, 500)))
    norch.manual_seed(7)
    first = F.dropout(x, 0.5).numpy()
    norch.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), first)
    # two draws differ; the gradient is the same mask
    assert not np.array_equal(F.dropout(x, 0.5).numpy(), F.dropout(x, 0.5).numpy())
    a = nt(randn(50, 40), True)
    y = F.dropout(a, 0.4)
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), (y.detach().numpy() != 0) / 0.6)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)
    with pytest.raises(RuntimeError, match="floating point"):
        F.dropout(nt(np.ones(3, dtype=np.int64)), 0.5)
    y = nt(np.ones((100, 100)))
    r = F.dropout(y, 0.5, inplace=True)
    assert r._is_same(y) and 0.4 < (y.numpy() == 0).mean() < 0.6
    assert F.dropout(nt(np.array(2.0)), 0.0).item() == 2.0
    assert F.dropout(nt(np.zeros((0, 3))), 0.5).shape == (0, 3)


def test_normalize():
    x = randn(3, 4)
    close(F.normalize(nt(x)), TF.normalize(tt(x)))
    close(F.normalize(nt(x), p=1.0, dim=0), TF.normalize(tt(x), p=1.0, dim=0))
    z = np.zeros((2, 3))
    close(F.normalize(nt(z)), TF.normalize(tt(z)))
    assert gradcheck(lambda a: F.normalize(a), (nt(x, True),))


# ---------------------------------------------------------------- optimizer steps

def _params(seed, n=2):
    r = np.random.default_rng(seed)
    return [r.standard_normal((3, 2)) for _ in range(n)], [[r.standard_normal((3, 2)) for _ in range(n)] for _ in range(3)]


def _run_torch(opt_cls, ps, gs, **kw):
    tp = [torch.tensor(p, requires_grad=True) for p in ps]
    opt = opt_cls(tp, foreach=False, **kw)
    for step_grads in gs:
        for p, g in zip(tp, step_grads):
            p.grad = torch.tensor(g)
        opt.step()
    return [p.detach().numpy() for p in tp]


SGD_CASES = [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9, dampening=0.3),
             dict(lr=0.1, momentum=0.9, nesterov=True), dict(lr=0.1, weight_decay=0.05, momentum=0.5),
             dict(lr=0.1, maximize=True, momentum=0.9)]


@pytest.mark.parametrize("kw", SGD_CASES, ids=str)
def test_sgd_step(kw):
    ps, gs = _params(1)
    np_ = [nt(p) for p in ps]
    bufs = [None] * len(ps)
    for step_grads in gs:
        bufs = _optim.sgd_step_(np_, [nt(g) for g in step_grads], bufs, **kw)
    for a, b in zip(np_, _run_torch(torch.optim.SGD, ps, gs, **kw)):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-12, atol=1e-12)


ADAM_CASES = [dict(), dict(weight_decay=0.1), dict(amsgrad=True), dict(maximize=True),
              dict(weight_decay=0.1, decoupled=True), dict(betas=(0.5, 0.9), eps=1e-3, lr=0.01),
              dict(amsgrad=True, weight_decay=0.2, decoupled=True)]


@pytest.mark.parametrize("kw", ADAM_CASES, ids=str)
def test_adam_step(kw):
    kw = dict(kw)
    decoupled = kw.pop("decoupled", False)
    ps, gs = _params(2)
    np_ = [nt(p) for p in ps]
    m = [nt(np.zeros_like(p)) for p in ps]
    v = [nt(np.zeros_like(p)) for p in ps]
    vmax = [nt(np.zeros_like(p)) for p in ps]
    beta1, beta2 = kw.get("betas", (0.9, 0.999))
    versions = [p._version for p in np_]
    for step, step_grads in enumerate(gs, 1):
        _optim.adam_step_(np_, [nt(g) for g in step_grads], m, v, vmax, step, lr=kw.get("lr", 1e-3), beta1=beta1,
                          beta2=beta2, eps=kw.get("eps", 1e-8), weight_decay=kw.get("weight_decay", 0.0),
                          amsgrad=kw.get("amsgrad", False), maximize=kw.get("maximize", False),
                          decoupled_weight_decay=decoupled)
    assert all(p._version > v0 for p, v0 in zip(np_, versions))
    ref = _run_torch(torch.optim.AdamW if decoupled else torch.optim.Adam, ps, gs, **kw)
    for a, b in zip(np_, ref):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-12, atol=1e-12)


RMS_CASES = [dict(lr=0.01), dict(lr=0.01, centered=True), dict(lr=0.01, momentum=0.9),
             dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1), dict(lr=0.01, maximize=True, alpha=0.9)]


@pytest.mark.parametrize("kw", RMS_CASES, ids=str)
def test_rmsprop_step(kw):
    ps, gs = _params(3)
    np_ = [nt(p) for p in ps]
    sq = [nt(np.zeros_like(p)) for p in ps]
    ga = [nt(np.zeros_like(p)) for p in ps]
    buf = [nt(np.zeros_like(p)) for p in ps]
    for step_grads in gs:
        _optim.rmsprop_step_(np_, [nt(g) for g in step_grads], sq, ga, buf, **kw)
    for a, b in zip(np_, _run_torch(torch.optim.RMSprop, ps, gs, **kw)):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-12, atol=1e-12)


ADAGRAD_CASES = [dict(lr=0.1), dict(lr=0.1, lr_decay=0.1), dict(lr=0.1, weight_decay=0.1),
                 dict(lr=0.1, maximize=True, eps=1e-3)]


@pytest.mark.parametrize("kw", ADAGRAD_CASES, ids=str)
def test_adagrad_step(kw):
    ps, gs = _params(4)
    np_ = [nt(p) for p in ps]
    sums = [nt(np.zeros_like(p)) for p in ps]
    for step, step_grads in enumerate(gs, 1):
        _optim.adagrad_step_(np_, [nt(g) for g in step_grads], sums, [step] * len(ps), **kw)
    for a, b in zip(np_, _run_torch(torch.optim.Adagrad, ps, gs, **kw)):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-12, atol=1e-12)


def test_optim_float32_noncontiguous_and_errors():
    p = np.asarray(randn(3, 4), dtype=np.float32)
    g = np.asarray(randn(4, 3), dtype=np.float32)
    np_ = nt(p).t()  # a non-contiguous parameter view is updated in place
    _optim.sgd_step_([np_], [nt(g)], [None], lr=0.5)
    np.testing.assert_allclose(np_.numpy(), p.T - 0.5 * g, rtol=1e-6)
    with pytest.raises(RuntimeError, match="shape"):
        _optim.sgd_step_([nt(randn(2))], [nt(randn(3))], [None], lr=0.1)
    with pytest.raises(RuntimeError, match="expected 1 grads"):
        _optim.sgd_step_([nt(randn(2))], [], [None], lr=0.1)
    with pytest.raises(RuntimeError, match="Nesterov"):
        _optim.sgd_step_([nt(randn(2))], [nt(randn(2))], [None], lr=0.1, nesterov=True)
    with pytest.raises(RuntimeError, match="step"):
        _optim.adam_step_([nt(randn(2))], [nt(randn(2))], [nt(randn(2))], [nt(randn(2))], None, 0, lr=0.1)

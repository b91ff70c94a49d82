"""Losses (cross entropy, nll, pointwise, binary cross entropy, kl_div) of
norch.nn.functional against PyTorch (CPU) as the oracle."""
import functools

import numpy as np
import pytest
import torch  # the oracle for these tests
import torch.nn.functional as TF

import norch.nn.functional as F
from norch.autograd import gradcheck, gradgradcheck

from _oracle import arr, check_op, close, nt, tt

rng = np.random.default_rng(0)  # targets, weights and probabilities
# torch warns that kl_div(reduction="mean") will change meaning; norch follows today's behaviour.
pytestmark = pytest.mark.filterwarnings("ignore:reduction. .mean. divides")


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
def test_cross_entropy_and_nll_indices(case, spatial, device):
    N, C = 4, 5
    x = arr(N, C, *spatial)
    case = dict(case)
    ignored = case.pop("ignored", False)
    ignore_index = case.get("ignore_index", -100)
    t = _targets(N, C, spatial, ignore_index if ignored else None)
    w = rng.uniform(0.5, 2.0, C) if case.pop("weight", False) else None
    tw = tt(w) if w is not None else None

    def weight(like):  # on the device of the input
        return None if w is None else nt(w, device=like.device)

    nll_kw = {k: v for k, v in case.items() if k != "label_smoothing"}
    for name, kw, inp in (("cross_entropy", case, x), ("nll_loss", nll_kw, arr(N, C, *spatial))):
        fn, ref = getattr(F, name), getattr(TF, name)
        check_op(lambda a, tgt: fn(a, tgt, weight=weight(a), **kw), [inp, t],
                 lambda a, tgt: ref(tt(a), tt(tgt), weight=tw, **kw).numpy(), device, gradgrad=False,
                 rtol=1e-5, atol=1e-6)


def test_cross_entropy_double_backward_and_1d():
    x, t = arr(3, 4), np.array([0, 3, 1])
    assert gradgradcheck(lambda a: F.cross_entropy(a, nt(t), label_smoothing=0.1), (nt(x, True),))
    v = arr(4)
    close(F.cross_entropy(nt(v), nt(np.array(2))), TF.cross_entropy(tt(v), tt(np.array(2))))
    close(F.nll_loss(nt(v), nt(np.array(1))), TF.nll_loss(tt(v), tt(np.array(1))))
    assert gradcheck(lambda a: F.cross_entropy(a, nt(np.array(2))), (nt(v, True),))


@pytest.mark.parametrize("kw", [dict(), dict(reduction="sum"), dict(reduction="none"), dict(label_smoothing=0.25),
                                dict(weight=True), dict(weight=True, label_smoothing=0.1, reduction="none")], ids=str)
@pytest.mark.parametrize("spatial", [(), (3,)])
def test_cross_entropy_probabilities(kw, spatial, device):
    dn = functools.partial(nt, device=device)  # norch tensors on the device under test
    kw = dict(kw)
    x = arr(3, 4, *spatial)
    p = np.exp(arr(3, 4, *spatial))
    p /= p.sum(1, keepdims=True)
    w = rng.uniform(0.5, 2, 4) if kw.pop("weight", False) else None
    nw, tw = (dn(w), tt(w)) if w is not None else (None, None)
    close(F.cross_entropy(dn(x), dn(p), weight=nw, **kw), TF.cross_entropy(tt(x), tt(p), weight=tw, **kw))
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, weight=nw, **kw), (dn(x, True), dn(p, True)))


def test_cross_entropy_noncontiguous_and_empty(device):
    dn = functools.partial(nt, device=device)  # norch tensors on the device under test
    x = arr(5, 3)
    t = np.array([0, 2, 1])
    close(F.cross_entropy(dn(x).t(), dn(t)), TF.cross_entropy(tt(x).t(), tt(t)))
    assert gradcheck(lambda a: F.cross_entropy(a.t(), dn(t)), (dn(x, True),))
    e = np.zeros((0, 3))
    et = np.zeros((0,), dtype=np.int64)
    close(F.cross_entropy(dn(e), dn(et), reduction="sum"), TF.cross_entropy(tt(e), tt(et), reduction="sum"))
    assert np.isnan(F.cross_entropy(dn(e), dn(et)).item())
    assert F.cross_entropy(dn(e), dn(et), reduction="none").shape == (0,)


def test_nll_and_cross_entropy_errors():
    x = nt(arr(3, 4))
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
        F.cross_entropy(x, nt(arr(3, 5)))
    with pytest.raises(RuntimeError, match="weight"):
        F.cross_entropy(x, nt(np.array([0, 1, 2])), weight=nt(np.ones(3)))
    with pytest.raises(RuntimeError, match="label_smoothing"):
        F.cross_entropy(x, nt(np.array([0, 1, 2])), label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, nt(np.array([0, 1, 2])), reduction="avg")
    with pytest.raises(RuntimeError, match=r"Expected target size \(2, 4\), got \(2, 5\)"):
        F.nll_loss(nt(arr(2, 3, 4)), nt(np.zeros((2, 5), dtype=np.int64)))


# ---------------------------------------------------------------- pointwise losses

POINTWISE = [
    ("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", dict(beta=0.5)),
    ("smooth_l1_loss", dict(beta=0.0)), ("huber_loss", {}), ("huber_loss", dict(delta=0.3)),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,kw", POINTWISE, ids=str)
def test_pointwise_losses(name, kw, reduction, device):
    x, y = arr(3, 4), arr(3, 4)
    fn, ref = getattr(F, name), getattr(TF, name)
    check_op(lambda a, b: fn(a, b, reduction=reduction, **kw), [x, y],
             lambda a, b: ref(tt(a), tt(b), reduction=reduction, **kw).numpy(), device, gradgrad=False,
             rtol=1e-5, atol=1e-6)
    # non-contiguous input, 0-d
    close(getattr(F, name)(nt(x, device=device).t(), nt(y, device=device).t(), reduction=reduction, **kw),
          getattr(TF, name)(tt(x).t(), tt(y).t(), reduction=reduction, **kw))
    close(getattr(F, name)(nt(np.array(0.3), device=device), nt(np.array(-1.2), device=device), reduction=reduction,
                           **kw),
          getattr(TF, name)(tt(np.array(0.3)), tt(np.array(-1.2)), reduction=reduction, **kw))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_pointwise_losses_broadcast_target(name):
    x, y = arr(3, 4), arr(4)
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
        getattr(F, name)(nt(arr(3, 4)), nt(arr(3, 4)))


def test_mse_double_backward_and_empty():
    x, y = arr(3, 4), arr(3, 4)
    assert gradgradcheck(lambda a, b: F.mse_loss(a, b), (nt(x, True), nt(y, True)))
    assert F.mse_loss(nt(np.zeros((0, 2))), nt(np.zeros((0, 2))), reduction="sum").item() == 0.0


def test_negative_beta_delta_raise():
    with pytest.raises(RuntimeError, match="beta"):
        F.smooth_l1_loss(nt(arr(2)), nt(arr(2)), beta=-1.0)
    with pytest.raises(RuntimeError, match="delta"):
        F.huber_loss(nt(arr(2)), nt(arr(2)), delta=0.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(reduction, weighted, device):
    dn = functools.partial(nt, device=device)  # norch tensors on the device under test
    x = rng.uniform(0.05, 0.95, (3, 4))
    y = rng.uniform(0, 1, (3, 4))
    w = rng.uniform(0.5, 2, (4,)) if weighted else None
    nw, tw = (dn(w), tt(w)) if weighted else (None, None)
    close(F.binary_cross_entropy(dn(x), dn(y), weight=nw, reduction=reduction),
          TF.binary_cross_entropy(tt(x), tt(y), weight=tw, reduction=reduction))
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, weight=nw, reduction=reduction),
                     (dn(x, True), dn(y, True)))


def test_binary_cross_entropy_clamps_log_and_checks(device):
    dn = functools.partial(nt, device=device)  # norch tensors on the device under test
    x = np.array([0.0, 1.0, 0.5])
    y = np.array([1.0, 0.0, 1.0])
    close(F.binary_cross_entropy(dn(x), dn(y), reduction="none"),
          TF.binary_cross_entropy(tt(x), tt(y), reduction="none"))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(dn(np.array([1.5])), dn(np.array([1.0])))
    with pytest.raises(ValueError, match="target size"):
        F.binary_cross_entropy(dn(np.array([0.5, 0.5])), dn(np.array([1.0])))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted,pos", [(False, False), (True, False), (False, True), (True, True)])
def test_binary_cross_entropy_with_logits(reduction, weighted, pos, device):
    dn = functools.partial(nt, device=device)  # norch tensors on the device under test
    x = arr(3, 4) * 3
    y = rng.uniform(0, 1, (3, 4))
    w = rng.uniform(0.5, 2, (3, 1)) if weighted else None
    pw = rng.uniform(0.5, 3, (4,)) if pos else None
    kn = dict(weight=dn(w) if weighted else None, pos_weight=dn(pw) if pos else None, reduction=reduction)
    kt = dict(weight=tt(w) if weighted else None, pos_weight=tt(pw) if pos else None, reduction=reduction)
    close(F.binary_cross_entropy_with_logits(dn(x), dn(y), **kn), TF.binary_cross_entropy_with_logits(tt(x), tt(y), **kt))
    kn_g = dict(kn)
    args = [dn(x, True), dn(y, True)]
    if pos:
        args.append(dn(pw, True))
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
        F.binary_cross_entropy_with_logits(nt(arr(2, 3)), nt(arr(3)))


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


def test_kl_div_zero_dim():
    a, b = np.array(-0.5), np.array(0.4)
    for r in ["mean", "sum", "none", "batchmean"]:
        close(F.kl_div(nt(a), nt(b), reduction=r), TF.kl_div(tt(a), tt(b), reduction=r))
    with pytest.raises(ValueError, match="reduction"):
        F.kl_div(nt(a), nt(b), reduction="bad")


def test_kl_div_negative_and_zero_targets_follow_xlogy():
    # log of a negative target is NaN in PyTorch (xlogy); a zero target contributes 0.
    x, y = np.array([0.1, 0.2, 0.3]), np.array([-0.5, 0.0, 0.3])
    for r in ["sum", "none"]:
        ours = F.kl_div(nt(x), nt(y), reduction=r).numpy()
        theirs = TF.kl_div(tt(x), tt(y), reduction=r).numpy()
        np.testing.assert_allclose(ours, theirs, equal_nan=True)

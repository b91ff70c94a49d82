"""Batch, layer and group norm (norch.nn.functional) against PyTorch (CPU) as the oracle:
forward, running statistics, gradcheck/gradgradcheck, non-contiguous and empty inputs,
the fused float32 backward, errors."""
import functools

import numpy as np
import pytest
import torch  # the oracle for these tests
import torch.nn.functional as TF

import norch.nn.functional as F
from norch.autograd import gradcheck, gradgradcheck

from _oracle import arr, check_op, close, make, nt, tt


@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 2, 2)])
@pytest.mark.parametrize("affine", [False, True])
def test_batch_norm_training_updates_running_stats(shape, affine, device):
    C = shape[1]
    x = arr(*shape)
    rm, rv = arr(C), make("float64", (C,), "pos", seed=1)  # a variance is positive
    w, b = (arr(C), arr(C)) if affine else (None, None)
    n_rm, n_rv = nt(rm, device=device), nt(rv, device=device)
    t_rm, t_rv = tt(rm), tt(rv)
    nw, nb = (nt(w, device=device), nt(b, device=device)) if affine else (None, None)
    out = F.batch_norm(nt(x, device=device), n_rm, n_rv, nw, nb, True, 0.2, 1e-3)
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
def test_batch_norm_eval(affine, device):
    dn = functools.partial(nt, device=device)  # norch tensors on the device under test
    x = arr(4, 3, 2)
    rm, rv = arr(3), make("float64", (3,), "pos", seed=1)
    w, b = arr(3), arr(3)
    kn = dict(weight=dn(w, True), bias=dn(b, True)) if affine else {}
    kt = dict(weight=tt(w), bias=tt(b)) if affine else {}
    close(F.batch_norm(dn(x), dn(rm), dn(rv), **kn), TF.batch_norm(tt(x), tt(rm), tt(rv), **kt))
    if affine:
        assert gradcheck(lambda a, ww, bb: F.batch_norm(a, dn(rm), dn(rv), ww, bb), (dn(x, True), dn(w, True), dn(b, True)))
    else:
        assert gradcheck(lambda a: F.batch_norm(a, dn(rm), dn(rv)), (dn(x, True),))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(dn(arr(1, 3)), None, None, training=True)
    with pytest.raises(RuntimeError, match="channels"):
        F.batch_norm(dn(arr(4, 3)), dn(np.zeros(2)), dn(np.ones(2)), training=True)


def test_batch_norm_noncontiguous(device):
    dn = functools.partial(nt, device=device)  # norch tensors on the device under test
    x = arr(3, 5)  # [C, N] seen through .t() as [N, C]
    rm, rv = dn(np.zeros(3)), dn(np.ones(3))
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    close(F.batch_norm(dn(x).t(), rm, rv, training=True), TF.batch_norm(tt(x).t(), trm, trv, training=True))
    close(rv, trv)
    assert gradcheck(lambda a: F.batch_norm(a.t(), None, None, training=True), (dn(x, True),))


# (op, input shape, normalized_shape or number of groups): layer_norm and group_norm take
# (input, that argument, weight, bias, eps) and differ only in the shape of weight and bias.
NORM_CASES = ([("layer_norm", s, n) for s, n in [((4, 5), (5,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)),
                                                ((6,), (6,))]]
              + [("group_norm", s, g) for s, g in [((2, 4), 2), ((2, 6, 3), 3), ((2, 4, 2, 2), 1), ((3, 4, 5), 4)]])


@pytest.mark.parametrize("name,shape,arg", NORM_CASES, ids=[f"{n}-{s}-{a}" for n, s, a in NORM_CASES])
@pytest.mark.parametrize("affine", [False, True])
def test_layer_and_group_norm(name, shape, arg, affine, device):
    x = arr(*shape)
    w, b = (arr(*arg), arr(*arg)) if name == "layer_norm" else (arr(shape[1]), arr(shape[1]))
    fn, ref = getattr(F, name), getattr(TF, name)
    if affine:
        check_op(lambda a, ww, bb: fn(a, arg, ww, bb, eps=1e-4), [x, w, b],
                 lambda a, ww, bb: ref(tt(a), arg, tt(ww), tt(bb), eps=1e-4).numpy(), device, rtol=1e-5, atol=1e-6)
    else:
        check_op(lambda a: fn(a, arg, eps=1e-4), [x], lambda a: ref(tt(a), arg, eps=1e-4).numpy(), device,
                 rtol=1e-5, atol=1e-6)


def test_layer_norm_noncontiguous_and_errors():
    x = arr(5, 4)
    close(F.layer_norm(nt(x).t(), (5,)), TF.layer_norm(tt(x).t(), (5,)))
    assert gradcheck(lambda a: F.layer_norm(a.t(), (5,)), (nt(x, True),))
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(nt(x), (5,))
    with pytest.raises(RuntimeError, match="weight"):
        F.layer_norm(nt(x), (4,), weight=nt(np.ones(3)))


def test_norms_of_empty_input():
    assert F.layer_norm(nt(np.zeros((0, 4))), (4,)).shape == (0, 4)
    assert F.group_norm(nt(np.zeros((0, 4))), 2).shape == (0, 4)


def test_group_norm_errors():
    with pytest.raises(RuntimeError, match="divisible"):
        F.group_norm(nt(arr(2, 5)), 2)


def test_norms_float32_first_order_matches_torch():
    # The fused backward kernels (no create_graph) against torch.
    x, w, b = arr(4, 6, 3), arr(6), arr(6)
    for nfn, tfn in [(lambda a, ww, bb: F.layer_norm(a, (6, 3), None, None), lambda a, ww, bb: TF.layer_norm(a, (6, 3))),
                     (lambda a, ww, bb: F.layer_norm(a.transpose(1, 2), (6,), ww, bb).transpose(1, 2),
                      lambda a, ww, bb: TF.layer_norm(a.transpose(1, 2), (6,), ww, bb).transpose(1, 2)),
                     (lambda a, ww, bb: F.group_norm(a, 3, ww, bb), lambda a, ww, bb: TF.group_norm(a, 3, ww, bb)),
                     (lambda a, ww, bb: F.batch_norm(a, None, None, ww, bb, True),
                      lambda a, ww, bb: TF.batch_norm(a, None, None, ww, bb, True))]:
        na, nw, nb = nt(x, True, np.float32), nt(w, True, np.float32), nt(b, True, np.float32)
        ta, tw, tb = (torch.tensor(v.astype(np.float32), requires_grad=True) for v in (x, w, b))
        g = arr(4, 6, 3).astype(np.float32)
        (nfn(na, nw, nb) * nt(g)).sum().backward()
        (tfn(ta, tw, tb) * torch.tensor(g)).sum().backward()
        close(na.grad, ta.grad, rtol=1e-4, atol=1e-4)
        for nn_, tt_ in [(nw, tw), (nb, tb)]:
            if tt_.grad is not None:
                close(nn_.grad, tt_.grad, rtol=1e-4, atol=1e-4)

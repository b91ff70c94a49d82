"""Helpers shared by the test_nn_family_* files: run the same module or function under
norch and PyTorch with identical inputs and weights, and compare values and gradients."""
import numpy as np
import torch

import norch

rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float64):
    return np.asarray(rng.standard_normal(shape), dtype=dtype)


def to_n(a, grad=False):
    if isinstance(a, np.ndarray):
        t = norch.tensor(a)
        return t.requires_grad_(True) if grad and a.dtype.kind == "f" else t
    return a


def to_t(a, grad=False):
    if isinstance(a, np.ndarray):
        t = torch.tensor(a)
        return t.requires_grad_(True) if grad and a.dtype.kind == "f" else t
    return a


def close(n, t, rtol=1e-5, atol=1e-6):
    n = n.detach().numpy() if hasattr(n, "detach") else np.asarray(n)
    t = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    assert n.shape == t.shape, (n.shape, t.shape)
    np.testing.assert_allclose(n, t, rtol=rtol, atol=atol)


def copy_weights(ours, theirs):
    """Loads the torch module's state_dict into the norch module (names must match)."""
    state = {k: norch.tensor(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)
    return ours


def compare_call(fn_n, fn_t, args, kwargs=None, rtol=1e-5, atol=1e-6, grad=True, n_grad=None):
    """Calls fn_n / fn_t on the same arrays (float arrays require grad; only the first n_grad
    when given), compares the outputs and, with a random upstream gradient, the input
    gradients. Returns the outputs."""
    kwargs = kwargs or {}
    n_grad = len(args) if n_grad is None else n_grad
    an = [to_n(a, grad and i < n_grad) for i, a in enumerate(args)]
    at = [to_t(a, grad and i < n_grad) for i, a in enumerate(args)]
    on, ot = fn_n(*an, **kwargs), fn_t(*at, **kwargs)
    if isinstance(ot, tuple):
        for a, b in zip(on[1:], ot[1:]):
            close(a, b, rtol, atol)
        on, ot = on[0], ot[0]
    close(on, ot, rtol, atol)
    if grad and ot.requires_grad:
        g = rng.standard_normal(tuple(ot.shape))
        on.backward(norch.tensor(g))
        ot.backward(torch.tensor(g))
        for a, b in zip(an, at):
            if isinstance(b, torch.Tensor) and b.requires_grad:
                assert a.grad is not None
                close(a.grad, b.grad, rtol, atol)
    return on, ot


def compare_modules(ours, theirs, *arrays, rtol=1e-5, atol=1e-6, copy=True):
    """Same weights, same inputs: outputs, input gradients and parameter gradients match.
    Float64 inputs run both modules in float64."""
    if any(isinstance(a, np.ndarray) and a.dtype == np.float64 for a in arrays):
        ours.double()
        theirs.double()
    if copy:
        copy_weights(ours, theirs)
    compare_call(ours, theirs, arrays, rtol=rtol, atol=atol)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        if tp[name].grad is not None:
            close(p.grad, tp[name].grad, rtol, atol)

"""inspect.signature and help() on norch's public callables: every function of norch,
norch.Tensor and norch.nn.functional has a signature (the C++ bindings through CPython's
text-signature docstrings, see src/python/text_signature.cpp), and it names the same
parameters as PyTorch's wherever PyTorch's callable has a signature with names. Also the
parameters that parity brought in: out= of norm / tensordot / chain_matmul and the
per-element weight of mse_loss / l1_loss / huber_loss."""
import inspect
import pydoc

import numpy as np
import pytest

import norch
import norch.nn.functional as F

import torch  # the oracle: required, never skipped
import torch.nn.functional as TF  # noqa: E402

rng = np.random.default_rng(4)
NAMESPACES = [("norch", norch, torch), ("norch.Tensor", norch.Tensor, torch.Tensor),
              ("norch.nn.functional", F, TF)]


# classes that neither framework lets one construct (torch.dtype() raises TypeError too)
NOT_CONSTRUCTIBLE = (norch.dtype, norch._C.Node)
# exception classes bound from C++ have no text signature (torch.OutOfMemoryError has none either)
C_EXCEPTIONS = (norch.OutOfMemoryError,)
# how many callables at least have a PyTorch signature to compare with (a floor, so that the
# comparison cannot silently become empty)
COMPARED_AT_LEAST = {"norch": 20, "norch.Tensor": 8, "norch.nn.functional": 80}


def _public_callables(ns):
    for name in sorted(dir(ns)):
        if name.startswith("_"):
            continue
        obj = getattr(ns, name)
        if callable(obj):
            yield name, obj


def _signature_or_none(obj):
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return None


def _names(sig):
    return [p.name for p in sig.parameters.values()]


def _only_varargs(sig):
    return all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in sig.parameters.values())


@pytest.mark.parametrize("label,ns,torch_ns", NAMESPACES, ids=[n[0] for n in NAMESPACES])
def test_every_public_callable_has_a_signature(label, ns, torch_ns):
    missing = []
    for name, obj in _public_callables(ns):
        if _signature_or_none(obj) is None:
            if obj in NOT_CONSTRUCTIBLE or obj in C_EXCEPTIONS:
                continue
            missing.append(name)
    assert not missing, f"{label}: no inspect.signature for {missing}"


@pytest.mark.parametrize("label,ns,torch_ns", NAMESPACES, ids=[n[0] for n in NAMESPACES])
def test_signatures_name_torch_parameters(label, ns, torch_ns):
    compared, different = 0, []
    for name, obj in _public_callables(ns):
        if isinstance(obj, type):
            continue
        theirs = getattr(torch_ns, name, None)
        ours, their_sig = _signature_or_none(obj), _signature_or_none(theirs) if theirs is not None else None
        if ours is None or their_sig is None or _only_varargs(their_sig):
            continue    # PyTorch gives no names to compare with (its C++ functions and *args dispatchers)
        compared += 1
        if _names(ours) != _names(their_sig):
            different.append((name, _names(ours), _names(their_sig)))
    assert not different, f"{label}: parameter names differ from PyTorch's: {different}"
    assert compared >= COMPARED_AT_LEAST[label], compared


def test_bound_functions_show_parameters_and_defaults():
    assert str(inspect.signature(norch.Tensor.add)) == "(self, other, *, alpha=1)"
    assert str(inspect.signature(norch.ones(2).add)) == "(other, *, alpha=1)"
    assert str(inspect.signature(norch.zeros)) == "(*args, dtype=None, device=None, requires_grad=False)"
    assert str(inspect.signature(norch.sum)) == "(input, dim=None, keepdim=False, *, dtype=None)"
    assert str(inspect.signature(norch.Tensor.amax)) == "(self, dim=(), keepdim=False)"
    # a name CPython cannot parse (`from`) gives the general form; the docstring still names it
    assert str(inspect.signature(norch.Tensor.uniform_)) == "(*args, **kwargs)"
    assert "uniform_(self: norch._C.Tensor, from:" in norch.Tensor.uniform_.__doc__
    for obj, expected in ((norch.Tensor.add, ["add(self, other, *, alpha=1)", "alpha: object = 1"]),
                          (norch.zeros, ["zeros(*args, dtype=None, device=None, requires_grad=False)",
                                         "requires_grad: bool = False"])):
        text = pydoc.render_doc(obj, renderer=pydoc.plaintext)
        for piece in expected:
            assert piece in text, (piece, text)
    # the text-signature marker is cut from __doc__, as CPython does for its own builtins
    assert "\n--\n" not in norch.Tensor.add.__doc__


def test_norm_tensordot_chain_matmul_out():
    a = rng.standard_normal((3, 4))
    b = rng.standard_normal((4, 2))
    for lib in (norch, torch):
        out = lib.zeros(())
        res = lib.norm(lib.tensor(a, dtype=lib.float32), out=out)
        assert res is out
    np.testing.assert_allclose(res.numpy(), np.linalg.norm(a), rtol=1e-6)
    out = norch.empty(0, dtype=norch.float64)
    assert norch.tensordot(norch.tensor(a), norch.tensor(b), dims=1, out=out) is out
    np.testing.assert_allclose(out.numpy(), a @ b)
    out = norch.zeros(3, 2, dtype=norch.float64)
    assert norch.chain_matmul(norch.tensor(a), norch.tensor(b), out=out) is out
    np.testing.assert_allclose(out.numpy(), torch.chain_matmul(torch.tensor(a), torch.tensor(b)).numpy())


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_weighted_regression_losses_match_torch(loss, reduction):
    x, y, w = rng.standard_normal((3, 4, 5))
    w = np.abs(w)
    nx = norch.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    n = getattr(F, loss)(nx, norch.tensor(y), reduction=reduction, weight=norch.tensor(w))
    t = getattr(TF, loss)(tx, torch.tensor(y), reduction=reduction, weight=torch.tensor(w))
    np.testing.assert_allclose(n.detach().numpy(), t.detach().numpy(), rtol=1e-12)
    n.sum().backward()
    t.sum().backward()
    np.testing.assert_allclose(nx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    for lib, f in ((norch, F), (torch, TF)):
        with pytest.raises(ValueError, match="Weights and input must have the same size"):
            getattr(f, loss)(lib.zeros(4, 5), lib.zeros(4, 5), weight=lib.ones(5))

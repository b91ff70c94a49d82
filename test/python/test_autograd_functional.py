"""norch.autograd.functional against torch.autograd.functional."""
import numpy as np
import pytest

import norch
import norch.autograd.functional as NF

import torch  # the oracle: required, never skipped
import torch.autograd.functional as TF  # noqa: E402

rng = np.random.default_rng(0)
X = rng.standard_normal(3)
Y = rng.standard_normal((2, 3))
V3 = rng.standard_normal(3)


def f_vec(x):
    return (x * x).sum() * x + x.sin()


def f_two(x, y):
    return (y.matmul(x)).exp()


def f_scalar(x):
    return (x.exp() * x).sum() + (x * x).sum() ** 2


def f_scalar2(x, y):
    return (y.matmul(x) ** 2).sum()


def _n(a):
    return norch.from_numpy(a.copy())


def _t(a):
    return torch.from_numpy(a.copy())


def _same(a, b):
    if isinstance(b, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_jacobian():
    _same(NF.jacobian(f_vec, _n(X)), TF.jacobian(f_vec, _t(X)))
    _same(NF.jacobian(f_two, (_n(X), _n(Y))), TF.jacobian(f_two, (_t(X), _t(Y))))


def test_hessian():
    _same(NF.hessian(f_scalar, _n(X)), TF.hessian(f_scalar, _t(X)))
    _same(NF.hessian(f_scalar2, (_n(X), _n(Y))), TF.hessian(f_scalar2, (_t(X), _t(Y))))


def test_vjp_jvp_hvp_vhp():
    _same(NF.vjp(f_vec, _n(X), _n(V3)), TF.vjp(f_vec, _t(X), _t(V3)))
    _same(NF.jvp(f_vec, _n(X), _n(V3)), TF.jvp(f_vec, _t(X), _t(V3)))
    _same(NF.vhp(f_scalar, _n(X), _n(V3)), TF.vhp(f_scalar, _t(X), _t(V3)))
    _same(NF.hvp(f_scalar, _n(X), _n(V3)), TF.hvp(f_scalar, _t(X), _t(V3)))
    _same(NF.vjp(f_scalar, _n(X)), TF.vjp(f_scalar, _t(X)))


def test_create_graph_keeps_results_differentiable():
    x = _n(X).requires_grad_(True)
    h = NF.jacobian(lambda t: (t ** 3).sum(), x, create_graph=True)
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * X)
    assert not NF.jacobian(f_vec, _n(X)).requires_grad


def test_v_required_for_non_scalar():
    with pytest.raises(RuntimeError, match="single element"):
        NF.vjp(f_vec, _n(X))
    with pytest.raises(RuntimeError, match="single element"):
        NF.hessian(f_vec, _n(X))

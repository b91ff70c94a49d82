"""nn.utils.weight_norm / spectral_norm (hook-based) and nn.utils.parametrize with
nn.utils.parametrizations (orthogonal, weight_norm, spectral_norm) against PyTorch: the
parametrized weights, the state_dict layout, the power iteration given the same u and v,
gradients, removal, caching, right_inverse, and PyTorch's errors."""
import copy

import numpy as np
import pytest

pytestmark = pytest.mark.filterwarnings("ignore:`(torch|norch).nn.utils.weight_norm` is deprecated")

import norch
import norch.nn.utils.parametrize as NP
from norch.autograd.gradcheck import gradcheck
from norch.nn.utils import parametrizations as NZ

import torch  # the oracle: required, never skipped
import torch.nn.utils.parametrize as TP  # noqa: E402
from torch.nn.utils import parametrizations as TZ  # noqa: E402

rng = np.random.default_rng(2)


def _np(t):
    return t.detach().numpy()


def _pair(cls, *args, **kwargs):
    t = getattr(torch.nn, cls)(*args, **kwargs).double()
    n = getattr(norch.nn, cls)(*args, **kwargs).double()
    n.load_state_dict({k: norch.tensor(_np(v)) for k, v in t.state_dict().items()})
    return n, t


def _close(a, b, tol=1e-12):
    np.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol)


def _run(n, t, shape):
    x = rng.standard_normal(shape)
    n_out, t_out = n(norch.tensor(x)), t(torch.tensor(x))
    _close(n_out, t_out, 1e-10)
    (n_out * n_out).sum().backward()
    (t_out * t_out).sum().backward()
    t_grads = dict(t.named_parameters())
    for name, p in n.named_parameters():
        _close(p.grad, t_grads[name].grad, 1e-9)


# ---- hook-based weight_norm / spectral_norm --------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, None, -2])
def test_weight_norm_matches_torch(dim):
    n, t = _pair("Conv2d", 3, 4, 3)
    with pytest.warns(FutureWarning, match="deprecated in favor of `norch.nn.utils.parametrizations.weight_norm`"):
        norch.nn.utils.weight_norm(n, dim=dim)
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(t, dim=dim)
    assert [k for k, _ in n.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert list(n.state_dict()) == list(t.state_dict())
    for key, value in t.state_dict().items():
        _close(n.state_dict()[key], value)
    _close(n.weight, t.weight)
    _run(n, t, (2, 3, 6, 6))
    norch.nn.utils.remove_weight_norm(n)
    torch.nn.utils.remove_weight_norm(t)
    assert [k for k, _ in n.named_parameters()] == [k for k, _ in t.named_parameters()]
    _close(n.weight, t.weight)
    assert isinstance(n.weight, norch.nn.Parameter)


def test_weight_norm_gradcheck_and_errors():
    lin = norch.nn.utils.weight_norm(norch.nn.Linear(3, 2).double(), name="weight")
    x = norch.tensor(rng.standard_normal((4, 3)))
    assert gradcheck(lambda g, v: (lin(x),)[0], (lin.weight_g, lin.weight_v))
    for lib in (norch, torch):
        with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
            lib.nn.utils.weight_norm(lib.nn.utils.weight_norm(lib.nn.Linear(2, 2)))
        with pytest.raises(ValueError, match="weight_norm of 'weight' not found in"):
            lib.nn.utils.remove_weight_norm(lib.nn.Linear(2, 2))


@pytest.mark.parametrize("cls,args,shape", [("Linear", (5, 4), (3, 5)), ("Conv2d", (2, 3, 3), (1, 2, 5, 5)),
                                            ("ConvTranspose2d", (2, 3, 3), (1, 2, 4, 4))])
@pytest.mark.parametrize("n_power_iterations", [1, 3])
def test_spectral_norm_power_iteration_matches_torch(cls, args, shape, n_power_iterations):
    n, t = _pair(cls, *args)
    norch.nn.utils.spectral_norm(n, n_power_iterations=n_power_iterations)
    torch.nn.utils.spectral_norm(t, n_power_iterations=n_power_iterations)
    assert list(n.state_dict()) == list(t.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    with norch.no_grad():        # the same random start, then every iterate must agree
        n.weight_u.copy_(norch.tensor(_np(t.weight_u)))
        n.weight_v.copy_(norch.tensor(_np(t.weight_v)))
    for _ in range(3):
        _run(n, t, shape)
        _close(n.weight_u, t.weight_u)
        _close(n.weight_v, t.weight_v)
        _close(n.weight, t.weight, 1e-10)
    n.eval()
    t.eval()
    u = n.weight_u.clone()
    _run(n, t, shape)
    np.testing.assert_array_equal(n.weight_u.numpy(), u.numpy())     # eval: no iteration
    norch.nn.utils.remove_spectral_norm(n)
    torch.nn.utils.remove_spectral_norm(t)
    assert [k for k, _ in n.named_parameters()] == [k for k, _ in t.named_parameters()]
    _close(n.weight, t.weight, 1e-10)


def test_spectral_norm_errors_like_torch():
    for lib in (norch, torch):
        with pytest.raises(ValueError, match="Expected n_power_iterations to be positive"):
            lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0)
        with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
            lib.nn.utils.spectral_norm(lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2)))
        with pytest.raises(ValueError, match="spectral_norm of 'weight' not found in"):
            lib.nn.utils.remove_spectral_norm(lib.nn.Linear(2, 2))


# ---- parametrize ------------------------------------------------------------------------------

class _Symmetric:
    @staticmethod
    def make(lib):
        class Symmetric(lib.nn.Module):
            def forward(self, X):
                return X.triu() + X.triu(1).transpose(-1, -2)

            def right_inverse(self, A):
                return A.triu()
        return Symmetric()


def _scale(lib, factor):
    class Scale(lib.nn.Module):
        def forward(self, X):
            return X * factor

        def right_inverse(self, Y):
            return Y / factor
    return Scale()


def test_register_parametrization_chain_cache_right_inverse_and_remove():
    n, t = _pair("Linear", 4, 4)
    for lib, mod, param in ((norch, n, NP), (torch, t, TP)):
        param.register_parametrization(mod, "weight", _Symmetric.make(lib))
        param.register_parametrization(mod, "weight", _scale(lib, 2.0))
        assert type(mod).__name__ == "ParametrizedLinear" and param.is_parametrized(mod)
        assert param.is_parametrized(mod, "weight") and not param.is_parametrized(mod, "bias")
        assert param.type_before_parametrizations(mod) is lib.nn.Linear
    assert list(n.state_dict()) == list(t.state_dict())
    _close(n.weight, t.weight)
    w = _np(n.weight)
    np.testing.assert_allclose(w, w.T)
    _run(n, t, (3, 4))
    # cached: one computation per block
    with NP.cached():
        assert n.weight is n.weight
    assert n.weight is not n.weight
    # assignment goes through the chain's right_inverse
    target = rng.standard_normal((4, 4))
    target = target + target.T
    n.weight = norch.tensor(target)
    t.weight = torch.tensor(target)
    _close(n.parametrizations.weight.original, t.parametrizations.weight.original)
    np.testing.assert_allclose(_np(n.weight), target, atol=1e-12)
    original = n.parametrizations.weight.original
    NP.remove_parametrizations(n, "weight")
    TP.remove_parametrizations(t, "weight")
    assert type(n) is norch.nn.Linear and not hasattr(n, "parametrizations")
    assert n.weight is original                       # the same Parameter object optimizers hold
    _close(n.weight, t.weight)


def test_remove_parametrizations_leave_unparametrized_and_buffers():
    n, t = _pair("BatchNorm1d", 3)
    for lib, mod, param in ((norch, n, NP), (torch, t, TP)):
        param.register_parametrization(mod, "running_var", _scale(lib, 3.0))
        assert "parametrizations.running_var.original" in mod.state_dict()
        param.remove_parametrizations(mod, "running_var", leave_parametrized=False)
    _close(n.running_var, t.running_var)
    assert "running_var" in dict(n.named_buffers())


def test_parametrize_errors_like_torch():
    for lib, param in ((norch, NP), (torch, TP)):
        lin = lib.nn.Linear(3, 2)
        with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element"):
            param.register_parametrization(lin, "nope", _scale(lib, 2.0))

        class Shrink(lib.nn.Module):
            def forward(self, X):
                return X[:1]
        with pytest.raises(ValueError, match="may not change the shape of the tensor"):
            param.register_parametrization(lin, "weight", Shrink())
        with pytest.raises(ValueError, match="does not have a parametrization on weight"):
            param.remove_parametrizations(lin, "weight")

        class NoInverse(lib.nn.Module):
            def forward(self, X):
                return X
        param.register_parametrization(lin, "weight", NoInverse())
        with pytest.raises(RuntimeError, match="does not implement right_inverse"):
            lin.weight = lib.zeros(2, 3)
        with pytest.raises(RuntimeError, match="Serialization of parametrized modules is only supported"):
            lin.__getstate__()


def test_parametrized_module_deepcopy_and_state_dict_round_trip():
    n, _ = _pair("Linear", 3, 3)
    NP.register_parametrization(n, "weight", _Symmetric.make(norch))
    m = copy.deepcopy(n)
    np.testing.assert_array_equal(_np(m.weight), _np(n.weight))
    other, _ = _pair("Linear", 3, 3)
    NP.register_parametrization(other, "weight", _Symmetric.make(norch))
    other.load_state_dict(n.state_dict())
    np.testing.assert_array_equal(_np(other.weight), _np(n.weight))


# ---- parametrizations -------------------------------------------------------------------------

@pytest.mark.parametrize("orthogonal_map", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
@pytest.mark.parametrize("use_trivialization", [True, False])
def test_orthogonal_matches_torch(orthogonal_map, shape, use_trivialization):
    exp_or_cayley = orthogonal_map in ("matrix_exp", "cayley") or (orthogonal_map is None and shape[0] == shape[1])
    n, t = _pair("Linear", shape[1], shape[0])
    NZ.orthogonal(n, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    TZ.orthogonal(t, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    assert list(n.state_dict()) == list(t.state_dict())
    _close(n.weight, t.weight, 1e-10)
    w = _np(n.weight)
    small = min(shape)
    gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)
    if shape[0] == shape[1] or not use_trivialization:
        # a tall or wide base is completed with random columns, which differ between frameworks;
        # the weight itself does not depend on them, but the gradient through the base does
        _run(n, t, (2, shape[1]))
    if exp_or_cayley and not use_trivialization:
        for mod in (n, t):      # without a base these maps have no right inverse to assign through
            with pytest.raises(NotImplementedError, match="use_trivialization=False"):
                mod.weight = mod.weight.detach().clone()


def test_orthogonal_gradcheck_and_errors():
    for orthogonal_map in ("matrix_exp", "cayley", "householder"):
        lin = NZ.orthogonal(norch.nn.Linear(3, 4).double(), orthogonal_map=orthogonal_map)
        original = lin.parametrizations.weight.original
        with norch.no_grad():
            original.add_(norch.tensor(rng.standard_normal((4, 3)) * 0.1))
        assert gradcheck(lambda X: lin.parametrizations.weight[0](X), (original,))
    for lib, z in ((norch, NZ), (torch, TZ)):
        with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a tensor of 1 dimensions"):
            z.orthogonal(lib.nn.Linear(2, 2), name="bias")
        with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", "cayley", "householder"'):
            z.orthogonal(lib.nn.Linear(2, 2), orthogonal_map="svd")
        with pytest.raises(ValueError, match="has no parameter or buffer with name 'nope'"):
            z.orthogonal(lib.nn.Linear(2, 2), name="nope")


def test_parametrizations_weight_norm_matches_torch_and_loads_old_checkpoints():
    n, t = _pair("Conv1d", 3, 4, 2)
    old = norch.nn.utils.weight_norm(copy.deepcopy(n)).state_dict()   # name_g / name_v
    NZ.weight_norm(n)
    TZ.weight_norm(t)
    assert list(n.state_dict()) == list(t.state_dict()) == [
        "bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    for key, value in t.state_dict().items():
        _close(n.state_dict()[key], value)
    _run(n, t, (2, 3, 5))
    fresh, _ = _pair("Conv1d", 3, 4, 2)
    NZ.weight_norm(fresh)
    fresh.load_state_dict(old)
    assert "weight_g" in old      # the caller's dict is left as it was
    _close(fresh.parametrizations.weight.original0, old["weight_g"])
    NP.remove_parametrizations(n, "weight")
    TP.remove_parametrizations(t, "weight")
    _close(n.weight, t.weight)
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        NP.remove_parametrizations(NZ.weight_norm(norch.nn.Linear(2, 2)), "weight", leave_parametrized=False)


@pytest.mark.parametrize("cls,args,shape", [("Linear", (5, 4), (3, 5)), ("Conv2d", (2, 3, 3), (1, 2, 5, 5)),
                                            ("ConvTranspose1d", (2, 3, 3), (1, 2, 4))])
def test_parametrizations_spectral_norm_matches_torch(cls, args, shape):
    n, t = _pair(cls, *args)
    NZ.spectral_norm(n, n_power_iterations=2)
    TZ.spectral_norm(t, n_power_iterations=2)
    assert list(n.state_dict()) == list(t.state_dict())
    tsn = t.parametrizations.weight[0]
    nsn = n.parametrizations.weight[0]
    with norch.no_grad():        # the same start vectors, then every iterate must agree
        nsn._u.copy_(norch.tensor(_np(tsn._u)))
        nsn._v.copy_(norch.tensor(_np(tsn._v)))
    for _ in range(3):
        _run(n, t, shape)
        _close(nsn._u, tsn._u, 1e-10)
        _close(nsn._v, tsn._v, 1e-10)
    # the starting vectors after 15 power steps: the top singular vectors, up to sign
    m, _ = _pair("Linear", 5, 4)
    NZ.spectral_norm(m)
    w = m.parametrizations.weight.original.detach().numpy()
    sigma = np.linalg.svd(w, compute_uv=False)[0]
    u, v = m.parametrizations.weight[0]._u.numpy(), m.parametrizations.weight[0]._v.numpy()
    assert abs(u @ w @ v) == pytest.approx(sigma, rel=1e-3)
    for lib, z in ((norch, NZ), (torch, TZ)):
        with pytest.raises(ValueError, match="Expected n_power_iterations to be positive"):
            z.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0)
        with pytest.raises(IndexError, match="Dimension out of range"):
            z.spectral_norm(lib.nn.Linear(2, 2), dim=2)


def test_parametrizations_spectral_norm_of_a_vector_normalizes_it():
    n, t = _pair("Linear", 3, 4)
    NZ.spectral_norm(n, name="bias")
    TZ.spectral_norm(t, name="bias")
    _close(n.bias, t.bias)

"""norch.distributions against torch.distributions: log_prob, entropy, mean, variance, cdf,
shapes and expand on the same parameters (float64, batched and broadcast), log_prob's
gradient, kl_divergence for every registered pair, argument and sample validation, and
samples checked by their moments (the random streams differ between frameworks)."""
import numpy as np
import pytest

import norch
import norch.distributions as D

import torch  # the oracle: required, never skipped
import torch.distributions as TD  # noqa: E402

rng = np.random.default_rng(5)


def _pos(*shape):
    return rng.uniform(0.5, 2.5, shape)


def _simplex(*shape):
    p = rng.uniform(0.1, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def _spd(batch, n):
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


# name, constructor kwargs (NumPy arrays), a value in the support
CASES = [
    ("Normal", lambda: dict(loc=rng.standard_normal((3, 4)), scale=_pos(4)), lambda: rng.standard_normal((3, 4))),
    ("Uniform", lambda: dict(low=np.zeros(4), high=_pos(3, 4) + 1), lambda: rng.uniform(0, 1, (3, 4))),
    ("Exponential", lambda: dict(rate=_pos(3, 4)), lambda: _pos(3, 4)),
    ("Laplace", lambda: dict(loc=rng.standard_normal((3, 4)), scale=_pos(3, 4)), lambda: rng.standard_normal((3, 4))),
    ("Gamma", lambda: dict(concentration=_pos(3, 4), rate=_pos(3, 4)), lambda: _pos(3, 4)),
    ("Beta", lambda: dict(concentration1=_pos(3, 4), concentration0=_pos(4)), lambda: rng.uniform(0.05, 0.95, (3, 4))),
    ("Dirichlet", lambda: dict(concentration=_pos(3, 4)), lambda: _simplex(3, 4)),
    ("Bernoulli", lambda: dict(probs=rng.uniform(0.1, 0.9, (3, 4))), lambda: rng.integers(0, 2, (3, 4)) * 1.0),
    ("Bernoulli", lambda: dict(logits=rng.standard_normal((3, 4))), lambda: rng.integers(0, 2, (3, 4)) * 1.0),
    ("Categorical", lambda: dict(probs=_simplex(3, 5)), lambda: rng.integers(0, 5, (3,))),
    ("Categorical", lambda: dict(logits=rng.standard_normal((2, 3, 5))), lambda: rng.integers(0, 5, (2, 3))),
    ("OneHotCategorical", lambda: dict(logits=rng.standard_normal((3, 5))), lambda: np.eye(5)[rng.integers(0, 5, 3)]),
    ("MultivariateNormal", lambda: dict(loc=rng.standard_normal((2, 3)), covariance_matrix=_spd((2,), 3)),
     lambda: rng.standard_normal((2, 3))),
    ("MultivariateNormal", lambda: dict(loc=rng.standard_normal(3), scale_tril=np.linalg.cholesky(_spd((2,), 3))),
     lambda: rng.standard_normal((4, 2, 3))),
    ("MultivariateNormal", lambda: dict(loc=rng.standard_normal((2, 3)), precision_matrix=_spd((), 3)),
     lambda: rng.standard_normal((2, 3))),
]


def _build(lib, name, kwargs, requires_grad=False):
    mod = D if lib is norch else TD
    tensors = {k: lib.tensor(v, requires_grad=requires_grad and v.dtype.kind == "f") for k, v in kwargs.items()}
    return getattr(mod, name)(**tensors), tensors


def _close(a, b, rtol=1e-10):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_torch(case):
    name, make_kwargs, make_value = CASES[case]
    kwargs, value = make_kwargs(), make_value()
    n, n_params = _build(norch, name, kwargs, requires_grad=True)
    t, t_params = _build(torch, name, kwargs, requires_grad=True)
    assert tuple(n.batch_shape) == tuple(t.batch_shape) and tuple(n.event_shape) == tuple(t.event_shape)
    assert isinstance(n.batch_shape, norch.Size)
    nv = norch.tensor(value) if name not in ("Categorical",) else norch.tensor(value, dtype=norch.int64)
    tv = torch.tensor(value) if name not in ("Categorical",) else torch.tensor(value, dtype=torch.int64)
    n_lp, t_lp = n.log_prob(nv), t.log_prob(tv)
    _close(n_lp, t_lp)
    _close(n.entropy(), t.entropy())
    for prop in ("mean", "variance", "stddev"):
        a, b = getattr(n, prop), getattr(t, prop)
        if name == "Categorical":
            assert np.isnan(a.numpy()).all() and np.isnan(b.numpy()).all()
        else:
            _close(a, b)
    assert n.has_rsample == t.has_rsample or name in ("Gamma", "Beta", "Dirichlet")
    # gradients of log_prob with respect to every parameter
    n_lp.sum().backward()
    t_lp.sum().backward()
    for k in n_params:
        if n_params[k].requires_grad:
            g = n_params[k].grad.numpy()
            if k in ("covariance_matrix", "precision_matrix"):
                # a symmetric matrix's gradient, symmetrized (PyTorch's cholesky backward returns it so)
                g = (g + np.swapaxes(g, -1, -2)) / 2
            _close(g, t_params[k].grad, 1e-9)
    # expand to a larger batch
    new_batch = (2,) + tuple(t.batch_shape)
    ne, te = n.expand(new_batch), t.expand(new_batch)
    extra = value.ndim - len(t.batch_shape) - len(t.event_shape)
    if extra > 0:   # a value with sample dimensions of its own: one sample of it
        nv, tv = nv[(0,) * extra], tv[(0,) * extra]
    assert tuple(ne.batch_shape) == tuple(te.batch_shape) == new_batch
    _close(ne.log_prob(nv), te.log_prob(tv))
    _close(ne.entropy(), te.entropy())
    # samples have the extended shape and lie in the support
    s = n.sample((6,))
    assert tuple(s.shape) == (6,) + tuple(t.batch_shape) + tuple(t.event_shape)
    assert bool(n.support.check(s).all())


@pytest.mark.parametrize("name,kwargs", [
    ("Normal", dict(loc=0.5, scale=1.5)), ("Exponential", dict(rate=2.0)), ("Laplace", dict(loc=-1.0, scale=0.7)),
    ("Uniform", dict(low=-1.0, high=3.0)), ("Gamma", dict(concentration=2.5, rate=2.0)),
    ("Gamma", dict(concentration=0.4, rate=1.0)), ("Beta", dict(concentration1=2.0, concentration0=3.0)),
    ("Bernoulli", dict(probs=0.3))])
def test_sample_moments(name, kwargs):
    norch.manual_seed(0)
    n = getattr(D, name)(**kwargs)
    s = n.sample((40000,))
    mean, var = float(n.mean), float(n.variance)
    assert abs(float(s.mean()) - mean) < 5 * (var / 40000) ** 0.5 + 1e-3
    assert abs(float(s.var()) - var) < 0.05 * var + 1e-3


def test_categorical_and_dirichlet_and_mvn_sample_moments():
    norch.manual_seed(1)
    probs = norch.tensor([0.2, 0.5, 0.3])
    counts = norch.bincount(D.Categorical(probs).sample((30000,)), minlength=3).double() / 30000
    np.testing.assert_allclose(counts.numpy(), probs.numpy(), atol=0.02)
    c = norch.tensor([1.0, 2.0, 3.0], dtype=norch.float64)
    s = D.Dirichlet(c).sample((30000,))
    np.testing.assert_allclose(s.mean(0).numpy(), (c / c.sum()).numpy(), atol=0.01)
    cov = _spd((), 3)
    mvn = D.MultivariateNormal(norch.tensor([1.0, -1.0, 0.0], dtype=norch.float64), norch.tensor(cov))
    s = mvn.sample((40000,)).numpy()
    np.testing.assert_allclose(s.mean(0), [1.0, -1.0, 0.0], atol=0.06)
    np.testing.assert_allclose(np.cov(s.T), cov, rtol=0.06, atol=0.06)


def test_rsample_is_differentiable():
    loc = norch.tensor([0.5, -1.0], dtype=norch.float64, requires_grad=True)
    scale = norch.tensor([1.0, 2.0], dtype=norch.float64, requires_grad=True)
    norch.manual_seed(2)
    s = D.Normal(loc, scale).rsample((5,))
    s.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [5.0, 5.0])
    eps = (s.detach() - loc.detach()) / scale.detach()
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0).numpy())
    with norch.no_grad():
        assert not D.Normal(loc, scale).sample().requires_grad


def _kl_pairs():
    return [
        ("Normal", dict(loc=rng.standard_normal(4), scale=_pos(4)), dict(loc=rng.standard_normal(4), scale=_pos(4))),
        ("Bernoulli", dict(probs=rng.uniform(0.1, 0.9, 4)), dict(probs=rng.uniform(0.1, 0.9, 4))),
        ("Categorical", dict(probs=_simplex(3, 5)), dict(probs=_simplex(3, 5))),
        ("OneHotCategorical", dict(logits=rng.standard_normal((3, 5))), dict(logits=rng.standard_normal((3, 5)))),
        ("Uniform", dict(low=np.zeros(3), high=np.ones(3)), dict(low=-np.ones(3), high=np.array([2.0, 0.5, 3.0]))),
        ("Exponential", dict(rate=_pos(4)), dict(rate=_pos(4))),
        ("Laplace", dict(loc=rng.standard_normal(4), scale=_pos(4)), dict(loc=rng.standard_normal(4), scale=_pos(4))),
        ("Gamma", dict(concentration=_pos(4), rate=_pos(4)), dict(concentration=_pos(4), rate=_pos(4))),
        ("Beta", dict(concentration1=_pos(4), concentration0=_pos(4)),
         dict(concentration1=_pos(4), concentration0=_pos(4))),
        ("Dirichlet", dict(concentration=_pos(2, 4)), dict(concentration=_pos(2, 4))),
        ("MultivariateNormal", dict(loc=rng.standard_normal((2, 3)), covariance_matrix=_spd((2,), 3)),
         dict(loc=rng.standard_normal(3), scale_tril=np.linalg.cholesky(_spd((), 3)))),
    ]


@pytest.mark.parametrize("pair", range(11))
def test_kl_divergence_matches_torch(pair):
    name, pk, qk = _kl_pairs()[pair]
    (np_, _), (nq, _) = _build(norch, name, pk), _build(norch, name, qk)
    (tp, _), (tq, _) = _build(torch, name, pk), _build(torch, name, qk)
    _close(D.kl_divergence(np_, nq), TD.kl_divergence(tp, tq))
    # Independent reinterprets the batch and sums the divergence over it
    if len(np_.batch_shape) >= 1 and len(nq.batch_shape) >= 1:
        _close(D.kl_divergence(D.Independent(np_, 1), D.Independent(nq, 1)),
               TD.kl_divergence(TD.Independent(tp, 1), TD.Independent(tq, 1)))


def test_independent_matches_torch():
    loc, scale, x = rng.standard_normal((3, 4)), _pos(3, 4), rng.standard_normal((2, 3, 4))
    n = D.Independent(D.Normal(norch.tensor(loc), norch.tensor(scale)), 1)
    t = TD.Independent(TD.Normal(torch.tensor(loc), torch.tensor(scale)), 1)
    assert tuple(n.batch_shape) == (3,) and tuple(n.event_shape) == (4,)
    _close(n.log_prob(norch.tensor(x)), t.log_prob(torch.tensor(x)))
    _close(n.entropy(), t.entropy())
    assert n.has_rsample and tuple(n.rsample((5,)).shape) == (5, 3, 4)
    with pytest.raises(ValueError, match="Expected reinterpreted_batch_ndims <= len"):
        D.Independent(D.Normal(norch.zeros(3), norch.ones(3)), 2)


def test_register_kl_and_missing_pairs():
    class MyNormal(D.Normal):
        pass

    # a subclass finds its base's KL; a registration for the subclass takes precedence
    p, q = MyNormal(norch.tensor(0.0), norch.tensor(1.0)), D.Normal(norch.tensor(1.0), norch.tensor(2.0))
    expected = float(D.kl_divergence(D.Normal(norch.tensor(0.0), norch.tensor(1.0)), q))
    assert float(D.kl_divergence(p, q)) == pytest.approx(expected)

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return norch.tensor(42.0)
    assert float(D.kl_divergence(p, q)) == 42.0
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Normal(norch.tensor(0.0), norch.tensor(1.0)), D.Exponential(norch.tensor(1.0)))
    with pytest.raises(TypeError):
        D.register_kl(1, D.Normal)


def test_validation_like_torch():
    for lib, mod in ((norch, D), (torch, TD)):
        with pytest.raises(ValueError, match="Expected parameter scale .* to satisfy the constraint "
                                             "GreaterThan\\(lower_bound=0.0\\)"):
            mod.Normal(lib.zeros(2), -lib.ones(2), validate_args=True)
        with pytest.raises(ValueError, match="Expected value argument .* to be within the support"):
            mod.Exponential(lib.ones(2), validate_args=True).log_prob(-lib.ones(2))
        with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
            mod.Bernoulli()
        with pytest.raises(ValueError, match="must be at least one-dimensional"):
            mod.Categorical(lib.tensor(0.5))
        with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
            mod.Normal(lib.zeros(2), lib.ones(2), validate_args=True).log_prob(0.5)
        with pytest.raises(ValueError, match="Value is not broadcastable with batch_shape\\+event_shape"):
            mod.Normal(lib.zeros(2), lib.ones(2), validate_args=True).log_prob(lib.zeros(3))
        with pytest.raises(ValueError, match="Exactly one of covariance_matrix or precision_matrix or scale_tril"):
            mod.MultivariateNormal(lib.zeros(2))
        # validation off: no check
        mod.Normal(lib.zeros(2), -lib.ones(2), validate_args=False)


def test_constraints_match_torch():
    from norch.distributions import constraints as C
    from torch.distributions import constraints as TC
    x = rng.standard_normal((4, 3))
    for name in ("real", "positive", "nonnegative", "unit_interval", "boolean", "simplex"):
        np.testing.assert_array_equal(getattr(C, name).check(norch.tensor(x)).numpy(),
                                      getattr(TC, name).check(torch.tensor(x)).numpy(), err_msg=name)
    np.testing.assert_array_equal(C.interval(-0.5, 0.5).check(norch.tensor(x)).numpy(),
                                  TC.interval(-0.5, 0.5).check(torch.tensor(x)).numpy())
    assert C.is_dependent(D.Uniform(0.0, 1.0).arg_constraints["low"])
    for name in ("positive", "unit_interval", "real_vector", "nonnegative_integer", "simplex"):
        assert repr(getattr(C, name)) == repr(getattr(TC, name)), name

"""Optimizers: trajectories against torch.optim from identical starts, state dicts, errors."""
import numpy as np
import pytest
import torch  # the oracle for these tests

import norch
import norch.optim as optim

rng = np.random.default_rng(0)
P0 = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
A = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
B = [rng.standard_normal((3, 4)), rng.standard_normal(5)]

# (norch class name, kwargs): one row per option combination worth covering.
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.5, weight_decay=0.1)),
]


def _loss(lib, params):
    # A quadratic plus a cubic term so gradients change between steps.
    total = 0
    for p, a, b in zip(params, A, B):
        a_t, b_t = lib.tensor(a), lib.tensor(b)
        total = total + ((p * a_t - b_t) ** 2).sum() + (p * p * p).sum() * 0.1
    return total


def _run(lib, opt_cls, kwargs, steps, params=None, opt=None, foreach=None):
    if params is None:
        params = [lib.tensor(p.copy(), requires_grad=True) for p in P0]
    if opt is None:
        extra = {} if foreach is None else {"foreach": foreach}
        opt = opt_cls(params, **kwargs, **extra)
    for _ in range(steps):
        opt.zero_grad()
        _loss(lib, params).backward()
        opt.step()
    return params, opt


def _np(t):
    return t.detach().numpy()


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_matches_torch(name, kwargs):
    ours, _ = _run(norch, getattr(optim, name), kwargs, 5, foreach=False)
    ref, _ = _run(torch, getattr(torch.optim, name), kwargs, 5)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_fused_matches_reference(name, kwargs):
    ours, _ = _run(norch, getattr(optim, name), kwargs, 5)
    ref, _ = _run(norch, getattr(optim, name), kwargs, 5, foreach=False)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-10, atol=1e-12)


def test_sgd_closed_form_float32():
    p = norch.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.5, momentum=0.5)
    for _ in range(2):
        opt.zero_grad()
        (p * p).sum().backward()      # grad = 2p
        opt.step()
    # step 1: buf = 2p0, p1 = p0 - 0.5*2p0 = 0;  step 2: grad 0, buf = 0.5*2p0, p2 = -0.5*p0
    np.testing.assert_allclose(p.detach().numpy(), [-0.5, 1.0])
    assert p.dtype == norch.float32


def test_param_groups_with_own_options():
    w = norch.tensor(P0[0].copy(), requires_grad=True)
    b = norch.tensor(P0[1].copy(), requires_grad=True)
    opt = optim.SGD([{"params": [w]}, {"params": b, "lr": 0.01}], lr=0.1, momentum=0.9)
    tw = torch.tensor(P0[0].copy(), requires_grad=True)
    tb = torch.tensor(P0[1].copy(), requires_grad=True)
    topt = torch.optim.SGD([{"params": [tw]}, {"params": tb, "lr": 0.01}], lr=0.1, momentum=0.9)
    _run(norch, None, None, 3, [w, b], opt)
    _run(torch, None, None, 3, [tw, tb], topt)
    np.testing.assert_allclose(_np(w), _np(tw), rtol=1e-12)
    np.testing.assert_allclose(_np(b), _np(tb), rtol=1e-12)
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.9


@pytest.mark.parametrize("name,kwargs", [CASES[2], CASES[7], CASES[12], CASES[14]])
def test_state_dict_resume_equals_uninterrupted(name, kwargs):
    cls = getattr(optim, name)
    straight, _ = _run(norch, cls, kwargs, 4)
    params, opt = _run(norch, cls, kwargs, 2)
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 1]
    assert sd["param_groups"][0]["params"] == [0, 1]
    fresh = [p.detach().clone().requires_grad_(True) for p in params]
    opt2 = cls(fresh, lr=123.0)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == kwargs["lr"]
    _run(norch, None, None, 2, fresh, opt2)
    for a, b in zip(fresh, straight):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12)


def test_state_dict_format_matches_torch():
    params, opt = _run(norch, optim.Adam, dict(lr=0.01), 2)
    tparams, topt = _run(torch, torch.optim.Adam, dict(lr=0.01), 2)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert set(sd["state"][0]) == set(tsd["state"][0])
    assert float(sd["state"][0]["step"].item()) == float(tsd["state"][0]["step"])
    np.testing.assert_allclose(_np(sd["state"][1]["exp_avg_sq"]), tsd["state"][1]["exp_avg_sq"].numpy())
    ours = {k: v for k, v in sd["param_groups"][0].items()}
    theirs = {k: v for k, v in tsd["param_groups"][0].items()}
    assert ours["params"] == theirs["params"] == [0, 1]
    for key in ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"):
        assert ours[key] == theirs[key], key


def test_load_state_dict_does_not_alias_and_casts():
    params, opt = _run(norch, optim.SGD, dict(lr=0.1, momentum=0.9), 1)
    sd = opt.state_dict()
    p32 = [norch.tensor(p.copy(), dtype=norch.float32, requires_grad=True) for p in P0]
    opt2 = optim.SGD(p32, lr=0.1, momentum=0.9)
    opt2.load_state_dict(sd)
    buf = opt2.state[p32[0]]["momentum_buffer"]
    assert buf.dtype == norch.float32
    buf.zero_()
    assert np.abs(_np(sd["state"][0]["momentum_buffer"])).sum() > 0


def test_load_state_dict_mismatch_errors():
    _, opt = _run(norch, optim.SGD, dict(lr=0.1), 1)
    sd = opt.state_dict()
    other = optim.SGD([norch.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size"):
        other.load_state_dict(sd)
    two = optim.SGD([{"params": [norch.zeros(1, requires_grad=True)]},
                     {"params": [norch.zeros(1, requires_grad=True)]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        two.load_state_dict(sd)


def test_zero_grad():
    p = norch.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    (p * 3).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_params_without_grad_are_skipped():
    p = norch.tensor([1.0, 2.0], requires_grad=True)
    q = norch.tensor([5.0], requires_grad=True)
    opt = optim.Adam([p, q], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    assert q.item() == 5.0 and q not in opt.state
    assert p in opt.state


def test_closure_returns_loss_and_runs_with_grad():
    p = norch.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with norch.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 1.0
    np.testing.assert_allclose(p.detach().numpy(), [0.8], rtol=1e-6)


def test_step_records_no_graph():
    p = norch.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    assert p.is_leaf and p.grad_fn is None
    assert opt.state[p]["exp_avg"].grad_fn is None


def test_add_param_group_and_duplicates():
    p = norch.zeros(2, requires_grad=True)
    q = norch.zeros(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.3)
    opt.add_param_group({"params": [q], "lr": 0.5})
    assert opt.param_groups[1]["momentum"] == 0.3 and opt.param_groups[1]["lr"] == 0.5
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {norch.zeros(1, requires_grad=True)}})


@pytest.mark.parametrize("make,exc,match", [
    (lambda p: optim.SGD([p], lr=-1), ValueError, "Invalid learning rate"),
    (lambda p: optim.SGD([p], lr=0.1, momentum=-0.5), ValueError, "Invalid momentum"),
    (lambda p: optim.SGD([p], lr=0.1, nesterov=True), ValueError, "Nesterov momentum requires"),
    (lambda p: optim.SGD([p], lr=0.1, weight_decay=-1), ValueError, "Invalid weight_decay"),
    (lambda p: optim.Adam([p], betas=(1.0, 0.9)), ValueError, "Invalid beta parameter at index 0"),
    (lambda p: optim.Adam([p], betas=(0.9, -0.1)), ValueError, "Invalid beta parameter at index 1"),
    (lambda p: optim.AdamW([p], eps=-1), ValueError, "Invalid epsilon"),
    (lambda p: optim.RMSprop([p], alpha=-1), ValueError, "Invalid alpha"),
    (lambda p: optim.Adagrad([p], lr_decay=-1), ValueError, "Invalid lr_decay"),
    (lambda p: optim.Adagrad([p], initial_accumulator_value=-1), ValueError, "initial_accumulator_value"),
    (lambda p: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
    (lambda p: optim.SGD(p, lr=0.1), TypeError, "iterable of Tensors or dicts"),
    (lambda p: optim.SGD([p, 1.0], lr=0.1), TypeError, "can only optimize Tensors"),
    (lambda p: optim.SGD([p * 2], lr=0.1), ValueError, "non-leaf"),
])
def test_bad_arguments(make, exc, match):
    p = norch.zeros(2, requires_grad=True)
    with pytest.raises(exc, match=match):
        make(p)


def test_defaults_match_torch():
    p = norch.zeros(1, requires_grad=True)
    tp = torch.zeros(1, requires_grad=True)
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
        ours = getattr(optim, name)([p]).defaults
        theirs = getattr(torch.optim, name)([tp]).defaults
        for key in ("lr", "momentum", "betas", "eps", "weight_decay", "alpha", "lr_decay", "amsgrad",
                    "centered", "nesterov", "dampening", "initial_accumulator_value"):
            if key in theirs:
                assert ours[key] == theirs[key], (name, key)

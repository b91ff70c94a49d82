"""Optimizers: trajectories against torch.optim from identical starts, state dicts, errors;
the fused update steps (norch._C._optim) against torch.optim step by step."""
import numpy as np
import pytest
import torch  # the oracle for these tests

import norch
import norch.optim as optim

from _oracle import arr, nt, to_np

_optim = norch._C._optim

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
        a_t, b_t = lib.tensor(a, device=p.device), lib.tensor(b, device=p.device)
        total = total + ((p * a_t - b_t) ** 2).sum() + (p * p * p).sum() * 0.1
    return total


def _run(lib, opt_cls, kwargs, steps, params=None, opt=None, foreach=None, device="cpu"):
    if params is None:
        params = [lib.tensor(p.copy(), requires_grad=True, device=device) for p in P0]
    if opt is None:
        extra = {} if foreach is None else {"foreach": foreach}
        opt = opt_cls(params, **kwargs, **extra)
    for _ in range(steps):
        opt.zero_grad()
        _loss(lib, params).backward()
        opt.step()
    return params, opt


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_matches_torch(name, kwargs, device):
    ours, _ = _run(norch, getattr(optim, name), kwargs, 5, foreach=False, device=device)
    ref, _ = _run(torch, getattr(torch.optim, name), kwargs, 5)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_fused_matches_reference(name, kwargs, device):
    ours, _ = _run(norch, getattr(optim, name), kwargs, 5, device=device)
    ref, _ = _run(norch, getattr(optim, name), kwargs, 5, foreach=False)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-10, atol=1e-12)


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
    np.testing.assert_allclose(to_np(w), to_np(tw), rtol=1e-12)
    np.testing.assert_allclose(to_np(b), to_np(tb), rtol=1e-12)
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.9


@pytest.mark.parametrize("name,kwargs", [CASES[2], CASES[7], CASES[12], CASES[14]])
def test_state_dict_resume_equals_uninterrupted(name, kwargs, device):
    cls = getattr(optim, name)
    straight, _ = _run(norch, cls, kwargs, 4, device=device)
    params, opt = _run(norch, cls, kwargs, 2, device=device)
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 1]
    assert sd["param_groups"][0]["params"] == [0, 1]
    fresh = [p.detach().clone().requires_grad_(True) for p in params]
    opt2 = cls(fresh, lr=123.0)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == kwargs["lr"]
    _run(norch, None, None, 2, fresh, opt2)
    for a, b in zip(fresh, straight):
        np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-12)


def test_state_dict_format_matches_torch():
    params, opt = _run(norch, optim.Adam, dict(lr=0.01), 2)
    tparams, topt = _run(torch, torch.optim.Adam, dict(lr=0.01), 2)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert set(sd["state"][0]) == set(tsd["state"][0])
    assert float(sd["state"][0]["step"].item()) == float(tsd["state"][0]["step"])
    np.testing.assert_allclose(to_np(sd["state"][1]["exp_avg_sq"]), tsd["state"][1]["exp_avg_sq"].numpy())
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
    assert np.abs(to_np(sd["state"][0]["momentum_buffer"])).sum() > 0


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


# ---- the fused steps of norch._C._optim, one call at a time, against torch.optim ---------

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
    p = np.asarray(arr(3, 4), dtype=np.float32)
    g = np.asarray(arr(4, 3), dtype=np.float32)
    np_ = nt(p).t()  # a non-contiguous parameter view is updated in place
    _optim.sgd_step_([np_], [nt(g)], [None], lr=0.5)
    np.testing.assert_allclose(np_.numpy(), p.T - 0.5 * g, rtol=1e-6)
    with pytest.raises(RuntimeError, match="shape"):
        _optim.sgd_step_([nt(arr(2))], [nt(arr(3))], [None], lr=0.1)
    with pytest.raises(RuntimeError, match="expected 1 grads"):
        _optim.sgd_step_([nt(arr(2))], [], [None], lr=0.1)
    with pytest.raises(RuntimeError, match="Nesterov"):
        _optim.sgd_step_([nt(arr(2))], [nt(arr(2))], [None], lr=0.1, nesterov=True)
    with pytest.raises(RuntimeError, match="step"):
        _optim.adam_step_([nt(arr(2))], [nt(arr(2))], [nt(arr(2))], [nt(arr(2))], None, 0, lr=0.1)

"""norch.amp.GradScaler against torch.amp.GradScaler("cpu"): the same model, data and
scaler settings give the same scale trajectory, the same skipped steps and the same
weights; and the state machine refuses misuse with PyTorch's errors."""
import warnings

import numpy as np
import pytest
import torch

import norch
from norch.amp import GradScaler


def _pair(seed=0):
    rng = np.random.default_rng(seed)
    w1, b1 = rng.standard_normal((8, 4)).astype("float32"), rng.standard_normal(8).astype("float32")
    w2, b2 = rng.standard_normal((1, 8)).astype("float32"), rng.standard_normal(1).astype("float32")
    nets = []
    for lib in (norch, torch):
        net = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 1))
        with lib.no_grad():
            for p, v in zip(net.parameters(), (w1, b1, w2, b2)):
                p.copy_(lib.tensor(v))
        nets.append(net)
    return nets


def _trajectory(lib, net, scaler, steps, data, clip=None):
    opt = lib.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    scales, trackers = [], []
    for x, y in data[:steps]:
        opt.zero_grad()
        loss = ((net(lib.tensor(x)) - lib.tensor(y)) ** 2).mean()
        scaler.scale(loss).backward()
        if clip is not None:
            scaler.unscale_(opt)
            lib.nn.utils.clip_grad_norm_(net.parameters(), clip)
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
        trackers.append(scaler._get_growth_tracker())
    return scales, trackers, [p.detach().numpy().copy() for p in net.parameters()]


def _data(n=12, seed=1):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((16, 4)).astype("float32"), rng.standard_normal((16, 1)).astype("float32"))
            for _ in range(n)]


@pytest.mark.parametrize("init_scale,growth_interval,clip", [
    (2.0**16, 3, None),       # clean steps: the scale grows every 3 steps
    (2.0**126, 2, None),      # float32 gradients overflow: steps are skipped and the scale backs off
    (2.0**125, 2, 0.5),       # unscale_ before clipping, then step
])
def test_trajectory_matches_torch(init_scale, growth_interval, clip):
    nn_net, t_net = _pair()
    data = _data()
    kw = dict(init_scale=init_scale, growth_factor=2.0, backoff_factor=0.5, growth_interval=growth_interval)
    ns, nt, nw = _trajectory(norch, nn_net, GradScaler("cpu", **kw), 12, data, clip)
    ts, tt, tw = _trajectory(torch, t_net, torch.amp.GradScaler("cpu", **kw), 12, data, clip)
    assert ns == ts
    assert nt == tt
    for a, b in zip(nw, tw):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_overflow_skips_the_step_and_leaves_weights():
    net, _ = _pair()
    before = [p.detach().clone() for p in net.parameters()]
    opt = norch.optim.SGD(net.parameters(), lr=0.1)
    scaler = GradScaler("cpu", init_scale=1e38)
    loss = (net(norch.ones(2, 4)) * 1e10).sum()
    scaler.scale(loss).backward()
    assert scaler.step(opt) is None
    for p, q in zip(net.parameters(), before):
        assert norch.equal(p, q)
    scaler.update()
    assert scaler.get_scale() == pytest.approx(5e37, rel=1e-6)


def test_scale_of_nested_outputs_and_disabled_passthrough():
    s = GradScaler("cpu", init_scale=4.0)
    a, (b,) = s.scale([norch.tensor(1.0), (norch.tensor([2.0, 3.0]),)])
    assert a.item() == 4.0 and b.tolist() == [8.0, 12.0]
    off = GradScaler("cpu", enabled=False)
    t = norch.tensor(2.0)
    assert off.scale(t) is t and off.get_scale() == 1.0 and off.state_dict() == {}
    with pytest.raises(ValueError, match="Tensor or an iterable"):
        s.scale(3.0)


def test_state_machine_errors_match_torch():
    net, _ = _pair()
    opt = norch.optim.SGD(net.parameters(), lr=0.1)
    s = GradScaler("cpu")
    with pytest.raises(RuntimeError, match="_scale is None"):
        s.unscale_(opt)
    s.scale(net(norch.ones(1, 4)).sum()).backward()
    s.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called on this optimizer"):
        s.unscale_(opt)
    s.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        s.step(opt)
    with pytest.raises(RuntimeError, match="after step"):
        s.unscale_(opt)
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        s.step(opt, closure=lambda: 0.0)
    s.update()
    with pytest.raises(AssertionError, match="No inf checks were recorded prior to update"):
        s.update()
    with pytest.raises(ValueError, match="growth factor"):
        GradScaler("cpu", growth_factor=1.0)
    with pytest.raises(ValueError, match="backoff factor"):
        GradScaler("cpu", backoff_factor=1.0)


def test_update_with_new_scale_and_state_dict_roundtrip():
    net, _ = _pair()
    opt = norch.optim.SGD(net.parameters(), lr=0.1)
    s = GradScaler("cpu", growth_interval=7)
    s.scale(net(norch.ones(1, 4)).sum()).backward()
    s.step(opt)
    s.update(new_scale=128.0)
    assert s.get_scale() == 128.0
    s.scale(net(norch.ones(1, 4)).sum()).backward()
    s.step(opt)
    s.update(norch.tensor([32.0]))
    assert s.get_scale() == 32.0
    with pytest.raises(ValueError, match="new_scale"):
        s.update(norch.tensor([1.0, 2.0]))
    sd = s.state_dict()
    assert sd == {"scale": 32.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 7,
                  "_growth_tracker": 0}
    r = GradScaler("cpu")
    r.load_state_dict(sd)
    assert r.get_scale() == 32.0 and r.get_growth_interval() == 7
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        r.load_state_dict({})


def test_default_cuda_scaler_is_enabled_only_with_a_gpu():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        s = GradScaler()
    warned = any("CUDA is not available" in str(x.message) for x in w)
    assert s.is_enabled() == norch.cuda.is_available()
    assert warned == (not norch.cuda.is_available())


def test_fp16_gradients_are_refused_by_public_unscale():
    if not hasattr(norch, "float16"):
        pytest.fail("norch.float16 is missing")
    p = norch.zeros(3, dtype=norch.float16, requires_grad=True)
    p.grad = norch.ones(3, dtype=norch.float16)
    opt = norch.optim.SGD([p], lr=0.1)
    s = GradScaler("cpu")
    s.scale(norch.tensor(1.0))
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
        s.unscale_(opt)

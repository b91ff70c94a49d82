"""norch.optim.swa_utils against torch.optim.swa_utils: averaged weights (SWA mean, EMA, with and
without buffers), update_bn's recomputed statistics, the SWALR schedule, and the errors."""
import numpy as np
import pytest

import norch
from norch.optim import swa_utils

import torch  # the oracle: required, never skipped
tswa = torch.optim.swa_utils

rng = np.random.default_rng(3)
X = rng.standard_normal((16, 3))
T = rng.standard_normal((16, 1))


def _models():
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Tanh(),
                                 torch.nn.Linear(4, 1)).double()
    model = norch.nn.Sequential(norch.nn.Linear(3, 4), norch.nn.BatchNorm1d(4), norch.nn.Tanh(),
                                norch.nn.Linear(4, 1)).double()
    with norch.no_grad():
        for p, tp in zip(model.parameters(), tmodel.parameters()):
            p.copy_(norch.tensor(tp.detach().numpy()))
    return model, tmodel


def _train_and_average(lib, model, averaged, steps):
    opt = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.5)
    x, t = lib.tensor(X), lib.tensor(T)
    for _ in range(steps):
        opt.zero_grad()
        ((model(x) - t) ** 2).mean().backward()
        opt.step()
        averaged.update_parameters(model)


def _state(module):
    return [t.detach().numpy().copy() for t in list(module.parameters()) + list(module.buffers())]


AVERAGING = {
    "swa": lambda m: dict(),
    "ema-multi": lambda m: dict(multi_avg_fn=m.get_ema_multi_avg_fn(0.9)),
    "ema-single": lambda m: dict(avg_fn=m.get_ema_avg_fn(0.8)),
    "swa-single": lambda m: dict(avg_fn=m.get_swa_avg_fn()),
    "swa-buffers": lambda m: dict(use_buffers=True),
    "swa-multi": lambda m: dict(multi_avg_fn=m.get_swa_multi_avg_fn()),
    "ema-buffers": lambda m: dict(multi_avg_fn=m.get_ema_multi_avg_fn(0.7), use_buffers=True),
}


@pytest.mark.parametrize("kind", sorted(AVERAGING))
def test_averaged_model_matches_torch(kind):
    model, tmodel = _models()
    averaged = swa_utils.AveragedModel(model, **AVERAGING[kind](swa_utils))
    taveraged = tswa.AveragedModel(tmodel, **AVERAGING[kind](tswa))
    _train_and_average(norch, model, averaged, 12)
    _train_and_average(torch, tmodel, taveraged, 12)
    assert averaged.n_averaged.item() == taveraged.n_averaged.item() == 12
    for a, b in zip(_state(averaged), _state(taveraged)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    # The copy is independent of the model it averages.
    assert all(p is not q for p, q in zip(averaged.module.parameters(), model.parameters()))
    averaged.eval()
    taveraged.eval()
    np.testing.assert_allclose(averaged(norch.tensor(X)).detach().numpy(), taveraged(torch.tensor(X)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)


def test_update_bn_matches_torch():
    model, tmodel = _models()
    averaged, taveraged = swa_utils.AveragedModel(model), tswa.AveragedModel(tmodel)
    _train_and_average(norch, model, averaged, 5)
    _train_and_average(torch, tmodel, taveraged, 5)
    loader = [(norch.tensor(X[i:i + 4]), norch.tensor(T[i:i + 4])) for i in range(0, 16, 4)]
    tloader = [(torch.tensor(X[i:i + 4]), torch.tensor(T[i:i + 4])) for i in range(0, 16, 4)]
    averaged.eval()
    taveraged.eval()
    swa_utils.update_bn(loader, averaged)
    tswa.update_bn(tloader, taveraged)
    bn, tbn = averaged.module[1], taveraged.module[1]
    np.testing.assert_allclose(bn.running_mean.numpy(), tbn.running_mean.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), tbn.running_var.numpy(), rtol=1e-10, atol=1e-12)
    assert bn.num_batches_tracked.item() == tbn.num_batches_tracked.item() == 4
    assert bn.momentum == 0.1 and not averaged.training
    swa_utils.update_bn(loader, norch.nn.Linear(3, 1))  # no BatchNorm: nothing to do


SWALR_CASES = [
    dict(swa_lr=0.05),
    dict(swa_lr=[0.05, 0.2], anneal_epochs=4, anneal_strategy="linear"),
    dict(swa_lr=0.01, anneal_epochs=0),
]


@pytest.mark.parametrize("kwargs", SWALR_CASES, ids=["cos", "linear", "no-anneal"])
def test_swalr_sequence_and_state_dict(kwargs):
    def optimizer(lib):
        return lib.optim.SGD([{"params": [lib.zeros(2, requires_grad=True)]},
                              {"params": [lib.zeros(1, requires_grad=True)], "lr": 0.5}], lr=0.1)

    opt, topt = optimizer(norch), optimizer(torch)
    s, ts = swa_utils.SWALR(opt, **kwargs), tswa.SWALR(topt, **kwargs)
    ours, ref = [s.get_last_lr()], [ts.get_last_lr()]
    for _ in range(15):
        opt.step()
        topt.step()
        s.step()
        ts.step()
        ours.append(s.get_last_lr())
        ref.append(ts.get_last_lr())
    np.testing.assert_allclose(ours, ref, rtol=1e-13, atol=1e-15)
    sd = s.state_dict()
    assert "anneal_func" not in sd and sd["_anneal_strategy"] == kwargs.get("anneal_strategy", "cos")
    s2 = swa_utils.SWALR(optimizer(norch), swa_lr=1.0, anneal_strategy="cos")
    s2.load_state_dict(sd)
    assert s2.anneal_func is s2._linear_anneal if sd["_anneal_strategy"] == "linear" else s2._cosine_anneal


@pytest.mark.parametrize("make,exc", [
    (lambda m, o, mdl: m.get_ema_avg_fn(1.5), ValueError),
    (lambda m, o, mdl: m.get_ema_multi_avg_fn(-0.1), ValueError),
    (lambda m, o, mdl: m.SWALR(o, 0.1, anneal_strategy="exp"), ValueError),
    (lambda m, o, mdl: m.SWALR(o, 0.1, anneal_epochs=-1), ValueError),
    (lambda m, o, mdl: m.SWALR(o, [0.1, 0.2]), ValueError),
    (lambda m, o, mdl: m.AveragedModel(mdl, avg_fn=m.get_swa_avg_fn(), multi_avg_fn=m.get_swa_multi_avg_fn()),
     AssertionError),
])
def test_errors_match_torch(make, exc):
    with pytest.raises(exc) as expected:
        make(tswa, torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), torch.nn.Linear(1, 1))
    with pytest.raises(exc) as got:
        make(swa_utils, norch.optim.SGD([norch.zeros(1, requires_grad=True)], lr=0.1), norch.nn.Linear(1, 1))
    assert str(got.value) == str(expected.value)


def test_public_names_match_torch():
    assert set(swa_utils.__all__) == set(tswa.__all__)

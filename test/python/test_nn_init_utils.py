"""nn.init (gains, statistics, seeding, orthogonal, errors, the layers' default
parameters) and nn.utils (clip_grad_norm_/clip_grad_value_, parameters_to_vector,
ParameterList/ParameterDict), checked against PyTorch and closed forms."""
import math

import numpy as np
import pytest
import torch  # the oracle for these tests

import norch
import norch.nn as nn


# ---- init --------------------------------------------------------------------------------
def test_calculate_gain():
    assert nn.init.calculate_gain("linear") == 1
    assert nn.init.calculate_gain("relu") == math.sqrt(2)
    assert nn.init.calculate_gain("tanh") == 5 / 3
    assert nn.init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert nn.init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError):
        nn.init.calculate_gain("bogus")
    with pytest.raises(ValueError):
        nn.init.calculate_gain("leaky_relu", "x")


@pytest.mark.parametrize("fn,kwargs,check", [
    (nn.init.uniform_, {"a": -2.0, "b": 3.0}, lambda v: v.min() >= -2 and v.max() <= 3 and abs(v.mean() - 0.5) < 0.1),
    (nn.init.normal_, {"mean": 1.0, "std": 2.0}, lambda v: abs(v.mean() - 1) < 0.1 and abs(v.std() - 2) < 0.1),
    (nn.init.xavier_uniform_, {}, lambda v: abs(v.std() - math.sqrt(2 / (200 + 300))) < 0.005
     and np.abs(v).max() <= math.sqrt(6 / 500)),
    (nn.init.xavier_normal_, {"gain": 2.0}, lambda v: abs(v.std() - 2 * math.sqrt(2 / 500)) < 0.01),
    (nn.init.kaiming_uniform_, {"nonlinearity": "relu"},
     lambda v: np.abs(v).max() <= math.sqrt(6 / 300) and abs(v.std() - math.sqrt(2 / 300)) < 0.005),
    (nn.init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"},
     lambda v: abs(v.std() - math.sqrt(2 / 200)) < 0.005),
    (nn.init.trunc_normal_, {"std": 1.0, "a": -1.0, "b": 1.5}, lambda v: v.min() >= -1 and v.max() <= 1.5),
    (nn.init.constant_, {"val": 0.25}, lambda v: (v == 0.25).all()),
    (nn.init.zeros_, {}, lambda v: (v == 0).all()),
    (nn.init.ones_, {}, lambda v: (v == 1).all()),
    (nn.init.eye_, {}, lambda v: (v == np.eye(200, 300)).all()),
])
def test_init_statistics(fn, kwargs, check):
    w = nn.Parameter(norch.empty(200, 300))
    out = fn(w, **kwargs)
    assert out is w and w.requires_grad and w.grad_fn is None
    assert check(w.detach().numpy().astype(np.float64))


def test_init_follows_norch_seed_and_generator():
    norch.manual_seed(3)
    a = nn.Linear(4, 5).weight.detach().numpy()
    norch.manual_seed(3)
    b = nn.Linear(4, 5).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)
    w1, w2 = norch.empty(3, 3), norch.empty(3, 3)
    nn.init.kaiming_normal_(w1, generator=norch.Generator().manual_seed(5))
    nn.init.kaiming_normal_(w2, generator=norch.Generator().manual_seed(5))
    np.testing.assert_array_equal(w1.numpy(), w2.numpy())


def test_orthogonal():
    for shape in [(6, 4), (4, 6), (3, 2, 2)]:
        w = norch.empty(*shape)
        nn.init.orthogonal_(w, gain=2.0)
        m = w.numpy().reshape(shape[0], -1)
        gram = m @ m.T if shape[0] <= m.shape[1] else m.T @ m
        np.testing.assert_allclose(gram, 4 * np.eye(gram.shape[0]), atol=1e-5)
    with pytest.raises(ValueError):
        nn.init.orthogonal_(norch.empty(3))


def test_init_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(norch.empty(3))
    with pytest.raises(ValueError, match="Mode"):
        nn.init.kaiming_uniform_(norch.empty(3, 3), mode="fan_avg")
    with pytest.warns(UserWarning):
        nn.init.kaiming_uniform_(norch.empty(0, 3))


def test_default_parameter_statistics():
    lin = nn.Linear(400, 300)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    bound = 1 / math.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    conv = nn.Conv2d(8, 16, 3)
    assert np.abs(conv.weight.detach().numpy()).max() <= 1 / math.sqrt(72)
    lstm = nn.LSTM(10, 50)
    for p in lstm.parameters():
        assert np.abs(p.detach().numpy()).max() <= 1 / math.sqrt(50)
    emb = nn.Embedding(1000, 20, padding_idx=3).weight.detach().numpy()
    assert (emb[3] == 0).all() and abs(emb.std() - 1) < 0.05
    mha = nn.MultiheadAttention(8, 2)
    assert (mha.in_proj_bias.detach().numpy() == 0).all() and (mha.out_proj.bias.detach().numpy() == 0).all()
    bn = nn.BatchNorm1d(5)
    assert (bn.weight.detach().numpy() == 1).all() and (bn.running_var.numpy() == 1).all()


# ---- nn.utils -------------------------------------------------------------------------------
def _params_with_grads(grads):
    ps = []
    for g in grads:
        p = nn.Parameter(norch.zeros(*g.shape, dtype=norch.float64))
        p.grad = norch.from_numpy(g.copy())
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clip_grad_norm(norm_type):
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 4)), rng.normal(size=(5,))]
    ours = _params_with_grads(grads)
    theirs = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for t, g in zip(theirs, grads):
        t.grad = torch.from_numpy(g.copy())
    total = nn.utils.clip_grad_norm_(ours, 0.5, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type)
    assert abs(total.item() - total_t.item()) < 1e-10
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-10)


def test_clip_grad_norm_no_clip_single_tensor_and_nonfinite():
    p = nn.Parameter(norch.zeros(3))
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0
    p.grad = norch.tensor([0.1, 0.2, 0.2])
    total = nn.utils.clip_grad_norm_(p, 10.0)
    assert abs(total.item() - 0.3) < 1e-6
    np.testing.assert_allclose(p.grad.numpy(), [0.1, 0.2, 0.2], rtol=1e-5)
    p.grad = norch.tensor([float("inf"), 1.0, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_value():
    p = nn.Parameter(norch.zeros(4))
    p.grad = norch.tensor([-3.0, -0.5, 0.5, 3.0])
    nn.utils.clip_grad_value_([p], 1.0)
    np.testing.assert_array_equal(p.grad.numpy(), [-1.0, -0.5, 0.5, 1.0])


def test_parameters_vector_round_trip():
    net = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = nn.utils.parameters_to_vector(net.parameters())
    assert tuple(vec.shape) == (11,)
    nn.utils.vector_to_parameters(norch.arange(11).float(), net.parameters())
    np.testing.assert_array_equal(net[0].weight.detach().numpy(), np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(net[1].bias.detach().numpy(), [10.0])
    with pytest.raises(TypeError):
        nn.utils.vector_to_parameters([1.0], net.parameters())


def test_parameter_list_and_dict():
    pl = nn.ParameterList([nn.Parameter(norch.ones(2, 3)), norch.zeros(4)])
    assert isinstance(pl[1], nn.Parameter) and pl[1].requires_grad and len(pl) == 2
    pl.append(norch.ones(1))
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    tpl = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2, 3)), torch.zeros(4), torch.ones(1)])
    assert repr(pl) == repr(tpl).replace("torch.", "norch.")
    pd = nn.ParameterDict({"a": norch.ones(2)})
    pd["b"] = nn.Parameter(norch.zeros(3))
    assert list(pd.keys()) == ["a", "b"] and "a" in pd and isinstance(pd["a"], nn.Parameter)
    tpd = torch.nn.ParameterDict({"a": torch.ones(2), "b": torch.nn.Parameter(torch.zeros(3))})
    assert repr(pd) == repr(tpd).replace("torch.", "norch.")
    holder = nn.Module()
    holder.ps = pl
    assert [n for n, _ in holder.named_parameters()] == ["ps.0", "ps.1", "ps.2"]

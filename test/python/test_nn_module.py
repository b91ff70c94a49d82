"""Tests of nn.Module mechanics: registration, traversal, state_dict, modes, hooks,
conversion, repr, containers, Parameter. nn.init and nn.utils: test_nn_init_utils.py."""
import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch  # the oracle for these tests

import norch
import norch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.block = nn.Sequential(nn.Linear(4, 4), nn.Tanh())
        self.scale = nn.Parameter(norch.ones(1))
        self.register_buffer("steps", norch.zeros(1))
        self.register_buffer("scratch", norch.zeros(2), persistent=False)

    def forward(self, x):
        return self.block(self.act(self.fc1(x))) * self.scale


# ---- Parameter ------------------------------------------------------------------
def test_parameter_is_tensor_alias_with_grad():
    t = norch.ones(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, norch.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and not t.requires_grad
    assert p._storage_id() == t._storage_id()
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")
    (p * 2).sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), np.full((2, 3), 2.0))


def test_parameter_deepcopy_owns_storage():
    p = nn.Parameter(norch.ones(2))
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q.requires_grad
    assert q._storage_id() != p._storage_id()


def test_parameter_rejects_non_tensor():
    with pytest.raises(TypeError):
        nn.Parameter([1.0, 2.0])


# ---- registration -------------------------------------------------------------------
def test_registration_by_assignment():
    net = Net()
    assert list(net._parameters) == ["scale"]
    assert list(net._modules) == ["fc1", "act", "block"]
    assert list(net._buffers) == ["steps", "scratch"]
    assert net.fc1.weight is net._modules["fc1"]._parameters["weight"]
    net.extra = nn.Parameter(norch.zeros(2))
    assert "extra" in net._parameters
    del net.extra
    assert "extra" not in net._parameters
    with pytest.raises(AttributeError):
        net.extra


def test_assignment_type_errors():
    net = Net()
    with pytest.raises(TypeError, match="parameter 'scale'"):
        net.scale = norch.ones(1)
    net.scale = None
    assert net._parameters["scale"] is None
    with pytest.raises(TypeError):
        net.fc1 = 3
    with pytest.raises(TypeError):
        net.steps = 3
    net.steps = norch.ones(1)
    assert net._buffers["steps"].item() == 1.0
    with pytest.raises(KeyError, match="contain"):
        net.register_buffer("a.b", norch.ones(1))
    with pytest.raises(KeyError, match="already exists"):
        net.register_parameter("forward", None)
    with pytest.raises(TypeError):
        net.add_module("x", 3)


def test_assign_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(norch.ones(1))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_forward_missing():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


# ---- traversal ------------------------------------------------------------------
def test_named_parameters_order_and_prefix():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "fc1.weight", "fc1.bias", "block.0.weight", "block.0.bias"]
    assert [n for n, _ in net.named_parameters(prefix="model")][:2] == ["model.scale", "model.fc1.weight"]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert len(list(net.parameters())) == 5
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "block"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "block", "block.0", "block.1"]
    assert len(list(net.modules())) == 6 and len(list(net.children())) == 3


def test_shared_parameters_and_modules_deduplicated():
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, shared)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    assert [n for n, _ in seq.named_modules()] == ["", "0"]
    assert [n for n, _ in seq.named_modules(remove_duplicate=False)] == ["", "0", "1"]


def test_get_submodule_parameter_buffer():
    net = Net()
    assert net.get_submodule("block.0") is net.block[0]
    assert net.get_parameter("block.0.weight") is net.block[0].weight
    assert net.get_buffer("steps") is net.steps
    with pytest.raises(AttributeError):
        net.get_submodule("block.7")


# ---- state_dict ----------------------------------------------------------------------
def test_state_dict_keys_and_detached_values():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["scale", "steps", "fc1.weight", "fc1.bias", "block.0.weight", "block.0.bias"]
    assert not sd["fc1.weight"].requires_grad
    assert sd["fc1.weight"]._storage_id() == net.fc1.weight._storage_id()
    assert net.state_dict(keep_vars=True)["fc1.weight"] is net.fc1.weight


def test_state_dict_round_trip():
    a, b = Net(), Net()
    a.steps.fill_(7.0)
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for (na, pa), (nb, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert na == nb
        np.testing.assert_array_equal(pa.numpy(), pb.numpy())
    x = norch.ones(2, 3)
    np.testing.assert_allclose(a(x).detach().numpy(), b(x).detach().numpy())


def test_load_state_dict_strict_errors():
    net = Net()
    sd = net.state_dict()
    del sd["fc1.bias"]
    sd["fc1.extra"] = norch.ones(1)
    sd["scratch"] = norch.ones(2)  # non-persistent: unexpected
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "fc1.bias".' in msg
    assert '"fc1.extra"' in msg and '"scratch"' in msg
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["fc1.bias"]
    assert sorted(result.unexpected_keys) == ["fc1.extra", "scratch"]


def test_load_state_dict_shape_mismatch():
    net = Net()
    sd = net.state_dict()
    sd["fc1.weight"] = norch.ones(5, 5)
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1.weight: copying a param with shape"):
        net.load_state_dict(sd)
    with pytest.raises(RuntimeError, match="size mismatch"):
        net.load_state_dict(sd, strict=False)
    with pytest.raises(TypeError):
        net.load_state_dict([1, 2])


def test_load_state_dict_from_torch_model():
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    sd = OrderedDict((k, norch.from_numpy(v.detach().numpy().copy())) for k, v in tnet.state_dict().items())
    assert list(sd) == list(net.state_dict())
    net.load_state_dict(sd)
    np.testing.assert_array_equal(net[2].weight.detach().numpy(), tnet[2].weight.detach().numpy())


# ---- modes, grads, apply, conversion ----------------------------------------------
def test_train_eval_propagate():
    net = Net()
    assert net.training and net.block[1].training
    assert net.eval() is net
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.block.train(False)
    assert net.training and not net.block[0].training
    with pytest.raises(ValueError):
        net.train("yes")


def test_zero_grad_and_requires_grad():
    net = Net()
    net(norch.ones(2, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum().item()) == 0.0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "Linear", "Tanh", "Sequential", "Net"]


def test_to_dtype_and_back():
    net = Net()
    w = net.fc1.weight.detach().numpy().copy()
    assert net.double() is net
    assert net.fc1.weight.dtype == norch.float64 and isinstance(net.fc1.weight, nn.Parameter)
    assert net.fc1.weight.requires_grad and net.steps.dtype == norch.float64
    assert net(norch.ones(2, 3, dtype=norch.float64)).dtype == norch.float64
    net.to(norch.float32)
    assert net.fc1.weight.dtype == norch.float32
    np.testing.assert_array_equal(net.fc1.weight.detach().numpy(), w)
    same = net.fc1.weight
    net.to("cpu")
    assert net.fc1.weight is same
    net.to(norch.zeros(1, dtype=norch.float64))
    assert net.block[0].bias.dtype == norch.float64
    with pytest.raises(TypeError, match="floating point"):
        net.to(norch.int64)


def test_to_keeps_integer_buffers():
    bn = nn.BatchNorm1d(3).double()
    assert bn.num_batches_tracked.dtype == norch.int64
    assert bn.running_mean.dtype == norch.float64


# ---- hooks ------------------------------------------------------------------------
def test_forward_hooks_modify_and_remove():
    lin = nn.Linear(2, 2)
    calls = []

    def pre(mod, args):
        calls.append("pre")
        return (args[0] * 0,)

    def post(mod, args, out):
        calls.append("post")
        return out + 1

    h1 = lin.register_forward_pre_hook(pre)
    h2 = lin.register_forward_hook(post)
    out = lin(norch.ones(1, 2))
    np.testing.assert_allclose(out.detach().numpy(), lin.bias.detach().numpy()[None] + 1, rtol=1e-6)
    assert calls == ["pre", "post"]
    h1.remove()
    h2.remove()
    out = lin(norch.ones(1, 2))
    assert calls == ["pre", "post"]
    expected = np.ones((1, 2)) @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-6)


def test_hook_prepend_and_context_manager():
    lin = nn.Identity()
    order = []
    lin.register_forward_hook(lambda m, a, o: order.append(1))
    with lin.register_forward_hook(lambda m, a, o: order.append(0), prepend=True):
        lin(norch.ones(1))
    lin(norch.ones(1))
    assert order == [0, 1, 1]


def test_hooks_with_kwargs():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor
    m = Scale()
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": kwargs["factor"] * 10}),
                                with_kwargs=True)
    seen = []
    handle = m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(kwargs["factor"]) or out + 1,
                                     with_kwargs=True)
    out = m(norch.ones(2), factor=2.0)
    np.testing.assert_array_equal(out.numpy(), [21.0, 21.0])
    assert seen == [20.0]
    handle.remove()
    assert m._hooks_with_kwargs == {next(iter(m._forward_pre_hooks))}
    m.register_forward_pre_hook(lambda mod, args, kwargs: 3, with_kwargs=True)
    with pytest.raises(RuntimeError, match="pre-hook must return"):
        m(norch.ones(2), factor=1.0)


# ---- repr ------------------------------------------------------------------------
def test_repr_matches_torch():
    pairs = [
        (nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 1, bias=False), nn.Sigmoid())),
         torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(),
                             torch.nn.Sequential(torch.nn.Linear(3, 1, bias=False), torch.nn.Sigmoid()))),
        (nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()]),
         torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)] + [torch.nn.ReLU()])),
        (nn.ModuleDict({"a": nn.Tanh(), "b": nn.LeakyReLU(0.2)}),
         torch.nn.ModuleDict({"a": torch.nn.Tanh(), "b": torch.nn.LeakyReLU(0.2)})),
        (nn.Conv2d(3, 8, 3, padding=1, bias=False), torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)),
        (nn.Conv1d(3, 8, 2, padding="same", dilation=2), torch.nn.Conv1d(3, 8, 2, padding="same", dilation=2)),
        (nn.ConvTranspose2d(3, 8, 3, stride=2, output_padding=1),
         torch.nn.ConvTranspose2d(3, 8, 3, stride=2, output_padding=1)),
        (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (nn.AvgPool2d(3, 2), torch.nn.AvgPool2d(3, 2)),
        (nn.AvgPool1d(3), torch.nn.AvgPool1d(3)),
        (nn.AdaptiveAvgPool2d((1, 1)), torch.nn.AdaptiveAvgPool2d((1, 1))),
        (nn.BatchNorm2d(4, momentum=None), torch.nn.BatchNorm2d(4, momentum=None)),
        (nn.LayerNorm([4, 5]), torch.nn.LayerNorm([4, 5])),
        (nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)),
        (nn.Dropout(0.3), torch.nn.Dropout(0.3)),
        (nn.Embedding(10, 3, padding_idx=0), torch.nn.Embedding(10, 3, padding_idx=0)),
        (nn.LSTM(3, 4, 2, batch_first=True), torch.nn.LSTM(3, 4, 2, batch_first=True)),
        (nn.GRU(3, 4, bidirectional=True, dropout=0.5), torch.nn.GRU(3, 4, bidirectional=True, dropout=0.5)),
        (nn.RNN(3, 4, nonlinearity="relu"), torch.nn.RNN(3, 4, nonlinearity="relu")),
        (nn.LSTMCell(3, 4), torch.nn.LSTMCell(3, 4)),
        (nn.MultiheadAttention(4, 2), torch.nn.MultiheadAttention(4, 2)),
        (nn.Bilinear(2, 3, 4), torch.nn.Bilinear(2, 3, 4)),
        (nn.Flatten(), torch.nn.Flatten()),
        (nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3))),
        (nn.GELU("tanh"), torch.nn.GELU("tanh")),
        (nn.ELU(inplace=True), torch.nn.ELU(inplace=True)),
        (nn.Softplus(2.0), torch.nn.Softplus(2.0)),
        (nn.Hardtanh(), torch.nn.Hardtanh()),
        (nn.ReLU6(), torch.nn.ReLU6()),
        (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
        (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()),
        (nn.Identity(), torch.nn.Identity()),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def test_custom_extra_repr_multiline():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.sub = nn.ReLU()

        def extra_repr(self):
            return "k=1"
    assert repr(M()) == "M(\n  k=1\n  (sub): ReLU()\n)"


# ---- containers ------------------------------------------------------------------------
def test_sequential_indexing_slicing_append():
    layers = [nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and seq[-1] is layers[2]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == layers[1:]
    assert list(sub._modules) == ["1", "2"]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and list(seq._modules) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and seq[1] is layers[2]
    seq[0] = nn.Tanh()
    assert isinstance(seq[0], nn.Tanh)
    with pytest.raises(IndexError):
        seq[5]
    named = nn.Sequential(OrderedDict([("a", nn.ReLU()), ("b", nn.Tanh())]))
    assert list(named._modules) == ["a", "b"]
    out = nn.Sequential(nn.Linear(2, 3), nn.ReLU())(norch.ones(4, 2))
    assert tuple(out.shape) == (4, 3)
    assert len(nn.Sequential(nn.ReLU()) + nn.Sequential(nn.Tanh())) == 2
    seq.insert(0, nn.Identity())
    assert isinstance(seq[0], nn.Identity) and len(seq) == 4


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    ml.append(nn.Tanh())
    ml.extend([nn.Sigmoid()])
    ml += [nn.Identity()]
    assert len(ml) == 5 and isinstance(ml[-1], nn.Identity)
    assert [n for n, _ in ml.named_parameters()] == ["0.weight", "0.bias"]
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    ml.insert(1, nn.ELU())
    assert isinstance(ml[1], nn.ELU) and len(ml) == 6
    del ml[0]
    assert list(ml._modules) == [str(i) for i in range(5)]
    with pytest.raises(TypeError):
        ml.extend(3)
    md = nn.ModuleDict({"lin": nn.Linear(2, 2)})
    md["act"] = nn.ReLU()
    md.update([("out", nn.Sigmoid())])
    assert list(md.keys()) == ["lin", "act", "out"] and "act" in md and len(md) == 3
    assert [n for n, _ in md.named_parameters()] == ["lin.weight", "lin.bias"]
    assert isinstance(md.pop("act"), nn.ReLU) and len(md) == 2


def test_flatten_unflatten():
    x = norch.ones(2, 3, 4, 5)
    assert tuple(nn.Flatten()(x).shape) == (2, 60)
    assert tuple(nn.Flatten(0, 2)(x).shape) == (24, 5)
    assert tuple(nn.Unflatten(1, (3, 1))(norch.ones(2, 3)).shape) == (2, 3, 1)
    with pytest.raises(TypeError):
        nn.Unflatten(1, 3)


def test_deepcopy_module():
    net = Net()
    other = copy.deepcopy(net)
    assert other.fc1.weight._storage_id() != net.fc1.weight._storage_id()
    assert other.steps._storage_id() != net.steps._storage_id()
    assert [n for n, _ in other.named_parameters()] == [n for n, _ in net.named_parameters()]
    np.testing.assert_array_equal(other.fc1.weight.detach().numpy(), net.fc1.weight.detach().numpy())


# ---- parameters across .to() and .data ----------------------------------------------
def test_to_keeps_parameter_objects_so_optimizers_still_see_them():
    m = nn.Linear(3, 2)
    p = m.weight
    opt = norch.optim.SGD(m.parameters(), lr=0.5)
    m(norch.ones(1, 3)).sum().backward()
    m.double()
    assert m.weight is p and p.dtype == norch.float64 and p.grad.dtype == norch.float64
    assert p.requires_grad and p.is_leaf
    before = p.detach().clone()
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), (before - 0.5 * p.grad).numpy())


def test_data_assignment_swaps_storage_and_keeps_identity():
    t = norch.ones(3, requires_grad=True)
    t.data = norch.zeros(2, 2, dtype=norch.float64)
    assert t.shape == (2, 2) and t.dtype == norch.float64 and t.requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        t.data = norch.zeros(2, dtype=norch.int64)

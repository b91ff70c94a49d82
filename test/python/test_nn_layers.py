"""Tests of nn layers: forward and backward against PyTorch with copied weights,
gradcheck (float64) of the composites written in Python (activations, linear,
bilinear, recurrent cells, attention), and argument errors."""

import numpy as np
import pytest
torch = pytest.importorskip("torch")  # the oracle for these tests

import norch
import norch.nn as nn
import norch.nn.functional as F
from norch.autograd import gradcheck


def needs(*names):
    """Skips a test whose layer calls a functional op that is not in norch yet."""
    missing = [n for n in names if not hasattr(F, n)]
    if missing:
        pytest.skip(f"nn.functional lacks {missing}")


def needs_core(*names):
    """Skips a test whose layer needs a core op (norch.<name>) that is not in norch yet."""
    missing = [n for n in names if not hasattr(norch, n)]
    if missing:
        pytest.skip(f"norch lacks {missing}")


def to_norch(t, requires_grad=False):
    out = norch.from_numpy(t.detach().numpy().copy())
    if requires_grad:
        out.requires_grad_(True)
    return out


def copy_params(tmod, nmod):
    sd = {k: to_norch(v) for k, v in tmod.state_dict().items()}
    nmod.load_state_dict(sd)


def rand(*shape, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(tuple(shape), generator=g, dtype=dtype)


def assert_close(ours, theirs, rtol=1e-5, atol=1e-5):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


def compare(nmod, tmod, inputs, rtol=1e-5, atol=1e-5, grad_inputs=True, pick=lambda out: out):
    """Runs both modules on the same inputs, then backward with the same random
    output weights; compares outputs, input gradients and parameter gradients."""
    copy_params(tmod, nmod)
    t_in = [x.clone().requires_grad_(grad_inputs and x.is_floating_point()) for x in inputs]
    n_in = [to_norch(x, grad_inputs and x.is_floating_point()) for x in inputs]
    t_out, n_out = pick(tmod(*t_in)), pick(nmod(*n_in))
    assert tuple(n_out.shape) == tuple(t_out.shape)
    assert_close(n_out, t_out, rtol, atol)
    w = rand(*t_out.shape, dtype=t_out.dtype, seed=1)
    (t_out * w).sum().backward()
    (n_out * to_norch(w)).sum().backward()
    for t, n in zip(t_in, n_in):
        if t.requires_grad:
            assert_close(n.grad, t.grad, rtol, atol)
    tparams = dict(tmod.named_parameters())
    for name, p in nmod.named_parameters():
        if tparams[name].grad is None:
            assert p.grad is None
        else:
            assert_close(p.grad, tparams[name].grad, rtol, atol)


# ---- functional activations: forward vs torch, gradcheck ------------------------------------
ACTIVATIONS = [
    ("relu", lambda x: F.relu(x), lambda x: torch.relu(x)),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda x: torch.nn.functional.leaky_relu(x, 0.2)),
    ("elu", lambda x: F.elu(x, 1.5), lambda x: torch.nn.functional.elu(x, 1.5)),
    ("gelu", lambda x: F.gelu(x), lambda x: torch.nn.functional.gelu(x)),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"),
     lambda x: torch.nn.functional.gelu(x, approximate="tanh")),
    ("silu", lambda x: F.silu(x), lambda x: torch.nn.functional.silu(x)),
    ("sigmoid", lambda x: F.sigmoid(x), lambda x: torch.sigmoid(x)),
    ("tanh", lambda x: F.tanh(x), lambda x: torch.tanh(x)),
    ("softplus", lambda x: F.softplus(x), lambda x: torch.nn.functional.softplus(x)),
    ("softplus_beta", lambda x: F.softplus(x, beta=2.0, threshold=3.0),
     lambda x: torch.nn.functional.softplus(x, beta=2.0, threshold=3.0)),
    ("hardtanh", lambda x: F.hardtanh(x, -0.5, 0.7), lambda x: torch.nn.functional.hardtanh(x, -0.5, 0.7)),
    ("relu6", lambda x: F.relu6(x * 4), lambda x: torch.nn.functional.relu6(x * 4)),
]


def _activation_input(shape, seed=0):
    # Keeps values away from the kinks (0, clamp bounds) where finite differences straddle them.
    x = rand(*shape, dtype=torch.float64, seed=seed) * 3
    for kink in (0.0, -0.5, 0.7, 1.5):
        x = torch.where((x - kink).abs() < 0.05, x + 0.1, x)
    return x


@pytest.mark.parametrize("name,ours,theirs", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
@pytest.mark.parametrize("shape", [(3, 4), (), (0, 3)])
def test_activation_forward(name, ours, theirs, shape):
    x = _activation_input(shape)
    for dtype in (torch.float32, torch.float64):
        assert_close(ours(to_norch(x.to(dtype))), theirs(x.to(dtype)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,ours,theirs", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_gradcheck(name, ours, theirs):
    x = to_norch(_activation_input((2, 3)), requires_grad=True)
    assert gradcheck(ours, (x,))
    xt = to_norch(_activation_input((3, 2)).t(), requires_grad=True)  # non-contiguous
    assert gradcheck(ours, (xt,))


def test_activation_extreme_inputs_have_finite_grads():
    x = norch.tensor([-1000.0, -50.0, 0.5, 50.0, 1000.0], dtype=norch.float64, requires_grad=True)
    for fn in (F.elu, F.softplus, F.silu, F.gelu):
        x.grad = None
        fn(x).sum().backward()
        assert np.isfinite(x.grad.numpy()).all(), fn.__name__


@pytest.mark.parametrize("fn,torch_fn", [
    (lambda x: F.relu(x, inplace=True), lambda x: torch.relu_(x)),
    (lambda x: F.relu_(x), lambda x: torch.relu_(x)),
    (lambda x: F.leaky_relu(x, 0.1, inplace=True), lambda x: torch.nn.functional.leaky_relu_(x, 0.1)),
    (lambda x: F.elu_(x), lambda x: torch.nn.functional.elu_(x)),
    (lambda x: F.hardtanh_(x), lambda x: torch.nn.functional.hardtanh_(x)),
    (lambda x: F.silu(x, inplace=True), lambda x: torch.nn.functional.silu(x, inplace=True)),
])
def test_activation_inplace(fn, torch_fn):
    base_t = rand(3, 4, dtype=torch.float64).requires_grad_()
    base_n = to_norch(base_t, requires_grad=True)
    xt, xn = base_t * 2, base_n * 2
    out_t, out_n = torch_fn(xt), fn(xn)
    assert out_n is xn
    assert_close(xn, xt)
    (out_t * out_t).sum().backward()
    (out_n * out_n).sum().backward()
    assert_close(base_n.grad, base_t.grad)


def test_activation_errors():
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(norch.ones(2), approximate="fast")
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh(norch.ones(2), 1.0, -1.0)
    leaf = norch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError):
        F.leaky_relu(leaf, inplace=True)


# ---- activation modules -----------------------------------------------------------------
@pytest.mark.parametrize("ours,theirs", [
    (nn.ReLU(), torch.nn.ReLU()), (nn.LeakyReLU(0.3), torch.nn.LeakyReLU(0.3)), (nn.ELU(0.5), torch.nn.ELU(0.5)),
    (nn.GELU(), torch.nn.GELU()), (nn.GELU("tanh"), torch.nn.GELU("tanh")), (nn.SiLU(), torch.nn.SiLU()),
    (nn.Sigmoid(), torch.nn.Sigmoid()), (nn.Tanh(), torch.nn.Tanh()),
    (nn.Softplus(2.0, 5.0), torch.nn.Softplus(2.0, 5.0)),
    (nn.Hardtanh(-2.0, 2.0), torch.nn.Hardtanh(-2.0, 2.0)), (nn.ReLU6(), torch.nn.ReLU6()),
])
def test_activation_modules(ours, theirs):
    compare(ours, theirs, [rand(4, 5) * 3])


def test_softmax_modules():
    needs("softmax", "log_softmax")
    compare(nn.Softmax(dim=1), torch.nn.Softmax(dim=1), [rand(3, 4, 2)])
    compare(nn.LogSoftmax(dim=-1), torch.nn.LogSoftmax(dim=-1), [rand(3, 4)])
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = nn.Softmax()(norch.ones(2, 3))
    np.testing.assert_allclose(out.numpy(), np.full((2, 3), 1 / 3), rtol=1e-6)


# ---- linear, bilinear -----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,), (0, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(shape, bias):
    compare(nn.Linear(3, 2, bias=bias), torch.nn.Linear(3, 2, bias=bias), [rand(*shape)])


def test_linear_gradcheck():
    x = norch.randn(4, 3, dtype=norch.float64, requires_grad=True) if hasattr(norch, "randn") else \
        to_norch(rand(4, 3, dtype=torch.float64), True)
    w = to_norch(rand(2, 3, dtype=torch.float64, seed=2), True)
    b = to_norch(rand(2, dtype=torch.float64, seed=3), True)
    assert gradcheck(F.linear, (x, w, b))
    assert gradcheck(F.linear, (x.reshape(2, 2, 3), w, b))
    assert gradcheck(lambda x, w: F.linear(x, w), (x, w))


def test_linear_errors():
    with pytest.raises(RuntimeError):
        nn.Linear(3, 2)(norch.ones(4, 5))


@pytest.mark.parametrize("shape", [(4,), (2, 3)])
def test_bilinear(shape):
    compare(nn.Bilinear(3, 2, 4), torch.nn.Bilinear(3, 2, 4), [rand(*shape, 3), rand(*shape, 2, seed=5)])
    compare(nn.Bilinear(3, 2, 4, bias=False), torch.nn.Bilinear(3, 2, 4, bias=False),
            [rand(*shape, 3), rand(*shape, 2, seed=5)])


def test_bilinear_gradcheck_and_errors():
    x1 = to_norch(rand(3, 2, dtype=torch.float64), True)
    x2 = to_norch(rand(3, 4, dtype=torch.float64, seed=1), True)
    w = to_norch(rand(5, 2, 4, dtype=torch.float64, seed=2), True)
    b = to_norch(rand(5, dtype=torch.float64, seed=3), True)
    assert gradcheck(F.bilinear, (x1, x2, w, b))
    with pytest.raises(RuntimeError, match="bilinear"):
        F.bilinear(x1, x1, w, b)
    with pytest.raises(RuntimeError, match="3-D"):
        F.bilinear(x1, x2, b, b)


def test_identity():
    x = norch.ones(2)
    assert nn.Identity(3, foo=1)(x) is x


# ---- conv and pooling ----------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {}, {"stride": 2, "padding": 1}, {"dilation": 2, "bias": False}, {"groups": 2},
    {"padding": "same"}, {"padding": "valid"}, {"padding": "same", "dilation": 2},
])
def test_conv1d(kwargs):
    needs("conv1d")
    compare(nn.Conv1d(4, 6, 3, **kwargs), torch.nn.Conv1d(4, 6, 3, **kwargs), [rand(2, 4, 9)], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("k,kwargs", [
    (3, {}), (3, {"stride": 2, "padding": 1}), ((2, 3), {"dilation": (2, 1), "bias": False}),
    (3, {"groups": 2}), (4, {"padding": "same"}), (3, {"padding": "same"}),
])
def test_conv2d(k, kwargs):
    needs("conv2d", "pad")
    compare(nn.Conv2d(4, 6, k, **kwargs), torch.nn.Conv2d(4, 6, k, **kwargs), [rand(2, 4, 7, 8)],
            rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kwargs", [{}, {"stride": 2, "padding": 1, "output_padding": 1}, {"groups": 2, "bias": False}])
def test_conv_transpose2d(kwargs):
    needs("conv_transpose2d")
    compare(nn.ConvTranspose2d(4, 6, 3, **kwargs), torch.nn.ConvTranspose2d(4, 6, 3, **kwargs), [rand(2, 4, 5, 5)],
            rtol=1e-4, atol=1e-5)


def test_conv_transpose2d_output_size():
    needs("conv_transpose2d")
    n, t = nn.ConvTranspose2d(2, 3, 3, stride=2), torch.nn.ConvTranspose2d(2, 3, 3, stride=2)
    copy_params(t, n)
    x = rand(1, 2, 4, 4)
    assert_close(n(to_norch(x), output_size=[10, 10]), t(x, output_size=[10, 10]), rtol=1e-4)
    with pytest.raises(ValueError, match="output size"):
        n(to_norch(x), output_size=[20, 20])


def test_conv_constructor_errors():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding"):
        nn.Conv2d(3, 4, 3, padding="full")
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="bogus")


@pytest.mark.parametrize("ours,theirs,shape,fns", [
    (nn.MaxPool2d(2), torch.nn.MaxPool2d(2), (2, 3, 6, 6), ["max_pool2d"]),
    (nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True), (1, 2, 7, 7), ["max_pool2d"]),
    (nn.MaxPool1d(2), torch.nn.MaxPool1d(2), (2, 3, 8), ["max_pool1d"]),
    (nn.AvgPool2d(2), torch.nn.AvgPool2d(2), (2, 3, 6, 6), ["avg_pool2d"]),
    (nn.AvgPool2d(3, 2, 1, count_include_pad=False), torch.nn.AvgPool2d(3, 2, 1, count_include_pad=False),
     (1, 2, 7, 7), ["avg_pool2d"]),
    (nn.AvgPool1d(3, 2), torch.nn.AvgPool1d(3, 2), (2, 3, 9), ["avg_pool1d"]),
    (nn.AdaptiveAvgPool2d((2, 3)), torch.nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 7, 8), ["adaptive_avg_pool2d"]),
    (nn.AdaptiveAvgPool2d(1), torch.nn.AdaptiveAvgPool2d(1), (2, 3, 5, 5), ["adaptive_avg_pool2d"]),
])
def test_pooling(ours, theirs, shape, fns):
    needs(*fns)
    compare(ours, theirs, [rand(*shape)])


# ---- normalization ---------------------------------------------------------------------------
@pytest.mark.parametrize("cls,tcls,shape,kwargs", [
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (8, 3), {}),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (4, 3, 5), {"momentum": 0.3}),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 5, 5), {}),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 2, 2), {"affine": False}),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 2, 2), {"momentum": None}),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (6, 3), {"track_running_stats": False}),
])
def test_batchnorm_train_then_eval(cls, tcls, shape, kwargs):
    needs("batch_norm")
    n, t = cls(3, **kwargs), tcls(3, **kwargs)
    for step in range(3):
        compare(n, t, [rand(*shape, seed=step) * 2 + 1], rtol=1e-4, atol=1e-5)
        for name, buf in t.named_buffers():
            np.testing.assert_allclose(n.get_buffer(name).numpy(), buf.numpy(), rtol=1e-5, atol=1e-6)
    n.eval()
    t.eval()
    compare(n, t, [rand(*shape, seed=9)], rtol=1e-4, atol=1e-5)
    if n.track_running_stats:
        assert n.num_batches_tracked.item() == 3


def test_batchnorm_input_dims():
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(norch.ones(2, 3))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(norch.ones(2, 3, 4, 5))


@pytest.mark.parametrize("ours,theirs,shape", [
    (nn.LayerNorm(5), torch.nn.LayerNorm(5), (3, 5)),
    (nn.LayerNorm([4, 5], elementwise_affine=False), torch.nn.LayerNorm([4, 5], elementwise_affine=False),
     (2, 4, 5)),
    (nn.LayerNorm(5, bias=False), torch.nn.LayerNorm(5, bias=False), (2, 3, 5)),
])
def test_layer_norm(ours, theirs, shape):
    needs("layer_norm")
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(rand(*p.shape, seed=4) * 0.1)
    compare(ours, theirs, [rand(*shape)], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("groups,affine", [(2, True), (1, True), (4, False)])
def test_group_norm(groups, affine):
    needs("group_norm")
    compare(nn.GroupNorm(groups, 4, affine=affine), torch.nn.GroupNorm(groups, 4, affine=affine),
            [rand(3, 4, 5)], rtol=1e-4, atol=1e-5)


def test_group_norm_errors():
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)


# ---- dropout, embedding ---------------------------------------------------------------------------
def test_dropout_train_eval():
    needs("dropout")
    d = nn.Dropout(0.5)
    x = norch.ones(1000)
    out = d(x).numpy()
    assert set(np.unique(out)) <= {0.0, 2.0} and 300 < (out == 0).sum() < 700
    d.eval()
    assert (d(x).numpy() == 1).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_embedding():
    needs("embedding")
    idx = torch.tensor([[0, 2, 4], [4, 3, 0]])
    compare(nn.Embedding(5, 3), torch.nn.Embedding(5, 3), [idx], grad_inputs=False)
    compare(nn.Embedding(5, 3, padding_idx=0), torch.nn.Embedding(5, 3, padding_idx=0), [idx], grad_inputs=False)


def test_embedding_padding_and_pretrained():
    e = nn.Embedding(6, 2, padding_idx=-1)
    assert e.padding_idx == 5 and (e.weight.detach().numpy()[5] == 0).all()
    w = norch.arange(6).float().reshape(3, 2)
    pre = nn.Embedding.from_pretrained(w)
    assert not pre.weight.requires_grad and tuple(pre.weight.shape) == (3, 2)
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    with pytest.raises(AssertionError):
        nn.Embedding(3, 2, padding_idx=3)
    with pytest.raises(AssertionError):
        nn.Embedding.from_pretrained(norch.ones(3))


# ---- recurrent layers ------------------------------------------------------------------------------
RNN_CASES = [
    ("RNN", {}), ("RNN", {"nonlinearity": "relu", "num_layers": 2}), ("LSTM", {}), ("LSTM", {"num_layers": 2}),
    ("GRU", {}), ("GRU", {"num_layers": 2, "bias": False}), ("LSTM", {"bidirectional": True}),
    ("GRU", {"bidirectional": True, "num_layers": 2}), ("RNN", {"batch_first": True}),
    ("LSTM", {"batch_first": True, "num_layers": 2}),
]


@pytest.mark.parametrize("kind,kwargs", RNN_CASES)
def test_rnn_vs_torch(kind, kwargs):
    needs_core("stack", "cat")
    n, t = getattr(nn, kind)(3, 4, **kwargs), getattr(torch.nn, kind)(3, 4, **kwargs)
    assert [k for k, _ in n.named_parameters()] == [k for k, _ in t.named_parameters()]
    x = rand(2, 5, 3) if kwargs.get("batch_first") else rand(5, 2, 3)
    compare(n, t, [x], rtol=1e-4, atol=1e-5, pick=lambda out: out[0])
    compare(n, t, [x], rtol=1e-4, atol=1e-5, pick=lambda out: out[1][0] if kind == "LSTM" else out[1])
    if kind == "LSTM":
        compare(n, t, [x], rtol=1e-4, atol=1e-5, pick=lambda out: out[1][1])


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_rnn_initial_state_and_unbatched(kind):
    needs_core("stack", "cat")
    n, t = getattr(nn, kind)(3, 4, num_layers=2), getattr(torch.nn, kind)(3, 4, num_layers=2)
    copy_params(t, n)
    x = rand(5, 2, 3)
    h0 = rand(2, 2, 4, seed=3)
    if kind == "LSTM":
        c0 = rand(2, 2, 4, seed=4)
        out_t, (h_t, c_t) = t(x, (h0, c0))
        out_n, (h_n, c_n) = n(to_norch(x), (to_norch(h0), to_norch(c0)))
        assert_close(c_n, c_t, 1e-4)
        out_tu, _ = t(x[:, 0], (h0[:, 0], c0[:, 0]))
        out_nu, (h_nu, _) = n(to_norch(x[:, 0]), (to_norch(h0[:, 0]), to_norch(c0[:, 0])))
    else:
        out_t, h_t = t(x, h0)
        out_n, h_n = n(to_norch(x), to_norch(h0))
        out_tu, _ = t(x[:, 0], h0[:, 0])
        out_nu, h_nu = n(to_norch(x[:, 0]), to_norch(h0[:, 0]))
    assert_close(out_n, out_t, 1e-4)
    assert_close(h_n, h_t, 1e-4)
    assert_close(out_nu, out_tu, 1e-4)
    assert tuple(h_nu.shape) == (2, 4)


def test_rnn_errors():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match="input_size"):
        lstm(norch.ones(5, 2, 7))
    with pytest.raises(RuntimeError, match="hidden"):
        lstm(norch.ones(5, 2, 3), (norch.zeros(1, 3, 4), norch.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match="2D or 3D"):
        lstm(norch.ones(3))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.warns(UserWarning, match="dropout"):
        nn.LSTM(3, 4, dropout=0.5)
    with pytest.raises(ValueError, match="dropout"):
        nn.GRU(3, 4, dropout=2.0)


def test_rnn_dropout_between_layers_only_in_training():
    needs_core("stack", "cat")
    needs("dropout")
    n = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = norch.ones(4, 1, 3)
    n.eval()
    a, b = n(x)[0].detach().numpy(), n(x)[0].detach().numpy()
    np.testing.assert_array_equal(a, b)
    n.train()
    outs = [n(x)[0].detach().numpy() for _ in range(5)]
    assert any(not np.array_equal(outs[0], o) for o in outs[1:])


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_rnn_cells_vs_torch_and_gradcheck(kind):
    n, t = getattr(nn, kind)(3, 4), getattr(torch.nn, kind)(3, 4)
    pick = (lambda out: out[0] + out[1] * 2) if kind == "LSTMCell" else (lambda out: out)
    compare(n, t, [rand(2, 3)], pick=pick)
    compare(n, t, [rand(3)], pick=pick)  # unbatched
    n.double()
    x = to_norch(rand(2, 3, dtype=torch.float64), True)
    h = to_norch(rand(2, 4, dtype=torch.float64, seed=7), True)
    if kind == "LSTMCell":
        c = to_norch(rand(2, 4, dtype=torch.float64, seed=8), True)
        assert gradcheck(lambda x, h, c, w: pick(n(x, (h, c))) * w.sum(), (x, h, c, n.weight_hh))
    else:
        assert gradcheck(lambda x, h, w: n(x, h) * w.sum(), (x, h, n.weight_ih))


def test_rnn_gradcheck_float64():
    needs_core("stack", "cat")
    for kind in ("RNN", "LSTM", "GRU"):
        n = getattr(nn, kind)(2, 3, num_layers=2, bidirectional=True).double()
        x = to_norch(rand(3, 1, 2, dtype=torch.float64), True)
        assert gradcheck(lambda x: n(x)[0], (x,))


# ---- attention ---------------------------------------------------------------------------------------
def _sdpa_inputs(dtype=torch.float64):
    return rand(2, 3, 4, 5, dtype=dtype), rand(2, 3, 6, 5, dtype=dtype, seed=1), rand(2, 3, 6, 7, dtype=dtype, seed=2)


@pytest.mark.parametrize("kwargs", [
    {}, {"is_causal": True}, {"scale": 0.3},
    {"attn_mask": torch.rand(4, 6, generator=torch.Generator().manual_seed(0)) > 0.3},
    {"attn_mask": rand(2, 1, 4, 6, dtype=torch.float64, seed=5)},
])
def test_scaled_dot_product_attention(kwargs):
    q, k, v = _sdpa_inputs()
    if "attn_mask" in kwargs and kwargs["attn_mask"].dtype == torch.bool:
        kwargs["attn_mask"][:, 0] = True  # every query sees at least one key
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, v, **kwargs)
    nk = {key: (to_norch(val) if isinstance(val, torch.Tensor) else val) for key, val in kwargs.items()}
    got = F.scaled_dot_product_attention(to_norch(q), to_norch(k), to_norch(v), **nk)
    assert_close(got, expected, 1e-10, 1e-10)
    qn, kn, vn = (to_norch(a[:1, :1], True) for a in (q, k, v))
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, **nk), (qn, kn, vn))


def test_sdpa_large_scores_are_stable():
    q, k, v = _sdpa_inputs(torch.float32)
    q = q * 300
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    got = F.scaled_dot_product_attention(to_norch(q), to_norch(k), to_norch(v))
    assert_close(got, expected, 1e-4, 1e-4)


def test_sdpa_causal_with_mask_raises():
    q, k, v = (to_norch(a) for a in _sdpa_inputs())
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=norch.ones(4, 6), is_causal=True)


@pytest.mark.parametrize("kwargs,fwd", [
    ({}, {}),
    ({"batch_first": True}, {}),
    ({"bias": False}, {"average_attn_weights": False}),
    ({"kdim": 5, "vdim": 3}, {}),
    ({}, {"need_weights": False}),
    ({}, {"attn_mask": "bool"}),
    ({}, {"attn_mask": "float3d"}),
    ({}, {"key_padding_mask": True}),
    ({"batch_first": True}, {"key_padding_mask": True, "attn_mask": "bool", "need_weights": False}),
    ({"add_bias_kv": True}, {}),
    ({"add_bias_kv": True, "add_zero_attn": True}, {"key_padding_mask": True, "attn_mask": "float3d"}),
    ({"add_zero_attn": True, "batch_first": True}, {"attn_mask": "bool"}),
])
def test_multihead_attention(kwargs, fwd):
    if kwargs.get("add_bias_kv") or kwargs.get("add_zero_attn"):
        needs_core("cat")
    E, H, L, S, N = 8, 2, 4, 6, 3
    n, t = nn.MultiheadAttention(E, H, **kwargs), torch.nn.MultiheadAttention(E, H, **kwargs)
    assert [k for k, _ in n.named_parameters()] == [k for k, _ in t.named_parameters()]
    kdim, vdim = kwargs.get("kdim", E), kwargs.get("vdim", E)
    if kwargs.get("batch_first"):
        q, k, v = rand(N, L, E), rand(N, S, kdim, seed=1), rand(N, S, vdim, seed=2)
    else:
        q, k, v = rand(L, N, E), rand(S, N, kdim, seed=1), rand(S, N, vdim, seed=2)
    tf = dict(fwd)
    if fwd.get("attn_mask") == "bool":
        m = torch.rand(L, S, generator=torch.Generator().manual_seed(3)) > 0.6
        m[:, 0] = False
        tf["attn_mask"] = m
    elif fwd.get("attn_mask") == "float3d":
        tf["attn_mask"] = rand(N * H, L, S, seed=4)
    if fwd.get("key_padding_mask"):
        kpm = torch.zeros(N, S, dtype=torch.bool)
        kpm[0, -2:] = True
        kpm[2, -1] = True
        tf["key_padding_mask"] = kpm
    nf = {key: (to_norch(val) if isinstance(val, torch.Tensor) else val) for key, val in tf.items()}
    copy_params(t, n)
    out_t, w_t = t(q, k, v, **tf)
    out_n, w_n = n(to_norch(q), to_norch(k), to_norch(v), **nf)
    assert_close(out_n, out_t, 1e-4, 1e-5)
    if w_t is None:
        assert w_n is None
    else:
        assert_close(w_n, w_t, 1e-4, 1e-5)
    compare(n, t, [q, k, v], rtol=1e-4, atol=1e-5, pick=lambda out: out[0])


def test_multihead_attention_unbatched_and_gradcheck():
    n, t = nn.MultiheadAttention(4, 2), torch.nn.MultiheadAttention(4, 2)
    compare(n, t, [rand(3, 4), rand(5, 4, seed=1), rand(5, 4, seed=2)], rtol=1e-4, atol=1e-5,
            pick=lambda out: out[0])
    n.double()
    q = to_norch(rand(2, 1, 4, dtype=torch.float64), True)
    kv = to_norch(rand(3, 1, 4, dtype=torch.float64, seed=1), True)
    assert gradcheck(lambda q, kv, w: n(q, kv, kv)[0] * w.sum(), (q, kv, n.in_proj_weight))


def test_multihead_attention_errors():
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(6, 4)
    mha = nn.MultiheadAttention(4, 2)
    x = norch.ones(3, 2, 4)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        mha(x, x, x, attn_mask=norch.zeros(2, 2))
    with pytest.raises(AssertionError, match="key_padding_mask"):
        mha(x, x, x, key_padding_mask=norch.zeros(3, 3))
    with pytest.raises(AssertionError, match="embedding dimension"):
        mha(norch.ones(3, 2, 5), x, x)


# ---- losses ----------------------------------------------------------------------------------------------
def _loss_cases():
    x, y = rand(4, 3), rand(4, 3, seed=1)
    logits, labels = rand(4, 5), torch.tensor([0, 3, 4, 1])
    probs, targets = torch.sigmoid(rand(4, 3)), (rand(4, 3, seed=2) > 0).float()
    w5 = torch.rand(5, generator=torch.Generator().manual_seed(0))
    return [
        ("mse_loss", nn.MSELoss(), torch.nn.MSELoss(), [x, y]),
        ("mse_loss", nn.MSELoss(reduction="sum"), torch.nn.MSELoss(reduction="sum"), [x, y]),
        ("l1_loss", nn.L1Loss(reduction="none"), torch.nn.L1Loss(reduction="none"), [x, y]),
        ("smooth_l1_loss", nn.SmoothL1Loss(beta=0.5), torch.nn.SmoothL1Loss(beta=0.5), [x, y]),
        ("huber_loss", nn.HuberLoss(delta=0.7), torch.nn.HuberLoss(delta=0.7), [x, y]),
        ("cross_entropy", nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), [logits, labels]),
        ("cross_entropy", nn.CrossEntropyLoss(weight=to_norch(w5), ignore_index=3, label_smoothing=0.1),
         torch.nn.CrossEntropyLoss(weight=w5, ignore_index=3, label_smoothing=0.1), [logits, labels]),
        ("nll_loss", nn.NLLLoss(), torch.nn.NLLLoss(), [torch.log_softmax(logits, 1), labels]),
        ("binary_cross_entropy", nn.BCELoss(), torch.nn.BCELoss(), [probs, targets]),
        ("binary_cross_entropy_with_logits", nn.BCEWithLogitsLoss(pos_weight=to_norch(torch.tensor([1.0, 2.0, 0.5]))),
         torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 2.0, 0.5])), [x, targets]),
        ("kl_div", nn.KLDivLoss(reduction="batchmean"), torch.nn.KLDivLoss(reduction="batchmean"),
         [torch.log_softmax(x, 1), torch.softmax(y, 1)]),
        ("kl_div", nn.KLDivLoss(log_target=True), torch.nn.KLDivLoss(log_target=True),
         [torch.log_softmax(x, 1), torch.log_softmax(y, 1)]),
    ]


@pytest.mark.parametrize("case", range(len(_loss_cases())))
def test_loss_modules(case):
    fn, ours, theirs, inputs = _loss_cases()[case]
    needs(fn)
    compare(ours, theirs, inputs, rtol=1e-5, atol=1e-6)


def test_loss_legacy_reduction_and_weight_buffer():
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.L1Loss(reduce=False).reduction == "none"
    assert nn.NLLLoss(size_average=True, reduce=True).reduction == "mean"
    ce = nn.CrossEntropyLoss(weight=norch.ones(3))
    assert "weight" in dict(ce.named_buffers())
    assert list(nn.CrossEntropyLoss().state_dict()) == []

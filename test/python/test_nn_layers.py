"""Tests of nn layers: forward and backward against PyTorch with copied weights,
gradcheck (float64) of the composites written in Python (activations, linear,
bilinear), and argument errors. Recurrent layers and attention: test_nn_sequence.py."""

import numpy as np
import pytest
import torch  # the oracle for these tests

import norch
import norch.nn as nn
import norch.nn.functional as F
from norch.autograd import gradcheck

from _oracle import assert_close, compare, copy_params, to_norch, torch_randn


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
    x = torch_randn(*shape, dtype=torch.float64, seed=seed) * 3
    for kink in (0.0, -0.5, 0.7, 1.5):
        x = torch.where((x - kink).abs() < 0.05, x + 0.1, x)
    return x


@pytest.mark.parametrize("name,ours,theirs", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
@pytest.mark.parametrize("shape", [(3, 4), (), (0, 3)])
def test_activation_forward(name, ours, theirs, shape, device):
    x = _activation_input(shape)
    for dtype in (torch.float32, torch.float64):
        assert_close(ours(to_norch(x.to(dtype), device=device)), theirs(x.to(dtype)), rtol=1e-5, atol=1e-6)


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
    base_t = torch_randn(3, 4, dtype=torch.float64).requires_grad_()
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
def test_activation_modules(ours, theirs, device):
    compare(ours, theirs, [torch_randn(4, 5) * 3], device=device)


def test_softmax_modules(device):
    compare(nn.Softmax(dim=1), torch.nn.Softmax(dim=1), [torch_randn(3, 4, 2)], device=device)
    compare(nn.LogSoftmax(dim=-1), torch.nn.LogSoftmax(dim=-1), [torch_randn(3, 4)], device=device)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = nn.Softmax()(norch.ones(2, 3))
    np.testing.assert_allclose(out.numpy(), np.full((2, 3), 1 / 3), rtol=1e-6)


# ---- linear, bilinear -----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,), (0, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(shape, bias, device):
    compare(nn.Linear(3, 2, bias=bias), torch.nn.Linear(3, 2, bias=bias), [torch_randn(*shape)], device=device)


def test_linear_gradcheck():
    x = norch.randn(4, 3, dtype=norch.float64, requires_grad=True)
    w = to_norch(torch_randn(2, 3, dtype=torch.float64, seed=2), True)
    b = to_norch(torch_randn(2, dtype=torch.float64, seed=3), True)
    assert gradcheck(F.linear, (x, w, b))
    assert gradcheck(F.linear, (x.reshape(2, 2, 3), w, b))
    assert gradcheck(lambda x, w: F.linear(x, w), (x, w))


def test_linear_errors():
    with pytest.raises(RuntimeError):
        nn.Linear(3, 2)(norch.ones(4, 5))


@pytest.mark.parametrize("shape", [(4,), (2, 3)])
def test_bilinear(shape, device):
    compare(nn.Bilinear(3, 2, 4), torch.nn.Bilinear(3, 2, 4), [torch_randn(*shape, 3), torch_randn(*shape, 2, seed=5)],
            device=device)
    compare(nn.Bilinear(3, 2, 4, bias=False), torch.nn.Bilinear(3, 2, 4, bias=False),
            [torch_randn(*shape, 3), torch_randn(*shape, 2, seed=5)], device=device)


def test_bilinear_gradcheck_and_errors():
    x1 = to_norch(torch_randn(3, 2, dtype=torch.float64), True)
    x2 = to_norch(torch_randn(3, 4, dtype=torch.float64, seed=1), True)
    w = to_norch(torch_randn(5, 2, 4, dtype=torch.float64, seed=2), True)
    b = to_norch(torch_randn(5, dtype=torch.float64, seed=3), True)
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
def test_conv1d(kwargs, device):
    compare(nn.Conv1d(4, 6, 3, **kwargs), torch.nn.Conv1d(4, 6, 3, **kwargs), [torch_randn(2, 4, 9)], rtol=1e-4,
            atol=1e-5, device=device)


@pytest.mark.parametrize("k,kwargs", [
    (3, {}), (3, {"stride": 2, "padding": 1}), ((2, 3), {"dilation": (2, 1), "bias": False}),
    (3, {"groups": 2}), (4, {"padding": "same"}), (3, {"padding": "same"}),
])
def test_conv2d(k, kwargs, device):
    compare(nn.Conv2d(4, 6, k, **kwargs), torch.nn.Conv2d(4, 6, k, **kwargs), [torch_randn(2, 4, 7, 8)],
            rtol=1e-4, atol=1e-5, device=device)


@pytest.mark.parametrize("kwargs", [{}, {"stride": 2, "padding": 1, "output_padding": 1}, {"groups": 2, "bias": False}])
def test_conv_transpose2d(kwargs, device):
    compare(nn.ConvTranspose2d(4, 6, 3, **kwargs), torch.nn.ConvTranspose2d(4, 6, 3, **kwargs), [torch_randn(2, 4, 5, 5)],
            rtol=1e-4, atol=1e-5, device=device)


def test_conv_transpose2d_output_size():
    n, t = nn.ConvTranspose2d(2, 3, 3, stride=2), torch.nn.ConvTranspose2d(2, 3, 3, stride=2)
    copy_params(t, n)
    x = torch_randn(1, 2, 4, 4)
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
def test_pooling(ours, theirs, shape, fns, device):
    compare(ours, theirs, [torch_randn(*shape)], device=device)


# ---- normalization ---------------------------------------------------------------------------
@pytest.mark.parametrize("cls,tcls,shape,kwargs", [
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (8, 3), {}),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (4, 3, 5), {"momentum": 0.3}),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 5, 5), {}),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 2, 2), {"affine": False}),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 2, 2), {"momentum": None}),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (6, 3), {"track_running_stats": False}),
])
def test_batchnorm_train_then_eval(cls, tcls, shape, kwargs, device):
    n, t = cls(3, **kwargs), tcls(3, **kwargs)
    for step in range(3):
        compare(n, t, [torch_randn(*shape, seed=step) * 2 + 1], rtol=1e-4, atol=1e-5, device=device)
        for name, buf in t.named_buffers():
            np.testing.assert_allclose(n.get_buffer(name).numpy(), buf.numpy(), rtol=1e-5, atol=1e-6)
    n.eval()
    t.eval()
    compare(n, t, [torch_randn(*shape, seed=9)], rtol=1e-4, atol=1e-5, device=device)
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
def test_layer_norm(ours, theirs, shape, device):
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(torch_randn(*p.shape, seed=4) * 0.1)
    compare(ours, theirs, [torch_randn(*shape)], rtol=1e-4, atol=1e-5, device=device)


@pytest.mark.parametrize("groups,affine", [(2, True), (1, True), (4, False)])
def test_group_norm(groups, affine, device):
    compare(nn.GroupNorm(groups, 4, affine=affine), torch.nn.GroupNorm(groups, 4, affine=affine),
            [torch_randn(3, 4, 5)], rtol=1e-4, atol=1e-5, device=device)


def test_group_norm_errors():
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)


# ---- dropout, embedding ---------------------------------------------------------------------------
def test_dropout_train_eval():
    d = nn.Dropout(0.5)
    x = norch.ones(1000)
    out = d(x).numpy()
    assert set(np.unique(out)) <= {0.0, 2.0} and 300 < (out == 0).sum() < 700
    d.eval()
    assert (d(x).numpy() == 1).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_embedding(device):
    idx = torch.tensor([[0, 2, 4], [4, 3, 0]])
    compare(nn.Embedding(5, 3), torch.nn.Embedding(5, 3), [idx], grad_inputs=False, device=device)
    compare(nn.Embedding(5, 3, padding_idx=0), torch.nn.Embedding(5, 3, padding_idx=0), [idx], grad_inputs=False,
            device=device)


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


# ---- losses ----------------------------------------------------------------------------------------------
def _loss_cases():
    x, y = torch_randn(4, 3), torch_randn(4, 3, seed=1)
    logits, labels = torch_randn(4, 5), torch.tensor([0, 3, 4, 1])
    probs, targets = torch.sigmoid(torch_randn(4, 3)), (torch_randn(4, 3, seed=2) > 0).float()
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
def test_loss_modules(case, device):
    fn, ours, theirs, inputs = _loss_cases()[case]
    compare(ours, theirs, inputs, rtol=1e-5, atol=1e-6, device=device)


def test_loss_legacy_reduction_and_weight_buffer():
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.L1Loss(reduce=False).reduction == "none"
    assert nn.NLLLoss(size_average=True, reduce=True).reduction == "mean"
    ce = nn.CrossEntropyLoss(weight=norch.ones(3))
    assert "weight" in dict(ce.named_buffers())
    assert list(nn.CrossEntropyLoss().state_dict()) == []

"""Half-precision parameters through nn: Module.half()/.bfloat16()/.to(dtype),
modules and losses forward and backward against PyTorch with the same weights,
one step of each optimizer, a small MLP trained in bfloat16 tracking PyTorch's,
and checkpoints that keep F16/BF16 tensors bit for bit. Modules, losses and optimizer
steps run on the `device` fixture: on CUDA too where there is a GPU."""
import io

import numpy as np
import pytest
import torch

import norch

from _half_util import HALF, nd, td, to_torch, to_norch, rtol, bits


def _copy_params(tm, nm):
    """Gives the norch module the torch module's parameters and buffers, bit for bit."""
    tsd = tm.state_dict()
    nm.load_state_dict({k: to_norch(v) for k, v in tsd.items()})


@pytest.mark.parametrize("name", HALF)
def test_module_casts(name):
    m = norch.nn.Sequential(norch.nn.Linear(3, 4), norch.nn.BatchNorm1d(4))
    assert getattr(m, "half" if name == "float16" else "bfloat16")() is m
    assert all(p.dtype == nd(name) for p in m.parameters())
    assert m[1].num_batches_tracked.dtype == norch.int64  # integer buffers keep their dtype
    assert m[1].running_mean.dtype == nd(name)
    m.to(norch.float32)
    assert all(p.dtype == norch.float32 for p in m.parameters())
    m.to(dtype=nd(name))
    assert m[0].weight.dtype == nd(name)
    with pytest.raises(TypeError):
        m.to(norch.int64)


MODULES = {
    "linear": (lambda L: L.nn.Linear(6, 5), (3, 6)),
    "conv2d": (lambda L: L.nn.Conv2d(2, 3, 3, padding=1), (2, 2, 5, 5)),
    "layer_norm": (lambda L: L.nn.LayerNorm(6), (3, 6)),
    "batch_norm": (lambda L: L.nn.BatchNorm1d(6), (5, 6)),
    "group_norm": (lambda L: L.nn.GroupNorm(2, 4), (3, 4, 5)),
    "mlp": (lambda L: L.nn.Sequential(L.nn.Linear(6, 8), L.nn.GELU(), L.nn.Linear(8, 2), L.nn.Tanh()), (4, 6)),
    "embedding": (lambda L: L.nn.Embedding(10, 4), None),
    "mha": (lambda L: L.nn.MultiheadAttention(8, 2, batch_first=True), (2, 3, 8)),
}


@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("mod", sorted(MODULES))
def test_modules_forward_backward(mod, name, device):
    make, shape = MODULES[mod]
    torch.manual_seed(0)
    tm = make(torch).to(td(name))
    nm = make(norch).to(nd(name))
    _copy_params(tm, nm)
    nm.to(device)
    if shape is None:
        tx, nx = torch.tensor([[1, 3], [9, 0]]), norch.tensor([[1, 3], [9, 0]], device=device)
    else:
        tx = torch.randn(shape).to(td(name)).requires_grad_(True)
        nx = to_norch(tx.detach()).to(device).requires_grad_(True)
    if mod == "mha":
        to, no = tm(tx, tx, tx)[0], nm(nx, nx, nx)[0]
    else:
        to, no = tm(tx), nm(nx)
    assert no.dtype == nd(name) and no.device.type == device
    tol = 4 * rtol(name)
    torch.testing.assert_close(to_torch(no).double(), to.detach().double(), rtol=tol, atol=tol)
    to.float().square().sum().backward()
    no.float().square().sum().backward()
    for (k, tp), np_ in zip(tm.named_parameters(), nm.parameters()):
        assert np_.grad.dtype == nd(name), k
        scale = max(tp.grad.double().abs().max().item(), 1.0)
        torch.testing.assert_close(to_torch(np_.grad).double(), tp.grad.double(), rtol=4 * tol, atol=4 * tol * scale)


LOSSES = {
    "mse": lambda L: L.nn.MSELoss(), "l1": lambda L: L.nn.L1Loss(), "huber": lambda L: L.nn.HuberLoss(),
    "bce_logits": lambda L: L.nn.BCEWithLogitsLoss(), "kl": lambda L: L.nn.KLDivLoss(reduction="batchmean"),
}


@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_losses(loss, name, device):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 5, generator=g).to(td(name)).requires_grad_(True)
    y = torch.rand(4, 5, generator=g).to(td(name))
    nx = to_norch(x.detach()).to(device).requires_grad_(True)
    tl, nl = LOSSES[loss](torch)(x, y), LOSSES[loss](norch)(nx, to_norch(y).to(device))
    assert nl.dtype == nd(name) and nl.device.type == device
    tol = 4 * rtol(name)
    torch.testing.assert_close(to_torch(nl).double(), tl.detach().double(), rtol=tol, atol=tol)
    tl.backward()
    nl.backward()
    torch.testing.assert_close(to_torch(nx.grad).double(), x.grad.double(), rtol=tol, atol=tol)


def test_cross_entropy_half():
    for name in HALF:
        g = torch.Generator().manual_seed(2)
        x = torch.randn(6, 4, generator=g).to(td(name)).requires_grad_(True)
        t = torch.tensor([0, 3, 1, 2, 2, 0])
        nx = to_norch(x.detach()).requires_grad_(True)
        tl = torch.nn.functional.cross_entropy(x, t, label_smoothing=0.1)
        nl = norch.nn.functional.cross_entropy(nx, norch.tensor(t.tolist()), label_smoothing=0.1)
        tol = 4 * rtol(name)
        torch.testing.assert_close(to_torch(nl).double(), tl.detach().double(), rtol=tol, atol=tol)
        tl.backward()
        nl.backward()
        torch.testing.assert_close(to_torch(nx.grad).double(), x.grad.double(), rtol=tol, atol=tol)


OPTIMS = {
    "sgd": lambda L, p: L.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
    "adam": lambda L, p: L.optim.Adam(p, lr=0.01),
    "adamw": lambda L, p: L.optim.AdamW(p, lr=0.01, weight_decay=0.1, amsgrad=True),
    "rmsprop": lambda L, p: L.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda L, p: L.optim.Adagrad(p, lr=0.1),
}


@pytest.mark.parametrize("name", HALF)
@pytest.mark.parametrize("opt", sorted(OPTIMS))
def test_optimizer_steps(opt, name, device):
    g = torch.Generator().manual_seed(3)
    tp = torch.randn(20, generator=g).to(td(name)).requires_grad_(True)
    npar = norch.nn.Parameter(to_norch(tp.detach()).to(device))
    to, no = OPTIMS[opt](torch, [tp]), OPTIMS[opt](norch, [npar])
    for step in range(3):
        grad = torch.randn(20, generator=g).to(td(name))
        tp.grad, npar.grad = grad.clone(), to_norch(grad).to(device)
        to.step()
        no.step()
        assert npar.dtype == nd(name) and npar.device.type == device
        # Each library rounds the update's intermediate steps to the dtype in its own order.
        torch.testing.assert_close(to_torch(npar.detach()).double(), tp.detach().double(), rtol=8 * rtol(name),
                                   atol=8 * rtol(name))


def test_mlp_trained_in_bfloat16_tracks_torch():
    torch.manual_seed(0)
    make = lambda L: L.nn.Sequential(L.nn.Linear(8, 32), L.nn.ReLU(), L.nn.Linear(32, 32), L.nn.ReLU(),
                                     L.nn.Linear(32, 1))
    tm = make(torch).bfloat16()
    nm = make(norch).bfloat16()
    _copy_params(tm, nm)
    topt, nopt = torch.optim.SGD(tm.parameters(), lr=0.1), norch.optim.SGD(nm.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(1)
    X = torch.randn(64, 8, generator=g)
    Y = (X[:, :1] * 0.5 - X[:, 1:2] * X[:, 2:3]).tanh()
    tX, tY = X.bfloat16(), Y.bfloat16()
    nX, nY = to_norch(tX), to_norch(tY)
    tl_hist, nl_hist = [], []
    for _ in range(80):
        topt.zero_grad()
        nopt.zero_grad()
        tl = torch.nn.functional.mse_loss(tm(tX), tY)
        nl = norch.nn.functional.mse_loss(nm(nX), nY)
        tl.backward()
        nl.backward()
        topt.step()
        nopt.step()
        tl_hist.append(tl.item())
        nl_hist.append(nl.item())
    assert nl_hist[-1] < 0.6 * nl_hist[0]  # it learns
    # It tracks torch: the loss curves agree within bfloat16's rounding noise.
    np.testing.assert_allclose(nl_hist, tl_hist, rtol=0.05, atol=0.01)
    for tp, np_ in zip(tm.parameters(), nm.parameters()):
        assert np_.dtype == norch.bfloat16
        torch.testing.assert_close(to_torch(np_.detach()).double(), tp.detach().double(), rtol=0.05, atol=0.02)


@pytest.mark.parametrize("name", HALF)
def test_checkpoint_roundtrip_bit_exact(name, tmp_path):
    x = torch.tensor([1.0 / 3, -0.0, float("inf"), 1e-7, 65504.0], dtype=td(name))
    m = norch.nn.Linear(3, 2).to(nd(name))
    state = {"w": m.state_dict(), "x": to_norch(x), "scalar": to_norch(x[0])}
    path = tmp_path / "ckpt.pt"
    norch.save(state, path)
    back = norch.load(path)
    assert back["x"].dtype == nd(name) and back["scalar"].dim() == 0
    np.testing.assert_array_equal(bits(back["x"]), bits(x))
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(bits(back["w"][k]), bits(v))
    # The file is safetensors: the header names PyTorch's dtype codes.
    raw = path.read_bytes()
    assert (b'"BF16"' if name == "bfloat16" else b'"F16"') in raw
    # Through the pickled path too (an object the safetensors layout cannot describe).
    buf = io.BytesIO()
    norch.save({"obj": {1, 2}, "x": to_norch(x)}, buf)
    buf.seek(0)
    back = norch.load(buf, weights_only=False)
    np.testing.assert_array_equal(bits(back["x"]), bits(x))
    assert back["x"].dtype == nd(name)


def test_dlpack_half_types_share_memory():
    for name in HALF:
        n = norch.tensor([1.5, -2.0, 3.0], dtype=nd(name))
        t = torch.from_dlpack(n)
        assert t.dtype == td(name)
        t[0] = 7
        assert n[0].item() == 7
        back = norch.from_dlpack(t[::2])
        assert back.dtype == nd(name) and back.tolist() == [7.0, 3.0]
        back[1] = -1
        assert t[2].item() == -1

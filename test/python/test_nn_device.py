"""Every fused nn kernel (src/kernels/nn_fused.h, conv.h) on each device against PyTorch,
forward and backward: convolution (im2col/col2im), pooling and resampling, softmax and
the losses, the norms, embedding, dropout and gradient clipping. On the CPU this checks
the CPU kernels; on a GPU the same rows check the CUDA kernels, the CPU run being held to
the same PyTorch reference. Device-side input checks raise the CPU's exceptions."""
import numpy as np
import pytest
import torch

import norch

from _oracle import T, assert_close

RNG = np.random.default_rng(11)


def rand(*shape):
    return RNG.standard_normal(shape)


def pos(*shape):
    return RNG.uniform(0.05, 0.95, shape)


def labels(n, c, *extra):
    return RNG.integers(0, c, (n,) + extra).astype(np.int64)


# (name, fn(L, *inputs) for L in (norch, torch), inputs): float64 arrays get gradients,
# integer arrays are passed as they are.
CASES = [
    ("conv2d", lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, stride=2, padding=1, dilation=1),
     [rand(2, 3, 9, 8), rand(4, 3, 3, 3), rand(4)]),
    ("conv2d_dilated_groups", lambda L, x, w: L.nn.functional.conv2d(x, w, padding=(2, 1), dilation=2, groups=2),
     [rand(2, 4, 7, 7), rand(6, 2, 3, 2)]),
    ("conv1d", lambda L, x, w, b: L.nn.functional.conv1d(x, w, b, stride=3, padding=2),
     [rand(3, 2, 17), rand(5, 2, 4), rand(5)]),
    ("conv_transpose2d", lambda L, x, w, b: L.nn.functional.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                                             output_padding=1),
     [rand(2, 3, 5, 4), rand(3, 2, 3, 3), rand(2)]),
    ("max_pool2d", lambda L, x: L.nn.functional.max_pool2d(x, 3, stride=2, padding=1), [rand(2, 3, 9, 7)]),
    ("max_pool2d_overlap_dilated", lambda L, x: L.nn.functional.max_pool2d(x, 2, stride=1, dilation=2),
     [rand(2, 2, 6, 6)]),
    ("avg_pool2d", lambda L, x: L.nn.functional.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False),
     [rand(2, 3, 8, 7)]),
    ("adaptive_avg_pool2d", lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, (3, 5)), [rand(2, 3, 7, 11)]),
    ("adaptive_max_pool2d", lambda L, x: L.nn.functional.adaptive_max_pool2d(x, (2, 3)), [rand(2, 3, 7, 8)]),
    ("interpolate_bilinear", lambda L, x: L.nn.functional.interpolate(x, size=(7, 9), mode="bilinear",
                                                                      align_corners=False), [rand(2, 2, 4, 5)]),
    ("interpolate_nearest", lambda L, x: L.nn.functional.interpolate(x, scale_factor=2, mode="nearest"),
     [rand(1, 2, 3, 4)]),
    ("pad_reflect", lambda L, x: L.nn.functional.pad(x, (2, 1, 1, 2), mode="reflect"), [rand(2, 3, 5, 6)]),
    ("pad_replicate", lambda L, x: L.nn.functional.pad(x, (3, 1, 0, 2), mode="replicate"), [rand(2, 3, 4, 4)]),
    ("softmax_last", lambda L, x: L.softmax(x, dim=-1), [rand(5, 40)]),
    ("softmax_long_row", lambda L, x: L.softmax(x * 20, dim=1), [rand(3, 1000)]),
    ("softmax_inner", lambda L, x: L.softmax(x, dim=1), [rand(2, 7, 3, 4)]),
    ("log_softmax_last", lambda L, x: L.log_softmax(x, dim=-1), [rand(6, 33)]),
    ("log_softmax_inner", lambda L, x: L.log_softmax(x * 50, dim=0), [rand(9, 5)]),
    ("cross_entropy", lambda L, x, t: L.nn.functional.cross_entropy(x, L.tensor(t)), [rand(8, 5), labels(8, 5)]),
    ("cross_entropy_spatial_weight_ignore",
     lambda L, x, w, t: L.nn.functional.cross_entropy(x, L.tensor(t), weight=w.detach(), ignore_index=1),
     [rand(3, 4, 5, 2), pos(4), labels(3, 4, 5, 2)]),
    ("cross_entropy_smoothing", lambda L, x, t: L.nn.functional.cross_entropy(x, L.tensor(t), label_smoothing=0.1),
     [rand(6, 4), labels(6, 4)]),
    ("nll_loss_sum", lambda L, x, t: L.nn.functional.nll_loss(L.log_softmax(x, 1), L.tensor(t), reduction="sum"),
     [rand(7, 3), labels(7, 3)]),
    ("binary_cross_entropy", lambda L, p, y: L.nn.functional.binary_cross_entropy(p, y.detach()),
     [pos(4, 3), pos(4, 3)]),
    ("mse_loss", lambda L, a, b: L.nn.functional.mse_loss(a, b), [rand(4, 5), rand(4, 5)]),
    ("layer_norm", lambda L, x, w, b: L.nn.functional.layer_norm(x, (6,), w, b, eps=1e-5),
     [rand(4, 3, 6), rand(6), rand(6)]),
    ("layer_norm_2d_no_affine", lambda L, x: L.nn.functional.layer_norm(x, (3, 5)), [rand(4, 3, 5) * 3 + 2]),
    ("group_norm", lambda L, x, w, b: L.nn.functional.group_norm(x, 2, w, b), [rand(3, 4, 5, 2), rand(4), rand(4)]),
    ("group_norm_one_group", lambda L, x: L.nn.functional.group_norm(x, 1), [rand(2, 3, 7)]),
    ("batch_norm_train", lambda L, x, w, b: L.nn.functional.batch_norm(x, None, None, w, b, training=True),
     [rand(5, 3, 4, 2), rand(3), rand(3)]),
    ("batch_norm_1d_no_affine", lambda L, x: L.nn.functional.batch_norm(x, None, None, training=True),
     [rand(6, 4)]),
    ("instance_norm", lambda L, x: L.nn.functional.instance_norm(x), [rand(2, 3, 6)]),
    ("embedding", lambda L, w, i: L.nn.functional.embedding(L.tensor(i), w),
     [rand(10, 4), RNG.integers(0, 10, (3, 5))]),
    ("embedding_padding_repeats", lambda L, w, i: L.nn.functional.embedding(L.tensor(i), w, padding_idx=2),
     [rand(6, 3), np.array([[2, 1, 1], [5, 2, 1]])]),
]


def _inputs(lib, arrays, device):
    out = []
    for a in arrays:
        if a.dtype.kind == "f":
            out.append(T(a, device=device, requires_grad=True) if lib is norch else torch.tensor(a, requires_grad=True))
        else:
            out.append(a)
    return out


class _On:
    """norch with tensor() placing integer arguments (targets, indices) on the device."""

    def __init__(self, device):
        self.device = device

    def __getattr__(self, name):
        return getattr(norch, name)

    def tensor(self, a):
        return norch.tensor(a, device=self.device)


@pytest.mark.parametrize("name,fn,arrays", CASES, ids=[c[0] for c in CASES])
def test_forward_and_backward_match_torch(name, fn, arrays, device):
    ours, theirs = _inputs(norch, arrays, device), _inputs(torch, arrays, device)
    out, ref = fn(_On(device), *ours), fn(torch, *theirs)
    if isinstance(ref, tuple):
        out, ref = out[0], ref[0]
    assert out.device.type == device
    assert_close(out, ref, rtol=1e-9, atol=1e-10)
    g = RNG.standard_normal(tuple(ref.shape))
    (out * T(g, device=device)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    for o, t in zip(ours, theirs):
        if isinstance(t, torch.Tensor) and t.grad is not None:
            assert o.grad is not None and o.grad.device.type == device, name
            assert_close(o.grad, t.grad, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name,fn,arrays", [c for c in CASES if c[0] in (
    "conv2d", "max_pool2d", "softmax_last", "log_softmax_inner", "layer_norm", "group_norm", "batch_norm_train",
    "cross_entropy", "adaptive_avg_pool2d")], ids=lambda v: v if isinstance(v, str) else "")
def test_float32_matches_the_float64_result(name, fn, arrays, device):
    # The float32 kernels (accumulating in double where the CPU does) agree with the float64 run.
    ours32 = [T(a.astype(np.float32), device=device) if a.dtype.kind == "f" else a for a in arrays]
    ours64 = [T(a, device=device) if a.dtype.kind == "f" else a for a in arrays]
    out32, out64 = fn(_On(device), *ours32), fn(_On(device), *ours64)
    if isinstance(out32, tuple):
        out32, out64 = out32[0], out64[0]
    assert out32.dtype == norch.float32
    np.testing.assert_allclose(out32.detach().cpu().numpy(), out64.detach().cpu().numpy(), rtol=2e-4, atol=2e-5)


def test_max_pool_indices_and_double_backward(device):
    # The gradient's own gradient with respect to grad_output gathers at the indices
    # (plane_gather); the first backward scatters into them (plane_scatter).
    x = rand(2, 2, 6, 5)
    ours = T(x, device=device, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out, idx = norch.nn.functional.max_pool2d(ours, 2, stride=1, return_indices=True)
    ref, ridx = torch.nn.functional.max_pool2d(theirs, 2, stride=1, return_indices=True)
    np.testing.assert_array_equal(idx.cpu().numpy(), ridx.numpy())
    go_np = rand(*ref.shape)
    go, tgo = T(go_np, device=device, requires_grad=True), torch.tensor(go_np, requires_grad=True)
    (g,) = norch.autograd.grad(out, ours, grad_outputs=go, create_graph=True)
    (rg,) = torch.autograd.grad(ref, theirs, grad_outputs=tgo, create_graph=True)
    assert_close(g, rg)
    v = rand(*x.shape)
    (ggo,) = norch.autograd.grad((g * T(v, device=device)).sum(), go)
    (rggo,) = torch.autograd.grad((rg * torch.tensor(v)).sum(), tgo)
    assert ggo.device.type == device
    assert_close(ggo, rggo)


def test_softmax_handles_nan_and_inf_rows_like_torch(device):
    x = np.array([[1.0, np.nan, 2.0], [-np.inf, -np.inf, -np.inf], [np.inf, 0.0, 1.0], [1e300, 1e300, -1e300]])
    for fn in ("softmax", "log_softmax"):
        out = getattr(norch, fn)(T(x, device=device), dim=1)
        ref = getattr(torch, fn)(torch.tensor(x), dim=1)
        assert_close(out, ref)


def test_bad_class_index_raises_on_every_device(device):
    x = T(rand(4, 3), device=device)
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        norch.nn.functional.cross_entropy(x, norch.tensor([0, 7, 1, 2], device=device))
    with pytest.raises(IndexError, match="out of bounds"):
        norch.nn.functional.nll_loss(x, norch.tensor([0, -3, 1, 2], device=device))
    # The process (and the device) stay usable.
    out = norch.nn.functional.cross_entropy(x, norch.tensor([0, 2, 1, 2], device=device))
    assert np.isfinite(out.item())


def test_bad_embedding_index_raises_on_every_device(device):
    w = T(rand(5, 2), device=device)
    with pytest.raises(IndexError, match="index out of range in self"):
        norch.nn.functional.embedding(norch.tensor([1, 5], device=device), w)
    with pytest.raises(IndexError, match="index out of range in self"):
        norch.nn.functional.embedding(norch.tensor([-1], device=device), w)
    assert norch.nn.functional.embedding(norch.tensor([4], device=device), w).shape == (1, 2)


def test_binary_cross_entropy_range_check_on_every_device(device):
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        norch.nn.functional.binary_cross_entropy(T(np.array([0.5, 1.5]), device=device),
                                                 T(np.array([1.0, 0.0]), device=device))


def test_empty_batches_on_every_device(device):
    F = norch.nn.functional
    x = T(np.zeros((0, 3, 5, 5)), device=device, requires_grad=True)
    w = T(rand(2, 3, 3, 3), device=device, requires_grad=True)
    out = F.conv2d(x, w)
    assert out.shape == (0, 2, 3, 3)
    out.sum().backward()
    assert np.all(w.grad.cpu().numpy() == 0)
    assert F.softmax(T(np.zeros((0, 4)), device=device), dim=1).shape == (0, 4)
    assert F.max_pool2d(T(np.zeros((0, 1, 4, 4)), device=device), 2).shape == (0, 1, 2, 2)
    assert F.layer_norm(T(np.zeros((0, 4)), device=device), (4,)).shape == (0, 4)


def test_dropout_mask_scales_and_backward(device):
    x = T(np.ones((64, 64)), device=device, requires_grad=True)
    out = norch.nn.functional.dropout(x, p=0.25, training=True)
    vals = out.detach().cpu().numpy()
    assert set(np.unique(vals)).issubset({0.0, 1.0 / 0.75})
    assert 0.15 < np.mean(vals == 0) < 0.35
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), vals)


def test_clip_grad_norm_on_device(device):
    params = [T(rand(3, 4), device=device, requires_grad=True), T(rand(5), device=device, requires_grad=True)]
    tparams = [torch.tensor(p.detach().cpu().numpy(), requires_grad=True) for p in params]
    grads = [rand(3, 4) * 3, rand(5) * 3]
    for p, t, g in zip(params, tparams, grads):
        p.grad, t.grad = T(g, device=device), torch.tensor(g)
    for norm_type in (2.0, 1.0, float("inf")):
        total = norch.nn.utils.clip_grad_norm_(params, 0.5, norm_type=norm_type)
        ref = torch.nn.utils.clip_grad_norm_(tparams, 0.5, norm_type=norm_type)
        assert total.device.type == device
        assert_close(total, ref)
        for p, t in zip(params, tparams):
            assert p.grad.device.type == device
            assert_close(p.grad, t.grad)


OPTIMIZERS = [
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
]


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_fused_step_over_many_parameters_matches_torch(name, kwargs, device):
    # More parameters than one launch takes, one larger than one launch's blocks, and empty ones
    # (Note [Multi-tensor apply]).
    sizes = [(0,), (1,), (5, 3), (4097,), (1_400_000,)] + [(7, 2)] * 30 + [(0, 4)]
    init = [RNG.standard_normal(s) for s in sizes]
    ours = [T(x, device=device, requires_grad=True) for x in init]
    theirs = [torch.tensor(x, requires_grad=True) for x in init]
    opt = getattr(norch.optim, name)(ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, foreach=False, **kwargs)
    for _ in range(2):
        grads = [RNG.standard_normal(s) for s in sizes]
        for p, t, g in zip(ours, theirs, grads):
            p.grad, t.grad = T(g, device=device), torch.tensor(g)
        opt.step()
        topt.step()
    for p, t in zip(ours, theirs):
        assert p.device.type == device
        assert_close(p, t, rtol=1e-10, atol=1e-12)

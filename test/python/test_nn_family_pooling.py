"""3-D, adaptive, power-average and fractional pooling, max-unpooling, the padding layers and
the 3-D / transposed convolutions against PyTorch (values, indices, input and weight
gradients, batch-less inputs, reprs, errors) and float64 gradcheck of the functional ops."""
import numpy as np
import pytest
import torch  # the oracle: required, never skipped
import torch.nn.functional as TF

import norch
import norch.nn as nn
import norch.nn.functional as F
from norch.autograd import gradcheck
from _nn_family_util import compare_call, compare_modules, randn, rng, to_n, close

POOL_MODULES = [
    (lambda M: M.MaxPool3d(2), (2, 3, 6, 7, 5)),
    (lambda M: M.MaxPool3d((3, 2, 2), (2, 1, 2), 1, (1, 2, 1), ceil_mode=True), (2, 3, 6, 7, 5)),
    (lambda M: M.MaxPool3d(3, 2, 1), (3, 5, 6, 7)),
    (lambda M: M.AvgPool3d(2), (2, 3, 6, 7, 5)),
    (lambda M: M.AvgPool3d(3, 2, 1, ceil_mode=True), (2, 3, 6, 7, 5)),
    (lambda M: M.AvgPool3d(3, 2, 1, ceil_mode=True, count_include_pad=False), (2, 3, 6, 7, 5)),
    (lambda M: M.AvgPool3d((3, 2, 3), (2, 1, 2), (1, 0, 1), divisor_override=5), (3, 6, 7, 5)),
    (lambda M: M.AdaptiveAvgPool1d(3), (2, 3, 10)),
    (lambda M: M.AdaptiveAvgPool1d(4), (3, 7)),
    (lambda M: M.AdaptiveAvgPool3d((4, 3, 2)), (2, 3, 6, 7, 5)),
    (lambda M: M.AdaptiveAvgPool3d((None, 5, 3)), (3, 6, 7, 5)),
    (lambda M: M.AdaptiveMaxPool1d(4), (2, 3, 11)),
    (lambda M: M.AdaptiveMaxPool2d((3, 5)), (2, 3, 7, 9)),
    (lambda M: M.AdaptiveMaxPool2d(3), (3, 7, 9)),
    (lambda M: M.AdaptiveMaxPool3d(3), (2, 3, 5, 6, 7)),
    (lambda M: M.LPPool1d(2, 3), (2, 3, 9)),
    (lambda M: M.LPPool1d(1.5, 3, 2), (3, 10)),
    (lambda M: M.LPPool2d(2, (3, 2), 2, ceil_mode=True), (2, 3, 9, 8)),
    (lambda M: M.LPPool3d(2, 2), (2, 3, 6, 7, 5)),
]


@pytest.mark.parametrize("make,shape", POOL_MODULES)
def test_pool_modules(make, shape):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    x = randn(*shape)
    if "LPPool" in type(theirs).__name__:
        x = np.abs(x) + 0.1  # the p-th root of a sum of p-th powers is smooth away from 0
    compare_modules(ours, theirs, x)


@pytest.mark.parametrize("make,shape", [(lambda M: M.MaxPool3d(2, return_indices=True), (2, 3, 6, 7, 5)),
                                        (lambda M: M.MaxPool3d(3, 2, 1, return_indices=True), (3, 5, 6, 7)),
                                        (lambda M: M.AdaptiveMaxPool1d(4, True), (2, 3, 11)),
                                        (lambda M: M.AdaptiveMaxPool2d(3, True), (2, 3, 7, 9)),
                                        (lambda M: M.AdaptiveMaxPool3d((2, 3, 4), True), (3, 5, 6, 7))])
def test_max_pool_indices(make, shape):
    compare_call(make(nn), make(torch.nn), [randn(*shape)])


@pytest.mark.parametrize("name,args", [
    ("max_pool3d", (2,)), ("avg_pool3d", (3, 2, 1)), ("adaptive_avg_pool3d", ((2, 3, 2),)),
    ("adaptive_max_pool1d", (3,)), ("adaptive_max_pool2d", ((2, 3),)), ("adaptive_max_pool3d", (2,)),
])
def test_pool_gradcheck(name, args):
    shape = {"adaptive_max_pool1d": (2, 2, 7), "adaptive_max_pool2d": (2, 2, 5, 6)}.get(name, (1, 2, 4, 5, 3))
    x = to_n(randn(*shape), True)
    assert gradcheck(lambda a: getattr(F, name)(a, *args), (x,))


@pytest.mark.parametrize("n,shape,kernel,out", [(2, (2, 3, 11, 9), 3, (5, 4)), (2, (3, 10, 10), 2, (4, 6)),
                                                (3, (2, 3, 7, 8, 9), 2, (3, 4, 5)), (3, (2, 7, 8, 9), (2, 3, 2), 3)])
def test_fractional_max_pool_with_shared_samples(n, shape, kernel, out):
    batch = shape[0] if len(shape) == n + 2 else 1
    channels = shape[-n - 1]
    samples = rng.random((batch, channels, n))
    ours = getattr(nn, f"FractionalMaxPool{n}d")(kernel, output_size=out, return_indices=True,
                                                  _random_samples=norch.tensor(samples))
    theirs = getattr(torch.nn, f"FractionalMaxPool{n}d")(kernel, output_size=out, return_indices=True,
                                                         _random_samples=torch.tensor(samples))
    compare_call(ours, theirs, [randn(*shape)])


def test_fractional_max_pool_ratio_random_and_errors():
    x = norch.randn(2, 3, 10, 12, requires_grad=True)
    y = F.fractional_max_pool2d(x, 2, output_ratio=0.5)
    assert y.shape == (2, 3, 5, 6)
    y.sum().backward()
    assert x.grad.numpy().sum() == 2 * 3 * 5 * 6  # each output picks one input element
    with pytest.raises(ValueError, match="output_size or an output_ratio"):
        F.fractional_max_pool2d(x, 2)
    with pytest.raises(ValueError):
        nn.FractionalMaxPool2d(2, output_ratio=1.5)
    with pytest.raises(ValueError):
        torch.nn.FractionalMaxPool2d(2, output_ratio=1.5)


@pytest.mark.parametrize("n,shape", [(1, (2, 3, 8)), (2, (2, 3, 6, 8)), (3, (2, 3, 4, 6, 4)), (2, (3, 6, 8))])
def test_max_unpool_inverts_max_pool(n, shape):
    x = randn(*shape)
    pool_n = getattr(nn, f"MaxPool{n}d")(2, return_indices=True)
    pool_t = getattr(torch.nn, f"MaxPool{n}d")(2, return_indices=True)
    vn, idx_n = pool_n(norch.tensor(x))
    vt, idx_t = pool_t(torch.tensor(x))
    un, ut = getattr(nn, f"MaxUnpool{n}d")(2), getattr(torch.nn, f"MaxUnpool{n}d")(2)
    assert repr(un) == repr(ut)
    v = vt.detach().numpy()
    compare_call(lambda a, i: un(a, i), lambda a, i: ut(a, i), [v, idx_t.numpy()])
    compare_call(lambda a, i: un(a, i, output_size=shape[-n:]), lambda a, i: ut(a, i, output_size=shape[-n:]),
                 [v, idx_t.numpy()])
    # gradcheck of the functional op
    assert gradcheck(lambda a: getattr(F, f"max_unpool{n}d")(a, idx_n, 2), (to_n(v, True),))


def test_max_unpool_errors():
    v, i = F.max_pool2d(norch.randn(1, 1, 4, 4), 2, return_indices=True)
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool2d(v, i, 2, output_size=(9, 9))
    with pytest.raises(ValueError):
        v_t, i_t = TF.max_pool2d(torch.randn(1, 1, 4, 4), 2, return_indices=True)
        TF.max_unpool2d(v_t, i_t, 2, output_size=(9, 9))


PAD_MODULES = [
    ("ZeroPad1d", 2, (2, 3, 5)), ("ZeroPad1d", (1, 3), (3, 5)), ("ZeroPad2d", (1, 0, 2, 3), (2, 3, 4, 5)),
    ("ZeroPad3d", 1, (2, 3, 3, 4, 5)), ("ConstantPad1d", (2, 1), (2, 3, 5)), ("ConstantPad2d", 2, (3, 4, 5)),
    ("ConstantPad3d", (1, 2, 0, 1, 2, 0), (2, 3, 3, 4, 5)), ("ReflectionPad1d", (2, 3), (2, 3, 5)),
    ("ReflectionPad1d", 2, (3, 5)), ("ReflectionPad2d", (1, 2, 3, 0), (2, 3, 4, 5)),
    ("ReflectionPad3d", (1, 2, 0, 3, 2, 1), (2, 3, 4, 5, 6)), ("ReflectionPad3d", 1, (3, 4, 5, 6)),
    ("ReplicationPad1d", (3, 1), (2, 3, 5)), ("ReplicationPad2d", 2, (2, 3, 4, 5)),
    ("ReplicationPad3d", (1, 2, 0, 3, 2, 1), (2, 3, 4, 5, 6)), ("ReplicationPad3d", 2, (3, 4, 5, 6)),
    ("CircularPad1d", (2, 3), (2, 3, 5)), ("CircularPad2d", (1, 2, 3, 0), (2, 3, 4, 5)),
    ("CircularPad3d", (1, 2, 0, 3, 2, 1), (2, 3, 4, 5, 6)), ("CircularPad3d", 1, (3, 4, 5, 6)),
]


@pytest.mark.parametrize("name,padding,shape", PAD_MODULES)
def test_padding_modules(name, padding, shape):
    args = (padding, 1.5) if name.startswith("Constant") else (padding,)
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    compare_modules(ours, theirs, randn(*shape))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad3d_composite_gradcheck_and_errors(mode):
    x = to_n(randn(1, 2, 3, 4, 3), True)
    assert gradcheck(lambda a: F.pad(a, [1, 2, 2, 0, 1, 1], mode), (x,))
    if mode == "reflect":
        with pytest.raises(RuntimeError, match="Padding size should be less than"):
            F.pad(norch.randn(1, 1, 2, 2, 2), [2, 2, 2, 2, 2, 2], mode)
        with pytest.raises(RuntimeError):
            TF.pad(torch.randn(1, 1, 2, 2, 2), [2, 2, 2, 2, 2, 2], mode)
    with pytest.raises(ValueError, match="expected 4D or 5D input"):
        nn.ReflectionPad3d(1)(norch.randn(3, 4, 5))


CONV_MODULES = [
    (lambda M: M.Conv3d(4, 6, 3), (2, 4, 5, 6, 5)),
    (lambda M: M.Conv3d(4, 6, (3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1), dilation=(1, 2, 1), groups=2),
     (2, 4, 6, 7, 5)),
    (lambda M: M.Conv3d(4, 2, 2, padding="same", bias=False), (4, 5, 6, 5)),
    (lambda M: M.Conv3d(2, 3, 3, padding=1, padding_mode="reflect"), (1, 2, 4, 5, 4)),
    (lambda M: M.Conv3d(2, 3, 3, padding=1, padding_mode="circular"), (1, 2, 4, 5, 4)),
    (lambda M: M.Conv2d(2, 3, 3, padding=2, padding_mode="replicate"), (2, 2, 5, 6)),
    (lambda M: M.Conv1d(2, 3, 3, padding=1, padding_mode="reflect"), (2, 2, 7)),
    (lambda M: M.Conv2d(2, 3, 3, padding="same", padding_mode="reflect"), (2, 2, 5, 6)),
    (lambda M: M.Conv2d(2, 3, 2, padding="same", padding_mode="circular"), (2, 2, 5, 6)),
    (lambda M: M.ConvTranspose1d(4, 6, 3), (2, 4, 7)),
    (lambda M: M.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2), (2, 4, 7)),
    (lambda M: M.ConvTranspose1d(4, 3, 2, bias=False), (4, 7)),
    (lambda M: M.ConvTranspose3d(4, 6, 3), (2, 4, 3, 4, 5)),
    (lambda M: M.ConvTranspose3d(4, 6, (3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1), output_padding=(1, 0, 1),
                                 groups=2, dilation=(1, 2, 1)), (2, 4, 3, 4, 5)),
    (lambda M: M.ConvTranspose3d(2, 3, 2, stride=2), (2, 3, 4, 3)),
]


@pytest.mark.parametrize("make,shape", CONV_MODULES)
def test_conv_modules(make, shape):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(p.shape)) for k, p in ours.named_parameters()] == \
        [(k, tuple(p.shape)) for k, p in theirs.named_parameters()]
    compare_modules(ours, theirs, randn(*shape), rtol=1e-6, atol=1e-9)


def test_conv_transpose_output_size():
    ours, theirs = nn.ConvTranspose3d(2, 3, 3, stride=2), torch.nn.ConvTranspose3d(2, 3, 3, stride=2)
    ours.double()
    theirs.double()
    from _nn_family_util import copy_weights
    copy_weights(ours, theirs)
    x = randn(1, 2, 3, 3, 3)
    close(ours(norch.tensor(x), output_size=(8, 7, 8)), theirs(torch.tensor(x), output_size=(8, 7, 8)))
    with pytest.raises(ValueError, match="requested an output size"):
        ours(norch.tensor(x), output_size=(12, 12, 12))


@pytest.mark.parametrize("name,args,kw", [
    ("conv3d", ((1, 2, 4, 4, 3), (3, 2, 2, 2, 2)), {"stride": 2, "padding": 1}),
    ("conv_transpose1d", ((1, 2, 5), (2, 3, 3)), {"stride": 2}),
    ("conv_transpose3d", ((1, 2, 3, 2, 3), (2, 2, 2, 2, 2)), {"stride": (2, 1, 1), "padding": (1, 0, 0)}),
])
def test_conv_gradcheck(name, args, kw):
    xs = [to_n(randn(*s), True) for s in args]
    assert gradcheck(lambda a, w: getattr(F, name)(a, w, **kw), tuple(xs))


def test_conv_errors_like_torch():
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv3d(2, 3, 3, padding_mode="mirror")
    with pytest.raises(ValueError):
        torch.nn.Conv3d(2, 3, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose3d(2, 3, 3, padding_mode="reflect")
    with pytest.raises(ValueError):
        torch.nn.ConvTranspose3d(2, 3, 3, padding_mode="reflect")
    with pytest.raises(RuntimeError, match="to have 4 channels"):
        F.conv3d(norch.randn(1, 3, 4, 4, 4), norch.randn(2, 4, 2, 2, 2))
    with pytest.raises(RuntimeError):
        TF.conv3d(torch.randn(1, 3, 4, 4, 4), torch.randn(2, 4, 2, 2, 2))


def test_pool_errors_like_torch():
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool3d(norch.randn(1, 1, 4, 4, 4), 2, padding=2)
    with pytest.raises(RuntimeError):
        TF.max_pool3d(torch.randn(1, 1, 4, 4, 4), 2, padding=2)
    with pytest.raises(RuntimeError, match="Expected 4D or 5D"):
        F.avg_pool3d(norch.randn(4, 4, 4), 2)
    with pytest.raises(RuntimeError):
        TF.avg_pool3d(torch.randn(4, 4), 2)


@pytest.mark.parametrize("pad", [0, 1, 2])
def test_conv_tbc(pad):
    compare_call(lambda x, w, b: F.conv_tbc(x, w, b, pad), lambda x, w, b: torch.conv_tbc(x, w, b, pad),
                 [randn(7, 2, 3), randn(3, 3, 4), randn(4)])
    with pytest.raises(RuntimeError, match="input channels"):
        F.conv_tbc(norch.randn(7, 2, 3), norch.randn(3, 5, 4), norch.randn(4))

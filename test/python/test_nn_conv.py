"""Convolution, pooling, padding and interpolation ops against PyTorch (CPU) as the
oracle: forward values, gradients, finite-difference gradchecks in float64,
double backward, and PyTorch's exception types for bad input."""
import numpy as np
import pytest
import torch  # the oracle for these tests
import torch.nn.functional as TF

import norch
import norch.nn.functional as F

from _oracle import check_op, to_np

RNG = np.random.default_rng(0)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same.")


def arrays(shapes, dtype=np.float64):
    return [RNG.standard_normal(s).astype(dtype) for s in shapes]


def conv_input(a, noncontig=False, requires_grad=False, device="cpu"):
    """A norch tensor of `a`; with noncontig, the same values through a transposed view."""
    if noncontig:
        t = norch.tensor(np.ascontiguousarray(np.swapaxes(a, -1, -2)), device=device)
        t = t.transpose(-1, -2)
        assert not t.is_contiguous() or min(a.shape[-2:]) == 1 or a.size == 0
    else:
        t = norch.tensor(a, device=device)
    if requires_grad:
        t = t.detach().requires_grad_(True) if noncontig else norch.tensor(a, requires_grad=True, device=device)
    return t


# One row per case: (op name, input shapes, kwargs). The first shape is the input;
# the rest are weight and bias for the conv ops.
FORWARD_CASES = [
    ("conv2d", [(2, 3, 7, 8), (4, 3, 3, 3), (4,)], {}),
    ("conv2d", [(2, 3, 7, 8), (4, 3, 3, 3)], dict(stride=2, padding=1)),
    ("conv2d", [(2, 3, 9, 8), (4, 3, 3, 2), (4,)], dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1))),
    ("conv2d", [(2, 4, 6, 6), (6, 2, 3, 3), (6,)], dict(groups=2)),
    ("conv2d", [(1, 4, 5, 5), (4, 1, 3, 3)], dict(groups=4, padding=1)),
    ("conv2d", [(1, 3, 6, 5), (2, 3, 1, 1), (2,)], {}),
    ("conv2d", [(3, 2, 9, 5), (5, 2, 2, 4), (5,)], dict(stride=3)),
    ("conv2d", [(2, 3, 7, 6), (4, 3, 4, 3), (4,)], dict(padding="same")),
    ("conv2d", [(2, 3, 7, 6), (4, 3, 3, 2)], dict(padding="same", dilation=2)),
    ("conv2d", [(2, 3, 7, 6), (4, 3, 3, 2)], dict(padding="valid")),
    ("conv2d", [(3, 7, 6), (4, 3, 3, 3), (4,)], dict(padding=1)),            # unbatched
    ("conv2d", [(0, 3, 7, 6), (4, 3, 3, 3), (4,)], {}),                       # empty batch
    ("conv2d", [(64, 1, 28, 28), (6, 1, 5, 5), (6,)], {}),                    # LeNet layer 1
    ("conv1d", [(2, 3, 11), (4, 3, 3), (4,)], {}),
    ("conv1d", [(2, 4, 11), (6, 2, 3)], dict(stride=2, padding=2, dilation=2, groups=2)),
    ("conv1d", [(2, 3, 10), (4, 3, 4)], dict(padding="same")),
    ("conv1d", [(3, 10), (4, 3, 4), (4,)], {}),
    ("conv_transpose2d", [(2, 3, 4, 5), (3, 4, 3, 3), (4,)], {}),
    ("conv_transpose2d", [(2, 3, 4, 5), (3, 2, 3, 2)], dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose2d", [(2, 4, 4, 3), (4, 3, 3, 3), (6,)], dict(groups=2, stride=(2, 1))),
    ("conv_transpose2d", [(1, 2, 4, 4), (2, 2, 3, 3)], dict(dilation=2, output_padding=1)),
    ("conv_transpose2d", [(3, 4, 5), (3, 2, 2, 2), (2,)], dict(stride=2)),
    ("max_pool2d", [(2, 3, 8, 8)], dict(kernel_size=2)),
    ("max_pool2d", [(2, 3, 9, 7)], dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool2d", [(2, 3, 9, 7)], dict(kernel_size=(2, 3), stride=(1, 2), dilation=2)),
    ("max_pool2d", [(2, 3, 9, 7)], dict(kernel_size=3, stride=2, ceil_mode=True)),
    ("max_pool2d", [(3, 9, 7)], dict(kernel_size=2, padding=1, ceil_mode=True)),
    ("max_pool1d", [(2, 3, 11)], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool1d", [(3, 10)], dict(kernel_size=2, dilation=3)),
    ("avg_pool2d", [(2, 3, 8, 8)], dict(kernel_size=2)),
    ("avg_pool2d", [(2, 3, 9, 7)], dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d", [(2, 3, 9, 7)], dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avg_pool2d", [(2, 3, 9, 7)], dict(kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", [(2, 3, 9, 7)], dict(kernel_size=3, ceil_mode=True, count_include_pad=False)),
    ("avg_pool2d", [(3, 9, 7)], dict(kernel_size=2, padding=1, divisor_override=3)),
    ("avg_pool1d", [(2, 3, 11)], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool1d", [(3, 11)], dict(kernel_size=4, count_include_pad=False, padding=2)),
    ("adaptive_avg_pool2d", [(2, 3, 7, 9)], dict(output_size=(3, 4))),
    ("adaptive_avg_pool2d", [(2, 3, 7, 9)], dict(output_size=(None, 2))),
    ("adaptive_avg_pool2d", [(3, 5, 5)], dict(output_size=(7, 11))),
    ("adaptive_avg_pool2d", [(2, 3, 7, 9)], dict(output_size=1)),
    ("adaptive_avg_pool1d", [(2, 3, 10)], dict(output_size=4)),
    ("pad", [(2, 3, 4, 5)], dict(pad=(1, 2))),
    ("pad", [(2, 3, 4, 5)], dict(pad=(1, 2, 3, 0), value=1.5)),
    ("pad", [(2, 3, 4, 5)], dict(pad=(-1, 2, 0, -2))),
    ("pad", [(2, 3, 4, 5)], dict(pad=(1, 1, 0, 2, 2, 1))),
    ("pad", [(2, 3, 5)], dict(pad=(2, 3), mode="reflect")),
    ("pad", [(2, 3, 4, 5)], dict(pad=(2, 1, 3, 1), mode="reflect")),
    ("pad", [(3, 4, 5)], dict(pad=(2, 1, 3, 1), mode="reflect")),
    ("pad", [(2, 3, 4, 5)], dict(pad=(2, 1, 3, 4), mode="replicate")),
    ("pad", [(3, 5)], dict(pad=(4, 1), mode="replicate")),
    ("pad", [(2, 3, 4, 5)], dict(pad=(2, 1, 3, 4), mode="circular")),
    ("interpolate", [(2, 3, 4, 5)], dict(size=(7, 9))),
    ("interpolate", [(2, 3, 4, 5)], dict(scale_factor=2)),
    ("interpolate", [(2, 3, 4, 5)], dict(scale_factor=(1.5, 0.7))),
    ("interpolate", [(2, 3, 7, 9)], dict(size=(3, 4))),
    ("interpolate", [(2, 3, 4, 5)], dict(size=(7, 9), mode="bilinear")),
    ("interpolate", [(2, 3, 4, 5)], dict(size=(7, 9), mode="bilinear", align_corners=True)),
    ("interpolate", [(2, 3, 7, 9)], dict(size=(3, 4), mode="bilinear", align_corners=False)),
    ("interpolate", [(2, 3, 4, 5)], dict(scale_factor=1.7, mode="bilinear")),
    ("interpolate", [(2, 3, 4, 5)], dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True)),
    ("interpolate", [(2, 3, 5, 1)], dict(size=(1, 4), mode="bilinear", align_corners=True)),
    ("interpolate", [(2, 3, 6)], dict(size=11, mode="linear")),
    ("interpolate", [(2, 3, 6)], dict(scale_factor=3, mode="nearest")),
    ("interpolate", [(2, 3, 7, 9)], dict(size=(3, 4), mode="area")),
    ("unfold", [(2, 3, 6, 5)], dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1))),
    ("unfold", [(3, 6, 5)], dict(kernel_size=3)),
    ("fold", [(2, 12, 12)], dict(output_size=(4, 5), kernel_size=2)),
    ("fold", [(12, 6)], dict(output_size=(5, 4), kernel_size=(2, 2), stride=2, padding=1, dilation=(1, 2))),
    # empty batches
    ("conv_transpose2d", [(0, 3, 4, 5), (3, 2, 3, 3), (2,)], dict(stride=2)),
    ("conv1d", [(0, 3, 11), (4, 3, 3), (4,)], {}),
    ("max_pool2d", [(0, 3, 8, 8)], dict(kernel_size=2)),
    ("avg_pool2d", [(0, 3, 8, 8)], dict(kernel_size=2)),
    ("adaptive_avg_pool2d", [(0, 3, 7, 9)], dict(output_size=(3, 4))),
    ("pad", [(0, 3, 4, 5)], dict(pad=(1, 2, 1, 1), mode="reflect")),
    ("pad", [(2, 0, 4, 5)], dict(pad=(1, 2))),
    ("interpolate", [(0, 3, 4, 5)], dict(size=(7, 9), mode="bilinear")),
]


def _ids(cases):
    return [f"{c[0]}-{i}" for i, c in enumerate(cases)]


def _run_both(name, arrs, kwargs, noncontig=False, requires_grad=False, device="cpu"):
    n_in = [conv_input(a, noncontig and i == 0, requires_grad, device) for i, a in enumerate(arrs)]
    t_in = [torch.tensor(a, requires_grad=requires_grad) for a in arrs]
    return n_in, t_in, getattr(F, name)(*n_in, **kwargs), getattr(TF, name)(*t_in, **kwargs)


@pytest.mark.parametrize("name,shapes,kwargs", FORWARD_CASES, ids=_ids(FORWARD_CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_torch(name, shapes, kwargs, dtype, device):
    arrs = arrays(shapes, dtype)
    _, _, out, ref = _run_both(name, arrs, kwargs, device=device)
    assert tuple(out.shape) == tuple(ref.shape)
    assert out.dtype == (norch.float32 if dtype == np.float32 else norch.float64)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(to_np(out), ref.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name,shapes,kwargs", FORWARD_CASES, ids=_ids(FORWARD_CASES))
def test_noncontiguous_input_and_backward_match_torch(name, shapes, kwargs, device):
    arrs = arrays(shapes)
    n_in, t_in, out, ref = _run_both(name, arrs, kwargs, noncontig=True, requires_grad=True, device=device)
    np.testing.assert_allclose(to_np(out), ref.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = RNG.standard_normal(tuple(ref.shape))
    (out * norch.tensor(g, device=device)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    for n, t in zip(n_in, t_in):
        np.testing.assert_allclose(to_np(n.grad), t.grad.numpy(), rtol=1e-9, atol=1e-9)


def test_noncontiguous_weight_and_bias():
    x, w, b = arrays([(2, 4, 6, 5), (6, 2, 3, 3), (6,)])
    nw = norch.tensor(np.ascontiguousarray(w.transpose(1, 0, 2, 3))).permute(1, 0, 2, 3)
    nb = norch.tensor(np.stack([b, b], 1))[:, 0]
    assert not nw.is_contiguous() and not nb.is_contiguous()
    out = F.conv2d(norch.tensor(x), nw, nb, groups=2, padding=1)
    ref = TF.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), groups=2, padding=1)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10, atol=1e-10)


def test_max_pool_indices_match_torch():
    x = arrays([(2, 3, 9, 7)])[0]
    out, idx = F.max_pool2d(norch.tensor(x), 3, 2, 1, return_indices=True)
    rout, ridx = TF.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), ridx.numpy())
    assert idx.dtype == norch.int64
    out1, idx1 = F.max_pool1d(norch.tensor(x[0]), 2, return_indices=True, ceil_mode=True)
    rout1, ridx1 = TF.max_pool1d(torch.tensor(x[0]), 2, return_indices=True, ceil_mode=True)
    np.testing.assert_array_equal(idx1.numpy(), ridx1.numpy())
    np.testing.assert_array_equal(out1.numpy(), rout1.numpy())


def test_max_pool_propagates_nan():
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    x[0, 0, 1, 0] = np.nan
    out = F.max_pool2d(norch.tensor(x), 2).numpy()
    ref = TF.max_pool2d(torch.tensor(x), 2).numpy()
    np.testing.assert_array_equal(out, ref)


def test_pad_keeps_integer_dtype():
    x = np.arange(6, dtype=np.int64).reshape(2, 3)
    out = F.pad(norch.tensor(x), (1, 1), value=7)
    assert out.dtype == norch.int64
    np.testing.assert_array_equal(out.numpy(), TF.pad(torch.tensor(x), (1, 1), value=7).numpy())


# Small float64 problems for finite differences: every op and every parameter.
GRAD_CASES = [
    ("conv2d", [(2, 2, 5, 4), (3, 2, 2, 3), (3,)], dict(stride=(2, 1), padding=1)),
    ("conv2d", [(1, 4, 5, 5), (2, 2, 3, 2)], dict(groups=2, dilation=(1, 2))),
    ("conv2d", [(1, 2, 4, 5), (2, 2, 2, 3), (2,)], dict(padding="same")),
    ("conv2d", [(2, 4, 4), (2, 2, 3, 3), (2,)], dict()),
    ("conv1d", [(2, 2, 7), (4, 1, 3), (4,)], dict(stride=2, padding=1, dilation=2, groups=2)),
    ("conv_transpose2d", [(1, 2, 3, 3), (2, 2, 2, 3), (2,)], dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose2d", [(1, 4, 3, 2), (4, 1, 3, 2)], dict(groups=2, dilation=(2, 1), output_padding=(1, 0))),
    ("unfold", [(1, 2, 4, 5)], dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1))),
    ("fold", [(1, 8, 6)], dict(output_size=(3, 4), kernel_size=2)),
    ("max_pool2d", [(1, 2, 5, 5)], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", [(2, 5, 6)], dict(kernel_size=2, dilation=2)),
    ("max_pool1d", [(2, 2, 7)], dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d", [(1, 2, 5, 5)], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", [(1, 2, 5, 5)], dict(kernel_size=2, padding=1, count_include_pad=False)),
    ("avg_pool2d", [(2, 5, 4)], dict(kernel_size=2, divisor_override=3)),
    ("avg_pool1d", [(2, 2, 7)], dict(kernel_size=3, padding=1, count_include_pad=False)),
    ("adaptive_avg_pool2d", [(1, 2, 5, 7)], dict(output_size=(3, 2))),
    ("adaptive_avg_pool1d", [(2, 2, 7)], dict(output_size=3)),
    ("pad", [(1, 2, 3, 4)], dict(pad=(1, -1, 2, 0), value=2.0)),
    ("pad", [(1, 2, 3, 4)], dict(pad=(2, 1, 2, 1), mode="reflect")),
    ("pad", [(2, 3, 4)], dict(pad=(3, 1), mode="replicate")),
    ("pad", [(1, 2, 3, 4)], dict(pad=(1, 2, 2, 1), mode="circular")),
    ("interpolate", [(1, 2, 3, 4)], dict(size=(5, 3))),
    ("interpolate", [(1, 2, 3, 4)], dict(scale_factor=1.5, mode="bilinear")),
    ("interpolate", [(1, 2, 3, 4)], dict(size=(5, 2), mode="bilinear", align_corners=True)),
    ("interpolate", [(2, 2, 4)], dict(size=7, mode="linear", align_corners=True)),
    ("interpolate", [(1, 2, 5, 4)], dict(size=(2, 3), mode="area")),
]


@pytest.mark.parametrize("name,shapes,kwargs", GRAD_CASES, ids=_ids(GRAD_CASES))
def test_gradcheck(name, shapes, kwargs, device):
    fn = getattr(F, name)
    check_op(lambda *xs: fn(*xs, **kwargs), arrays(shapes), device=device, gradgrad=False)


GRADGRAD_CASES = [
    ("conv2d", [(1, 2, 4, 4), (2, 1, 2, 3), (2,)], dict(stride=(1, 2), padding=1, groups=2)),
    ("conv2d", [(1, 1, 4, 3), (2, 1, 2, 2)], dict(dilation=(2, 1))),
    ("conv_transpose2d", [(1, 2, 2, 3), (2, 1, 2, 2), (1,)], dict(stride=2, padding=(1, 0))),
    ("max_pool2d", [(1, 1, 4, 4)], dict(kernel_size=2)),
    ("unfold", [(1, 1, 3, 3)], dict(kernel_size=2, padding=1, stride=2)),
    ("avg_pool2d", [(1, 1, 4, 4)], dict(kernel_size=3, stride=2, padding=1)),
    ("pad", [(1, 1, 3, 3)], dict(pad=(1, 2, 2, 1), mode="reflect")),
    ("pad", [(1, 1, 3, 3)], dict(pad=(1, -1, 2, 1))),
    ("interpolate", [(1, 1, 2, 3)], dict(size=(3, 4), mode="bilinear")),
]


@pytest.mark.parametrize("name,shapes,kwargs", GRADGRAD_CASES, ids=_ids(GRADGRAD_CASES))
def test_gradgradcheck(name, shapes, kwargs, device):
    fn = getattr(F, name)
    check_op(lambda *xs: fn(*xs, **kwargs), arrays(shapes), device=device)


def test_conv2d_backward_graph_names_and_unused_bias():
    x = norch.tensor(arrays([(1, 2, 5, 5)])[0], requires_grad=True)
    w = norch.tensor(arrays([(3, 2, 3, 3)])[0])
    out = F.conv2d(x, w)
    assert out.grad_fn.name() == "ConvolutionBackward0"
    out.sum().backward()
    assert w.grad is None and tuple(x.grad.shape) == (1, 2, 5, 5)


def _x(*shape):
    return norch.tensor(RNG.standard_normal(shape))


ERROR_CASES = [
    (lambda: F.conv2d(_x(3, 5), _x(4, 3, 3, 3)), RuntimeError, r"Expected 3D \(unbatched\) or 4D \(batched\) input"),
    (lambda: F.conv2d(_x(1, 3, 5, 5), _x(4, 3, 3)), RuntimeError, r"weight of size \[4, 3, 3\]"),
    (lambda: F.conv2d(_x(1, 3, 5, 5), _x(4, 2, 3, 3)), RuntimeError,
     r"weight of size \[4, 2, 3, 3\], expected input\[1, 3, 5, 5\] to have 2 channels, but got 3"),
    (lambda: F.conv2d(_x(1, 4, 5, 5), _x(3, 2, 3, 3), groups=2), RuntimeError,
     r"expected weight to be divisible by 2 at dimension 0"),
    (lambda: F.conv2d(_x(1, 3, 5, 5), _x(4, 3, 3, 3), groups=2), RuntimeError, "to have 6 channels"),
    (lambda: F.conv2d(_x(1, 3, 5, 5), _x(4, 3, 3, 3), groups=0), RuntimeError, "non-positive groups"),
    (lambda: F.conv2d(_x(1, 3, 5, 5), _x(4, 3, 7, 7)), RuntimeError, "Kernel size can't be greater than actual input"),
    (lambda: F.conv2d(_x(1, 3, 5, 5), _x(4, 3, 8, 8), padding=1), RuntimeError,
     r"padded input size per channel: \(7 x 7\)"),
    (lambda: F.conv2d(_x(1, 3, 5, 5), _x(4, 3, 3, 3), padding=-1), RuntimeError, "negative padding is not supported"),
    (lambda: F.conv2d(_x(1, 3, 5, 5), _x(4, 3, 3, 3), stride=0), RuntimeError, "non-positive stride"),
    (lambda: F.conv2d(_x(1, 3, 5, 5), _x(4, 3, 3, 3), dilation=0), RuntimeError, "dilation should be greater"),
    (lambda: F.conv2d(_x(1, 3, 5, 5), _x(4, 3, 3, 3), stride=(1, 2, 3)), RuntimeError, "list of 2 values"),
    (lambda: F.conv2d(_x(1, 3, 5, 5), _x(4, 3, 3, 3), _x(3)), RuntimeError, "expected bias to be 1-dimensional with 4"),
    (lambda: F.conv2d(_x(1, 3, 5, 5), _x(4, 3, 3, 3), padding="foo"), RuntimeError, "Invalid padding string"),
    (lambda: F.conv2d(_x(1, 3, 5, 5), _x(4, 3, 3, 3), stride=2, padding="same"), RuntimeError,
     "not supported for strided convolutions"),
    (lambda: F.conv2d(_x(1, 3, 5, 5), _x(4, 3, 3, 3).float()), RuntimeError, "should be the same"),
    (lambda: F.conv2d(norch.tensor(np.ones((1, 1, 3, 3), np.int64)), norch.tensor(np.ones((1, 1, 2, 2), np.int64))),
     RuntimeError, "floating point"),
    (lambda: F.conv1d(_x(1, 3, 5), _x(2, 3, 7)), RuntimeError, "Kernel size can't be greater"),
    (lambda: F.conv1d(_x(1, 3, 5, 5), _x(2, 3, 3)), RuntimeError, r"Expected 2D \(unbatched\) or 3D \(batched\)"),
    (lambda: F.conv_transpose2d(_x(1, 3, 5, 5), _x(4, 2, 3, 3)), RuntimeError,
     r"expected input\[1, 3, 5, 5\] to have 4 channels"),
    (lambda: F.conv_transpose2d(_x(1, 3, 5, 5), _x(3, 2, 3, 3), output_padding=1), RuntimeError,
     "output padding must be smaller than either stride or dilation"),
    (lambda: F.max_pool2d(_x(1, 3, 5, 5), 3, padding=2), RuntimeError, "pad should be at most half"),
    (lambda: F.max_pool2d(_x(5, 5), 2), RuntimeError, "3D or 4D"),
    (lambda: F.max_pool2d(_x(1, 1, 1, 3), (2, 1), 1, (2, 0), (4, 1)), RuntimeError,
     "smaller than or equal to half of kernel size"),
    (lambda: F.max_pool2d(_x(1, 1, 2, 2), 3), RuntimeError, "Output size is too small"),
    (lambda: F.max_pool2d(_x(1, 1, 4, 4), 0), RuntimeError, "kernel size should be greater than zero"),
    (lambda: F.max_pool2d(_x(1, 1, 4, 4), 2, padding=-1), RuntimeError, "non-negative"),
    (lambda: F.max_pool1d(_x(4), 2), RuntimeError, "2D or 3D"),
    (lambda: F.avg_pool2d(_x(1, 3, 5, 5), 3, padding=2), RuntimeError, "pad should be at most half"),
    (lambda: F.avg_pool2d(_x(1, 3, 5, 5), 2, divisor_override=0), RuntimeError, "divisor must be not zero"),
    (lambda: F.adaptive_avg_pool2d(_x(3, 4), 2), RuntimeError, "3D or 4D"),
    (lambda: F.pad(_x(1, 3, 5, 5), (1,)), RuntimeError, "Padding length must be divisible by 2"),
    (lambda: F.pad(_x(2, 2), (1, 1, 1, 1, 1, 1)), RuntimeError, "less than or equal to two times the input dim"),
    (lambda: F.pad(_x(1, 3, 5, 5), (1, 1), mode="foo"), NotImplementedError, "Unrecognised padding mode foo"),
    (lambda: F.pad(_x(1, 3, 5, 5), (1, 1), mode="reflect"), NotImplementedError,
     "Padding size 2 is not supported for 4D input"),
    (lambda: F.pad(_x(1, 3, 5), (5, 1), mode="reflect"), RuntimeError, "should be less than the corresponding input"),
    (lambda: F.pad(_x(1, 3, 5), (1, 1), mode="reflect", value=1.0), RuntimeError, "doesn't take in value"),
    (lambda: F.pad(_x(1, 3, 5), (-3, -3)), RuntimeError, "negative output size"),
    (lambda: F.interpolate(_x(1, 3, 5, 5), size=3, scale_factor=2), ValueError, "only one of size or scale_factor"),
    (lambda: F.interpolate(_x(1, 3, 5, 5)), ValueError, "either size or scale_factor"),
    (lambda: F.interpolate(_x(1, 3, 5, 5), scale_factor=float("nan")), RuntimeError, "scale_factor must be positive"),
    (lambda: F.fold(_x(1, 4, 4), (0, 3), 2), RuntimeError, "output_size to be positive"),
    (lambda: F.fold(_x(1, 5, 4), (3, 3), 2), RuntimeError, "divisible by the product of kernel_size"),
    (lambda: F.unfold(_x(1, 1, 2, 2), 3), RuntimeError, "must be at least one"),
    (lambda: F.interpolate(_x(1, 3, 5, 5), size=3, align_corners=True), ValueError, "align_corners option"),
    (lambda: F.interpolate(_x(1, 3, 5), size=3, mode="bilinear"), NotImplementedError, "bilinear mode needs 4D"),
    (lambda: F.interpolate(_x(1, 3, 5, 5), size=(3, 3, 3)), ValueError, "same number of spatial dimensions"),
    (lambda: F.interpolate(_x(3, 5), size=3), NotImplementedError, "Only 3D and 4D input"),
    (lambda: F.interpolate(_x(1, 3, 5, 5), size=3, mode="bilinear", antialias=True), NotImplementedError,
     "antialias"),
]


@pytest.mark.parametrize("fn,exc,match", ERROR_CASES, ids=[str(i) for i in range(len(ERROR_CASES))])
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


@pytest.mark.parametrize("pad", [(1, -1), (-1, 1), (-3, 2), (2, -1), (-2, -1), (1, -1, -1, 2)])
def test_circular_pad_with_a_cropping_side_wraps_within_what_is_kept(pad):
    # PyTorch crops first and wraps from the cropped tensor: pad((1, -1)) of [0..4] is [3, 0, 1, 2, 3].
    import torch
    x = np.arange(2 * 5 * 6, dtype=np.float64).reshape(1, 2, 5, 6)
    if len(pad) == 2:
        x = x[0]
    a = norch.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    out, ref = F.pad(a, pad, mode="circular"), torch.nn.functional.pad(b, pad, mode="circular")
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    g = np.random.default_rng(0).standard_normal(tuple(ref.shape))
    out.backward(norch.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)

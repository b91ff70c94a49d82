"""nn.functional: conv3d, conv_transpose1d and conv_transpose3d, composed from the fused
2-D convolutions (their gradients come from those ops).

conv3d: one conv2d per kernel depth tap, with the selected depth slices folded into
the batch. conv_transpose3d: one conv_transpose2d per tap, whose outputs are added
at depth d * stride + tap * dilation with index_add, then cropped by the padding.
conv_transpose1d: conv_transpose2d on a height-1 image. conv_tbc: conv1d on a permuted view.
"""
import numpy as np

from ... import _C
from .conv import conv1d, conv2d, conv_transpose2d, pad

__all__ = ["conv3d", "conv_transpose1d", "conv_transpose3d", "conv_tbc"]


def _triple(x, name):
    if isinstance(x, (tuple, list)):
        if len(x) == 1:
            return tuple(x) * 3
        if len(x) != 3:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of 3 values to match the "
                               f"convolution dimensions, but got {name}={list(x)}")
        return tuple(x)
    return (x,) * 3


def _batched(input, op, n_spatial):
    """``input`` with its batch dimension (added when it came without) and whether it had one; any
    other rank raises PyTorch's RuntimeError naming ``op`` and the shape."""
    batched = input.dim() == n_spatial + 2
    if input.dim() not in (n_spatial + 1, n_spatial + 2):
        raise RuntimeError(f"Expected {n_spatial + 1}D (unbatched) or {n_spatial + 2}D (batched) input to {op}, "
                           f"but got input of size: {list(input.shape)}")
    return (input if batched else input.unsqueeze(0)), batched


def _same_padding(dilation, kernel):
    pads = []
    for d, k in zip(dilation, kernel):
        total = d * (k - 1)
        pads.append((total // 2, total - total // 2))
    return pads


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    x, batched = _batched(input, "conv3d", 3)
    stride, dilation = _triple(stride, "stride"), _triple(dilation, "dilation")
    kd, kh, kw = weight.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0, 0)
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            spec = []
            for lo, hi in reversed(_same_padding(dilation, (kd, kh, kw))):
                spec += [lo, hi]
            x = pad(x, spec)
            padding = (0, 0, 0)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    padding = _triple(padding, "padding")
    N, C, D = x.shape[:3]
    if C != weight.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                           f"{list(x.shape)} to have {weight.shape[1] * groups} channels, but got {C} channels "
                           "instead")
    pd = padding[0]
    if pd:
        x = pad(x, [0, 0, 0, 0, pd, pd])
    Dp = D + 2 * pd
    oD = (Dp - dilation[0] * (kd - 1) - 1) // stride[0] + 1
    if oD <= 0:
        raise RuntimeError(f"Calculated output size is too small for input {list(input.shape)} and kernel "
                           f"{list(weight.shape)}")
    out = None
    for t in range(kd):
        idx = _C.tensor((np.arange(oD) * stride[0] + t * dilation[0]).astype(np.int64), device=x.device)
        sl = x.index_select(2, idx).transpose(1, 2).reshape(N * oD, C, *x.shape[3:])
        # contiguous(): conv2d's backward reshapes the weight gradient with a view
        y = conv2d(sl, weight.select(2, t).contiguous(), None, stride[1:], padding[1:], dilation[1:], groups)
        out = y if out is None else out + y
    out = out.reshape(N, oD, *out.shape[1:]).transpose(1, 2)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    return out if batched else out.squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    def one(v):
        return v[0] if isinstance(v, (tuple, list)) else v
    x, batched = _batched(input, "conv_transpose1d", 1)
    x = x.unsqueeze(2)
    out = conv_transpose2d(x, weight.unsqueeze(2), bias, (1, one(stride)), (0, one(padding)),
                           (0, one(output_padding)), groups, (1, one(dilation)))
    out = out.squeeze(2)
    return out if batched else out.squeeze(0)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    x, batched = _batched(input, "conv_transpose3d", 3)
    stride, padding = _triple(stride, "stride"), _triple(padding, "padding")
    output_padding, dilation = _triple(output_padding, "output_padding"), _triple(dilation, "dilation")
    N, C, D = x.shape[:3]
    if C != weight.shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected input "
                           f"{list(x.shape)} to have {weight.shape[0]} channels, but got {C} channels instead")
    kd = weight.shape[2]
    full = (D - 1) * stride[0] + dilation[0] * (kd - 1) + 1 + output_padding[0]
    oD = full - 2 * padding[0]
    planes = x.transpose(1, 2).reshape(N * D, C, *x.shape[3:])
    acc = None
    for t in range(kd):
        y = conv_transpose2d(planes, weight.select(2, t).contiguous(), None, stride[1:], padding[1:],
                             output_padding[1:], groups, dilation[1:])
        y = y.reshape(N, D, *y.shape[1:])
        if acc is None:
            acc = _C.zeros([N, full, *y.shape[2:]], dtype=y.dtype, device=y.device)
        idx = _C.tensor((np.arange(D) * stride[0] + t * dilation[0]).astype(np.int64), device=y.device)
        acc = acc.index_add(1, idx, y)
    out = acc.narrow(1, padding[0], oD).transpose(1, 2)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    return out if batched else out.squeeze(0)


def conv_tbc(input, weight, bias, pad=0):
    """1-D convolution of time-batch-channel input (T, B, Cin) with weight (K, Cin, Cout)."""
    if input.dim() != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if weight.dim() != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, out_channels.")
    if bias.dim() != 1:
        raise RuntimeError("Bias must be 1-D")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    if weight.shape[2] != bias.shape[0]:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    out = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0).contiguous(), bias, 1, pad)
    return out.permute(2, 0, 1)

"""nn.functional: convolution, pooling, padding and interpolation.

Thin wrappers with PyTorch's signatures and defaults over the fused C++ ops in
norch._C._nn, where the argument checks and the logic live. The exceptions are
composites of those ops: 5-D nearest/trilinear and 4-D bicubic interpolation (separable
1-D passes) and 3-D reflect/replicate/circular padding (padding.py).
"""
from ... import _C
from ...amp import autocast_mode as _autocast

_nn = _C._nn

__all__ = [
    "conv1d", "conv2d", "conv_transpose2d", "unfold", "fold",
    "max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices",
    "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "pad", "interpolate",
]


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _nn.conv1d(input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _nn.conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _nn.conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    return _nn.unfold(input, kernel_size, dilation, padding, stride)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    return _nn.fold(input, output_size, kernel_size, dilation, padding, stride)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return _nn.max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return _nn.max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    out, indices = _nn.max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, indices) if return_indices else out


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    out, indices = _nn.max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, indices) if return_indices else out


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _nn.avg_pool1d(input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _nn.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def adaptive_avg_pool1d(input, output_size):
    return _nn.adaptive_avg_pool1d(input, output_size)


def adaptive_avg_pool2d(input, output_size):
    return _nn.adaptive_avg_pool2d(input, output_size)


def pad(input, pad, mode="constant", value=None):
    if mode in ("reflect", "replicate") and _autocast.active():  # float32 under CPU autocast, as in PyTorch
        (input,) = _autocast.cast_args("fp32", input)
    if mode in ("reflect", "replicate", "circular") and len(pad) == 6:
        # The C++ pad has no 3-D reflect/replicate/circular kernel; see padding.py.
        from .padding import pad_nd_composite
        return pad_nd_composite(input, list(pad), mode)
    return _nn.pad(input, pad, mode, value)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented")
    if mode == "nearest-exact":
        return _interpolate_nearest_exact(input, size, scale_factor, recompute_scale_factor)
    if input.dim() == 5 and mode == "area":
        from .pooling import adaptive_avg_pool3d
        return adaptive_avg_pool3d(input, _output_sizes(input, size, scale_factor)[0])
    if input.dim() == 5 and mode in ("nearest", "trilinear"):
        return _interpolate_3d(input, size, scale_factor, mode, align_corners, recompute_scale_factor)
    if mode == "trilinear":
        raise NotImplementedError(f"Got {input.dim()}D input, but trilinear mode needs 5D input")
    if mode == "bicubic":
        if input.dim() != 4:
            raise NotImplementedError(f"Got {input.dim()}D input, but bicubic mode needs 4D input")
        return _interpolate_bicubic(input, size, scale_factor, bool(align_corners), recompute_scale_factor)
    return _nn.interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor)


def _interpolate_3d(input, size, scale_factor, mode, align_corners, recompute_scale_factor):
    """5-D nearest / trilinear as three 1-D passes of the C++ interpolate: both are separable,
    and each pass gets its own dim's size and scale, so the source positions are PyTorch's."""
    sizes, scales = _output_sizes(input, size, scale_factor, recompute_scale_factor)
    if len(sizes) != 3 or len(scales) != 3:
        raise ValueError("Input and output must have the same number of spatial dimensions, but got input with "
                         f"spatial dimensions of {list(input.shape[2:])} and output size of {sizes}.")
    one_d = "linear" if mode == "trilinear" else "nearest"
    x = input
    for i, (o, sc) in enumerate(zip(sizes, scales)):
        dim = 2 + i
        moved = x.movedim(dim, -1)
        lead = list(moved.shape[:-1])
        flat = moved.reshape(-1, 1, moved.shape[-1])
        if sc is None:
            out = _nn.interpolate(flat, [o], None, one_d, align_corners, None)
        else:
            out = _nn.interpolate(flat, None, [float(sc)], one_d, align_corners, None)
        x = out.reshape(*lead, o).movedim(-1, dim)
    return x


def _cubic_taps(L_in, L_out, scale, align_corners):
    """PyTorch's bicubic source positions and weights (A = -0.75, edge-clamped taps)
    for one dim: indices and weights, each (L_out, 4)."""
    import numpy as np
    dst = np.arange(L_out, dtype=np.float64)
    if align_corners:
        ratio = (L_in - 1) / (L_out - 1) if L_out > 1 else 0.0
        src = dst * ratio
    else:
        ratio = 1.0 / scale if scale is not None and scale > 0 else L_in / L_out
        src = ratio * (dst + 0.5) - 0.5  # not clamped at 0 for cubic, as in PyTorch
    f = np.floor(src)
    t = src - f
    A = -0.75

    def near(x):  # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A
    w = np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], 1)
    idx = np.clip(f[:, None].astype(np.int64) - 1 + np.arange(4)[None, :], 0, L_in - 1)
    return idx, w


def _interpolate_bicubic(input, size, scale_factor, align_corners, recompute_scale_factor):
    """Bicubic resampling as two separable 1-D passes of four weighted index_selects."""
    sizes, scales = _output_sizes(input, size, scale_factor, recompute_scale_factor)
    x = input
    for i in range(2):
        dim = 2 + i
        idx, w = _cubic_taps(x.shape[dim], sizes[i], scales[i], align_corners)
        out = None
        for k in range(4):
            shape = [1] * x.dim()
            shape[dim] = sizes[i]
            wk = _C.tensor(w[:, k].copy(), dtype=x.dtype, device=x.device).reshape(*shape)
            term = x.index_select(dim, _C.tensor(idx[:, k].copy(), device=x.device)) * wk
            out = term if out is None else out + term
        x = out
    return x


def _output_sizes(input, size, scale_factor, recompute_scale_factor=None):
    n = input.dim() - 2
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        return (list(size) if isinstance(size, (list, tuple)) else [size] * n), [None] * n
    scales = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else [scale_factor] * n
    sizes = [int(L * sc) for L, sc in zip(input.shape[2:], scales)]
    return sizes, ([None] * n if recompute_scale_factor else scales)


def _interpolate_nearest_exact(input, size, scale_factor, recompute_scale_factor):
    """PyTorch's 'nearest-exact': source floor((dst + 0.5) * in / out), one index_select per dim."""
    import numpy as np
    if input.dim() not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) "
                                  "for the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
                                  "nearest-exact (got nearest-exact)")
    sizes, scales = _output_sizes(input, size, scale_factor, recompute_scale_factor)
    x = input
    for i, (o, sc) in enumerate(zip(sizes, scales)):
        L = x.shape[2 + i]
        ratio = 1.0 / sc if sc is not None and sc > 0 else L / o
        src = np.minimum(np.floor((np.arange(o) + 0.5) * ratio).astype(np.int64), L - 1)
        x = x.index_select(2 + i, _C.tensor(src, device=x.device))
    return x

"""nn.functional: the pooling variants the fused C++ ops do not cover (3-D max/avg,
adaptive max, adaptive 3-D avg, power-average, fractional max, max-unpool),
composed from norch ops.

Every window is read with one gather: the spatial dims are flattened and a
precomputed (host-side) index lists, for each output position, the flat input
positions of its window. Gather's backward is scatter-add, so the gradient is
exact, including overlapping windows. Max windows reduce with max(dim), whose
gradient goes to the one chosen element, like PyTorch's index-based backward.
"""
import math

import numpy as np

from ... import _C
from ...onnx import is_in_onnx_export
from .conv import avg_pool1d, avg_pool2d, pad

__all__ = ["max_pool3d", "max_pool3d_with_indices", "avg_pool3d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "lp_pool1d", "lp_pool2d", "lp_pool3d",
           "fractional_max_pool2d", "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d_with_indices", "max_unpool1d", "max_unpool2d", "max_unpool3d"]


def _ntuple(x, n, name="argument"):
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        if len(x) == 1:
            return tuple(x) * n
        if len(x) != n:
            raise RuntimeError(f"{name} must either be a single int, or a tuple of {n} ints")
        return tuple(x)
    return (x,) * n


def _batched(input, n, name):
    if input.dim() not in (n + 1, n + 2):
        raise RuntimeError(f"{name}: Expected {n + 1}D or {n + 2}D (batch mode) tensor for input, but got: "
                           f"{tuple(input.shape)}")
    return (input, True) if input.dim() == n + 2 else (input.unsqueeze(0), False)


def _flat_index(per_dim, sizes):
    """per_dim[i]: int array (O_i, K_i) of positions along spatial dim i of a tensor of `sizes`.
    Returns the flat positions, shape (O_1, ..., O_n, K_1 * ... * K_n)."""
    n = len(per_dim)
    strides = [int(np.prod(sizes[i + 1:])) for i in range(n)]
    total = 0
    for i, idx in enumerate(per_dim):
        shape = [1] * (2 * n)
        shape[i], shape[n + i] = idx.shape
        total = total + idx.reshape(shape) * strides[i]
    outs = [idx.shape[0] for idx in per_dim]
    return np.asarray(total).reshape(*outs, -1)


def _windows(x, flat, per_plane=False):
    N, C = x.shape[:2]
    xf = x.reshape(N, C, -1)
    idx = _C.tensor(np.ascontiguousarray(flat, dtype=np.int64), device=x.device)
    if per_plane:
        out_shape = list(flat.shape)
        idx = idx.reshape(N, C, -1)
    else:
        out_shape = [N, C] + list(flat.shape)
        idx = idx.reshape(1, 1, -1).expand(N, C, idx.numel())
    return _C.gather(xf, 2, idx).reshape(*out_shape)


def _pool_out(L, k, s, p, d, ceil_mode):
    out = (L + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= L + p:
        out -= 1
    return out


def _pad_last(x, lo_hi, value):
    spec = []
    for lo, hi in reversed(lo_hi):
        spec += [lo, hi]
    if not any(spec):
        return x
    return pad(x, spec, "constant", value)


def _regular_windows(x, n, kernel, stride, padding, dilation, ceil_mode, fill, name):
    """Pads x (N, C, *S) with `fill` and returns its windows (N, C, *O, K), the per-dim
    index arrays (padded coordinates) and the output sizes."""
    sizes = list(x.shape[2:])
    outs, per_dim, lo_hi = [], [], []
    for L, k, s, p, d in zip(sizes, kernel, stride, padding, dilation):
        o = _pool_out(L, k, s, p, d, ceil_mode)
        if o <= 0:
            raise RuntimeError(f"{name}: Given input size: {tuple(x.shape[1:])}. Calculated output size is too "
                               "small")
        idx = np.arange(o)[:, None] * s + np.arange(k)[None, :] * d
        need = int(idx.max()) + 1
        outs.append(o)
        per_dim.append(idx)
        lo_hi.append((p, max(need - L - p, p)))
    xp = _pad_last(x, lo_hi, fill)
    return _windows(xp, _flat_index(per_dim, list(xp.shape[2:]))), per_dim, outs, lo_hi


def _original_flat(per_dim, offsets, sizes):
    """Flat positions in the unpadded input for window entries given in padded coordinates."""
    return _flat_index([idx - off for idx, off in zip(per_dim, offsets)], sizes)


def _max_pool_nd(input, n, kernel_size, stride, padding, dilation, ceil_mode, name):
    x, batched = _batched(input, n, name)
    kernel = _ntuple(kernel_size, n, "kernel_size")
    stride = _ntuple(stride, n, "stride") if stride is not None and stride != [] else kernel
    padding = _ntuple(padding, n, "padding")
    dilation = _ntuple(dilation, n, "dilation")
    for k, p, d in zip(kernel, padding, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    win, per_dim, outs, lo_hi = _regular_windows(x, n, kernel, stride, padding, dilation, ceil_mode,
                                                 float("-inf"), name)
    values, arg = win.max(-1)
    pos = _original_flat(per_dim, [lo for lo, _ in lo_hi], list(x.shape[2:]))
    pos_t = _C.tensor(np.ascontiguousarray(pos, dtype=np.int64), device=x.device)
    pos_t = pos_t.reshape(1, 1, *pos.shape).expand(*win.shape)
    indices = _C.gather(pos_t, -1, arg.unsqueeze(-1)).squeeze(-1)
    if not batched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return values, indices


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return _max_pool_nd(input, 3, kernel_size, stride, padding, dilation, ceil_mode, "max_pool3d")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    out, indices = max_pool3d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, indices) if return_indices else out


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    x, batched = _batched(input, 3, "avg_pool3d")
    kernel = _ntuple(kernel_size, 3, "kernel_size")
    stride = _ntuple(stride, 3, "stride") if stride is not None and stride != [] else kernel
    padding = _ntuple(padding, 3, "padding")
    for k, p in zip(kernel, padding):
        if p > k // 2:
            raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got "
                               f"padding={padding}, kernel_size={kernel}")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    win, per_dim, outs, lo_hi = _regular_windows(x, 3, kernel, stride, padding, (1, 1, 1), ceil_mode, 0.0,
                                                 "avg_pool3d")
    total = win.sum(-1)
    if divisor_override is not None:
        out = total / float(divisor_override)
    else:
        # Per dim: how many window entries count (PyTorch clips windows at the padded edge,
        # and without count_include_pad at the input's edge).
        count = np.ones(outs)
        for i, (idx, L, p) in enumerate(zip(per_dim, x.shape[2:], padding)):
            lo, hi = (0, L + 2 * p) if count_include_pad else (p, p + L)
            c = ((idx >= lo) & (idx < hi)).sum(1)
            shape = [1] * 3
            shape[i] = len(c)
            count = count * c.reshape(shape)
        out = total / _C.tensor(count, dtype=total.dtype, device=total.device)
    return out if batched else out.squeeze(0)


def _adaptive_index(L, O):
    start = np.floor(np.arange(O) * L / O).astype(np.int64)
    end = np.ceil((np.arange(O) + 1) * L / O).astype(np.int64)
    K = int((end - start).max()) if O > 0 else 0
    raw = start[:, None] + np.arange(K)[None, :]
    valid = raw < end[:, None]
    # Past a window's end, repeat its last element: harmless for max, masked out for mean.
    return np.minimum(raw, end[:, None] - 1), valid


def _adaptive_sizes(x, n, output_size, name):
    out = _ntuple(output_size, n, "output_size")
    out = [L if o is None else o for o, L in zip(out, x.shape[2:])]
    for L in x.shape[2:]:
        if L == 0:
            raise RuntimeError(f"{name}: Expected input to have non-zero size for non-batch dimensions, but "
                               f"input has sizes {tuple(x.shape)} with dimension {list(x.shape).index(0)} being "
                               "empty")
    return out


def _adaptive_max_nd(input, n, output_size, name):
    x, batched = _batched(input, n, name)
    outs = _adaptive_sizes(x, n, output_size, name)
    per_dim = [_adaptive_index(L, O)[0] for L, O in zip(x.shape[2:], outs)]
    flat = _flat_index(per_dim, list(x.shape[2:]))
    win = _windows(x, flat)
    values, arg = win.max(-1)
    pos = _C.tensor(flat, device=x.device).reshape(1, 1, *flat.shape).expand(*win.shape)
    indices = _C.gather(pos, -1, arg.unsqueeze(-1)).squeeze(-1)
    if not batched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return values, indices


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return _adaptive_max_nd(input, 1, output_size, "adaptive_max_pool1d")


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return _adaptive_max_nd(input, 2, output_size, "adaptive_max_pool2d")


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    return _adaptive_max_nd(input, 3, output_size, "adaptive_max_pool3d")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    out, idx = adaptive_max_pool1d_with_indices(input, output_size)
    return (out, idx) if return_indices else out


def adaptive_max_pool2d(input, output_size, return_indices=False):
    out, idx = adaptive_max_pool2d_with_indices(input, output_size)
    return (out, idx) if return_indices else out


def adaptive_max_pool3d(input, output_size, return_indices=False):
    out, idx = adaptive_max_pool3d_with_indices(input, output_size)
    return (out, idx) if return_indices else out


def adaptive_avg_pool3d(input, output_size):
    x, batched = _batched(input, 3, "adaptive_avg_pool3d")
    outs = _adaptive_sizes(x, 3, output_size, "adaptive_avg_pool3d")
    pairs = [_adaptive_index(L, O) for L, O in zip(x.shape[2:], outs)]
    win = _windows(x, _flat_index([p[0] for p in pairs], list(x.shape[2:])))
    mask = 1.0
    for i, (_, valid) in enumerate(pairs):
        shape = [1] * 6
        shape[i], shape[3 + i] = valid.shape
        mask = mask * valid.reshape(shape)
    mask = np.asarray(mask, dtype=np.float64).reshape(*outs, -1)
    m = _C.tensor(mask, dtype=win.dtype, device=win.device)
    out = (win * m).sum(-1) / m.sum(-1)
    return out if batched else out.squeeze(0)


def _lp_finish(out, norm_type, kernel):
    # PyTorch's form: sign(out) * relu(|out|) is out with negatives (from odd p) sent to 0.
    return (_C.sign(out) * _C.relu(_C.abs(out)) * float(math.prod(kernel))).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    k = kernel_size[0] if isinstance(kernel_size, (tuple, list)) else kernel_size
    out = avg_pool1d(input.pow(norm_type), kernel_size, stride if stride is not None else kernel_size, 0,
                     ceil_mode)
    return _lp_finish(out, norm_type, (k,))


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    kernel = _ntuple(kernel_size, 2)
    out = avg_pool2d(input.pow(norm_type), kernel_size, stride if stride is not None else kernel_size, 0,
                     ceil_mode)
    return _lp_finish(out, norm_type, kernel)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    kernel = _ntuple(kernel_size, 3)
    out = avg_pool3d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp_finish(out, norm_type, kernel)


def _intervals(samples, L, O, K, dtype):
    """PyTorch's generate_intervals, in the input's float type: window starts for one dim,
    from per-plane samples in [0, 1) of shape (P,) -> (P, O)."""
    seq = np.empty((samples.shape[0], O), dtype=np.int64)
    if O > 1:
        alpha = dtype(L - K) / dtype(O - 1)
        i = np.arange(O - 1, dtype=dtype)[None, :]
        s = samples.astype(dtype)[:, None]
        seq[:, :O - 1] = ((i + s) * alpha).astype(np.int64) - (s * alpha).astype(np.int64)
    if O > 0:
        seq[:, O - 1] = L - K
    return seq


def _fractional_nd(input, n, kernel_size, output_size, output_ratio, _random_samples, name):
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    x, batched = _batched(input, n, name)
    N, C = x.shape[:2]
    sizes = list(x.shape[2:])
    kernel = _ntuple(kernel_size, n, "kernel_size")
    if output_size is None:
        ratio = _ntuple(output_ratio, n, "output_ratio")
        outs = [int(L * r) for L, r in zip(sizes, ratio)]
    else:
        outs = list(_ntuple(output_size, n, "output_size"))
    for L, O, K in zip(sizes, outs, kernel):
        if O + K - 1 > L:
            raise RuntimeError(f"{name}(): pool size {K} too large relative to input size {L} for output "
                               f"size {O}")
    if _random_samples is None:
        samples = _C.rand(N, C, n, dtype=x.dtype, device=x.device)
    else:
        samples = _random_samples
    dt = np.float32 if x.dtype == _C.float32 else np.float64
    s = samples.detach().cpu().numpy().reshape(N * C, n)
    # PyTorch's sample order: the last spatial dim uses sample 0 for 2-D pooling, dims in order for 3-D.
    order = [1, 0] if n == 2 else list(range(n))
    per_dim = []
    for i in range(n):
        starts = _intervals(s[:, order[i]], sizes[i], outs[i], kernel[i], dt)  # (P, O_i)
        per_dim.append(starts[:, :, None] + np.arange(kernel[i])[None, None, :])  # (P, O_i, K_i)
    strides = [int(np.prod(sizes[i + 1:])) for i in range(n)]
    total = 0
    for i, idx in enumerate(per_dim):
        shape = [idx.shape[0]] + [1] * (2 * n)
        shape[1 + i], shape[1 + n + i] = idx.shape[1:]
        total = total + idx.reshape(shape) * strides[i]
    flat = np.asarray(total).reshape(N, C, *outs, -1)
    win = _windows(x, flat, per_plane=True)
    values, arg = win.max(-1)
    pos = _C.tensor(flat, device=x.device)
    indices = _C.gather(pos, -1, arg.unsqueeze(-1)).squeeze(-1)
    if not batched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return values, indices


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional_nd(input, 2, kernel_size, output_size, output_ratio, _random_samples,
                          "fractional_max_pool2d")


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional_nd(input, 3, kernel_size, output_size, output_ratio, _random_samples,
                          "fractional_max_pool3d")


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    out, idx = fractional_max_pool2d_with_indices(input, kernel_size, output_size, output_ratio,
                                                  _random_samples=_random_samples)
    return (out, idx) if return_indices else out


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    out, idx = fractional_max_pool3d_with_indices(input, kernel_size, output_size, output_ratio,
                                                  _random_samples=_random_samples)
    return (out, idx) if return_indices else out


def _unpool_nd(input, indices, n, kernel_size, stride, padding, output_size, name):
    kernel = _ntuple(kernel_size, n, "kernel_size")
    stride = _ntuple(stride, n, "stride") if stride is not None else kernel
    padding = _ntuple(padding, n, "padding")
    x, batched = _batched(input, n, name)
    idx = indices if batched else indices.unsqueeze(0)
    if tuple(idx.shape) != tuple(x.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({tuple(x.shape)}) but got indices tensor with shape: {tuple(idx.shape)}")
    default = [(L - 1) * s - 2 * p + k for L, s, p, k in zip(x.shape[2:], stride, padding, kernel)]
    if output_size is None:
        outs = default
    else:
        outs = list(output_size)
        if len(outs) == n + 2 or len(outs) == n + 1:
            outs = outs[-n:]
        if len(outs) != n:
            raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} elements, but it has "
                             f"a length of '{len(outs)}'")
        for o, d, s in zip(outs, default, stride):
            if not d - s < o < d + s:
                raise ValueError(f"invalid output_size \"{tuple(outs)}\" (dim 0 must be between {d - s} and "
                                 f"{d + s})")
    N, C = x.shape[:2]
    M = int(np.prod(outs))
    flat_idx = idx.reshape(N, C, -1).long()
    # the index check reads the data: an ONNX export (which cannot) leaves it to the runtime
    if flat_idx.numel() and not is_in_onnx_export() and (int(flat_idx.max().item()) >= M or
                                                         int(flat_idx.min().item()) < 0):
        raise RuntimeError(f"Found an invalid max index: {int(flat_idx.max().item())} (output volumes are of "
                           f"size {'x'.join(str(o) for o in outs)}")
    out = _C.zeros([N, C, M], dtype=x.dtype, device=x.device).scatter_add(2, flat_idx, x.reshape(N, C, -1))
    out = out.reshape(N, C, *outs)
    return out if batched else out.squeeze(0)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _unpool_nd(input, indices, 1, kernel_size, stride, padding, output_size, "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _unpool_nd(input, indices, 2, kernel_size, stride, padding, output_size, "max_unpool2d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _unpool_nd(input, indices, 3, kernel_size, stride, padding, output_size, "max_unpool3d")

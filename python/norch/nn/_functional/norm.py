"""nn.functional: instance, RMS and local-response normalisation and embedding_bag,
composed from norch ops (instance_norm reuses the fused batch_norm on an
(1, N*C, ...) view, as PyTorch does)."""
import numpy as np

from ... import _C
from ...autograd import no_grad
from .loss import batch_norm

__all__ = ["instance_norm", "rms_norm", "local_response_norm", "embedding_bag"]


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    if use_input_stats:
        spatial = 1
        for s in input.shape[2:]:
            spatial *= s
        if spatial == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                             f"{list(input.shape)}")
    n, c = input.shape[:2]
    x = input.reshape(1, n * c, *input.shape[2:])
    rm = running_mean.repeat(n) if running_mean is not None else None
    rv = running_var.repeat(n) if running_var is not None else None
    w = weight.repeat(n) if weight is not None else None
    b = bias.repeat(n) if bias is not None else None
    out = batch_norm(x, rm, rv, w, b, use_input_stats, momentum, eps)
    if use_input_stats and running_mean is not None:
        with no_grad():
            running_mean.copy_(rm.reshape(n, c).mean(0))
            running_var.copy_(rv.reshape(n, c).mean(0))
    return out.reshape(*input.shape)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.dim() - k:]) != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size"
                           f"{list(input.shape)}")
    if eps is None:
        from ..._functions import finfo
        eps = finfo(input.dtype).eps
    dims = tuple(range(input.dim() - k, input.dim()))
    out = input * _C.rsqrt((input * input).mean(dims, keepdim=True) + eps)
    return out * weight if weight is not None else out


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.dim()} dimensions)")
    if input.numel() == 0:
        return input
    c = input.shape[1]
    sq = input * input
    z = _C.zeros([input.shape[0], size // 2, *input.shape[2:]], dtype=input.dtype, device=input.device)
    z2 = _C.zeros([input.shape[0], (size - 1) // 2, *input.shape[2:]], dtype=input.dtype, device=input.device)
    padded = _C.cat([z, sq, z2], 1)
    total = padded.narrow(1, 0, c)
    for j in range(1, size):
        total = total + padded.narrow(1, j, c)
    div = (total * (alpha / size) + k).pow(beta)
    return input / div


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding_bag: max_norm, scale_grad_by_freq and sparse are not supported by "
                                  "norch")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, but got {mode}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request "
                                  "on GitHub.")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             "fixed length sequences.")
        B, L = input.shape
        starts = [b * L for b in range(B)]
        ends = [(b + 1) * L for b in range(B)]
        flat = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        off = [int(o) for o in offsets.tolist()]
        if include_last_offset:
            starts, ends = off[:-1], off[1:]
        else:
            starts, ends = off, off[1:] + [input.shape[0]]
        flat = input
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    ids = np.asarray(flat.tolist(), dtype=np.int64).reshape(-1)
    keep = ids != padding_idx if padding_idx is not None else np.ones(len(ids), dtype=bool)
    B, D = len(starts), weight.shape[1]
    emb = weight.index_select(0, flat.long())
    if per_sample_weights is not None:
        emb = emb * per_sample_weights.unsqueeze(1)
    bag = np.zeros(len(ids), dtype=np.int64)
    counts = np.zeros(B)
    for b, (s, e) in enumerate(zip(starts, ends)):
        bag[s:e] = b
        counts[b] = keep[s:e].sum()
    dev = weight.device
    if mode == "max":
        rows = []
        for s, e in zip(starts, ends):
            sel = [i for i in range(s, e) if keep[i]]
            if sel:
                rows.append(emb.index_select(0, _C.tensor(sel, device=dev)).max(0)[0])
            else:
                rows.append(_C.zeros([D], dtype=weight.dtype, device=dev))
        return _C.stack(rows, 0) if rows else _C.zeros([0, D], dtype=weight.dtype, device=dev)
    emb = emb * _C.tensor(keep.astype(np.float64), dtype=weight.dtype, device=dev).unsqueeze(1)
    out = _C.zeros([B, D], dtype=weight.dtype, device=dev).index_add(0, _C.tensor(bag, device=dev), emb)
    if mode == "mean":
        out = out / _C.tensor(np.maximum(counts, 1), dtype=weight.dtype, device=dev).unsqueeze(1)
    return out

"""nn.functional: reflect / replicate / circular padding of three spatial dims, which the
fused C++ pad does not implement, composed from index_select (whose backward is
index_add, so the gradient of each source element sums over its copies)."""
import numpy as np

from ... import _C


def _source_index(L, lo, hi, mode):
    i = np.arange(-lo, L + hi)
    if mode == "reflect":
        if lo >= L or hi >= L:
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({lo}, {hi}) at dimension of input size {L}")
        i = np.abs(i)
        i = np.where(i >= L, 2 * (L - 1) - i, i)
    elif mode == "replicate":
        i = np.clip(i, 0, L - 1)
    else:  # circular
        if lo > L or hi > L:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        i = np.mod(i, L)
    return i


def pad_nd_composite(input, pad, mode):
    """Pads the last len(pad) // 2 dims of input; pad lists (left, right) from the last dim back."""
    n = len(pad) // 2
    if input.dim() not in (n + 1, n + 2):
        raise NotImplementedError(f"Only {n + 1}D or {n + 2}D input is supported for {n}-dim {mode} padding "
                                  f"(got {input.dim()}D)")
    out = input
    for j in range(n):
        dim = input.dim() - 1 - j
        lo, hi = pad[2 * j], pad[2 * j + 1]
        if lo < 0 or hi < 0:
            # Negative padding crops first, as PyTorch does.
            start, stop = max(-lo, 0), out.shape[dim] - max(-hi, 0)
            out = out.narrow(dim, start, stop - start)
            lo, hi = max(lo, 0), max(hi, 0)
        if lo == 0 and hi == 0:
            continue
        idx = _source_index(out.shape[dim], lo, hi, mode)
        out = out.index_select(dim, _C.tensor(idx.astype(np.int64), device=input.device))
    return out

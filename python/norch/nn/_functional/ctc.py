"""nn.functional.ctc_loss: the CTC forward (alpha) recursion in log space, composed
from norch ops, so autograd supplies the gradient that PyTorch computes with the
beta recursion.

The recursion runs over time on the batch at once, over the extended label
sequence (blank, l1, blank, l2, ..., blank) padded to the longest sample. "Log of
zero" is a large negative finite number rather than -inf: with -inf the
logsumexp of three unreachable states would be -inf - -inf = nan in backward.
Losses that reach that floor are impossible alignments and are reported as inf
(or 0 with zero_infinity), as PyTorch does.
"""
import numpy as np

from ... import _C
from ...amp.autocast_mode import fp32_op as _fp32_op  # float32 under autocast, as in PyTorch

__all__ = ["ctc_loss"]

_LOG_ZERO = -1e30
_IMPOSSIBLE = 1e29


def _lengths(x, name):
    if isinstance(x, _C.Tensor):
        return [int(v) for v in np.atleast_1d(x.detach().cpu().numpy()).tolist()]
    if isinstance(x, int):
        return [x]
    return [int(v) for v in x]


def _lse3(a, b, c):
    m = _C.maximum(_C.maximum(a, b), c).detach()
    return m + _C.log(_C.exp(a - m) + _C.exp(b - m) + _C.exp(c - m))


@_fp32_op
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_probs.dim() not in (2, 3):
        raise RuntimeError(f"ctc_loss: expected log_probs to be 2-D (T, C) or 3-D (T, N, C), got "
                           f"{log_probs.dim()}-D")
    batched = log_probs.dim() == 3
    if not batched:
        log_probs = log_probs.unsqueeze(1)
    T, N, C = log_probs.shape
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    in_len = _lengths(input_lengths, "input_lengths")
    tg_len = _lengths(target_lengths, "target_lengths")
    if len(in_len) != N:
        raise RuntimeError(f"input_lengths must be of size batch_size, but got {len(in_len)} and batch size {N}")
    if len(tg_len) != N:
        raise RuntimeError(f"target_lengths must be of size batch_size, but got {len(tg_len)} and batch size {N}")
    if any(l > T for l in in_len):
        raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value {max(in_len)}")
    tg = np.asarray(targets.detach().cpu().numpy(), dtype=np.int64)
    if batched and tg.ndim == 2 or not batched:
        rows = tg.reshape(N, -1) if tg.ndim >= 1 else tg.reshape(1, 1)
        labels = [rows[n, :tg_len[n]] for n in range(N)]
    else:  # 1-D: all targets concatenated
        offsets = np.concatenate([[0], np.cumsum(tg_len)])
        labels = [tg[offsets[n]:offsets[n + 1]] for n in range(N)]
    for n, lab in enumerate(labels):
        if len(lab) != tg_len[n]:
            raise RuntimeError(f"Expected tensor to have size at least {tg_len[n]} at dimension 1, but got size "
                               f"{len(lab)} for argument #2 'targets'")

    width = 2 * max(tg_len + [0]) + 1
    ext = np.full((N, width), blank, dtype=np.int64)
    skip = np.zeros((N, width), dtype=bool)
    for n, lab in enumerate(labels):
        ext[n, 1:2 * len(lab):2] = lab
        for s in range(3, 2 * len(lab), 2):
            skip[n, s] = ext[n, s] != ext[n, s - 2]
    dev = log_probs.device
    ext_t = _C.tensor(ext, device=dev)
    lp = _C.gather(log_probs, 2, ext_t.unsqueeze(0).expand(T, N, width))  # (T, N, width)
    skip_t = _C.tensor(skip, device=dev)
    neg = _C.full([N, width], _LOG_ZERO, dtype=log_probs.dtype, device=dev)
    neg1 = _C.full([N, 1], _LOG_ZERO, dtype=log_probs.dtype, device=dev)
    neg2 = _C.full([N, 2], _LOG_ZERO, dtype=log_probs.dtype, device=dev)

    start = np.zeros((N, width), dtype=bool)
    start[:, 0] = True
    start[:, 1] = [l > 0 for l in tg_len] if width > 1 else False
    alpha = _C.where(_C.tensor(start, device=dev), lp[0], neg)
    for t in range(1, T):
        a1 = _C.cat([neg1, alpha.narrow(1, 0, width - 1)], 1)
        a2 = _C.cat([neg2, alpha.narrow(1, 0, width - 2)], 1) if width > 2 else neg
        a2 = _C.where(skip_t, a2, neg)
        new = _lse3(alpha, a1, a2) + lp[t]
        active = _C.tensor([[t < l] for l in in_len], device=dev)
        alpha = _C.where(active, new, alpha)

    last = _C.tensor([[2 * l] for l in tg_len], device=dev)
    prev = _C.tensor([[max(2 * l - 1, 0)] for l in tg_len], device=dev)
    a_last = _C.gather(alpha, 1, last).squeeze(1)
    a_prev = _C.gather(alpha, 1, prev).squeeze(1)
    has_prev = _C.tensor([l > 0 for l in tg_len], device=dev)
    a_prev = _C.where(has_prev, a_prev, _C.full([N], _LOG_ZERO, dtype=log_probs.dtype, device=dev))
    m = _C.maximum(a_last, a_prev).detach()
    loss = -(m + _C.log(_C.exp(a_last - m) + _C.exp(a_prev - m)))
    impossible = loss > _IMPOSSIBLE
    fill = 0.0 if zero_infinity else float("inf")
    loss = _C.where(impossible, _C.full_like(loss, fill), loss)
    if reduction == "mean":
        lens = _C.tensor([max(l, 1) for l in tg_len], dtype=loss.dtype, device=dev)
        return (loss / lens).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batched else loss.squeeze(0)

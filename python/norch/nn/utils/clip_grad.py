"""nn.utils: clip_grad_norm_ and clip_grad_value_."""
import math

from ... import _C
from ...autograd import no_grad

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters):
    if isinstance(parameters, _C.Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _vector_norm(t, norm_type):
    # The p-norm of all entries of t, as a 0-d float tensor.
    a = t.abs()
    if norm_type == math.inf:
        return a.amax() if a.numel() else _C.zeros([], dtype=t.dtype, device=t.device)
    if norm_type == 2.0:
        return (a * a).sum().sqrt()
    if norm_type == 1.0:
        return a.sum()
    if norm_type == 0.0:
        return (a != 0).to(t.dtype).sum()
    return a.pow(norm_type).sum().pow(1.0 / norm_type)


@no_grad()
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    grads = _grads(parameters)
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if not grads:
        return _C.tensor(0.0)
    norms = [_vector_norm(g, norm_type) for g in grads]
    total_norm = norms[0]
    if norm_type == math.inf:
        for n in norms[1:]:
            total_norm = _C.maximum(total_norm, n)
    elif len(norms) > 1:
        total_norm = _vector_norm(_C.stack(norms), norm_type)
    if error_if_nonfinite and not bool(_C.isfinite(total_norm).item()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    clip_coef_clamped = _C.clamp(max_norm / (total_norm + 1e-6), None, 1.0)
    for g in grads:
        g.mul_(clip_coef_clamped.to(g.dtype))
    return total_norm


@no_grad()
def clip_grad_value_(parameters, clip_value, foreach=None):
    clip_value = float(clip_value)
    for g in _grads(parameters):
        g.clamp_(-clip_value, clip_value)

"""nn.functional: channel-wise (feature) dropout and alpha dropout, composed from norch ops.

The noise is a Bernoulli mask drawn with Tensor.bernoulli_ (norch's RNG, so manual_seed
reproduces it); the masked product is an ordinary differentiable multiply. Feature
dropout draws one mask value per (sample, channel) and broadcasts it over the spatial
dimensions, as PyTorch's _VF.feature_dropout does.
"""
import warnings

from ... import _C

__all__ = ["dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]

# SELU's -scale * alpha: the value alpha dropout drops to (keeps SELU's fixed point).
_ALPHA = 1.7580993408473766


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _noise(input, p, feature):
    if feature:
        if input.dim() < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        shape = list(input.shape[:2]) + [1] * (input.dim() - 2)
    else:
        shape = list(input.shape)
    return _C.empty(shape, dtype=input.dtype, device=input.device).bernoulli_(1.0 - p)


def _dropout_impl(input, p, training, inplace, feature, alpha):
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        out = input * _C.zeros([], dtype=input.dtype, device=input.device)
    else:
        noise = _noise(input, p, feature)
        if alpha:
            a = 1.0 / ((_ALPHA * _ALPHA * p + 1) * (1 - p)) ** 0.5
            b = (noise - 1.0) * (_ALPHA * a) + _ALPHA * a * p
            out = input * (noise * a) + b
        else:
            out = input * (noise / (1.0 - p))
    if inplace:
        return input.copy_(out)
    return out


def _feature_dropout(input, p, training, inplace):
    return _dropout_impl(input, p, training, inplace, feature=True, alpha=False)


def _unbatched_feature_dropout(input, p, training, inplace):
    """Channel-wise dropout of one sample without its batch dimension: run batched, written back
    into ``input`` when ``inplace``."""
    out = _feature_dropout(input.unsqueeze(0), p, training, False).squeeze(0)
    return input.copy_(out) if inplace and not out._is_same(input) else out


def _warn_unexpected_rank(input, n):
    """dropout{n}d's deprecation warning for input that is neither (C, *spatial) nor (N, C, *spatial)."""
    if input.dim() not in (n + 1, n + 2):
        warnings.warn(f"dropout{n}d: Received a {input.dim()}-D input to dropout{n}d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this warning, "
                      f"please use dropout instead. Note that dropout{n}d exists to provide channel-wise dropout on "
                      f"inputs with {n} spatial dimensions, a channel dimension, and an optional batch dimension "
                      f"(i.e. {n + 1}D or {n + 2}D inputs).", stacklevel=3)


def dropout1d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    if input.dim() not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    if input.dim() == 2:
        return _unbatched_feature_dropout(input, p, training, inplace)
    return _feature_dropout(input, p, training, inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    _warn_unexpected_rank(input, 2)
    if input.dim() == 3:
        # PyTorch's historical reading of 3-D input as (N, C, L), kept with its warning.
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a "
                      "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
                      "please switch to using dropout1d instead.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    _warn_unexpected_rank(input, 3)
    if input.dim() == 4:
        return _unbatched_feature_dropout(input, p, training, inplace)
    return _feature_dropout(input, p, training, inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    _check_p(p)
    return _dropout_impl(input, p, training, inplace, feature=False, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    _check_p(p)
    return _dropout_impl(input, p, training, inplace, feature=True, alpha=True)

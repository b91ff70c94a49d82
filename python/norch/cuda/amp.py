"""norch.cuda.amp: PyTorch's older spelling of norch.amp for CUDA (deprecated there too)."""
import warnings

from ..amp import GradScaler as _GradScaler
from ..amp import autocast as _autocast
from ..amp import custom_bwd as _custom_bwd
from ..amp import custom_fwd as _custom_fwd

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]


class autocast(_autocast):
    """`norch.amp.autocast("cuda", ...)` under its older name."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        warnings.warn("`norch.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`norch.amp.autocast('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        from .. import float16
        super().__init__("cuda", dtype=float16 if dtype is None else dtype, enabled=enabled,
                         cache_enabled=cache_enabled)


class GradScaler(_GradScaler):
    """`norch.amp.GradScaler("cuda", ...)` under its older name."""

    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000, enabled=True):
        warnings.warn("`norch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`norch.amp.GradScaler('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


def custom_fwd(fwd=None, *, cast_inputs=None):
    warnings.warn("`norch.cuda.amp.custom_fwd(args...)` is deprecated. Please use "
                  "`norch.amp.custom_fwd(args..., device_type='cuda')` instead.", FutureWarning, stacklevel=2)
    return _custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd=None):
    warnings.warn("`norch.cuda.amp.custom_bwd(args...)` is deprecated. Please use "
                  "`norch.amp.custom_bwd(args..., device_type='cuda')` instead.", FutureWarning, stacklevel=2)
    return _custom_bwd(bwd, device_type="cuda")

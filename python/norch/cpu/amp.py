"""norch.cpu.amp: PyTorch's older spelling of norch.amp for the CPU (deprecated there too)."""
import functools
import warnings

from ..amp import GradScaler as _GradScaler
from ..amp import autocast as _autocast

__all__ = ["autocast", "GradScaler"]


class autocast(_autocast):
    """`norch.amp.autocast("cpu", ...)` under its older name."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        warnings.warn("`norch.cpu.amp.autocast(args...)` is deprecated. Please use "
                      "`norch.amp.autocast('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        from .. import bfloat16
        super().__init__("cpu", dtype=bfloat16 if dtype is None else dtype, enabled=enabled,
                         cache_enabled=cache_enabled)


class GradScaler(_GradScaler):
    """`norch.amp.GradScaler("cpu", ...)` under its older name."""

    @functools.wraps(_GradScaler.__init__)
    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000, enabled=True):
        warnings.warn("`norch.cpu.amp.GradScaler(args...)` is deprecated. Please use "
                      "`norch.amp.GradScaler('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cpu", init_scale, growth_factor, backoff_factor, growth_interval, enabled)

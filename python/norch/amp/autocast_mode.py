"""norch.autocast: regions where listed ops run in a lower-precision dtype.

The state is per thread and lives in C++ (src/ops/autocast.cpp), where the
listed C++ ops (matmul, mm, bmm, addmm, conv*, the fused losses, ...) check it;
the few listed ops written in Python call `cast_args` below. Op lists follow
PyTorch's: on the CPU, matmul/linear/conv/bmm/baddbmm/prelu/attention run in the
autocast dtype and losses, prod, cdist and reflection/replication padding in
float32; on CUDA softmax, log_softmax, layer_norm and group_norm run in float32 too.
"""
import functools
import warnings

from .. import _C

__all__ = ["autocast", "custom_fwd", "custom_bwd", "is_autocast_available"]

_state = _C._autocast
_DEVICE_TYPES = ("cpu", "cuda")


def is_autocast_available(device_type):
    """True for the device types autocast supports ("cpu" and "cuda")."""
    return device_type in _DEVICE_TYPES


def _check_device_type(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type not in _DEVICE_TYPES:
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")


def _low_precision_dtypes():
    from .. import float16, bfloat16
    return (bfloat16, float16)


class autocast:
    """Context manager and decorator: ops inside run in mixed precision.

    Args:
        device_type: "cpu" or "cuda".
        dtype: the lower-precision dtype (default bfloat16 on the CPU, float16 on CUDA).
        enabled: False makes the region a no-op (nested regions may turn autocast off).
        cache_enabled: cast float32 weights once per outermost region (default on).
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        _check_device_type(device_type)
        self.device = device_type
        self.fast_dtype = _state.get_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = _state.is_cache_enabled() if cache_enabled is None else cache_enabled
        if not isinstance(enabled, bool):
            raise ValueError(f"Expected `enabled` of type `bool`, got: `{type(enabled)}`")
        if enabled and device_type == "cuda":
            from .. import cuda
            if not cuda.is_available():
                warnings.warn("User provided device_type of 'cuda', but CUDA is not available. Disabling")
                enabled = False
        if enabled and self.fast_dtype not in _low_precision_dtypes():
            if device_type == "cpu":
                warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                              "CPU Autocast only supports dtypes of norch.bfloat16, norch.float16 currently.")
            else:
                warnings.warn("In CUDA autocast, but the target dtype is not supported. Disabling autocast.\n"
                              "CUDA Autocast only supports dtypes of norch.float16 and norch.bfloat16 currently.")
            enabled = False
        self._enabled = enabled

    def __enter__(self):
        self.prev = _state.is_enabled(self.device)
        self.prev_fastdtype = _state.get_dtype(self.device)
        self.prev_cache_enabled = _state.is_cache_enabled()
        _state.set_enabled(self.device, self._enabled)
        _state.set_dtype(self.device, self.fast_dtype)
        _state.increment_nesting()
        _state.set_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if _state.decrement_nesting() == 0:
            _state.clear_cache()
        _state.set_enabled(self.device, self.prev)
        _state.set_dtype(self.device, self.prev_fastdtype)
        _state.set_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast


# -- the module-level functions PyTorch has on `torch` ---------------------------
def is_autocast_enabled(device_type=None):
    """Autocast's state for `device_type` (PyTorch's no-argument form asks about CUDA)."""
    return _state.is_enabled("cuda" if device_type is None else device_type)


def set_autocast_enabled(device_type, enabled=None):
    if enabled is None:  # PyTorch's deprecated one-argument form sets CUDA
        device_type, enabled = "cuda", device_type
    _check_device_type(device_type)
    _state.set_enabled(device_type, enabled)


def get_autocast_dtype(device_type):
    _check_device_type(device_type)
    return _state.get_dtype(device_type)


def set_autocast_dtype(device_type, dtype):
    _check_device_type(device_type)
    _state.set_dtype(device_type, dtype)


def is_autocast_cache_enabled():
    return _state.is_cache_enabled()


def set_autocast_cache_enabled(enabled):
    _state.set_cache_enabled(enabled)


def clear_autocast_cache():
    _state.clear_cache()


def autocast_increment_nesting():
    return _state.increment_nesting()


def autocast_decrement_nesting():
    return _state.decrement_nesting()


def is_autocast_cpu_enabled():
    return _state.is_enabled("cpu")


def get_autocast_cpu_dtype():
    return _state.get_dtype("cpu")


def get_autocast_gpu_dtype():
    return _state.get_dtype("cuda")


def set_autocast_cpu_enabled(enabled):
    _state.set_enabled("cpu", enabled)


def set_autocast_cpu_dtype(dtype):
    _state.set_dtype("cpu", dtype)


def set_autocast_gpu_dtype(dtype):
    _state.set_dtype("cuda", dtype)


# -- what the listed ops written in Python call ----------------------------------
active = _state.active


def cast_args(policy, *tensors):
    """`tensors` cast for `policy` ("lower", "fp32"); None and non-tensors pass through."""
    return tuple(_state.cast(t, policy) if isinstance(t, _C.Tensor) else t for t in tensors)


def fp32_op(fn):
    """Marks a Python-level op PyTorch's autocast runs in float32: its tensor
    arguments are cast up when autocast is active, and nothing happens otherwise."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _state.active():
            args = cast_args("fp32", *args)
            kwargs = {k: (_state.cast(v, "fp32") if isinstance(v, _C.Tensor) else v) for k, v in kwargs.items()}
        return fn(*args, **kwargs)
    return wrapper


# -- custom autograd.Functions -------------------------------------------------
def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorates an autograd.Function's forward: with `cast_inputs`, floating
    tensor arguments are cast to it and forward runs with autocast off; the
    autocast state is remembered so `custom_bwd` runs backward under the same."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = _state.get_dtype(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = _state.is_enabled(device_type)
            return fwd(*args, **kwargs)
        autocast_context = _state.is_enabled(device_type)
        ctx._fwd_used_autocast = False
        if autocast_context:
            with autocast(device_type=device_type, enabled=False):
                return fwd(*_cast_to(args, cast_inputs), **_cast_to(kwargs, cast_inputs))
        return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorates an autograd.Function's backward to run under the autocast state its forward saw."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type=device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(*args, **kwargs)
    return decorate_bwd


def _cast_to(value, dtype):
    if isinstance(value, _C.Tensor):
        return value.to(dtype) if value.is_floating_point() and str(value.dtype) != "norch.float64" else value
    if isinstance(value, dict):
        return {k: _cast_to(v, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_to(v, dtype) for v in value)
    return value

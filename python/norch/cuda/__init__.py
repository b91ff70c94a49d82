"""norch.cuda: PyTorch's torch.cuda names over norch's CUDA runtime (devices, streams
and events, the caching allocator, seeding). Nothing here touches the driver at import
time.

Note [No GPU]: where no GPU can be used every function behaves as in PyTorch's CUDA
build on such a machine: the queries answer (is_available() False, device_count() 0,
memory counters 0, is_initialized() False), seeding is remembered, and whatever needs a
device raises PyTorch's error for the cause: "Torch not compiled with CUDA enabled"
(AssertionError) in a build without CUDA, "Found no NVIDIA driver on your system..."
without a driver, "No CUDA GPUs are available" without a device.
"""
from .. import _C
from .._C import OutOfMemoryError
from .memory import (empty_cache, max_memory_allocated, max_memory_cached, max_memory_reserved,  # noqa: F401
                     mem_get_info, memory_allocated, memory_cached, memory_reserved, memory_stats,
                     memory_stats_as_nested_dict, memory_summary, reset_max_memory_allocated,
                     reset_max_memory_cached, reset_peak_memory_stats)
from .streams import Event, Stream, StreamContext, stream  # noqa: F401

_cuda = _C._cuda


def is_available():
    """True when norch was built with CUDA and a GPU answers; never raises."""
    return _cuda.is_available()


def device_count():
    return _cuda.device_count()


def is_compiled():
    return _cuda.is_compiled()


def synchronize(device=None):
    """Waits for all work queued on every stream of ``device`` (the current one)."""
    _lazy_init()
    _cuda.synchronize(_device_index(device))


# --- names PyTorch scripts call on torch.cuda (seeding, the current device) ----------------

def _no_cuda_error():
    """The error PyTorch raises where CUDA cannot be used, in its wording for each cause."""
    compiled, count, code, message = _cuda.status()
    if not compiled:
        return AssertionError("Torch not compiled with CUDA enabled (norch was built without CUDA)")
    if code == 35 or "driver" in message.lower():
        return RuntimeError("Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and "
                            "installed a driver from http://www.nvidia.com/Download/index.aspx")
    return RuntimeError("No CUDA GPUs are available")


def _lazy_init():
    if not is_available():
        raise _no_cuda_error()


def init():
    _lazy_init()


def is_initialized():
    """True once a GPU was used in this process (a tensor allocated, a device or stream selected)."""
    return _cuda.is_initialized()


def _device_index(device, optional=True):
    """The CUDA device index ``device`` names: None (the current device), an int,
    "cuda"/"cuda:N", a norch.device or a norch.cuda.device."""
    if isinstance(device, device_cls):
        device = device.idx
    if device is None:
        return _cuda.current_device() if is_available() else 0  # without a GPU: the call that needs one raises
    if isinstance(device, str):
        device = _C.device(device)
    if isinstance(device, _C.device):
        if device.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {device}")
        if device.index is None:
            return _cuda.current_device() if is_available() else 0
        return device.index
    if isinstance(device, bool) or not isinstance(device, int):
        raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{device}")
    return device


def current_device():
    """The index of the current CUDA device of this thread."""
    _lazy_init()
    return _cuda.current_device()


def set_device(device):
    """Makes ``device`` the current CUDA device of this thread (a negative index is a no-op)."""
    idx = _device_index(device)
    if idx >= 0:
        _lazy_init()
        _cuda.set_device(idx)


class _DeviceProperties:
    """What get_device_properties returns: name, total_memory (bytes), major, minor,
    multi_processor_count."""

    __slots__ = ("name", "total_memory", "major", "minor", "multi_processor_count")

    def __init__(self, name, total_memory, major, minor, multi_processor_count):
        self.name, self.total_memory, self.major, self.minor = name, total_memory, major, minor
        self.multi_processor_count = multi_processor_count

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // (1024 * 1024)}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None):
    _lazy_init()
    return _DeviceProperties(*_cuda.get_device_properties(_device_index(device)))


def get_device_name(device=None):
    return get_device_properties(device).name


def get_device_capability(device=None):
    p = get_device_properties(device)
    return p.major, p.minor


def current_stream(device=None):
    """The stream this thread's work on ``device`` goes to (Note [Streams])."""
    _lazy_init()
    idx = _device_index(device)
    return Stream(idx, stream_ptr=_cuda.get_current_stream(idx))


def default_stream(device=None):
    """The device's default stream (the legacy default stream, handle 0)."""
    _lazy_init()
    return Stream(_device_index(device), stream_ptr=0)


def set_stream(stream):
    """Makes ``stream`` the current stream of its device (a no-op for None)."""
    if stream is not None:
        _cuda.set_current_stream(stream.device_index, stream.cuda_stream)


def manual_seed(seed):
    """Seeds the generator CUDA draws come from (norch has one Philox generator for every device)."""
    _C.manual_seed(int(seed))


manual_seed_all = manual_seed


def seed():
    return _C.seed()


seed_all = seed


def initial_seed():
    """The seed of the generator CUDA draws come from; initializes CUDA, as PyTorch's does."""
    _lazy_init()
    return _C.initial_seed()


def _install_typed_constructors():
    from .._legacy import CUDA_TYPES
    globals().update(CUDA_TYPES)


def get_rng_state(device="cuda"):
    """The state of the generator CUDA draws come from (norch's single Philox generator)."""
    return _C.get_rng_state()


def set_rng_state(new_state, device="cuda"):
    _C.set_rng_state(new_state)


def get_rng_state_all():
    return [get_rng_state()] * max(device_count(), 1)


def set_rng_state_all(new_states):
    for s in new_states[:1]:
        set_rng_state(s)


def is_bf16_supported(including_emulation=True):
    return False  # norch has no bfloat16 dtype


def is_tf32_supported():
    return False  # norch's CUDA matmuls compute float32 in float32


class device:
    """Context manager that makes ``device`` the current CUDA device for the block
    (None or a negative index selects nothing)."""

    def __init__(self, device):
        self.idx = -1 if device is None else _device_index(device)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx is not None and self.idx >= 0:
            self.prev_idx = current_device()
            if self.prev_idx != self.idx:
                set_device(self.idx)

    def __exit__(self, *exc):
        if self.prev_idx >= 0 and self.prev_idx != self.idx:
            set_device(self.prev_idx)
        return False


device_cls = device


class device_of(device):
    """device(...) for the device a tensor lives on; a no-op for CPU tensors."""

    def __init__(self, obj):
        super().__init__(obj.device.index if obj.device.type == "cuda" else -1)

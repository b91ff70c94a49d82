"""norch.accelerator: PyTorch's device-generic accelerator API. norch's only accelerator is CUDA,
so every query forwards to norch.cuda, and current_accelerator() is None without a GPU."""
from . import _C
from . import cuda as _cuda

__all__ = ["current_accelerator", "current_device_index", "current_device_idx", "device_count", "is_available",
           "set_device_index", "set_device_idx", "synchronize", "empty_cache", "memory_allocated",
           "memory_reserved", "device_index"]


def is_available():
    return _cuda.is_available()


def device_count():
    return _cuda.device_count()


def current_accelerator(check_available=False):
    """device('cuda') when norch was built with CUDA (and, with check_available, a GPU answers); else None."""
    if not _C._cuda.is_compiled() or (check_available and not is_available()):
        return None
    return _C.device("cuda")


def current_device_index():
    if not is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return 0


current_device_idx = current_device_index


def set_device_index(device):
    idx = device.index if isinstance(device, _C.device) else int(device)
    if idx not in (None, -1, 0) or not is_available():
        raise RuntimeError(f"set_device_index: no accelerator device {idx} (norch uses cuda:0 only)")


set_device_idx = set_device_index


class device_index:
    """Context manager that makes a device current; norch has one current device, cuda:0."""

    def __init__(self, device):
        self.idx = device

    def __enter__(self):
        if self.idx is not None:
            set_device_index(self.idx)

    def __exit__(self, *exc):
        return False


def synchronize(device=None):
    if is_available():
        _cuda.synchronize()


def empty_cache():
    _cuda.empty_cache()


def memory_allocated(device_index=None):
    return _cuda.memory_allocated()


def memory_reserved(device_index=None):
    return _cuda.memory_reserved()

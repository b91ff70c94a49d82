"""norch.cuda: device queries. Nothing here touches the driver at import time."""
from .. import _C

_cuda = _C._cuda


def is_available():
    """True when norch was built with CUDA and a GPU answers; never raises."""
    return _cuda.is_available()


def device_count():
    return _cuda.device_count()


def is_compiled():
    return _cuda.is_compiled()


def synchronize():
    _cuda.synchronize()


def memory_allocated():
    return _cuda.memory_allocated()


def memory_reserved():
    return _cuda.memory_reserved()


def empty_cache():
    _cuda.empty_cache()


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
    return is_available()


def current_device():
    _lazy_init()
    return 0


def set_device(device):
    idx = device.index if isinstance(device, _C.device) else device
    if idx not in (None, -1, 0) and not (isinstance(idx, str) and idx in ("cuda", "cuda:0")):
        raise RuntimeError(f"set_device: norch uses cuda:0 only, got {device}")
    _lazy_init()


def manual_seed(seed):
    """Seeds the generator CUDA draws come from (norch has one Philox generator for every device)."""
    _C.manual_seed(int(seed))


manual_seed_all = manual_seed


def seed():
    return _C.seed()


seed_all = seed


def initial_seed():
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
    """Context manager selecting a CUDA device; norch uses cuda:0, so any other index is refused."""

    def __init__(self, device):
        self.idx = device.index if isinstance(device, _C.device) else device

    def __enter__(self):
        if self.idx not in (None, -1):
            set_device(self.idx)

    def __exit__(self, *exc):
        return False


class device_of(device):
    """device(...) for the device a tensor lives on; a no-op for CPU tensors."""

    def __init__(self, obj):
        super().__init__(obj.device.index if obj.device.type == "cuda" else -1)

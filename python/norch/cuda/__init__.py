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

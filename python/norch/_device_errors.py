"""PyTorch's messages when a tensor is sent to CUDA that cannot be used.

In a build without CUDA, ``.to("cuda")`` and ``.cuda()`` raise PyTorch's AssertionError
"Torch not compiled with CUDA enabled". In a build with CUDA on a machine without a
driver or GPU the first allocation fails with a CUDA-runtime sentence; here that failure
is answered with PyTorch's wording for the cause ("Found no NVIDIA driver ...", "No CUDA
GPUs are available"), and so is ``pin_memory()``. Only the failure path is touched: a successful call costs one Python frame.
"""
import functools

from . import _C
from ._C import Tensor
from . import cuda


def _wants_cuda(args, kwargs):
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, Tensor):
            if a.device.type == "cuda":
                return True
        elif isinstance(a, (str, _C.device)) and str(a).startswith("cuda"):
            return True
    return False


def _wrap(method, always_cuda):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except RuntimeError:
            if (always_cuda or _wants_cuda(args, kwargs)) and not cuda.is_available():
                raise cuda._no_cuda_error() from None
            raise
    return wrapper


def _wrap_pin(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except RuntimeError:
            # A build without CUDA keeps the core's sentence, which is PyTorch's CPU build's.
            if _C._cuda.is_compiled() and not cuda.is_available():
                raise cuda._no_cuda_error() from None
            raise
    return wrapper


Tensor.to = _wrap(Tensor.to, False)
Tensor.cuda = _wrap(Tensor.cuda, True)
Tensor.pin_memory = _wrap_pin(Tensor.pin_memory)

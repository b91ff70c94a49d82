"""DLPack exchange: Tensor.__dlpack__ / __dlpack_device__ and norch.from_dlpack.

The argument handling of the Python protocol (stream, max_version, dl_device,
copy) follows the array API standard and PyTorch's reading of it; the capsules
themselves are made and consumed in C++ (src/python/dlpack_bind.cpp).
"""
import enum

from . import _C
from ._C import Tensor

_FLAGS = _C._dlpack_flags()


class DLDeviceType(enum.IntEnum):
    """Device codes of the DLPack specification."""
    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


def _dl_device_of(device):
    if device.type == "cuda":
        return (DLDeviceType.kDLCUDA, device.index if device.index is not None else 0)
    return (DLDeviceType.kDLCPU, 0)


def _norch_device(dl_device):
    kind, index = int(dl_device[0]), int(dl_device[1])
    if kind in (DLDeviceType.kDLCPU, DLDeviceType.kDLCUDAHost):
        return _C.device("cpu")
    if kind in (DLDeviceType.kDLCUDA, DLDeviceType.kDLCUDAManaged):
        return _C.device("cuda", index)
    raise BufferError(f"norch cannot export to DLPack device {tuple(dl_device)}: it has cpu and cuda only")


def _dlpack(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    """A DLPack capsule sharing this tensor's memory (a versioned one when max_version >= (1, 0))."""
    # DLPack carries no autograd graph: exporting would silently detach.
    if self.requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    if stream is not None and type(stream) is not int:
        raise TypeError("stream must be ``int`` or ``none``")
    if self.device.type == "cpu":
        if stream is not None and stream != -1:
            raise AssertionError("stream should be None on cpu.")
    elif stream not in (None, -1, 1):
        # norch computes on the legacy default stream, which blocking streams
        # already wait for; any other stream the consumer names waits for all
        # queued work.
        _C._cuda.synchronize()
    src, copied = self, False
    if dl_device is not None:
        target = _norch_device(dl_device)
        if target != self.device:
            if copy is False:
                raise BufferError(f"cannot export a {self.device} tensor to DLPack device {tuple(dl_device)} "
                                  "without a copy (copy=False)")
            src, copied = self.to(target), True
    if copy and not copied:
        src, copied = self.clone(), True
    if max_version is None or max_version[0] < 1:
        return _C._to_dlpack(src, False)
    major, minor = _C._DLPACK_VERSION
    if max_version[0] == major:
        minor = min(minor, max_version[1])
    return _C._to_dlpack(src, True, _FLAGS["IS_COPIED"] if copied else 0, major, minor)


def _dlpack_device(self):
    """(DLDeviceType, device index) of this tensor's memory."""
    return _dl_device_of(self.device)


def from_dlpack(ext_tensor, *, device=None, copy=None):
    """A tensor sharing memory with ``ext_tensor``: any object with ``__dlpack__`` (NumPy, PyTorch,
    CuPy, JAX...) or a DLPack capsule ("dltensor" or "dltensor_versioned"), as torch.from_dlpack."""
    if not hasattr(ext_tensor, "__dlpack__"):
        if device is not None or copy is not None:
            raise AssertionError("device and copy kwargs not supported when ext_tensor is already a DLPack capsule.")
        return _C._from_dlpack(ext_tensor)
    kwargs = {"max_version": _C._DLPACK_VERSION}
    if copy is not None:
        kwargs["copy"] = copy
    ext_device = tuple(ext_tensor.__dlpack_device__())
    cross_device = False
    if device is not None:
        target = _C.device(device) if not isinstance(device, _C.device) else device
        target_dl = _dl_device_of(target)
        cross_device = (int(ext_device[0]), int(ext_device[1])) != (int(target_dl[0]), int(target_dl[1]))
        if cross_device and copy is False:
            raise ValueError(f"cannot move DLPack tensor from device {ext_device} to {target_dl} without copying. "
                             "Set copy=None or copy=True.")
        if not cross_device:
            kwargs["dl_device"] = target_dl
    if int(ext_device[0]) in (DLDeviceType.kDLCUDA, DLDeviceType.kDLCUDAManaged):
        kwargs["stream"] = 1  # the legacy default stream, which norch computes on
    # Older producers know fewer keywords: drop them one at a time, as PyTorch does.
    capsule, producer_copied = None, True
    for drop in (None, "max_version", "copy", "dl_device"):
        if drop is not None:
            kwargs.pop(drop, None)
            producer_copied = producer_copied and drop != "copy"
        try:
            capsule = ext_tensor.__dlpack__(**kwargs)
            break
        except TypeError:
            if drop == "dl_device":
                raise
    t = _C._from_dlpack(capsule)
    if copy is True and not producer_copied and not cross_device:
        t = t.clone()
    if cross_device:
        t = t.to(target)
    return t


def to_dlpack(tensor):
    """A legacy ("dltensor") DLPack capsule sharing ``tensor``'s memory, as torch.utils.dlpack.to_dlpack."""
    return _C._to_dlpack(tensor, False)


def install():
    Tensor.__dlpack__ = _dlpack
    Tensor.__dlpack_device__ = _dlpack_device

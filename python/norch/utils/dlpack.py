"""norch.utils.dlpack: PyTorch's torch.utils.dlpack (to_dlpack, from_dlpack, DLDeviceType)."""
from .._dlpack import DLDeviceType, from_dlpack, to_dlpack  # noqa: F401

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]

"""norch.cpu: the CPU as a device module, with PyTorch's names (torch.cpu)."""
from . import amp  # noqa: F401

__all__ = ["amp", "current_device", "device_count", "is_available", "synchronize"]


def is_available():
    return True


def device_count():
    return 1


def current_device():
    return "cpu"


def synchronize(device=None):
    """CPU ops finish before they return; there is nothing to wait for."""

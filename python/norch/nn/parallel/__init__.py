"""norch.nn.parallel: DistributedDataParallel (data parallelism over norch.distributed)."""
from .distributed import DistributedDataParallel  # noqa: F401

__all__ = ["DistributedDataParallel"]

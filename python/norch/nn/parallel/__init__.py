"""norch.nn.parallel: DataParallel (one process, the GPUs of this machine) and
DistributedDataParallel (data parallelism over norch.distributed)."""
from ._data_parallel import DataParallel, data_parallel, gather, parallel_apply, replicate, scatter  # noqa: F401
from .distributed import DistributedDataParallel  # noqa: F401

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel", "gather", "parallel_apply", "replicate",
           "scatter"]

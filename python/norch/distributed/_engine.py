"""The MPI engine behind norch.distributed: loading it lazily, and lending it tensor memory.

Note [Where the process-group layer lives]
PyTorch's process groups are C++ (c10d), because they must order NCCL work on CUDA
streams and run without Python. norch's CPU process group is Python over mpi4py instead:
- norch builds and imports with no MPI headers or library present; mpi4py is imported
  only when a process group is created, and it finds the MPI library at run time, so any
  MPI (Open MPI, MPICH, Intel MPI) works without rebuilding norch;
- mpi4py takes any buffer-protocol object, so a contiguous CPU tensor's own memory (its
  ``.numpy()`` view) is handed to MPI with no copy;
- the cost is a few microseconds of Python per call, which only matters below a few KB
  (benchmarks/bench_distributed.py measures it against mpi4py's own calls), and DDP calls
  it once per bucket, not once per parameter.
NCCL needs stream-ordered calls from C++ and belongs in the core with the CUDA backend.

Nothing here imports mpi4py at module level; ``load()`` does, on first use.
"""
import sys

import numpy as np

from .._C import Tensor

INSTALL_HELP = (
    "norch.distributed needs an MPI library and the mpi4py binding. "
    "On Debian/Ubuntu: `apt-get install openmpi-bin libopenmpi-dev` and `pip install mpi4py` "
    "(or run scripts/install_mpi.sh from a norch checkout). "
    "For CUDA tensors the NCCL engine would come from the `nvidia-nccl-cu13` wheel, "
    "but norch's NCCL backend is not implemented yet.")

_MPI = None


def available():
    """Whether mpi4py can be imported, without importing it (importing it starts MPI)."""
    if "mpi4py.MPI" in sys.modules:
        return sys.modules["mpi4py.MPI"] is not None
    if "mpi4py" in sys.modules and sys.modules["mpi4py"] is None:
        return False
    import importlib.util
    try:
        return importlib.util.find_spec("mpi4py") is not None
    except (ImportError, ValueError):
        return False


def load():
    """The mpi4py.MPI module (initialising MPI on first call), or a RuntimeError saying how to install one."""
    global _MPI
    if _MPI is None:
        try:
            from mpi4py import MPI
        except (ImportError, RuntimeError, OSError) as e:
            raise RuntimeError(f"norch.distributed: no MPI engine could be loaded ({e}). {INSTALL_HELP}") from e
        _MPI = MPI
    return _MPI


_DATATYPES = {}


def mpi_datatype(MPI, np_dtype):
    if not _DATATYPES:
        _DATATYPES.update({
            np.dtype(np.float32): MPI.FLOAT, np.dtype(np.float64): MPI.DOUBLE,
            np.dtype(np.int32): MPI.INT32_T, np.dtype(np.int64): MPI.INT64_T,
            np.dtype(np.uint8): MPI.UINT8_T, np.dtype(np.bool_): MPI.C_BOOL,
            np.dtype(np.int8): MPI.INT8_T, np.dtype(np.int16): MPI.INT16_T,
        })
    try:
        return _DATATYPES[np_dtype]
    except KeyError:
        raise TypeError(f"norch.distributed: dtype {np_dtype} cannot be carried by MPI") from None


class TensorBuffer:
    """A contiguous NumPy array over a CPU tensor's memory, for MPI to read or write.

    A contiguous tensor lends its own memory (no copy). A non-contiguous one gets a
    contiguous staging copy, and ``commit()`` writes the staging copy back through the
    tensor's strided view once MPI has written it.
    """
    __slots__ = ("tensor", "view", "array", "staged")

    def __init__(self, tensor, op, writable=True):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{op}: expected a norch.Tensor, got {type(tensor).__name__}")
        if tensor.is_cuda:
            raise RuntimeError(f"{op}: the mpi backend takes CPU tensors, got a tensor on {tensor.device}; "
                               "the NCCL backend for CUDA tensors is not implemented yet")
        self.tensor = tensor
        # Shares memory with the tensor, with its strides.
        self.view = (tensor.detach() if tensor.requires_grad else tensor).numpy()
        self.staged = not self.view.flags.c_contiguous
        # reshape(-1) of a C-contiguous array is a view; of the staging copy, a view of the copy.
        self.array = (np.ascontiguousarray(self.view) if self.staged else self.view).reshape(-1)
        if writable and not self.view.flags.writeable:
            raise RuntimeError(f"{op}: the output tensor's memory is read-only")

    def commit(self):
        if self.staged:
            np.copyto(self.view, self.array.reshape(self.view.shape))
        return self.tensor

    def spec(self, MPI):
        return [self.array, mpi_datatype(MPI, self.array.dtype)]

"""norch: a small, readable deep-learning framework with PyTorch's API.

The C++ core (tensors, kernels, autograd) lives in ``norch._C``; this package
re-exports it and adds what is naturally Python (nn, optim, data, printing).
"""
from . import _C
from ._C import (  # noqa: F401
    Tensor, dtype, device,
    bool, uint8, int32, int64, float32, float64,
    get_default_dtype, set_default_dtype, promote_types, result_type,
    set_num_threads, get_num_threads,
    tensor, from_numpy,
)
from ._size import Size  # noqa: F401

# PyTorch's aliases for dtypes.
float = float32
double = float64
int = int32
long = int64

_dtype_by_name_map = {"bool": bool, "uint8": uint8, "int32": int32, "int64": int64,
                      "float32": float32, "float64": float64}


def _dtype_by_name(name):
    return _dtype_by_name_map[name]


def _export_functions():
    # Every public function of _C becomes norch.<name>.
    g = globals()
    for name in dir(_C):
        if name.startswith("_") or name in g:
            continue
        g[name] = getattr(_C, name)


_export_functions()

from . import _tensor  # noqa: E402,F401  (Python-side Tensor methods: repr, iteration, ...)
from . import autograd  # noqa: E402,F401
from .autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled  # noqa: E402,F401
from . import cuda  # noqa: E402,F401
from . import random  # noqa: E402,F401

__version__ = "0.1.0"


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(t):
    return t.numel()


from .serialization import save, load  # noqa: E402,F401
from . import nn, optim, utils  # noqa: E402,F401  (import norch gives norch.nn, .optim, .utils.data, as torch does)
from .utils import data as _data  # noqa: E402,F401

"""norch: a small, readable deep-learning framework with PyTorch's API.

The C++ core (tensors, kernels, autograd) lives in ``norch._C``; this package
re-exports it and adds what is naturally Python (nn, optim, data, printing).
"""
import os as _os

# Note [OpenMP wait policy]: libgomp reads its settings once, when it loads (with _C).
# By default its idle threads spin for a while after each parallel region; on a machine
# whose cores are busy with other work, the spinning thread takes the core the working
# one needs, and 2 threads ran up to 350x slower than 1 (benchmarks/bench_threads.py).
# Unless the user chose a policy, the threads sleep instead. The variable is set only for
# the load and then removed, so child processes see the environment they were given.
_omp_defaults = {}
if not any(v in _os.environ for v in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")):
    _omp_defaults["OMP_WAIT_POLICY"] = "PASSIVE"
_os.environ.update(_omp_defaults)
try:
    from . import _C
finally:
    for _v in _omp_defaults:
        _os.environ.pop(_v, None)
    del _os
from ._C import (  # noqa: F401
    Tensor, dtype, device,
    bool, uint8, int32, int64, float32, float64, float16, bfloat16,
    get_default_dtype, set_default_dtype, promote_types, result_type,
    set_num_threads, get_num_threads,
    tensor, from_numpy,
)
from ._size import Size  # noqa: F401

# PyTorch's aliases for dtypes.
float = float32
double = float64
half = float16
int = int32
long = int64

_dtype_by_name_map = {"bool": bool, "uint8": uint8, "int32": int32, "int64": int64,
                      "float32": float32, "float64": float64, "float16": float16, "bfloat16": bfloat16}


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

from typing import TYPE_CHECKING  # noqa: E402
if TYPE_CHECKING:
    # What _export_functions() puts here at run time, told to type checkers
    # through the stubs of _C (python/norch/_C/*.pyi, scripts/gen_stubs.py).
    from ._C import *  # noqa: F401,F403
del TYPE_CHECKING

from . import _tensor  # noqa: E402,F401  (Python-side Tensor methods: repr, iteration, ...)
from ._tensor import set_printoptions, get_printoptions  # noqa: E402,F401
from . import autograd  # noqa: E402,F401
from .autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled  # noqa: E402,F401
from . import cuda  # noqa: E402,F401
from . import random  # noqa: E402,F401
from . import _dlpack  # noqa: E402
_dlpack.install()
from ._dlpack import from_dlpack  # noqa: E402,F401
from . import _tensor_compat  # noqa: E402
_tensor_compat.install()
from . import _legacy  # noqa: E402
_legacy.install(globals())
cuda._install_typed_constructors()
from . import _functions  # noqa: E402
from ._functions import (  # noqa: E402,F401
    pi, e, inf, nan, newaxis, layout, strided, memory_format, contiguous_format, preserve_format,
    fill, polygamma, repeat_interleave, combinations, frombuffer, empty_permuted, lu_unpack, get_default_device,
    set_default_tensor_type, get_device_module, init_num_threads, broadcast_shapes, broadcast_tensors, atleast_1d, atleast_2d, atleast_3d, hstack, vstack, row_stack,
    dstack, column_stack, block_diag, meshgrid, cartesian_prod, tensordot, cdist, logspace, scalar_tensor,
    as_tensor, asarray, empty_strided, isin, searchsorted, bucketize, unravel_index, trapezoid, trapz,
    cumulative_trapezoid, rsub, can_cast, var_mean, std_mean, chain_matmul, vander, norm,
    has_openmp, has_mkl, has_lapack, has_spectral, is_storage, finfo, iinfo,
    set_float32_matmul_precision, get_float32_matmul_precision, use_deterministic_algorithms,
    are_deterministic_algorithms_enabled, is_deterministic_algorithms_warn_only_enabled,
    set_deterministic_debug_mode, get_deterministic_debug_mode, set_warn_always, is_warn_always_enabled,
    get_num_interop_threads, set_num_interop_threads, set_flush_denormal, compile,
)
_functions.install(globals())
from ._einsum import einsum  # noqa: E402,F401
from ._functions import range_ as range  # noqa: E402,F401  (PyTorch's deprecated inclusive range)
from .autograd import inference_mode, is_inference_mode_enabled  # noqa: E402,F401
from .autograd import set_detect_anomaly, is_anomaly_enabled  # noqa: E402,F401

__version__ = "0.1.0"


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(t):
    return t.numel()


from .serialization import save, load  # noqa: E402,F401
from . import nn, optim, utils  # noqa: E402,F401  (import norch gives norch.nn, .optim, .utils.data, as torch does)
from .utils import data as _data  # noqa: E402,F401
from . import backends, accelerator  # noqa: E402,F401
from . import onnx  # noqa: E402,F401  (the exporter; the onnx package itself is imported only by an export)
from . import _device_errors  # noqa: E402,F401
from . import distributions  # noqa: E402,F401

# PyTorch's top-level forms of nn.functional ops whose signatures agree with nn.functional's.
for _name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
              "avg_pool1d", "max_pool1d", "max_pool2d", "max_pool3d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
              "pixel_shuffle", "pixel_unshuffle", "cosine_similarity", "pairwise_distance", "pdist", "selu", "celu",
              "rrelu", "threshold", "dropout", "alpha_dropout", "feature_alpha_dropout", "bilinear",
              "binary_cross_entropy_with_logits", "cosine_embedding_loss", "hinge_embedding_loss", "kl_div",
              "margin_ranking_loss", "poisson_nll_loss", "triplet_margin_loss", "ctc_loss", "layer_norm",
              "group_norm", "instance_norm", "rms_norm", "selu_", "celu_", "rrelu_", "threshold_"):
    if _name not in globals() and hasattr(nn.functional, _name):
        globals()[_name] = getattr(nn.functional, _name)
del _name

from . import amp, cpu  # noqa: E402,F401
from .amp import autocast  # noqa: E402,F401
from .amp.autocast_mode import (  # noqa: E402,F401
    is_autocast_enabled, set_autocast_enabled, get_autocast_dtype, set_autocast_dtype, is_autocast_cache_enabled,
    set_autocast_cache_enabled, clear_autocast_cache, autocast_increment_nesting, autocast_decrement_nesting,
    is_autocast_cpu_enabled, get_autocast_cpu_dtype, get_autocast_gpu_dtype, set_autocast_cpu_enabled,
    set_autocast_cpu_dtype, set_autocast_gpu_dtype,
)
from .cuda import amp as _cuda_amp  # noqa: E402,F401  (norch.cuda.amp, as torch.cuda.amp)

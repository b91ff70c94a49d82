"""norch.backends.cuda: matmul precision flags, the CUDA matmul kernel choice and attention-backend
switches. ``matmul.allow_tf32`` is PyTorch's: the float32 matmul precision seen as a bool
(Note [float32 matmul precision]); it selects TF32 tensor cores in norch's CUDA matmuls."""
from .. import _C

_REDUCED = {"allow_fp16_reduced_precision_reduction": True, "allow_bf16_reduced_precision_reduction": True}


class _Matmul:
    """torch.backends.cuda.matmul: allow_tf32 reads and writes norch.set_float32_matmul_precision
    (True is "high", False is "highest"), as in PyTorch; other names are refused."""

    def __getattr__(self, name):
        if name == "allow_tf32":
            return _C._get_float32_matmul_precision() != "highest"
        if name in _REDUCED:
            return _REDUCED[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        if name == "allow_tf32":
            if not isinstance(value, bool):
                raise RuntimeError(f"set_allow_tf32_cublas expects a bool, but got {type(value).__name__}")
            _C._set_float32_matmul_precision("high" if value else "highest")
            return
        if name in _REDUCED:
            _REDUCED[name] = bool(value)
            return
        raise AttributeError(f"Unknown attribute {name}")

    def __repr__(self):
        return f"<norch.backends.cuda.matmul allow_tf32={self.allow_tf32}>"


def set_matmul_kernel(kernel):
    """Chooses the CUDA kernel behind float32/float64 matmul (Note [CUDA matmul ladder]):
    "cublas" (the default), or the teaching kernels "tiled" (shared-memory tiles) and "naive"
    (one thread per output). The NORCH_CUDA_MATMUL environment variable sets the same choice
    at start-up. Raises ValueError for any other name."""
    _C._set_cuda_matmul_kernel(kernel)


def get_matmul_kernel():
    """The CUDA matmul kernel in use: "cublas", "tiled" or "naive"."""
    return _C._get_cuda_matmul_kernel()


matmul = _Matmul()
_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def is_built():
    """True when norch was built with CUDA (whether or not a GPU is present)."""
    return _C._cuda.is_compiled()


def flash_sdp_enabled():
    return _sdp["flash"]


def enable_flash_sdp(enabled):
    _sdp["flash"] = bool(enabled)


def mem_efficient_sdp_enabled():
    return _sdp["mem_efficient"]


def enable_mem_efficient_sdp(enabled):
    _sdp["mem_efficient"] = bool(enabled)


def math_sdp_enabled():
    return _sdp["math"]


def enable_math_sdp(enabled):
    _sdp["math"] = bool(enabled)


def cudnn_sdp_enabled():
    return _sdp["cudnn"]


def enable_cudnn_sdp(enabled):
    _sdp["cudnn"] = bool(enabled)


def is_flash_attention_available():
    return False


def preferred_linalg_library(backend=None):
    return "default"


def preferred_blas_library(backend=None):
    return "cublas"

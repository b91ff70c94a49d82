"""norch.backends: the flags PyTorch scripts set (cudnn.benchmark, cuda.matmul.allow_tf32, ...).

norch has no cuDNN, MKL or TF32 path, so these flags select nothing; they are kept, with
PyTorch's defaults, so that a script that sets or reads them runs unchanged. The
``is_available`` queries answer truthfully for norch.
"""
from . import cudnn, cuda, mps, cpu, mkl, mkldnn, openmp  # noqa: F401

__all__ = ["cudnn", "cuda", "mps", "cpu", "mkl", "mkldnn", "openmp"]

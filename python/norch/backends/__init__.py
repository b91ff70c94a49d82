"""norch.backends: the flags PyTorch scripts set (cudnn.benchmark, cuda.matmul.allow_tf32, ...).

norch has no cuDNN or MKL path, so those flags select nothing; they are kept, with PyTorch's
defaults, so that a script that sets or reads them runs unchanged. cuda.matmul.allow_tf32 is
real: it switches norch's CUDA float32 matmuls to TF32. The
``is_available`` queries answer truthfully for norch.
"""
from . import cudnn, cuda, mps, cpu, mkl, mkldnn, openmp  # noqa: F401

__all__ = ["cudnn", "cuda", "mps", "cpu", "mkl", "mkldnn", "openmp"]

// The CUDA matmul ladder (Note [CUDA matmul ladder] in kernels/linalg.h): the
// teaching kernels that matmul_cublas.cu runs instead of cuBLAS when asked, and
// the plain kernel that serves integer dtypes and bmm_reference on CUDA.
#pragma once
#include "kernels/cuda/common.cuh"
#include "norch/tensor/tensor.h"

namespace norch::cuda_kernels {

// out [B, n, m] (contiguous) = a [B, n, k] @ b [B, k, m]; a and b read through their
// element strides, so transposed and expanded views need no copy.
// 1. one thread per output element, the k loop straight from global memory.
void bmm_naive(const Tensor& a, const Tensor& b, const Tensor& out);
// 2. 32x32 tiles of a and b staged through shared memory, each thread computing
//    four outputs of its tile (the floating dtypes).
void bmm_tiled(const Tensor& a, const Tensor& b, const Tensor& out);

}  // namespace norch::cuda_kernels

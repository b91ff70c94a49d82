// Kernel signatures for matrix products (private to the core).
#pragma once
#include "norch/dispatch.h"
#include "norch/tensor/tensor.h"

namespace norch {

// out[b] = a[b] @ b[b] for 3-d a [B, n, k], b [B, k, m], out [B, n, m] (contiguous), k > 0.
// a and b may be strided (transposed views read without copying where the kernel can).
using BmmKernel = void (*)(const Tensor& a, const Tensor& b, const Tensor& out);
extern DispatchStub<BmmKernel> bmm_stub;
// The plain loop the fast kernel is tested against.
extern DispatchStub<BmmKernel> bmm_reference_stub;

// Note [float32 matmul precision]: PyTorch's torch.set_float32_matmul_precision.
// "highest" (the default) computes float32 products in full FP32; "high" and
// "medium" let the CUDA kernel use TF32 tensor cores (10-bit mantissa inputs,
// FP32 accumulation). torch.backends.cuda.matmul.allow_tf32 is the same setting
// seen as a bool. The CPU kernels compute FP32 at every setting, as PyTorch's do.
enum class MatmulPrecision { Highest, High, Medium };
MatmulPrecision float32_matmul_precision();

// Note [CUDA matmul ladder]: which CUDA kernel runs floating-point bmm: cuBLAS
// (the default), or one of the teaching kernels kept beside it and tested
// against it (src/kernels/cuda/matmul_ladder.cu). Chosen by NORCH_CUDA_MATMUL
// (read once, at first use) or norch.backends.cuda.set_matmul_kernel.
enum class CudaMatmulKernel { Cublas, Tiled, Naive };
CudaMatmulKernel cuda_matmul_kernel();

}  // namespace norch

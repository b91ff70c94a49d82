// norch/ops/linalg.h — the matmul family.
#pragma once
#include <string>

#include "norch/tensor/tensor.h"

namespace norch {

// PyTorch's matmul: 1-d/2-d cases, and batch dims broadcast for >= 3-d.
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);    // [n, k] @ [k, m]
Tensor bmm(const Tensor& a, const Tensor& b);   // [B, n, k] @ [B, k, m]
// bmm through the plain reference kernel, without autograd: the oracle the fast
// kernel is tested against (DESIGN principle 4; bound as norch._C._bmm_reference).
Tensor bmm_reference(const Tensor& a, const Tensor& b);
Tensor mv(const Tensor& a, const Tensor& v);
Tensor dot(const Tensor& a, const Tensor& b);   // 1-d · 1-d
Tensor outer(const Tensor& a, const Tensor& b);
// beta * input + alpha * (m1 @ m2)
Tensor addmm(const Tensor& input, const Tensor& m1, const Tensor& m2, const Scalar& beta = Scalar(1),
             const Scalar& alpha = Scalar(1));

// Note [float32 matmul precision] (src/kernels/linalg.h): "highest", "high" or
// "medium". An unknown name changes nothing and returns false (Python warns, as
// PyTorch does).
bool set_float32_matmul_precision(const std::string& precision);
std::string get_float32_matmul_precision();
// Note [CUDA matmul ladder]: "cublas", "tiled" or "naive"; anything else raises ValueError.
void set_cuda_matmul_kernel(const std::string& kernel);
std::string get_cuda_matmul_kernel();

}  // namespace norch

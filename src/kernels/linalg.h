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

}  // namespace norch

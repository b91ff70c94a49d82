// Kernel signatures for reductions (private to the core).
//
// Note [Reduction layout]: ops hand kernels a 2-d problem. `in` is either
// [M, K] (inner: reduce each contiguous row) or [K, M] (outer: reduce down
// columns, rows contiguous), and `out` is a contiguous [M]. The op permutes and,
// only when neither layout fits, copies the input to reach one of them.
#pragma once
#include "norch/dispatch.h"
#include "norch/tensor/tensor.h"

namespace norch {

enum class ReduceOp { Sum, Prod, Max, Min, All, Any };

using ReduceKernel = void (*)(ReduceOp op, const Tensor& in, bool inner, const Tensor& out);
extern DispatchStub<ReduceKernel> reduce_stub;

// Variance of each reduced slice of the same 2-d problem: the slice's mean and then its
// sum of squared deviations, both in double, divided by max(0, K - correction), as
// PyTorch's two-pass formula. `out` is the input's (floating) dtype.
using VarKernel = void (*)(const Tensor& in, bool inner, double correction, const Tensor& out);
extern DispatchStub<VarKernel> var_stub;

// Values (optional: `values` may be undefined) and int64 indices of the max or
// min over K of the same 2-d problem. The first occurrence wins ties and a NaN
// beats every number, as in PyTorch. Callers guarantee K > 0.
using ArgReduceKernel = void (*)(bool is_max, const Tensor& in, bool inner, const Tensor& values,
                                 const Tensor& indices);
extern DispatchStub<ArgReduceKernel> arg_reduce_stub;

// Inclusive scan along the middle dim of a contiguous [outer, n, inner] tensor
// into `out` (same shape and dtype); `reverse` scans from the end.
enum class ScanOp { Sum, Prod };
using ScanKernel = void (*)(ScanOp op, const Tensor& in, const Tensor& out, bool reverse);
extern DispatchStub<ScanKernel> scan_stub;

// The op-side step that brings `a` into the layout above for reducing the dims in `mask`
// (reduce.cpp): a view when one of the two layouts fits, else a contiguous copy. Sets `inner`.
Tensor reduction_2d(const Tensor& a, const std::vector<bool>& mask, bool& inner);

}  // namespace norch

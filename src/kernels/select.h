// Kernel signatures for gather/scatter, nonzero, sort and unique (private to the core).
// Ops check shapes and index ranges before calling, except that gather/scatter
// leave the range check of CUDA indices to the CUDA kernels, which raise.
#pragma once
#include "norch/dispatch.h"
#include "norch/tensor/tensor.h"

namespace norch {

// out[..., j, ...] = self[..., index[..., j, ...], ...] along dim; out has index's shape.
using GatherKernel = void (*)(const Tensor& out, const Tensor& self, int64_t dim, const Tensor& index);
extern DispatchStub<GatherKernel> gather_stub;
// self[..., index[..., j, ...], ...] = src[..., j, ...] (or += when accumulate), over index's shape.
using ScatterKernel = void (*)(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src,
                               bool accumulate);
extern DispatchStub<ScatterKernel> scatter_stub;
// Coordinates of the non-zero elements of a contiguous self, shape (n, self.dim()),
// int64, row-major order.
using NonzeroKernel = Tensor (*)(const Tensor& self);
extern DispatchStub<NonzeroKernel> nonzero_stub;
// Sorts every 1-d slice along dim and writes its first k entries into
// values/indices (preallocated: self's shape with k along dim). NaN sorts as
// the largest value, as in PyTorch. Ties keep their input order (stable).
using SortKernel = void (*)(const Tensor& values, const Tensor& indices, const Tensor& self, int64_t dim,
                            bool descending, int64_t k);
extern DispatchStub<SortKernel> sort_stub;
// Distinct rows of a contiguous 2-d self (n, m), in lexicographic order: for each
// the index of one row holding it (`first`), the inverse map (n,) and counts.
using UniqueKernel = void (*)(const Tensor& self, Tensor& first, Tensor& inverse, Tensor& counts);
extern DispatchStub<UniqueKernel> unique_stub;

}  // namespace norch

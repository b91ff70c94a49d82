// Kernel signatures for fills and ranges (private to the core).
#pragma once
#include "norch/dispatch.h"
#include "norch/tensor/iterator.h"

namespace norch {

using FillKernel = void (*)(const Tensor& self, const Scalar& value);
extern DispatchStub<FillKernel> fill_stub;
// self[i] = start + i * step for a contiguous self; linspace passes an exact end.
using RangeKernel = void (*)(const Tensor& self, double start, double step, double end, bool exact_end);
extern DispatchStub<RangeKernel> range_stub;

}  // namespace norch

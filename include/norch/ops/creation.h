// norch/ops/creation.h — tensors made from nothing (or from a shape).
#pragma once
#include "norch/tensor/tensor.h"

namespace norch {

Tensor zeros(const Shape& sizes, TensorOptions opts = {});
Tensor ones(const Shape& sizes, TensorOptions opts = {});
Tensor full(const Shape& sizes, const Scalar& value, TensorOptions opts = {});
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, const Scalar& value);
Tensor empty_like(const Tensor& t);
// [start, end) in steps of `step`; the length follows PyTorch: ceil((end-start)/step).
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, TensorOptions opts);
Tensor linspace(double start, double end, int64_t steps, TensorOptions opts = {});
Tensor eye(int64_t n, int64_t m, TensorOptions opts = {});
// A Python-number constant for formulas: a wrapped number, so it never changes
// the other operand's dtype (x * scalar(2.0) keeps x's float64 or float32).
inline Tensor scalar(double v) { return scalar_to_tensor(Scalar(v)); }

// In place: every element becomes `value`. Bumps the version counter.
Tensor& fill_(Tensor& self, const Scalar& value);
// Raises PyTorch's "value cannot be converted to type ... without overflow" when a
// scalar written into a tensor of `dtype` does not fit it (fill_, full, masked_fill,
// setitem).
void check_scalar_fits(const Scalar& value, ScalarType dtype);
Tensor& zero_(Tensor& self);

}  // namespace norch

// Small helpers shared by the C++ tests: tensors from literals and back.
#pragma once
#include <vector>

#include "norch/norch.h"

namespace norch::testing {

inline Tensor from_vector(const std::vector<double>& values, const Shape& shape,
                          ScalarType dtype = ScalarType::Float64, bool requires_grad = false) {
  Tensor t = empty(shape, TensorOptions(ScalarType::Float64));
  std::copy(values.begin(), values.end(), t.data<double>());
  Tensor out = dtype == ScalarType::Float64 ? t : to_dtype(t, dtype);
  if (requires_grad) out.set_requires_grad(true);
  return out;
}

inline std::vector<double> to_vector(const Tensor& t) {
  Tensor c = contiguous(to_dtype(detach(t), ScalarType::Float64));
  return std::vector<double>(c.data<double>(), c.data<double>() + c.numel());
}

}  // namespace norch::testing

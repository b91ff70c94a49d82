// norch/ops/reduce.h — reductions over any set of dims (empty dims = all), with keepdim.
#pragma once
#include <optional>

#include "norch/tensor/tensor.h"

namespace norch {

// dtype: accumulate and return in this dtype (integer/bool inputs sum to int64 by default).
Tensor sum(const Tensor& a, const Shape& dims = {}, bool keepdim = false,
           std::optional<ScalarType> dtype = std::nullopt);
Tensor mean(const Tensor& a, const Shape& dims = {}, bool keepdim = false,
            std::optional<ScalarType> dtype = std::nullopt);
// Sums `a` down to `shape` (the inverse of broadcasting); used by the engine.
Tensor sum_to(const Tensor& a, const Shape& shape);

// Helpers for reduction ops: which dims are reduced, and the output shape.
std::vector<bool> reduction_mask(const Tensor& a, const Shape& dims, const char* op_name);
Shape reduced_shape(const Tensor& a, const std::vector<bool>& mask, bool keepdim);
// Re-inserts reduced dims (size 1) into a gradient computed with keepdim=false,
// so it broadcasts against the input.
Tensor unsqueeze_reduced(const Tensor& g, const std::vector<bool>& mask, bool keepdim);

}  // namespace norch

// norch/ops/reduce.h — reductions over any set of dims (empty dims = all), with keepdim.
#pragma once
#include <optional>
#include <string>
#include <tuple>

#include "norch/tensor/tensor.h"

namespace norch {

// dtype: accumulate and return in this dtype (integer/bool inputs sum to int64 by default).
Tensor sum(const Tensor& a, const Shape& dims = {}, bool keepdim = false,
           std::optional<ScalarType> dtype = std::nullopt);
Tensor mean(const Tensor& a, const Shape& dims = {}, bool keepdim = false,
            std::optional<ScalarType> dtype = std::nullopt);
Tensor prod(const Tensor& a, const Shape& dims = {}, bool keepdim = false,
            std::optional<ScalarType> dtype = std::nullopt);

// Largest/smallest element (raises on an empty tensor). The gradient is shared
// evenly among tied elements, as in PyTorch.
Tensor max(const Tensor& a);
Tensor min(const Tensor& a);
// (values, indices) along one dim; the gradient goes to the index.
std::tuple<Tensor, Tensor> max(const Tensor& a, int64_t dim, bool keepdim = false);
std::tuple<Tensor, Tensor> min(const Tensor& a, int64_t dim, bool keepdim = false);
// Over any set of dims; ties share the gradient evenly.
Tensor amax(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
// int64 index of the first max/min; no dim means the flattened tensor.
Tensor argmax(const Tensor& a, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& a, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);

// sum((x - mean)^2) / max(0, N - correction); correction=1 is the unbiased estimate.
Tensor var(const Tensor& a, const Shape& dims = {}, double correction = 1, bool keepdim = false);
Tensor std(const Tensor& a, const Shape& dims = {}, double correction = 1, bool keepdim = false);
// Vector p-norm over dims (all when empty); p may be 0, +-inf or any number.
Tensor norm(const Tensor& a, double p = 2, const Shape& dims = {}, bool keepdim = false);
// Tensor.norm's full form: `dtype` casts the input first; p may also be "fro",
// the Frobenius norm, which over any dims is the 2-norm.
Tensor norm(const Tensor& a, double p, const Shape& dims, bool keepdim, std::optional<ScalarType> dtype);
Tensor norm(const Tensor& a, const std::string& p, const Shape& dims, bool keepdim,
            std::optional<ScalarType> dtype);
// Truth reductions: bool results (uint8 for uint8 input, as in PyTorch).
Tensor all(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
Tensor any(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
// log(sum(exp(a))) computed without overflow.
Tensor logsumexp(const Tensor& a, const Shape& dims, bool keepdim = false);
// Inclusive scans along one dim (integer and bool inputs accumulate in int64).
Tensor cumsum(const Tensor& a, int64_t dim, std::optional<ScalarType> dtype = std::nullopt);
Tensor cumprod(const Tensor& a, int64_t dim, std::optional<ScalarType> dtype = std::nullopt);

// Sums `a` down to `shape` (the inverse of broadcasting); used by the engine.
Tensor sum_to(const Tensor& a, const Shape& shape);

// Helpers for reduction ops: which dims are reduced, and the output shape.
std::vector<bool> reduction_mask(const Tensor& a, const Shape& dims, const char* op_name);
Shape reduced_shape(const Tensor& a, const std::vector<bool>& mask, bool keepdim);
// Re-inserts reduced dims (size 1) into a gradient computed with keepdim=false,
// so it broadcasts against the input.
Tensor unsqueeze_reduced(const Tensor& g, const std::vector<bool>& mask, bool keepdim);

}  // namespace norch

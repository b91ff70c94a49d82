// norch/nn/norm.h — batch, layer and group normalization as fused ops.
#pragma once
#include <optional>

#include "norch/tensor/tensor.h"

namespace norch::nn {

// input [N, C, *]. In training, normalizes with the batch statistics and, when
// given, updates running_mean/running_var in place with `momentum` (the running
// variance takes the unbiased estimate); in eval it uses the running statistics.
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(), bool training = false,
                  double momentum = 0.1, double eps = 1e-5);
// Normalizes over the trailing dims named by normalized_shape.
Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);
// input [N, C, *], C divisible by num_groups; weight/bias [C].
Tensor group_norm(const Tensor& input, int64_t num_groups, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

}  // namespace norch::nn

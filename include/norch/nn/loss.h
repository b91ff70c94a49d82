// norch/nn/loss.h — softmax, losses, embedding and dropout as fused ops (PyTorch's
// torch.nn.functional semantics). Normalization layers live in norch/nn/norm.h.
#pragma once
#include <optional>
#include <string>

#include "norch/tensor/tensor.h"

namespace norch::nn {

enum class Reduction { None, Mean, Sum };
// "none" | "mean" | "sum" (and "batchmean" where the op accepts it, see kl_div).
Reduction reduction_from_string(const std::string& s, const char* op_name);

Tensor softmax(const Tensor& input, int64_t dim, std::optional<ScalarType> dtype = std::nullopt);
Tensor log_softmax(const Tensor& input, int64_t dim, std::optional<ScalarType> dtype = std::nullopt);
// The gradient of (log_)softmax given its output; a differentiable op of its own.
Tensor softmax_backward_data(const Tensor& grad, const Tensor& output, int64_t dim, bool log);

// input [N, C] or [N, C, d1, ...] (or [C] with a 0-d target); target int64 [N, d1, ...].
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                Reduction reduction = Reduction::Mean, int64_t ignore_index = -100);
// target: class indices (int64) or class probabilities (floating, same shape as input).
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                     Reduction reduction = Reduction::Mean, int64_t ignore_index = -100,
                     double label_smoothing = 0.0);
// Picks x[n, target[n, s], s] from x [N, C, S] (0 where target == ignore_index),
// and its adjoint, which places v [N, S] at those positions of a zero [N, C, S].
// Each is the other's gradient, so nll_loss is differentiable to any order.
Tensor class_gather(const Tensor& x, const Tensor& target, int64_t ignore_index);
Tensor class_scatter(const Tensor& v, const Tensor& target, int64_t num_classes, int64_t ignore_index);

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                      double beta = 1.0);
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                  double delta = 1.0);
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                            Reduction reduction = Reduction::Mean);
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                                        Reduction reduction = Reduction::Mean,
                                        const Tensor& pos_weight = Tensor());
// reduction: "none" | "mean" | "sum" | "batchmean" (sum divided by input.size(0)).
Tensor kl_div(const Tensor& input, const Tensor& target, const std::string& reduction = "mean",
              bool log_target = false);

// weight [V, D], indices int64/int32 of any shape -> [*indices.shape, D]; rows
// looked up at padding_idx receive no gradient.
Tensor embedding(const Tensor& weight, const Tensor& indices, std::optional<int64_t> padding_idx = std::nullopt);
Tensor embedding_backward(const Tensor& grad, const Tensor& indices, int64_t num_weights,
                          std::optional<int64_t> padding_idx);

// Zeroes each element with probability p and scales the rest by 1/(1-p); draws
// from the default generator (norch.manual_seed makes it reproducible).
Tensor dropout(const Tensor& input, double p = 0.5, bool training = true);

}  // namespace norch::nn

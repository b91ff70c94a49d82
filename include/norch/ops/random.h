// norch/ops/random.h — the sampling ops, built on the generators of norch/utils/generator.h.
#pragma once
#include <optional>

#include "norch/tensor/tensor.h"
#include "norch/utils/generator.h"

namespace norch {

// Fresh tensors. Results are leaves: random ops record no backward.
Tensor rand(const Shape& sizes, TensorOptions opts = {}, Generator* gen = nullptr);
Tensor randn(const Shape& sizes, TensorOptions opts = {}, Generator* gen = nullptr);
// Integers uniformly in [low, high).
Tensor randint(int64_t low, int64_t high, const Shape& sizes, TensorOptions opts = ScalarType::Int64,
               Generator* gen = nullptr);
Tensor randperm(int64_t n, TensorOptions opts = ScalarType::Int64, Generator* gen = nullptr);
// out[i] = 1 with probability p[i] (p in [0, 1]); same dtype as p.
Tensor bernoulli(const Tensor& p, Generator* gen = nullptr);
// Draws with probability p, in the shape, dtype and device of `self` (bernoulli(self, p)).
Tensor bernoulli(const Tensor& self, double p, Generator* gen = nullptr);
// Elementwise normal draws with broadcast mean and std (a leaf: no gradient
// flows to mean or std, as in PyTorch). A Scalar mean or std is a wrapped
// number on the tensor's device.
Tensor normal(const Tensor& mean, const Tensor& std, Generator* gen = nullptr);
Tensor normal(const Tensor& mean, const Scalar& std, Generator* gen = nullptr);
Tensor normal(const Scalar& mean, const Tensor& std, Generator* gen = nullptr);
// A fresh tensor of normal(mean, std) draws (opts.requires_grad makes it a leaf that requires grad).
Tensor normal(double mean, double std, const Shape& sizes, TensorOptions opts = {}, Generator* gen = nullptr);
// Category indices drawn from each row of `probs` (1-D or 2-D, non-negative weights).
Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement = false, Generator* gen = nullptr);

// In place; each refuses a leaf that requires grad and bumps the version counter.
Tensor& uniform_(Tensor& self, double from = 0.0, double to = 1.0, Generator* gen = nullptr);
Tensor& normal_(Tensor& self, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);
// Integers in [from, to); without `to`, [from, 2^digits] for floats (digits of the
// mantissa) or up to the dtype's maximum for integers, as PyTorch does.
Tensor& random_(Tensor& self, int64_t from = 0, std::optional<int64_t> to = std::nullopt, Generator* gen = nullptr);
Tensor& bernoulli_(Tensor& self, double p = 0.5, Generator* gen = nullptr);
Tensor& bernoulli_(Tensor& self, const Tensor& p, Generator* gen = nullptr);
Tensor& exponential_(Tensor& self, double lambd = 1.0, Generator* gen = nullptr);

}  // namespace norch

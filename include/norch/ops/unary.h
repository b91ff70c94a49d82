// norch/ops/unary.h — elementwise ops of one operand, plus where/clamp/lerp.
// Float-only math (exp, log, sin, ...) computes integer inputs in the default
// float dtype, as PyTorch does; neg/abs/sign/floor/... keep integer dtypes.
#pragma once
#include <optional>

#include "norch/tensor/tensor.h"

namespace norch {

Tensor neg(const Tensor& a);
Tensor abs(const Tensor& a);
Tensor sign(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor exp2(const Tensor& a);
Tensor log(const Tensor& a);
Tensor log2(const Tensor& a);
Tensor log10(const Tensor& a);
Tensor log1p(const Tensor& a);
Tensor expm1(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor rsqrt(const Tensor& a);
Tensor sin(const Tensor& a);
Tensor cos(const Tensor& a);
Tensor tan(const Tensor& a);
Tensor asin(const Tensor& a);
Tensor acos(const Tensor& a);
Tensor atan(const Tensor& a);
Tensor sinh(const Tensor& a);
Tensor cosh(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor sigmoid(const Tensor& a);
Tensor relu(const Tensor& a);
Tensor erf(const Tensor& a);
Tensor floor(const Tensor& a);
Tensor ceil(const Tensor& a);
Tensor round(const Tensor& a);
Tensor round(const Tensor& a, int64_t decimals);  // floating point only when decimals != 0
Tensor trunc(const Tensor& a);
Tensor frac(const Tensor& a);
Tensor reciprocal(const Tensor& a);
Tensor sinc(const Tensor& a);  // sin(pi x) / (pi x), 1 at 0
Tensor square(const Tensor& a);
Tensor logical_not(const Tensor& a);
Tensor bitwise_not(const Tensor& a);
Tensor isnan(const Tensor& a);
Tensor isinf(const Tensor& a);
Tensor isfinite(const Tensor& a);
Tensor nan_to_num(const Tensor& a, std::optional<double> nan = std::nullopt, std::optional<double> posinf = std::nullopt,
                  std::optional<double> neginf = std::nullopt);

// where(cond, a, b): a where cond is true, else b; broadcasts all three.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// clamp with optional bounds as numbers or tensors.
Tensor clamp(const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max);
Tensor clamp(const Tensor& a, const Tensor& min, const Tensor& max);  // either may be undefined
// lerp(a, b, w) = a + w * (b - a)
Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& weight);

// In-place variants (bump the version counter).
Tensor& neg_(Tensor& a);
Tensor& abs_(Tensor& a);
Tensor& exp_(Tensor& a);
Tensor& log_(Tensor& a);
Tensor& sqrt_(Tensor& a);
Tensor& sigmoid_(Tensor& a);
Tensor& tanh_(Tensor& a);
Tensor& relu_(Tensor& a);
Tensor& floor_(Tensor& a);
Tensor& ceil_(Tensor& a);
Tensor& round_(Tensor& a);
Tensor& trunc_(Tensor& a);
Tensor& reciprocal_(Tensor& a);
Tensor& sinc_(Tensor& a);
Tensor& square_(Tensor& a);
Tensor& sign_(Tensor& a);
Tensor& exp2_(Tensor& a);
Tensor& log2_(Tensor& a);
Tensor& log10_(Tensor& a);
Tensor& log1p_(Tensor& a);
Tensor& expm1_(Tensor& a);
Tensor& rsqrt_(Tensor& a);
Tensor& sin_(Tensor& a);
Tensor& cos_(Tensor& a);
Tensor& tan_(Tensor& a);
Tensor& asin_(Tensor& a);
Tensor& acos_(Tensor& a);
Tensor& atan_(Tensor& a);
Tensor& sinh_(Tensor& a);
Tensor& cosh_(Tensor& a);
Tensor& erf_(Tensor& a);
Tensor& frac_(Tensor& a);
Tensor& logical_not_(Tensor& a);
Tensor& bitwise_not_(Tensor& a);
Tensor& clamp_(Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max);
Tensor& clamp_(Tensor& a, const Tensor& min, const Tensor& max);  // either may be undefined
Tensor& nan_to_num_(Tensor& a, std::optional<double> nan = std::nullopt, std::optional<double> posinf = std::nullopt,
                    std::optional<double> neginf = std::nullopt);

Tensor operator-(const Tensor& a);

}  // namespace norch

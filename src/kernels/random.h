// Kernel signatures for the random fills (private to the core). Each kernel
// writes a contiguous buffer `out` (on its device) of n = out.numel() elements from Philox
// counters [offset, offset + n) under `key` (Note [Philox streams] in
// norch/utils/generator.h): element i depends on counter offset + i alone.
#pragma once
#include <cstdint>

#include "norch/dispatch.h"
#include "norch/tensor/tensor.h"

namespace norch {

// Uniform in [from, to); floating dtypes.
using UniformKernel = void (*)(const Tensor& out, uint64_t key, uint64_t offset, double from, double to);
extern DispatchStub<UniformKernel> uniform_stub;
// Normal(mean, std) by Box-Muller; floating dtypes.
using NormalKernel = void (*)(const Tensor& out, uint64_t key, uint64_t offset, double mean, double std);
extern DispatchStub<NormalKernel> normal_stub;
// from + r mod range; every dtype.
using RandomKernel = void (*)(const Tensor& out, uint64_t key, uint64_t offset, int64_t from, uint64_t range);
extern DispatchStub<RandomKernel> random_stub;
// 1 with probability p[i] (p: n contiguous doubles in host memory, or one when scalar_p); every dtype.
using BernoulliKernel = void (*)(const Tensor& out, uint64_t key, uint64_t offset, const double* p, bool scalar_p);
extern DispatchStub<BernoulliKernel> bernoulli_stub;
// Exponential(lambd); floating dtypes.
using ExponentialKernel = void (*)(const Tensor& out, uint64_t key, uint64_t offset, double lambd);
extern DispatchStub<ExponentialKernel> exponential_stub;
// A permutation of 0..n-1 into a contiguous int64 CPU `out` by Fisher-Yates.
using RandpermKernel = void (*)(const Tensor& out, uint64_t key, uint64_t offset);
extern DispatchStub<RandpermKernel> randperm_stub;
// Draws for each row of `weights` (contiguous float64 [rows, cats], checked
// valid) into a contiguous int64 `out` [rows, num_samples]; row r uses counters
// from offset + r * (replacement ? num_samples : cats).
using MultinomialKernel = void (*)(const Tensor& out, const Tensor& weights, int64_t num_samples, bool replacement,
                                   uint64_t key, uint64_t offset);
extern DispatchStub<MultinomialKernel> multinomial_stub;

}  // namespace norch

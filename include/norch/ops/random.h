// norch/ops/random.h — random number generators and the sampling ops built on them.
//
// Note [Philox streams]: every Generator is a Philox4x32-10 counter-based
// generator (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// SC'11; the generator PyTorch uses on CUDA). Its state is (seed, offset): an
// op that draws n elements reserves counters [offset, offset + n) and element i
// is computed from the Philox block at counter offset + i alone. The values are
// therefore the same whatever the number of threads, and two generators with
// the same seed give the same stream. Reserving advances the offset by a
// multiple of 4 so that offsets stay aligned with Philox blocks.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include "norch/tensor/tensor.h"

namespace norch {

// One Philox4x32-10 block: four 32-bit words from a 128-bit counter and a 64-bit key.
std::array<uint32_t, 4> philox4x32(uint64_t counter, uint64_t subsequence, uint64_t key);

class Generator {
 public:
  static constexpr uint64_t kDefaultSeed = 67280421310721ULL;  // PyTorch's default seed
  explicit Generator(uint64_t seed = kDefaultSeed) : seed_(seed) {}

  void manual_seed(uint64_t seed);
  uint64_t initial_seed() const;
  // Picks a fresh non-deterministic seed (std::random_device) and returns it.
  uint64_t seed();
  // Reserves `n` counters (Note [Philox streams]): the key (seed) and first
  // counter to use, read together so a concurrent manual_seed cannot split them.
  struct Slot {
    uint64_t key;
    uint64_t offset;
  };
  Slot reserve(uint64_t n);
  // State: 16 bytes, little-endian seed then offset.
  std::array<uint8_t, 16> get_state() const;
  void set_state(const uint8_t* bytes, size_t size);

 private:
  mutable std::mutex mutex_;
  uint64_t seed_;
  uint64_t offset_ = 0;
};

using GeneratorPtr = std::shared_ptr<Generator>;
// The generator used when an op is given none (norch.manual_seed seeds it).
const GeneratorPtr& default_generator();
void manual_seed(uint64_t seed);

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

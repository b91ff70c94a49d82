// norch/utils/generator.h — the random number generator state every sampling op draws from.
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
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

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

}  // namespace norch

// Philox4x32-10 and the Generator state (Note [Philox streams] in norch/utils/generator.h).
#include <cstring>
#include <random>

#include "norch/error.h"
#include "norch/utils/generator.h"
#include "utils/philox.h"

namespace norch {

std::array<uint32_t, 4> philox4x32(uint64_t counter, uint64_t subsequence, uint64_t key) {
  const PhiloxBlock b = philox(counter, subsequence, key);
  return {b.w[0], b.w[1], b.w[2], b.w[3]};
}

void Generator::manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(mutex_);
  seed_ = seed;
  offset_ = 0;
}

uint64_t Generator::initial_seed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return seed_;
}

uint64_t Generator::seed() {
  std::random_device rd;
  uint64_t s = (uint64_t(rd()) << 32) ^ rd();
  manual_seed(s);
  return s;
}

Generator::Slot Generator::reserve(uint64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  Slot slot{seed_, offset_};
  offset_ += (n + 3) / 4 * 4;
  return slot;
}

std::array<uint8_t, 16> Generator::get_state() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::array<uint8_t, 16> out{};
  for (int i = 0; i < 8; ++i) {
    out[i] = uint8_t(seed_ >> (8 * i));
    out[8 + i] = uint8_t(offset_ >> (8 * i));
  }
  return out;
}

void Generator::set_state(const uint8_t* bytes, size_t size) {
  NORCH_CHECK(size == 16, "set_state: expected a state of 16 bytes (seed and offset), got ", size);
  uint64_t s = 0, o = 0;
  for (int i = 0; i < 8; ++i) {
    s |= uint64_t(bytes[i]) << (8 * i);
    o |= uint64_t(bytes[8 + i]) << (8 * i);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  seed_ = s;
  offset_ = o;
}

const GeneratorPtr& default_generator() {
  static GeneratorPtr gen = std::make_shared<Generator>();
  return gen;
}

void manual_seed(uint64_t seed) { default_generator()->manual_seed(seed); }

}  // namespace norch

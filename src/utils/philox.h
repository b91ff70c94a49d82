// Philox4x32-10, the counter-based generator behind every random op (Note
// [Philox streams] in norch/utils/generator.h), as one host/device function:
// the CPU kernels, the CUDA kernels and Generator all call this one.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define NORCH_PHILOX_HD __host__ __device__
#else
#define NORCH_PHILOX_HD
#endif

namespace norch {

struct PhiloxBlock {
  uint32_t w[4];
};

NORCH_PHILOX_HD inline PhiloxBlock philox(uint64_t counter, uint64_t subsequence, uint64_t key) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // Random123's multipliers
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // Weyl key increments
  uint32_t c[4] = {uint32_t(counter), uint32_t(counter >> 32), uint32_t(subsequence), uint32_t(subsequence >> 32)};
  uint32_t k0 = uint32_t(key), k1 = uint32_t(key >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t(kM0) * c[0];
    const uint64_t p1 = uint64_t(kM1) * c[2];
    const uint32_t n0 = uint32_t(p1 >> 32) ^ c[1] ^ k0;
    const uint32_t n2 = uint32_t(p0 >> 32) ^ c[3] ^ k1;
    c[0] = n0;
    c[1] = uint32_t(p1);
    c[2] = n2;
    c[3] = uint32_t(p0);
    k0 += kW0;
    k1 += kW1;
  }
  return {{c[0], c[1], c[2], c[3]}};
}

}  // namespace norch

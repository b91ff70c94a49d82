// norch::Half and norch::BFloat16 (norch/tensor/half.h): the float conversions
// against the CPU's own F16C rounding over a sweep of float32 bit patterns, exact
// round trips of every half value, the bfloat16 rounding rule, numeric_limits, and
// promote_types' symmetry.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "test_helpers.h"

using namespace norch;

namespace {
float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

#if defined(__x86_64__)
__attribute__((target("f16c"))) uint16_t hw_fp16(float f) {
  return static_cast<uint16_t>(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
}
#endif
}  // namespace

TEST(Half, EveryHalfValueRoundTripsThroughFloat) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const Half v(static_cast<uint16_t>(h), FromBits{});
    const float f = v;
    if (std::isnan(f)) {
      EXPECT_EQ((h & 0x7c00u), 0x7c00u);
      EXPECT_NE((h & 0x3ffu), 0u);
      EXPECT_TRUE(std::isnan(static_cast<float>(Half(f))));
      continue;
    }
    EXPECT_EQ(Half(f).x, h) << std::hex << h;
  }
}

TEST(Half, FloatToHalfMatchesTheHardwareRounding) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("f16c")) GTEST_SKIP() << "no F16C on this CPU";
  int checked = 0;
  for (uint64_t u = 0; u <= 0xffffffffull; u += 4093) {
    const float f = from_bits(static_cast<uint32_t>(u));
    const uint16_t mine = Half(f).x, hw = hw_fp16(f);
    if (std::isnan(f)) {
      EXPECT_EQ(mine & 0x7e00u, 0x7e00u);
      continue;
    }
    ASSERT_EQ(mine, hw) << std::hex << u;
    ++checked;
  }
  EXPECT_GT(checked, 1000000);
#else
  GTEST_SKIP() << "x86-64 only";
#endif
}

TEST(Half, TiesOverflowAndSubnormals) {
  EXPECT_EQ(Half(65504.0f).x, 0x7bffu);
  EXPECT_EQ(Half(65519.99f).x, 0x7bffu);
  EXPECT_EQ(Half(65520.0f).x, 0x7c00u);  // the tie rounds to even: up, to inf
  EXPECT_EQ(Half(-1e10f).x, 0xfc00u);
  EXPECT_EQ(Half(std::ldexp(1.0f, -24)).x, 0x0001u);
  EXPECT_EQ(Half(std::ldexp(1.0f, -25)).x, 0x0000u);        // tie to even: 0
  EXPECT_EQ(Half(std::ldexp(3.0f, -25)).x, 0x0002u);        // 1.5 ulp: to even 2
  EXPECT_EQ(Half(std::ldexp(3.0f, -26)).x, 0x0001u);        // 0.75 ulp: up to 1
  EXPECT_EQ(Half(1.0f + std::ldexp(1.0f, -11)).x, 0x3c00u);  // tie, even stays
  EXPECT_EQ(Half(-0.0f).x, 0x8000u);
  EXPECT_EQ(Half(1e-30).x, 0x0000u);  // double goes through float, as in PyTorch
  EXPECT_EQ(static_cast<float>(Half(int64_t{2049})), 2048.0f);
}

TEST(BFloat16, RoundsToNearestEven) {
  for (uint64_t u = 0; u <= 0xffffffffull; u += 65521) {
    const float f = from_bits(static_cast<uint32_t>(u));
    const BFloat16 b(f);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(static_cast<float>(b)));
      continue;
    }
    // The nearest of the two bfloat16 neighbours, ties to the even one.
    const uint32_t x = bits_of(f), lo = x & 0xffff0000u, hi = lo + 0x10000u;
    const uint32_t rem = x & 0xffffu;
    const uint32_t want = rem > 0x8000u || (rem == 0x8000u && (lo & 0x10000u)) ? hi : lo;
    ASSERT_EQ(static_cast<uint32_t>(b.x) << 16, want) << std::hex << u;
  }
  EXPECT_EQ(BFloat16(3.4e38f).x, 0x7f80u);  // past the largest: inf
  EXPECT_EQ(static_cast<float>(BFloat16(uint16_t(0x0001), FromBits{})), std::ldexp(1.0f, -133));
}

TEST(HalfTypes, LimitsAndOpmath) {
  EXPECT_EQ(static_cast<float>(std::numeric_limits<Half>::max()), 65504.0f);
  EXPECT_EQ(static_cast<float>(std::numeric_limits<Half>::epsilon()), std::ldexp(1.0f, -10));
  EXPECT_EQ(static_cast<float>(std::numeric_limits<BFloat16>::min()), std::numeric_limits<float>::min());
  EXPECT_TRUE(std::isinf(static_cast<float>(std::numeric_limits<BFloat16>::infinity())));
  static_assert(std::is_same_v<opmath_t<Half>, float> && std::is_same_v<opmath_t<BFloat16>, float>);
  static_assert(std::is_same_v<opmath_t<double>, double> && is_floating_type_v<Half> && !is_floating_type_v<int>);
  Half h(1.0f);
  h += 0.5f;
  EXPECT_EQ(static_cast<float>(h), 1.5f);
}

TEST(HalfTypes, PromotionIsSymmetricAndMatchesPyTorch) {
  for (int a = 0; a < kNumScalarTypes; ++a)
    for (int b = 0; b < kNumScalarTypes; ++b)
      EXPECT_EQ(promote_types(ScalarType(a), ScalarType(b)), promote_types(ScalarType(b), ScalarType(a)));
  EXPECT_EQ(promote_types(ScalarType::Float16, ScalarType::BFloat16), ScalarType::Float32);
  EXPECT_EQ(promote_types(ScalarType::Int64, ScalarType::BFloat16), ScalarType::BFloat16);
  EXPECT_EQ(promote_types(ScalarType::Float16, ScalarType::Float32), ScalarType::Float32);
  EXPECT_EQ(promote_types(ScalarType::Bool, ScalarType::Float16), ScalarType::Float16);
  EXPECT_EQ(element_size(ScalarType::BFloat16), 2u);
}

TEST(HalfTypes, TensorCastsAndSums) {
  Tensor x = norch::testing::from_vector({1.0, 1.0 / 3, 70000.0, -2.5}, {4}, ScalarType::Float16);
  EXPECT_EQ(x.dtype(), ScalarType::Float16);
  const std::vector<double> v = norch::testing::to_vector(x);
  EXPECT_EQ(v[1], static_cast<float>(Half(1.0f / 3)));
  EXPECT_TRUE(std::isinf(v[2]));
  // 4096 ones: a half accumulator would stall at 2048; the float32 one reaches 4096.
  Tensor ones = full({4096}, Scalar(1.0), TensorOptions(ScalarType::BFloat16));
  EXPECT_EQ(norch::testing::to_vector(sum(ones))[0], 4096.0);
}

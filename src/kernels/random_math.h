// Philox4x32-10 and the per-element math of every random kernel, written once
// for the CPU and CUDA (NORCH_HD), so that element i of a draw is the same bits
// on both devices (Note [Philox streams] in norch/utils/generator.h).
//
// Note [Portable random math]: libm's log and cos (glibc on the host, CUDA's
// on the device) may differ in the last bit, and nvcc fuses a * b + c into one
// fma where the host rounds twice. So normal and exponential draws use the
// log and cos below: every step is an exactly rounded +, -, *, / or sqrt, an
// explicit fma (exact on both: glibc's fma is the hardware instruction or a
// correctly rounded emulation), or a mul_rn/add_rn that nvcc never fuses.
// Accuracy is a few ulp, far below what sampling can see.
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/functors.h"
#include "utils/philox.h"

namespace norch::random_math {

using Block = PhiloxBlock;
using ::norch::philox;

// One rounding each, never contracted into an fma by nvcc.
NORCH_HD inline double mul_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
NORCH_HD inline double add_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
NORCH_HD inline float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
NORCH_HD inline float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

// [0, 1) with 53 random bits from two words (exact).
NORCH_HD inline double uniform53(uint32_t hi, uint32_t lo) {
  return double(((uint64_t(hi) << 32) | lo) >> 11) * (1.0 / 9007199254740992.0);
}

// log(x) for finite x > 0: x = m 2^e with m in [sqrt(1/2), sqrt(2)), and
// log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, by its odd series.
NORCH_HD inline double portable_log(double x) {
  int e = 0;
  double m = std::frexp(x, &e);  // exact, m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m = m * 2.0;  // exact
    e -= 1;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = mul_rn(s, s);
  // 2/(2k+1) for k = 11..1, in Horner order.
  double p = 2.0 / 23.0;
  p = std::fma(p, s2, 2.0 / 21.0);
  p = std::fma(p, s2, 2.0 / 19.0);
  p = std::fma(p, s2, 2.0 / 17.0);
  p = std::fma(p, s2, 2.0 / 15.0);
  p = std::fma(p, s2, 2.0 / 13.0);
  p = std::fma(p, s2, 2.0 / 11.0);
  p = std::fma(p, s2, 2.0 / 9.0);
  p = std::fma(p, s2, 2.0 / 7.0);
  p = std::fma(p, s2, 2.0 / 5.0);
  p = std::fma(p, s2, 2.0 / 3.0);
  // log(m) = 2 s + s^3 p(s^2)
  const double logm = std::fma(mul_rn(s, s2), p, mul_rn(2.0, s));
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;  // fdlibm's split
  const double de = double(e);
  return add_rn(mul_rn(de, kLn2Hi), std::fma(de, kLn2Lo, logm));
}

// cos(2 pi u) for u in [0, 1): the quadrant from 4u (exact), then a Taylor
// polynomial of cos or sin on [0, pi/2).
NORCH_HD inline double portable_cos_2pi(double u) {
  const double t = u * 4.0;  // exact
  const double qf = std::floor(t);
  const int q = int(qf);
  const double a = mul_rn(t - qf, 1.57079632679489661923);  // t - qf is exact
  const double a2 = mul_rn(a, a);
  // cos a = sum (-1)^k a^2k / (2k)!, sin a = a sum (-1)^k a^2k / (2k+1)!, k <= 12,
  // from 1/n! built by exact-rounded divisions (the same on both devices).
  double inv[26];
  inv[0] = 1.0;
  for (int n = 1; n < 26; ++n) inv[n] = inv[n - 1] / double(n);
  double c = inv[24], s = inv[25];
  for (int k = 11; k >= 0; --k) {
    c = std::fma(-c, a2, inv[2 * k]);
    s = std::fma(-s, a2, inv[2 * k + 1]);
  }
  const double sin_a = mul_rn(a, s);
  switch (q & 3) {
    case 0: return c;
    case 1: return -sin_a;
    case 2: return -c;
    default: return sin_a;
  }
}

// Uniform in [lo, hi): 24 random bits for float, 53 for double; rounding
// must not reach `hi`, so such a value becomes the float just below it.
template <typename T>
NORCH_HD inline T uniform_value(const Block& b, T lo, T hi, T below_hi) {
  const T u = sizeof(T) == 4 ? T(double(b.w[0] >> 8) * (1.0 / 16777216.0)) : T(uniform53(b.w[0], b.w[1]));
  const T v = add_rn(lo, mul_rn(T(hi - lo), u));
  return v >= hi && hi > lo ? below_hi : v;
}

// Box-Muller on (0, 1] x [0, 1): one normal per block (the sine half is dropped
// so that element i depends on block i alone).
template <typename T>
NORCH_HD inline T normal_value(const Block& b, double mean, double std) {
  const double u1 = 1.0 - uniform53(b.w[0], b.w[1]);  // exact
  const double u2 = uniform53(b.w[2], b.w[3]);
  const double r = std::sqrt(-2.0 * portable_log(u1));
  return T(add_rn(mean, mul_rn(mul_rn(std, r), portable_cos_2pi(u2))));
}

// from + r mod range; the modulo bias is below 2^-64 * range, negligible for ranges we draw.
template <typename T>
NORCH_HD inline T int_value(const Block& b, int64_t from, uint64_t range) {
  const uint64_t r = (uint64_t(b.w[0]) << 32) | b.w[1];
  return T(int64_t(uint64_t(from) + r % range));
}

template <typename T>
NORCH_HD inline T bernoulli_value(const Block& b, double p) {
  return T(uniform53(b.w[0], b.w[1]) < p ? 1 : 0);
}

// -log(1 - u) / lambda; 1 - u is exact for u on the 2^-53 grid.
template <typename T>
NORCH_HD inline T exponential_value(const Block& b, double lambd) {
  return T(-portable_log(1.0 - uniform53(b.w[0], b.w[1])) / lambd);
}

}  // namespace norch::random_math

// norch/tensor/half.h — the 16-bit float storage types norch::Half (IEEE binary16)
// and norch::BFloat16 (the top half of a binary32).
//
// They are storage, not arithmetic: each converts implicitly to float and back,
// so `a + b` on two of them is float arithmetic, and a kernel that loads, computes
// in float (opmath_t) and stores rounds exactly once, as PyTorch does. The
// conversions are integer bit manipulation (no floating-point tricks a compiler's
// flush-to-zero or fast-math mode could change), round to nearest even, and give
// PyTorch's bits for every non-NaN value: subnormals, signed zeros, infinities and
// overflow to infinity. NaN stays NaN (PyTorch's own NaN payloads differ between
// its scalar and vector paths, so payload bits are not part of the contract).
// Marked NORCH_HD so CUDA kernels can use the same types.
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#ifndef NORCH_HD
#if defined(__CUDACC__)
#define NORCH_HD __host__ __device__
#else
#define NORCH_HD
#endif
#endif

namespace norch {
namespace detail {

NORCH_HD inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}
NORCH_HD inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

// Rounds away the low `shift` bits of `m` to nearest, ties to even.
NORCH_HD inline uint32_t round_shift_rne(uint32_t m, int shift) {
  const uint32_t q = m >> shift, rem = m & ((1u << shift) - 1u), halfway = 1u << (shift - 1);
  return q + ((rem > halfway || (rem == halfway && (q & 1u))) ? 1u : 0u);
}

NORCH_HD inline uint16_t fp16_bits_from_f32(float f) {
  const uint32_t x = f32_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t a = x & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));  // quiet NaN
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520 rounds to inf
  if (a < 0x38800000u) {  // below 2^-14: a half subnormal (or zero), in units of 2^-24
    const uint32_t e = a >> 23;
    const uint32_t m = (a & 0x7fffffu) | (e ? 0x800000u : 0u);
    const int shift = 126 - static_cast<int>(e ? e : 1u);
    if (shift > 24) return static_cast<uint16_t>(sign);  // below 2^-25: rounds to zero
    return static_cast<uint16_t>(sign | round_shift_rne(m, shift));
  }
  // Rebias the exponent (127 -> 15) and drop 13 mantissa bits; a carry
  // into the exponent is the correct next binade.
  return static_cast<uint16_t>(sign | round_shift_rne(a - 0x38000000u, 13));
}

NORCH_HD inline float f32_from_fp16_bits(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1fu) return f32_from_bits(sign | 0x7f800000u | (m << 13) | (m ? 0x400000u : 0u));
  if (e == 0) {
    if (m == 0) return f32_from_bits(sign);
    int ex = 1;
    while (!(m & 0x400u)) { m <<= 1; --ex; }
    return f32_from_bits(sign | (static_cast<uint32_t>(ex + 112) << 23) | ((m & 0x3ffu) << 13));
  }
  return f32_from_bits(sign | ((e + 112u) << 23) | (m << 13));
}

NORCH_HD inline uint16_t bf16_bits_from_f32(float f) {
  const uint32_t x = f32_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return 0x7fc0u;
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}
NORCH_HD inline float f32_from_bf16_bits(uint16_t b) { return f32_from_bits(static_cast<uint32_t>(b) << 16); }

}  // namespace detail

struct FromBits {};

struct alignas(2) Half {
  uint16_t x;
  Half() = default;
  constexpr NORCH_HD Half(uint16_t bits, FromBits) : x(bits) {}
  NORCH_HD Half(float v) : x(detail::fp16_bits_from_f32(v)) {}
  // Through float, as PyTorch converts (double -> float -> half rounds twice there too).
  NORCH_HD Half(double v) : Half(static_cast<float>(v)) {}
  template <typename I, typename = std::enable_if_t<std::is_integral_v<I>>>
  NORCH_HD Half(I v) : Half(static_cast<float>(v)) {}
  NORCH_HD operator float() const { return detail::f32_from_fp16_bits(x); }
};

struct alignas(2) BFloat16 {
  uint16_t x;
  BFloat16() = default;
  constexpr NORCH_HD BFloat16(uint16_t bits, FromBits) : x(bits) {}
  NORCH_HD BFloat16(float v) : x(detail::bf16_bits_from_f32(v)) {}
  NORCH_HD BFloat16(double v) : BFloat16(static_cast<float>(v)) {}
  template <typename I, typename = std::enable_if_t<std::is_integral_v<I>>>
  NORCH_HD BFloat16(I v) : BFloat16(static_cast<float>(v)) {}
  NORCH_HD operator float() const { return detail::f32_from_bf16_bits(x); }
};

template <typename T>
inline constexpr bool is_half_type_v = std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;
// Floating types as the kernels see them: the C++ ones plus the two storage types.
template <typename T>
inline constexpr bool is_floating_type_v = std::is_floating_point_v<T> || is_half_type_v<T>;

// The type a kernel computes in: float for the half types, the type itself otherwise.
template <typename T> struct OpMathType { using type = T; };
template <> struct OpMathType<Half> { using type = float; };
template <> struct OpMathType<BFloat16> { using type = float; };
template <typename T>
using opmath_t = typename OpMathType<T>::type;

// Compound assignment computes in float and rounds once (the built-in forms need
// an arithmetic left operand).
#define NORCH_HALF_COMPOUND(T, op)                                                        \
  template <typename R>                                                                   \
  NORCH_HD inline T& operator op##=(T & a, R b) {                                         \
    a = T(static_cast<float>(a) op static_cast<float>(b));                                \
    return a;                                                                             \
  }
NORCH_HALF_COMPOUND(Half, +)
NORCH_HALF_COMPOUND(Half, -)
NORCH_HALF_COMPOUND(Half, *)
NORCH_HALF_COMPOUND(Half, /)
NORCH_HALF_COMPOUND(BFloat16, +)
NORCH_HALF_COMPOUND(BFloat16, -)
NORCH_HALF_COMPOUND(BFloat16, *)
NORCH_HALF_COMPOUND(BFloat16, /)
#undef NORCH_HALF_COMPOUND

}  // namespace norch

namespace std {
template <>
class numeric_limits<norch::Half> {
 public:
  static constexpr bool is_specialized = true, is_signed = true, is_integer = false, is_exact = false;
  static constexpr bool has_infinity = true, has_quiet_NaN = true;
  static constexpr int digits = 11, radix = 2;
  static constexpr norch::Half min() { return {0x0400, norch::FromBits{}}; }
  static constexpr norch::Half lowest() { return {0xfbff, norch::FromBits{}}; }
  static constexpr norch::Half max() { return {0x7bff, norch::FromBits{}}; }
  static constexpr norch::Half epsilon() { return {0x1400, norch::FromBits{}}; }
  static constexpr norch::Half infinity() { return {0x7c00, norch::FromBits{}}; }
  static constexpr norch::Half quiet_NaN() { return {0x7e00, norch::FromBits{}}; }
  static constexpr norch::Half denorm_min() { return {0x0001, norch::FromBits{}}; }
};
template <>
class numeric_limits<norch::BFloat16> {
 public:
  static constexpr bool is_specialized = true, is_signed = true, is_integer = false, is_exact = false;
  static constexpr bool has_infinity = true, has_quiet_NaN = true;
  static constexpr int digits = 8, radix = 2;
  static constexpr norch::BFloat16 min() { return {0x0080, norch::FromBits{}}; }
  static constexpr norch::BFloat16 lowest() { return {0xff7f, norch::FromBits{}}; }
  static constexpr norch::BFloat16 max() { return {0x7f7f, norch::FromBits{}}; }
  static constexpr norch::BFloat16 epsilon() { return {0x3c00, norch::FromBits{}}; }
  static constexpr norch::BFloat16 infinity() { return {0x7f80, norch::FromBits{}}; }
  static constexpr norch::BFloat16 quiet_NaN() { return {0x7fc0, norch::FromBits{}}; }
  static constexpr norch::BFloat16 denorm_min() { return {0x0001, norch::FromBits{}}; }
};
}  // namespace std

// What the elementwise functors of kernels/unary.h and kernels/binary.h share:
// the NORCH_HD marker and the scalar integer-math helpers some of them call.
// Plain C++ that nvcc also compiles for the device: no exceptions, no
// allocation, nothing from the rest of the core. Note [Elementwise op tables].
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "norch/tensor/half.h"
#include "norch/tensor/value_cast.h"

// A functor's call operator is compiled for the host, and under nvcc for the
// device too, so the CPU and CUDA kernels run the same named struct (MLX-style).
// norch/tensor/half.h defines NORCH_HD identically, for its storage types.
#ifndef NORCH_HD
#if defined(__CUDACC__)
#define NORCH_HD __host__ __device__
#else
#define NORCH_HD
#endif
#endif

namespace norch::functors {

// Converts between the dtypes as PyTorch's CPU build does (norch/tensor/value_cast.h:
// bool is "!= 0", NaN and out-of-range floats become the integer minimum, a float
// reaches uint8 through int64 so -1.0 wraps to 255), on the CPU and on CUDA alike;
// the half types convert through float, as c10's do.
template <typename To, typename From>
NORCH_HD inline To cast(From v) {
  if constexpr (std::is_same_v<To, From>) return v;
  else if constexpr (is_half_type_v<From>) return cast<To>(static_cast<float>(v));
  else return value_cast<To>(v);
}

// -a with two's-complement wrap (the minimum value stays itself, as in PyTorch),
// computed in unsigned arithmetic, where wrapping is defined.
template <typename T>
NORCH_HD inline T wrapping_neg(T a) {
  if constexpr (std::is_signed_v<T> && std::is_integral_v<T>)
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(0) - static_cast<std::make_unsigned_t<T>>(a));
  else
    return static_cast<T>(-a);
}

// Signed integer +, - and * wrap (two's complement), which is what PyTorch's
// results are; signed overflow is undefined in C++, so they run in unsigned
// arithmetic, where wrapping is defined. Other types compute as written.
template <typename T>
inline constexpr bool kWrapsSigned = std::is_integral_v<T> && std::is_signed_v<T>;

template <typename T>
NORCH_HD inline T wrapping_add(T a, T b) {
  if constexpr (kWrapsSigned<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
  } else {
    return static_cast<T>(a + b);
  }
}
template <typename T>
NORCH_HD inline T wrapping_sub(T a, T b) {
  if constexpr (kWrapsSigned<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
  } else {
    return static_cast<T>(a - b);
  }
}
template <typename T>
NORCH_HD inline T wrapping_mul(T a, T b) {
  if constexpr (kWrapsSigned<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
  } else {
    return static_cast<T>(a * b);
  }
}

// Python's floor division: rounds toward -inf (integer divisors of zero are refused
// by the op before the kernel runs).
template <typename T>
NORCH_HD inline T floor_divide(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    // PyTorch's (and Python's) rule: the quotient of a - fmod(a, b), corrected
    // toward -inf, so inf // 2 is nan and -5 // inf is -1.
    if (b == 0) return a / b;
    T mod = std::fmod(a, b);
    T div = (a - mod) / b;
    if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1;
    if (div == 0) return std::copysign(T(0), a / b);
    T floordiv = std::floor(div);
    if (div - floordiv > T(0.5)) floordiv += 1;
    return floordiv;
  } else if constexpr (std::is_same_v<T, bool>) {
    return a;
  } else {
    if (b == 0) return 0;
    // The minimum value divided by -1 overflows (and traps): it wraps, as in PyTorch.
    if constexpr (std::is_signed_v<T>)
      if (b == T(-1)) return wrapping_neg(a);
    T q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
  }
}

// Python's modulo: the result takes the divisor's sign.
template <typename T>
NORCH_HD inline T remainder(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    T r = std::fmod(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
  } else if constexpr (std::is_same_v<T, bool>) {
    return false;
  } else {
    if (b == 0) return 0;
    if constexpr (std::is_signed_v<T>)
      if (b == T(-1)) return 0;  // a % -1 would trap on the minimum value
    T r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
  }
}

// Exponentiation by squaring; negative exponents give 0 (or +-1 for a base of +-1).
template <typename T>
NORCH_HD inline T int_pow(T base, T exp) {
  if constexpr (std::is_signed_v<T>) {
    if (exp < 0) return base == 1 ? 1 : (base == -1 ? ((exp & 1) ? -1 : 1) : 0);
  }
  T result = 1;
  while (exp) {
    if (exp & 1) result *= base;
    exp >>= 1;
    base *= base;
  }
  return result;
}

}  // namespace norch::functors

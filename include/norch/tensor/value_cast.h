// norch/tensor/value_cast.h — conversions between the dtypes' C++ types without
// undefined behaviour.
//
// A float that is NaN or outside the destination's range has no defined
// static_cast to an integer type in C++. PyTorch's CPU build compiles that cast to
// x86's truncating conversion (cvttss2si/cvttsd2si), which answers the "integer
// indefinite" value, the minimum of the destination width, for every such input;
// uint8 goes through int64 and keeps the low byte. value_cast computes those same
// results with defined arithmetic, so norch matches PyTorch on the same inputs and
// stays UBSan-clean (-fsanitize=float-cast-overflow).
//
// Scalars written into integer tensors (fill_, full, masked_fill, tensor()) are
// checked first instead, as PyTorch's checked_convert does: scalar_fits says
// whether the value is in range.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "norch/tensor/half.h"

namespace norch {

template <typename To, typename From>
constexpr To value_cast(From v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    if constexpr (std::is_unsigned_v<To>) {
      return static_cast<To>(static_cast<uint64_t>(value_cast<int64_t>(v)));
    } else {
      // -2^(bits-1) is exact in float and double; the range is [lo, -lo).
      constexpr From lo = static_cast<From>(std::numeric_limits<To>::min());
      if (!(v >= lo && v < -lo)) return std::numeric_limits<To>::min();
      return static_cast<To>(v);
    }
  } else {
    // Integer narrowing is modular (defined since C++20, and GCC's documented
    // behaviour before); int to float and float to float are IEEE conversions.
    return static_cast<To>(v);
  }
}

// PyTorch's overflow test for a scalar on its way into a tensor of type To
// (c10::overflows): floats are compared with the limits as doubles, so 2^63 passes
// for int64 (and then converts like value_cast); NaN never fits an integer type;
// an unsigned destination accepts negative integers down to -max (they wrap).
template <typename To>
bool scalar_fits_double(double v) {
  if constexpr (std::is_same_v<To, bool> || is_floating_type_v<To>) {
    return true;
  } else {
    if (std::isnan(v)) return false;
    return !(v < static_cast<double>(std::numeric_limits<To>::lowest()) ||
             v > static_cast<double>(std::numeric_limits<To>::max()));
  }
}
template <typename To>
bool scalar_fits_int(int64_t v) {
  if constexpr (std::is_same_v<To, bool> || is_floating_type_v<To> || std::is_same_v<To, int64_t>) {
    return true;
  } else if constexpr (std::is_unsigned_v<To>) {
    const int64_t max = static_cast<int64_t>(std::numeric_limits<To>::max());
    return v <= max && v >= -max;
  } else {
    return v >= static_cast<int64_t>(std::numeric_limits<To>::lowest()) &&
           v <= static_cast<int64_t>(std::numeric_limits<To>::max());
  }
}

// The C type names PyTorch's fill-style errors print.
template <typename T>
constexpr const char* c_type_name() {
  if constexpr (std::is_same_v<T, bool>) return "bool";
  else if constexpr (std::is_same_v<T, uint8_t>) return "uint8_t";
  else if constexpr (std::is_same_v<T, int32_t>) return "int";
  else if constexpr (std::is_same_v<T, int64_t>) return "int64_t";
  else if constexpr (std::is_same_v<T, float>) return "float";
  else if constexpr (std::is_same_v<T, Half>) return "c10::Half";
  else if constexpr (std::is_same_v<T, BFloat16>) return "c10::BFloat16";
  else return "double";
}

}  // namespace norch

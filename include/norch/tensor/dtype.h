// norch/tensor/dtype.h — scalar types, their sizes and PyTorch's promotion lattice.
#pragma once
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include "norch/error.h"
#include "norch/tensor/half.h"

namespace norch {

// The half types come last so the values of the older six (hashes, pickles) stay put.
enum class ScalarType : int8_t { Bool = 0, UInt8, Int32, Int64, Float32, Float64, Float16, BFloat16 };
constexpr int kNumScalarTypes = 8;

inline size_t element_size(ScalarType t) {
  switch (t) {
    case ScalarType::Bool:
    case ScalarType::UInt8: return 1;
    case ScalarType::Float16:
    case ScalarType::BFloat16: return 2;
    case ScalarType::Int32:
    case ScalarType::Float32: return 4;
    case ScalarType::Int64:
    case ScalarType::Float64: return 8;
  }
  return 0;
}

inline const char* dtype_name(ScalarType t) {
  switch (t) {
    case ScalarType::Bool: return "bool";
    case ScalarType::UInt8: return "uint8";
    case ScalarType::Int32: return "int32";
    case ScalarType::Int64: return "int64";
    case ScalarType::Float32: return "float32";
    case ScalarType::Float64: return "float64";
    case ScalarType::Float16: return "float16";
    case ScalarType::BFloat16: return "bfloat16";
  }
  return "?";
}
inline std::ostream& operator<<(std::ostream& os, ScalarType t) { return os << "norch." << dtype_name(t); }

inline bool is_floating_point(ScalarType t) {
  return t == ScalarType::Float32 || t == ScalarType::Float64 || t == ScalarType::Float16 || t == ScalarType::BFloat16;
}
inline bool is_reduced_float(ScalarType t) { return t == ScalarType::Float16 || t == ScalarType::BFloat16; }
inline bool is_integral(ScalarType t, bool include_bool) {
  return (t == ScalarType::Bool && include_bool) || t == ScalarType::UInt8 || t == ScalarType::Int32 ||
         t == ScalarType::Int64;
}

// PyTorch's promote_types: integers lift to whichever float meets them, the two
// half types meet at float32, and a wider float always wins.
inline ScalarType promote_types(ScalarType a, ScalarType b) {
  constexpr ScalarType b1 = ScalarType::Bool, u1 = ScalarType::UInt8, i4 = ScalarType::Int32,
                       i8 = ScalarType::Int64, f4 = ScalarType::Float32, f8 = ScalarType::Float64,
                       f2 = ScalarType::Float16, bf = ScalarType::BFloat16;
  static constexpr ScalarType table[kNumScalarTypes][kNumScalarTypes] = {
      {b1, u1, i4, i8, f4, f8, f2, bf},  // Bool
      {u1, u1, i4, i8, f4, f8, f2, bf},  // UInt8
      {i4, i4, i4, i8, f4, f8, f2, bf},  // Int32
      {i8, i8, i8, i8, f4, f8, f2, bf},  // Int64
      {f4, f4, f4, f4, f4, f8, f4, f4},  // Float32
      {f8, f8, f8, f8, f8, f8, f8, f8},  // Float64
      {f2, f2, f2, f2, f4, f8, f2, f4},  // Float16
      {bf, bf, bf, bf, f4, f8, f4, bf},  // BFloat16
  };
  return table[static_cast<int>(a)][static_cast<int>(b)];
}

// Category used by result_type: a Python float may lift an int tensor to float,
// but never changes the width of a float tensor.
enum class TypeCategory { Bool = 0, Integral = 1, Floating = 2 };
inline TypeCategory category(ScalarType t) {
  if (t == ScalarType::Bool) return TypeCategory::Bool;
  return is_floating_point(t) ? TypeCategory::Floating : TypeCategory::Integral;
}

ScalarType default_dtype();
void set_default_dtype(ScalarType t);

template <typename T> struct CppTypeToScalarType;
template <> struct CppTypeToScalarType<bool> { static constexpr ScalarType value = ScalarType::Bool; };
template <> struct CppTypeToScalarType<uint8_t> { static constexpr ScalarType value = ScalarType::UInt8; };
template <> struct CppTypeToScalarType<int32_t> { static constexpr ScalarType value = ScalarType::Int32; };
template <> struct CppTypeToScalarType<int64_t> { static constexpr ScalarType value = ScalarType::Int64; };
template <> struct CppTypeToScalarType<float> { static constexpr ScalarType value = ScalarType::Float32; };
template <> struct CppTypeToScalarType<double> { static constexpr ScalarType value = ScalarType::Float64; };
template <> struct CppTypeToScalarType<Half> { static constexpr ScalarType value = ScalarType::Float16; };
template <> struct CppTypeToScalarType<BFloat16> { static constexpr ScalarType value = ScalarType::BFloat16; };

}  // namespace norch

// The one dtype switch (STYLE habit 5). The body sees `scalar_t`.
#define NORCH_DTYPE_CASE(enum_val, cpp_t, ...) \
  case ::norch::ScalarType::enum_val: {         \
    using scalar_t = cpp_t;                     \
    return __VA_ARGS__();                       \
  }

// The dtype groups the dispatch macros are made of.
#define NORCH_INTEGRAL_CASES(...)                      \
  NORCH_DTYPE_CASE(UInt8, uint8_t, __VA_ARGS__)         \
  NORCH_DTYPE_CASE(Int32, int32_t, __VA_ARGS__)         \
  NORCH_DTYPE_CASE(Int64, int64_t, __VA_ARGS__)
#define NORCH_FLOATING_CASES(...)                      \
  NORCH_DTYPE_CASE(Float32, float, __VA_ARGS__)         \
  NORCH_DTYPE_CASE(Float64, double, __VA_ARGS__)
// float16 and bfloat16 (scalar_t = norch::Half / norch::BFloat16); a body that
// accumulates uses opmath_t<scalar_t>.
#define NORCH_HALF_CASES(...)                               \
  NORCH_DTYPE_CASE(Float16, ::norch::Half, __VA_ARGS__)      \
  NORCH_DTYPE_CASE(BFloat16, ::norch::BFloat16, __VA_ARGS__)

// A switch over the given case groups; other dtypes raise "NAME" is not implemented.
// The cases are variadic so that commas in a dispatched body survive the expansion.
#define NORCH_DISPATCH_CASES(TYPE, NAME, ...)                                               \
  [&] {                                                                                     \
    switch (TYPE) {                                                                         \
      __VA_ARGS__                                                                           \
      default: break;                                                                       \
    }                                                                                       \
    NORCH_ERROR('"', NAME, "\" is not implemented for dtype ", ::norch::dtype_name(TYPE)); \
  }()

#define NORCH_DISPATCH_ALL_TYPES(TYPE, NAME, ...)                                            \
  NORCH_DISPATCH_CASES(TYPE, NAME, NORCH_DTYPE_CASE(Bool, bool, __VA_ARGS__)                 \
                                       NORCH_INTEGRAL_CASES(__VA_ARGS__) NORCH_FLOATING_CASES(__VA_ARGS__))

// Every dtype: the switch is exhaustive, so reaching the error means a corrupt dtype value.
#define NORCH_DISPATCH_ALL_TYPES_AND_HALF(TYPE, NAME, ...)                                 \
  [&] {                                                                                    \
    switch (TYPE) {                                                                        \
      NORCH_DTYPE_CASE(Bool, bool, __VA_ARGS__)                                            \
      NORCH_INTEGRAL_CASES(__VA_ARGS__)                                                    \
      NORCH_FLOATING_CASES(__VA_ARGS__)                                                    \
      NORCH_HALF_CASES(__VA_ARGS__)                                                        \
    }                                                                                      \
    NORCH_ERROR(NAME, ": unsupported dtype ", TYPE);                                       \
  }()

#define NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(TYPE, NAME, ...) \
  NORCH_DISPATCH_CASES(TYPE, NAME, NORCH_FLOATING_CASES(__VA_ARGS__) NORCH_HALF_CASES(__VA_ARGS__))

#define NORCH_DISPATCH_NUMERIC_TYPES_AND_HALF(TYPE, NAME, ...)                                     \
  NORCH_DISPATCH_CASES(TYPE, NAME, NORCH_INTEGRAL_CASES(__VA_ARGS__) NORCH_FLOATING_CASES(__VA_ARGS__) \
                                       NORCH_HALF_CASES(__VA_ARGS__))

#define NORCH_DISPATCH_FLOATING_TYPES(TYPE, NAME, ...) \
  NORCH_DISPATCH_CASES(TYPE, NAME, NORCH_FLOATING_CASES(__VA_ARGS__))

#define NORCH_DISPATCH_NUMERIC_TYPES(TYPE, NAME, ...) \
  NORCH_DISPATCH_CASES(TYPE, NAME, NORCH_INTEGRAL_CASES(__VA_ARGS__) NORCH_FLOATING_CASES(__VA_ARGS__))

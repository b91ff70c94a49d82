// norch/tensor/dtype.h — scalar types, their sizes and PyTorch's promotion lattice.
#pragma once
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include "norch/error.h"

namespace norch {

// Ordered so that, for these six types, PyTorch's promote_types(a, b) is max(a, b).
enum class ScalarType : int8_t { Bool = 0, UInt8, Int32, Int64, Float32, Float64 };
constexpr int kNumScalarTypes = 6;

inline size_t element_size(ScalarType t) {
  switch (t) {
    case ScalarType::Bool:
    case ScalarType::UInt8: return 1;
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
  }
  return "?";
}
inline std::ostream& operator<<(std::ostream& os, ScalarType t) { return os << "norch." << dtype_name(t); }

inline bool is_floating_point(ScalarType t) { return t == ScalarType::Float32 || t == ScalarType::Float64; }
inline bool is_integral(ScalarType t, bool include_bool) {
  return (t == ScalarType::Bool && include_bool) || t == ScalarType::UInt8 || t == ScalarType::Int32 ||
         t == ScalarType::Int64;
}

inline ScalarType promote_types(ScalarType a, ScalarType b) { return a > b ? a : b; }

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

}  // namespace norch

// The one dtype switch (STYLE habit 5). The body sees `scalar_t`.
#define NORCH_DTYPE_CASE(enum_val, cpp_t, ...) \
  case ::norch::ScalarType::enum_val: {         \
    using scalar_t = cpp_t;                     \
    return __VA_ARGS__();                       \
  }

#define NORCH_DISPATCH_ALL_TYPES(TYPE, NAME, ...)                                                    \
  [&] {                                                                                            \
    switch (TYPE) {                                                                                \
      NORCH_DTYPE_CASE(Bool, bool, __VA_ARGS__)                                                    \
      NORCH_DTYPE_CASE(UInt8, uint8_t, __VA_ARGS__)                                                \
      NORCH_DTYPE_CASE(Int32, int32_t, __VA_ARGS__)                                                \
      NORCH_DTYPE_CASE(Int64, int64_t, __VA_ARGS__)                                                \
      NORCH_DTYPE_CASE(Float32, float, __VA_ARGS__)                                                \
      NORCH_DTYPE_CASE(Float64, double, __VA_ARGS__)                                               \
    }                                                                                              \
    NORCH_ERROR(NAME, ": unsupported dtype ", TYPE);                                               \
  }()

#define NORCH_DISPATCH_FLOATING_TYPES(TYPE, NAME, ...)                                               \
  [&] {                                                                                            \
    switch (TYPE) {                                                                                \
      NORCH_DTYPE_CASE(Float32, float, __VA_ARGS__)                                                \
      NORCH_DTYPE_CASE(Float64, double, __VA_ARGS__)                                               \
      default: break;                                                                              \
    }                                                                                              \
    NORCH_ERROR('"', NAME, "\" is not implemented for dtype ", ::norch::dtype_name(TYPE));        \
  }()

#define NORCH_DISPATCH_NUMERIC_TYPES(TYPE, NAME, ...)                                                \
  [&] {                                                                                            \
    switch (TYPE) {                                                                                \
      NORCH_DTYPE_CASE(UInt8, uint8_t, __VA_ARGS__)                                                \
      NORCH_DTYPE_CASE(Int32, int32_t, __VA_ARGS__)                                                \
      NORCH_DTYPE_CASE(Int64, int64_t, __VA_ARGS__)                                                \
      NORCH_DTYPE_CASE(Float32, float, __VA_ARGS__)                                                \
      NORCH_DTYPE_CASE(Float64, double, __VA_ARGS__)                                               \
      default: break;                                                                              \
    }                                                                                              \
    NORCH_ERROR('"', NAME, "\" is not implemented for dtype ", ::norch::dtype_name(TYPE));        \
  }()

// CPU unary elementwise kernels, where, clamp and nan_to_num.
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/cpu/loops.h"
#include "kernels/unary.h"

namespace norch::cpu {
namespace {

template <typename T>
void float_math(TensorIterator& it, UnaryOp op) {
  switch (op) {
    case UnaryOp::Exp: return unary_loop<T, T>(it, [](T a) -> T { return std::exp(a); });
    case UnaryOp::Exp2: return unary_loop<T, T>(it, [](T a) -> T { return std::exp2(a); });
    case UnaryOp::Log: return unary_loop<T, T>(it, [](T a) -> T { return std::log(a); });
    case UnaryOp::Log2: return unary_loop<T, T>(it, [](T a) -> T { return std::log2(a); });
    case UnaryOp::Log10: return unary_loop<T, T>(it, [](T a) -> T { return std::log10(a); });
    case UnaryOp::Log1p: return unary_loop<T, T>(it, [](T a) -> T { return std::log1p(a); });
    case UnaryOp::Expm1: return unary_loop<T, T>(it, [](T a) -> T { return std::expm1(a); });
    case UnaryOp::Sqrt: return unary_loop<T, T>(it, [](T a) -> T { return std::sqrt(a); });
    case UnaryOp::Rsqrt: return unary_loop<T, T>(it, [](T a) -> T { return T(1) / std::sqrt(a); });
    case UnaryOp::Sin: return unary_loop<T, T>(it, [](T a) -> T { return std::sin(a); });
    case UnaryOp::Cos: return unary_loop<T, T>(it, [](T a) -> T { return std::cos(a); });
    case UnaryOp::Tan: return unary_loop<T, T>(it, [](T a) -> T { return std::tan(a); });
    case UnaryOp::Asin: return unary_loop<T, T>(it, [](T a) -> T { return std::asin(a); });
    case UnaryOp::Acos: return unary_loop<T, T>(it, [](T a) -> T { return std::acos(a); });
    case UnaryOp::Atan: return unary_loop<T, T>(it, [](T a) -> T { return std::atan(a); });
    case UnaryOp::Sinh: return unary_loop<T, T>(it, [](T a) -> T { return std::sinh(a); });
    case UnaryOp::Cosh: return unary_loop<T, T>(it, [](T a) -> T { return std::cosh(a); });
    case UnaryOp::Tanh: return unary_loop<T, T>(it, [](T a) -> T { return std::tanh(a); });
    // Split on the sign so exp never overflows.
    case UnaryOp::Sigmoid:
      return unary_loop<T, T>(it, [](T a) -> T {
        if (a >= 0) return T(1) / (T(1) + std::exp(-a));
        T e = std::exp(a);
        return e / (T(1) + e);
      });
    case UnaryOp::Erf: return unary_loop<T, T>(it, [](T a) -> T { return std::erf(a); });
    case UnaryOp::Reciprocal: return unary_loop<T, T>(it, [](T a) -> T { return T(1) / a; });
    default: break;
  }
  NORCH_ERROR(unary_op_name(op), ": not implemented for dtype ", dtype_name(it.common_dtype()));
}

template <typename T>
void integer_preserving(TensorIterator& it, UnaryOp op) {
  constexpr bool is_float = std::is_floating_point_v<T>;
  switch (op) {
    case UnaryOp::Neg: return unary_loop<T, T>(it, [](T a) -> T { return static_cast<T>(-a); });
    case UnaryOp::Abs:
      return unary_loop<T, T>(it, [](T a) -> T {
        if constexpr (std::is_unsigned_v<T>) return a;
        else return a < 0 ? static_cast<T>(-a) : a;
      });
    case UnaryOp::Sign:
      return unary_loop<T, T>(it, [](T a) -> T {
        if constexpr (std::is_unsigned_v<T>) return a > 0 ? 1 : 0;
        else return static_cast<T>((T(0) < a) - (a < T(0)));
      });
    case UnaryOp::Floor:
      return unary_loop<T, T>(it, [](T a) -> T { if constexpr (is_float) return std::floor(a); else return a; });
    case UnaryOp::Ceil:
      return unary_loop<T, T>(it, [](T a) -> T { if constexpr (is_float) return std::ceil(a); else return a; });
    // Round half to even, like PyTorch and NumPy.
    case UnaryOp::Round:
      return unary_loop<T, T>(it, [](T a) -> T { if constexpr (is_float) return std::nearbyint(a); else return a; });
    case UnaryOp::Trunc:
      return unary_loop<T, T>(it, [](T a) -> T { if constexpr (is_float) return std::trunc(a); else return a; });
    case UnaryOp::Frac:
      return unary_loop<T, T>(it, [](T a) -> T { if constexpr (is_float) return a - std::trunc(a); else return 0; });
    case UnaryOp::Square: return unary_loop<T, T>(it, [](T a) -> T { return static_cast<T>(a * a); });
    case UnaryOp::Relu: return unary_loop<T, T>(it, [](T a) -> T { return a > T(0) ? a : T(0); });
    default: break;
  }
}

template <typename T>
void bitwise_not_loop(TensorIterator& it) {
  if constexpr (std::is_same_v<T, bool>) unary_loop<bool, bool>(it, [](bool a) { return !a; });
  else if constexpr (std::is_integral_v<T>) unary_loop<T, T>(it, [](T a) -> T { return static_cast<T>(~a); });
  else NORCH_ERROR("bitwise_not: not implemented for dtype ", dtype_name(it.common_dtype()));
}

void unary_kernel(TensorIterator& it, UnaryOp op) {
  NORCH_DISPATCH_ALL_TYPES(it.common_dtype(), unary_op_name(op), [&] {
    using T = scalar_t;
    switch (op) {
      case UnaryOp::LogicalNot: return unary_loop<bool, T>(it, [](T a) { return a == T(0); });
      case UnaryOp::IsNan: return unary_loop<bool, T>(it, [](T a) { return a != a; });
      case UnaryOp::IsInf:
        return unary_loop<bool, T>(it, [](T a) {
          if constexpr (std::is_floating_point_v<T>) return std::isinf(a); else return false;
        });
      case UnaryOp::IsFinite:
        return unary_loop<bool, T>(it, [](T a) {
          if constexpr (std::is_floating_point_v<T>) return std::isfinite(a); else return true;
        });
      case UnaryOp::BitNot: return bitwise_not_loop<T>(it);
      default: break;
    }
    if constexpr (std::is_same_v<T, bool>) {
      NORCH_ERROR(unary_op_name(op), ": not implemented for dtype bool");
    } else if (op >= UnaryOp::Exp) {
      if constexpr (std::is_floating_point_v<T>) float_math<T>(it, op);
      else NORCH_ERROR(unary_op_name(op), ": not implemented for dtype ", dtype_name(it.common_dtype()));
    } else {
      integer_preserving<T>(it, op);
    }
  });
}

void where_kernel(TensorIterator& it) {
  NORCH_DISPATCH_ALL_TYPES(it.common_dtype(), "where", [&] {
    using T = scalar_t;
    it.for_each([&](char** p, const int64_t* s, int64_t n) {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<T*>(p[0] + i * s[0]) = *reinterpret_cast<const bool*>(p[1] + i * s[1])
                                                     ? *reinterpret_cast<const T*>(p[2] + i * s[2])
                                                     : *reinterpret_cast<const T*>(p[3] + i * s[3]);
    });
  });
}

void clamp_kernel(TensorIterator& it, double lo, double hi, bool has_lo, bool has_hi) {
  NORCH_DISPATCH_NUMERIC_TYPES(it.common_dtype(), "clamp", [&] {
    using T = scalar_t;
    const T l = static_cast<T>(lo), h = static_cast<T>(hi);
    unary_loop<T, T>(it, [=](T a) -> T {
      if constexpr (std::is_floating_point_v<T>) if (a != a) return a;  // NaN propagates
      if (has_lo && a < l) a = l;
      if (has_hi && a > h) a = h;
      return a;
    });
  });
}

void nan_to_num_kernel(TensorIterator& it, double nan, double posinf, double neginf) {
  NORCH_DISPATCH_FLOATING_TYPES(it.common_dtype(), "nan_to_num", [&] {
    using T = scalar_t;
    const T vn = static_cast<T>(nan), vp = static_cast<T>(posinf), vm = static_cast<T>(neginf);
    unary_loop<T, T>(it, [=](T a) -> T { return a != a ? vn : (std::isinf(a) ? (a > 0 ? vp : vm) : a); });
  });
}

}  // namespace
NORCH_REGISTER_KERNEL(unary_stub, CPU, unary_kernel);
NORCH_REGISTER_KERNEL(where_stub, CPU, where_kernel);
NORCH_REGISTER_KERNEL(clamp_stub, CPU, clamp_kernel);
NORCH_REGISTER_KERNEL(nan_to_num_stub, CPU, nan_to_num_kernel);
}  // namespace norch::cpu

// Unary elementwise ops (private to the core): the op table, each op's functor,
// and the kernel signatures. Shared by the CPU kernels and, through the same
// functors, the CUDA ones; nothing here may depend on ops or autograd.
//
// Note [Elementwise op tables]
// Each elementwise family has one X-macro list, NORCH_UNARY_OPS here and
// NORCH_BINARY_OPS in binary.h: one line per op with its enum name, its Python
// name and its dtype kind. The enum, the op names, the kind predicates the op
// layer asks (promote ints to float? bool output?) and the CPU kernel's switch
// are all generated from it, so no behaviour depends on where an op sits in the
// list. Each op's math is a functor struct of the same name in norch::functors,
// marked NORCH_HD so CPU and CUDA kernels run the same code; the CPU kernel
// only maps enum -> functor -> loop pattern. A new op is one table line plus one
// functor (CONTRIBUTING.md, "Adding an elementwise op").
#pragma once
#include <cmath>
#include <type_traits>

#include "kernels/functors.h"
#include "norch/dispatch.h"
#include "norch/tensor/iterator.h"

namespace norch {

// How a unary op treats dtypes:
//   Keep      same dtype out; integers stay integers; bool is refused.
//   FloatMath integer and bool inputs compute in the default float dtype.
//   Predicate any dtype in, bool out.
//   Bitwise   integer and bool tensors only, same dtype out.
enum class UnaryKind { Keep, FloatMath, Predicate, Bitwise };

// _(Enum, python_name, kind, inplace): inplace Yes generates `name_(Tensor&)`
// in ops/unary.cpp from the out-of-place op.
#define NORCH_UNARY_OPS(_)                          \
  _(Neg, neg, Keep, Yes)                            \
  _(Abs, abs, Keep, Yes)                            \
  _(Sign, sign, Keep, Yes)                          \
  _(Floor, floor, Keep, Yes)                        \
  _(Ceil, ceil, Keep, Yes)                          \
  _(Round, round, Keep, Yes)                        \
  _(Trunc, trunc, Keep, Yes)                        \
  _(Frac, frac, Keep, Yes)                          \
  _(Square, square, Keep, Yes)                      \
  _(Relu, relu, Keep, Yes)                          \
  _(Exp, exp, FloatMath, Yes)                       \
  _(Exp2, exp2, FloatMath, Yes)                     \
  _(Log, log, FloatMath, Yes)                       \
  _(Log2, log2, FloatMath, Yes)                     \
  _(Log10, log10, FloatMath, Yes)                   \
  _(Log1p, log1p, FloatMath, Yes)                   \
  _(Expm1, expm1, FloatMath, Yes)                   \
  _(Sqrt, sqrt, FloatMath, Yes)                     \
  _(Rsqrt, rsqrt, FloatMath, Yes)                   \
  _(Sin, sin, FloatMath, Yes)                       \
  _(Cos, cos, FloatMath, Yes)                       \
  _(Tan, tan, FloatMath, Yes)                       \
  _(Asin, asin, FloatMath, Yes)                     \
  _(Acos, acos, FloatMath, Yes)                     \
  _(Atan, atan, FloatMath, Yes)                     \
  _(Sinh, sinh, FloatMath, Yes)                     \
  _(Cosh, cosh, FloatMath, Yes)                     \
  _(Tanh, tanh, FloatMath, Yes)                     \
  _(Sigmoid, sigmoid, FloatMath, Yes)               \
  _(Erf, erf, FloatMath, Yes)                       \
  _(Reciprocal, reciprocal, FloatMath, Yes)         \
  _(Sinc, sinc, FloatMath, Yes)                     \
  _(LogicalNot, logical_not, Predicate, Yes)        \
  _(IsNan, isnan, Predicate, No)                    \
  _(IsInf, isinf, Predicate, No)                    \
  _(IsFinite, isfinite, Predicate, No)              \
  _(BitNot, bitwise_not, Bitwise, Yes)

#define NORCH_UNARY_ENUM(E, name, kind, inplace) E,
enum class UnaryOp { NORCH_UNARY_OPS(NORCH_UNARY_ENUM) };
#undef NORCH_UNARY_ENUM

#define NORCH_UNARY_COUNT(E, name, kind, inplace) +1
constexpr int kNumUnaryOps = 0 NORCH_UNARY_OPS(NORCH_UNARY_COUNT);
#undef NORCH_UNARY_COUNT

inline const char* unary_op_name(UnaryOp op) {
#define NORCH_UNARY_NAME(E, name, kind, inplace) #name,
  static constexpr const char* names[] = {NORCH_UNARY_OPS(NORCH_UNARY_NAME)};
#undef NORCH_UNARY_NAME
  static_assert(sizeof(names) / sizeof(names[0]) == kNumUnaryOps, "one name per unary op");
  return names[static_cast<int>(op)];
}

constexpr UnaryKind unary_op_kind(UnaryOp op) {
  switch (op) {
#define NORCH_UNARY_KIND(E, name, kind, inplace) \
  case UnaryOp::E: return UnaryKind::kind;
    NORCH_UNARY_OPS(NORCH_UNARY_KIND)
#undef NORCH_UNARY_KIND
  }
  return UnaryKind::Keep;
}

// Kinds whose kernels only ever see float operands (the op promotes the rest).
constexpr bool computes_in_float(UnaryKind kind) { return kind == UnaryKind::FloatMath; }

using UnaryKernel = void (*)(TensorIterator& iter, UnaryOp op);
extern DispatchStub<UnaryKernel> unary_stub;

// out = where(cond, a, b): operands (out, cond[bool], a, b) with a, b in the common dtype.
using WhereKernel = void (*)(TensorIterator& iter);
extern DispatchStub<WhereKernel> where_stub;
// out = clamp(a, lo, hi) with scalar bounds (NaN bound = absent); nan_to_num too.
using ClampKernel = void (*)(TensorIterator& iter, double lo, double hi, bool has_lo, bool has_hi);
extern DispatchStub<ClampKernel> clamp_stub;
using NanToNumKernel = void (*)(TensorIterator& iter, double nan, double posinf, double neginf);
extern DispatchStub<NanToNumKernel> nan_to_num_stub;

// One functor per table line, same name. A Keep functor compiles for every
// integer and float type; a FloatMath one runs on float types only; a
// Predicate one returns bool for every type; a Bitwise one takes integer types.
namespace functors {

template <typename T>
inline constexpr bool is_float_v = std::is_floating_point_v<T>;

struct Neg {
  template <typename T> NORCH_HD T operator()(T a) const { return wrapping_neg(a); }
};
struct Abs {
  template <typename T> NORCH_HD T operator()(T a) const {
    if constexpr (std::is_unsigned_v<T>) return a;
    else return a < 0 ? wrapping_neg(a) : a;
  }
};
struct Sign {
  template <typename T> NORCH_HD T operator()(T a) const {
    if constexpr (std::is_unsigned_v<T>) return a > 0 ? 1 : 0;
    else return static_cast<T>((T(0) < a) - (a < T(0)));
  }
};
struct Floor {
  template <typename T> NORCH_HD T operator()(T a) const { if constexpr (is_float_v<T>) return std::floor(a); else return a; }
};
struct Ceil {
  template <typename T> NORCH_HD T operator()(T a) const { if constexpr (is_float_v<T>) return std::ceil(a); else return a; }
};
// Round half to even, like PyTorch and NumPy.
struct Round {
  template <typename T> NORCH_HD T operator()(T a) const { if constexpr (is_float_v<T>) return std::nearbyint(a); else return a; }
};
struct Trunc {
  template <typename T> NORCH_HD T operator()(T a) const { if constexpr (is_float_v<T>) return std::trunc(a); else return a; }
};
struct Frac {
  template <typename T> NORCH_HD T operator()(T a) const { if constexpr (is_float_v<T>) return a - std::trunc(a); else return 0; }
};
struct Square {
  template <typename T> NORCH_HD T operator()(T a) const { return wrapping_mul(a, a); }
};
struct Relu {
  // NaN passes through, as in PyTorch (a comparison with NaN is false either way).
  template <typename T> NORCH_HD T operator()(T a) const { return a != a || a > T(0) ? a : T(0); }
};

struct Exp { template <typename T> NORCH_HD T operator()(T a) const { return std::exp(a); } };
struct Exp2 { template <typename T> NORCH_HD T operator()(T a) const { return std::exp2(a); } };
struct Log { template <typename T> NORCH_HD T operator()(T a) const { return std::log(a); } };
struct Log2 { template <typename T> NORCH_HD T operator()(T a) const { return std::log2(a); } };
struct Log10 { template <typename T> NORCH_HD T operator()(T a) const { return std::log10(a); } };
struct Log1p { template <typename T> NORCH_HD T operator()(T a) const { return std::log1p(a); } };
struct Expm1 { template <typename T> NORCH_HD T operator()(T a) const { return std::expm1(a); } };
struct Sqrt { template <typename T> NORCH_HD T operator()(T a) const { return std::sqrt(a); } };
struct Rsqrt { template <typename T> NORCH_HD T operator()(T a) const { return T(1) / std::sqrt(a); } };
struct Sin { template <typename T> NORCH_HD T operator()(T a) const { return std::sin(a); } };
struct Cos { template <typename T> NORCH_HD T operator()(T a) const { return std::cos(a); } };
struct Tan { template <typename T> NORCH_HD T operator()(T a) const { return std::tan(a); } };
struct Asin { template <typename T> NORCH_HD T operator()(T a) const { return std::asin(a); } };
struct Acos { template <typename T> NORCH_HD T operator()(T a) const { return std::acos(a); } };
struct Atan { template <typename T> NORCH_HD T operator()(T a) const { return std::atan(a); } };
struct Sinh { template <typename T> NORCH_HD T operator()(T a) const { return std::sinh(a); } };
struct Cosh { template <typename T> NORCH_HD T operator()(T a) const { return std::cosh(a); } };
struct Tanh { template <typename T> NORCH_HD T operator()(T a) const { return std::tanh(a); } };
// Split on the sign so exp never overflows.
struct Sigmoid {
  template <typename T> NORCH_HD T operator()(T a) const {
    if (a >= 0) return T(1) / (T(1) + std::exp(-a));
    T e = std::exp(a);
    return e / (T(1) + e);
  }
};
struct Erf { template <typename T> NORCH_HD T operator()(T a) const { return std::erf(a); } };
struct Reciprocal { template <typename T> NORCH_HD T operator()(T a) const { return T(1) / a; } };
// The normalized sinc, sin(pi x) / (pi x), with its limit 1 at 0 (PyTorch's and NumPy's).
struct Sinc {
  template <typename T> NORCH_HD T operator()(T a) const {
    if (a == T(0)) return T(1);
    const T p = T(3.14159265358979323846) * a;
    return std::sin(p) / p;
  }
};

struct LogicalNot { template <typename T> NORCH_HD bool operator()(T a) const { return a == T(0); } };
struct IsNan { template <typename T> NORCH_HD bool operator()(T a) const { return a != a; } };
struct IsInf {
  template <typename T> NORCH_HD bool operator()(T a) const { if constexpr (is_float_v<T>) return std::isinf(a); else return false; }
};
struct IsFinite {
  template <typename T> NORCH_HD bool operator()(T a) const { if constexpr (is_float_v<T>) return std::isfinite(a); else return true; }
};

struct BitNot {
  template <typename T> NORCH_HD T operator()(T a) const {
    if constexpr (std::is_same_v<T, bool>) return !a;
    else return static_cast<T>(~a);
  }
};

}  // namespace functors
}  // namespace norch

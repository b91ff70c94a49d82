// Binary elementwise ops (private to the core): the op table, each op's functor
// and the kernel signature. Shared by the CPU kernels and, through the same
// functors, the CUDA ones; nothing here may depend on ops or autograd.
// Note [Elementwise op tables] (kernels/unary.h) explains the layout.
#pragma once
#include <cmath>
#include <type_traits>

#include "kernels/functors.h"
#include "norch/dispatch.h"
#include "norch/tensor/iterator.h"

namespace norch {

// How a binary op treats dtypes (operands arrive in the iterator's common dtype):
//   Arith     same dtype out; bool is refused by the kernel.
//   ArithBool same dtype out; bool computes in bool (True + True is True).
//   FloatMath integer and bool inputs compute in the default float dtype.
//   FloatOnly float tensors only (PyTorch refuses the rest: hypot).
//   Compare   any dtype in, bool out.
//   Bitwise   integer and bool tensors only.
//   Shift     integer tensors only (not bool).
enum class BinaryKind { Arith, ArithBool, FloatMath, FloatOnly, Compare, Bitwise, Shift };

// _(Enum, python_name, kind, inplace): inplace Yes generates
// `name_(Tensor& self, const Tensor& other)` in ops/binary.cpp; add_, sub_ and div_
// take extra arguments and are written out there.
#define NORCH_BINARY_OPS(_)                         \
  _(Add, add, ArithBool, No)                        \
  _(Sub, sub, Arith, No)                            \
  _(Mul, mul, ArithBool, Yes)                       \
  _(Div, div, FloatMath, No)                        \
  _(FloorDiv, floor_divide, Arith, Yes)             \
  _(TruncDiv, div_trunc, Arith, No)                 \
  _(Remainder, remainder, Arith, Yes)               \
  _(Fmod, fmod, Arith, Yes)                         \
  _(Pow, pow, Arith, Yes)                           \
  _(Maximum, maximum, ArithBool, Yes)               \
  _(Minimum, minimum, ArithBool, Yes)               \
  _(Atan2, atan2, FloatMath, Yes)                   \
  _(Hypot, hypot, FloatOnly, Yes)                   \
  _(Eq, eq, Compare, No)                            \
  _(Ne, ne, Compare, No)                            \
  _(Lt, lt, Compare, No)                            \
  _(Le, le, Compare, No)                            \
  _(Gt, gt, Compare, No)                            \
  _(Ge, ge, Compare, No)                            \
  _(LogicalAnd, logical_and, Compare, No)           \
  _(LogicalOr, logical_or, Compare, No)             \
  _(LogicalXor, logical_xor, Compare, No)           \
  _(BitAnd, bitwise_and, Bitwise, Yes)              \
  _(BitOr, bitwise_or, Bitwise, Yes)                \
  _(BitXor, bitwise_xor, Bitwise, Yes)              \
  _(LeftShift, bitwise_left_shift, Shift, Yes)      \
  _(RightShift, bitwise_right_shift, Shift, Yes)

#define NORCH_BINARY_ENUM(E, name, kind, inplace) E,
enum class BinaryOp { NORCH_BINARY_OPS(NORCH_BINARY_ENUM) };
#undef NORCH_BINARY_ENUM

#define NORCH_BINARY_COUNT(E, name, kind, inplace) +1
constexpr int kNumBinaryOps = 0 NORCH_BINARY_OPS(NORCH_BINARY_COUNT);
#undef NORCH_BINARY_COUNT

inline const char* binary_op_name(BinaryOp op) {
#define NORCH_BINARY_NAME(E, name, kind, inplace) #name,
  static constexpr const char* names[] = {NORCH_BINARY_OPS(NORCH_BINARY_NAME)};
#undef NORCH_BINARY_NAME
  static_assert(sizeof(names) / sizeof(names[0]) == kNumBinaryOps, "one name per binary op");
  return names[static_cast<int>(op)];
}

constexpr BinaryKind binary_op_kind(BinaryOp op) {
  switch (op) {
#define NORCH_BINARY_KIND(E, name, kind, inplace) \
  case BinaryOp::E: return BinaryKind::kind;
    NORCH_BINARY_OPS(NORCH_BINARY_KIND)
#undef NORCH_BINARY_KIND
  }
  return BinaryKind::Arith;
}

// Kinds whose kernels only ever see float operands (the op promotes or refuses the rest).
constexpr bool computes_in_float(BinaryKind kind) { return kind == BinaryKind::FloatMath || kind == BinaryKind::FloatOnly; }

// Operand 0 = op(operand 1, operand 2); inputs in the iterator's common dtype.
using BinaryKernel = void (*)(TensorIterator& iter, BinaryOp op);
extern DispatchStub<BinaryKernel> binary_stub;

// One functor per table line, same name. Arith functors compile for every
// integer and float type (ArithBool ones for bool too); FloatMath ones run on
// float types; Compare ones return bool; Bitwise and Shift ones take integers.
namespace functors {

struct Add { template <typename T> NORCH_HD T operator()(T a, T b) const { return wrapping_add(a, b); } };
struct Sub { template <typename T> NORCH_HD T operator()(T a, T b) const { return wrapping_sub(a, b); } };
struct Mul { template <typename T> NORCH_HD T operator()(T a, T b) const { return wrapping_mul(a, b); } };
struct Div { template <typename T> NORCH_HD T operator()(T a, T b) const { return a / b; } };
struct FloorDiv { template <typename T> NORCH_HD T operator()(T a, T b) const { return floor_divide(a, b); } };
struct TruncDiv {
  template <typename T> NORCH_HD T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) return std::trunc(a / b);
    // Zero divisors are refused by the op; the minimum value over -1 wraps instead of trapping.
    else if (std::is_signed_v<T> && b == T(-1)) return wrapping_neg(a);
    else return b == 0 ? T(0) : T(a / b);
  }
};
struct Remainder { template <typename T> NORCH_HD T operator()(T a, T b) const { return remainder(a, b); } };
// Its own functor: std::fmod is exact, a - trunc(a / b) * b is not.
struct Fmod {
  template <typename T> NORCH_HD T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) return std::fmod(a, b);
    // Zero divisors are refused by the op; x % -1 is 0, and computing it would trap on the minimum value.
    else return b == 0 || (std::is_signed_v<T> && b == T(-1)) ? T(0) : T(a % b);
  }
};
struct Pow {
  template <typename T> NORCH_HD T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) return std::pow(a, b);
    else return int_pow(a, b);
  }
};
// NaN wins (a + b is NaN when either is), as in PyTorch.
struct Maximum {
  template <typename T> NORCH_HD T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) { if (a != a || b != b) return a + b; }
    return a > b ? a : b;
  }
};
struct Minimum {
  template <typename T> NORCH_HD T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) { if (a != a || b != b) return a + b; }
    return a < b ? a : b;
  }
};
struct Atan2 { template <typename T> NORCH_HD T operator()(T a, T b) const { return std::atan2(a, b); } };
struct Hypot { template <typename T> NORCH_HD T operator()(T a, T b) const { return std::hypot(a, b); } };

struct Eq { template <typename T> NORCH_HD bool operator()(T a, T b) const { return a == b; } };
struct Ne { template <typename T> NORCH_HD bool operator()(T a, T b) const { return a != b; } };
struct Lt { template <typename T> NORCH_HD bool operator()(T a, T b) const { return a < b; } };
struct Le { template <typename T> NORCH_HD bool operator()(T a, T b) const { return a <= b; } };
struct Gt { template <typename T> NORCH_HD bool operator()(T a, T b) const { return a > b; } };
struct Ge { template <typename T> NORCH_HD bool operator()(T a, T b) const { return a >= b; } };
struct LogicalAnd { template <typename T> NORCH_HD bool operator()(T a, T b) const { return a != T(0) && b != T(0); } };
struct LogicalOr { template <typename T> NORCH_HD bool operator()(T a, T b) const { return a != T(0) || b != T(0); } };
struct LogicalXor { template <typename T> NORCH_HD bool operator()(T a, T b) const { return (a != T(0)) != (b != T(0)); } };

struct BitAnd { template <typename T> NORCH_HD T operator()(T a, T b) const { return static_cast<T>(a & b); } };
struct BitOr { template <typename T> NORCH_HD T operator()(T a, T b) const { return static_cast<T>(a | b); } };
struct BitXor { template <typename T> NORCH_HD T operator()(T a, T b) const { return static_cast<T>(a ^ b); } };
// Shifts past the width give 0 (or -1 for a negative value shifted right), as in PyTorch.
struct LeftShift {
  template <typename T> NORCH_HD T operator()(T a, T b) const {
    // Shifted as unsigned: a negative value shifted left is undefined in C++17.
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      using U = std::make_unsigned_t<T>;
      return (b < 0 || b >= T(sizeof(T) * 8)) ? T(0) : static_cast<T>(static_cast<U>(a) << b);
    } else {
      return (b < 0 || b >= T(sizeof(T) * 8)) ? T(0) : T(a << b);
    }
  }
};
struct RightShift {
  template <typename T> NORCH_HD T operator()(T a, T b) const {
    return (b < 0 || b >= T(sizeof(T) * 8)) ? (a < 0 ? T(-1) : T(0)) : T(a >> b);
  }
};

}  // namespace functors
}  // namespace norch

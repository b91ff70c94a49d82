// CPU binary elementwise kernels: one functor per op, run by binary_loop.
#include <cmath>
#include <type_traits>

#include "kernels/binary.h"
#include "kernels/cpu/loops.h"

namespace norch::cpu {
namespace {

template <typename T>
T floor_divide(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (b == 0) return a / b;
    T q = std::floor(a / b);
    return q;
  } else if constexpr (std::is_same_v<T, bool>) {
    return a;
  } else {
    if (b == 0) return 0;  // checked by the op before the kernel runs
    T q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
  }
}

template <typename T>
T remainder(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    T r = std::fmod(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
  } else if constexpr (std::is_same_v<T, bool>) {
    return false;
  } else {
    if (b == 0) return 0;
    T r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
  }
}

template <typename T>
T int_pow(T base, T exp) {
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

template <typename T>
void arithmetic(TensorIterator& it, BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return binary_loop<T, T>(it, [](T a, T b) -> T { return a + b; });
    case BinaryOp::Sub: return binary_loop<T, T>(it, [](T a, T b) -> T { return a - b; });
    case BinaryOp::Mul: return binary_loop<T, T>(it, [](T a, T b) -> T { return a * b; });
    case BinaryOp::Div: return binary_loop<T, T>(it, [](T a, T b) -> T { return a / b; });
    case BinaryOp::FloorDiv: return binary_loop<T, T>(it, [](T a, T b) -> T { return floor_divide(a, b); });
    case BinaryOp::TruncDiv:
      return binary_loop<T, T>(it, [](T a, T b) -> T {
        if constexpr (std::is_floating_point_v<T>) return std::trunc(a / b);
        else return b == 0 ? T(0) : T(a / b);
      });
    case BinaryOp::Remainder: return binary_loop<T, T>(it, [](T a, T b) -> T { return remainder(a, b); });
    case BinaryOp::Fmod:
      return binary_loop<T, T>(it, [](T a, T b) -> T {
        if constexpr (std::is_floating_point_v<T>) return std::fmod(a, b);
        else return b == 0 ? T(0) : T(a % b);  // zero divisors are refused by the op
      });
    case BinaryOp::Pow:
      return binary_loop<T, T>(it, [](T a, T b) -> T {
        if constexpr (std::is_floating_point_v<T>) return std::pow(a, b);
        else return int_pow(a, b);
      });
    case BinaryOp::Maximum:
      return binary_loop<T, T>(it, [](T a, T b) -> T {
        if constexpr (std::is_floating_point_v<T>) { if (a != a || b != b) return a + b; }
        return a > b ? a : b;
      });
    case BinaryOp::Minimum:
      return binary_loop<T, T>(it, [](T a, T b) -> T {
        if constexpr (std::is_floating_point_v<T>) { if (a != a || b != b) return a + b; }
        return a < b ? a : b;
      });
    case BinaryOp::Atan2:
      return binary_loop<T, T>(it, [](T a, T b) -> T { return static_cast<T>(std::atan2(a, b)); });
    default: break;
  }
  NORCH_ERROR(binary_op_name(op), ": not implemented for dtype ", dtype_name(it.common_dtype()));
}

template <typename T>
void comparison(TensorIterator& it, BinaryOp op) {
  switch (op) {
    case BinaryOp::Eq: return binary_loop<bool, T>(it, [](T a, T b) { return a == b; });
    case BinaryOp::Ne: return binary_loop<bool, T>(it, [](T a, T b) { return a != b; });
    case BinaryOp::Lt: return binary_loop<bool, T>(it, [](T a, T b) { return a < b; });
    case BinaryOp::Le: return binary_loop<bool, T>(it, [](T a, T b) { return a <= b; });
    case BinaryOp::Gt: return binary_loop<bool, T>(it, [](T a, T b) { return a > b; });
    case BinaryOp::Ge: return binary_loop<bool, T>(it, [](T a, T b) { return a >= b; });
    case BinaryOp::LogicalAnd: return binary_loop<bool, T>(it, [](T a, T b) { return a != T(0) && b != T(0); });
    case BinaryOp::LogicalOr: return binary_loop<bool, T>(it, [](T a, T b) { return a != T(0) || b != T(0); });
    case BinaryOp::LogicalXor: return binary_loop<bool, T>(it, [](T a, T b) { return (a != T(0)) != (b != T(0)); });
    default: break;
  }
}

template <typename T>
void bitwise(TensorIterator& it, BinaryOp op) {
  if constexpr (std::is_integral_v<T>) {
    switch (op) {
      case BinaryOp::BitAnd: return binary_loop<T, T>(it, [](T a, T b) -> T { return a & b; });
      case BinaryOp::BitOr: return binary_loop<T, T>(it, [](T a, T b) -> T { return a | b; });
      case BinaryOp::BitXor: return binary_loop<T, T>(it, [](T a, T b) -> T { return a ^ b; });
      case BinaryOp::LeftShift:
        return binary_loop<T, T>(it, [](T a, T b) -> T {
          if constexpr (std::is_same_v<T, bool>) return a;
          else return (b < 0 || b >= T(sizeof(T) * 8)) ? T(0) : T(a << b);
        });
      case BinaryOp::RightShift:
        return binary_loop<T, T>(it, [](T a, T b) -> T {
          if constexpr (std::is_same_v<T, bool>) return a;
          else return (b < 0 || b >= T(sizeof(T) * 8)) ? (a < 0 ? T(-1) : T(0)) : T(a >> b);
        });
      default: break;
    }
  }
  NORCH_ERROR('"', binary_op_name(op), "\" not implemented for '", dtype_name(it.common_dtype()), "'");
}

void binary_kernel(TensorIterator& it, BinaryOp op) {
  NORCH_DISPATCH_ALL_TYPES(it.common_dtype(), binary_op_name(op), [&] {
    if (op >= BinaryOp::Eq && op <= BinaryOp::LogicalXor) comparison<scalar_t>(it, op);
    else if (op >= BinaryOp::BitAnd) bitwise<scalar_t>(it, op);
    else if constexpr (std::is_same_v<scalar_t, bool>) {
      // bool arithmetic computes in bool (PyTorch: True + True is True).
      if (op == BinaryOp::Add || op == BinaryOp::Maximum) binary_loop<bool, bool>(it, [](bool a, bool b) { return a || b; });
      else if (op == BinaryOp::Mul || op == BinaryOp::Minimum) binary_loop<bool, bool>(it, [](bool a, bool b) { return a && b; });
      else NORCH_ERROR(binary_op_name(op), ": not supported for bool tensors");
    } else {
      arithmetic<scalar_t>(it, op);
    }
  });
}

}  // namespace
NORCH_REGISTER_KERNEL(binary_stub, CPU, binary_kernel);
}  // namespace norch::cpu

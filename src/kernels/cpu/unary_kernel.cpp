// CPU unary elementwise kernels, where, clamp and nan_to_num. The unary kernel
// only maps an op to its functor (kernels/unary.h) and a loop pattern; the
// op's kind decides which dtypes reach the functor.
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/cpu/loops.h"
#include "kernels/unary.h"

namespace norch::cpu {
namespace {

// Half-type elements reach the functor as float (in_opmath) and round once.
template <UnaryKind kind, typename T, typename F>
void run_functor(TensorIterator& it, UnaryOp op, F f) {
  if constexpr (kind == UnaryKind::Predicate) {
    unary_loop<bool, T>(it, in_opmath<T>(f));
  } else if constexpr (kind == UnaryKind::Bitwise) {
    if constexpr (std::is_integral_v<T>) unary_loop<T, T>(it, f);
    else NORCH_ERROR(unary_op_name(op), ": not implemented for dtype ", dtype_name(it.common_dtype()));
  } else if constexpr (std::is_same_v<T, bool>) {
    NORCH_ERROR(unary_op_name(op), ": not implemented for dtype bool");
  } else if constexpr (computes_in_float(kind) && !is_floating_type_v<T>) {
    NORCH_ERROR(unary_op_name(op), ": not implemented for dtype ", dtype_name(it.common_dtype()));
  } else {
    unary_loop<T, T>(it, in_opmath<T>(f));
  }
}

// Maps the op to its functor; the table generates one case per op.
template <typename T>
void unary_typed(TensorIterator& it, UnaryOp op) {
  switch (op) {
#define NORCH_UNARY_CASE(E, name, kind, inplace) \
  case UnaryOp::E: return run_functor<UnaryKind::kind, T>(it, op, functors::E{});
    NORCH_UNARY_OPS(NORCH_UNARY_CASE)
#undef NORCH_UNARY_CASE
  }
}

void unary_kernel(TensorIterator& it, UnaryOp op) {
  NORCH_DISPATCH_ALL_TYPES_AND_HALF(it.common_dtype(), unary_op_name(op), [&] { unary_typed<scalar_t>(it, op); });
}

void where_kernel(TensorIterator& it) {
  NORCH_DISPATCH_ALL_TYPES_AND_HALF(it.common_dtype(), "where", [&] {
    using T = scalar_t;
    ternary_loop<T, bool, T, T>(it, [](bool c, T a, T b) -> T { return c ? a : b; });
  });
}

void clamp_kernel(TensorIterator& it, double lo, double hi, bool has_lo, bool has_hi) {
  NORCH_DISPATCH_NUMERIC_TYPES_AND_HALF(it.common_dtype(), "clamp", [&] {
    using T = scalar_t;
    // A half-type tensor clamps to bounds rounded to its own dtype, as PyTorch's does.
    const T l = static_cast<T>(lo), h = static_cast<T>(hi);
    unary_loop<T, T>(it, [=](T a) -> T {
      if constexpr (is_floating_type_v<T>) {
        if (a != a) return a;  // NaN propagates, from the input or from a bound (as in PyTorch)
        if ((has_lo && l != l) || (has_hi && h != h)) return has_lo && l != l ? l : h;
      }
      if (has_lo && a < l) a = l;
      if (has_hi && a > h) a = h;
      return a;
    });
  });
}

void nan_to_num_kernel(TensorIterator& it, double nan, double posinf, double neginf) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(it.common_dtype(), "nan_to_num", [&] {
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

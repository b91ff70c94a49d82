// CUDA unary elementwise kernels, where, clamp and nan_to_num: each op maps to
// the functor the CPU kernel runs (kernels/unary.h) and a loop of loops.cuh;
// the op's kind decides which dtypes reach it, with the CPU kernel's errors.
#include <type_traits>

#include "kernels/cuda/elementwise_ops.cuh"
#include "kernels/cuda/loops.cuh"

namespace norch::cuda_kernels {

template <UnaryKind kind, typename T, typename F>
void run_unary_functor(TensorIterator& it, UnaryOp op, F f) {
  const char* name = unary_op_name(op);
  if constexpr (kind == UnaryKind::Predicate) {
    launch_elementwise<bool, T>(it, in_opmath<T>(f), name);
  } else if constexpr (kind == UnaryKind::Bitwise) {
    if constexpr (std::is_integral_v<T>) launch_elementwise<T, T>(it, f, name);
    else NORCH_ERROR(name, ": not implemented for dtype ", dtype_name(it.common_dtype()));
  } else if constexpr (std::is_same_v<T, bool>) {
    NORCH_ERROR(name, ": not implemented for dtype bool");
  } else if constexpr (computes_in_float(kind) && !is_floating_type_v<T>) {
    NORCH_ERROR(name, ": not implemented for dtype ", dtype_name(it.common_dtype()));
  } else {
    launch_elementwise<T, T>(it, in_opmath<T>(f), name);
  }
}

namespace {

// The ops that are not FloatMath (those live in unary_math.cu).
template <typename T>
void unary_typed(TensorIterator& it, UnaryOp op) {
  switch (op) {
#define NORCH_UNARY_CASE(E, name, kind, inplace)                                               \
  case UnaryOp::E:                                                                           \
    if constexpr (!computes_in_float(UnaryKind::kind)) return run_unary_functor<UnaryKind::kind, T>(it, op, functors::E{}); \
    break;
    NORCH_UNARY_OPS(NORCH_UNARY_CASE)
#undef NORCH_UNARY_CASE
  }
}

void unary_cuda(TensorIterator& it, UnaryOp op) {
  if (computes_in_float(unary_op_kind(op))) return unary_math_cuda(it, op);
  NORCH_CUDA_DISPATCH_ALL_TYPES(it.common_dtype(), unary_op_name(op), [&] { unary_typed<scalar_t>(it, op); });
}

struct WhereOp {
  template <typename T>
  NORCH_HD T operator()(bool c, T a, T b) const { return c ? a : b; }
};

void where_cuda(TensorIterator& it) {
  NORCH_CUDA_DISPATCH_ALL_TYPES(it.common_dtype(), "where", [&] {
    launch_elementwise<scalar_t, bool, scalar_t, scalar_t>(it, WhereOp{}, "where");
  });
}

// The CPU clamp kernel's rule: NaN propagates from the input or from a bound. A
// half-type tensor clamps to bounds rounded to its own dtype, as on the CPU.
template <typename T>
struct ClampOp {
  T l, h;
  bool has_lo, has_hi;
  NORCH_HD T operator()(T a) const {
    if constexpr (is_floating_type_v<T>) {
      if (a != a) return a;
      if ((has_lo && l != l) || (has_hi && h != h)) return has_lo && l != l ? l : h;
    }
    if (has_lo && a < l) a = l;
    if (has_hi && a > h) a = h;
    return a;
  }
};

void clamp_cuda(TensorIterator& it, double lo, double hi, bool has_lo, bool has_hi) {
  NORCH_CUDA_DISPATCH_NUMERIC_TYPES(it.common_dtype(), "clamp", [&] {
    using T = scalar_t;
    launch_elementwise<T, T>(it, ClampOp<T>{static_cast<T>(lo), static_cast<T>(hi), has_lo, has_hi}, "clamp");
  });
}

template <typename T>
struct NanToNumOp {
  T vn, vp, vm;
  NORCH_HD T operator()(T a) const {
    const opmath_t<T> x = static_cast<opmath_t<T>>(a);  // the half types test their value as float
    return x != x ? vn : (std::isinf(x) ? (x > 0 ? vp : vm) : a);
  }
};

void nan_to_num_cuda(TensorIterator& it, double nan, double posinf, double neginf) {
  NORCH_CUDA_DISPATCH_FLOATING_TYPES(it.common_dtype(), "nan_to_num", [&] {
    using T = scalar_t;
    launch_elementwise<T, T>(it, NanToNumOp<T>{static_cast<T>(nan), static_cast<T>(posinf), static_cast<T>(neginf)},
                             "nan_to_num");
  });
}

}  // namespace

NORCH_REGISTER_KERNEL(unary_stub, CUDA, unary_cuda);
NORCH_REGISTER_KERNEL(where_stub, CUDA, where_cuda);
NORCH_REGISTER_KERNEL(clamp_stub, CUDA, clamp_cuda);
NORCH_REGISTER_KERNEL(nan_to_num_stub, CUDA, nan_to_num_cuda);

}  // namespace norch::cuda_kernels

// CPU binary elementwise kernels: the kernel only maps an op to its functor
// (kernels/binary.h) and binary_loop; the op's kind decides which dtypes reach it.
// Half-type elements reach the functor as float (in_opmath) and round once.
#include <type_traits>

#include "kernels/binary.h"
#include "kernels/cpu/loops.h"

namespace norch::cpu {
namespace {

template <BinaryKind kind, typename T, typename F>
void run_functor(TensorIterator& it, BinaryOp op, F f) {
  if constexpr (kind == BinaryKind::Compare) {
    binary_loop<bool, T>(it, in_opmath<T>(f));
  } else if constexpr (kind == BinaryKind::Bitwise || kind == BinaryKind::Shift) {
    constexpr bool ok = kind == BinaryKind::Bitwise ? std::is_integral_v<T>
                                                    : std::is_integral_v<T> && !std::is_same_v<T, bool>;
    if constexpr (ok) binary_loop<T, T>(it, f);
    else NORCH_ERROR('"', binary_op_name(op), "\" not implemented for '", dtype_name(it.common_dtype()), "'");
  } else if constexpr (std::is_same_v<T, bool> && kind != BinaryKind::ArithBool) {
    NORCH_ERROR(binary_op_name(op), ": not supported for bool tensors");
  } else if constexpr (computes_in_float(kind) && !is_floating_type_v<T>) {
    NORCH_ERROR(binary_op_name(op), ": not implemented for dtype ", dtype_name(it.common_dtype()));
  } else {
    binary_loop<T, T>(it, in_opmath<T>(f));
  }
}

// Maps the op to its functor; the table generates one case per op.
template <typename T>
void binary_typed(TensorIterator& it, BinaryOp op) {
  switch (op) {
#define NORCH_BINARY_CASE(E, name, kind, inplace) \
  case BinaryOp::E: return run_functor<BinaryKind::kind, T>(it, op, functors::E{});
    NORCH_BINARY_OPS(NORCH_BINARY_CASE)
#undef NORCH_BINARY_CASE
  }
}

void binary_kernel(TensorIterator& it, BinaryOp op) {
  NORCH_DISPATCH_ALL_TYPES_AND_HALF(it.common_dtype(), binary_op_name(op), [&] { binary_typed<scalar_t>(it, op); });
}

}  // namespace
NORCH_REGISTER_KERNEL(binary_stub, CPU, binary_kernel);
}  // namespace norch::cpu

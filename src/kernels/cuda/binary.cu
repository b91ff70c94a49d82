// CUDA binary elementwise kernels: each op maps to the functor the CPU kernel
// runs (kernels/binary.h) and the loop of loops.cuh; the op's kind decides
// which dtypes reach it, with the CPU kernel's errors. Arithmetic lives here,
// comparisons, logical, bitwise and shift ops in binary_compare.cu. Half-type
// elements reach the functor as float (in_opmath) and round once, as on the CPU.
#include <type_traits>

#include "kernels/cuda/elementwise_ops.cuh"
#include "kernels/cuda/loops.cuh"

namespace norch::cuda_kernels {

namespace {

constexpr bool is_arith_kind(BinaryKind kind) {
  return kind == BinaryKind::Arith || kind == BinaryKind::ArithBool || computes_in_float(kind);
}

template <BinaryKind kind, typename T, typename F>
void run_arith(TensorIterator& it, BinaryOp op, F f) {
  if constexpr (std::is_same_v<T, bool> && kind != BinaryKind::ArithBool) {
    NORCH_ERROR(binary_op_name(op), ": not supported for bool tensors");
  } else if constexpr (computes_in_float(kind) && !is_floating_type_v<T>) {
    NORCH_ERROR(binary_op_name(op), ": not implemented for dtype ", dtype_name(it.common_dtype()));
  } else {
    launch_elementwise<T, T, T>(it, in_opmath<T>(f), binary_op_name(op));
  }
}

template <typename T>
void binary_typed(TensorIterator& it, BinaryOp op) {
  switch (op) {
#define NORCH_BINARY_CASE(E, name, kind, inplace)                                               \
  case BinaryOp::E:                                                                           \
    if constexpr (is_arith_kind(BinaryKind::kind)) return run_arith<BinaryKind::kind, T>(it, op, functors::E{}); \
    break;
    NORCH_BINARY_OPS(NORCH_BINARY_CASE)
#undef NORCH_BINARY_CASE
  }
}

void binary_cuda(TensorIterator& it, BinaryOp op) {
  if (!is_arith_kind(binary_op_kind(op))) return binary_compare_cuda(it, op);
  NORCH_CUDA_DISPATCH_ALL_TYPES(it.common_dtype(), binary_op_name(op), [&] { binary_typed<scalar_t>(it, op); });
}

}  // namespace

NORCH_REGISTER_KERNEL(binary_stub, CUDA, binary_cuda);

}  // namespace norch::cuda_kernels

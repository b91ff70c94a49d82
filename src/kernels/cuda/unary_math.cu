// CUDA kernels of the FloatMath unary ops (exp, log, sin, ...): the floating
// dtypes only, since the op promotes integer inputs before the kernel runs; the
// half types compute in float and round once (in_opmath).
#include <type_traits>

#include "kernels/cuda/elementwise_ops.cuh"
#include "kernels/cuda/loops.cuh"

namespace norch::cuda_kernels {
namespace {

template <typename T>
void unary_math_typed(TensorIterator& it, UnaryOp op) {
  if constexpr (!is_floating_type_v<T>) {
    NORCH_ERROR(unary_op_name(op), ": not implemented for dtype ", dtype_name(it.common_dtype()));
  } else {
    switch (op) {
#define NORCH_UNARY_CASE(E, name, kind, inplace)                                 \
  case UnaryOp::E:                                                             \
    if constexpr (computes_in_float(UnaryKind::kind))                          \
      return launch_elementwise<T, T>(it, in_opmath<T>(functors::E{}), #name); \
    break;
      NORCH_UNARY_OPS(NORCH_UNARY_CASE)
#undef NORCH_UNARY_CASE
    }
  }
}

}  // namespace

void unary_math_cuda(TensorIterator& it, UnaryOp op) {
  NORCH_CUDA_DISPATCH_ALL_TYPES(it.common_dtype(), unary_op_name(op), [&] { unary_math_typed<scalar_t>(it, op); });
}

}  // namespace norch::cuda_kernels

// CUDA kernels of the Compare (bool out), Bitwise and Shift binary ops, through
// the functors of kernels/binary.h; the arithmetic ops are in binary.cu. The half
// types compare as float; bitwise and shift ops refuse them, as on the CPU.
#include <type_traits>

#include "kernels/cuda/elementwise_ops.cuh"
#include "kernels/cuda/loops.cuh"

namespace norch::cuda_kernels {
namespace {

template <BinaryKind kind, typename T, typename F>
void run_compare(TensorIterator& it, BinaryOp op, F f) {
  if constexpr (kind == BinaryKind::Compare) {
    launch_elementwise<bool, T, T>(it, in_opmath<T>(f), binary_op_name(op));
  } else {
    constexpr bool ok = kind == BinaryKind::Bitwise ? std::is_integral_v<T>
                                                    : std::is_integral_v<T> && !std::is_same_v<T, bool>;
    if constexpr (ok) launch_elementwise<T, T, T>(it, f, binary_op_name(op));
    else NORCH_ERROR('"', binary_op_name(op), "\" not implemented for '", dtype_name(it.common_dtype()), "'");
  }
}

template <typename T>
void binary_compare_typed(TensorIterator& it, BinaryOp op) {
  switch (op) {
#define NORCH_BINARY_CASE(E, name, kind, inplace)                                                 \
  case BinaryOp::E:                                                                             \
    if constexpr (BinaryKind::kind == BinaryKind::Compare || BinaryKind::kind == BinaryKind::Bitwise || \
                  BinaryKind::kind == BinaryKind::Shift)                                        \
      return run_compare<BinaryKind::kind, T>(it, op, functors::E{});                           \
    break;
    NORCH_BINARY_OPS(NORCH_BINARY_CASE)
#undef NORCH_BINARY_CASE
  }
}

}  // namespace

void binary_compare_cuda(TensorIterator& it, BinaryOp op) {
  NORCH_CUDA_DISPATCH_ALL_TYPES(it.common_dtype(), binary_op_name(op),
                                [&] { binary_compare_typed<scalar_t>(it, op); });
}

}  // namespace norch::cuda_kernels

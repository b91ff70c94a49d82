// Kernel signatures for binary elementwise ops (private to the core).
#pragma once
#include "norch/dispatch.h"
#include "norch/tensor/iterator.h"

namespace norch {

enum class BinaryOp {
  Add, Sub, Mul, Div, FloorDiv, TruncDiv, Remainder, Fmod, Pow, Maximum, Minimum, Atan2,
  Eq, Ne, Lt, Le, Gt, Ge,                  // write bool
  LogicalAnd, LogicalOr, LogicalXor,       // write bool
  BitAnd, BitOr, BitXor, LeftShift, RightShift,  // integers and bool
};
const char* binary_op_name(BinaryOp op);

// Operand 0 = op(operand 1, operand 2); inputs in the iterator's common dtype.
using BinaryKernel = void (*)(TensorIterator& iter, BinaryOp op);
extern DispatchStub<BinaryKernel> binary_stub;

}  // namespace norch

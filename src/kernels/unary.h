// Kernel signatures for unary elementwise ops (private to the core).
#pragma once
#include "norch/dispatch.h"
#include "norch/tensor/iterator.h"

namespace norch {

enum class UnaryOp {
  Neg, Abs, Sign, Floor, Ceil, Round, Trunc, Frac, Square, Relu,   // keep integer dtypes
  Exp, Exp2, Log, Log2, Log10, Log1p, Expm1, Sqrt, Rsqrt,          // float math
  Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh, Tanh, Sigmoid, Erf, Reciprocal,
  LogicalNot, IsNan, IsInf, IsFinite,                              // write bool
  BitNot,
};
const char* unary_op_name(UnaryOp op);

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

}  // namespace norch

// Entry points the split elementwise .cu files hand each other (one file per
// family keeps nvcc's work per file small enough for ccache and -j2).
#pragma once
#include "kernels/binary.h"
#include "kernels/unary.h"

namespace norch::cuda_kernels {

// The FloatMath unary ops (exp, log, sin, ...), compiled in unary_math.cu.
void unary_math_cuda(TensorIterator& it, UnaryOp op);
// The Compare, Bitwise and Shift binary ops, compiled in binary_compare.cu.
void binary_compare_cuda(TensorIterator& it, BinaryOp op);

}  // namespace norch::cuda_kernels

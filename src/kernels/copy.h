// Kernel signatures for copies (private to the core).
#pragma once
#include "norch/dispatch.h"
#include "norch/tensor/iterator.h"

namespace norch {

// Operand 0 (output, any dtype) = cast(operand 1) elementwise.
using CopyKernel = void (*)(TensorIterator& iter);
extern DispatchStub<CopyKernel> copy_stub;

}  // namespace norch

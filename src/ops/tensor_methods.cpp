// The Tensor:: methods that are ops (contiguous, clone, to, view, sum, ...): each
// forwards to its free function. They live here, not in src/tensor/, because the
// tensor layer sits below ops and may not call them (PyTorch keeps its TensorBody
// methods beside the ops for the same reason).
#include "norch/ops/copy.h"
#include "norch/ops/reduce.h"
#include "norch/ops/shape.h"

namespace norch {

Tensor Tensor::contiguous() const { return norch::contiguous(*this); }
Tensor Tensor::clone() const { return norch::clone(*this); }
Tensor Tensor::detach() const { return norch::detach(*this); }
Tensor Tensor::to(ScalarType t) const { return norch::to_dtype(*this, t); }
Tensor Tensor::to(Device d) const { return norch::to_device(*this, d); }
Tensor Tensor::view(const Shape& shape) const { return norch::view(*this, shape); }
Tensor Tensor::reshape(const Shape& shape) const { return norch::reshape(*this, shape); }
Tensor Tensor::sum() const { return norch::sum(*this); }

}  // namespace norch

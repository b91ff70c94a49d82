// Tensor.detach_(): the in-place form of detach, an edit of autograd metadata.
#include "norch/autograd/detach.h"

namespace norch::autograd {

Tensor& detach_(Tensor& t) {
  auto& m = t.impl()->autograd();
  NORCH_CHECK(!t.impl()->is_view || !m.grad_fn, "Can't detach views in-place. Use detach() instead.");
  m.grad_fn = nullptr;
  m.requires_grad = false;
  m.output_nr = 0;
  return t;
}

}  // namespace norch::autograd

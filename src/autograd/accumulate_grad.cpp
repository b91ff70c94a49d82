// AccumulateGrad: where gradients end, summed into a leaf's .grad. Engine
// machinery (as in PyTorch, beside the engine): it calls add and clone.
#include "norch/autograd/accumulate_grad.h"

#include "norch/autograd/engine.h"
#include "norch/autograd/grad_mode.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"

namespace norch::autograd {

std::shared_ptr<Node> make_accumulate_grad(const Tensor& leaf) { return std::make_shared<AccumulateGrad>(leaf); }

TensorList AccumulateGrad::apply(TensorList&& grads) {
  Tensor g = std::move(grads[0]);
  grads.clear();
  if (!g.defined()) return {};
  auto& m = variable.impl()->autograd();
  for (auto& hook : m.leaf_hooks) g = run_tensor_hook(hook, g);
  if (!m.grad.defined()) {
    // Take the incoming buffer when nobody else can see it; otherwise copy, so
    // that an in-place optimizer step never writes through an alias.
    bool exclusive = g.impl_ptr().use_count() == 1 && g.impl()->storage.use_count() == 1 && g.is_contiguous() &&
                     !g.impl()->is_view;
    if (GradMode::is_enabled()) m.grad = g;          // create_graph: keep its history
    else m.grad = exclusive ? g : clone(g);
  } else if (GradMode::is_enabled()) {
    m.grad = add(m.grad, g);
  } else {
    add_(m.grad, g);
  }
  return {};
}

}  // namespace norch::autograd

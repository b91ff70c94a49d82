// Autograd metadata on tensors: requires_grad, .grad, grad_fn, leaf accumulators, hooks.
#include "norch/autograd/node.h"

#include <atomic>

namespace norch {

using autograd::AutogradMeta;

// TensorImpl's constructor, destructor and autograd() live here, not in
// src/tensor/: they need AutogradMeta complete, and the tensor layer only
// forward-declares it (norch/tensor/tensor_impl.h).
TensorImpl::TensorImpl() = default;
TensorImpl::~TensorImpl() = default;

autograd::AutogradMeta& TensorImpl::autograd() {
  if (!autograd_meta) autograd_meta = std::make_unique<autograd::AutogradMeta>();
  return *autograd_meta;
}

bool Tensor::requires_grad() const {
  auto* m = impl_->autograd_meta.get();
  return m && (m->requires_grad || m->grad_fn);
}

Tensor& Tensor::set_requires_grad(bool r) {
  if (r) {
    NORCH_CHECK(is_floating_point(), "only Tensors of floating point dtype can require gradients (got ",
                dtype_name(dtype()), ")");
  }
  auto& m = impl_->autograd();
  if (!r && m.grad_fn)
    NORCH_ERROR("you can only change requires_grad flags of leaf variables. If you want to use a computed variable "
                "in a subgraph that doesn't require differentiation use var_no_grad = var.detach().");
  m.requires_grad = r;
  return *this;
}

bool Tensor::is_leaf() const {
  auto* m = impl_->autograd_meta.get();
  return !m || !m->grad_fn;
}

Tensor Tensor::grad() const {
  auto* m = impl_->autograd_meta.get();
  return m ? m->grad : Tensor();
}

void Tensor::set_grad(const Tensor& g) const {
  if (g.defined()) {
    NORCH_CHECK(g.sizes() == sizes(), "assigned grad has data of a different size: grad ", g.sizes(),
                " but tensor ", sizes());
    NORCH_CHECK(g.dtype() == dtype(), "assigned grad has data of a different type: grad ", dtype_name(g.dtype()),
                " but tensor ", dtype_name(dtype()));
    NORCH_CHECK(g.device() == device(), "assigned grad has data located on a different device: grad ",
                g.device().str(), " but tensor ", device().str());
  }
  impl_->autograd().grad = g;
}

std::shared_ptr<autograd::Node> Tensor::grad_fn() const {
  auto* m = impl_->autograd_meta.get();
  return m ? m->grad_fn : nullptr;
}

uint32_t Tensor::output_nr() const {
  auto* m = impl_->autograd_meta.get();
  return m ? m->output_nr : 0;
}

bool Tensor::retains_grad() const {
  auto* m = impl_->autograd_meta.get();
  return m && m->retains_grad;
}

namespace autograd {

uint64_t next_sequence_nr() {
  static std::atomic<uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

std::shared_ptr<Node> grad_accumulator(const Tensor& t) {
  auto& m = t.impl()->autograd();
  NORCH_CHECK(!m.grad_fn, "grad_accumulator: only leaf tensors have one");
  if (!m.requires_grad) return nullptr;
  auto acc = m.grad_accumulator.lock();
  if (!acc) {
    acc = make_accumulate_grad(t);
    m.grad_accumulator = acc;
  }
  return acc;
}

Edge gradient_edge(const Tensor& t) {
  auto* m = t.impl()->autograd_meta.get();
  if (!m) return Edge{};
  if (m->grad_fn) return Edge{m->grad_fn, m->output_nr};
  if (m->requires_grad) return Edge{grad_accumulator(t), 0};
  return Edge{};
}

void register_tensor_hook(const Tensor& t, TensorHook hook) {
  NORCH_CHECK(t.requires_grad(), "cannot register a hook on a tensor that doesn't require gradient");
  auto& m = t.impl()->autograd();
  if (m.grad_fn) m.grad_fn->tensor_pre_hooks.emplace_back(m.output_nr, std::move(hook));
  else m.leaf_hooks.push_back(std::move(hook));
}

void retain_grad(const Tensor& t) {
  NORCH_CHECK(t.requires_grad(), "can't retain_grad on Tensor that has requires_grad=False");
  auto& m = t.impl()->autograd();
  if (!m.grad_fn || m.retains_grad) return;  // leaves keep .grad anyway
  m.retains_grad = true;
  m.grad_fn->retain_grad_targets.emplace_back(m.output_nr, t.impl_ptr());
}

}  // namespace autograd
}  // namespace norch

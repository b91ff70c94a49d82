// Hook registration by handle: the index bookkeeping behind RemovableHandle.
#include "norch/autograd/hooks.h"

namespace norch::autograd {

HookHandle add_tensor_hook(const Tensor& t, TensorHook hook) {
  register_tensor_hook(t, std::move(hook));
  auto& m = t.impl()->autograd();
  HookHandle h;
  if (m.grad_fn) {
    h.kind = HookHandle::Kind::TensorPre;
    h.node = m.grad_fn;
    h.index = m.grad_fn->tensor_pre_hooks.size() - 1;
  } else {
    h.kind = HookHandle::Kind::Leaf;
    h.leaf = t.impl_ptr();
    h.index = m.leaf_hooks.size() - 1;
  }
  return h;
}

HookHandle add_pre_hook(Node& node, NodePreHook hook) {
  node.pre_hooks.push_back(std::move(hook));
  HookHandle h;
  h.kind = HookHandle::Kind::NodePre;
  h.node = node.shared_from_this();
  h.index = node.pre_hooks.size() - 1;
  return h;
}

HookHandle add_post_hook(Node& node, NodePostHook hook) {
  node.post_hooks.push_back(std::move(hook));
  HookHandle h;
  h.kind = HookHandle::Kind::NodePost;
  h.node = node.shared_from_this();
  h.index = node.post_hooks.size() - 1;
  return h;
}

void remove_hook(HookHandle& h) {
  const auto keep = [](const Tensor&) { return Tensor(); };
  switch (h.kind) {
    case HookHandle::Kind::None: break;
    case HookHandle::Kind::TensorPre:
      if (auto n = h.node.lock()) n->tensor_pre_hooks[h.index].second = keep;
      break;
    case HookHandle::Kind::Leaf:
      if (auto impl = h.leaf.lock()) impl->autograd().leaf_hooks[h.index] = keep;
      break;
    case HookHandle::Kind::NodePre:
      if (auto n = h.node.lock()) n->pre_hooks[h.index] = [](const TensorList&) { return TensorList(); };
      break;
    case HookHandle::Kind::NodePost:
      if (auto n = h.node.lock())
        n->post_hooks[h.index] = [](const TensorList&, const TensorList&) { return TensorList(); };
      break;
  }
  h = HookHandle();
}

}  // namespace norch::autograd

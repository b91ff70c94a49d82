// norch/autograd/hooks.h — registering and removing backward hooks by handle
// (what PyTorch's RemovableHandle.remove() does). Knows nothing of Python.
#pragma once
#include <cstddef>
#include <memory>

#include "norch/autograd/node.h"

namespace norch::autograd {

// Identifies one registered hook. Removal replaces the hook by a no-op, so the
// positions of the other hooks (and of hooks registered later) stay valid.
// The node or tensor is held weakly: a handle never keeps a graph alive, and
// removing a hook whose owner is gone does nothing.
struct HookHandle {
  enum class Kind { None, TensorPre, Leaf, NodePre, NodePost };
  Kind kind = Kind::None;
  std::weak_ptr<Node> node;         // TensorPre, NodePre, NodePost
  std::weak_ptr<TensorImpl> leaf;   // Leaf
  size_t index = 0;
};

// Tensor.register_hook: on the tensor's grad_fn output, or before accumulation for a leaf.
HookHandle add_tensor_hook(const Tensor& t, TensorHook hook);
// Node.register_prehook / Node.register_hook.
HookHandle add_pre_hook(Node& node, NodePreHook hook);
HookHandle add_post_hook(Node& node, NodePostHook hook);
// Unregisters the hook; a second call, or a call on an empty handle, does nothing.
void remove_hook(HookHandle& handle);

}  // namespace norch::autograd

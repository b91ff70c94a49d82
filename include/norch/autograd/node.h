// norch/autograd/node.h — the backward graph: Node, Edge, hooks, AutogradMeta.
// Sits below ops/ (every op records a Node); knows nothing of Python.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "norch/tensor/tensor.h"

namespace norch::autograd {

struct Node;

// Where a gradient goes: input `input_nr` of `function`.
struct Edge {
  std::shared_ptr<Node> function;
  uint32_t input_nr = 0;
  bool is_valid() const { return function != nullptr; }
};

// Shape, dtype and device a gradient flowing to one forward input must have;
// the engine reduces broadcast gradients to it (Note [Engine checks at the edges]).
struct InputMeta {
  Shape shape;
  ScalarType dtype = ScalarType::Float32;
  Device device;
};

// Returns a replacement gradient, or an undefined Tensor to keep the one given.
using TensorHook = std::function<Tensor(const Tensor&)>;
// Node.register_prehook: sees grad_outputs, may return replacements (empty: keep).
using NodePreHook = std::function<TensorList(const TensorList& grad_outputs)>;
// Node.register_hook: sees grad_inputs and grad_outputs, may replace grad_inputs.
using NodePostHook = std::function<TensorList(const TensorList& grad_inputs, const TensorList& grad_outputs)>;

uint64_t next_sequence_nr();

struct Node : std::enable_shared_from_this<Node> {
  Node() : sequence_nr(next_sequence_nr()) {}
  virtual ~Node() = default;

  // grads: one per forward output (undefined where no gradient flowed).
  // Returns one gradient per forward input (undefined where none is needed).
  virtual TensorList apply(TensorList&& grads) = 0;
  virtual std::string name() const = 0;
  // Frees saved tensors once backward has used them (unless retain_graph).
  virtual void release_variables() {}

  std::vector<Edge> next_edges;       // one per forward input
  std::vector<InputMeta> input_meta;  // one per forward input
  uint32_t num_outputs = 1;           // forward outputs = gradients this node receives
  uint64_t sequence_nr;               // later nodes run first, as in PyTorch
  std::vector<std::pair<uint32_t, TensorHook>> tensor_pre_hooks;  // Tensor.register_hook on output i
  std::vector<std::pair<uint32_t, std::weak_ptr<TensorImpl>>> retain_grad_targets;  // retain_grad()
  std::vector<NodePreHook> pre_hooks;
  std::vector<NodePostHook> post_hooks;
  std::string creation_trace;  // filled under detect_anomaly

  bool needs_input_grad(size_t i) const { return i < next_edges.size() && next_edges[i].is_valid(); }
};

// Autograd state of a tensor, created lazily (most tensors never need it).
struct AutogradMeta {
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;  // null for leaves
  uint32_t output_nr = 0;
  std::weak_ptr<Node> grad_accumulator;  // leaves: their AccumulateGrad, kept alive by graphs
  std::vector<TensorHook> leaf_hooks;    // run before accumulation into .grad
  bool retains_grad = false;
  // Set on views recorded with history: the tensor they view (the root base)
  // and how to re-take the view from it. See Note [In-place on views].
  Tensor view_base;
  std::function<Tensor(const Tensor&)> view_fn;
};

// The edge a gradient for `t` travels along: its grad_fn, or its leaf accumulator
// (created on demand), or an invalid edge when `t` does not require grad.
Edge gradient_edge(const Tensor& t);
std::shared_ptr<Node> grad_accumulator(const Tensor& t);
// A fresh AccumulateGrad node for leaf `t`. Defined beside the engine
// (src/autograd/accumulate_grad.cpp): summing into .grad takes add(), an op,
// which this layer, below ops, may not call; so it is named here, not included.
std::shared_ptr<Node> make_accumulate_grad(const Tensor& leaf);
// Tensor.register_hook / retain_grad.
void register_tensor_hook(const Tensor& t, TensorHook hook);
void retain_grad(const Tensor& t);

}  // namespace norch::autograd

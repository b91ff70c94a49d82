// FunctionNode and record(): how every op of the core joins the graph.
#include "norch/autograd/function.h"

#include "norch/ops/copy.h"
#include "norch/ops/creation.h"

namespace norch::autograd {

Tensor BackwardContext::saved(size_t i) const {
  NORCH_CHECK(i < node.saved.size(), node.name(), ": saved tensor ", i, " does not exist");
  return node.saved[i].unpack(node.shared_from_this());
}
bool BackwardContext::needs_input_grad(size_t i) const { return node.needs_input_grad(i); }
const InputMeta& BackwardContext::input(size_t i) const { return node.input_meta.at(i); }

TensorList FunctionNode::apply(TensorList&& grads) {
  if (materialize_grads) {
    // Multi-output nodes may receive a gradient for only some outputs.
    for (size_t i = 0; i < grads.size(); ++i) {
      if (grads[i].defined() || i >= output_meta.size()) continue;
      const auto& om = output_meta[i];
      grads[i] = zeros(om.shape, TensorOptions(om.dtype, om.device));
    }
  }
  BackwardContext ctx{*this};
  return formula_(ctx, grads);
}

void FunctionNode::release_variables() {
  for (auto& s : saved) s.reset();
}

bool needs_grad(const Tensor& a) { return GradMode::is_enabled() && a.defined() && a.requires_grad(); }
bool needs_grad(const Tensor& a, const Tensor& b) {
  return GradMode::is_enabled() && ((a.defined() && a.requires_grad()) || (b.defined() && b.requires_grad()));
}
bool needs_grad(const TensorList& ts) {
  if (!GradMode::is_enabled()) return false;
  for (const auto& t : ts)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void set_history(const std::shared_ptr<Node>& node, const TensorList& inputs, const TensorList& outputs) {
  node->next_edges.clear();
  node->input_meta.clear();
  for (const auto& in : inputs) {
    if (in.defined()) {
      node->next_edges.push_back(in.requires_grad() ? gradient_edge(in) : Edge{});
      node->input_meta.push_back(InputMeta{in.sizes(), in.dtype(), in.device()});
    } else {
      node->next_edges.push_back(Edge{});
      node->input_meta.push_back(InputMeta{});
    }
  }
  node->num_outputs = static_cast<uint32_t>(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    if (!out.defined() || !out.is_floating_point()) continue;
    auto& m = out.impl()->autograd();
    m.grad_fn = node;
    m.output_nr = static_cast<uint32_t>(i);
    m.requires_grad = false;  // implied by grad_fn
  }
  if (AnomalyMode::is_enabled()) node->creation_trace = AnomalyMode::current_trace();
}

std::shared_ptr<FunctionNode> record(const char* name, const TensorList& inputs, const TensorList& outputs,
                                     const TensorList& to_save, BackwardFormula formula) {
  auto node = std::make_shared<FunctionNode>(name, std::move(formula));
  for (const auto& out : outputs)
    node->output_meta.push_back(out.defined() ? InputMeta{out.sizes(), out.dtype(), out.device()} : InputMeta{});
  // Outputs get their grad_fn in set_history; save afterwards so output_nr is known.
  node->saved.resize(to_save.size());
  set_history(node, inputs, outputs);
  for (size_t i = 0; i < to_save.size(); ++i) {
    const Tensor& t = to_save[i];
    bool is_output = false;
    for (const auto& out : outputs) is_output = is_output || (t.defined() && t.is_same(out));
    node->saved[i] = SavedVariable(t, is_output);
  }
  return node;
}

void check_inplace(const Tensor& self, const char* op_name) {
  if (!GradMode::is_enabled()) return;
  NORCH_CHECK(!(self.is_leaf() && self.requires_grad()),
              "a leaf Variable that requires grad is being used in an in-place operation (", op_name, ").");
}

void rebase_history(const Tensor& self, const Tensor& result) {
  auto fn = result.grad_fn();
  if (!fn) return;
  auto& m = self.impl()->autograd();
  m.grad_fn = fn;
  m.output_nr = result.output_nr();
  m.requires_grad = false;
  // Saved copies of `result` (outputs) now live in `self`'s storage, which the
  // caller is about to bump: nothing to fix, the formula saved clones where needed.
}

}  // namespace norch::autograd

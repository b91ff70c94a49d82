// FunctionNode and record(): how every op of the core joins the graph.
// The graph records sit below ops and call none: undefined gradients are made
// zeros by the engine (materialize_grads in engine.cpp), and the history of an
// in-place write into a view (CopySlices) is built in src/ops/inplace_history.cpp.
#include "norch/autograd/function.h"

namespace norch::autograd {

Tensor BackwardContext::saved(size_t i) const {
  NORCH_CHECK(i < node.saved.size(), node.name(), ": saved tensor ", i, " does not exist");
  return node.saved[i].unpack(node.shared_from_this());
}
bool BackwardContext::needs_input_grad(size_t i) const { return node.needs_input_grad(i); }
const InputMeta& BackwardContext::input(size_t i) const { return node.input_meta.at(i); }

TensorList FunctionNode::apply(TensorList&& grads) {
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

void set_view_info(const Tensor& view, const Tensor& input, std::function<Tensor(const Tensor&)> replay) {
  auto& m = view.impl()->autograd();
  auto* im = input.impl()->autograd_meta.get();
  if (im && im->view_base.defined()) {
    m.view_base = im->view_base;
    m.view_fn = [outer = im->view_fn, replay = std::move(replay)](const Tensor& t) { return replay(outer(t)); };
  } else {
    m.view_base = input;
    m.view_fn = std::move(replay);
  }
}

void check_inplace(const Tensor& self, const char* op_name) {
  if (!GradMode::is_enabled()) return;
  NORCH_CHECK(!(self.is_leaf() && self.requires_grad()),
              "a leaf Variable that requires grad is being used in an in-place operation (", op_name, ").");
  auto* m = self.impl()->autograd_meta.get();
  if (m && m->view_base.defined()) {
    const Tensor& base = m->view_base;
    NORCH_CHECK(!(base.is_leaf() && base.requires_grad()),
                "a view of a leaf Variable that requires grad is being used in an in-place operation (", op_name,
                ").");
  }
}

}  // namespace norch::autograd

// FunctionNode and record(): how every op of the core joins the graph.
#include "norch/autograd/function.h"

#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"

namespace norch::autograd {

Tensor BackwardContext::saved(size_t i) const {
  NORCH_CHECK(i < node.saved.size(), node.name(), ": saved tensor ", i, " does not exist");
  return node.saved[i].unpack(node.shared_from_this());
}
bool BackwardContext::needs_input_grad(size_t i) const { return node.needs_input_grad(i); }
const InputMeta& BackwardContext::input(size_t i) const { return node.input_meta.at(i); }

void materialize_grads(TensorList& grads, const std::vector<InputMeta>& output_meta,
                       const std::vector<bool>& is_tensor) {
  // Multi-output nodes may receive a gradient for only some outputs.
  for (size_t i = 0; i < grads.size() && i < output_meta.size(); ++i) {
    if (grads[i].defined() || (i < is_tensor.size() && !is_tensor[i])) continue;
    const auto& om = output_meta[i];
    grads[i] = zeros(om.shape, TensorOptions(om.dtype, om.device));
  }
}

TensorList FunctionNode::apply(TensorList&& grads) {
  if (materialize_grads) autograd::materialize_grads(grads, output_meta);
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

// Note [In-place on views]: writing in place into a view also changes the
// tensor it views, so the base's history must change too (PyTorch's
// CopySlices). The base gets a node whose gradient passes through everywhere
// except the view's region (masked out), where it flows to the in-place
// result instead; the view's own history is then re-taken from the new base.
// Views are only tracked when they were recorded with history.
void rebase_history(const Tensor& self, const Tensor& result) {
  auto fn = result.grad_fn();
  if (!fn) return;
  auto& m = self.impl()->autograd();
  if (m.view_base.defined() && GradMode::is_enabled()) {
    Tensor base = m.view_base;
    auto view_fn = m.view_fn;
    Tensor mask;
    {
      NoGradGuard no_grad;
      TensorOptions opts(base.dtype(), base.device());
      mask = ones(base.sizes(), opts);
      copy_data(view_fn(mask), zeros({}, opts));
    }
    Tensor new_base = alias(base);
    record("CopySlices", {base, result}, {new_base}, {mask},
           [view_fn](BackwardContext& ctx, const TensorList& g) -> TensorList {
             return {ctx.needs_input_grad(0) ? mul(g[0], ctx.saved(0)) : Tensor(),
                     ctx.needs_input_grad(1) ? view_fn(g[0]) : Tensor()};
           });
    auto& bm = base.impl()->autograd();
    bm.grad_fn = new_base.grad_fn();
    bm.output_nr = 0;
    bm.requires_grad = false;
    Tensor retaken = view_fn(base);
    m.grad_fn = retaken.grad_fn();
    m.output_nr = retaken.output_nr();
    m.requires_grad = false;
    return;
  }
  m.grad_fn = fn;
  m.output_nr = result.output_nr();
  m.requires_grad = false;
}

}  // namespace norch::autograd

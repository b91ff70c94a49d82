// The engine: runs the backward graph in dependency order.
//
// Note [Engine checks at the edges]: every gradient a node returns is checked
// here against the forward input it belongs to: a broadcast gradient is summed
// back to the input's shape (sum_to), a different dtype is cast, a different
// device is an error. No backward formula repeats that work.
#include "norch/autograd/engine.h"
#include "norch/debug.h"

#include <iostream>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "norch/autograd/accumulate_grad.h"
#include "norch/autograd/function.h"
#include "norch/autograd/grad_mode.h"
#include "norch/ops/autocast.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/reduce.h"
#include "norch/tensor/iterator.h"

namespace norch::autograd {

Tensor run_tensor_hook(const TensorHook& hook, const Tensor& g) {
  Tensor r = hook(g);
  if (!r.defined()) return g;
  NORCH_CHECK(r.sizes() == g.sizes(), "hook has changed the size of value (was ", g.sizes(), " got ", r.sizes(), ")");
  NORCH_CHECK(r.dtype() == g.dtype() && r.device() == g.device(), "hook has changed the type of value (was ",
              dtype_name(g.dtype()), " on ", g.device().str(), " got ", dtype_name(r.dtype()), " on ",
              r.device().str(), ")");
  return r;
}

void materialize_grads(TensorList& grads, const std::vector<InputMeta>& output_meta,
                       const std::vector<bool>& is_tensor) {
  for (size_t i = 0; i < grads.size() && i < output_meta.size(); ++i) {
    if (grads[i].defined() || (i < is_tensor.size() && !is_tensor[i])) continue;
    const auto& om = output_meta[i];
    grads[i] = zeros(om.shape, TensorOptions(om.dtype, om.device));
  }
}


namespace {

struct GraphRoot : Node {
  explicit GraphRoot(TensorList g) : grads(std::move(g)) { num_outputs = 0; sequence_nr = UINT64_MAX; }
  TensorList apply(TensorList&&) override { return grads; }
  std::string name() const override { return "GraphRoot"; }
  TensorList grads;
};

bool has_nan(const Tensor& t) {
  if (!t.is_floating_point()) return false;
  Tensor c = contiguous(to_device(t, Device()));
  if (is_reduced_float(c.dtype())) c = c.to(ScalarType::Float32);  // exact, and NaN stays NaN
  const int64_t n = c.numel();
  if (c.dtype() == ScalarType::Float32) {
    const float* p = c.data<float>();
    for (int64_t i = 0; i < n; ++i) if (p[i] != p[i]) return true;
  } else {
    const double* p = c.data<double>();
    for (int64_t i = 0; i < n; ++i) if (p[i] != p[i]) return true;
  }
  return false;
}

Tensor validate_grad(const Node& node, size_t i, Tensor g) {
  const InputMeta& meta = node.input_meta[i];
  if (g.sizes() != meta.shape) {
    Shape b;
    bool ok = true;
    try {
      b = broadcast_shapes(meta.shape, g.sizes());
    } catch (const Error&) {
      ok = false;
    }
    NORCH_CHECK(ok && b == g.sizes(), "Function ", node.name(), " returned an invalid gradient at index ", i,
                " - got ", g.sizes(), " but expected shape compatible with ", meta.shape);
    g = sum_to(g, meta.shape);
  }
  NORCH_CHECK(g.device() == meta.device, "Function ", node.name(), " returned an invalid gradient at index ", i,
              " - expected device ", meta.device.str(), " but got ", g.device().str());
  if (g.dtype() != meta.dtype) g = to_dtype(g, meta.dtype);
  return g;
}

void accumulate_into(TensorList& buffer, uint32_t pos, const Tensor& g) {
  if (!buffer[pos].defined()) buffer[pos] = g;
  else buffer[pos] = add(buffer[pos], g);
}

struct Capture {
  uint32_t input_nr;
  size_t index;
};

struct GraphTask {
  bool keep_graph = false;
  bool filter = false;  // only nodes in `needed` run
  std::unordered_map<Node*, int> dependencies;
  std::unordered_map<Node*, TensorList> buffers;
  std::unordered_map<Node*, std::vector<Capture>> captures;
  std::unordered_set<Node*> needed;
  TensorList captured;
};

void compute_dependencies(Node* root, GraphTask& task) {
  std::vector<Node*> stack{root};
  std::unordered_set<Node*> seen{root};
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const auto& e : n->next_edges) {
      if (!e.is_valid()) continue;
      Node* c = e.function.get();
      task.dependencies[c] += 1;
      if (seen.insert(c).second) stack.push_back(c);
    }
  }
}

// A node must run when some capture target lies strictly below it.
void compute_needed(Node* root, GraphTask& task, const std::unordered_set<Node*>& must_run) {
  std::unordered_map<Node*, bool> memo;
  // Iterative post-order DFS: deep graphs (long RNN unrolls) must not overflow the stack.
  struct Frame { Node* n; size_t next; bool any; };
  std::vector<Frame> stack{{root, 0, false}};
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next < f.n->next_edges.size()) {
      const Edge& e = f.n->next_edges[f.next++];
      if (!e.is_valid()) continue;
      Node* c = e.function.get();
      if (task.captures.count(c)) f.any = true;
      auto it = memo.find(c);
      if (it != memo.end()) {
        f.any = f.any || it->second;
      } else {
        stack.push_back({c, 0, false});
      }
      continue;
    }
    bool result = f.any || must_run.count(f.n) > 0;
    memo[f.n] = result;
    if (result) task.needed.insert(f.n);
    stack.pop_back();
    if (!stack.empty()) stack.back().any = stack.back().any || result;
  }
}

void run_hooks_before(Node& node, TensorList& grads, bool create_graph) {
  for (auto& [idx, hook] : node.tensor_pre_hooks) {
    if (idx < grads.size() && grads[idx].defined()) grads[idx] = run_tensor_hook(hook, grads[idx]);
  }
  for (auto& [idx, weak] : node.retain_grad_targets) {
    auto impl = weak.lock();
    if (!impl || idx >= grads.size() || !grads[idx].defined()) continue;
    auto& m = impl->autograd();
    if (!m.grad.defined()) m.grad = create_graph ? grads[idx] : clone(grads[idx]);
    else m.grad = add(m.grad, grads[idx]);
  }
  for (auto& hook : node.pre_hooks) {
    TensorList r = hook(grads);
    for (size_t i = 0; i < r.size() && i < grads.size(); ++i)
      if (r[i].defined()) grads[i] = r[i];
  }
}

// A FunctionNode's formula may assume every output gradient is defined
// (materialize_grads); multi-output nodes may receive a gradient for only some
// outputs. The zeros are made here, not in FunctionNode::apply, because making
// them is an op and the graph records sit below ops.
void materialize_grads(Node& node, TensorList& grads) {
  auto* fn = dynamic_cast<FunctionNode*>(&node);
  if (fn && fn->materialize_grads) autograd::materialize_grads(grads, fn->output_meta);
}

// Under detect_anomaly, an error raised inside a backward function names the
// node and carries the stack of the forward call that created it. A norch
// Error gets the trace appended; any other exception (a Python one raised by a
// custom Function) passes unchanged, with the trace printed to stderr first, as
// PyTorch's warning does.
TensorList apply_with_anomaly_trace(Node& node, TensorList&& grads) {
  try {
    return node.apply(std::move(grads));
  } catch (const Error& e) {
    if (node.creation_trace.empty()) throw;
    throw Error(e.kind(), std::string(e.what()) + "\n\nError detected in " + node.name() +
                              ". Traceback of forward call that caused the error:\n" + node.creation_trace);
  } catch (...) {
    if (!node.creation_trace.empty())
      std::cerr << "Error detected in " << node.name() << ". Traceback of forward call that caused the error:\n"
                << node.creation_trace;
    throw;
  }
}

void execute(const std::shared_ptr<Node>& root, GraphTask& task, bool create_graph) {
  AutoGradMode mode(create_graph);
  // Gradients take their forward values' dtypes: no autocast inside backward.
  autocast::ExcludeGuard no_autocast;
  auto cmp = [](Node* a, Node* b) { return a->sequence_nr < b->sequence_nr; };
  std::priority_queue<Node*, std::vector<Node*>, decltype(cmp)> ready(cmp);
  // Nodes are kept alive by the graph itself (edges own their targets) while
  // `root` lives; `alive` additionally pins nodes whose parents released them.
  std::vector<std::shared_ptr<Node>> alive;
  ready.push(root.get());
  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    TensorList grads;
    auto buf = task.buffers.find(node);
    if (buf != task.buffers.end()) {
      grads = std::move(buf->second);
      task.buffers.erase(buf);
    }
    grads.resize(node->num_outputs);
    run_hooks_before(*node, grads, create_graph);

    auto cap = task.captures.find(node);
    if (cap != task.captures.end()) {
      for (const auto& c : cap->second) {
        const Tensor& g = c.input_nr < grads.size() ? grads[c.input_nr] : Tensor();
        if (!g.defined()) continue;
        task.captured[c.index] = task.captured[c.index].defined() ? add(task.captured[c.index], g) : g;
      }
    }
    const bool run = node == root.get() || !task.filter || task.needed.count(node);
    if (!run) continue;

    bool any_grad = node == root.get();
    for (const auto& g : grads) any_grad = any_grad || g.defined();
    TensorList outputs;
    if (any_grad) {
      TensorList inputs_copy = node->post_hooks.empty() ? TensorList() : grads;
      if (debug_level() >= 2) debug_print("backward: %s", node->name().c_str());
      materialize_grads(*node, grads);
      outputs = AnomalyMode::is_enabled() ? apply_with_anomaly_trace(*node, std::move(grads))
                                          : node->apply(std::move(grads));
      if (!task.keep_graph) node->release_variables();
      if (outputs.empty() && !node->next_edges.empty()) outputs.resize(node->next_edges.size());
      NORCH_CHECK(outputs.size() == node->next_edges.size(), "function ", node->name(),
                  " returned an incorrect number of gradients (expected ", node->next_edges.size(), ", got ",
                  outputs.size(), ")");
      for (size_t i = 0; i < outputs.size(); ++i) {
        if (!outputs[i].defined() || !node->next_edges[i].is_valid()) continue;
        outputs[i] = validate_grad(*node, i, outputs[i]);
        if (AnomalyMode::is_enabled() && has_nan(outputs[i])) {
          NORCH_ERROR("Function '", node->name(), "' returned nan values in its ", i, "th output.",
                      node->creation_trace.empty() ? std::string()
                                                   : "\nThe forward call that created it:\n" + node->creation_trace);
        }
      }
      for (auto& hook : node->post_hooks) {
        TensorList r = hook(outputs, inputs_copy);
        for (size_t i = 0; i < r.size() && i < outputs.size(); ++i)
          if (r[i].defined()) outputs[i] = r[i];
      }
    } else {
      outputs.resize(node->next_edges.size());
    }

    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.is_valid()) continue;
      Node* child = e.function.get();
      if (outputs[i].defined()) {
        TensorList& b = task.buffers[child];
        if (b.size() < child->num_outputs) b.resize(child->num_outputs);
        accumulate_into(b, e.input_nr, outputs[i]);
      }
      if (--task.dependencies[child] == 0) {
        alive.push_back(e.function);
        ready.push(child);
      }
    }
  }
}

std::shared_ptr<GraphRoot> make_root(const TensorList& outputs, const TensorList& grad_outputs, bool for_grad) {
  NORCH_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(), "grad_tensors (",
              grad_outputs.size(), ") must have the same length as tensors (", outputs.size(), ")");
  TensorList grads;
  std::vector<Edge> edges;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    NORCH_CHECK(out.defined(), "backward: output ", i, " is undefined");
    Edge e = gradient_edge(out);
    NORCH_CHECK(e.is_valid(), "element ", i, " of ", for_grad ? "differentiated tensors" : "tensors",
                " does not require grad and does not have a grad_fn");
    Tensor g = i < grad_outputs.size() ? grad_outputs[i] : Tensor();
    if (!g.defined()) {
      NORCH_CHECK(out.numel() == 1, "grad can be implicitly created only for scalar outputs (got output of shape ",
                  out.sizes(), ")");
      g = ones(out.sizes(), TensorOptions(out.dtype(), out.device()));
    } else {
      NORCH_CHECK(g.sizes() == out.sizes(), "Mismatch in shape: grad_output[", i, "] has a shape of ", g.sizes(),
                  " and output[", i, "] has a shape of ", out.sizes(), ".");
      NORCH_CHECK(g.device() == out.device(), "Mismatch in device: grad_output[", i, "] is on ", g.device().str(),
                  " and output[", i, "] is on ", out.device().str(), ".");
    }
    grads.push_back(g);
    edges.push_back(e);
  }
  auto root = std::make_shared<GraphRoot>(grads);
  root->next_edges = edges;
  for (const auto& out : outputs) root->input_meta.push_back(InputMeta{out.sizes(), out.dtype(), out.device()});
  return root;
}

}  // namespace

void backward(const TensorList& outputs, const TensorList& grad_outputs, bool retain_graph, bool create_graph,
              const TensorList& inputs) {
  auto root = make_root(outputs, grad_outputs, false);
  GraphTask task;
  task.keep_graph = retain_graph;
  compute_dependencies(root.get(), task);
  std::vector<Tensor> nonleaf_inputs;
  std::vector<size_t> nonleaf_index;
  if (!inputs.empty()) {
    task.filter = true;
    std::unordered_set<Node*> must_run;
    task.captured.resize(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Tensor& in = inputs[i];
      NORCH_CHECK(in.requires_grad(), "backward: One of the differentiated Tensors (inputs[", i,
                  "]) does not require grad");
      Edge e = gradient_edge(in);
      if (in.is_leaf()) {
        must_run.insert(e.function.get());
        task.captures[e.function.get()];  // marks it as a target
      } else {
        task.captures[e.function.get()].push_back({e.input_nr, i});
        nonleaf_inputs.push_back(in);
        nonleaf_index.push_back(i);
      }
    }
    compute_needed(root.get(), task, must_run);
    // Targets the roots reach directly still need their AccumulateGrad to run.
    for (Node* n : must_run) task.needed.insert(n);
  }
  execute(root, task, create_graph);
  for (size_t k = 0; k < nonleaf_inputs.size(); ++k) {
    const Tensor& g = task.captured[nonleaf_index[k]];
    if (!g.defined()) continue;
    auto& m = nonleaf_inputs[k].impl()->autograd();
    m.grad = m.grad.defined() ? add(m.grad, g) : (create_graph ? g : clone(g));
  }
}

TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs,
                bool retain_graph, bool create_graph, bool allow_unused) {
  NORCH_CHECK(!inputs.empty(), "grad requires at least one input");
  auto root = make_root(outputs, grad_outputs, false);
  GraphTask task;
  task.keep_graph = retain_graph;
  task.filter = true;
  task.captured.resize(inputs.size());
  compute_dependencies(root.get(), task);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& in = inputs[i];
    NORCH_CHECK(in.requires_grad(), "One of the differentiated Tensors does not require grad");
    Edge e = gradient_edge(in);
    task.captures[e.function.get()].push_back({e.input_nr, i});
  }
  compute_needed(root.get(), task, {});
  execute(root, task, create_graph);
  for (size_t i = 0; i < inputs.size(); ++i) {
    NORCH_CHECK(task.captured[i].defined() || allow_unused,
                "One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True "
                "if this is the desired behavior.");
    if (task.captured[i].defined() && task.captured[i].dtype() != inputs[i].dtype())
      task.captured[i] = to_dtype(task.captured[i], inputs[i].dtype());
  }
  return task.captured;
}

}  // namespace norch::autograd

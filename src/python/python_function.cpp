// PyNode: the backward node of a Python norch.autograd.Function. The engine
// calls apply() like any Node; apply takes the GIL and calls the class's
// `backward(ctx, *grads)`. Python exceptions pass through the engine unchanged
// (pybind11's error_already_set), so the caller sees the exception raised.
#include <Python.h>

#include "convert.h"
#include "python_gc.h"
#include "norch/autograd/engine.h"
#include "norch/autograd/saved_variable.h"

namespace norch::python {

namespace {

struct PyNode : autograd::Node {
  PyNode(std::string name, py::object ctx, py::object backward)
      : name_(std::move(name)), ctx(std::move(ctx)), backward_fn(std::move(backward)) {}

  ~PyNode() override {
    // The last reference may go in a thread without the GIL (the engine, a C++
    // caller); at interpreter shutdown the objects are left to the runtime.
    if (!Py_IsInitialized() || _Py_IsFinalizing()) {
      ctx.release();
      backward_fn.release();
      return;
    }
    py::gil_scoped_acquire gil;
    ctx = py::object();
    backward_fn = py::object();
  }

  std::string name() const override { return name_; }
  void release_variables() override {
    for (auto& s : saved) s.reset();
  }

  TensorList apply(TensorList&& grads) override {
    if (materialize_grads) autograd::materialize_grads(grads, output_meta, output_is_tensor);
    py::gil_scoped_acquire gil;
    NORCH_CHECK(ctx, "the backward of ", name_, " was freed by the garbage collector");
    py::tuple args(grads.size() + 1);
    args[0] = ctx;
    for (size_t i = 0; i < grads.size(); ++i) args[i + 1] = grads[i].defined() ? py::cast(grads[i]) : py::none();
    grads.clear();
    py::object r = backward_fn(*args);
    py::tuple result = py::isinstance<py::tuple>(r) ? r.cast<py::tuple>() : py::make_tuple(r);
    const size_t n = is_tensor_input.size();
    size_t got = result.size();
    // Trailing Nones beyond the number of inputs are allowed, as in PyTorch.
    while (got > n && result[got - 1].is_none()) --got;
    NORCH_CHECK(got == n, "function ", name_,
                " returned an incorrect number of gradients (expected ", n, ", got ", result.size(), ")");
    TensorList out(n);
    for (size_t i = 0; i < n; ++i) {
      py::handle item = result[i];
      if (item.is_none()) continue;
      NORCH_CHECK_TYPE(py::isinstance<Tensor>(item), "function ", name_, " returned a gradient of type ",
                       std::string(py::str(py::type::handle_of(item).attr("__name__"))), " at position ", i,
                       "; expected a Tensor or None");
      NORCH_CHECK(is_tensor_input[i], "function ", name_, " returned a gradient different than None at position ",
                  i + 1, ", but the corresponding forward input was not a Variable");
      out[i] = item.cast<Tensor>();
    }
    return out;
  }

  TensorList saved_tensors() {
    TensorList out;
    auto self = shared_from_this();
    for (const auto& s : saved) out.push_back(s.unpack(self));
    return out;
  }

  std::string name_;
  py::object ctx;
  py::object backward_fn;
  std::vector<autograd::SavedVariable> saved;
  std::vector<autograd::InputMeta> output_meta;
  std::vector<bool> output_is_tensor;
  std::vector<bool> is_tensor_input;
  bool materialize_grads = true;
};

// ctx holds its node weakly: the node owns ctx, so a strong reference back would be a cycle.
struct PyNodeRef {
  std::weak_ptr<PyNode> node;
  std::shared_ptr<PyNode> get() const {
    auto n = node.lock();
    NORCH_CHECK(n, "the backward node of this Function no longer exists");
    return n;
  }
};

py::tuple as_tuple(const TensorList& ts) {
  py::tuple out(ts.size());
  for (size_t i = 0; i < ts.size(); ++i) out[i] = ts[i].defined() ? py::cast(ts[i]) : py::none();
  return out;
}

bool contains(const py::tuple& items, const Tensor& t) {
  for (auto it : items)
    if (py::isinstance<Tensor>(it) && it.cast<Tensor>().is_same(t)) return true;
  return false;
}

// Connects the outputs of a Function's forward to a new PyNode and returns them
// (with the same structure: one object or a tuple).
py::object function_finish(py::object ctx, py::object backward, const std::string& name, py::tuple args,
                           py::object outputs, py::tuple to_save, py::tuple dirty, py::tuple non_diff,
                           bool materialize) {
  const bool single = !py::isinstance<py::tuple>(outputs);
  py::tuple outs = single ? py::make_tuple(outputs) : outputs.cast<py::tuple>();
  auto node = std::make_shared<PyNode>(name, ctx, backward);
  node->materialize_grads = materialize;
  TensorList inputs;
  for (auto a : args) {
    const bool is_t = py::isinstance<Tensor>(a);
    node->is_tensor_input.push_back(is_t);
    inputs.push_back(is_t ? a.cast<Tensor>() : Tensor());
  }
  for (auto d : dirty)
    NORCH_CHECK_TYPE(py::isinstance<Tensor>(d), "mark_dirty: only Tensors can be marked dirty");

  TensorList final_outs, history;
  py::tuple result(outs.size());
  for (size_t j = 0; j < outs.size(); ++j) {
    py::handle o = outs[j];
    if (!py::isinstance<Tensor>(o)) {
      result[j] = o;
      final_outs.emplace_back();
      history.emplace_back();
      node->output_is_tensor.push_back(false);
      continue;
    }
    Tensor t = o.cast<Tensor>();
    const bool is_dirty = contains(dirty, t);
    bool is_input = false;
    for (const auto& in : inputs) is_input = is_input || (in.defined() && in.is_same(t));
    if (is_dirty) {
      autograd::check_inplace(t, name.c_str());
    } else if (is_input) {
      // Returning an input unchanged: the output is a new tensor sharing its
      // storage, so the input keeps its own place in the graph.
      t = alias(t);
    }
    final_outs.push_back(t);
    history.push_back(contains(non_diff, t) || contains(non_diff, o.cast<Tensor>()) ? Tensor() : t);
    node->output_is_tensor.push_back(true);
    result[j] = py::cast(t);
  }
  for (const auto& t : final_outs)
    node->output_meta.push_back(t.defined() ? autograd::InputMeta{t.sizes(), t.dtype(), t.device()}
                                            : autograd::InputMeta{});
  autograd::set_history(node, inputs, history);
  for (auto s : to_save) {
    if (s.is_none()) {
      node->saved.emplace_back();
      continue;
    }
    NORCH_CHECK_TYPE(py::isinstance<Tensor>(s), "save_for_backward can only save tensors, but argument is of type ",
                     std::string(py::str(py::type::handle_of(s).attr("__name__"))));
    Tensor t = s.cast<Tensor>();
    bool is_output = false;
    for (const auto& h : history) is_output = is_output || (h.defined() && h.is_same(t));
    node->saved.emplace_back(t, is_output);
  }
  ctx.attr("_node_ref") = PyNodeRef{node};
  return single ? py::object(result[0]) : py::object(result);
}

}  // namespace

// Note [Cycles through the graph] (python_gc.cpp): a node owns one reference
// to each of ctx and backward.
int traverse_py_node(const autograd::Node& node, visitproc visit, void* arg) {
  if (const auto* n = dynamic_cast<const PyNode*>(&node)) {
    Py_VISIT(n->ctx.ptr());
    Py_VISIT(n->backward_fn.ptr());
  }
  return 0;
}

void clear_py_node(autograd::Node& node) {
  if (auto* n = dynamic_cast<PyNode*>(&node)) {
    // Moved out first: dropping ctx may run code that reaches this node again.
    py::object ctx = std::move(n->ctx), backward = std::move(n->backward_fn);
  }
}

void init_python_function(py::module_& m, TensorClass&) {
  py::module_ ag = submodule(m, "_autograd");
  py::class_<PyNode, autograd::Node, std::shared_ptr<PyNode>>(ag, "PyNode")
      .def_property_readonly("saved_tensors", [](PyNode& n) { return as_tuple(n.saved_tensors()); })
      .def("__getattr__", [](PyNode& n, const std::string& attr) -> py::object {
        // grad_fn.<attr> reads what forward stored on ctx, as in PyTorch.
        if (!n.ctx || !py::hasattr(n.ctx, attr.c_str()))
          throw py::attribute_error("'" + n.name() + "' object has no attribute '" + attr + "'");
        return n.ctx.attr(attr.c_str());
      });
  py::class_<PyNodeRef>(ag, "_PyNodeRef")
      .def("saved_tensors", [](const PyNodeRef& r) { return as_tuple(r.get()->saved_tensors()); })
      .def("node", [](const PyNodeRef& r) { return std::static_pointer_cast<autograd::Node>(r.get()); });
  ag.def("_function_finish", &function_finish, py::arg("ctx"), py::arg("backward"), py::arg("name"), py::arg("args"),
         py::arg("outputs"), py::arg("to_save"), py::arg("dirty"), py::arg("non_differentiable"),
         py::arg("materialize_grads"));
}

}  // namespace norch::python

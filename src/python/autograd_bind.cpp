// Autograd from Python: requires_grad, .grad, grad_fn nodes, backward, grad,
// grad mode, hooks, anomaly mode.
#include "convert.h"
#include "norch/autograd/accumulate_grad.h"

namespace norch::python {

void init_python_function(py::module_& ag);  // python_function.cpp

namespace {

TensorList to_tensor_list(py::handle obj) {
  TensorList out;
  if (obj.is_none()) return out;
  if (py::isinstance<Tensor>(obj)) return {obj.cast<Tensor>()};
  for (auto item : py::reinterpret_borrow<py::sequence>(obj))
    out.push_back(item.is_none() ? Tensor() : item.cast<Tensor>());
  return out;
}

py::object tensor_or_none(const Tensor& t) { return t.defined() ? py::cast(t) : py::none(); }

// Wraps a Python callable as a tensor hook; the hook may return None (keep) or a Tensor.
autograd::TensorHook python_tensor_hook(py::function fn) {
  auto holder = std::make_shared<py::function>(std::move(fn));
  return [holder](const Tensor& g) -> Tensor {
    py::gil_scoped_acquire gil;
    py::object r = (*holder)(g);
    if (r.is_none()) return Tensor();
    NORCH_CHECK_TYPE(py::isinstance<Tensor>(r), "hook must return None or a Tensor");
    return r.cast<Tensor>();
  };
}

struct RemovableHandle {
  std::function<void()> remove_fn;
  void remove() {
    if (remove_fn) remove_fn();
    remove_fn = nullptr;
  }
};

}  // namespace

void init_autograd(py::module_& m, TensorClass& cls) {
  py::class_<RemovableHandle>(m, "RemovableHandle")
      .def("remove", &RemovableHandle::remove)
      .def("__enter__", [](RemovableHandle& h) -> RemovableHandle& { return h; })
      .def("__exit__", [](RemovableHandle& h, py::args) { h.remove(); });

  py::class_<autograd::Node, std::shared_ptr<autograd::Node>>(m, "Node")
      .def("name", &autograd::Node::name)
      .def("__repr__", [](const autograd::Node& n) {
        return "<" + n.name() + " object at " + std::to_string(reinterpret_cast<uintptr_t>(&n)) + ">";
      })
      .def_property_readonly("next_functions", [](const autograd::Node& n) {
        py::tuple out(n.next_edges.size());
        for (size_t i = 0; i < n.next_edges.size(); ++i) {
          const auto& e = n.next_edges[i];
          out[i] = py::make_tuple(e.function ? py::cast(e.function) : py::none(), e.input_nr);
        }
        return out;
      })
      .def_property_readonly("variable", [](const autograd::Node& n) -> py::object {
        auto* acc = dynamic_cast<const autograd::AccumulateGrad*>(&n);
        if (!acc) throw Error(ErrorKind::Runtime, n.name() + " has no attribute 'variable'");
        return py::cast(acc->variable);
      })
      .def_property_readonly("metadata", [](const autograd::Node&) { return py::dict(); })
      .def("_sequence_nr", [](const autograd::Node& n) { return n.sequence_nr; })
      .def("register_hook", [](autograd::Node& n, py::function fn) {
        auto holder = std::make_shared<py::function>(std::move(fn));
        n.post_hooks.push_back([holder](const TensorList& grad_inputs, const TensorList& grad_outputs) -> TensorList {
          py::gil_scoped_acquire gil;
          py::tuple gi(grad_inputs.size()), go(grad_outputs.size());
          for (size_t i = 0; i < grad_inputs.size(); ++i) gi[i] = tensor_or_none(grad_inputs[i]);
          for (size_t i = 0; i < grad_outputs.size(); ++i) go[i] = tensor_or_none(grad_outputs[i]);
          py::object r = (*holder)(gi, go);
          return r.is_none() ? TensorList() : to_tensor_list(r);
        });
        size_t idx = n.post_hooks.size() - 1;
        auto node = n.shared_from_this();
        return RemovableHandle{[node, idx] { node->post_hooks[idx] = [](const TensorList&, const TensorList&) { return TensorList(); }; }};
      })
      .def("register_prehook", [](autograd::Node& n, py::function fn) {
        auto holder = std::make_shared<py::function>(std::move(fn));
        n.pre_hooks.push_back([holder](const TensorList& grad_outputs) -> TensorList {
          py::gil_scoped_acquire gil;
          py::tuple go(grad_outputs.size());
          for (size_t i = 0; i < grad_outputs.size(); ++i) go[i] = tensor_or_none(grad_outputs[i]);
          py::object r = (*holder)(go);
          return r.is_none() ? TensorList() : to_tensor_list(r);
        });
        size_t idx = n.pre_hooks.size() - 1;
        auto node = n.shared_from_this();
        return RemovableHandle{[node, idx] { node->pre_hooks[idx] = [](const TensorList&) { return TensorList(); }; }};
      });

  cls.def_property("requires_grad", [](const Tensor& t) { return t.requires_grad(); },
                   [](Tensor& t, bool r) { t.set_requires_grad(r); })
      .def("requires_grad_", [](Tensor& t, bool r) -> Tensor& { return t.set_requires_grad(r); },
           py::arg("requires_grad") = true)
      .def_property_readonly("is_leaf", [](const Tensor& t) { return t.is_leaf(); })
      .def_property("grad", [](const Tensor& t) { return tensor_or_none(t.grad()); },
                    [](Tensor& t, py::object g) { t.set_grad(g.is_none() ? Tensor() : g.cast<Tensor>()); })
      .def_property_readonly("grad_fn", [](const Tensor& t) -> py::object {
        auto fn = t.grad_fn();
        return fn ? py::cast(fn) : py::none();
      })
      .def_property_readonly("retains_grad", [](const Tensor& t) { return t.retains_grad(); })
      .def_property_readonly("output_nr", [](const Tensor& t) { return t.output_nr(); })
      .def("retain_grad", [](const Tensor& t) { autograd::retain_grad(t); })
      .def("register_hook", [](const Tensor& t, py::function fn) {
        autograd::register_tensor_hook(t, python_tensor_hook(fn));
        // Removal replaces the hook by a no-op so indices of other hooks stay valid.
        auto impl = t.impl_ptr();
        auto fn_node = t.grad_fn();
        size_t idx = fn_node ? fn_node->tensor_pre_hooks.size() - 1 : impl->autograd().leaf_hooks.size() - 1;
        std::weak_ptr<TensorImpl> weak = impl;
        return RemovableHandle{[weak, fn_node, idx] {
          if (fn_node) { fn_node->tensor_pre_hooks[idx].second = [](const Tensor&) { return Tensor(); }; return; }
          if (auto i = weak.lock()) i->autograd().leaf_hooks[idx] = [](const Tensor&) { return Tensor(); };
        }};
      })
      .def("backward", [](const Tensor& t, py::object gradient, py::object retain_graph, bool create_graph,
                          py::object inputs) {
        TensorList grads;
        if (!gradient.is_none()) grads.push_back(gradient.cast<Tensor>());
        bool keep = retain_graph.is_none() ? create_graph : retain_graph.cast<bool>();
        autograd::backward({t}, grads, keep, create_graph, to_tensor_list(inputs));
      }, py::arg("gradient") = py::none(), py::arg("retain_graph") = py::none(), py::arg("create_graph") = false,
           py::arg("inputs") = py::none());

  auto ag = m.def_submodule("_autograd", "autograd engine");
  ag.def("backward", [](py::object tensors, py::object grad_tensors, py::object retain_graph, bool create_graph,
                        py::object inputs) {
    bool keep = retain_graph.is_none() ? create_graph : retain_graph.cast<bool>();
    autograd::backward(to_tensor_list(tensors), to_tensor_list(grad_tensors), keep, create_graph, to_tensor_list(inputs));
  }, py::arg("tensors"), py::arg("grad_tensors") = py::none(), py::arg("retain_graph") = py::none(),
        py::arg("create_graph") = false, py::arg("inputs") = py::none());
  ag.def("grad", [](py::object outputs, py::object inputs, py::object grad_outputs, py::object retain_graph,
                    bool create_graph, bool allow_unused) {
    bool keep = retain_graph.is_none() ? create_graph : retain_graph.cast<bool>();
    TensorList r = autograd::grad(to_tensor_list(outputs), to_tensor_list(inputs), to_tensor_list(grad_outputs), keep,
                                  create_graph, allow_unused);
    py::tuple out(r.size());
    for (size_t i = 0; i < r.size(); ++i) out[i] = tensor_or_none(r[i]);
    return out;
  }, py::arg("outputs"), py::arg("inputs"), py::arg("grad_outputs") = py::none(), py::arg("retain_graph") = py::none(),
        py::arg("create_graph") = false, py::arg("allow_unused") = false);
  ag.def("is_grad_enabled", &autograd::GradMode::is_enabled);
  ag.def("set_grad_enabled", &autograd::GradMode::set_enabled);
  ag.def("is_anomaly_enabled", &autograd::AnomalyMode::is_enabled);
  ag.def("set_anomaly_enabled", [](bool on) {
    autograd::AnomalyMode::set_enabled(on);
    if (on) {
      autograd::AnomalyMode::set_trace_provider([] {
        py::gil_scoped_acquire gil;
        py::object tb = py::module_::import("traceback");
        py::list lines = tb.attr("format_stack")();
        std::string s;
        for (auto l : lines) s += l.cast<std::string>();
        return s;
      });
    }
  });
  init_python_function(ag);
}

}  // namespace norch::python

// Autograd from Python: requires_grad, .grad, grad_fn nodes, backward, grad,
// grad mode, hooks, anomaly mode.
//
// Note [GIL and the engine]
// backward() and grad() run the engine with the GIL released, so other Python
// threads run while a backward pass computes. Every place where the engine
// reaches Python takes the GIL back itself: PyNode::apply and ~PyNode
// (python_function.cpp), the tensor and node hooks (python_gc.cpp, which also
// drop their Python callables under the GIL, gil_safe), the anomaly-mode stack capture
// (set_anomaly_enabled), and NumPy-backed storages freed by the engine
// (from_numpy's deleter, convert.cpp). A Python exception raised in one of them
// crosses the engine as pybind11's error_already_set, which holds its Python
// objects safely without the GIL.
#include "convert.h"
#include "python_gc.h"
#include "norch/autograd/accumulate_grad.h"
#include "norch/autograd/hooks.h"

namespace norch::python {

namespace {

py::object tensor_or_none(const Tensor& t) { return t.defined() ? py::cast(t) : py::none(); }

// norch._C.RemovableHandle, the one handle type for every hook: a hook of
// the core graph (removed through autograd::remove_hook), or a Python hook kept in
// a dict (nn.Module's), removed by calling `remove_fn(id)` once.
struct RemovableHandle {
  autograd::HookHandle hook;
  py::object remove_fn;
  uint64_t id;

  static uint64_t next_id() {
    static uint64_t next = 0;  // only touched with the GIL held
    return next++;
  }
  explicit RemovableHandle(autograd::HookHandle h) : hook(std::move(h)), id(next_id()) {}
  explicit RemovableHandle(py::object fn) : remove_fn(std::move(fn)), id(next_id()) {}
  void remove() {
    autograd::remove_hook(hook);
    if (remove_fn) {
      py::object fn = std::move(remove_fn);
      fn(id);
    }
  }
};

}  // namespace

void init_autograd(py::module_& m, TensorClass& cls) {
  py::class_<RemovableHandle>(m, "RemovableHandle")
      .def(py::init([](py::function remove_fn) { return RemovableHandle(py::object(std::move(remove_fn))); }),
           py::arg("remove_fn"))
      .def_readonly("id", &RemovableHandle::id)
      .def("remove", &RemovableHandle::remove)
      .def("__enter__", [](RemovableHandle& h) -> RemovableHandle& { return h; })
      .def("__exit__", [](RemovableHandle& h, py::args) { h.remove(); });

  // Note [Cycles through the graph] (python_gc.cpp)
  py::class_<autograd::Node, std::shared_ptr<autograd::Node>>(m, "Node", py::custom_type_setup(node_type_setup))
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
        return RemovableHandle(autograd::add_post_hook(n, PyNodePostHook{gil_safe(std::move(fn))}));
      }, py::arg("fn"))
      .def("register_prehook", [](autograd::Node& n, py::function fn) {
        return RemovableHandle(autograd::add_pre_hook(n, PyNodePreHook{gil_safe(std::move(fn))}));
      }, py::arg("fn"));

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
        return RemovableHandle(autograd::add_tensor_hook(t, PyTensorHook{gil_safe(std::move(fn))}));
      }, py::arg("hook"))
      .def("backward", [](const Tensor& t, py::object gradient, py::object retain_graph, bool create_graph,
                          py::object inputs) {
        TensorList grads;
        if (!gradient.is_none()) grads.push_back(gradient.cast<Tensor>());
        bool keep = retain_graph.is_none() ? create_graph : retain_graph.cast<bool>();
        TensorList in = tensor_list(inputs);
        py::gil_scoped_release release;  // Note [GIL and the engine]
        autograd::backward({t}, grads, keep, create_graph, in);
      }, py::arg("gradient") = py::none(), py::arg("retain_graph") = py::none(), py::arg("create_graph") = false,
           py::arg("inputs") = py::none());

  py::module_ ag = submodule(m, "_autograd", "autograd engine");
  ag.def("backward", [](py::object tensors, py::object grad_tensors, py::object retain_graph, bool create_graph,
                        py::object inputs) {
    bool keep = retain_graph.is_none() ? create_graph : retain_graph.cast<bool>();
    TensorList roots = tensor_list(tensors), grads = tensor_list(grad_tensors), in = tensor_list(inputs);
    py::gil_scoped_release release;  // Note [GIL and the engine]
    autograd::backward(roots, grads, keep, create_graph, in);
  }, py::arg("tensors"), py::arg("grad_tensors") = py::none(), py::arg("retain_graph") = py::none(),
        py::arg("create_graph") = false, py::arg("inputs") = py::none());
  ag.def("grad", [](py::object outputs, py::object inputs, py::object grad_outputs, py::object retain_graph,
                    bool create_graph, bool allow_unused) {
    bool keep = retain_graph.is_none() ? create_graph : retain_graph.cast<bool>();
    TensorList outs = tensor_list(outputs), in = tensor_list(inputs), grads = tensor_list(grad_outputs), r;
    {
      py::gil_scoped_release release;  // Note [GIL and the engine]
      r = autograd::grad(outs, in, grads, keep, create_graph, allow_unused);
    }
    py::tuple out(r.size());
    for (size_t i = 0; i < r.size(); ++i) out[i] = tensor_or_none(r[i]);
    return out;
  }, py::arg("outputs"), py::arg("inputs"), py::arg("grad_outputs") = py::none(), py::arg("retain_graph") = py::none(),
        py::arg("create_graph") = false, py::arg("allow_unused") = false);
  ag.def("is_grad_enabled", &autograd::GradMode::is_enabled);
  ag.def("set_grad_enabled", &autograd::GradMode::set_enabled, py::arg("mode"));
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
  }, py::arg("mode"));
}

}  // namespace norch::python

// Python objects held by the C++ graph, and the garbage-collector support that
// lets Python see them (Note [Cycles through the graph], python_gc.cpp).
#pragma once
#include <Python.h>

#include <memory>

#include "convert.h"
#include "norch/autograd/node.h"

namespace norch::python {

// A Python callable kept by a hook in the graph. The graph may be freed by the
// engine with the GIL released, so the last reference drops it under the GIL.
std::shared_ptr<py::function> gil_safe(py::function fn);

// The hooks the bindings put into the graph: named types (not lambdas), so that
// the collector can find their Python callables through std::function::target.
struct PyTensorHook {
  std::shared_ptr<py::function> fn;
  Tensor operator()(const Tensor& g) const;
};
struct PyNodePreHook {
  std::shared_ptr<py::function> fn;
  TensorList operator()(const TensorList& grad_outputs) const;
};
struct PyNodePostHook {
  std::shared_ptr<py::function> fn;
  TensorList operator()(const TensorList& grad_inputs, const TensorList& grad_outputs) const;
};

// The Python objects owned by a Python Function's node (python_function.cpp):
// visits or drops its ctx and backward; nothing for any other node.
int traverse_py_node(const autograd::Node& node, visitproc visit, void* arg);
void clear_py_node(autograd::Node& node);

// custom_type_setup callbacks of the Tensor and Node classes.
void tensor_type_setup(PyHeapTypeObject* heap_type);
void node_type_setup(PyHeapTypeObject* heap_type);

}  // namespace norch::python

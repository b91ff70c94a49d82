// norch._C: the extension module. Creates the Tensor class and calls each
// binding area's init function (STYLE: bindings split by area).
#include "convert.h"
#include "python_gc.h"

namespace norch::python {

PYBIND11_MODULE(_C, m) {
  m.doc() = "norch C++ core";
  // C++ extensions share the Tensor class only when built with the same pybind11
  // ABI; norch/extension.h compares its own id with this one (Note [Shared Tensor type]).
  m.attr("_pybind11_internals_id") = PYBIND11_INTERNALS_ID;
  // norch.OutOfMemoryError (norch.cuda.OutOfMemoryError): a RuntimeError, as PyTorch's.
  static py::exception<OutOfMemoryError> oom(m, "OutOfMemoryError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const OutOfMemoryError& e) {
      py::set_error(oom, e.what());
    } catch (const Error& e) {
      switch (e.kind()) {
        case ErrorKind::Type: PyErr_SetString(PyExc_TypeError, e.what()); return;
        case ErrorKind::Index: PyErr_SetString(PyExc_IndexError, e.what()); return;
        case ErrorKind::Value: PyErr_SetString(PyExc_ValueError, e.what()); return;
        case ErrorKind::NotImplemented: PyErr_SetString(PyExc_NotImplementedError, e.what()); return;
        case ErrorKind::Runtime: PyErr_SetString(PyExc_RuntimeError, e.what()); return;
      }
    } catch (const std::bad_alloc&) {
      PyErr_SetString(PyExc_MemoryError, "norch: out of memory");
    }
  });
  // Every binding area, listed here and nowhere else.
  // Note [Cycles through the graph] (python_gc.cpp)
  // Note [Operator slots] (operators_bind.cpp)
  TensorClass cls(m, "Tensor", py::custom_type_setup([](PyHeapTypeObject* type) {
                    tensor_type_setup(type);
                    tensor_operator_slots(type);
                  }));
  init_operators(m, cls);
  init_dtype(m, cls);
  init_device(m, cls);
  init_tensor(m, cls);
  init_creation(m, cls);
  init_elementwise(m, cls);
  init_reduce(m, cls);
  init_shape(m, cls);
  init_index(m, cls);
  init_select(m, cls);
  init_linalg(m, cls);
  init_autograd(m, cls);
  init_python_function(m, cls);
  init_nn_loss(m, cls);
  init_nn_conv(m, cls);
  init_optim(m, cls);
  init_random(m, cls);
  init_cuda(m, cls);
  init_numpy(m, cls);
  init_dlpack(m, cls);
  init_autocast(m, cls);
  install_text_signatures(m);
}

}  // namespace norch::python

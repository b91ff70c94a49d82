// The matmul family.
#include "convert.h"
#include "norch/debug.h"

namespace norch::python {

void init_linalg(py::module_& m, TensorClass& cls) {
  using Fn = Tensor (*)(const Tensor&, const Tensor&);
  for (auto [name, fn] : {std::pair<const char*, Fn>{"matmul", matmul}, {"mm", mm}, {"bmm", bmm}, {"mv", mv},
                          {"dot", dot}, {"outer", outer}}) {
    m.def(name, fn, py::arg("input"), py::arg("other"));
    cls.def(name, fn, py::arg("other"));
  }
  cls.def("__matmul__", [](const Tensor& a, py::handle b) -> py::object {
    if (!py::isinstance<Tensor>(b)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
    return py::cast(matmul(a, b.cast<Tensor>()));
  });
  cls.def("__rmatmul__", [](const Tensor& a, py::handle b) -> py::object {
    if (!py::isinstance<Tensor>(b)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
    return py::cast(matmul(b.cast<Tensor>(), a));
  });
  auto addmm_fn = [](const Tensor& in, const Tensor& a, const Tensor& b, py::handle beta, py::handle alpha) {
    return addmm(in, a, b, to_scalar(beta), to_scalar(alpha));
  };
  m.def("addmm", addmm_fn, py::arg("input"), py::arg("mat1"), py::arg("mat2"), py::kw_only(), py::arg("beta") = 1,
        py::arg("alpha") = 1);
  // For tests and benchmarks: the plain loop the fast kernel is checked against, and
  // which per-ISA copy of the fast kernels this process runs (Note [SIMD dispatch]).
  m.def("_bmm_reference", bmm_reference, py::arg("input"), py::arg("mat2"));
  m.def("_simd_level", [] { return std::string(cpu::simd_level_name()); });
  cls.def("addmm", addmm_fn, py::arg("mat1"), py::arg("mat2"), py::kw_only(), py::arg("beta") = 1,
          py::arg("alpha") = 1);
}

}  // namespace norch::python

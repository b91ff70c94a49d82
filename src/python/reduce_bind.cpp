// Reductions: sum, mean (more are added beside them).
#include "convert.h"

namespace norch::python {

namespace {
std::optional<ScalarType> opt_dtype(py::handle d) {
  if (d.is_none()) return std::nullopt;
  return to_scalar_type(d);
}
}  // namespace

void init_reduce(py::module_& m, TensorClass& cls) {
  auto sum_fn = [](const Tensor& a, py::handle dim, bool keepdim, py::handle dtype) {
    return sum(a, to_dims(dim), keepdim, opt_dtype(dtype));
  };
  m.def("sum", sum_fn, py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
        py::arg("dtype") = py::none());
  cls.def("sum", sum_fn, py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
          py::arg("dtype") = py::none());
  auto mean_fn = [](const Tensor& a, py::handle dim, bool keepdim, py::handle dtype) {
    return mean(a, to_dims(dim), keepdim, opt_dtype(dtype));
  };
  m.def("mean", mean_fn, py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
        py::arg("dtype") = py::none());
  cls.def("mean", mean_fn, py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
          py::arg("dtype") = py::none());
  m.def("sum_to", [](const Tensor& a, py::handle shape) { return sum_to(a, to_shape(shape)); });
}

}  // namespace norch::python

// Views and shape ops.
#include "convert.h"

namespace norch::python {

void init_shape(py::module_& m, TensorClass& cls) {
  cls.def("view", [](const Tensor& a, py::args shape) {
    if (shape.size() == 1 && (py::isinstance<PyDType>(shape[0])))
      NORCH_NOT_IMPLEMENTED("view(dtype) is not supported; use .to(dtype)");
    return view(a, shape_from_args(shape));
  });
  cls.def("view_as", [](const Tensor& a, const Tensor& o) { return view(a, o.sizes()); });
  cls.def("reshape", [](const Tensor& a, py::args shape) { return reshape(a, shape_from_args(shape)); });
  cls.def("reshape_as", [](const Tensor& a, const Tensor& o) { return reshape(a, o.sizes()); });
  m.def("reshape", [](const Tensor& a, py::handle shape) { return reshape(a, to_shape(shape)); },
        py::arg("input"), py::arg("shape"));
  auto flatten_fn = [](const Tensor& a, int64_t s, int64_t e) { return flatten(a, s, e); };
  m.def("flatten", flatten_fn, py::arg("input"), py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  cls.def("flatten", flatten_fn, py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  auto unflatten_fn = [](const Tensor& a, int64_t dim, py::handle sizes) { return unflatten(a, dim, to_shape(sizes)); };
  m.def("unflatten", unflatten_fn, py::arg("input"), py::arg("dim"), py::arg("sizes"));
  cls.def("unflatten", unflatten_fn, py::arg("dim"), py::arg("sizes"));
  cls.def("expand", [](const Tensor& a, py::args shape) { return expand(a, shape_from_args(shape)); });
  cls.def("expand_as", [](const Tensor& a, const Tensor& o) { return expand_as(a, o); });
  m.def("broadcast_to", [](const Tensor& a, py::handle shape) { return expand(a, to_shape(shape)); });
  cls.def("broadcast_to", [](const Tensor& a, py::handle shape) { return expand(a, to_shape(shape)); });
  cls.def("permute", [](const Tensor& a, py::args dims) { return permute(a, shape_from_args(dims)); });
  m.def("permute", [](const Tensor& a, py::handle dims) { return permute(a, to_shape(dims)); }, py::arg("input"),
        py::arg("dims"));
  auto transpose_fn = [](const Tensor& a, int64_t d0, int64_t d1) { return transpose(a, d0, d1); };
  m.def("transpose", transpose_fn, py::arg("input"), py::arg("dim0"), py::arg("dim1"));
  cls.def("transpose", transpose_fn, py::arg("dim0"), py::arg("dim1"));
  m.attr("swapaxes") = m.attr("transpose");
  cls.def("swapaxes", transpose_fn);
  m.def("t", [](const Tensor& a) { return t(a); });
  cls.def("t", [](const Tensor& a) { return t(a); });
  cls.def_property_readonly("T", [](const Tensor& a) {
    Shape dims;
    for (int64_t i = a.dim() - 1; i >= 0; --i) dims.push_back(i);
    return permute(a, dims);
  });
  cls.def_property_readonly("mT", [](const Tensor& a) { return mT(a); });
  auto squeeze_fn = [](const Tensor& a, py::handle dim) {
    return dim.is_none() ? squeeze(a) : squeeze(a, to_dims(dim));
  };
  m.def("squeeze", squeeze_fn, py::arg("input"), py::arg("dim") = py::none());
  cls.def("squeeze", squeeze_fn, py::arg("dim") = py::none());
  auto unsqueeze_fn = [](const Tensor& a, int64_t dim) { return unsqueeze(a, dim); };
  m.def("unsqueeze", unsqueeze_fn, py::arg("input"), py::arg("dim"));
  cls.def("unsqueeze", unsqueeze_fn, py::arg("dim"));
  auto narrow_fn = [](const Tensor& a, int64_t dim, int64_t start, int64_t length) { return narrow(a, dim, start, length); };
  m.def("narrow", narrow_fn, py::arg("input"), py::arg("dim"), py::arg("start"), py::arg("length"));
  cls.def("narrow", narrow_fn, py::arg("dim"), py::arg("start"), py::arg("length"));
  auto select_fn = [](const Tensor& a, int64_t dim, int64_t index) { return select(a, dim, index); };
  m.def("select", select_fn, py::arg("input"), py::arg("dim"), py::arg("index"));
  cls.def("select", select_fn, py::arg("dim"), py::arg("index"));
  auto movedim_fn = [](const Tensor& a, int64_t s, int64_t d) { return movedim(a, s, d); };
  m.def("movedim", movedim_fn, py::arg("input"), py::arg("source"), py::arg("destination"));
  cls.def("movedim", movedim_fn, py::arg("source"), py::arg("destination"));
  auto as_strided_fn = [](const Tensor& a, py::handle size, py::handle stride, std::optional<int64_t> offset) {
    return as_strided(a, to_shape(size), to_shape(stride), offset);
  };
  m.def("as_strided", as_strided_fn, py::arg("input"), py::arg("size"), py::arg("stride"),
        py::arg("storage_offset") = py::none());
  cls.def("as_strided", as_strided_fn, py::arg("size"), py::arg("stride"), py::arg("storage_offset") = py::none());
}

}  // namespace norch::python

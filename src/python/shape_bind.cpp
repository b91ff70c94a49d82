// Views and shape ops, and joining/splitting (cat, stack, split, ...).
#include "convert.h"

namespace norch::python {

void init_join(py::module_& m, TensorClass& cls);

void init_shape(py::module_& m, TensorClass& cls) {
  cls.def("view", [](const Tensor& a, py::args shape) {
    if (shape.size() == 1 && (py::isinstance<PyDType>(shape[0]))) {
      // Reinterprets the bytes (bit patterns of the half types, checkpoints); only
      // between dtypes of one element size, and outside autograd.
      const ScalarType dt = shape[0].cast<PyDType>().type;
      if (element_size(dt) != a.element_size())
        NORCH_NOT_IMPLEMENTED("view(dtype) between dtypes of different element sizes (", dtype_name(a.dtype()),
                              " -> ", dtype_name(dt), ") is not supported");
      NORCH_CHECK(!a.requires_grad() || dt == a.dtype(), "view(dtype): a tensor that requires grad can only be viewed "
                  "as its own dtype, got ", dtype_name(a.dtype()), " -> ", dtype_name(dt));
      Tensor v = alias(a);
      v.impl()->dtype = dt;
      return v;
    }
    return view(a, shape_from_args(shape));
  });
  cls.def("view_as", [](const Tensor& a, const Tensor& o) { return view(a, o.sizes()); }, py::arg("other"));
  cls.def("reshape", [](const Tensor& a, py::args shape) { return reshape(a, shape_from_args(shape)); });
  cls.def("reshape_as", [](const Tensor& a, const Tensor& o) { return reshape(a, o.sizes()); }, py::arg("other"));
  m.def("reshape", [](const Tensor& a, py::handle shape) { return reshape(a, to_shape(shape)); },
        py::arg("input"), py::arg("shape"));
  auto flatten_fn = [](const Tensor& a, int64_t s, int64_t e) { return flatten(a, s, e); };
  m.def("flatten", flatten_fn, py::arg("input"), py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  cls.def("flatten", flatten_fn, py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  auto unflatten_fn = [](const Tensor& a, int64_t dim, py::handle sizes) { return unflatten(a, dim, to_shape(sizes)); };
  m.def("unflatten", unflatten_fn, py::arg("input"), py::arg("dim"), py::arg("sizes"));
  cls.def("unflatten", unflatten_fn, py::arg("dim"), py::arg("sizes"));
  cls.def("expand", [](const Tensor& a, py::args shape) { return expand(a, shape_from_args(shape)); });
  cls.def("expand_as", [](const Tensor& a, const Tensor& o) { return expand_as(a, o); }, py::arg("other"));
  m.def("broadcast_to", [](const Tensor& a, py::handle shape) { return expand(a, to_shape(shape)); }, py::arg("input"),
        py::arg("size"));
  cls.def("broadcast_to", [](const Tensor& a, py::handle shape) { return expand(a, to_shape(shape)); }, py::arg("size"));
  cls.def("permute", [](const Tensor& a, py::args dims) { return permute(a, shape_from_args(dims)); });
  m.def("permute", [](const Tensor& a, py::handle dims) { return permute(a, to_shape(dims)); }, py::arg("input"),
        py::arg("dims"));
  auto transpose_fn = [](const Tensor& a, int64_t d0, int64_t d1) { return transpose(a, d0, d1); };
  m.def("transpose", transpose_fn, py::arg("input"), py::arg("dim0"), py::arg("dim1"));
  cls.def("transpose", transpose_fn, py::arg("dim0"), py::arg("dim1"));
  m.attr("swapaxes") = m.attr("transpose");
  cls.def("swapaxes", transpose_fn, py::arg("axis0"), py::arg("axis1"));
  m.def("t", [](const Tensor& a) { return t(a); }, py::arg("input"));
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
  init_join(m, cls);
}

void init_join(py::module_& m, TensorClass& cls) {
  auto cat_fn = [](const TensorList& ts, int64_t dim) { return cat(ts, dim); };
  for (const char* name : {"cat", "concat", "concatenate"})
    m.def(name, cat_fn, py::arg("tensors"), py::arg("dim") = 0);
  m.def("stack", [](const TensorList& ts, int64_t dim) { return stack(ts, dim); }, py::arg("tensors"),
        py::arg("dim") = 0);
  auto split_fn = [](const Tensor& a, py::handle sizes, int64_t dim) {
    if (PyLong_Check(sizes.ptr())) return split(a, sizes.cast<int64_t>(), dim);
    return split_with_sizes(a, to_shape(sizes), dim);
  };
  m.def("split", split_fn, py::arg("tensor"), py::arg("split_size_or_sections"), py::arg("dim") = 0);
  cls.def("split", split_fn, py::arg("split_size"), py::arg("dim") = 0);
  auto chunk_fn = [](const Tensor& a, int64_t chunks, int64_t dim) { return chunk(a, chunks, dim); };
  m.def("chunk", chunk_fn, py::arg("input"), py::arg("chunks"), py::arg("dim") = 0);
  cls.def("chunk", chunk_fn, py::arg("chunks"), py::arg("dim") = 0);
  auto unbind_fn = [](const Tensor& a, int64_t dim) { return py::tuple(py::cast(unbind(a, dim))); };
  m.def("unbind", unbind_fn, py::arg("input"), py::arg("dim") = 0);
  cls.def("unbind", unbind_fn, py::arg("dim") = 0);
  m.def("flip", [](const Tensor& a, py::handle dims) { return flip(a, to_dims(dims)); }, py::arg("input"),
        py::arg("dims"));
  cls.def("flip", [](const Tensor& a, py::args dims) { return flip(a, shape_from_args(dims)); });
  auto roll_fn = [](const Tensor& a, py::handle shifts, py::handle dims) {
    return roll(a, to_dims(shifts), to_dims(dims));
  };
  m.def("roll", roll_fn, py::arg("input"), py::arg("shifts"), py::arg("dims") = py::none());
  cls.def("roll", roll_fn, py::arg("shifts"), py::arg("dims") = py::none());
  cls.def("repeat", [](const Tensor& a, py::args sizes) { return repeat(a, shape_from_args(sizes)); });
  m.def("tile", [](const Tensor& a, py::handle dims) { return tile(a, to_shape(dims)); }, py::arg("input"),
        py::arg("dims"));
  cls.def("tile", [](const Tensor& a, py::args dims) { return tile(a, shape_from_args(dims)); });
  auto tril_fn = [](const Tensor& a, int64_t k) { return tril(a, k); };
  auto triu_fn = [](const Tensor& a, int64_t k) { return triu(a, k); };
  m.def("tril", tril_fn, py::arg("input"), py::arg("diagonal") = 0);
  cls.def("tril", tril_fn, py::arg("diagonal") = 0);
  m.def("triu", triu_fn, py::arg("input"), py::arg("diagonal") = 0);
  cls.def("triu", triu_fn, py::arg("diagonal") = 0);
}

}  // namespace norch::python

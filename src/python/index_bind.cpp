// __getitem__ / __setitem__: converts a Python index into TensorIndex values.
#include "convert.h"
#include "norch/ops/index.h"

namespace norch::python {


namespace {

std::optional<int64_t> opt_int(py::handle o) {
  if (o.is_none()) return std::nullopt;
  return py::int_(py::reinterpret_borrow<py::object>(o)).cast<int64_t>();
}

TensorIndex convert_one(py::handle o, Device device) {
  if (o.is_none()) return TensorIndex::none();
  if (o.ptr() == Py_Ellipsis) return TensorIndex::ellipsis();
  if (PyBool_Check(o.ptr())) return TensorIndex::from_tensor(scalar_tensor(Scalar(o.ptr() == Py_True), TensorOptions(ScalarType::Bool, device)));
  if (PyLong_Check(o.ptr())) return TensorIndex::from_int(o.cast<int64_t>());
  if (PySlice_Check(o.ptr())) {
    auto* s = reinterpret_cast<PySliceObject*>(o.ptr());
    auto step = opt_int(s->step);
    return TensorIndex::from_slice(opt_int(s->start), opt_int(s->stop), step.value_or(1));
  }
  if (py::isinstance<Tensor>(o)) {
    Tensor t = o.cast<Tensor>();
    NORCH_CHECK_INDEX(!t.is_floating_point(), "tensors used as indices must be long, int, byte or bool tensors (got ",
                      dtype_name(t.dtype()), ")");
    return TensorIndex::from_tensor(t);
  }
  if (py::isinstance<py::sequence>(o) || py::isinstance<py::array>(o)) {
    Tensor t = tensor_from_data(o, std::nullopt, device, false);
    if (t.numel() == 0) t = t.to(ScalarType::Int64);  // x[[]] selects nothing, as in PyTorch
    NORCH_CHECK_INDEX(!t.is_floating_point(), "tensors used as indices must be long, int, byte or bool tensors");
    return TensorIndex::from_tensor(t);
  }
  if (PyObject_HasAttrString(o.ptr(), "__index__")) return TensorIndex::from_int(py::int_(py::reinterpret_borrow<py::object>(o)).cast<int64_t>());
  throw Error(ErrorKind::Index, str("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                                    "are valid indices (got ", std::string(py::str(o.get_type().attr("__name__"))), ")"));
}

std::vector<TensorIndex> convert(py::handle index, Device device) {
  std::vector<TensorIndex> out;
  if (PyTuple_Check(index.ptr())) {
    for (auto item : py::reinterpret_borrow<py::tuple>(index)) out.push_back(convert_one(item, device));
  } else {
    out.push_back(convert_one(index, device));
  }
  return out;
}

Tensor value_arg(const Tensor& self, py::handle value) {
  Tensor v = to_tensor_arg(value, "value", self.device());
  if (!v.impl()->is_wrapped_number) return v;
  check_scalar_fits(v.item(), self.dtype());
  return v.to(self.dtype());
}

}  // namespace

void init_index(py::module_& m, TensorClass& cls) {
  cls.def("__getitem__", [](const Tensor& self, py::handle index) { return norch::index(self, convert(index, self.device())); });
  cls.def("__setitem__", [](Tensor& self, py::handle index, py::handle value) {
    index_put_(self, convert(index, self.device()), value_arg(self, value));
  });
  // index_put_(indices, values, accumulate): indices is a tuple of index tensors.
  auto tensor_indices = [](py::tuple indices) {
    std::vector<TensorIndex> ix;
    for (auto item : indices) ix.push_back(TensorIndex::from_tensor(item.cast<Tensor>()));
    return ix;
  };
  cls.def(
      "index_put_",
      [tensor_indices](Tensor& self, py::tuple indices, py::handle values, bool accumulate) -> Tensor& {
        return index_put_(self, tensor_indices(indices), value_arg(self, values), accumulate);
      },
      py::arg("indices"), py::arg("values"), py::arg("accumulate") = false);
  auto index_put_fn = [tensor_indices](const Tensor& self, py::tuple indices, py::handle values, bool accumulate) {
    return index_put(self, tensor_indices(indices), value_arg(self, values), accumulate);
  };
  m.def("index_put", index_put_fn, py::arg("input"), py::arg("indices"), py::arg("values"),
        py::arg("accumulate") = false);
  cls.def("index_put", index_put_fn, py::arg("indices"), py::arg("values"), py::arg("accumulate") = false);
}

}  // namespace norch::python

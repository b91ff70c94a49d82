// Creation functions: zeros/ones/full/empty/arange/linspace/eye and *_like.
#include "convert.h"

namespace norch::python {

namespace {
TensorOptions options(py::object dtype, py::object device, bool requires_grad, ScalarType fallback) {
  TensorOptions o(dtype.is_none() ? fallback : to_scalar_type(dtype), to_device(device), requires_grad);
  return o;
}
TensorOptions like_options(const Tensor& t, py::object dtype, py::object device, bool requires_grad) {
  return TensorOptions(dtype.is_none() ? t.dtype() : to_scalar_type(dtype), device.is_none() ? t.device() : to_device(device),
                       requires_grad);
}
template <typename F>
void def_sized(py::module_& m, const char* name, F make) {
  m.def(name, [make](py::args sizes, py::object dtype, py::object device, bool requires_grad) {
    return make(shape_from_args(sizes), options(dtype, device, requires_grad, default_dtype()));
  }, py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("requires_grad") = false);
}
}  // namespace

void init_creation(py::module_& m, TensorClass& cls) {
  def_sized(m, "zeros", [](const Shape& s, TensorOptions o) { return zeros(s, o); });
  def_sized(m, "ones", [](const Shape& s, TensorOptions o) { return ones(s, o); });
  def_sized(m, "empty", [](const Shape& s, TensorOptions o) { return empty(s, o); });
  m.def("full", [](py::object size, py::object value, py::object dtype, py::object device, bool requires_grad) {
    Scalar v = to_scalar(value);
    return full(to_shape(size), v, options(dtype, device, requires_grad, v.natural_dtype()));
  }, py::arg("size"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false);
  m.def("zeros_like", [](const Tensor& t, py::object dtype, py::object device, bool rg) {
    return zeros(t.sizes(), like_options(t, dtype, device, rg));
  }, py::arg("input"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("requires_grad") = false);
  m.def("ones_like", [](const Tensor& t, py::object dtype, py::object device, bool rg) {
    return ones(t.sizes(), like_options(t, dtype, device, rg));
  }, py::arg("input"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("requires_grad") = false);
  m.def("empty_like", [](const Tensor& t, py::object dtype, py::object device, bool rg) {
    return empty(t.sizes(), like_options(t, dtype, device, rg));
  }, py::arg("input"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("requires_grad") = false);
  m.def("full_like", [](const Tensor& t, py::object value, py::object dtype, py::object device, bool rg) {
    return full(t.sizes(), to_scalar(value), like_options(t, dtype, device, rg));
  }, py::arg("input"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false);
  m.def("arange", [](py::object a, py::object b, py::object step, py::object dtype, py::object device, bool rg) {
    Scalar start = b.is_none() ? Scalar(int64_t{0}) : to_scalar(a);
    Scalar end = b.is_none() ? to_scalar(a) : to_scalar(b);
    Scalar st = to_scalar(step);
    ScalarType fallback = (start.is_floating_point() || end.is_floating_point() || st.is_floating_point())
                              ? default_dtype() : ScalarType::Int64;
    return arange(start, end, st, options(dtype, device, rg, fallback));
  }, py::arg("start"), py::arg("end") = py::none(), py::arg("step") = 1, py::kw_only(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false);
  m.def("linspace", [](double start, double end, int64_t steps, py::object dtype, py::object device, bool rg) {
    return linspace(start, end, steps, options(dtype, device, rg, default_dtype()));
  }, py::arg("start"), py::arg("end"), py::arg("steps"), py::kw_only(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false);
  m.def("eye", [](int64_t n, py::object mm, py::object dtype, py::object device, bool rg) {
    return eye(n, mm.is_none() ? -1 : mm.cast<int64_t>(), options(dtype, device, rg, default_dtype()));
  }, py::arg("n"), py::arg("m") = py::none(), py::kw_only(), py::arg("dtype") = py::none(),
        py::arg("device") = py::none(), py::arg("requires_grad") = false);

  cls.def("fill_", [](Tensor& t, py::object v) -> Tensor& { return fill_(t, to_scalar(v)); }, py::arg("value"))
      .def("zero_", [](Tensor& t) -> Tensor& { return zero_(t); })
      .def("new_zeros", [](const Tensor& t, py::args sizes, py::object dtype, py::object device, bool rg) {
        return zeros(shape_from_args(sizes), like_options(t, dtype, device, rg));
      }, py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("requires_grad") = false)
      .def("new_ones", [](const Tensor& t, py::args sizes, py::object dtype, py::object device, bool rg) {
        return ones(shape_from_args(sizes), like_options(t, dtype, device, rg));
      }, py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("requires_grad") = false)
      .def("new_empty", [](const Tensor& t, py::args sizes, py::object dtype, py::object device, bool rg) {
        return empty(shape_from_args(sizes), like_options(t, dtype, device, rg));
      }, py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("requires_grad") = false)
      .def("new_full", [](const Tensor& t, py::object size, py::object v, py::object dtype, py::object device, bool rg) {
        return full(to_shape(size), to_scalar(v), like_options(t, dtype, device, rg));
      }, py::arg("size"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
         py::arg("device") = py::none(), py::arg("requires_grad") = false)
      .def("new_tensor", [](const Tensor& t, py::object data, py::object dtype, py::object device, bool rg) {
        auto o = like_options(t, dtype, device, rg);
        return tensor_from_data(data, o.dtype, o.device, rg);
      }, py::arg("data"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
         py::arg("requires_grad") = false);
}

}  // namespace norch::python

// The dtype and device objects (norch.float32, norch.device) and the dtype
// functions: default dtype, promote_types, result_type.
#include "convert.h"

namespace norch::python {

void init_dtype(py::module_& m, TensorClass&) {
  py::class_<PyDType>(m, "dtype")
      .def_property_readonly("is_floating_point", [](const PyDType& d) { return is_floating_point(d.type); })
      .def_property_readonly("itemsize", [](const PyDType& d) { return element_size(d.type); })
      .def_property_readonly("is_signed", [](const PyDType& d) { return d.type != ScalarType::Bool && d.type != ScalarType::UInt8; })
      .def("__repr__", [](const PyDType& d) { return std::string("norch.") + dtype_name(d.type); })
      .def("__eq__", [](const PyDType& a, py::object b) {
        return py::isinstance<PyDType>(b) && b.cast<PyDType>().type == a.type;
      })
      .def("__hash__", [](const PyDType& d) { return static_cast<int>(d.type) + 1000; })
      .def("__reduce__", [](const PyDType& d) -> py::tuple {
        py::object by_name = py::module_::import("norch").attr("_dtype_by_name");
        return py::make_tuple(by_name, py::make_tuple(dtype_name(d.type)));
      });
  for (int i = 0; i < kNumScalarTypes; ++i) {
    ScalarType t = static_cast<ScalarType>(i);
    m.attr(dtype_name(t)) = dtype_object(t);
  }
  m.def("get_default_dtype", [] { return dtype_object(default_dtype()); });
  m.def("set_default_dtype", [](py::handle d) { set_default_dtype(to_scalar_type(d)); }, py::arg("d"));
  m.def("promote_types", [](py::handle a, py::handle b) {
    return dtype_object(promote_types(to_scalar_type(a), to_scalar_type(b)));
  }, py::arg("type1"), py::arg("type2"));
  m.def("result_type", [](py::handle a, py::handle b) {
    return dtype_object(result_type({to_tensor_arg(a, "result_type"), to_tensor_arg(b, "result_type")}));
  }, py::arg("tensor1"), py::arg("tensor2"));
}

void init_device(py::module_& m, TensorClass&) {
  py::class_<Device>(m, "device")
      .def(py::init([](py::object spec, std::optional<int> index) {
             Device d = to_device(spec);
             if (index) {
               NORCH_CHECK(d.index < 0, "device(): type (string) must not include an index because index was passed "
                           "explicitly: ", d.str());
               d.index = static_cast<int8_t>(*index);
             }
             return d;
           }),
           py::arg("type"), py::arg("index") = py::none())
      .def_property_readonly("type", [](const Device& d) { return Device(d.type).str(); })
      .def_property_readonly("index", [](const Device& d) -> py::object {
        return d.index < 0 ? py::object(py::none()) : py::object(py::int_(d.index));
      })
      .def("__repr__", [](const Device& d) {
        const std::string type = "device(type='" + Device(d.type).str() + "'";
        return d.index < 0 ? type + ")" : type + ", index=" + std::to_string(d.index) + ")";
      })
      .def("__str__", &Device::str)
      .def("__eq__", [](const Device& a, py::object b) {
        if (py::isinstance<py::str>(b)) return a == Device(b.cast<std::string>()) && a.index == Device(b.cast<std::string>()).index;
        return py::isinstance<Device>(b) && a == b.cast<Device>() && a.index == b.cast<Device>().index;
      })
      .def("__hash__", [](const Device& d) { return static_cast<int>(d.type) * 100 + d.index; });
  py::implicitly_convertible<py::str, Device>();
}

}  // namespace norch::python

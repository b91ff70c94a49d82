// The Tensor class: construction, metadata and conversion (NumPy interop: numpy_bind.cpp).
#include "convert.h"
#include "norch/autograd/detach.h"

namespace norch::python {

namespace {

// Construction and metadata: shape, strides, dtype, device, storage identity.
void bind_metadata(TensorClass& cls) {
  cls.def(py::init([](py::args args) {
            // norch.Tensor(data) or norch.Tensor(*sizes): PyTorch's legacy constructor, float32 by default.
            if (args.size() == 0) return empty({0}, TensorOptions(default_dtype()));
            if (args.size() == 1 && py::isinstance<Tensor>(args[0])) return alias(args[0].cast<Tensor>());
            if (args.size() == 1 && !PyLong_Check(args[0].ptr()))
              return tensor_from_data(args[0], default_dtype(), Device(), false);
            return empty(shape_from_args(args), TensorOptions(default_dtype()));
          }))
      .def_property_readonly("shape", [](const Tensor& t) { return shape_object(t.sizes()); })
      .def("size", [](const Tensor& t, py::object dim) -> py::object {
        if (dim.is_none()) return shape_object(t.sizes());
        return py::int_(t.size(dim.cast<int64_t>()));
      }, py::arg("dim") = py::none())
      .def("dim", &Tensor::dim)
      .def("ndimension", &Tensor::dim)
      .def_property_readonly("ndim", &Tensor::dim)
      .def("numel", &Tensor::numel)
      .def("nelement", &Tensor::numel)
      .def("__len__", [](const Tensor& t) {
        NORCH_CHECK_TYPE(t.dim() > 0, "len() of a 0-d tensor");
        return t.sizes()[0];
      })
      .def_property_readonly("dtype", [](const Tensor& t) { return dtype_object(t.dtype()); })
      .def_property_readonly("device", &Tensor::device)
      .def_property_readonly("is_cuda", &Tensor::is_cuda)
      .def_property_readonly("is_cpu", [](const Tensor& t) { return t.device().is_cpu(); })
      .def("stride", [](const Tensor& t, py::object dim) -> py::object {
        if (dim.is_none()) return py::tuple(py::cast(t.strides()));
        return py::int_(t.stride(dim.cast<int64_t>()));
      }, py::arg("dim") = py::none())
      .def("storage_offset", &Tensor::storage_offset)
      .def("is_contiguous", [](const Tensor& t) { return t.is_contiguous(); })
      .def("element_size", &Tensor::element_size)
      .def_property_readonly("itemsize", &Tensor::element_size)
      .def_property_readonly("nbytes", [](const Tensor& t) {
        // An expanded view may hold more elements than bytes fit in int64.
        return checked_mul(t.numel(), static_cast<int64_t>(t.element_size()), "nbytes");
      })
      .def("is_floating_point", &Tensor::is_floating_point)
      .def("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()); })
      .def("_version", &Tensor::version)
      .def_property_readonly("_version", &Tensor::version)
      .def("_storage_id", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.impl()->storage.get()); })
      .def("_is_view", [](const Tensor& t) { return t.impl()->is_view; });
}

// Conversions: to Python numbers and NumPy, between dtypes and devices, detach and copy.
void bind_conversions(TensorClass& cls) {
  cls.def("item", [](const Tensor& t) -> py::object {
        Scalar s = t.item();
        if (s.is_bool()) return py::bool_(s.to_int() != 0);
        if (s.is_integral()) return py::int_(s.to_int());
        return py::float_(s.to_double());
      })
      .def("contiguous", [](const Tensor& t) { return contiguous(t); })
      .def("clone", [](const Tensor& t) { return clone(t); })
      .def("detach", [](const Tensor& t) { return detach(t); })
      .def("detach_", [](Tensor& t) -> Tensor& { return autograd::detach_(t); })
      .def("copy_", [](Tensor& t, const Tensor& src, bool non_blocking) -> Tensor& {
        return copy_(t, src, non_blocking);
      }, py::arg("src"), py::arg("non_blocking") = false)
      .def("cpu", [](const Tensor& t) { return to_device(t, Device()); })
      .def("cuda", [](const Tensor& t, py::object device, bool non_blocking) {
        Device d = device.is_none() ? Device(DeviceType::CUDA, -1) : to_device(device);
        if (!d.is_cuda()) d = Device(DeviceType::CUDA, d.index);
        return to_device(t, d, false, non_blocking);
      }, py::arg("device") = py::none(), py::arg("non_blocking") = false)
      .def("pin_memory", [](const Tensor& t, py::object) { return pin_memory(t); }, py::arg("device") = py::none())
      .def("is_pinned", [](const Tensor& t, py::object) { return is_pinned(t); }, py::arg("device") = py::none())
      .def("to", [](const Tensor& t, py::args args, py::kwargs kwargs) {
        // to(dtype) / to(device) / to(device, dtype) / to(other) / to(dtype=, device=, copy=)
        std::optional<ScalarType> dtype;
        std::optional<Device> device;
        bool copy = false, non_blocking = false;
        int bools = 0;
        for (auto a : args) {
          if (py::isinstance<Tensor>(a)) {
            dtype = a.cast<Tensor>().dtype();
            device = a.cast<Tensor>().device();
          } else if (py::isinstance<PyDType>(a)) {
            dtype = a.cast<PyDType>().type;
          } else if (py::isinstance<py::bool_>(a)) {
            // to(device, dtype, non_blocking, copy): the first bool, then the second
            (bools++ == 0 ? non_blocking : copy) = a.cast<bool>();
          } else {
            device = to_device(a);
          }
        }
        if (kwargs.contains("dtype") && !kwargs["dtype"].is_none()) dtype = to_scalar_type(kwargs["dtype"]);
        if (kwargs.contains("device") && !kwargs["device"].is_none()) device = to_device(kwargs["device"]);
        if (kwargs.contains("copy")) copy = kwargs["copy"].cast<bool>();
        if (kwargs.contains("non_blocking")) non_blocking = kwargs["non_blocking"].cast<bool>();
        Tensor r = t;
        if (device && *device != r.device()) { r = to_device(r, *device, false, non_blocking); copy = false; }
        if (dtype && (*dtype != r.dtype() || copy)) { r = to_dtype(r, *dtype, copy); copy = false; }
        if (copy) r = clone(r);
        return r;
      })
      .def("type", [](const Tensor& t, py::object dtype) -> py::object {
        if (dtype.is_none()) {
          static const char* names[] = {"BoolTensor", "ByteTensor",   "IntTensor",  "LongTensor",
                                        "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor"};
          return py::str(std::string("norch.") + names[static_cast<int>(t.dtype())]);
        }
        return py::cast(to_dtype(t, to_scalar_type(dtype)));
      }, py::arg("dtype") = py::none())
      .def("float", [](const Tensor& t) { return to_dtype(t, ScalarType::Float32); })
      .def("double", [](const Tensor& t) { return to_dtype(t, ScalarType::Float64); })
      .def("half", [](const Tensor& t) { return to_dtype(t, ScalarType::Float16); })
      .def("bfloat16", [](const Tensor& t) { return to_dtype(t, ScalarType::BFloat16); })
      .def("long", [](const Tensor& t) { return to_dtype(t, ScalarType::Int64); })
      .def("int", [](const Tensor& t) { return to_dtype(t, ScalarType::Int32); })
      .def("byte", [](const Tensor& t) { return to_dtype(t, ScalarType::UInt8); })
      .def("bool", [](const Tensor& t) { return to_dtype(t, ScalarType::Bool); })
      .def("__bool__", [](const Tensor& t) {
        NORCH_CHECK(t.numel() == 1, "Boolean value of Tensor with more than one value is ambiguous");
        return t.item().to_double() != 0.0;
      })
      .def("__float__", [](const Tensor& t) {
        NORCH_CHECK_TYPE(t.numel() == 1, "only one element tensors can be converted to Python scalars");
        return t.item().to_double();
      })
      .def("__int__", [](const Tensor& t) {
        NORCH_CHECK_TYPE(t.numel() == 1, "only one element tensors can be converted to Python scalars");
        Scalar s = t.item();
        // Python's int(float): NaN and inf raise, large values become big ints.
        if (s.is_floating_point()) {
          PyObject* r = PyNumber_Long(py::float_(s.to_double()).ptr());
          if (!r) throw py::error_already_set();
          return py::reinterpret_steal<py::int_>(r);
        }
        return py::int_(s.to_int());
      })
      .def("__index__", [](const Tensor& t) {
        NORCH_CHECK_TYPE(t.numel() == 1 && !t.is_floating_point(),
                         "only integer tensors of a single element can be converted to an index");
        return t.item().to_int();
      })
      .def("_is_same", [](const Tensor& a, const Tensor& b) { return a.is_same(b); }, py::arg("other"))
      .def_property("data", [](const Tensor& t) { return detach(t); },
                    [](const Tensor& t, const Tensor& src) { set_data(t, src); });;
}

}  // namespace

void init_tensor(py::module_& m, TensorClass& cls) {
  bind_metadata(cls);
  bind_conversions(cls);
  m.def("tensor", [](py::object data, py::object dtype, py::object device, bool requires_grad) {
    std::optional<ScalarType> dt;
    if (!dtype.is_none()) dt = to_scalar_type(dtype);
    return tensor_from_data(data, dt, to_device(device), requires_grad);
  }, py::arg("data"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
        py::arg("requires_grad") = false);
  m.def("set_num_threads", [](int n) { set_num_threads(n); }, py::arg("int"));
  m.def("get_num_threads", [] { return get_num_threads(); });
}

}  // namespace norch::python

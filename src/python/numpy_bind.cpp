// NumPy interop at the Python surface: norch.from_numpy's checks, Tensor.numpy(),
// and the __array__ / __array_wrap__ protocol NumPy calls. The shared-memory
// conversions themselves are from_numpy / to_numpy in convert.cpp.
#include "convert.h"

namespace norch::python {

namespace {

const char* const kRequiresGradMsg =
    "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.";

// The NumPy dtypes that have a norch dtype, as PyTorch's check reads them.
bool supported_numpy_dtype(const py::dtype& dt) {
  const char kind = dt.kind();
  const size_t size = dt.itemsize();
  return (kind == 'f' && (size == 2 || size == 4 || size == 8)) || (kind == 'i' && (size == 4 || size == 8)) ||
         (kind == 'u' && size == 1) || (kind == 'b' && size == 1);
}

Tensor checked_from_numpy(py::handle obj) {
  NORCH_CHECK_TYPE(py::isinstance<py::array>(obj), "expected np.ndarray (got ",
                   std::string(py::str(obj.get_type().attr("__name__"))), ")");
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  py::dtype dt = arr.dtype();
  NORCH_CHECK_TYPE(supported_numpy_dtype(dt), "can't convert np.ndarray of type numpy.",
                   std::string(py::str(dt.attr("type").attr("__name__"))),
                   ". The only supported types are: float64, float32, float16, int64, int32, uint8, and bool.");
  // from_numpy refuses a non-native byte order and warns about a read-only array.
  return from_numpy(arr);
}

// NumPy 2's protocol: copy=None shares when it can, True always copies, False
// never does (a ValueError when it would have to). As in PyTorch it goes
// through numpy(), so a tensor that requires grad or lives on a GPU is refused.
py::array array_protocol(const Tensor& t, py::object dtype, py::object copy) {
  NORCH_CHECK(!t.requires_grad(), kRequiresGradMsg);
  py::array a = to_numpy(t);
  const bool never_copy = !copy.is_none() && !copy.cast<bool>();
  if (!dtype.is_none()) {
    py::dtype want = py::dtype::from_args(dtype);
    if (!want.equal(a.dtype())) {
      NORCH_CHECK_VALUE(!never_copy, "Unable to avoid copy while creating an array as requested: a norch.",
                        dtype_name(t.dtype()), " tensor viewed as ", std::string(py::str(want)));
      return a.attr("astype")(want);
    }
  }
  if (!copy.is_none() && copy.cast<bool>()) return a.attr("copy")();
  return a;
}

}  // namespace

void init_numpy(py::module_& m, TensorClass& cls) {
  cls.def("numpy", [](const Tensor& t, bool force) {
        NORCH_CHECK(force || !t.requires_grad(), kRequiresGradMsg);
        return to_numpy(force ? t.detach().to(Device()) : t);
      }, py::kw_only(), py::arg("force") = false)
      .def("__array__", &array_protocol, py::arg("dtype") = py::none(), py::arg("copy") = py::none())
      // A ufunc given a tensor returns a tensor (np.sin(t), t * ndarray), as in
      // PyTorch, including its mapping of bool results to uint8.
      .def("__array_wrap__", [](const Tensor&, py::array arr, py::object, py::object) {
        if (arr.dtype().kind() == 'b') arr = arr.attr("astype")("uint8");
        return checked_from_numpy(arr);
      }, py::arg("array"), py::arg("context") = py::none(), py::arg("return_scalar") = false);
  m.def("from_numpy", &checked_from_numpy, py::arg("ndarray"));
}

}  // namespace norch::python

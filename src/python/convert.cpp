// Python <-> core conversions.
#include "convert.h"

#include <cstring>

#include "norch/tensor/size_math.h"

namespace norch::python {

// Module-lifetime Python objects are kept as leaked references: destroying
// them after the interpreter has finalized would crash at exit.
py::object dtype_object(ScalarType t) {
  static PyObject* objs[kNumScalarTypes] = {};
  PyObject*& o = objs[static_cast<int>(t)];
  if (!o) o = py::cast(PyDType{t}).release().ptr();
  return py::reinterpret_borrow<py::object>(o);
}

ScalarType to_scalar_type(py::handle obj) {
  if (py::isinstance<PyDType>(obj)) return obj.cast<PyDType>().type;
  if (obj.ptr() == reinterpret_cast<PyObject*>(&PyFloat_Type)) return ScalarType::Float64;
  if (obj.ptr() == reinterpret_cast<PyObject*>(&PyLong_Type)) return ScalarType::Int64;
  if (obj.ptr() == reinterpret_cast<PyObject*>(&PyBool_Type)) return ScalarType::Bool;
  try {
    py::dtype d = py::dtype::from_args(py::reinterpret_borrow<py::object>(obj));
    char kind = d.kind();
    size_t size = d.itemsize();
    if (kind == 'f' && size == 4) return ScalarType::Float32;
    if (kind == 'f' && size == 8) return ScalarType::Float64;
    if (kind == 'f' && size == 2) return ScalarType::Float16;
    if (kind == 'i' && size == 4) return ScalarType::Int32;
    if (kind == 'i' && size == 8) return ScalarType::Int64;
    if (kind == 'u' && size == 1) return ScalarType::UInt8;
    if (kind == 'b') return ScalarType::Bool;
  } catch (const py::error_already_set&) {
  }
  throw Error(ErrorKind::Type, str("expected a norch dtype (norch.float32, norch.int64, ...), got ",
                                   std::string(py::repr(obj))));
}

Device to_device(py::handle obj) {
  if (obj.is_none()) return Device();
  if (py::isinstance<Device>(obj)) return obj.cast<Device>();
  if (py::isinstance<py::str>(obj)) return Device(obj.cast<std::string>());
  if (py::isinstance<py::int_>(obj)) return Device(DeviceType::CUDA, obj.cast<int>());
  throw Error(ErrorKind::Type, str("expected a device (\"cpu\", \"cuda\", \"cuda:0\" or norch.device), got ",
                                   std::string(py::repr(obj))));
}

bool is_scalar_like(py::handle obj) {
  if (PyFloat_Check(obj.ptr()) || PyLong_Check(obj.ptr()) || PyBool_Check(obj.ptr())) return true;
  // NumPy scalars (np.float32(1), np.int64(2), np.bool_)
  return py::isinstance<py::array>(obj) ? false : (PyObject_HasAttrString(obj.ptr(), "dtype") &&
                                                   PyObject_HasAttrString(obj.ptr(), "item") &&
                                                   !py::isinstance<Tensor>(obj) &&
                                                   py::getattr(obj, "shape").cast<py::tuple>().size() == 0);
}

Scalar to_scalar(py::handle obj) {
  if (PyBool_Check(obj.ptr())) return Scalar(obj.ptr() == Py_True);
  if (PyLong_Check(obj.ptr())) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
    NORCH_CHECK_KIND(ErrorKind::Runtime, !overflow, "value cannot be converted to type int64 without overflow");
    return Scalar(static_cast<int64_t>(v));
  }
  if (PyFloat_Check(obj.ptr())) return Scalar(PyFloat_AS_DOUBLE(obj.ptr()));
  if (py::isinstance<Tensor>(obj)) return obj.cast<Tensor>().item();
  if (PyObject_HasAttrString(obj.ptr(), "item")) return to_scalar(obj.attr("item")());
  throw Error(ErrorKind::Type, str("expected a number, got ", std::string(py::str(obj.get_type().attr("__name__")))));
}

std::optional<Tensor> as_tensor_arg(py::handle obj, Device device) {
  // Python numbers first: py::isinstance<Tensor> looks the class up in pybind11's
  // registry (about 950 instructions, 3/4 of `a * 2`'s conversion of the 2), and
  // no bool, int or float (nor a subclass, np.float64) can be a Tensor.
  if (PyFloat_Check(obj.ptr()) || PyLong_Check(obj.ptr())) return scalar_to_tensor(to_scalar(obj), device);
  if (py::isinstance<Tensor>(obj)) return obj.cast<Tensor>();
  if (is_scalar_like(obj)) return scalar_to_tensor(to_scalar(obj), device);
  return std::nullopt;
}

Tensor to_tensor_arg(py::handle obj, const char* what, Device device) {
  auto t = as_tensor_arg(obj, device);
  if (!t)
    throw Error(ErrorKind::Type, str(what, ": expected a Tensor or a number, got ",
                                     std::string(py::str(obj.get_type().attr("__name__")))));
  return *t;
}

Shape to_shape(py::handle obj) {
  if (PyLong_Check(obj.ptr())) return Shape{obj.cast<int64_t>()};
  if (py::isinstance<Tensor>(obj)) {
    Tensor t = obj.cast<Tensor>();
    NORCH_CHECK_TYPE(!t.is_floating_point() && t.dim() <= 1, "shape must be given as integers, got a ",
                     dtype_name(t.dtype()), " tensor");
    Shape s;
    Tensor c = t.to(ScalarType::Int64).contiguous();
    for (int64_t i = 0; i < c.numel(); ++i) s.push_back(c.data<int64_t>()[i]);
    return s;
  }
  if (!py::isinstance<py::sequence>(obj) || py::isinstance<py::str>(obj))
    throw Error(ErrorKind::Type, str("expected a sequence of integers for a shape, got ",
                                     std::string(py::str(obj.get_type().attr("__name__")))));
  Shape s;
  for (auto item : py::reinterpret_borrow<py::sequence>(obj)) {
    if (PyLong_Check(item.ptr())) {
      s.push_back(item.cast<int64_t>());
    } else if (PyObject_HasAttrString(item.ptr(), "__index__") && !PyFloat_Check(item.ptr())) {
      s.push_back(py::int_(py::reinterpret_borrow<py::object>(item)).cast<int64_t>());
    } else {
      throw Error(ErrorKind::Type, str("shape must contain only integers, got ",
                                       std::string(py::str(item.get_type().attr("__name__")))));
    }
  }
  return s;
}

Shape shape_from_args(const py::args& args) {
  if (args.size() == 1 && !PyLong_Check(args[0].ptr())) return to_shape(args[0]);
  return to_shape(args);
}

Shape to_dims(py::handle obj) {
  if (obj.is_none()) return {};
  if (PyLong_Check(obj.ptr())) return Shape{obj.cast<int64_t>()};
  return to_shape(obj);
}

py::object shape_object(const Shape& s) {
  static PyObject* size_cls = nullptr;
  py::tuple tup(s.size());
  for (size_t i = 0; i < s.size(); ++i) tup[i] = py::int_(s[i]);
  if (!size_cls) size_cls = py::object(py::module_::import("norch._size").attr("Size")).release().ptr();
  return py::reinterpret_borrow<py::object>(size_cls)(tup);
}

namespace {
void check_native_byte_order(const py::array& arr) {
  NORCH_CHECK_VALUE(arr.dtype().attr("isnative").cast<bool>(),
                    "given numpy array has byte order different from the native byte order. Conversion between byte "
                    "orders is currently not supported.");
}

// A bool array's bytes may be anything (a uint8 array viewed as bool, a crafted
// file): reading a byte other than 0 or 1 as a C++ bool is undefined, so they are
// made 0/1 on the way in. Returns the array to wrap: `arr` itself, normalised in
// place when writable (its truth values do not change), else a normalised copy.
py::array normalised_bool_array(py::array arr) {
  py::object bytes = arr.attr("view")(py::dtype("uint8"));
  if (!bytes.attr("__gt__")(1).attr("any")().cast<bool>()) return arr;
  py::module_ np = py::module_::import("numpy");
  if (!arr.writeable()) return py::reinterpret_steal<py::array>(bytes.attr("__ne__")(0).release());
  np.attr("minimum")(bytes, 1, py::arg("out") = bytes);
  return arr;
}

// Shares the array's memory; the storage keeps the array alive.
Tensor wrap_array(py::array arr) {
  ScalarType t = to_scalar_type(arr.dtype());
  Shape sizes(arr.ndim()), strides(arr.ndim());
  const int64_t es = static_cast<int64_t>(arr.itemsize());
  for (py::ssize_t i = 0; i < arr.ndim(); ++i) {
    sizes[i] = arr.shape(i);
    NORCH_CHECK_VALUE(arr.strides(i) % es == 0, "from_numpy: array strides must be multiples of the element size");
    strides[i] = arr.strides(i) / es;
    NORCH_CHECK_VALUE(strides[i] >= 0 || sizes[i] <= 1,
                      "At least one stride in the given numpy array is negative, and tensors with negative strides "
                      "are not currently supported. (You can probably work around this by making a copy of your array "
                      " with array.copy().) ");
  }
  check_shape(sizes);  // before the reference below is taken, so a refusal leaks nothing
  // The deleter must hold the GIL to release the array.
  PyObject* owner = arr.ptr();
  Py_INCREF(owner);
  // data(), not mutable_data(): a read-only array is shared too, as in PyTorch (norch.from_numpy warns).
  return from_blob(const_cast<void*>(arr.data()), sizes, strides, t, Device(), [owner](void*) {
    py::gil_scoped_acquire gil;
    Py_DECREF(owner);
  });
}
}  // namespace

Tensor from_numpy(py::array arr) {
  check_native_byte_order(arr);
  if (!arr.writeable()) {
    // As PyTorch: a read-only array is shared anyway (norch has no read-only
    // tensors), with a warning once per process.
    static bool warned = false;
    if (!warned) {
      warned = true;
      if (PyErr_WarnEx(PyExc_UserWarning,
                       "The given NumPy array is not writable, and norch does not support non-writable tensors. "
                       "This means writing to this tensor will result in undefined behavior. You may want to copy "
                       "the array to protect its data or make it writable before converting it to a tensor. This "
                       "type of warning will be suppressed for the rest of this program.",
                       1) != 0)
        throw py::error_already_set();
    }
  }
  if (arr.dtype().kind() == 'b') arr = normalised_bool_array(arr);
  return wrap_array(arr);
}

py::array to_numpy(const Tensor& t) {
  NORCH_CHECK_TYPE(t.device().is_cpu(), "can't convert ", t.device().str(),
                   " device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.");
  std::vector<py::ssize_t> shape(t.sizes().begin(), t.sizes().end());
  std::vector<py::ssize_t> strides(t.dim());
  for (int64_t i = 0; i < t.dim(); ++i) {
    // Only a size-1 dim (never stepped) can have a stride whose byte count
    // overflows (as_strided); any stride serves there.
    int64_t bytes;
    strides[i] = mul_overflows(t.strides()[i], static_cast<int64_t>(t.element_size()), &bytes) ? 0 : bytes;
  }
  // NumPy has no bfloat16, and PyTorch raises this TypeError for it.
  NORCH_CHECK_TYPE(t.dtype() != ScalarType::BFloat16, "Got unsupported ScalarType BFloat16");
  // norch's dtype names are NumPy's, so no per-dtype table is needed here.
  py::dtype dt(dtype_name(t.dtype()));
  // The array's base is a capsule holding the storage: memory is shared and lives as long as either.
  auto* keep = new Storage(t.impl()->storage);
  py::capsule base(keep, [](void* p) { delete static_cast<Storage*>(p); });
  return py::array(dt, shape, strides, t.data_ptr(), base);
}

namespace {
// Recursively infers shape and dtype of nested Python sequences.
void infer(py::handle obj, Shape& shape, size_t depth, ScalarType& kind, bool& any) {
  if (is_scalar_like(obj) || py::isinstance<Tensor>(obj)) {
    NORCH_CHECK_VALUE(depth == shape.size(), "expected sequence of length ", depth < shape.size() ? shape[depth] : 0,
                      " at dim ", depth, " (got a number)");
    ScalarType k;
    if (py::isinstance<Tensor>(obj)) {
      Tensor t = obj.cast<Tensor>();
      NORCH_CHECK_VALUE(t.numel() == 1, "only one element tensors can be converted to Python scalars");
      k = t.dtype();
    } else if (PyBool_Check(obj.ptr())) {
      k = ScalarType::Bool;
    } else if (PyLong_Check(obj.ptr())) {
      k = ScalarType::Int64;
    } else if (PyFloat_Check(obj.ptr())) {
      k = default_dtype();
    } else {
      k = to_scalar_type(obj.attr("dtype"));
      if (is_floating_point(k)) k = default_dtype();
    }
    kind = any ? promote_types(kind, k) : k;
    any = true;
    return;
  }
  NORCH_CHECK_TYPE(py::isinstance<py::sequence>(obj) && !py::isinstance<py::str>(obj),
                   "new(): invalid data type '", std::string(py::str(obj.get_type().attr("__name__"))), "'");
  // The recursion depth is the tensor's dimension count: bounding it by the most
  // dims a tensor may have keeps a deeply nested (or self-containing) list from
  // overflowing the C stack. PyTorch raises this ValueError.
  NORCH_CHECK_VALUE(static_cast<int64_t>(depth) < kMaxTensorDims, "too many dimensions '",
                    std::string(py::str(obj.get_type().attr("__name__"))), "'");
  auto seq = py::reinterpret_borrow<py::sequence>(obj);
  int64_t n = static_cast<int64_t>(py::len(seq));
  if (depth == shape.size()) {
    NORCH_CHECK_VALUE(!any || depth < shape.size(), "expected a number at dim ", depth, " but got a sequence");
    shape.push_back(n);
  } else {
    NORCH_CHECK_VALUE(shape[depth] == n, "expected sequence of length ", shape[depth], " at dim ", depth, " (got ", n,
                      ")");
  }
  for (auto item : seq) infer(item, shape, depth + 1, kind, any);
}

template <typename T>
void fill(py::handle obj, T*& out) {
  if (is_scalar_like(obj) || py::isinstance<Tensor>(obj)) {
    Scalar s = to_scalar(obj);
    // PyTorch refuses a value outside the dtype's range (NaN into int64, 300 into uint8).
    NORCH_CHECK(s.fits<T>(), "value cannot be converted to type ", dtype_name(CppTypeToScalarType<T>::value),
                " without overflow");
    *out++ = s.to<T>();
    return;
  }
  for (auto item : py::reinterpret_borrow<py::sequence>(obj)) fill<T>(item, out);
}
}  // namespace

Tensor tensor_from_data(py::handle data, std::optional<ScalarType> dtype, Device device, bool requires_grad) {
  Tensor t;
  if (py::isinstance<Tensor>(data)) {
    t = clone(data.cast<Tensor>().detach()).detach();
    if (dtype) t = t.to(*dtype);
  } else if (py::isinstance<py::array>(data)) {
    py::array arr = py::reinterpret_borrow<py::array>(data);
    check_native_byte_order(arr);
    t = clone(wrap_array(py::array::ensure(arr, py::array::c_style | py::array::forcecast)));
    if (t.dtype() == ScalarType::Bool) {
      // The copy is ours: its bytes are made 0/1 here (see normalised_bool_array).
      auto* p = t.data<uint8_t>();
      for (int64_t i = 0; i < t.numel(); ++i) p[i] = p[i] != 0;
    }
    if (dtype) t = t.to(*dtype);
  } else {
    Shape shape;
    ScalarType kind = default_dtype();
    bool any = false;
    infer(data, shape, 0, kind, any);
    if (!any) kind = default_dtype();  // empty list
    ScalarType target = dtype.value_or(kind);
    t = empty(shape, TensorOptions(target));
    NORCH_DISPATCH_ALL_TYPES_AND_HALF(target, "tensor", [&] {
      scalar_t* p = t.data<scalar_t>();
      fill<scalar_t>(data, p);
    });
  }
  if (!device.is_cpu() || !t.device().is_cpu()) t = t.to(device);
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

std::optional<ScalarType> opt_dtype(py::handle obj) {
  if (obj.is_none()) return std::nullopt;
  return to_scalar_type(obj);
}

TensorList tensor_list(py::handle obj) {
  TensorList out;
  if (obj.is_none()) return out;
  if (py::isinstance<Tensor>(obj)) return {obj.cast<Tensor>()};
  for (auto item : py::reinterpret_borrow<py::sequence>(obj))
    out.push_back(item.is_none() ? Tensor() : item.cast<Tensor>());
  return out;
}

py::module_ submodule(py::module_& m, const char* name, const char* doc) {
  if (py::hasattr(m, name)) return py::reinterpret_borrow<py::module_>(m.attr(name));
  return m.def_submodule(name, doc);
}

}  // namespace norch::python

// Conversions between Python objects and core types, shared by every binding
// file. The binding layer converts and forwards; it holds no op logic.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>

#include "norch/norch.h"

namespace py = pybind11;

namespace norch::python {

// The Python-visible dtype object (norch.float32, ...).
struct PyDType {
  ScalarType type;
};

ScalarType to_scalar_type(py::handle obj);  // norch.dtype, numpy dtype, or Python type
py::object dtype_object(ScalarType t);
Device to_device(py::handle obj);           // "cuda:0", norch.device, or None -> cpu
bool is_scalar_like(py::handle obj);        // bool, int, float (and numpy scalars)
Scalar to_scalar(py::handle obj);
// Tensor, or a Python number as a wrapped-number tensor on `device`.
// Returns nullopt when obj is neither (the caller returns NotImplemented).
std::optional<Tensor> as_tensor_arg(py::handle obj, Device device = Device());
Tensor to_tensor_arg(py::handle obj, const char* what, Device device = Device());
// A shape from ints, a sequence, or a norch.Size; `args` may be (2, 3) or ((2, 3),).
Shape to_shape(py::handle obj);
Shape shape_from_args(const py::args& args);
// dim arguments: None -> {}, int -> {d}, sequence -> dims.
Shape to_dims(py::handle obj);
// norch.tensor(data): nested lists, scalars, NumPy arrays, tensors.
Tensor tensor_from_data(py::handle data, std::optional<ScalarType> dtype, Device device, bool requires_grad);
// Zero-copy NumPy <-> Tensor (CPU only).
Tensor from_numpy(py::array arr);
py::array to_numpy(const Tensor& t);
py::object shape_object(const Shape& s);  // a norch.Size
// None -> nullopt, else a dtype as to_scalar_type reads it.
std::optional<ScalarType> opt_dtype(py::handle obj);
// None -> {}, a Tensor -> {t}, a sequence -> its tensors (None entries stay undefined).
TensorList tensor_list(py::handle obj);
// The submodule `name` of m (norch._C._nn, ...), created on first use, whichever area asks first.
py::module_ submodule(py::module_& m, const char* name, const char* doc = nullptr);

// Note [GIL release]
// Bindings run the kernels that do real work (matmul, conv, pooling, reductions,
// softmax, losses, norms, the autograd engine) with the GIL released, so other
// Python threads (a data loader, a second model) progress meanwhile. Arguments
// are converted first, with the GIL held; nothing touches a Python object while
// it is released. Code the core calls back into Python takes the GIL itself
// (Note [GIL and the engine], autograd_bind.cpp). Ops over fewer than
// kGilReleaseWork elements keep the GIL: handing it over would cost more than
// the kernel.
constexpr int64_t kGilReleaseWork = int64_t(1) << 14;
class GilRelease {
 public:
  explicit GilRelease(int64_t work = kGilReleaseWork) {
    if (work >= kGilReleaseWork) state_ = PyEval_SaveThread();
  }
  ~GilRelease() {
    if (state_) PyEval_RestoreThread(state_);
  }
  GilRelease(const GilRelease&) = delete;
  GilRelease& operator=(const GilRelease&) = delete;

 private:
  PyThreadState* state_ = nullptr;
};

// Note [GIL around elementwise kernels]
// An elementwise op on a large input releases the GIL while it runs, so other
// Python threads (a DataLoader's workers, say) go on. A tiny op keeps it:
// releasing and taking it back costs about as much as `a + b` on four elements.
// Arguments are converted before and results after, with the GIL held. What the
// core calls back into Python while it is released takes the GIL itself:
// anomaly mode's stack capture (autograd_bind.cpp), a NumPy array's storage
// deleter (convert.cpp) and a Python autograd.Function's node
// (python_function.cpp); NORCH_DEBUG tracing writes to stderr from C++.
constexpr int64_t kReleaseGilNumel = int64_t(1) << 15;
template <typename F>
decltype(auto) run_kernel(int64_t numel, F&& f) {
  if (numel < kReleaseGilNumel) return f();
  py::gil_scoped_release release;
  return f();
}

// Binding areas; each adds module functions and Tensor methods. module.cpp calls
// every one of them, in this order.
using TensorClass = py::class_<Tensor>;
// The Tensor type's number slots (operators_bind.cpp), set before the type is
// readied; init_operators caches what they need once the class exists.
void tensor_operator_slots(PyHeapTypeObject* heap_type);
void init_operators(py::module_& m, TensorClass& cls);
void init_dtype(py::module_& m, TensorClass& cls);
void init_device(py::module_& m, TensorClass& cls);
void init_tensor(py::module_& m, TensorClass& cls);
void init_creation(py::module_& m, TensorClass& cls);
void init_elementwise(py::module_& m, TensorClass& cls);
void init_reduce(py::module_& m, TensorClass& cls);
void init_shape(py::module_& m, TensorClass& cls);
void init_index(py::module_& m, TensorClass& cls);
void init_select(py::module_& m, TensorClass& cls);
void init_linalg(py::module_& m, TensorClass& cls);
void init_autograd(py::module_& m, TensorClass& cls);
void init_python_function(py::module_& m, TensorClass& cls);
void init_nn_loss(py::module_& m, TensorClass& cls);
void init_nn_conv(py::module_& m, TensorClass& cls);
void init_optim(py::module_& m, TensorClass& cls);
void init_random(py::module_& m, TensorClass& cls);
void init_cuda(py::module_& m, TensorClass& cls);
void init_numpy(py::module_& m, TensorClass& cls);
void init_dlpack(py::module_& m, TensorClass& cls);
void init_autocast(py::module_& m, TensorClass& cls);
// Run last: every bound function's docstring in CPython's text-signature form (text_signature.cpp).
void install_text_signatures(py::module_& m);

}  // namespace norch::python

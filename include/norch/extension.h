// norch/extension.h — what a C++ extension of norch includes: every public header
// of the core, pybind11, and the type casters that let a function taking and
// returning norch::Tensor (or Scalar, ScalarType, Device, TensorList) bind with a
// plain m.def (docs/extending.md; built by norch.utils.cpp_extension).
//
// Note [Shared Tensor type]
// The Python class norch.Tensor is registered once, by norch._C. pybind11 keeps
// its registry in interpreter-wide "internals" shared by every module built with
// the same pybind11 ABI, so an extension needs no class of its own: its casters
// find the class _C registered and produce and accept the very same objects. The
// only requirement is that norch._C is imported before a Tensor crosses the
// boundary; the casters below import it on first use, so `import my_ext` works
// without a prior `import norch`. They also check that the extension and _C
// agree on the pybind11 ABI (the internals id _C exports).
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>

#include "norch/norch.h"

namespace py = pybind11;  // as in the library's bindings and PyTorch's extensions

namespace norch::extension_detail {

inline void ensure_norch_imported() {
  static bool imported = false;  // guarded by the GIL, held by every caller
  if (imported) return;
  pybind11::module_ c = pybind11::module_::import("norch._C");
  // Without a common ABI the registry is not shared and every Tensor argument
  // would fail to convert with a bare "incompatible function arguments".
  const std::string ours = PYBIND11_INTERNALS_ID;
  const std::string theirs =
      pybind11::hasattr(c, "_pybind11_internals_id") ? c.attr("_pybind11_internals_id").cast<std::string>() : "";
  if (ours != theirs) {
    throw std::runtime_error("norch extension: built with pybind11 ABI '" + ours + "' but norch._C uses '" + theirs +
                             "'; rebuild the extension against the pybind11 that norch was built with "
                             "(norch.utils.cpp_extension.include_paths())");
  }
  imported = true;
}

struct ImportGuard {
  ImportGuard() { ensure_norch_imported(); }
};

}  // namespace norch::extension_detail

namespace pybind11::detail {

// norch::Tensor: the class registered by norch._C (Note [Shared Tensor type]).
// The guard base is constructed first, so the registry lookup in
// type_caster_base's constructor already sees the class.
template <>
class type_caster<norch::Tensor> : private norch::extension_detail::ImportGuard,
                                   public type_caster_base<norch::Tensor> {
 public:
  template <typename T>
  static handle cast(T&& src, return_value_policy policy, handle parent) {
    norch::extension_detail::ensure_norch_imported();
    return type_caster_base<norch::Tensor>::cast(std::forward<T>(src), policy, parent);
  }
};

// norch::Device is registered by _C too (norch.device); the guard is all it needs.
template <>
class type_caster<norch::Device> : private norch::extension_detail::ImportGuard,
                                   public type_caster_base<norch::Device> {
 public:
  template <typename T>
  static handle cast(T&& src, return_value_policy policy, handle parent) {
    norch::extension_detail::ensure_norch_imported();
    return type_caster_base<norch::Device>::cast(std::forward<T>(src), policy, parent);
  }
};

// norch::Scalar <-> a Python bool, int or float (as the library's bindings read numbers).
template <>
struct type_caster<norch::Scalar> {
  PYBIND11_TYPE_CASTER(norch::Scalar, const_name("bool | int | float"));

  bool load(handle src, bool) {
    if (PyBool_Check(src.ptr())) {
      value = norch::Scalar(src.ptr() == Py_True);
      return true;
    }
    if (PyLong_Check(src.ptr())) {
      long long v = PyLong_AsLongLong(src.ptr());
      if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return false;
      }
      value = norch::Scalar(static_cast<int64_t>(v));
      return true;
    }
    if (PyFloat_Check(src.ptr())) {
      value = norch::Scalar(PyFloat_AsDouble(src.ptr()));
      return true;
    }
    return false;
  }

  static handle cast(const norch::Scalar& s, return_value_policy, handle) {
    if (s.is_bool()) return pybind11::bool_(s.to_int() != 0).release();
    if (s.is_integral()) return pybind11::int_(s.to_int()).release();
    return pybind11::float_(s.to_double()).release();
  }
};

// norch::ScalarType <-> a norch.dtype object (norch.float32, ...). The dtype class
// is private to _C, so this caster goes through its Python name.
template <>
struct type_caster<norch::ScalarType> {
  PYBIND11_TYPE_CASTER(norch::ScalarType, const_name("norch.dtype"));

  bool load(handle src, bool) {
    norch::extension_detail::ensure_norch_imported();
    if (!isinstance(src, module_::import("norch._C").attr("dtype"))) return false;
    const std::string name = pybind11::repr(src).cast<std::string>();  // "norch.float32"
    for (int i = 0; i < norch::kNumScalarTypes; ++i) {
      auto t = static_cast<norch::ScalarType>(i);
      if (name == std::string("norch.") + norch::dtype_name(t)) {
        value = t;
        return true;
      }
    }
    return false;
  }

  static handle cast(norch::ScalarType t, return_value_policy, handle) {
    norch::extension_detail::ensure_norch_imported();
    return object(module_::import("norch._C").attr(norch::dtype_name(t))).release();
  }
};

}  // namespace pybind11::detail

// DLPack capsules: the Python half of norch/ops/dlpack.h. A capsule is named
// "dltensor" (DLManagedTensor) or "dltensor_versioned" (DLPack 1.x); the
// consumer renames it "used_..." once it owns the tensor, and a capsule that
// dies unconsumed hands its memory back through the producer's deleter. The
// protocol's argument handling (stream, dl_device, copy) is in norch/_dlpack.py.
#include "convert.h"
#include "norch/ops/dlpack.h"

namespace norch::python {

namespace {

constexpr const char* kLegacyName = "dltensor";
constexpr const char* kLegacyUsed = "used_dltensor";
constexpr const char* kVersionedName = "dltensor_versioned";
constexpr const char* kVersionedUsed = "used_dltensor_versioned";

// Runs with the GIL held, possibly while an exception is being raised, so the
// error indicator is saved around it.
template <typename Managed>
void capsule_destructor(PyObject* cap, const char* name) {
  if (!PyCapsule_IsValid(cap, name)) return;  // consumed: the consumer owns it now
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  auto* m = static_cast<Managed*>(PyCapsule_GetPointer(cap, name));
  if (m && m->deleter) m->deleter(m);
  PyErr_Restore(type, value, tb);
}

void legacy_destructor(PyObject* cap) { capsule_destructor<DLManagedTensor>(cap, kLegacyName); }
void versioned_destructor(PyObject* cap) { capsule_destructor<DLManagedTensorVersioned>(cap, kVersionedName); }

py::object to_capsule(const Tensor& t, bool versioned, uint64_t flags, uint32_t major, uint32_t minor) {
  PyObject* cap;
  if (versioned) {
    DLManagedTensorVersioned* m = to_dlpack_versioned(t, flags, DLPackVersion{major, minor});
    cap = PyCapsule_New(m, kVersionedName, versioned_destructor);
    if (!cap) m->deleter(m);
  } else {
    DLManagedTensor* m = to_dlpack(t);
    cap = PyCapsule_New(m, kLegacyName, legacy_destructor);
    if (!cap) m->deleter(m);
  }
  if (!cap) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(cap);
}

// The capsule is renamed only after the import succeeded: a refused capsule
// keeps its producer's deleter and frees the memory when it dies.
Tensor from_capsule(py::handle obj) {
  PyObject* cap = obj.ptr();
  if (PyCapsule_IsValid(cap, kVersionedName)) {
    auto* m = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(cap, kVersionedName));
    Tensor t = from_dlpack(m);
    PyCapsule_SetName(cap, kVersionedUsed);
    return t;
  }
  if (PyCapsule_IsValid(cap, kLegacyName)) {
    auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap, kLegacyName));
    Tensor t = from_dlpack(m);
    PyCapsule_SetName(cap, kLegacyUsed);
    return t;
  }
  PyErr_Clear();  // PyCapsule_IsValid sets no error, but GetPointer on a wrong name would
  NORCH_ERROR("from_dlpack received an invalid capsule. Note that DLTensor capsules can be consumed only once, "
              "so you might have already constructed a tensor from it once.");
}

}  // namespace

void init_dlpack(py::module_& m, TensorClass&) {
  m.def("_to_dlpack", &to_capsule, py::arg("tensor"), py::arg("versioned") = false, py::arg("flags") = 0,
        py::arg("major") = DLPACK_MAJOR_VERSION, py::arg("minor") = DLPACK_MINOR_VERSION,
        "A DLPack capsule sharing the tensor's memory (\"dltensor\", or \"dltensor_versioned\" for 1.x).");
  m.def("_from_dlpack", &from_capsule, py::arg("capsule"),
        "A tensor over a DLPack capsule's memory; the capsule is consumed.");
  m.def("_dlpack_flags", [] {
    return py::dict(py::arg("READ_ONLY") = DLPACK_FLAG_BITMASK_READ_ONLY,
                    py::arg("IS_COPIED") = DLPACK_FLAG_BITMASK_IS_COPIED);
  });
  m.attr("_DLPACK_VERSION") = py::make_tuple(DLPACK_MAJOR_VERSION, DLPACK_MINOR_VERSION);
}

}  // namespace norch::python

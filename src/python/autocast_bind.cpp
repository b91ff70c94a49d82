// norch._C._autocast: the per-thread autocast state behind norch.autocast
// (python/norch/amp/autocast_mode.py), and the cast Python-level ops use.
#include "convert.h"

namespace norch::python {

namespace {

DeviceType device_type_of(const std::string& name) {
  if (name == "cpu") return DeviceType::CPU;
  if (name == "cuda") return DeviceType::CUDA;
  NORCH_ERROR("autocast: unsupported device_type '", name, "' (expected 'cpu' or 'cuda')");
}

autocast::CastPolicy policy_of(const std::string& name) {
  if (name == "lower") return autocast::CastPolicy::LowerPrecision;
  if (name == "fp32") return autocast::CastPolicy::Float32;
  if (name == "fp32_on_cuda") return autocast::CastPolicy::Float32OnCuda;
  NORCH_ERROR("autocast: unknown cast policy '", name, "'");
}

}  // namespace

void init_autocast(py::module_& m, TensorClass&) {
  py::module_ a = m.def_submodule("_autocast", "per-thread autocast state");
  a.def("is_enabled", [](const std::string& d) { return autocast::is_enabled(device_type_of(d)); }, py::arg("device_type"));
  a.def("set_enabled", [](const std::string& d, bool e) { autocast::set_enabled(device_type_of(d), e); },
        py::arg("device_type"), py::arg("enabled"));
  a.def("get_dtype", [](const std::string& d) { return dtype_object(autocast::get_dtype(device_type_of(d))); },
        py::arg("device_type"));
  a.def("set_dtype", [](const std::string& d, py::handle t) { autocast::set_dtype(device_type_of(d), to_scalar_type(t)); },
        py::arg("device_type"), py::arg("dtype"));
  a.def("is_cache_enabled", &autocast::is_cache_enabled);
  a.def("set_cache_enabled", &autocast::set_cache_enabled, py::arg("enabled"));
  a.def("increment_nesting", &autocast::increment_nesting);
  a.def("decrement_nesting", &autocast::decrement_nesting);
  a.def("clear_cache", &autocast::clear_cache);
  a.def("active", &autocast::active);
  a.def("cast", [](const Tensor& t, const std::string& policy) { return autocast::cast(t, policy_of(policy)); },
        py::arg("tensor"), py::arg("policy"));
}

}  // namespace norch::python

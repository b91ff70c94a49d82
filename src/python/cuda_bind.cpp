// norch.cuda queries: never touch the driver at import time.
#include "convert.h"

namespace norch::python {

void init_cuda(py::module_& m, TensorClass& cls) {
  auto c = m.def_submodule("_cuda", "CUDA runtime queries");
  c.def("is_compiled", &cuda::is_compiled);
  c.def("is_available", &cuda::is_available);
  c.def("device_count", &cuda::device_count);
  c.def("synchronize", &cuda::synchronize);
  c.def("memory_allocated", &cuda::memory_allocated);
  c.def("memory_reserved", &cuda::memory_reserved);
  c.def("empty_cache", &cuda::empty_cache);
  c.def("status", [] {
    auto s = cuda::status();
    return py::make_tuple(s.compiled, s.device_count, s.error_code, s.message);
  });
}

}  // namespace norch::python

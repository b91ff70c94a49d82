// Bindings for the optim area.
#include "convert.h"

namespace norch::python {

void init_optim(py::module_& m, TensorClass& cls) {}

}  // namespace norch::python

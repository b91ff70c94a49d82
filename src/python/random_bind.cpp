// Bindings for the random area.
#include "convert.h"

namespace norch::python {

void init_random(py::module_& m, TensorClass& cls) {}

}  // namespace norch::python

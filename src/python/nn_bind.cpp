// Bindings for the nn area.
#include "convert.h"

namespace norch::python {

void init_nn(py::module_& m, TensorClass& cls) {}

}  // namespace norch::python

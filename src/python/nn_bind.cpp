// Bindings for the nn area.
#include "convert.h"

namespace norch::python {

void init_nn_conv(py::module_& m);

void init_nn(py::module_& m, TensorClass& cls) {
  init_nn_conv(m);
}

}  // namespace norch::python

// Fused network ops (norch._C._nn): each family binds itself.
#include "convert.h"

namespace norch::python {

void init_nn_loss(py::module_& m);
void init_nn_conv(py::module_& m);

void init_nn(py::module_& m, TensorClass& cls) {
  init_nn_loss(m);
  init_nn_conv(m);
}

}  // namespace norch::python

// norch/autograd/detach.h — Tensor.detach_(): cutting a tensor out of the graph in place.
#pragma once
#include "norch/autograd/node.h"

namespace norch::autograd {

// Makes `t` a leaf that does not require grad (its grad_fn and output_nr are
// cleared). Views with history refuse, as in PyTorch: their base would still
// point at the old graph.
Tensor& detach_(Tensor& t);

}  // namespace norch::autograd

// norch/autograd/engine.h — runs the backward graph (sits above ops/: it uses add and sum_to).
#pragma once
#include "norch/autograd/node.h"

namespace norch::autograd {

// Tensor.backward / autograd.backward: accumulates into .grad of the leaves
// (or only of `inputs` when given).
void backward(const TensorList& outputs, const TensorList& grad_outputs, bool retain_graph, bool create_graph,
              const TensorList& inputs = {});

// autograd.grad: returns d(outputs)/d(inputs) without touching any .grad.
TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs,
                bool retain_graph, bool create_graph, bool allow_unused);

}  // namespace norch::autograd

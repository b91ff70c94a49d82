// norch/autograd/engine.h — runs the backward graph (sits above ops/: it uses add and sum_to).
#pragma once
#include "norch/autograd/node.h"

namespace norch::autograd {

// Fills each undefined gradient with zeros of its forward output's shape, dtype
// and device (PyTorch's materialize_grads), except outputs with is_tensor[i]
// false (a Python Function's non-tensor outputs); an empty is_tensor means all.
// Making zeros is an op, so this sits with the engine, above ops.
void materialize_grads(TensorList& grads, const std::vector<InputMeta>& output_meta,
                       const std::vector<bool>& is_tensor = {});

// Runs a tensor hook (Tensor.register_hook) on the gradient `g` flowing into
// a tensor, and returns what the hook returned, or `g` when it returned
// nothing. A hook may replace the gradient's values but not its shape, dtype
// or device (the engine sums and casts only what a node returns), so a
// different one is refused, as PyTorch does.
Tensor run_tensor_hook(const TensorHook& hook, const Tensor& g);

// Tensor.backward / autograd.backward: accumulates into .grad of the leaves
// (or only of `inputs` when given).
void backward(const TensorList& outputs, const TensorList& grad_outputs, bool retain_graph, bool create_graph,
              const TensorList& inputs = {});

// autograd.grad: returns d(outputs)/d(inputs) without touching any .grad.
TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs,
                bool retain_graph, bool create_graph, bool allow_unused);

}  // namespace norch::autograd

// norch/autograd/accumulate_grad.h — the node at each leaf that sums into .grad.
// Part of the engine layer (it calls ops); the graph records create it through
// make_accumulate_grad (norch/autograd/node.h).
#pragma once
#include "norch/autograd/node.h"

namespace norch::autograd {

struct AccumulateGrad : Node {
  explicit AccumulateGrad(const Tensor& leaf) : variable(leaf) {
    num_outputs = 1;
    sequence_nr = UINT64_MAX;  // run as soon as ready, like PyTorch
  }
  TensorList apply(TensorList&& grads) override;
  std::string name() const override { return "AccumulateGrad"; }

  // The leaf (a strong reference: the leaf holds this node only weakly).
  Tensor variable;
};

}  // namespace norch::autograd

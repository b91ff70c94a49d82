// norch/autograd/accumulate_grad.h — the node at each leaf that sums into .grad.
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

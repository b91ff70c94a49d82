// norch/autograd/saved_variable.h — a tensor kept for backward, with the version
// it had when saved so that a later in-place change is caught, not silently used.
#pragma once
#include <memory>
#include <string>

#include "norch/autograd/node.h"

namespace norch::autograd {

class SavedVariable {
 public:
  SavedVariable() = default;
  // is_output: the tensor is an output of the node saving it. It is then kept
  // without its grad_fn (which would be a reference cycle) and re-attached on unpack.
  SavedVariable(const Tensor& t, bool is_output);

  // `owner` is the node that saved it (used to re-attach outputs).
  Tensor unpack(const std::shared_ptr<Node>& owner) const;
  void reset() {
    data_ = Tensor();
    released_ = true;
  }
  bool defined() const { return was_defined_; }

 private:
  Tensor data_;
  uint32_t saved_version_ = 0;
  uint32_t output_nr_ = 0;
  bool was_defined_ = false;
  bool is_output_ = false;
  bool requires_grad_ = false;
  bool released_ = false;
  std::shared_ptr<Node> input_grad_fn_;  // for non-output leaves/intermediates, kept via data_
};

}  // namespace norch::autograd

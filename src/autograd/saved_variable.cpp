// SavedVariable: version checks and output re-attachment.
#include "norch/autograd/saved_variable.h"


namespace norch::autograd {

SavedVariable::SavedVariable(const Tensor& t, bool is_output) {
  was_defined_ = t.defined();
  if (!was_defined_) return;
  saved_version_ = t.version();
  is_output_ = is_output;
  requires_grad_ = t.requires_grad();
  output_nr_ = t.output_nr();
  // An output is stored without autograd metadata: holding its grad_fn here
  // would make the node own itself.
  data_ = is_output ? alias(t) : t;
}

Tensor SavedVariable::unpack(const std::shared_ptr<Node>& owner) const {
  if (!was_defined_) return Tensor();
  NORCH_CHECK(!released_,
              "Trying to backward through the graph a second time (or directly access saved tensors after they "
              "have already been freed). Saved intermediate values of the graph are freed when you call "
              ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
              "graph a second time or if you need to access saved tensors after calling backward.");
  if (data_.version() != saved_version_) {
    NORCH_ERROR("one of the variables needed for gradient computation has been modified by an inplace operation: [",
                dtype_name(data_.dtype()), " ", shape_str(data_.sizes()), "]",
                is_output_ && owner ? ", which is output " + std::to_string(output_nr_) + " of " + owner->name() : "",
                ", is at version ", data_.version(), "; expected version ", saved_version_,
                " instead. Hint: the operation that saved it ran before the in-place change; use an out-of-place "
                "operation (or .clone()) before modifying it.");
  }
  if (!is_output_ || !requires_grad_ || !owner) return data_;
  Tensor t = alias(data_);
  auto& m = t.impl()->autograd();
  m.grad_fn = owner;
  m.output_nr = output_nr_;
  return t;
}

}  // namespace norch::autograd

// The one in-place pattern behind every elementwise `op_` (private to ops).
#pragma once
#include <cstddef>
#include <type_traits>

#include "norch/autograd/function.h"
#include "norch/ops/copy.h"

namespace norch {

// Note [In-place elementwise ops]
// `out_of_place(src)` computes the result the usual way. With history to record
// it runs on a clone of self (so no saved tensor is the one about to be
// overwritten); the values are written back, the version is bumped and self
// takes the result's history. Without history, `direct()` (when given) writes
// into self itself, with no temporary. The result must keep self's shape and be
// castable to self's dtype: exp_ on an int tensor would silently truncate, so it
// is refused, as PyTorch does.
// A write through a tensor with a stride-0 dim of size > 1 (an expand) would
// land on one element several times: refused, with PyTorch's message.
inline void check_no_internal_overlap(const Tensor& self, const char* name) {
  for (int64_t d = 0; d < self.dim(); ++d)
    NORCH_CHECK(!(self.strides()[d] == 0 && self.sizes()[d] > 1), name,
                ": unsupported operation: more than one element of the written-to tensor refers to a single "
                "memory location. Please clone() the tensor before performing the operation.");
}

template <typename OutOfPlace, typename Direct = std::nullptr_t>
Tensor& inplace(Tensor& self, const char* name, bool record, OutOfPlace out_of_place, Direct direct = nullptr) {
  autograd::check_inplace(self, name);
  check_no_internal_overlap(self, name);
  if constexpr (!std::is_null_pointer_v<Direct>) {
    if (!record) {
      direct();
      self.bump_version();
      return self;
    }
  }
  Tensor result = out_of_place(record && self.requires_grad() ? clone(self) : self);
  NORCH_CHECK(result.sizes() == self.sizes(), name, ": output with shape ", self.sizes(),
              " doesn't match the broadcast shape ", result.sizes());
  NORCH_CHECK(can_cast(result.dtype(), self.dtype()), "result type ", dtype_name(result.dtype()),
              " can't be cast to the desired output type ", dtype_name(self.dtype()));
  copy_data(self, result);
  self.bump_version();
  if (record) autograd::rebase_history(self, result);
  return self;
}

}  // namespace norch

// norch/ops/copy.h — copies, casts, device moves and detach.
#pragma once
#include "norch/tensor/tensor.h"

namespace norch {

// Writes src into self, broadcasting src and converting dtype and device. In place.
// non_blocking: a copy between pinned host memory and a GPU (or within a GPU) is
// queued on the current stream and not waited for, as in PyTorch.
Tensor& copy_(Tensor& self, const Tensor& src, bool non_blocking = false);
inline Tensor copy_(Tensor&& self, const Tensor& src, bool non_blocking = false) {
  return copy_(self, src, non_blocking);
}
Tensor contiguous(const Tensor& t);  // t itself when already contiguous
Tensor clone(const Tensor& t);       // always a fresh contiguous copy
Tensor to_dtype(const Tensor& t, ScalarType dtype, bool copy = false);
Tensor to_device(const Tensor& t, Device device, bool copy = false, bool non_blocking = false);
// A copy of a CPU tensor in page-locked memory (t itself when it already is), so
// that copies to a GPU can run asynchronously; raises where no GPU can be used.
Tensor pin_memory(const Tensor& t);
bool is_pinned(const Tensor& t);
Tensor detach(const Tensor& t);      // shares storage, no history
// alias(t), which records nothing, is declared with make_view in norch/tensor/tensor.h.

namespace autograd {
// After an in-place op wrote `result`'s values into `self`: `self` takes over
// result's place in the graph (its grad_fn), so later ops see the new history
// (Note [In-place on views]; defined in src/ops/inplace_history.cpp).
void rebase_history(const Tensor& self, const Tensor& result);
}  // namespace autograd

}  // namespace norch

namespace norch {
// Raw data copy (broadcast, cast, across devices) that records nothing and
// leaves the version counter alone: the building block of in-place ops.
void copy_data(const Tensor& dst, const Tensor& src);
}  // namespace norch

namespace norch {
// Tensor.data = src: self now views src's storage with src's geometry, dtype and
// device, keeping its own identity and autograd metadata (how Module.to()
// converts parameters without replacing the Parameter objects optimizers hold).
void set_data(const Tensor& self, const Tensor& src);
}  // namespace norch

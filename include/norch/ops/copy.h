// norch/ops/copy.h — copies, casts, device moves and detach.
#pragma once
#include "norch/tensor/tensor.h"

namespace norch {

// Writes src into self, broadcasting src and converting dtype and device. In place.
Tensor& copy_(Tensor& self, const Tensor& src);
inline Tensor copy_(Tensor&& self, const Tensor& src) { return copy_(self, src); }
Tensor contiguous(const Tensor& t);  // t itself when already contiguous
Tensor clone(const Tensor& t);       // always a fresh contiguous copy
Tensor to_dtype(const Tensor& t, ScalarType dtype, bool copy = false);
Tensor to_device(const Tensor& t, Device device, bool copy = false);
Tensor detach(const Tensor& t);      // shares storage, no history
// Same geometry and storage, fresh autograd identity (Parameter, views for set_history).
Tensor alias(const Tensor& t);

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

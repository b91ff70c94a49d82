// Copies, casts, device moves, detach — and their backward formulas.
#include "norch/ops/copy.h"

#include <cstring>

#include "kernels/copy.h"
#include "norch/autograd/function.h"
#include "norch/backend.h"
#include "norch/ops/shape.h"
#include "norch/tensor/size_math.h"

namespace norch {

DispatchStub<CopyKernel> copy_stub("copy_");

namespace {

// Raw elementwise copy on one device; no autograd, no version bump.
void copy_same_device(const Tensor& dst, const Tensor& src) {
  TensorIterator::Config cfg;
  cfg.promote_inputs = false;
  cfg.has_output_dtype = true;
  cfg.output_dtype = dst.dtype();
  cfg.op_name = "copy_";
  TensorIterator it = TensorIterator::build(dst, {src}, cfg);
  copy_stub(dst.device())(it);
}

void copy_impl(const Tensor& dst, const Tensor& src, bool non_blocking = false) {
  if (dst.numel() == 0) return;
  if (dst.device() == src.device()) {
    copy_same_device(dst, src);
    return;
  }
  // Across devices: bring src over as a dense block of the destination's dtype,
  // then scatter it into dst's layout on dst's device.
  Tensor s = src;
  if (s.sizes() != dst.sizes()) s = expand(s, dst.sizes()).contiguous();
  if (s.dtype() != dst.dtype()) s = to_dtype(s, dst.dtype());
  s = s.contiguous();
  Tensor staging = dst.is_contiguous() ? dst : empty(dst.sizes(), TensorOptions(dst.dtype(), dst.device()));
  // Only a direct copy may be left running: a staged or converted one would free or
  // reread its temporary before the device is done with it.
  const bool direct = staging.is_same(dst) && s.is_same(src);
  cuda::memcpy(staging.data_ptr(), staging.device(), s.data_ptr(), s.device(),
               static_cast<size_t>(s.numel()) * s.element_size(), non_blocking && direct);
  if (!staging.is_same(dst)) copy_same_device(dst, staging);
}

// A contiguous CPU tensor in pinned host memory.
Tensor make_pinned(const Shape& sizes, ScalarType dtype) {
  Tensor out = empty({0}, TensorOptions(dtype));
  const size_t nbytes = static_cast<size_t>(storage_nbytes(sizes, element_size(dtype)));
  out.impl()->storage = cuda::allocate_pinned(nbytes);
  out.impl()->sizes = sizes;
  out.impl()->strides = contiguous_strides(sizes);
  return out;
}

}  // namespace

Tensor& copy_(Tensor& self, const Tensor& src, bool non_blocking) {
  NORCH_CHECK(self.defined() && src.defined(), "copy_: undefined tensor");
  // The destination must hold the broadcast result exactly.
  Shape b = broadcast_shapes(self.sizes(), src.sizes(), "copy_");
  NORCH_CHECK(b == self.sizes(), "copy_: the source of shape ", src.sizes(),
              " cannot be broadcast to the destination of shape ", self.sizes());
  autograd::check_inplace(self, "copy_");
  if (self.impl()->storage == src.impl()->storage && self.storage_offset() == src.storage_offset() &&
      self.sizes() == src.sizes() && self.strides() == src.strides() && self.dtype() == src.dtype()) {
    // copying a tensor onto itself: nothing moves
  } else if (self.impl()->storage == src.impl()->storage) {
    copy_impl(self, clone(detach(src)));  // overlapping memory: read everything before writing
  } else {
    copy_impl(self, src, non_blocking);
  }
  self.bump_version();
  if (autograd::needs_grad(self, src)) {
    // self's old values are overwritten: their gradient is zero. src gets the
    // incoming gradient, reduced to its shape and cast by the engine.
    Tensor result = alias(self);
    const Device src_device = src.device();
    auto node = autograd::record("CopyBackwards", {self.requires_grad() ? self : Tensor(), src}, {result}, {},
                                 [src_device](autograd::BackwardContext& ctx, const TensorList& g) -> TensorList {
                                   Tensor gs;
                                   if (ctx.needs_input_grad(1)) gs = to_device(g[0], src_device);
                                   return {Tensor(), gs};
                                 });
    autograd::rebase_history(self, result);
  }
  return self;
}

void copy_data(const Tensor& dst, const Tensor& src) { copy_impl(dst, src); }

Tensor contiguous(const Tensor& t) {
  if (t.is_contiguous()) return t;
  return clone(t);
}

Tensor clone(const Tensor& t) {
  Tensor out = empty(t.sizes(), TensorOptions(t.dtype(), t.device()));
  copy_impl(out, t);
  if (autograd::needs_grad(t))
    autograd::record("CloneBackward0", {t}, {out}, {},
                     [](autograd::BackwardContext&, const TensorList& g) -> TensorList { return {g[0]}; });
  return out;
}

Tensor to_dtype(const Tensor& t, ScalarType dtype, bool copy) {
  if (t.dtype() == dtype && !copy) return t;
  Tensor out = empty(t.sizes(), TensorOptions(dtype, t.device()));
  copy_impl(out, t);
  if (autograd::needs_grad(t) && is_floating_point(dtype)) {
    const ScalarType src_dtype = t.dtype();
    autograd::record("ToCopyBackward0", {t}, {out}, {},
                     [src_dtype](autograd::BackwardContext&, const TensorList& g) -> TensorList {
                       return {to_dtype(g[0], src_dtype)};
                     });
  }
  return out;
}

Tensor to_device(const Tensor& t, Device device, bool copy, bool non_blocking) {
  if (t.device() == device && !copy) return t;
  if (device.is_cuda())
    NORCH_CHECK(cuda::is_compiled(), "Torch not compiled with CUDA enabled: norch was built without CUDA, so ",
                "tensors cannot be moved to ", device.str());
  // A non_blocking copy to the host lands in pinned memory, as PyTorch's does, so
  // that it can really run asynchronously.
  Tensor out = non_blocking && device.is_cpu() && t.device().is_cuda()
                   ? make_pinned(t.sizes(), t.dtype())
                   : empty(t.sizes(), TensorOptions(t.dtype(), device));
  copy_impl(out, t, non_blocking);
  if (autograd::needs_grad(t)) {
    const Device src = t.device();
    autograd::record("ToCopyBackward0", {t}, {out}, {},
                     [src](autograd::BackwardContext&, const TensorList& g) -> TensorList {
                       return {to_device(g[0], src)};
                     });
  }
  return out;
}

Tensor detach(const Tensor& t) { return alias(t); }

bool is_pinned(const Tensor& t) { return t.defined() && t.device().is_cpu() && cuda::is_pinned(t.impl()->storage->data); }

Tensor pin_memory(const Tensor& t) {
  NORCH_CHECK(t.device().is_cpu(), "cannot pin a tensor on ", t.device().str(), ": only dense CPU tensors can be pinned");
  if (is_pinned(t)) return t;
  Tensor out = make_pinned(t.sizes(), t.dtype());
  copy_impl(out, t);
  if (autograd::needs_grad(t))
    autograd::record("PinMemoryBackward0", {t}, {out}, {},
                     [](autograd::BackwardContext&, const TensorList& g) -> TensorList { return {g[0]}; });
  return out;
}

}  // namespace norch

namespace norch {

void set_data(const Tensor& self, const Tensor& src) {
  NORCH_CHECK(self.defined() && src.defined(), "set_data: undefined tensor");
  if (self.requires_grad())
    NORCH_CHECK(src.is_floating_point(), "set_data: a tensor that requires grad can only hold floating point data, got ",
                dtype_name(src.dtype()));
  TensorImpl* dst = self.impl();
  const TensorImpl* s = src.impl();
  dst->storage = s->storage;
  dst->sizes = s->sizes;
  dst->strides = s->strides;
  dst->storage_offset = s->storage_offset;
  dst->dtype = s->dtype;
  dst->device = s->device;
}

}  // namespace norch

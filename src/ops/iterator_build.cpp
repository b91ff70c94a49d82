// TensorIterator::build and output(): the ops-layer half of the iterator. Planning
// an elementwise op (devices, broadcast shape, dtype promotion, the output, input
// casts) needs to_dtype, to_device and copy_, which are ops; the geometry that
// kernels walk stays in the tensor layer (src/tensor/iterator.cpp). Ops could
// instead cast before building, but then every elementwise op would repeat the
// promotion rule; here it is written once (see norch/tensor/iterator.h).
#include "kernels/functors.h"
#include "norch/ops/copy.h"
#include "norch/tensor/iterator.h"

namespace norch {

TensorIterator TensorIterator::build(Tensor out, const TensorList& inputs, const Config& cfg) {
  NORCH_CHECK(inputs.size() + 1 <= kMaxOperands, cfg.op_name, ": too many operands");
  TensorIterator it;
  const bool have_device = it.compute_device(inputs, cfg);
  Shape shape = broadcast_inputs(out, inputs, cfg);
  const ScalarType common = it.compute_common_dtype(inputs, cfg);
  const ScalarType out_dtype = cfg.has_output_dtype ? cfg.output_dtype : common;
  const Tensor target = it.allocate_output(out, shape, out_dtype, have_device, cfg);
  // Operands: output first, then the inputs in the common dtype and device.
  it.ntensors_ = static_cast<int>(inputs.size()) + 1;
  const Tensor* ops[kMaxOperands];
  ops[0] = &target;
  it.convert_inputs(inputs, cfg, ops + 1);
  it.compute_geometry(ops, shape, cfg.op_name);
  it.trace(cfg.op_name, shape, target.dtype());
  return it;
}

// Note [Binary fast path]
// Most binary ops in a model combine two tensors of one shape, dtype and device
// into a new tensor. For those, everything build() plans is known up front: no
// broadcast, the common dtype is the shared one (result_type of one dtype is
// that dtype whatever the operands' priority groups, so only wrapped numbers,
// whose float dtype stands for the default dtype, are left out), no input needs
// a cast or a move, and the output is a fresh contiguous tensor of that shape.
// The fast path builds exactly what build() would, without the operand list
// (a heap-allocated vector and two reference-count round trips), the shape
// copies and the per-operand promotion and conversion loops. The geometry is
// computed by the same compute_geometry, so strided operands are handled as in
// the general path. Measured with callgrind on `a + b`, shape [4] float32:
// planning the op fell from about 2200 to about 1400 instructions per call, of
// which empty() is 660 and compute_geometry 230 (the whole Python-level add:
// Note [Operator slots], src/python/operators_bind.cpp).
TensorIterator TensorIterator::binary(Tensor out, const Tensor& a, const Tensor& b, const Config& cfg) {
  const ScalarType dt = a.dtype();
  const bool plain = !out.defined() && a.defined() && b.defined() && b.dtype() == dt &&
                     a.device() == b.device() && !a.impl()->is_wrapped_number && !b.impl()->is_wrapped_number &&
                     !(cfg.promote_integer_to_float && !is_floating_point(dt)) && a.sizes() == b.sizes();
  if (!plain) return build(std::move(out), {a, b}, cfg);
  TensorIterator it;
  it.device_ = a.device();
  it.common_dtype_ = dt;
  it.output_ = empty(a.sizes(), TensorOptions(cfg.has_output_dtype ? cfg.output_dtype : dt, it.device_));
  it.ntensors_ = 3;
  const Tensor* ops[3] = {&it.output_, &a, &b};
  it.compute_geometry(ops, a.sizes(), cfg.op_name);
  it.trace(cfg.op_name, a.sizes(), it.output_.dtype());
  return it;
}

// Every tensor operand must agree; wrapped numbers follow the others, and 0-d
// CPU tensors may join CUDA ops (as in PyTorch). Returns whether any operand
// fixed the device.
bool TensorIterator::compute_device(const TensorList& inputs, const Config& cfg) {
  bool have_device = false;
  for (const auto& t : inputs) {
    if (t.impl()->is_wrapped_number) continue;
    if (!have_device) {
      device_ = t.device();
      have_device = true;
    } else if (t.device() != device_ && t.dim() > 0) {
      raise_device_mismatch(cfg.op_name, device_, t.device());
    }
  }
  if (!have_device && !inputs.empty()) device_ = inputs[0].device();
  return have_device;
}

Shape TensorIterator::broadcast_inputs(const Tensor& out, const TensorList& inputs, const Config& cfg) {
  Shape shape = inputs.empty() ? (out.defined() ? out.sizes() : Shape{}) : inputs[0].sizes();
  for (size_t i = 1; i < inputs.size(); ++i)
    if (inputs[i].sizes() != shape) shape = broadcast_shapes(shape, inputs[i].sizes(), cfg.op_name);
  return shape;
}

ScalarType TensorIterator::compute_common_dtype(const TensorList& inputs, const Config& cfg) {
  ScalarType common;
  if (cfg.allow_mixed_input_dtypes) {
    common = inputs.back().dtype();
  } else if (cfg.promote_inputs) {
    common = result_type(inputs);
  } else {
    common = inputs.empty() ? default_dtype() : inputs[0].dtype();
    for (const auto& t : inputs)
      NORCH_CHECK(t.dtype() == common, cfg.op_name, ": expected all inputs to have dtype ", dtype_name(common),
                  " but got ", dtype_name(t.dtype()));
  }
  if (cfg.promote_integer_to_float && !is_floating_point(common)) common = default_dtype();
  common_dtype_ = common;
  return common;
}

// Checks or allocates the output; returns what the kernel writes: the output,
// or a staging tensor in the result dtype that output() casts into it.
Tensor TensorIterator::allocate_output(const Tensor& out, Shape& shape, ScalarType out_dtype, bool have_device,
                                       const Config& cfg) {
  output_ = out;
  if (!out.defined()) {
    output_ = empty(shape, TensorOptions(out_dtype, device_));
    return output_;
  }
  Shape combined = shape == out.sizes() ? shape : broadcast_shapes(shape, out.sizes(), cfg.op_name);
  NORCH_CHECK(out.sizes() == combined, cfg.op_name, ": output with shape ", out.sizes(),
              " doesn't match the broadcast shape ", combined);
  shape = combined;
  NORCH_CHECK(out.device() == device_ || !have_device, cfg.op_name, ": expected output on ", device_.str(),
              " but got ", out.device().str());
  if (out.dtype() == out_dtype) return out;
  NORCH_CHECK(cfg.cast_to_output || can_cast(out_dtype, out.dtype()), "result type ", dtype_name(out_dtype),
              " can't be cast to the desired output type ", dtype_name(out.dtype()));
  output_staging_ = empty(shape, TensorOptions(out_dtype, device_));
  return output_staging_;
}

namespace {
// A 0-d CPU input in another dtype (mostly a Python number: `2 * x` meets an
// int64 wrapped number) converted with the copy kernel's own element cast
// (functors::cast), so the value is the one to_dtype gives. to_dtype would
// plan a copy through a second TensorIterator; for one element that planning
// is the cost: to_dtype took about 2070 instructions here, this takes about
// 520, and micrograd's sanity check meets seven of these per forward and backward.
// No autograd record is needed: the iterator's converted inputs only feed the
// kernel; the op records its history against the inputs it was given.
Tensor cast_0d(const Tensor& t, ScalarType to) {
  Tensor out = empty({}, TensorOptions(to, Device()));
  NORCH_DISPATCH_ALL_TYPES_AND_HALF(to, "copy_", [&] {
    using dst_t = scalar_t;
    dst_t* dst = out.data<dst_t>();
    NORCH_DISPATCH_ALL_TYPES_AND_HALF(t.dtype(), "copy_", [&] { *dst = functors::cast<dst_t>(*t.data<scalar_t>()); });
  });
  return out;
}
}  // namespace

// Points ops[i] at input i, or at a converted copy kept alive by the iterator.
void TensorIterator::convert_inputs(const TensorList& inputs, const Config& cfg, const Tensor* ops[]) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    const bool cast = t.dtype() != common_dtype_ && !cfg.allow_mixed_input_dtypes;
    if (!cast && t.device() == device_) {
      ops[i] = &t;
      continue;
    }
    Tensor c = t;
    if (cast && t.dim() == 0 && t.device().is_cpu() && device_.is_cpu()) c = cast_0d(t, common_dtype_);
    else if (cast) c = to_dtype(c, common_dtype_);
    if (c.device() != device_) c = to_device(c, device_);
    keep_alive_.reserve(inputs.size());  // no reallocation: ops[] points into it
    keep_alive_.push_back(c);
    ops[i] = &keep_alive_.back();
  }
}

Tensor TensorIterator::output() {
  if (output_staging_.defined()) {
    copy_(output_, output_staging_);
    output_staging_ = Tensor();
  }
  return output_;
}

}  // namespace norch

// TensorImpl and Tensor basics: construction, geometry, printing helpers.
// The tensor layer calls no op: the Tensor:: method forwarders live in
// src/ops/tensor_methods.cpp and the autograd accessors in src/autograd/node.cpp.
#include "norch/tensor/tensor.h"

#include <sstream>

#include "norch/backend.h"
#include "norch/tensor/size_math.h"

namespace norch {

namespace {
ScalarType g_default_dtype = ScalarType::Float32;
}
ScalarType default_dtype() { return g_default_dtype; }
void set_default_dtype(ScalarType t) {
  NORCH_CHECK_TYPE(is_floating_point(t), "only floating-point types are supported as the default type, got ",
                   dtype_name(t));
  g_default_dtype = t;
}

Shape contiguous_strides(const Shape& sizes) {
  Shape strides(sizes.size());
  int64_t s = 1;
  for (int64_t i = static_cast<int64_t>(sizes.size()) - 1; i >= 0; --i) {
    strides[i] = s;
    // Callers pass shapes that hold Note [Size invariant]; a shape that does not
    // (a user's shape before validation) must still not overflow here.
    NORCH_CHECK(!mul_overflows(s, std::max<int64_t>(sizes[i], 1), &s), "Stride calculation overflowed");
  }
  return strides;
}

std::string shape_str(const Shape& s) { return str(s); }

int64_t wrap_dim(int64_t dim, int64_t ndim, bool scalar_ok) {
  int64_t n = ndim;
  if (n == 0 && scalar_ok) n = 1;  // a 0-d tensor accepts dim 0 and -1
  NORCH_CHECK_INDEX(n > 0, "dimension specified as ", dim, " but tensor has no dimensions");
  NORCH_CHECK_INDEX(dim >= -n && dim < n, "Dimension out of range (expected to be in range of [", -n, ", ",
                    n - 1, "], but got ", dim, ")");
  return dim < 0 ? dim + n : dim;
}

int64_t Tensor::size(int64_t d) const { return impl_->sizes[wrap_dim(d, dim(), false)]; }
int64_t Tensor::stride(int64_t d) const { return impl_->strides[wrap_dim(d, dim(), false)]; }

// PyTorch's rule: an empty tensor is contiguous whatever its strides, and the
// stride of a size-1 dim is never stepped, so it is ignored.
bool Tensor::is_contiguous() const {
  for (auto s : impl_->sizes)
    if (s == 0) return true;
  int64_t expected = 1;
  for (int64_t i = dim() - 1; i >= 0; --i) {
    if (impl_->sizes[i] == 1) continue;
    if (impl_->strides[i] != expected) return false;
    expected *= impl_->sizes[i];
  }
  return true;
}

Tensor empty(const Shape& sizes, TensorOptions opts) {
  const int64_t nbytes = storage_nbytes(sizes, element_size(opts.dtype));
  check_shape(sizes);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = allocate_storage(static_cast<size_t>(nbytes), opts.device);
  impl->sizes = sizes;
  impl->strides = contiguous_strides(sizes);
  impl->dtype = opts.dtype;
  // A tensor on "cuda" lives on one device: it reports the index, as PyTorch's (cuda:0).
  impl->device = opts.device.is_cuda() ? impl->storage->device : opts.device;
  Tensor t(std::move(impl));
  if (opts.requires_grad) t.set_requires_grad(true);
  return t;
}

Tensor empty_strided(const Shape& sizes, const Shape& strides, TensorOptions opts) {
  check_shape(sizes);
  NORCH_CHECK(sizes.size() == strides.size(), "empty_strided: mismatch in length of strides and shape");
  for (auto st : strides)
    NORCH_CHECK(st >= 0, "empty_strided: negative strides are not supported, got strides: ", bracket_list(strides));
  const int64_t nbytes = storage_nbytes(sizes, strides, element_size(opts.dtype));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = allocate_storage(static_cast<size_t>(nbytes), opts.device);
  impl->sizes = sizes;
  impl->strides = strides;
  impl->dtype = opts.dtype;
  // A tensor on "cuda" lives on one device: it reports the index, as PyTorch's (cuda:0).
  impl->device = opts.device.is_cuda() ? impl->storage->device : opts.device;
  return Tensor(std::move(impl));
}

Tensor make_view(const Tensor& base, Shape sizes, Shape strides, int64_t storage_offset) {
  check_shape(sizes);  // Note [Size invariant]: views (expand, as_strided, ...) too
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl()->storage;
  impl->sizes = std::move(sizes);
  impl->strides = std::move(strides);
  impl->storage_offset = storage_offset;
  impl->dtype = base.dtype();
  impl->device = base.device();
  impl->is_view = true;
  return Tensor(std::move(impl));
}

Tensor alias(const Tensor& t) {
  Tensor v = make_view(t, t.sizes(), t.strides(), t.storage_offset());
  v.impl()->is_view = t.impl()->is_view;
  return v;
}

Tensor from_blob(void* data, const Shape& sizes, const Shape& strides, ScalarType dtype, Device device,
                 std::function<void(void*)> deleter) {
  check_shape(sizes);
  // Negative strides reach here only on dims of size <= 1 (from_numpy refuses the
  // rest), where they are never stepped.
  Shape steps(strides);
  for (size_t i = 0; i < sizes.size(); ++i)
    if (sizes[i] <= 1) steps[i] = 0;
  const int64_t nbytes = storage_nbytes(sizes, steps, element_size(dtype));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<StorageImpl>(data, static_cast<size_t>(nbytes), device, std::move(deleter));
  impl->sizes = sizes;
  impl->strides = strides;
  impl->dtype = dtype;
  impl->device = device;
  return Tensor(std::move(impl));
}

Tensor scalar_tensor(const Scalar& s, TensorOptions opts) {
  Tensor t = empty({}, TensorOptions(opts.dtype, Device()));
  NORCH_DISPATCH_ALL_TYPES_AND_HALF(opts.dtype, "scalar_tensor", [&] { *t.data<scalar_t>() = s.to<scalar_t>(); });
  if (!opts.device.is_cpu()) {
    // One element: a raw host-to-device copy, so this layer needs no copy op.
    Tensor d = empty({}, TensorOptions(opts.dtype, opts.device));
    cuda::memcpy(d.data_ptr(), opts.device, t.data_ptr(), t.device(), t.element_size());
    t = d;
  }
  if (opts.requires_grad) t.set_requires_grad(true);
  return t;
}

Tensor scalar_to_tensor(const Scalar& s, Device device) {
  // Stored in full precision; result_type treats a wrapped float as the default dtype.
  ScalarType dt = s.is_floating_point() ? ScalarType::Float64 : s.natural_dtype();
  Tensor t = scalar_tensor(s, TensorOptions(dt, device));
  t.impl()->is_wrapped_number = true;
  return t;
}

Scalar Tensor::item() const {
  NORCH_CHECK(numel() == 1, "a Tensor with ", numel(), " elements cannot be converted to Scalar");
  Tensor c = *this;
  if (!device().is_cpu()) {
    // As in scalar_tensor: one element comes back by a raw copy, not an op.
    c = empty({}, TensorOptions(dtype(), Device()));
    cuda::memcpy(c.data_ptr(), Device(), data_ptr(), device(), element_size());
  }
  return NORCH_DISPATCH_ALL_TYPES_AND_HALF(dtype(), "item", [&]() -> Scalar {
    scalar_t v = *c.data<scalar_t>();
    if constexpr (std::is_same_v<scalar_t, bool>) return Scalar(v);
    else if constexpr (is_floating_type_v<scalar_t>) return Scalar(static_cast<double>(static_cast<opmath_t<scalar_t>>(v)));
    else return Scalar(static_cast<int64_t>(v));
  });
}

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  return norch::str("Tensor(shape=", sizes(), ", dtype=", dtype_name(dtype()), ", device=", device().str(), ")");
}

}  // namespace norch

// norch/tensor/tensor.h — the cheap, copyable handle every API takes and returns.
// A Tensor is a shared pointer to a TensorImpl; copies alias, `clone` copies data.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "norch/tensor/scalar.h"
#include "norch/tensor/tensor_impl.h"

namespace norch {

struct TensorOptions {
  ScalarType dtype = ScalarType::Float32;
  Device device;
  bool requires_grad = false;
  TensorOptions() : dtype(default_dtype()) {}
  TensorOptions(ScalarType t) : dtype(t) {}
  TensorOptions(ScalarType t, Device d, bool rg = false) : dtype(t), device(d), requires_grad(rg) {}
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }

  // metadata
  const Shape& sizes() const { return impl_->sizes; }
  const Shape& strides() const { return impl_->strides; }
  int64_t size(int64_t dim) const;
  int64_t stride(int64_t dim) const;
  int64_t dim() const { return static_cast<int64_t>(impl_->sizes.size()); }
  int64_t numel() const { return impl_->numel(); }
  ScalarType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->device; }
  int64_t storage_offset() const { return impl_->storage_offset; }
  size_t element_size() const { return norch::element_size(impl_->dtype); }
  bool is_contiguous() const;
  bool is_floating_point() const { return norch::is_floating_point(dtype()); }
  bool is_cuda() const { return device().is_cuda(); }
  void* data_ptr() const { return impl_->data_ptr(); }
  template <typename T>
  T* data() const { return static_cast<T*>(impl_->data_ptr()); }
  uint32_t version() const { return impl_->storage->version.load(std::memory_order_relaxed); }
  void bump_version() const { impl_->storage->version.fetch_add(1, std::memory_order_relaxed); }

  // autograd (defined in src/autograd/node.cpp)
  bool requires_grad() const;
  Tensor& set_requires_grad(bool r);  // checks: only floating point tensors may require grad
  bool is_leaf() const;
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  std::shared_ptr<autograd::Node> grad_fn() const;
  uint32_t output_nr() const;
  bool retains_grad() const;

  // Common ops as methods, for C++ readability; each forwards to the free function
  // (defined in src/ops/tensor_methods.cpp, above the tensor layer).
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor detach() const;
  Tensor to(ScalarType t) const;
  Tensor to(Device d) const;
  Tensor view(const Shape& shape) const;
  Tensor reshape(const Shape& shape) const;
  Tensor sum() const;
  Scalar item() const;
  std::string str() const;  // short description: "Tensor(shape=(2, 3), dtype=float32, device=cpu)"

 private:
  std::shared_ptr<TensorImpl> impl_;
};

using TensorList = std::vector<Tensor>;

// Builds a tensor of fresh storage.
Tensor empty(const Shape& sizes, TensorOptions opts = {});
Tensor empty_strided(const Shape& sizes, const Shape& strides, TensorOptions opts = {});
// A view of `base`'s storage with new geometry; shares the version counter.
Tensor make_view(const Tensor& base, Shape sizes, Shape strides, int64_t storage_offset);
// Same geometry and storage, fresh autograd identity (Parameter, detach, saved
// outputs, views for set_history). A tensor primitive: it records nothing.
Tensor alias(const Tensor& t);
// Wraps caller-owned memory (NumPy arrays, DLPack); `deleter` runs when the last view dies.
Tensor from_blob(void* data, const Shape& sizes, const Shape& strides, ScalarType dtype, Device device,
                 std::function<void(void*)> deleter);
// A 0-d tensor holding a Python number, marked as a wrapped number for type promotion.
Tensor scalar_to_tensor(const Scalar& s, Device device = Device());
Tensor scalar_tensor(const Scalar& s, TensorOptions opts);

Shape contiguous_strides(const Shape& sizes);
std::string shape_str(const Shape& s);
// Wraps a possibly negative dim into [0, ndim); raises IndexError like PyTorch.
int64_t wrap_dim(int64_t dim, int64_t ndim, bool scalar_ok = true);

}  // namespace norch

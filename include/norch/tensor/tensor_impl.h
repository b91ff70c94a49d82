// norch/tensor/tensor_impl.h — what a tensor is: storage + sizes + strides +
// offset + dtype + device + version counter + autograd metadata.
// Depends on tensor/ only; autograd types are forward-declared.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "norch/tensor/device.h"
#include "norch/tensor/dtype.h"
#include "norch/tensor/storage.h"

namespace norch {

class Tensor;
namespace autograd {
struct Node;
struct AutogradMeta;
}  // namespace autograd

using Shape = std::vector<int64_t>;

struct TensorImpl {
  Storage storage;
  Shape sizes;
  Shape strides;  // in elements
  int64_t storage_offset = 0;
  ScalarType dtype = ScalarType::Float32;
  Device device;
  std::unique_ptr<autograd::AutogradMeta> autograd_meta;  // null until autograd touches it
  bool is_view = false;
  // A Python number turned into a 0-d tensor: weakest in type promotion.
  bool is_wrapped_number = false;

  TensorImpl();
  ~TensorImpl();

  // Cannot overflow: every geometry is checked where it is created (Note [Size
  // invariant] in norch/tensor/size_math.h).
  int64_t numel() const {
    int64_t n = 1;
    for (auto s : sizes) n *= s;
    return n;
  }
  void* data_ptr() const {
    return static_cast<char*>(storage->data) + storage_offset * static_cast<int64_t>(element_size(dtype));
  }
  autograd::AutogradMeta& autograd();  // creates the metadata on first use
};

}  // namespace norch

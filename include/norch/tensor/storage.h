// norch/tensor/storage.h — a reference-counted buffer on one device.
// Views share one Storage; the buffer is freed when the last view goes.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "norch/tensor/device.h"

namespace norch {

struct StorageImpl {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  // Frees `data`; set by the allocator, or by from_numpy to keep the array alive.
  std::function<void(void*)> deleter;
  // Note [Version counter]: shared by every tensor viewing this storage. An
  // in-place write through any of them bumps it; saved tensors compare it to
  // catch use after modification. Living here (not in a separate allocation)
  // saves a heap allocation per tensor.
  std::atomic<uint32_t> version{0};

  StorageImpl(void* d, size_t n, Device dev, std::function<void(void*)> del)
      : data(d), nbytes(n), device(dev), deleter(std::move(del)) {}
  StorageImpl(const StorageImpl&) = delete;
  StorageImpl& operator=(const StorageImpl&) = delete;
  ~StorageImpl() {
    if (deleter) deleter(data);
  }
};
using Storage = std::shared_ptr<StorageImpl>;

// Allocates `nbytes` on `device` (64-byte aligned on CPU; cached blocks on CUDA).
Storage allocate_storage(size_t nbytes, Device device);

}  // namespace norch

// CPU allocator: 64-byte aligned so that vector loads of whole cache lines are legal.
// CUDA storage comes from the caching allocator in src/kernels/cuda/.
#include <cstdlib>
#include <new>

#include "norch/tensor/storage.h"
#include "norch/backend.h"

namespace norch {

Storage allocate_storage(size_t nbytes, Device device) {
  if (device.is_cuda()) return cuda::allocate_storage(nbytes, device);
  size_t rounded = (nbytes + 63) & ~size_t{63};
  void* p = nullptr;
  if (rounded > 0) {
    p = std::aligned_alloc(64, rounded);
    if (!p) NORCH_ERROR("[CPU allocator] failed to allocate ", nbytes, " bytes: out of memory");
  }
  return std::make_shared<StorageImpl>(p, nbytes, device, [](void* q) { std::free(q); });
}

}  // namespace norch

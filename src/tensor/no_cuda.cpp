// The CUDA runtime entry points of a build without CUDA: honest refusals.
#ifndef NORCH_WITH_CUDA
#include "norch/backend.h"

namespace norch::cuda {

bool is_compiled() { return false; }
int device_count() { return 0; }
bool is_available() { return false; }
Status status() { return {false, 0, 0, "norch was built without CUDA"}; }
void synchronize() { NORCH_ERROR("norch was built without CUDA"); }
Storage allocate_storage(size_t, Device device) {
  NORCH_ERROR("norch was built without CUDA: cannot allocate memory on ", device.str());
}
void memcpy(void*, Device, const void*, Device, size_t) { NORCH_ERROR("norch was built without CUDA"); }
size_t memory_allocated() { return 0; }
size_t memory_reserved() { return 0; }
void empty_cache() {}

}  // namespace norch::cuda
#endif

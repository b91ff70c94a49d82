// What runtime.cu and streams.cu share and no kernel needs: the device checks and a
// guard that selects a device for a scope.
#pragma once
#include <cuda_runtime.h>

namespace norch::cuda {

// Raises "CUDA error during <what>: ..." (and clears the error) unless err is success.
void check(cudaError_t err, const char* what);
// The device a call means (-1: the current one); raises where no GPU can be used or
// the index is out of range. The first successful call marks CUDA initialized.
int resolve_device(int device);

// Makes `device` current for the scope and restores the previous one after.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool changed_ = false;
};

}  // namespace norch::cuda

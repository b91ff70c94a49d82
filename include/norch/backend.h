// norch/backend.h — the CUDA runtime as the core sees it. Implemented in
// src/kernels/cuda/runtime.cu when CUDA is built, else in src/tensor/no_cuda.cpp,
// where every entry point raises "norch was built without CUDA".
#pragma once
#include <string>

#include "norch/tensor/storage.h"

namespace norch::cuda {

bool is_compiled();
// Number of usable GPUs; 0 (never an error) without a driver or device.
int device_count();
bool is_available();
// (compiled, device_count, last error code, message): what the query saw.
struct Status {
  bool compiled;
  int device_count;
  int error_code;
  std::string message;
};
Status status();
void synchronize();
Storage allocate_storage(size_t nbytes, Device device);
// Raw copies between host and device memory (kind picked from the devices).
void memcpy(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes);
// Bytes held by the caching allocator (in use, and cached for reuse).
size_t memory_allocated();
size_t memory_reserved();
void empty_cache();

}  // namespace norch::cuda

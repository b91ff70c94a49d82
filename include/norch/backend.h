// norch/backend.h — the CUDA runtime as the core sees it. Implemented in
// src/kernels/cuda/runtime.cu when CUDA is built, else in src/tensor/no_cuda.cpp,
// where every entry point raises "norch was built without CUDA".
#pragma once
#include <cstdint>
#include <string>

#include "norch/tensor/caching_allocator.h"
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
// Raises PyTorch's errors where no GPU can be used ("norch was built without CUDA",
// "no CUDA device is available"). `device` -1 means the current device.
void synchronize(int device = -1);
// True once a GPU was used (a device selected, memory allocated, a stream made).
bool is_initialized();
int current_device();
void set_device(int device);

struct DeviceProperties {
  std::string name;
  size_t total_memory = 0;
  int major = 0, minor = 0;
  int multi_processor_count = 0;
};
DeviceProperties get_device_properties(int device);

// Streams and events as opaque handles (a cudaStream_t / cudaEvent_t as an integer;
// stream 0 is the device's default stream). Note [Streams] in src/kernels/cuda/streams.cu.
using StreamHandle = uintptr_t;
using EventHandle = uintptr_t;
// A stream from the device's pool at `priority` (lower is more urgent; clamped to
// the device's range, as PyTorch does). Pooled streams live as long as the process.
StreamHandle stream_create(int device, int priority);
int stream_priority(StreamHandle s);
bool stream_query(StreamHandle s);
void stream_synchronize(StreamHandle s);
void stream_wait_event(StreamHandle s, EventHandle e);
// The stream this thread's kernels and copies go to on `device`.
StreamHandle get_current_stream(int device);
void set_current_stream(int device, StreamHandle s);
EventHandle event_create(bool enable_timing, bool blocking);
void event_destroy(EventHandle e);
void event_record(EventHandle e, StreamHandle s);
bool event_query(EventHandle e);
void event_synchronize(EventHandle e);
float event_elapsed_time(EventHandle start, EventHandle end);  // milliseconds

Storage allocate_storage(size_t nbytes, Device device);
// Tensor.record_stream: the CUDA memory at `data` (a storage's base pointer on
// `device`) is also used by stream `s`, so the caching allocator reuses it only
// after the work queued on `s` when it is freed has finished (Note [record_stream]
// in norch/tensor/caching_allocator.h).
void record_stream(const void* data, int device, StreamHandle s);
// Page-locked host memory (a CPU storage): copies from and to it can be asynchronous.
Storage allocate_pinned(size_t nbytes);
bool is_pinned(const void* p);
// Raw copies between host and device memory (kind picked from the devices), on the
// current stream. A blocking copy waits for it; `non_blocking` returns at once when
// the host side is pinned (or both sides are on the device), as PyTorch does.
void memcpy(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes,
            bool non_blocking = false);
// The caching allocator (norch/tensor/caching_allocator.h) of the current device:
// bytes in use and held (in use plus cached for reuse).
size_t memory_allocated();
size_t memory_reserved();
AllocatorStats memory_stats(int device);
void reset_peak_memory_stats(int device);
void empty_cache();

}  // namespace norch::cuda

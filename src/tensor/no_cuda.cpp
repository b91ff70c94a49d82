// The CUDA runtime entry points of a build without CUDA: honest refusals, and the
// answers PyTorch's CPU-only build gives for the queries that never fail (no device,
// nothing allocated, nothing pinned).
#ifndef NORCH_WITH_CUDA
#include "norch/backend.h"

namespace norch::cuda {

namespace {
[[noreturn]] void refuse(const char* what) { NORCH_ERROR("norch was built without CUDA: ", what, " needs a CUDA build"); }
}  // namespace

bool is_compiled() { return false; }
int device_count() { return 0; }
bool is_available() { return false; }
bool is_initialized() { return false; }
Status status() { return {false, 0, 0, "norch was built without CUDA"}; }
void synchronize(int) { refuse("synchronize"); }
int current_device() { refuse("current_device"); }
void set_device(int) { refuse("set_device"); }
DeviceProperties get_device_properties(int) { refuse("get_device_properties"); }
StreamHandle stream_create(int, int) { refuse("a CUDA stream"); }
int stream_priority(StreamHandle) { refuse("a CUDA stream"); }
bool stream_query(StreamHandle) { refuse("a CUDA stream"); }
void stream_synchronize(StreamHandle) { refuse("a CUDA stream"); }
void stream_wait_event(StreamHandle, EventHandle) { refuse("a CUDA stream"); }
StreamHandle get_current_stream(int) { refuse("a CUDA stream"); }
void set_current_stream(int, StreamHandle) { refuse("a CUDA stream"); }
EventHandle event_create(bool, bool) { refuse("a CUDA event"); }
void event_destroy(EventHandle) {}
void event_record(EventHandle, StreamHandle) { refuse("a CUDA event"); }
bool event_query(EventHandle) { refuse("a CUDA event"); }
void event_synchronize(EventHandle) { refuse("a CUDA event"); }
float event_elapsed_time(EventHandle, EventHandle) { refuse("a CUDA event"); }
Storage allocate_storage(size_t, Device device) {
  NORCH_ERROR("norch was built without CUDA: cannot allocate memory on ", device.str());
}
void record_stream(const void*, int, StreamHandle) { refuse("record_stream"); }
Storage allocate_pinned(size_t) { NORCH_ERROR("Cannot access accelerator device when none is available."); }
bool is_pinned(const void*) { return false; }
void memcpy(void*, Device, const void*, Device, size_t, bool) { refuse("a copy to or from a GPU"); }
size_t memory_allocated() { return 0; }
size_t memory_reserved() { return 0; }
AllocatorStats memory_stats(int) { return {}; }
void reset_peak_memory_stats(int) {}
void empty_cache() {}

}  // namespace norch::cuda
#endif

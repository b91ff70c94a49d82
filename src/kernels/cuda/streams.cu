// CUDA streams and events for norch.cuda.Stream / Event and the current stream
// every kernel launch and copy uses (common.cuh: current_stream()).
//
// Note [Streams]: as in PyTorch, the current stream is per thread and per device and
// starts as the device's default stream (handle 0, the legacy default stream);
// `with norch.cuda.stream(s)` swaps it for the block. Streams come from a pool of
// kPoolSize per device and priority, handed out round robin and never destroyed, so
// a Stream object can be dropped while work queued on it still runs, and creating
// streams in a loop costs nothing after the first round. Memory a stream allocates
// is cached for that stream only (Note [Caching allocator]).
#include <cuda_runtime.h>

#include <array>
#include <mutex>
#include <vector>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/runtime_internal.cuh"
#include "norch/backend.h"

namespace norch::cuda {

namespace {

constexpr int kPoolSize = 32;
constexpr int kMaxDevices = 64;
constexpr int kMaxPriorities = 8;

struct StreamPool {
  std::mutex mutex;
  int least = 0, greatest = 0;  // priority range: least urgent (0), most urgent (negative)
  bool ready = false;
  std::array<std::vector<cudaStream_t>, kMaxPriorities> streams;
  std::array<int, kMaxPriorities> next{};
};

StreamPool& pool(int device) {
  static std::array<StreamPool, kMaxDevices> pools;
  NORCH_CHECK(device < kMaxDevices, "norch addresses at most ", kMaxDevices, " GPUs");
  return pools[static_cast<size_t>(device)];
}

std::vector<StreamHandle>& current_streams() {
  thread_local std::vector<StreamHandle> current(kMaxDevices, 0);
  return current;
}

}  // namespace

cudaStream_t current_stream() {
  int d = 0;
  if (cudaGetDevice(&d) != cudaSuccess) {
    cudaGetLastError();
    return nullptr;
  }
  return reinterpret_cast<cudaStream_t>(current_streams()[static_cast<size_t>(d)]);
}

StreamHandle stream_create(int device, int priority) {
  const int d = resolve_device(device);
  StreamPool& p = pool(d);
  DeviceGuard guard(d);
  std::lock_guard<std::mutex> lock(p.mutex);
  if (!p.ready) {
    check(cudaDeviceGetStreamPriorityRange(&p.least, &p.greatest), "cudaDeviceGetStreamPriorityRange");
    p.ready = true;
  }
  // Out-of-range priorities map to the nearest valid one (PyTorch's rule).
  int prio = priority > p.least ? p.least : (priority < p.greatest ? p.greatest : priority);
  int slot = p.least - prio;
  if (slot >= kMaxPriorities) slot = kMaxPriorities - 1;
  auto& list = p.streams[static_cast<size_t>(slot)];
  if (list.size() < static_cast<size_t>(kPoolSize)) {
    cudaStream_t s = nullptr;
    check(cudaStreamCreateWithPriority(&s, cudaStreamNonBlocking, prio), "cudaStreamCreateWithPriority");
    list.push_back(s);
    return reinterpret_cast<StreamHandle>(s);
  }
  int& i = p.next[static_cast<size_t>(slot)];
  cudaStream_t s = list[static_cast<size_t>(i)];
  i = (i + 1) % kPoolSize;
  return reinterpret_cast<StreamHandle>(s);
}

int stream_priority(StreamHandle s) {
  resolve_device(-1);
  int prio = 0;
  check(cudaStreamGetPriority(reinterpret_cast<cudaStream_t>(s), &prio), "cudaStreamGetPriority");
  return prio;
}

bool stream_query(StreamHandle s) {
  resolve_device(-1);
  cudaError_t err = cudaStreamQuery(reinterpret_cast<cudaStream_t>(s));
  if (err == cudaErrorNotReady) {
    cudaGetLastError();
    return false;
  }
  check(err, "Stream.query");
  return true;
}

void stream_synchronize(StreamHandle s) {
  resolve_device(-1);
  check(cudaStreamSynchronize(reinterpret_cast<cudaStream_t>(s)), "Stream.synchronize");
}

void stream_wait_event(StreamHandle s, EventHandle e) {
  resolve_device(-1);
  check(cudaStreamWaitEvent(reinterpret_cast<cudaStream_t>(s), reinterpret_cast<cudaEvent_t>(e), 0),
        "Stream.wait_event");
}

StreamHandle get_current_stream(int device) { return current_streams()[static_cast<size_t>(resolve_device(device))]; }

void set_current_stream(int device, StreamHandle s) {
  current_streams()[static_cast<size_t>(resolve_device(device))] = s;
}

EventHandle event_create(bool enable_timing, bool blocking) {
  resolve_device(-1);
  unsigned flags = (enable_timing ? cudaEventDefault : cudaEventDisableTiming) | (blocking ? cudaEventBlockingSync : 0);
  cudaEvent_t e = nullptr;
  check(cudaEventCreateWithFlags(&e, flags), "Event");
  return reinterpret_cast<EventHandle>(e);
}

void event_destroy(EventHandle e) {
  if (e) cudaEventDestroy(reinterpret_cast<cudaEvent_t>(e));  // may run at exit, after the driver: no check
}

void event_record(EventHandle e, StreamHandle s) {
  resolve_device(-1);
  check(cudaEventRecord(reinterpret_cast<cudaEvent_t>(e), reinterpret_cast<cudaStream_t>(s)), "Event.record");
}

bool event_query(EventHandle e) {
  resolve_device(-1);
  cudaError_t err = cudaEventQuery(reinterpret_cast<cudaEvent_t>(e));
  if (err == cudaErrorNotReady) {
    cudaGetLastError();
    return false;
  }
  check(err, "Event.query");
  return true;
}

void event_synchronize(EventHandle e) {
  resolve_device(-1);
  check(cudaEventSynchronize(reinterpret_cast<cudaEvent_t>(e)), "Event.synchronize");
}

float event_elapsed_time(EventHandle start, EventHandle end) {
  resolve_device(-1);
  float ms = 0;
  check(cudaEventElapsedTime(&ms, reinterpret_cast<cudaEvent_t>(start), reinterpret_cast<cudaEvent_t>(end)),
        "Event.elapsed_time");
  return ms;
}

}  // namespace norch::cuda

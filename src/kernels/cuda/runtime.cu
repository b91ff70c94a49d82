// The CUDA runtime as the core sees it (include/norch/backend.h): lazy device
// queries that never fail without a driver, the caching allocator's device side,
// pinned host memory and copies. Streams and events: streams.cu.
//
// Note [CUDA without a GPU]: a build with CUDA must import and run on a machine
// with no driver. Nothing here runs at load time; the first query maps every
// error (35 "insufficient driver", 100 "no device") to "no GPU".
#include <cuda_runtime.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/runtime_internal.cuh"
#include "norch/backend.h"
#include "norch/tensor/caching_allocator.h"

namespace norch::cuda {

namespace {

struct Query {
  int count = 0;
  int error = 0;
  std::string message;
};

const Query& query() {
  static Query q = [] {
    Query r;
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
      r.error = static_cast<int>(err);
      r.message = cudaGetErrorString(err);
      cudaGetLastError();  // clear the sticky error so later calls start clean
      n = 0;
    }
    r.count = n;
    return r;
  }();
  return q;
}

std::atomic<bool> g_initialized{false};

// cudaMalloc and cudaFree for one device, behind the caching allocator.
class DeviceRaw : public RawAllocator {
 public:
  explicit DeviceRaw(int device) : device_(device) {}
  void* malloc(size_t nbytes) override {
    DeviceGuard guard(device_);
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, nbytes);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      return nullptr;
    }
    check(err, "cudaMalloc");
    return p;
  }
  void free(void* p) override {
    DeviceGuard guard(device_);
    check(cudaFree(p), "cudaFree");
  }
  // Note [record_stream]: events for blocks other streams used. These run when a
  // storage is freed, so a failure never throws: a stream whose event could not
  // be recorded is waited for instead, and nothing is left to wait for.
  void* record_event(uintptr_t stream) override {
    DeviceGuard guard(device_);
    cudaEvent_t e = nullptr;
    cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
    if (cudaEventCreateWithFlags(&e, cudaEventDisableTiming) == cudaSuccess && cudaEventRecord(e, s) == cudaSuccess)
      return e;
    cudaGetLastError();
    if (e) cudaEventDestroy(e);
    cudaStreamSynchronize(s);
    cudaGetLastError();
    return nullptr;
  }
  bool event_done(void* e) override {
    const cudaError_t err = cudaEventQuery(static_cast<cudaEvent_t>(e));
    if (err == cudaSuccess) return true;
    cudaGetLastError();
    return err != cudaErrorNotReady;  // an event that failed will never complete: stop waiting for it
  }
  void event_wait(void* e) override {
    if (cudaEventSynchronize(static_cast<cudaEvent_t>(e)) != cudaSuccess) cudaGetLastError();
  }
  void event_release(void* e) override { cudaEventDestroy(static_cast<cudaEvent_t>(e)); }
  std::string describe() override {
    DeviceGuard guard(device_);
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) {
      cudaGetLastError();
      return {};
    }
    return str("GPU ", device_, " has a total capacity of ", CachingAllocator::format_size(total_b), " of which ",
               CachingAllocator::format_size(free_b), " is free");
  }

 private:
  int device_;
};

// Page-locked host memory, cached the same way (DataLoader(pin_memory=True) pins
// every batch, and cudaHostAlloc takes milliseconds).
class PinnedRaw : public RawAllocator {
 public:
  void* malloc(size_t nbytes) override {
    void* p = nullptr;
    cudaError_t err = cudaHostAlloc(&p, nbytes, cudaHostAllocPortable);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      return nullptr;
    }
    check(err, "cudaHostAlloc");
    return p;
  }
  void free(void* p) override { check(cudaFreeHost(p), "cudaFreeHost"); }
  std::string describe() override { return "pinned host memory"; }
};

// One allocator per device, made on first use and never destroyed: frees after the
// driver shut down at exit would fail.
CachingAllocator& allocator(int device) {
  static std::mutex mutex;
  static std::vector<CachingAllocator*> all;
  std::lock_guard<std::mutex> lock(mutex);
  if (all.empty()) all.resize(static_cast<size_t>(query().count), nullptr);
  CachingAllocator*& a = all.at(static_cast<size_t>(device));
  if (!a) a = new CachingAllocator(std::make_unique<DeviceRaw>(device), str("GPU ", device));
  return *a;
}

// A pinned block goes back to the cache only after the work queued on the current
// stream when it was freed has finished: a non_blocking copy may still read it.
struct PinnedPool {
  std::mutex mutex;
  CachingAllocator cache{std::make_unique<PinnedRaw>(), "pinned host memory"};
  std::vector<std::pair<void*, cudaEvent_t>> pending;

  void reap() {  // under mutex
    for (size_t i = 0; i < pending.size();) {
      if (cudaEventQuery(pending[i].second) == cudaSuccess) {
        cudaEventDestroy(pending[i].second);
        cache.free(pending[i].first);
        pending[i] = pending.back();
        pending.pop_back();
      } else {
        cudaGetLastError();
        ++i;
      }
    }
  }
  void release(void* p) {
    std::lock_guard<std::mutex> lock(mutex);
    cudaEvent_t e = nullptr;
    if (cudaEventCreateWithFlags(&e, cudaEventDisableTiming) == cudaSuccess &&
        cudaEventRecord(e, current_stream()) == cudaSuccess) {
      pending.emplace_back(p, e);
    } else {
      cudaGetLastError();
      if (e) cudaEventDestroy(e);
      cudaDeviceSynchronize();
      cache.free(p);
    }
  }
};

PinnedPool& pinned_pool() {
  static auto* p = new PinnedPool();
  return *p;
}

}  // namespace

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    cudaGetLastError();
    NORCH_ERROR("CUDA error during ", what, ": ", cudaGetErrorString(err));
  }
}

int resolve_device(int device) {
  NORCH_CHECK(query().count > 0, "no CUDA device is available (",
              query().message.empty() ? "no GPU found" : query().message, ")");
  if (device < 0) {
    int d = 0;
    check(cudaGetDevice(&d), "cudaGetDevice");
    device = d;
  }
  NORCH_CHECK(device < query().count, "CUDA error: invalid device ordinal ", device, " (", query().count,
              " device(s) available)");
  g_initialized = true;
  return device;
}

DeviceGuard::DeviceGuard(int device) {
  check(cudaGetDevice(&previous_), "cudaGetDevice");
  if (device >= 0 && device != previous_) {
    check(cudaSetDevice(device), "cudaSetDevice");
    changed_ = true;
  }
}
DeviceGuard::~DeviceGuard() {
  if (changed_) cudaSetDevice(previous_);
}

bool is_compiled() { return true; }
int device_count() { return query().count; }
bool is_available() { return query().count > 0; }
bool is_initialized() { return g_initialized; }
Status status() {
  const Query& q = query();
  return {true, q.count, q.error, q.message};
}

void synchronize(int device) {
  DeviceGuard guard(resolve_device(device));
  check(cudaDeviceSynchronize(), "synchronize");
}

int current_device() { return resolve_device(-1); }

void set_device(int device) { check(cudaSetDevice(resolve_device(device)), "cudaSetDevice"); }

DeviceProperties get_device_properties(int device) {
  cudaDeviceProp p{};
  check(cudaGetDeviceProperties(&p, resolve_device(device)), "cudaGetDeviceProperties");
  DeviceProperties r;
  r.name = p.name;
  r.total_memory = p.totalGlobalMem;
  r.major = p.major;
  r.minor = p.minor;
  r.multi_processor_count = p.multiProcessorCount;
  return r;
}

Storage allocate_storage(size_t nbytes, Device device) {
  const int d = resolve_device(device.index);
  void* p = nullptr;
  if (nbytes) {
    CachingAllocator& a = allocator(d);
    DeviceGuard guard(d);
    // Note [Caching allocator]: a block belongs to the stream it is first used on.
    p = a.allocate(nbytes, reinterpret_cast<CachingAllocator::StreamId>(current_stream()));
  }
  return std::make_shared<StorageImpl>(p, nbytes, Device(DeviceType::CUDA, d), [d](void* q) {
    if (q) allocator(d).free(q);
  });
}

void record_stream(const void* data, int device, StreamHandle s) {
  if (!data) return;
  allocator(resolve_device(device)).record_stream(data, static_cast<CachingAllocator::StreamId>(s));
}

Storage allocate_pinned(size_t nbytes) {
  resolve_device(-1);
  void* p = nullptr;
  if (nbytes) {
    PinnedPool& pool = pinned_pool();
    std::lock_guard<std::mutex> lock(pool.mutex);
    pool.reap();
    p = pool.cache.allocate(nbytes);
  }
  return std::make_shared<StorageImpl>(p, nbytes, Device(), [](void* q) {
    if (q) pinned_pool().release(q);
  });
}

bool is_pinned(const void* p) {
  if (!p || query().count == 0) return false;
  cudaPointerAttributes attr{};
  if (cudaPointerGetAttributes(&attr, p) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return attr.type == cudaMemoryTypeHost;
}

void memcpy(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes, bool non_blocking) {
  if (nbytes == 0) return;
  const bool to_gpu = dst_device.is_cuda(), from_gpu = src_device.is_cuda();
  DeviceGuard guard(resolve_device(to_gpu ? dst_device.index : src_device.index));
  cudaMemcpyKind kind = to_gpu ? (from_gpu ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                               : (from_gpu ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  cudaStream_t stream = current_stream();
  check(cudaMemcpyAsync(dst, src, nbytes, kind, stream), "memcpy");
  // Pageable host memory is staged by the driver, so only a pinned host side (or a
  // device-to-device copy, ordered on the stream) may be left running.
  const bool may_run_on = kind == cudaMemcpyDeviceToDevice ||
                          (non_blocking && (to_gpu ? is_pinned(src) : is_pinned(dst)));
  if (!may_run_on) check(cudaStreamSynchronize(stream), "memcpy");
}

void* allocate_workspace(size_t nbytes) {
  if (!nbytes) return nullptr;
  const int d = resolve_device(-1);
  return allocator(d).allocate(nbytes, reinterpret_cast<CachingAllocator::StreamId>(current_stream()));
}

void release_workspace(void* p) {
  if (p) allocator(resolve_device(-1)).free(p);
}

size_t memory_allocated() {
  return is_initialized() ? static_cast<size_t>(memory_stats(-1).allocated_bytes.current) : 0;
}
size_t memory_reserved() {
  return is_initialized() ? static_cast<size_t>(memory_stats(-1).reserved_bytes.current) : 0;
}
AllocatorStats memory_stats(int device) {
  if (!is_initialized()) return {};
  return allocator(resolve_device(device)).stats();
}
void reset_peak_memory_stats(int device) {
  if (is_initialized()) allocator(resolve_device(device)).reset_peak_stats();
}
void empty_cache() {
  if (!is_initialized()) return;
  for (int d = 0; d < query().count; ++d) allocator(d).empty_cache();
  PinnedPool& pool = pinned_pool();
  std::lock_guard<std::mutex> lock(pool.mutex);
  pool.reap();
  pool.cache.empty_cache();
}

}  // namespace norch::cuda

// The CUDA runtime as the core sees it (include/norch/backend.h): lazy device
// queries that never fail without a driver, a caching allocator, and copies.
//
// Note [CUDA without a GPU]: a build with CUDA must import and run on a machine
// with no driver. Nothing here runs at load time; the first query maps every
// error (35 "insufficient driver", 100 "no device") to "no GPU".
#include <cuda_runtime.h>

#include <map>
#include <mutex>
#include <vector>

#include "kernels/cuda/common.cuh"
#include "norch/backend.h"

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

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    cudaGetLastError();
    NORCH_ERROR("CUDA error during ", what, ": ", cudaGetErrorString(err));
  }
}

// A caching allocator: freed blocks go to a free list keyed by rounded size and
// are reused, because cudaMalloc/cudaFree per op would synchronize and crawl.
class CachingAllocator {
 public:
  void* allocate(size_t nbytes) {
    size_t size = round(nbytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        allocated_ += size;
        return p;
      }
    }
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, size);
    if (err == cudaErrorMemoryAllocation) {
      empty_cache();
      err = cudaMalloc(&p, size);
    }
    if (err != cudaSuccess) {
      cudaGetLastError();
      NORCH_ERROR("CUDA out of memory or error: tried to allocate ", nbytes, " bytes (", cudaGetErrorString(err), ")");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    sizes_[p] = size;
    allocated_ += size;
    reserved_ += size;
    return p;
  }
  void release(void* p) {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t size = sizes_[p];
    free_[size].push_back(p);
    allocated_ -= size;
  }
  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, blocks] : free_) {
      for (void* p : blocks) {
        cudaFree(p);
        sizes_.erase(p);
        reserved_ -= size;
      }
      blocks.clear();
    }
  }
  size_t allocated() const { return allocated_; }
  size_t reserved() const { return reserved_; }

 private:
  static size_t round(size_t n) {
    if (n < 512) return 512;
    if (n < (1 << 20)) return (n + 511) & ~size_t{511};
    return (n + (1 << 20) - 1) & ~size_t{(1 << 20) - 1};
  }
  std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_;
  std::map<void*, size_t> sizes_;
  size_t allocated_ = 0, reserved_ = 0;
};

CachingAllocator& allocator() {
  static auto* a = new CachingAllocator();  // never destroyed: frees after driver shutdown would fail
  return *a;
}

void require_device(Device device) {
  NORCH_CHECK(query().count > 0, "no CUDA device is available (", query().message.empty() ? "no GPU found" : query().message,
              "); cannot use ", device.str());
  int idx = device.index < 0 ? 0 : device.index;
  NORCH_CHECK(idx < query().count, "CUDA error: invalid device ordinal ", idx, " (", query().count, " device(s) available)");
  check(cudaSetDevice(idx), "cudaSetDevice");
}

}  // namespace

bool is_compiled() { return true; }
int device_count() { return query().count; }
bool is_available() { return query().count > 0; }
Status status() {
  const Query& q = query();
  return {true, q.count, q.error, q.message};
}
void synchronize() {
  require_device(Device(DeviceType::CUDA, 0));
  check(cudaDeviceSynchronize(), "synchronize");
}

Storage allocate_storage(size_t nbytes, Device device) {
  require_device(device);
  void* p = nbytes ? allocator().allocate(nbytes) : nullptr;
  return std::make_shared<StorageImpl>(p, nbytes, device, [](void* q) {
    if (q) allocator().release(q);
  });
}

void memcpy(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) {
  if (nbytes == 0) return;
  cudaMemcpyKind kind = dst_device.is_cuda() ? (src_device.is_cuda() ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                             : (src_device.is_cuda() ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  check(cudaMemcpy(dst, src, nbytes, kind), "memcpy");
}

cudaStream_t current_stream() { return nullptr; }
void* allocate_workspace(size_t nbytes) { return nbytes ? allocator().allocate(nbytes) : nullptr; }
void release_workspace(void* p) {
  if (p) allocator().release(p);
}

size_t memory_allocated() { return is_available() ? allocator().allocated() : 0; }
size_t memory_reserved() { return is_available() ? allocator().reserved() : 0; }
void empty_cache() {
  if (is_available()) allocator().empty_cache();
}

}  // namespace norch::cuda

// CPU allocator: 64-byte aligned so that vector loads of whole cache lines are legal.
// CUDA storage comes from the caching allocator in src/kernels/cuda/.
//
// Note [CPU allocator caching]: an eager framework allocates an output for every
// op, and for small tensors the malloc/free pair (aligned allocation takes glibc's
// slow memalign path) costs more than the arithmetic. Blocks up to 1 MiB are kept
// in per-thread free lists by power-of-two size class and reused. Large blocks are
// 2 MiB aligned and marked for transparent huge pages, which turns a 64 MB fresh
// output's 16k page faults into a few hundred.
#include <sys/mman.h>

#include <cstdlib>
#include <new>
#include <vector>

#include "norch/backend.h"
#include "norch/tensor/storage.h"

namespace norch {

namespace {

constexpr int kMinClassLog2 = 6;   // 64 bytes
constexpr int kMaxClassLog2 = 20;  // 1 MiB
constexpr int kNumClasses = kMaxClassLog2 - kMinClassLog2 + 1;
constexpr size_t kMaxCachedPerClass = 64;
constexpr size_t kHugeThreshold = size_t{4} << 20;
constexpr size_t kHugeAlign = size_t{2} << 20;

struct ThreadCache {
  std::vector<void*> free_blocks[kNumClasses];
  ~ThreadCache() {
    for (auto& list : free_blocks)
      for (void* p : list) std::free(p);
  }
};

ThreadCache& thread_cache() {
  thread_local ThreadCache cache;
  return cache;
}

int size_class(size_t nbytes) {
  int c = kMinClassLog2;
  while ((size_t{1} << c) < nbytes) ++c;
  return c - kMinClassLog2;
}

void* raw_alloc(size_t bytes, size_t align) {
  void* p = std::aligned_alloc(align, bytes);
  if (!p) NORCH_ERROR("[CPU allocator] failed to allocate ", bytes, " bytes: out of memory");
  return p;
}

void release_small(void* p, int cls) {
  auto& list = thread_cache().free_blocks[cls];
  if (list.size() < kMaxCachedPerClass) list.push_back(p);
  else std::free(p);
}

}  // namespace

Storage allocate_storage(size_t nbytes, Device device) {
  if (device.is_cuda()) return cuda::allocate_storage(nbytes, device);
  if (nbytes == 0) return std::make_shared<StorageImpl>(nullptr, 0, device, nullptr);
  if (nbytes <= (size_t{1} << kMaxClassLog2)) {
    const int cls = size_class(nbytes);
    auto& list = thread_cache().free_blocks[cls];
    void* p;
    if (!list.empty()) {
      p = list.back();
      list.pop_back();
    } else {
      p = raw_alloc(size_t{1} << (cls + kMinClassLog2), 64);
    }
    return std::make_shared<StorageImpl>(p, nbytes, device, [cls](void* q) { release_small(q, cls); });
  }
  if (nbytes >= kHugeThreshold) {
    const size_t rounded = (nbytes + kHugeAlign - 1) & ~(kHugeAlign - 1);
    void* p = raw_alloc(rounded, kHugeAlign);
    madvise(p, rounded, MADV_HUGEPAGE);  // advisory: failure just means normal pages
    return std::make_shared<StorageImpl>(p, nbytes, device, [](void* q) { std::free(q); });
  }
  void* p = raw_alloc((nbytes + 63) & ~size_t{63}, 64);
  return std::make_shared<StorageImpl>(p, nbytes, device, [](void* q) { std::free(q); });
}

}  // namespace norch

// CPU allocator: 64-byte aligned so that vector loads of whole cache lines are legal.
// CUDA storage comes from the caching allocator in src/kernels/cuda/.
//
// Note [CPU allocator caching]: an eager framework allocates an output for every
// op, and for small tensors the malloc/free pair (aligned allocation takes glibc's
// slow memalign path) costs more than the arithmetic. Blocks up to 4 MiB are kept
// in per-thread free lists by power-of-two size class and reused; a class keeps at
// most 32 MiB (64 blocks of 512 KiB or less, 8 of 4 MiB), so the cache's footprint
// stays bounded. The limit is 4 MiB rather than 1 because LeNet's im2col columns and
// activation gradients at batch 64 are 1-4 MiB: at 1 MiB three blocks per step were
// fresh, each a few hundred page faults. Larger blocks are
// 2 MiB aligned and marked for transparent huge pages, which turns a 64 MB fresh
// output's 16k page faults into a few hundred.
//
// Note [CPU allocator counters]: each thread's cache counts its own events in
// counters only that thread writes (a relaxed load and store, no locked add, so the
// tiny-op path pays a couple of plain increments). A reader sums the live caches
// and the totals of exited threads under a mutex; a reset records the sums as a
// baseline rather than writing other threads' counters.
#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#include "norch/backend.h"
#include "norch/tensor/cpu_allocator.h"
#include "norch/tensor/storage.h"

namespace norch {

namespace {

constexpr int kMinClassLog2 = 6;   // 64 bytes
constexpr int kMaxClassLog2 = 22;  // 4 MiB
constexpr int kNumClasses = kMaxClassLog2 - kMinClassLog2 + 1;
constexpr size_t kMaxCachedPerClass = 64;
constexpr size_t kMaxCachedBytesPerClass = size_t{32} << 20;

size_t cached_block_limit(int cls) {
  const size_t block = size_t{1} << (cls + kMinClassLog2);
  const size_t by_bytes = kMaxCachedBytesPerClass / block;
  return by_bytes < kMaxCachedPerClass ? by_bytes : kMaxCachedPerClass;
}
constexpr size_t kHugeThreshold = size_t{4} << 20;
constexpr size_t kHugeAlign = size_t{2} << 20;

enum Counter { kHits, kMisses, kLarge, kHuge, kRequestedBytes, kFreshBytes, kCachedFrees, kReleasedFrees, kNumCounters };

struct Counts {
  uint64_t v[kNumCounters] = {};
};

struct ThreadCache;

// Every live thread cache, plus what exited threads counted (Note [CPU allocator counters]).
struct Registry {
  std::mutex mutex;
  std::vector<ThreadCache*> live;
  Counts retired, baseline;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: thread caches outlive static destructors
  return *r;
}

struct ThreadCache {
  std::vector<void*> free_blocks[kNumClasses];
  std::atomic<uint64_t> counters[kNumCounters] = {};

  ThreadCache() {
    std::lock_guard<std::mutex> lock(registry().mutex);
    registry().live.push_back(this);
  }
  ~ThreadCache() {
    for (auto& list : free_blocks)
      for (void* p : list) std::free(p);
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    for (int i = 0; i < kNumCounters; ++i) r.retired.v[i] += counters[i].load(std::memory_order_relaxed);
    for (size_t i = 0; i < r.live.size(); ++i)
      if (r.live[i] == this) {
        r.live[i] = r.live.back();
        r.live.pop_back();
        break;
      }
  }
  // Only the owning thread writes, so a plain load and store suffices; readers may see
  // a count one event stale, never a torn one.
  void bump(Counter c, uint64_t by = 1) {
    counters[c].store(counters[c].load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
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
  ThreadCache& cache = thread_cache();
  auto& list = cache.free_blocks[cls];
  if (list.size() < cached_block_limit(cls)) {
    list.push_back(p);
    cache.bump(kCachedFrees);
  } else {
    std::free(p);
    cache.bump(kReleasedFrees);
  }
}

void release_large(void* p) {
  std::free(p);
  thread_cache().bump(kReleasedFrees);
}

Counts sum_counts(Registry& r) {
  Counts total = r.retired;
  for (ThreadCache* c : r.live)
    for (int i = 0; i < kNumCounters; ++i) total.v[i] += c->counters[i].load(std::memory_order_relaxed);
  return total;
}

void count_large(size_t nbytes, size_t rounded, bool huge) {
  ThreadCache& cache = thread_cache();
  cache.bump(kLarge);
  if (huge) cache.bump(kHuge);
  cache.bump(kRequestedBytes, nbytes);
  cache.bump(kFreshBytes, rounded);
}

}  // namespace

Storage allocate_storage(size_t nbytes, Device device) {
  if (device.is_cuda()) return cuda::allocate_storage(nbytes, device);
  if (nbytes == 0) return std::make_shared<StorageImpl>(nullptr, 0, device, nullptr);
  if (nbytes <= (size_t{1} << kMaxClassLog2)) {
    const int cls = size_class(nbytes);
    ThreadCache& cache = thread_cache();
    auto& list = cache.free_blocks[cls];
    void* p;
    if (!list.empty()) {
      p = list.back();
      list.pop_back();
      cache.bump(kHits);
    } else {
      const size_t block = size_t{1} << (cls + kMinClassLog2);
      p = raw_alloc(block, 64);
      cache.bump(kMisses);
      cache.bump(kFreshBytes, block);
    }
    cache.bump(kRequestedBytes, nbytes);
    return std::make_shared<StorageImpl>(p, nbytes, device, [cls](void* q) { release_small(q, cls); });
  }
  if (nbytes >= kHugeThreshold) {
    const size_t rounded = (nbytes + kHugeAlign - 1) & ~(kHugeAlign - 1);
    void* p = raw_alloc(rounded, kHugeAlign);
    madvise(p, rounded, MADV_HUGEPAGE);  // advisory: failure just means normal pages
    count_large(nbytes, rounded, true);
    return std::make_shared<StorageImpl>(p, nbytes, device, release_large);
  }
  const size_t rounded = (nbytes + 63) & ~size_t{63};
  void* p = raw_alloc(rounded, 64);
  count_large(nbytes, rounded, false);
  return std::make_shared<StorageImpl>(p, nbytes, device, release_large);
}

CpuAllocatorStats cpu_allocator_stats() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  const Counts total = sum_counts(r);
  uint64_t v[kNumCounters];
  for (int i = 0; i < kNumCounters; ++i) v[i] = total.v[i] - r.baseline.v[i];
  CpuAllocatorStats s;
  s.cache_hits = v[kHits];
  s.cache_misses = v[kMisses];
  s.large_allocs = v[kLarge];
  s.huge_allocs = v[kHuge];
  s.requested_bytes = v[kRequestedBytes];
  s.fresh_bytes = v[kFreshBytes];
  s.cached_frees = v[kCachedFrees];
  s.released_frees = v[kReleasedFrees];
  return s;
}

uint64_t cpu_allocator_max_cached_bytes() { return uint64_t{1} << kMaxClassLog2; }

void reset_cpu_allocator_stats() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.baseline = sum_counts(r);
}

}  // namespace norch

// norch/tensor/cpu_allocator.h — counters of the CPU allocator (src/tensor/allocator.cpp,
// Note [CPU allocator caching]), to show that steady-state work reuses cached blocks.
#pragma once
#include <cstdint>

namespace norch {

// What the CPU allocator has done since the last reset, summed over every thread.
// Blocks up to 4 MiB come from the calling thread's cache (a hit) or, when its list
// is empty, from the system (a miss); larger ones always come fresh, and those of
// 4 MiB and more are placed on transparent huge pages.
struct CpuAllocatorStats {
  uint64_t cache_hits = 0;
  uint64_t cache_misses = 0;
  uint64_t large_allocs = 0;     // above the cached size limit, always fresh
  uint64_t huge_allocs = 0;      // the large ones placed on huge pages
  uint64_t requested_bytes = 0;  // the sizes asked for, over every allocation
  uint64_t fresh_bytes = 0;      // bytes taken from the system (misses and large blocks)
  uint64_t cached_frees = 0;     // blocks kept in a thread's cache for reuse
  uint64_t released_frees = 0;   // blocks given back to the system
};

CpuAllocatorStats cpu_allocator_stats();
void reset_cpu_allocator_stats();
// The largest block the per-thread caches keep; anything bigger is a large allocation.
uint64_t cpu_allocator_max_cached_bytes();

}  // namespace norch

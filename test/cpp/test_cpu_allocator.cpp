// The CPU allocator's counters (norch/tensor/cpu_allocator.h): blocks allocated and
// freed inside parallel_for chunks, on the pool's helper threads as well as the caller,
// are all summed in, and a reset taken while helpers hold counts starts from zero.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "test_helpers.h"

using namespace norch;

namespace {

struct ThreadCount {
  int saved = get_num_threads();
  explicit ThreadCount(int n) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved); }
};

uint64_t small_allocs(const CpuAllocatorStats& s) { return s.cache_hits + s.cache_misses; }

}  // namespace

TEST(CpuAllocatorStats, HelperThreadsAreCounted) {
  ThreadCount tc(2);
  constexpr int64_t kItems = 64;
  bool helper_ran = false;
  // The caller takes every chunk no helper claimed, so retry until a helper took one.
  for (int attempt = 0; attempt < 50 && !helper_ran; ++attempt) {
    std::mutex m;
    std::set<std::thread::id> ids;
    reset_cpu_allocator_stats();
    parallel_for(kItems, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        Storage s = allocate_storage(512, Device());
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      std::lock_guard<std::mutex> lock(m);
      ids.insert(std::this_thread::get_id());
    });
    const CpuAllocatorStats s = cpu_allocator_stats();
    EXPECT_EQ(small_allocs(s), uint64_t(kItems));
    EXPECT_EQ(s.cached_frees + s.released_frees, uint64_t(kItems));
    EXPECT_EQ(s.requested_bytes, uint64_t(kItems) * 512);
    EXPECT_EQ(s.large_allocs, 0u);
    helper_ran = ids.size() > 1;
  }
  EXPECT_TRUE(helper_ran) << "no pool helper ever ran a chunk";
}

TEST(CpuAllocatorStats, ResetCoversCountsHeldByHelpers) {
  ThreadCount tc(2);
  parallel_for(16, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) Storage s = allocate_storage(64, Device());
  });
  reset_cpu_allocator_stats();
  const CpuAllocatorStats s = cpu_allocator_stats();
  EXPECT_EQ(small_allocs(s) + s.large_allocs + s.requested_bytes + s.cached_frees + s.released_frees, 0u);
}

TEST(CpuAllocatorStats, ExitedThreadsStayCounted) {
  reset_cpu_allocator_stats();
  std::thread t([] {
    for (int i = 0; i < 10; ++i) Storage s = allocate_storage(100, Device());
    Storage big = allocate_storage(size_t{5} << 20, Device());
  });
  t.join();
  const CpuAllocatorStats s = cpu_allocator_stats();
  EXPECT_EQ(small_allocs(s), 10u);
  EXPECT_GE(s.cache_misses, 1u);  // the new thread's cache started empty
  EXPECT_EQ(s.large_allocs, 1u);
  EXPECT_EQ(s.huge_allocs, 1u);
  EXPECT_EQ(s.released_frees, 1u);
  EXPECT_EQ(s.requested_bytes, 1000u + (size_t{5} << 20));
  EXPECT_EQ(cpu_allocator_max_cached_bytes(), uint64_t{4} << 20);
}

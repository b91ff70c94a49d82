// parallel_for (norch/tensor/parallel.h): every index is visited exactly once, in ranges
// that respect the grain, on any thread count, and a nested call stays on its thread.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <vector>

#include "test_helpers.h"

using namespace norch;

namespace {

// Restores norch's thread count when a test ends.
struct ThreadCount {
  int saved = get_num_threads();
  explicit ThreadCount(int n) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(saved); }
};

}  // namespace

TEST(ParallelFor, CoversEveryIndexOnce) {
  for (int threads : {1, 2, 3, 7}) {
    ThreadCount tc(threads);
    for (int64_t n : {0, 1, 2, 3, 63, 64, 65, 1000, 4097, 100003}) {
      for (int64_t grain : {-1, 0, 1, 2, 7, 64, 1000, 1 << 20}) {
        std::unique_ptr<std::atomic<int>[]> hits(new std::atomic<int>[n > 0 ? n : 1]);
        for (int64_t i = 0; i < n; ++i) hits[i] = 0;
        std::atomic<int64_t> calls{0}, short_calls{0};
        parallel_for(n, grain, [&](int64_t b, int64_t e) {
          ASSERT_LE(0, b);
          ASSERT_LT(b, e);
          ASSERT_LE(e, n);
          calls.fetch_add(1);
          if (e - b < grain && e - b < n) short_calls.fetch_add(1);
          for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
        });
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " grain=" << grain << " i=" << i;
        EXPECT_EQ(short_calls.load(), 0) << "a range shorter than the grain, n=" << n << " grain=" << grain;
        EXPECT_LE(calls.load(), n > 0 ? 4 * threads : 0);
        if (n > 0 && (threads == 1 || n <= grain)) EXPECT_EQ(calls.load(), 1);
      }
    }
  }
}

TEST(ParallelFor, NestedCallsStaySerialAndCoverTheirRange) {
  ThreadCount tc(2);
  constexpr int64_t kOuter = 64, kInner = 1000;
  std::vector<std::atomic<int>> hits(kOuter * kInner);
  std::atomic<int> nested_calls{0};
  parallel_for(kOuter, 1, [&](int64_t b, int64_t e) {
    EXPECT_TRUE(in_parallel_region() || e - b == kOuter);
    for (int64_t o = b; o < e; ++o) {
      int calls = 0;
      parallel_for(kInner, 1, [&](int64_t ib, int64_t ie) {
        ++calls;
        for (int64_t i = ib; i < ie; ++i) hits[o * kInner + i].fetch_add(1);
      });
      if (in_parallel_region() && calls != 1) nested_calls.fetch_add(1);
    }
  });
  EXPECT_EQ(nested_calls.load(), 0);
  for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  EXPECT_FALSE(in_parallel_region());
}

TEST(ParallelFor, GrainFor) {
  EXPECT_EQ(grain_for(100, 100 * 10, 32768), 100);     // too little work: one chunk
  EXPECT_EQ(grain_for(1000, 1000 * 100, 32768), 327);  // chunks of at least the threshold
  EXPECT_EQ(grain_for(10, 10 * 100000, 32768), 1);
  EXPECT_EQ(grain_for(0, 0, 32768), 1);
}

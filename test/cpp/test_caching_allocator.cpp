// The caching allocator's policy on the CPU: a fake raw allocator with a fixed
// capacity stands in for cudaMalloc, so reuse, splitting, per-stream pools, peak
// statistics, fragmentation and out-of-memory recovery are checked without a GPU.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>

#include "norch/tensor/caching_allocator.h"

namespace norch {
namespace {

// Hands out real (never dereferenced) host memory up to `capacity` bytes.
struct FakeRaw : RawAllocator {
  size_t capacity;
  size_t used = 0;
  int mallocs = 0, frees = 0, failures = 0;
  std::set<void*> live;
  size_t* outstanding = nullptr;  // segments not yet returned, for a check after the allocator is gone
  explicit FakeRaw(size_t cap) : capacity(cap) {}
  ~FakeRaw() override {
    if (outstanding) *outstanding = live.size();
  }
  void* malloc(size_t n) override {
    if (used + n > capacity) {
      ++failures;
      return nullptr;
    }
    void* p = std::malloc(n);
    used += n;
    ++mallocs;
    live.insert(p);
    sizes[p] = n;
    return p;
  }
  void free(void* p) override {
    EXPECT_TRUE(live.erase(p)) << "free of a pointer the fake never handed out";
    used -= sizes[p];
    ++frees;
    std::free(p);
  }
  std::string describe() override { return "fake device of " + CachingAllocator::format_size(capacity); }
  std::map<void*, size_t> sizes;
};

constexpr size_t MiB = size_t{1} << 20;

struct Fixture {
  FakeRaw* raw;
  std::unique_ptr<CachingAllocator> a;
  explicit Fixture(size_t cap = 1024 * MiB) {
    auto r = std::make_unique<FakeRaw>(cap);
    raw = r.get();
    a = std::make_unique<CachingAllocator>(std::move(r), "GPU 0");
  }
};

TEST(CachingAllocator, RoundsAndReusesFreedBlocks) {
  Fixture f;
  EXPECT_EQ(CachingAllocator::round_size(1), 512u);
  EXPECT_EQ(CachingAllocator::round_size(513), 1024u);
  void* p = f.a->allocate(1000);
  EXPECT_EQ(f.a->block_size(p), 1024u);
  f.a->free(p);
  void* q = f.a->allocate(900);  // same size class: the cached block comes back
  EXPECT_EQ(p, q);
  EXPECT_EQ(f.raw->mallocs, 1);
  f.a->free(q);
  EXPECT_EQ(f.a->allocate(0), nullptr);
}

TEST(CachingAllocator, SmallRequestsShareOneSegment) {
  Fixture f;
  std::vector<void*> ps;
  for (int i = 0; i < 100; ++i) ps.push_back(f.a->allocate(4096));
  EXPECT_EQ(f.raw->mallocs, 1);  // 100 x 4 KiB fit in one 2 MiB small-pool segment
  std::set<void*> distinct(ps.begin(), ps.end());
  EXPECT_EQ(distinct.size(), 100u);
  AllocatorStats s = f.a->stats();
  EXPECT_EQ(s.allocated_bytes.current, 100 * 4096);
  EXPECT_EQ(s.reserved_bytes.current, static_cast<int64_t>(CachingAllocator::kSmallBuffer));
  EXPECT_EQ(s.allocation.current, 100);
  for (void* p : ps) f.a->free(p);
  s = f.a->stats();
  EXPECT_EQ(s.allocated_bytes.current, 0);
  EXPECT_EQ(s.inactive_split.current, 0);  // every piece merged back into the whole segment
  f.a->empty_cache();
  EXPECT_EQ(f.a->stats().reserved_bytes.current, 0);
  EXPECT_EQ(f.raw->used, 0u);
}

TEST(CachingAllocator, SplitsLargeBlocksAndMergesNeighbours) {
  Fixture f;
  void* big = f.a->allocate(60 * MiB);
  f.a->free(big);
  void* a = f.a->allocate(20 * MiB);
  void* b = f.a->allocate(20 * MiB);
  EXPECT_EQ(a, big);  // carved from the cached 60 MiB segment, no new cudaMalloc
  EXPECT_EQ(static_cast<char*>(b), static_cast<char*>(a) + 20 * MiB);
  EXPECT_EQ(f.raw->mallocs, 1);
  f.a->free(a);
  f.a->free(b);
  void* c = f.a->allocate(60 * MiB);  // only works if the three pieces merged again
  EXPECT_EQ(c, big);
  EXPECT_EQ(f.raw->mallocs, 1);
  f.a->free(c);
}

TEST(CachingAllocator, PeakStatsAndReset) {
  Fixture f;
  void* a = f.a->allocate(30 * MiB);
  void* b = f.a->allocate(30 * MiB);
  f.a->free(b);
  AllocatorStats s = f.a->stats();
  EXPECT_EQ(s.allocated_bytes.current, static_cast<int64_t>(30 * MiB));
  EXPECT_EQ(s.allocated_bytes.peak, static_cast<int64_t>(60 * MiB));
  EXPECT_EQ(s.reserved_bytes.peak, static_cast<int64_t>(60 * MiB));
  EXPECT_EQ(s.allocation.peak, 2);
  f.a->reset_peak_stats();
  s = f.a->stats();
  EXPECT_EQ(s.allocated_bytes.peak, static_cast<int64_t>(30 * MiB));
  EXPECT_EQ(s.reserved_bytes.peak, static_cast<int64_t>(60 * MiB));  // the cached block is still reserved
  f.a->empty_cache();
  EXPECT_EQ(f.a->stats().reserved_bytes.current, static_cast<int64_t>(30 * MiB));
  f.a->free(a);
  s = f.a->stats();
  EXPECT_EQ(s.allocation.allocated, 2);
  EXPECT_EQ(s.allocation.freed, 2);
}

TEST(CachingAllocator, StreamsHaveTheirOwnFreeLists) {
  Fixture f;
  void* p = f.a->allocate(4096, /*stream=*/1);
  f.a->free(p);
  void* q = f.a->allocate(4096, /*stream=*/2);
  EXPECT_NE(q, p);  // a block freed on stream 1 may still be read by stream 1's kernels
  EXPECT_EQ(f.raw->mallocs, 2);
  void* r = f.a->allocate(4096, /*stream=*/1);
  EXPECT_EQ(r, p);
  f.a->free(q);
  f.a->free(r);
}

TEST(CachingAllocator, OutOfMemoryFreesTheCacheAndRetriesOnce) {
  Fixture f(100 * MiB);
  void* a = f.a->allocate(60 * MiB);
  f.a->free(a);  // cached: 60 MiB reserved, 0 allocated
  void* b = f.a->allocate(70 * MiB);  // does not fit beside the cache: freed, retried, served
  ASSERT_NE(b, nullptr);
  AllocatorStats s = f.a->stats();
  EXPECT_EQ(s.num_alloc_retries, 1);
  EXPECT_EQ(s.num_ooms, 0);
  EXPECT_EQ(s.reserved_bytes.current, static_cast<int64_t>(70 * MiB));
  EXPECT_EQ(f.raw->frees, 1);
  f.a->free(b);
}

TEST(CachingAllocator, OutOfMemoryNamesTheSizeAndWhatIsHeld) {
  Fixture f(100 * MiB);
  void* a = f.a->allocate(40 * MiB);
  void* c = f.a->allocate(4096);
  f.a->free(c);
  try {
    f.a->allocate(80 * MiB);
    FAIL() << "expected OutOfMemoryError";
  } catch (const OutOfMemoryError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("CUDA out of memory. Tried to allocate 80.00 MiB"), std::string::npos) << m;
    EXPECT_NE(m.find("40.00 MiB is allocated by tensors"), std::string::npos) << m;
    EXPECT_NE(m.find("fake device of 100.00 MiB"), std::string::npos) << m;
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
  }
  AllocatorStats s = f.a->stats();
  EXPECT_EQ(s.num_ooms, 1);
  EXPECT_EQ(s.reserved_bytes.current, static_cast<int64_t>(40 * MiB));  // the cached small segment went back
  // The allocator stays usable after the failure.
  void* d = f.a->allocate(50 * MiB);
  EXPECT_NE(d, nullptr);
  f.a->free(d);
  f.a->free(a);
}

TEST(CachingAllocator, FragmentedCacheIsReleasedOnlyWhereWhole) {
  Fixture f(200 * MiB);
  // One 60 MiB segment split in three; the middle piece stays in use.
  void* seg = f.a->allocate(60 * MiB);
  f.a->free(seg);
  void* x = f.a->allocate(20 * MiB);
  void* y = f.a->allocate(20 * MiB);
  void* z = f.a->allocate(20 * MiB);
  f.a->free(x);
  f.a->free(z);
  AllocatorStats s = f.a->stats();
  EXPECT_EQ(s.inactive_split.current, 2);
  EXPECT_EQ(s.inactive_split_bytes.current, static_cast<int64_t>(40 * MiB));
  f.a->empty_cache();  // the segment is partly in use: nothing can go back
  EXPECT_EQ(f.a->stats().reserved_bytes.current, static_cast<int64_t>(60 * MiB));
  // A request larger than either free piece needs a new segment despite 40 MiB cached.
  void* w = f.a->allocate(30 * MiB);
  EXPECT_EQ(f.raw->mallocs, 2);
  f.a->free(y);  // now the three pieces merge and the whole segment can go
  f.a->empty_cache();
  EXPECT_EQ(f.a->stats().reserved_bytes.current, static_cast<int64_t>(30 * MiB));
  f.a->free(w);
}

TEST(CachingAllocator, FreeOfAForeignPointerIsAnError) {
  Fixture f;
  int local = 0;
  EXPECT_THROW(f.a->free(&local), Error);
}

TEST(CachingAllocator, DestructorReturnsCachedSegments) {
  size_t outstanding = 99;
  {
    auto r = std::make_unique<FakeRaw>(64 * MiB);
    r->outstanding = &outstanding;
    CachingAllocator a(std::move(r), "GPU 0");
    a.free(a.allocate(1000));
    a.free(a.allocate(5 * MiB));
  }
  EXPECT_EQ(outstanding, 0u);
}

}  // namespace
}  // namespace norch

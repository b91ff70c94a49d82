// Note [record_stream] on the CPU: a fake raw allocator whose "events" complete
// only when the test says their stream has finished, so the rule that a block
// used by other streams is reused only after the work queued there at free time
// has completed is checked without a GPU: no early reuse, reuse once every
// recorded stream is done, statistics, waits before the cache is released (on
// empty_cache and on the out-of-memory retry) and the cases that need nothing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <vector>

#include "norch/tensor/caching_allocator.h"

namespace norch {
namespace {

constexpr size_t MiB = size_t{1} << 20;

// Host memory up to `capacity`, and events that complete when their stream is
// marked finished (finish) or when the allocator waits for them (event_wait).
struct FakeStreamsRaw : RawAllocator {
  struct Event {
    uintptr_t stream;
    bool done = false;
    bool released = false;
  };
  size_t capacity, used = 0;
  int mallocs = 0, frees = 0, waits = 0;
  std::map<void*, size_t> sizes;
  std::vector<std::unique_ptr<Event>> events;
  int* report = nullptr;  // {segments never returned, waits, live events}, written when the fake goes

  explicit FakeStreamsRaw(size_t cap) : capacity(cap) {}
  ~FakeStreamsRaw() override {
    if (report) {
      report[0] = static_cast<int>(sizes.size());
      report[1] = waits;
      report[2] = live_events();
    }
  }
  void* malloc(size_t n) override {
    if (used + n > capacity) return nullptr;
    void* p = std::malloc(n);
    used += n;
    ++mallocs;
    sizes[p] = n;
    return p;
  }
  void free(void* p) override {
    used -= sizes.at(p);
    sizes.erase(p);
    ++frees;
    std::free(p);
  }
  void* record_event(uintptr_t stream) override {
    events.push_back(std::make_unique<Event>(Event{stream}));
    return events.back().get();
  }
  bool event_done(void* e) override { return static_cast<Event*>(e)->done; }
  void event_wait(void* e) override {
    ++waits;
    static_cast<Event*>(e)->done = true;
  }
  void event_release(void* e) override {
    EXPECT_FALSE(static_cast<Event*>(e)->released) << "an event released twice";
    static_cast<Event*>(e)->released = true;
  }
  // The work queued on `stream` so far has finished.
  void finish(uintptr_t stream) {
    for (auto& e : events)
      if (e->stream == stream) e->done = true;
  }
  int live_events() const {
    int n = 0;
    for (auto& e : events) n += !e->released;
    return n;
  }
};

struct Fixture {
  FakeStreamsRaw* raw;
  std::unique_ptr<CachingAllocator> a;
  explicit Fixture(size_t cap = 1024 * MiB) {
    auto r = std::make_unique<FakeStreamsRaw>(cap);
    raw = r.get();
    a = std::make_unique<CachingAllocator>(std::move(r), "GPU 0");
  }
};

TEST(CachingAllocatorRecordStream, BlockIsNotReusedUntilTheRecordedStreamFinishes) {
  Fixture f;
  void* p = f.a->allocate(4096, /*stream=*/1);
  f.a->record_stream(p, /*stream=*/2);
  f.a->free(p);
  ASSERT_EQ(f.raw->events.size(), 1u);
  EXPECT_EQ(f.raw->events[0]->stream, 2u);  // the event is recorded on the other stream, at free time
  EXPECT_EQ(f.a->pending_frees(), 1u);
  void* q = f.a->allocate(4096, 1);
  EXPECT_NE(q, p);  // stream 2 may still be reading p
  f.raw->finish(2);
  void* r = f.a->allocate(4096, 1);
  EXPECT_EQ(r, p);  // its event completed: the block is back in stream 1's pool
  EXPECT_EQ(f.a->pending_frees(), 0u);
  EXPECT_EQ(f.raw->live_events(), 0);
  f.a->free(q);
  f.a->free(r);
}

TEST(CachingAllocatorRecordStream, EveryRecordedStreamMustFinish) {
  Fixture f;
  void* p = f.a->allocate(4096, 1);
  f.a->record_stream(p, 2);
  f.a->record_stream(p, 3);
  f.a->record_stream(p, 3);  // recording a stream twice needs one event
  f.a->free(p);
  EXPECT_EQ(f.raw->events.size(), 2u);
  f.raw->finish(3);
  void* q = f.a->allocate(4096, 1);
  EXPECT_NE(q, p);  // stream 2 has not finished
  f.raw->finish(2);
  void* r = f.a->allocate(4096, 1);
  EXPECT_EQ(r, p);
  f.a->free(q);
  f.a->free(r);
}

TEST(CachingAllocatorRecordStream, OnlyWorkQueuedBeforeTheFreeIsWaitedFor) {
  Fixture f;
  void* p = f.a->allocate(4096, 1);
  f.a->record_stream(p, 2);
  f.raw->finish(2);  // stream 2's work at this point finished, but more may follow before the free
  f.a->free(p);
  void* q = f.a->allocate(4096, 1);
  EXPECT_NE(q, p);  // the event is recorded at free time, not at record_stream time
  f.raw->finish(2);
  void* r = f.a->allocate(4096, 1);
  EXPECT_EQ(r, p);
  f.a->free(q);
  f.a->free(r);
}

TEST(CachingAllocatorRecordStream, ActiveBytesCoverPendingBlocks) {
  Fixture f;
  void* p = f.a->allocate(4096, 1);
  f.a->record_stream(p, 2);
  f.a->free(p);
  AllocatorStats s = f.a->stats();
  EXPECT_EQ(s.allocated_bytes.current, 0);  // no tensor holds it
  EXPECT_EQ(s.active_bytes.current, 4096);  // but it cannot be handed out yet
  EXPECT_EQ(s.allocation.current, 0);
  f.raw->finish(2);
  f.a->free(f.a->allocate(512, 1));  // an allocation collects completed events
  s = f.a->stats();
  EXPECT_EQ(s.active_bytes.current, 0);
  EXPECT_EQ(s.allocated_bytes.current, 0);
}

TEST(CachingAllocatorRecordStream, OwnStreamAndForeignPointersNeedNothing) {
  Fixture f;
  void* p = f.a->allocate(4096, 1);
  f.a->record_stream(p, 1);  // the block's own stream orders its reuse already
  int local = 0;
  f.a->record_stream(&local, 2);  // memory this allocator never reuses
  f.a->record_stream(nullptr, 2);  // an empty tensor's storage
  f.a->free(p);
  EXPECT_TRUE(f.raw->events.empty());
  EXPECT_EQ(f.a->allocate(4096, 1), p);
  f.a->free(p);
  // Recorded streams belong to one life of a block: reused, it starts with none.
  void* q = f.a->allocate(4096, 1);
  EXPECT_EQ(q, p);
  f.a->free(q);
  EXPECT_TRUE(f.raw->events.empty());
}

TEST(CachingAllocatorRecordStream, SplitPieceWaitsAndThenMergesBack) {
  Fixture f;
  void* seg = f.a->allocate(60 * MiB, 1);
  f.a->free(seg);
  void* x = f.a->allocate(20 * MiB, 1);
  void* y = f.a->allocate(20 * MiB, 1);
  f.a->record_stream(x, 2);
  f.a->free(x);
  f.a->free(y);  // y's neighbour x is still pending: the two must not merge yet
  void* z = f.a->allocate(50 * MiB, 1);
  EXPECT_EQ(f.raw->mallocs, 2);  // no 50 MiB piece is free in the first segment
  f.raw->finish(2);
  f.a->free(z);
  void* w = f.a->allocate(60 * MiB, 1);  // x came back and merged: the whole segment again
  EXPECT_EQ(w, seg);
  f.a->free(w);
}

TEST(CachingAllocatorRecordStream, EmptyCacheWaitsForPendingBlocks) {
  Fixture f;
  void* p = f.a->allocate(4096, 1);
  f.a->record_stream(p, 2);
  f.a->free(p);
  f.a->empty_cache();
  EXPECT_EQ(f.raw->waits, 1);
  EXPECT_EQ(f.a->pending_frees(), 0u);
  EXPECT_EQ(f.a->stats().reserved_bytes.current, 0);  // the segment went back once its event was waited for
  EXPECT_EQ(f.raw->live_events(), 0);
}

TEST(CachingAllocatorRecordStream, OutOfMemoryRetryWaitsForPendingBlocks) {
  Fixture f(100 * MiB);
  void* a = f.a->allocate(60 * MiB, 1);
  f.a->record_stream(a, 2);
  f.a->free(a);
  void* b = f.a->allocate(70 * MiB, 1);  // only fits once the pending segment is released
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(f.raw->waits, 1);
  AllocatorStats s = f.a->stats();
  EXPECT_EQ(s.num_alloc_retries, 1);
  EXPECT_EQ(s.num_ooms, 0);
  EXPECT_EQ(s.reserved_bytes.current, static_cast<int64_t>(70 * MiB));
  f.a->free(b);
}

TEST(CachingAllocatorRecordStream, DestructorWaitsAndReturnsEverySegment) {
  int report[3] = {-1, -1, -1};
  {
    auto r = std::make_unique<FakeStreamsRaw>(64 * MiB);
    r->report = report;
    CachingAllocator a(std::move(r), "GPU 0");
    void* p = a.allocate(1000, 1);
    a.record_stream(p, 2);
    a.free(p);
    a.free(a.allocate(5 * MiB, 1));
  }
  EXPECT_EQ(report[0], 0);  // both segments went back, the pending one too
  EXPECT_EQ(report[1], 1);  // after a wait for its event
  EXPECT_EQ(report[2], 0);
}

}  // namespace
}  // namespace norch

// norch/tensor/caching_allocator.h — the device caching allocator's logic, apart
// from the device: block pools by size class, splitting and coalescing, free lists
// per stream, statistics and out-of-memory recovery. The memory itself comes from a
// RawAllocator (cudaMalloc/cudaFree in src/kernels/cuda/runtime.cu; a fake one in
// test/cpp/test_caching_allocator.cpp), so the whole policy is tested on a CPU.
//
// Note [Caching allocator]: an eager framework allocates an output per op, and
// cudaMalloc/cudaFree synchronize the device and take tens of microseconds. Freed
// blocks are therefore kept and reused, as PyTorch's CUDACachingAllocator does:
//  - requests round up to 512 bytes; up to 1 MiB they come from the small pool,
//    whose segments are 2 MiB, beyond it from the large pool (segments of 20 MiB for
//    requests under 10 MiB, else the request rounded up to 2 MiB);
//  - a cached block larger than the request is split; the remainder stays cached
//    (the small pool keeps remainders of 512 bytes and more, the large one of more
//    than 1 MiB); freed neighbours in one segment merge back together;
//  - each block belongs to the stream it was allocated on and is reused only by
//    that stream, so reuse is ordered after the kernels that used it before;
//  - Note [record_stream]: a block that other streams use too (Tensor.record_stream)
//    is not reused when its tensor is freed: an event is recorded on each of those
//    streams at free time, and the block returns to its pool only once every one of
//    them has completed (checked on each allocation; waited for before the cache is
//    released), so work queued there before the free can still read it;
//  - when the raw allocator fails, every cached segment that is wholly free is
//    released and the request retried once; a second failure raises
//    OutOfMemoryError naming the size asked for and what the allocator holds.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "norch/error.h"

namespace norch {

// Where device memory comes from. malloc returns nullptr when the device is out
// of memory (and raises norch::Error for any other failure).
class RawAllocator {
 public:
  virtual ~RawAllocator() = default;
  virtual void* malloc(size_t nbytes) = 0;
  virtual void free(void* p) = 0;
  // A sentence about the device's memory for the out-of-memory message ("GPU 0 has
  // a total capacity of 80.00 GiB of which 1.20 GiB is free"); may be empty.
  virtual std::string describe() { return {}; }
  // The device's events, for Note [record_stream]: an event recorded now on `stream`
  // (an opaque handle; nullptr when there is nothing to wait for), whether it has
  // completed, a wait for it, and its release. None of them may throw: they run
  // when a tensor's storage is freed. The defaults suit memory without streams.
  virtual void* record_event(uintptr_t stream) {
    (void)stream;
    return nullptr;
  }
  virtual bool event_done(void* event) {
    (void)event;
    return true;
  }
  virtual void event_wait(void* event) { (void)event; }
  virtual void event_release(void* event) { (void)event; }
};

// Raised (as norch.cuda.OutOfMemoryError in Python) when a request cannot be met
// even after the cache was freed.
class OutOfMemoryError : public Error {
 public:
  explicit OutOfMemoryError(const std::string& msg) : Error(ErrorKind::Runtime, msg) {}
};

// PyTorch's memory_stats names: a current value and the peak since the last reset.
struct MemoryStat {
  int64_t current = 0;
  int64_t peak = 0;
  int64_t allocated = 0;  // total ever added
  int64_t freed = 0;      // total ever removed
  void add(int64_t n);
  void sub(int64_t n);
  void reset_peak() { peak = current; }
};

struct AllocatorStats {
  MemoryStat allocated_bytes;  // bytes handed out to tensors (rounded sizes)
  MemoryStat reserved_bytes;   // bytes obtained from the raw allocator (segments)
  MemoryStat active_bytes;     // allocated, plus freed blocks still waiting for recorded streams
  MemoryStat requested_bytes;  // bytes asked for, before rounding
  MemoryStat allocation;       // count of blocks handed out
  MemoryStat segment;          // count of segments held
  MemoryStat inactive_split;   // cached blocks that are pieces of a split segment
  MemoryStat inactive_split_bytes;
  int64_t num_alloc_retries = 0;  // raw failures answered by freeing the cache
  int64_t num_ooms = 0;           // requests that failed after the retry
  int64_t num_device_alloc = 0;   // raw allocator calls
  int64_t num_device_free = 0;
};

class CachingAllocator {
 public:
  using StreamId = uintptr_t;
  static constexpr size_t kMinBlockSize = 512;
  static constexpr size_t kSmallSize = size_t{1} << 20;      // largest small-pool request
  static constexpr size_t kSmallBuffer = size_t{2} << 20;    // small-pool segment
  static constexpr size_t kLargeBuffer = size_t{20} << 20;   // large-pool segment for mid sizes
  static constexpr size_t kMinLargeAlloc = size_t{10} << 20; // beyond this, segments fit the request
  static constexpr size_t kRoundLarge = size_t{2} << 20;

  // `device_name` ("GPU 0") opens the out-of-memory message.
  CachingAllocator(std::unique_ptr<RawAllocator> raw, std::string device_name);
  ~CachingAllocator();  // returns every segment to the raw allocator
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  void* allocate(size_t nbytes, StreamId stream = 0);
  void free(void* p);
  // Note [record_stream]: the block behind p is also used by `stream`, so its reuse
  // waits for the work queued there when it is freed. The block's own stream, and
  // a pointer this allocator did not hand out (memory it will never reuse), need
  // nothing.
  void record_stream(const void* p, StreamId stream);
  // Blocks freed but still waiting for their recorded streams' events.
  size_t pending_frees() const;
  // Releases every cached segment that no tensor uses.
  void empty_cache();
  AllocatorStats stats() const;
  void reset_peak_stats();
  // Size of the block behind p (its rounded size); 0 for a pointer it does not own.
  size_t block_size(const void* p) const;

  static size_t round_size(size_t nbytes);
  static std::string format_size(size_t nbytes);  // "1.50 MiB"

 private:
  struct Block;
  struct BlockLess {
    bool operator()(const Block* a, const Block* b) const;
  };
  using Pool = std::set<Block*, BlockLess>;

  Block* find_free(Pool& pool, size_t size, StreamId stream);
  Block* new_segment(size_t size, size_t requested, bool small, StreamId stream);
  bool release_cached();  // frees whole free segments; true if anything was freed
  void release_segment(Block* b);
  Block* try_merge(Block* dst, Block* src, Pool& pool);
  void free_block(Block* b);  // back into its pool, merged with free neighbours
  void process_events();      // returns the blocks whose recorded events have all completed
  void synchronize_events();  // waits for every pending event, then returns their blocks
  Pool& pool_of(const Block* b) { return b->small ? small_ : large_; }
  [[noreturn]] void raise_oom(size_t nbytes, size_t size);

  struct Block {
    Block(void* p, size_t s, size_t req, StreamId st, bool sm)
        : ptr(p), size(s), requested(req), stream(st), small(sm) {}
    void* ptr;
    size_t size;
    size_t requested = 0;
    StreamId stream;
    bool small;
    bool allocated = false;  // in use, or freed and waiting for recorded streams
    Block* prev = nullptr;  // neighbours in the same segment
    Block* next = nullptr;
    std::set<StreamId> stream_uses;  // other streams recorded on it (record_stream)
    int event_count = 0;             // pending events of a freed block
    bool is_split() const { return prev != nullptr || next != nullptr; }
  };

  std::unique_ptr<RawAllocator> raw_;
  std::string device_name_;
  mutable std::mutex mutex_;
  Pool small_, large_;
  std::unordered_map<const void*, Block*> active_;
  std::vector<std::pair<void*, Block*>> pending_events_;  // in recording order
  AllocatorStats stats_;
};

}  // namespace norch

// The caching allocator's policy (Note [Caching allocator] in
// norch/tensor/caching_allocator.h). Pure C++: the device is behind RawAllocator.
#include "norch/tensor/caching_allocator.h"

#include <algorithm>
#include <cstdio>
#include <tuple>
#include <vector>

namespace norch {

void MemoryStat::add(int64_t n) {
  current += n;
  allocated += n;
  peak = std::max(peak, current);
}

void MemoryStat::sub(int64_t n) {
  current -= n;
  freed += n;
}

// Free lists are ordered by (stream, size, address): lower_bound of (stream, size)
// finds the smallest cached block of this stream that fits (best fit).
bool CachingAllocator::BlockLess::operator()(const Block* a, const Block* b) const {
  return std::make_tuple(a->stream, a->size, reinterpret_cast<uintptr_t>(a->ptr)) <
         std::make_tuple(b->stream, b->size, reinterpret_cast<uintptr_t>(b->ptr));
}

CachingAllocator::CachingAllocator(std::unique_ptr<RawAllocator> raw, std::string device_name)
    : raw_(std::move(raw)), device_name_(std::move(device_name)) {}

CachingAllocator::~CachingAllocator() {
  // Blocks still in use belong to tensors that outlive the allocator (process exit):
  // their segments are left alone; cached ones go back.
  synchronize_events();
  release_cached();
}

size_t CachingAllocator::round_size(size_t nbytes) {
  if (nbytes < kMinBlockSize) return kMinBlockSize;
  return (nbytes + kMinBlockSize - 1) / kMinBlockSize * kMinBlockSize;
}

std::string CachingAllocator::format_size(size_t nbytes) {
  static const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(nbytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[48];
  if (u == 0) std::snprintf(buf, sizeof buf, "%zu bytes", nbytes);
  else std::snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
  return buf;
}

CachingAllocator::Block* CachingAllocator::find_free(Pool& pool, size_t size, StreamId stream) {
  Block key{nullptr, size, 0, stream, false};
  auto it = pool.lower_bound(&key);
  if (it == pool.end() || (*it)->stream != stream) return nullptr;
  Block* b = *it;
  pool.erase(it);
  return b;
}

CachingAllocator::Block* CachingAllocator::new_segment(size_t size, size_t requested, bool small, StreamId stream) {
  size_t seg = small ? kSmallBuffer
                     : (size < kMinLargeAlloc ? kLargeBuffer : (size + kRoundLarge - 1) / kRoundLarge * kRoundLarge);
  void* p = raw_->malloc(seg);
  ++stats_.num_device_alloc;
  if (!p) {
    // Note [Caching allocator]: free what the cache holds and try once more, after
    // the blocks waiting for recorded streams have come back (Note [record_stream]).
    ++stats_.num_alloc_retries;
    synchronize_events();
    if (!release_cached()) return nullptr;
    p = raw_->malloc(seg);
    ++stats_.num_device_alloc;
    if (!p) return nullptr;
  }
  stats_.reserved_bytes.add(static_cast<int64_t>(seg));
  stats_.segment.add(1);
  return new Block{p, seg, requested, stream, small};
}

void* CachingAllocator::allocate(size_t nbytes, StreamId stream) {
  if (nbytes == 0) return nullptr;
  const size_t size = round_size(nbytes);
  const bool small = size <= kSmallSize;
  std::lock_guard<std::mutex> lock(mutex_);
  process_events();
  Pool& pool = small ? small_ : large_;
  Block* b = find_free(pool, size, stream);
  if (b && b->is_split()) {
    stats_.inactive_split.sub(1);
    stats_.inactive_split_bytes.sub(static_cast<int64_t>(b->size));
  }
  if (!b) b = new_segment(size, nbytes, small, stream);
  if (!b) raise_oom(nbytes, size);
  // Split off the remainder when it is worth keeping as a block of its own.
  const size_t rest = b->size - size;
  if (small ? rest >= kMinBlockSize : rest > kSmallSize) {
    Block* r = new Block{static_cast<char*>(b->ptr) + size, rest, 0, stream, small};
    r->prev = b;
    r->next = b->next;
    if (b->next) b->next->prev = r;
    b->next = r;
    b->size = size;
    pool.insert(r);
    stats_.inactive_split.add(1);
    stats_.inactive_split_bytes.add(static_cast<int64_t>(rest));
  }
  b->allocated = true;
  b->requested = nbytes;
  active_[b->ptr] = b;
  stats_.allocated_bytes.add(static_cast<int64_t>(b->size));
  stats_.active_bytes.add(static_cast<int64_t>(b->size));
  stats_.requested_bytes.add(static_cast<int64_t>(nbytes));
  stats_.allocation.add(1);
  return b->ptr;
}

CachingAllocator::Block* CachingAllocator::try_merge(Block* dst, Block* src, Pool& pool) {
  if (!src || src->allocated) return dst;
  pool.erase(src);
  stats_.inactive_split.sub(1);
  stats_.inactive_split_bytes.sub(static_cast<int64_t>(src->size));
  if (src == dst->prev) {
    dst->ptr = src->ptr;
    dst->prev = src->prev;
    if (dst->prev) dst->prev->next = dst;
  } else {
    dst->next = src->next;
    if (dst->next) dst->next->prev = dst;
  }
  dst->size += src->size;
  delete src;
  return dst;
}

void CachingAllocator::free(void* p) {
  if (!p) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = active_.find(p);
  NORCH_CHECK(it != active_.end(), "caching allocator: free of a pointer it did not allocate");
  Block* b = it->second;
  active_.erase(it);
  stats_.allocated_bytes.sub(static_cast<int64_t>(b->size));
  stats_.requested_bytes.sub(static_cast<int64_t>(b->requested));
  stats_.allocation.sub(1);
  // Note [record_stream]: an event on every other stream that used the block; it
  // stays allocated (and active) until they have all completed.
  for (StreamId s : b->stream_uses) {
    if (void* e = raw_->record_event(s)) {
      pending_events_.emplace_back(e, b);
      ++b->event_count;
    }
  }
  b->stream_uses.clear();
  if (b->event_count == 0) free_block(b);
}

void CachingAllocator::free_block(Block* b) {
  b->allocated = false;
  stats_.active_bytes.sub(static_cast<int64_t>(b->size));
  Pool& pool = pool_of(b);
  try_merge(b, b->prev, pool);
  try_merge(b, b->next, pool);
  if (b->is_split()) {
    stats_.inactive_split.add(1);
    stats_.inactive_split_bytes.add(static_cast<int64_t>(b->size));
  }
  pool.insert(b);
}

void CachingAllocator::record_stream(const void* p, StreamId stream) {
  if (!p) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = active_.find(p);
  if (it == active_.end() || it->second->stream == stream) return;
  it->second->stream_uses.insert(stream);
}

size_t CachingAllocator::pending_frees() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::set<const Block*> blocks;
  for (const auto& pe : pending_events_) blocks.insert(pe.second);
  return blocks.size();
}

void CachingAllocator::process_events() {
  size_t kept = 0;
  for (size_t i = 0; i < pending_events_.size(); ++i) {
    auto [e, b] = pending_events_[i];
    if (!raw_->event_done(e)) {
      pending_events_[kept++] = pending_events_[i];
      continue;
    }
    raw_->event_release(e);
    if (--b->event_count == 0) free_block(b);
  }
  pending_events_.resize(kept);
}

void CachingAllocator::synchronize_events() {
  for (auto [e, b] : pending_events_) {
    raw_->event_wait(e);
    raw_->event_release(e);
    if (--b->event_count == 0) free_block(b);
  }
  pending_events_.clear();
}

void CachingAllocator::release_segment(Block* b) {
  raw_->free(b->ptr);
  ++stats_.num_device_free;
  stats_.reserved_bytes.sub(static_cast<int64_t>(b->size));
  stats_.segment.sub(1);
  delete b;
}

bool CachingAllocator::release_cached() {
  bool any = false;
  for (Pool* pool : {&small_, &large_}) {
    std::vector<Block*> whole;
    for (Block* b : *pool)
      if (!b->is_split()) whole.push_back(b);  // a free block with no neighbours is a whole segment
    for (Block* b : whole) {
      pool->erase(b);
      release_segment(b);
      any = true;
    }
  }
  return any;
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  synchronize_events();
  release_cached();
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingAllocator::reset_peak_stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (MemoryStat* s : {&stats_.allocated_bytes, &stats_.reserved_bytes, &stats_.active_bytes, &stats_.requested_bytes,
                        &stats_.allocation, &stats_.segment, &stats_.inactive_split, &stats_.inactive_split_bytes})
    s->reset_peak();
}

size_t CachingAllocator::block_size(const void* p) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = active_.find(p);
  return it == active_.end() ? 0 : it->second->size;
}

void CachingAllocator::raise_oom(size_t nbytes, size_t size) {
  ++stats_.num_ooms;
  const int64_t allocated = stats_.allocated_bytes.current;
  const int64_t reserved = stats_.reserved_bytes.current;
  std::string device = raw_->describe();
  throw OutOfMemoryError(str(
      "CUDA out of memory. Tried to allocate ", format_size(nbytes), " (", nbytes, " bytes, ", format_size(size),
      " rounded). ", device.empty() ? "" : device + ". ", "Of the memory norch holds on ", device_name_, ", ",
      format_size(static_cast<size_t>(allocated)), " is allocated by tensors and ",
      format_size(static_cast<size_t>(reserved - allocated)),
      " is reserved but unallocated (the cache was freed and the allocation retried once). "
      "Free tensors (del) or use a smaller batch; norch.cuda.memory_summary() shows where the memory went."));
}

}  // namespace norch

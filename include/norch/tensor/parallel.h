// parallel_for: the one way CPU kernels split a loop across threads. It runs on the pool in
// src/tensor/parallel.cpp, where the calling thread takes every chunk no helper has
// claimed, so a helper that cannot get a core (another process is busy on it) costs
// nothing; an OpenMP region instead ends at a barrier every thread must reach, which made
// two threads several times slower than one beside a busy neighbour.
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace norch {

int get_num_threads();  // norch's thread count (set_num_threads), also in iterator.h

// Runs fn(ctx, i, slot) for every i < chunks on up to `threads` threads; slot < threads
// names the thread (0 is the caller) for per-thread scratch. Serial when nested.
using ChunkFn = void (*)(void* ctx, int64_t chunk, int slot);
void run_chunks(int threads, int64_t chunks, ChunkFn fn, void* ctx);

// True inside a pool chunk or an OpenMP region: work started there stays on its thread.
bool in_parallel_region();

// Calls f(begin, end) over disjoint ranges covering [0, n) exactly once. Serial (one call
// f(0, n)) when n <= grain, on one thread, or nested. Otherwise the range is cut into at most
// four chunks per thread, each at least `grain` long, so a stalled helper delays at most
// a quarter of its share. The chunking depends only on n, grain and get_num_threads(),
// never on how many threads actually ran.
template <typename F>
void parallel_for(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int threads = get_num_threads();
  if (threads <= 1 || n <= grain || in_parallel_region()) {
    f(int64_t{0}, n);
    return;
  }
  const int64_t chunks = std::min<int64_t>(int64_t{4} * threads, n / grain);
  if (chunks <= 1) {
    f(int64_t{0}, n);
    return;
  }
  struct Ctx {
    std::remove_reference_t<F>* f;
    int64_t n, chunks;
  } ctx{&f, n, chunks};
  run_chunks(
      std::min<int64_t>(threads, chunks), chunks,
      [](void* p, int64_t c, int) {
        auto* x = static_cast<Ctx*>(p);
        const int64_t b = x->n * c / x->chunks, e = x->n * (c + 1) / x->chunks;
        if (b < e) (*x->f)(b, e);
      },
      &ctx);
}

// The grain for a loop of n items that together cost `work` (elements touched, say):
// enough items per chunk that each carries at least `threshold` of it, so small loops
// stay on one thread where a wake-up would cost more than it saves.
inline int64_t grain_for(int64_t n, int64_t work, int64_t threshold) {
  if (n <= 0 || work <= threshold) return std::max<int64_t>(n, 1);
  const int64_t per_item = std::max<int64_t>(work / n, 1);
  return std::max<int64_t>(threshold / per_item, 1);
}

}  // namespace norch

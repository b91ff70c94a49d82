// The CPU thread pool behind parallel_for and the packed GEMM (Note [GEMM threading] in
// src/kernels/cpu/isa/gemm_isa.cpp): the caller hands out numbered chunks, works on them itself from the first moment, and
// waits only for chunks a helper has already taken. A helper that the scheduler has not
// run yet (its core is busy with another process) is simply not waited for: the caller
// takes its chunks, so a second thread never makes a call slower than one thread would.
// An OpenMP region, by contrast, ends at a barrier every thread must reach.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "norch/tensor/parallel.h"

namespace norch {
namespace {

// Set while this thread runs a chunk, so a parallel_for or GEMM inside it stays serial
// (and the caller never try-locks `submit` a second time).
thread_local bool t_in_chunk = false;

struct ChunkScope {
  bool saved = t_in_chunk;
  ChunkScope() { t_in_chunk = true; }
  ~ChunkScope() { t_in_chunk = saved; }
};

struct Pool {
  std::mutex mu;                // guards epoch/helpers for the sleeping side
  std::condition_variable cv;   // helpers sleep here between jobs
  std::mutex submit;            // one job at a time; a second caller runs alone
  uint32_t epoch = 0;
  int helpers = 0;              // helpers this job may use (slots 1..helpers)
  std::vector<std::thread> threads;
  // state = epoch << 32 | next unclaimed chunk. A helper claims a chunk only while the
  // epoch is the one it woke for, so a late helper cannot take a chunk of a later job.
  std::atomic<uint64_t> state{0};
  std::atomic<int64_t> done{0};
  int64_t chunks = 0;
  ChunkFn fn = nullptr;
  void* ctx = nullptr;
  int64_t serial_until = 0;     // steady-clock ns; guarded by submit
  int64_t backoff_ns = 0;       // guarded by submit

  static int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  // Claims and runs chunks of job `ep` until none are left.
  void work(uint32_t ep, int slot) {
    uint64_t s = state.load(std::memory_order_acquire);
    while (uint32_t(s >> 32) == ep && int64_t(s & 0xffffffffu) < chunks) {
      if (!state.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) continue;
      {
        ChunkScope scope;
        fn(ctx, int64_t(s & 0xffffffffu), slot);
      }
      done.fetch_add(1, std::memory_order_acq_rel);
      s = state.load(std::memory_order_acquire);
    }
  }

  void helper(int slot) {
    uint32_t seen = 0;
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return epoch != seen; });
      seen = epoch;
      if (slot > helpers) continue;
      lock.unlock();
      work(seen, slot);
      lock.lock();
    }
  }

  void run(int threads, int64_t n, ChunkFn f, void* c) {
    std::unique_lock<std::mutex> job;
    if (!t_in_chunk && threads > 1 && n > 1) job = std::unique_lock<std::mutex>(submit, std::try_to_lock);
    const int64_t t0 = job.owns_lock() ? now_ns() : 0;
    if (job.owns_lock() && t0 < serial_until) job.unlock();
    if (!job.owns_lock()) {  // nested, busy with another caller, or backing off: run alone
      ChunkScope scope;
      for (int64_t i = 0; i < n; ++i) f(c, i, 0);
      return;
    }
    uint32_t ep;
    {
      std::lock_guard<std::mutex> lock(mu);
      while (int(this->threads.size()) < threads - 1) {
        const int slot = int(this->threads.size()) + 1;
        this->threads.emplace_back([this, slot] { helper(slot); });
        this->threads.back().detach();  // lives for the process; never joined at exit
      }
      fn = f;
      ctx = c;
      chunks = n;
      done.store(0, std::memory_order_relaxed);
      ep = ++epoch;
      helpers = threads - 1;
      state.store(uint64_t(ep) << 32, std::memory_order_release);
    }
    cv.notify_all();
    work(ep, 0);
    // Every chunk is claimed; wait for those a helper is still running.
    const int64_t t1 = now_ns();
    while (done.load(std::memory_order_acquire) < n) std::this_thread::yield();
    const int64_t t2 = now_ns();
    // A helper that claimed a chunk and then lost its core (another process runs there)
    // makes the caller wait out the scheduler's time slice, milliseconds for microseconds
    // of work. When the wait exceeds the caller's own share, jobs run on the caller alone
    // for a while (10 ms, doubling on each further stall up to 0.5 s); a quiet machine
    // never stalls like that and keeps every thread.
    if (t2 - t1 > std::max<int64_t>(t1 - t0, 100000)) {
      backoff_ns = std::min<int64_t>(backoff_ns ? 2 * backoff_ns : 10000000, 500000000);
      serial_until = t2 + backoff_ns;
    } else if (t2 - t1 < (t1 - t0) / 2) {
      backoff_ns = 0;
    }
  }
};

Pool& pool() {
  static Pool* p = new Pool;  // leaked: detached helpers may still be asleep on it at exit
  return *p;
}

}  // namespace

void run_chunks(int threads, int64_t chunks, ChunkFn fn, void* ctx) { pool().run(threads, chunks, fn, ctx); }

bool in_parallel_region() { return t_in_chunk || omp_in_parallel(); }

}  // namespace norch

// CPU reductions over the 2-d problem of Note [Reduction layout]: the layouts, the
// thread splits and the fixed blockings that keep results the same on any thread count.
// The contiguous inner loops for float32/float64/int64/int32 are in isa/reduce_isa.cpp
// (one copy per SIMD level, the same bits from each); half types, bool and the small
// integer types take the generic loops here.
//
// What each step gained, one thread unless said, best-of-N rates on the shared 2-core
// AMD EPYC (Zen 5) at load 7-10, so from the least-disturbed samples; PyTorch 2.13 and
// NumPy interleaved in the same run (benchmarks/bench_reductions.py, /tmp scripts beside it):
//   sum 16M float32: 33-36 -> 41-48 GB/s (PyTorch 41-50): the loop moved to reduce_isa.cpp
//     (it had been compiled for SSE2 only, four xmm chains); its header has the steps.
//   sum rows [16384, 1024]: 36 -> 37 GB/s, already near DRAM speed.
//   sum rows [1M, 16] float32: 7-12 -> 22 GB/s (PyTorch 9-18): short rows skip the vector
//     call and run four double chains inline; int64 4 -> 14-16 GB/s (PyTorch 15-19).
//   amax/amin 16M: float32 27 -> 34-35 GB/s (PyTorch 33-38), int64 17 -> 38-39 (PyTorch
//     36): vectorised; floats as vmaxps with NaNs noted aside, integers with four
//     compare-select accumulators (two gave int64 27 GB/s).
//   argmax 16M float32: 2.1 -> 34 GB/s (PyTorch 3-5, NumPy 33): block maxima at vector
//     speed, one block searched again; argmax rows 3.8 -> 9 GB/s (PyTorch 4.5, NumPy 10.5).
//   prod 16M float32: 36 -> 42-49 GB/s (PyTorch 37-42), and now on every thread.
//   var/std 16M float32: 2 -> 6-12 GB/s at load 8 (PyTorch 2-4, Welford): one kernel, mean
//     and squared deviations in double, no temporaries (the composite made four passes and
//     two 64 MB temporaries); var rows 3.8 -> 7 GB/s (PyTorch 0.4).
//   sum cols [16384, 1024] dim 0 on 2 threads: 38 ms -> 6 ms (one thread: 6 ms): threads
//     take blocks of whole rows instead of column strips; argmax cols 106 -> 31 ms.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "kernels/cpu/isa/reduce_isa.h"
#include "kernels/cpu/loops.h"
#include "kernels/reduce.h"
#include "kernels/reduce_functors.h"
#include "norch/debug.h"
#include "norch/tensor/parallel.h"

namespace norch::cpu {
namespace {

// The loop copy for this CPU (isa/reduce_isa.h), chosen with the GEMM's level.
const ReduceIsa& isa() {
  static const ReduceIsa* table = [] {
#if defined(__x86_64__) || defined(_M_X64)
    const char* level = simd_level_name();
    if (std::strcmp(level, "avx512") == 0) return &avx512::reduce_isa;
    if (std::strcmp(level, "avx2") == 0) return &avx2::reduce_isa;
#endif
    return &baseline::reduce_isa;
  }();
  return *table;
}

// Sum of n contiguous floating values: blocks of kSumBlock summed by the vector loop,
// the block sums added in order in double (the threaded path below adds the same block
// sums in the same order). Half types convert per element: 16 float lanes in blocks of
// 4096, blocks in double, so a half sum rounds once, at the end.
template <typename T>
double sum_contiguous(const T* p, int64_t n) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    if (n < 256 / static_cast<int64_t>(sizeof(T))) {
      // Up to four vectors' worth: four chains in double here, without the call (rows
      // of 16 floats spent half their time entering the vector loop and folding it).
      double r0 = 0, r1 = 0, r2 = 0, r3 = 0;
      int64_t i = 0;
      for (; i + 4 <= n; i += 4) {
        r0 += static_cast<double>(p[i]);
        r1 += static_cast<double>(p[i + 1]);
        r2 += static_cast<double>(p[i + 2]);
        r3 += static_cast<double>(p[i + 3]);
      }
      for (; i < n; ++i) r0 += static_cast<double>(p[i]);
      return (r0 + r1) + (r2 + r3);
    }
    double total = 0;
    for (int64_t b = 0; b < n; b += kSumBlock) {
      const int64_t len = std::min(kSumBlock, n - b);
      total += std::is_same_v<T, float> ? isa().sum_f32(reinterpret_cast<const float*>(p + b), len)
                                        : isa().sum_f64(reinterpret_cast<const double*>(p + b), len);
    }
    return total;
  } else {
    using A = opmath_t<T>;
    double total = 0;
    constexpr int64_t kBlock = 4096;
    for (int64_t b = 0; b < n; b += kBlock) {
      const int64_t e = std::min(n, b + kBlock);
      A lanes[16] = {};
      int64_t i = b;
      for (; i + 16 <= e; i += 16) {
#pragma omp simd
        for (int j = 0; j < 16; ++j) lanes[j] += p[i + j];
      }
      A rest = 0;
      for (; i < e; ++i) rest += p[i];
      double block = rest;
      for (int j = 0; j < 16; ++j) block += lanes[j];
      total += block;
    }
    return total;
  }
}

// The op is a template parameter so that each loop compiles to straight-line
// (vectorizable) code; identity and combine are shared with CUDA (kernels/reduce_functors.h).
template <ReduceOp Op, typename T>
constexpr T identity() { return functors::reduce_identity<Op, T>(); }

template <ReduceOp Op, typename T>
inline T combine(T a, T b) { return functors::reduce_combine<Op, T>(a, b); }

// Reduces n contiguous values in 16 independent lanes (so the compiler can use
// vector instructions), then folds the lanes. The lanes are opmath_t<T>: a
// half-type row accumulates in float and rounds once, as in PyTorch.
template <ReduceOp Op, typename T>
opmath_t<T> reduce_row(const T* p, int64_t n) {
  using A = opmath_t<T>;
  constexpr bool kVector = std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, int64_t> ||
                           (std::is_same_v<T, int32_t> && (Op == ReduceOp::Max || Op == ReduceOp::Min));
  if (kVector && n < 32) {
    // A short row costs more to enter the vector loop than to walk.
    A acc = identity<Op, A>();
    for (int64_t i = 0; i < n; ++i) acc = combine<Op, A>(acc, static_cast<A>(p[i]));
    return acc;
  }
  if constexpr (Op == ReduceOp::Max || Op == ReduceOp::Min) {
    constexpr bool kMax = Op == ReduceOp::Max;
    if constexpr (std::is_same_v<T, float>) return isa().extreme_f32(p, n, kMax);
    if constexpr (std::is_same_v<T, double>) return isa().extreme_f64(p, n, kMax);
    if constexpr (std::is_same_v<T, int64_t>) return isa().extreme_i64(p, n, kMax);
    if constexpr (std::is_same_v<T, int32_t>) return isa().extreme_i32(p, n, kMax);
  } else if constexpr (Op == ReduceOp::Sum && std::is_same_v<T, int64_t>) {
    return isa().sum_i64(p, n);
  } else if constexpr (Op == ReduceOp::Prod) {
    if constexpr (std::is_same_v<T, float>) return isa().prod_f32(p, n);
    if constexpr (std::is_same_v<T, double>) return isa().prod_f64(p, n);
    if constexpr (std::is_same_v<T, int64_t>) return isa().prod_i64(p, n);
  }
  A lanes[16];
  for (int j = 0; j < 16; ++j) lanes[j] = identity<Op, A>();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
#pragma omp simd
    for (int j = 0; j < 16; ++j) lanes[j] = combine<Op, A>(lanes[j], static_cast<A>(p[i + j]));
  }
  A acc = identity<Op, A>();
  for (int j = 0; j < 16; ++j) acc = combine<Op>(acc, lanes[j]);
  for (; i < n; ++i) acc = combine<Op, A>(acc, static_cast<A>(p[i]));
  return acc;
}

// One row of the inner layout; float sums use the accurate blocked loop.
template <ReduceOp Op, typename T>
T reduce_inner_row(const T* row, int64_t K) {
  if constexpr (Op == ReduceOp::Sum && is_floating_type_v<T>) {
    return static_cast<T>(sum_contiguous(row, K));
  } else if constexpr (Op == ReduceOp::Prod && (std::is_same_v<T, float> || std::is_same_v<T, double>)) {
    // Blocks of kSumBlock multiplied in order, as the threaded path below does.
    T acc = 1;
    for (int64_t b = 0; b < K; b += kSumBlock) acc *= reduce_row<Op>(row + b, std::min(kSumBlock, K - b));
    return acc;
  } else {
    return static_cast<T>(reduce_row<Op>(row, K));
  }
}

// How many blocks of whole rows a column reduction of K rows is cut into: from K alone
// (never the thread count), at least 1024 rows each, at most 16.
inline int64_t column_blocks(int64_t K) { return std::clamp<int64_t>(K / 1024, 1, 16); }

template <ReduceOp Op, typename T>
void reduce_impl(const Tensor& in, bool inner, const Tensor& out) {
  const int64_t M = inner ? in.sizes()[0] : in.sizes()[1];
  const int64_t K = inner ? in.sizes()[1] : in.sizes()[0];
  const T* src = in.data<T>();
  T* dst = out.data<T>();
  const int64_t grain = grain_for(M, M * K, 32768);
  if (inner) {
    if (M == 1 && K >= 65536 && get_num_threads() > 1) {
      if constexpr (Op == ReduceOp::Sum && is_floating_type_v<T>) {
        // One long row. Each kSumBlock block of sum_contiguous is summed on its own and
        // the block sums are added in order afterwards: exactly sum_contiguous's arithmetic,
        // so the bits are the same on any number of threads.
        const int64_t kBlock = std::is_same_v<T, float> || std::is_same_v<T, double> ? kSumBlock : 4096;
        const int64_t nb = (K + kBlock - 1) / kBlock;
        std::vector<double> blocks(nb);
        parallel_for(nb, std::max<int64_t>(1, 16384 / kBlock), [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i)
            blocks[i] = sum_contiguous(src + i * kBlock, std::min(K, (i + 1) * kBlock) - i * kBlock);
        });
        double total = 0;
        for (double v : blocks) total += v;
        dst[0] = static_cast<T>(total);
        return;
      } else if constexpr (Op == ReduceOp::Prod && (std::is_same_v<T, float> || std::is_same_v<T, double>)) {
        // reduce_inner_row's blocks on any threads, multiplied in the same order.
        const int64_t nb = (K + kSumBlock - 1) / kSumBlock;
        std::vector<T> blocks(nb);
        parallel_for(nb, 1, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) blocks[i] = reduce_row<Op>(src + i * kSumBlock, std::min(kSumBlock, K - i * kSumBlock));
        });
        T acc = 1;
        for (T v : blocks) acc *= v;
        dst[0] = acc;
        return;
      } else if constexpr (Op != ReduceOp::Prod || !is_floating_type_v<T>) {
        // The other ops are exact, so slices combined in any grouping give the same bits;
        // a half-type product is not and stays on one thread below.
        constexpr int kSlices = 64;
        opmath_t<T> partial[kSlices];
        parallel_for(kSlices, 1, [&](int64_t b, int64_t e) {
          for (int64_t t = b; t < e; ++t) partial[t] = reduce_row<Op>(src + K * t / kSlices, K * (t + 1) / kSlices - K * t / kSlices);
        });
        opmath_t<T> total = partial[0];
        for (int t = 1; t < kSlices; ++t) total = combine<Op>(total, partial[t]);
        dst[0] = static_cast<T>(total);
        return;
      }
    }
    parallel_for(M, grain, [&](int64_t b, int64_t e) {
      for (int64_t m = b; m < e; ++m) dst[m] = reduce_inner_row<Op>(src + m * K, K);
    });
  } else {
    // Columns: combine whole rows into a buffer so the inner loop is contiguous.
    // uint8_t for bool (no vector<bool> proxies), float for the half types.
    using A = std::conditional_t<std::is_same_v<T, bool>, uint8_t, opmath_t<T>>;
    const A id = static_cast<A>(identity<Op, opmath_t<T>>());
    auto sweep = [&](int64_t k0, int64_t k1, int64_t m0, int64_t m1, A* accp) {
      for (int64_t k = k0; k < k1; ++k) {
        const T* row = src + k * M + m0;
#pragma omp simd
        for (int64_t m = 0; m < m1 - m0; ++m) accp[m] = combine<Op, A>(accp[m], static_cast<A>(row[m]));
      }
    };
    const int64_t nkb = column_blocks(K);
    if (nkb > 1) {
      // Threads take blocks of whole rows (splitting the columns instead gave each thread
      // narrow strips of every row: two threads ran 4x slower than one). The blocks depend
      // on K alone and their partials combine in block order, so the bits do not depend
      // on the thread count.
      std::vector<A> part(nkb * M, id);
      parallel_for(nkb, 1, [&](int64_t b, int64_t e) {
        for (int64_t j = b; j < e; ++j) sweep(K * j / nkb, K * (j + 1) / nkb, 0, M, part.data() + j * M);
      });
      parallel_for(M, grain_for(M, M * nkb, 32768), [&](int64_t b, int64_t e) {
        for (int64_t m = b; m < e; ++m) {
          A v = part[m];
          for (int64_t j = 1; j < nkb; ++j) v = combine<Op, A>(v, part[j * M + m]);
          dst[m] = static_cast<T>(v);
        }
      });
      return;
    }
    // Each column sees its rows in order whatever the split, so the split cannot change the bits.
    parallel_for(M, grain, [&](int64_t b, int64_t e) {
      std::vector<A> acc(e - b, id);
      sweep(0, K, b, e, acc.data());
      for (int64_t m = b; m < e; ++m) dst[m] = static_cast<T>(acc[m - b]);
    });
  }
}

template <typename T>
void reduce_typed(ReduceOp op, const Tensor& in, bool inner, const Tensor& out) {
  switch (op) {
    case ReduceOp::Sum: return reduce_impl<ReduceOp::Sum, T>(in, inner, out);
    case ReduceOp::Prod: return reduce_impl<ReduceOp::Prod, T>(in, inner, out);
    case ReduceOp::Max: return reduce_impl<ReduceOp::Max, T>(in, inner, out);
    case ReduceOp::Min: return reduce_impl<ReduceOp::Min, T>(in, inner, out);
    case ReduceOp::All: return reduce_impl<ReduceOp::All, T>(in, inner, out);
    case ReduceOp::Any: return reduce_impl<ReduceOp::Any, T>(in, inner, out);
  }
}

void reduce_kernel(ReduceOp op, const Tensor& in, bool inner, const Tensor& out) {
  // The op converts its input to the output dtype first, so one dtype suffices.
  NORCH_CHECK(in.dtype() == out.dtype(), "reduce: input dtype ", dtype_name(in.dtype()),
              " differs from output dtype ", dtype_name(out.dtype()));
  NORCH_DISPATCH_ALL_TYPES_AND_HALF(in.dtype(), "reduce", [&] { reduce_typed<scalar_t>(op, in, inner, out); });
}

// Sum of (p[i] - mean)^2 over n contiguous values, in the blocks sum_contiguous uses.
template <typename T>
double sumsq_block(const T* p, int64_t n, double mean) {
  if constexpr (std::is_same_v<T, float>) return isa().sumsq_f32(p, n, mean);
  else return isa().sumsq_f64(p, n, mean);
}

// A per-block pass over one long row, the blocks on any threads and their results added
// in order: the same bits as the serial loop over the blocks.
template <typename F>
double sum_blocks(int64_t K, F&& block) {
  const int64_t nb = (K + kSumBlock - 1) / kSumBlock;
  std::vector<double> parts(nb);
  parallel_for(nb, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) parts[i] = block(i * kSumBlock, std::min(K, (i + 1) * kSumBlock) - i * kSumBlock);
  });
  double total = 0;
  for (double v : parts) total += v;
  return total;
}

// var over K for each of M slices: the mean, then the squared deviations from it, both
// summed in double; a row of up to kSumBlock values stays in cache for the second pass.
template <typename T>
void var_typed(const Tensor& in, bool inner, double correction, const Tensor& out) {
  const int64_t M = inner ? in.sizes()[0] : in.sizes()[1];
  const int64_t K = inner ? in.sizes()[1] : in.sizes()[0];
  const T* src = in.data<T>();
  T* dst = out.data<T>();
  const double dof = std::max(0.0, static_cast<double>(K) - correction);
  const int64_t grain = grain_for(M, M * K, 32768);
  if (inner && M == 1 && K > kSumBlock) {
    const double mean = sum_blocks(K, [&](int64_t b, int64_t n) { return sum_contiguous(src + b, n); }) / K;
    dst[0] = static_cast<T>(sum_blocks(K, [&](int64_t b, int64_t n) { return sumsq_block(src + b, n, mean); }) / dof);
  } else if (inner) {
    parallel_for(M, grain, [&](int64_t b, int64_t e) {
      for (int64_t m = b; m < e; ++m) {
        const T* row = src + m * K;
        const double mean = sum_contiguous(row, K) / static_cast<double>(K);
        double ss = 0;
        for (int64_t k = 0; k < K; k += kSumBlock) ss += sumsq_block(row + k, std::min(kSumBlock, K - k), mean);
        dst[m] = static_cast<T>(ss / dof);
      }
    });
  } else {
    // Columns: two sweeps down the rows with a double accumulator per column.
    parallel_for(M, grain, [&](int64_t b, int64_t e) {
      const int64_t w = e - b;
      std::vector<double> mean(w, 0.0), ss(w, 0.0);
      for (int64_t k = 0; k < K; ++k) {
        const T* row = src + k * M + b;
        for (int64_t m = 0; m < w; ++m) mean[m] += static_cast<double>(row[m]);
      }
      for (int64_t m = 0; m < w; ++m) mean[m] /= static_cast<double>(K);
      for (int64_t k = 0; k < K; ++k) {
        const T* row = src + k * M + b;
        for (int64_t m = 0; m < w; ++m) {
          const double d = static_cast<double>(row[m]) - mean[m];
          ss[m] += d * d;
        }
      }
      for (int64_t m = 0; m < w; ++m) dst[b + m] = static_cast<T>(ss[m] / dof);
    });
  }
}

void var_kernel(const Tensor& in, bool inner, double correction, const Tensor& out) {
  NORCH_CHECK(in.dtype() == out.dtype(), "var: input dtype ", dtype_name(in.dtype()), " differs from output dtype ",
              dtype_name(out.dtype()));
  if (in.dtype() == ScalarType::Float32) return var_typed<float>(in, inner, correction, out);
  NORCH_CHECK(in.dtype() == ScalarType::Float64, "var: the CPU kernel takes float32 or float64, got ",
              dtype_name(in.dtype()));
  var_typed<double>(in, inner, correction, out);
}

using functors::arg_better;

// Index of the first max (min) of a contiguous row; the vector loop where there is one.
template <typename T>
int64_t arg_row(bool is_max, const T* row, int64_t K) {
  if constexpr (std::is_same_v<T, float>) return isa().arg_f32(row, K, is_max);
  else if constexpr (std::is_same_v<T, double>) return isa().arg_f64(row, K, is_max);
  else if constexpr (std::is_same_v<T, int64_t>) return isa().arg_i64(row, K, is_max);
  else if constexpr (std::is_same_v<T, int32_t>) return isa().arg_i32(row, K, is_max);
  else {
    T best = row[0];
    int64_t bi = 0;
    for (int64_t k = 1; k < K; ++k)
      if (arg_better<T>(is_max, row[k], best)) { best = row[k]; bi = k; }
    return bi;
  }
}

template <typename T>
void arg_reduce_typed(bool is_max, const Tensor& in, bool inner, const Tensor& values, const Tensor& indices) {
  const int64_t M = inner ? in.sizes()[0] : in.sizes()[1];
  const int64_t K = inner ? in.sizes()[1] : in.sizes()[0];
  const T* src = in.data<T>();
  T* vals = values.defined() ? values.data<T>() : nullptr;
  int64_t* idx = indices.data<int64_t>();
  const int64_t grain = grain_for(M, M * K, 32768);
  if (inner && M == 1 && K >= 65536 && get_num_threads() > 1) {
    // One long row in slices; the slices' winners are compared in order, and a later one
    // wins only when strictly better, so the first occurrence wins as on one thread.
    constexpr int kSlices = 64;
    int64_t at[kSlices];
    parallel_for(kSlices, 1, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        const int64_t lo = K * t / kSlices;
        at[t] = lo + arg_row<T>(is_max, src + lo, K * (t + 1) / kSlices - lo);
      }
    });
    int64_t bi = at[0];
    for (int t = 1; t < kSlices; ++t)
      if (arg_better<T>(is_max, src[at[t]], src[bi])) bi = at[t];
    idx[0] = bi;
    if (vals) vals[0] = src[bi];
  } else if (inner) {
    parallel_for(M, grain, [&](int64_t b, int64_t e) {
      for (int64_t m = b; m < e; ++m) {
        const T* row = src + m * K;
        const int64_t bi = arg_row<T>(is_max, row, K);
        idx[m] = bi;
        if (vals) vals[m] = row[bi];
      }
    });
  } else {
    // Columns: keep a running best per column so each pass reads one contiguous row.
    // sweep(k0, k1, ...) starts from row k0 itself and compares rows k0 + 1 ... k1 - 1.
    auto sweep = [&](int64_t k0, int64_t k1, int64_t m0, int64_t m1, T* best, int64_t* bi) {
      for (int64_t m = m0; m < m1; ++m) best[m - m0] = src[k0 * M + m], bi[m - m0] = k0;
      for (int64_t k = k0 + 1; k < k1; ++k) {
        const T* row = src + k * M;
        for (int64_t m = m0; m < m1; ++m)
          if (arg_better<T>(is_max, row[m], best[m - m0])) { best[m - m0] = row[m]; bi[m - m0] = k; }
      }
    };
    const int64_t nkb = column_blocks(K);
    if (nkb > 1) {
      // Blocks of whole rows per thread, as in reduce_impl; a later block's winner
      // replaces an earlier one only when strictly better, so the first occurrence wins.
      std::unique_ptr<T[]> best(new T[nkb * M]);  // not vector: vector<bool> has no data()
      std::vector<int64_t> bi(nkb * M);
      parallel_for(nkb, 1, [&](int64_t b, int64_t e) {
        for (int64_t j = b; j < e; ++j) sweep(K * j / nkb, K * (j + 1) / nkb, 0, M, best.get() + j * M, bi.data() + j * M);
      });
      for (int64_t m = 0; m < M; ++m) {
        int64_t w = m;
        for (int64_t j = 1; j < nkb; ++j)
          if (arg_better<T>(is_max, best[j * M + m], best[w])) w = j * M + m;
        idx[m] = bi[w];
        if (vals) vals[m] = best[w];
      }
      return;
    }
    parallel_for(M, grain, [&](int64_t b, int64_t e) {
      std::unique_ptr<T[]> best(new T[e - b]);
      std::vector<int64_t> bi(e - b);
      sweep(0, K, b, e, best.get(), bi.data());
      for (int64_t m = b; m < e; ++m) {
        idx[m] = bi[m - b];
        if (vals) vals[m] = best[m - b];
      }
    });
  }
}

void arg_reduce_kernel(bool is_max, const Tensor& in, bool inner, const Tensor& values, const Tensor& indices) {
  NORCH_DISPATCH_ALL_TYPES_AND_HALF(in.dtype(), is_max ? "argmax" : "argmin",
                           [&] { arg_reduce_typed<scalar_t>(is_max, in, inner, values, indices); });
}

}  // namespace
NORCH_REGISTER_KERNEL(reduce_stub, CPU, reduce_kernel);
NORCH_REGISTER_KERNEL(arg_reduce_stub, CPU, arg_reduce_kernel);
NORCH_REGISTER_KERNEL(var_stub, CPU, var_kernel);
}  // namespace norch::cpu

// Contiguous reduction loops (sum, prod, max/min, argmax/argmin), compiled once per
// instruction set (Note [SIMD dispatch] in CMakeLists.txt); reduce_kernel.cpp picks a copy.
//
// The loops are written on GCC vector types of a fixed 64 bytes, which the compiler
// lowers to one zmm, two ymm or four xmm registers. Lane j always holds the elements
// j, j + 2L, j + 4L, ... (two accumulators of L lanes each), and the lanes fold in one
// fixed pairwise order, so all three copies compute the same operations in the same
// order and return the same bits; only their speed differs (fp-contract=off below
// keeps the AVX2/AVX-512 copies from fusing var's square and add into an FMA).
//
// Floating sum: a chunk of 16 elements per lane is summed in the input type, the chunk
// results are accumulated in double lanes, and the double lanes fold pairwise at the
// end. Each float rounding spans at most 16 terms, so the error is that of a 16-term
// float sum plus double rounding: 1e8 ones in float32 sum exactly.
//
// What each step gained, float32 sum of 16M (64 MB, from DRAM), one thread of an AMD
// EPYC (Zen 5, 2 cores shared with other jobs), a C++ loop timing each variant in turn,
// best of 40 (median in brackets), load 2.8-4:
//   v0 16 float lanes in a loop the compiler vectorised, blocks of 4096 summed in double,
//      compiled for baseline x86-64 only (SSE2: four xmm chains)      23-34 GB/s [23-33]
//   v1 the same loop compiled for AVX2 / AVX-512: 44 / 43 GB/s [42]; with 32 lanes
//      (two zmm) 49 GB/s [48]; 64 lanes at -O2 kept the lanes in memory: 34 GB/s
//   v2 this file: explicit 64-byte vectors, two accumulators, double lanes per chunk
//      of 16: 48-52 GB/s [42-46] (AVX-512), beside a loads-only loop at 49-61 GB/s [44-46]
//      and PyTorch's cascade sum at 50-52 GB/s: the loop streams at DRAM speed, so the
//      sum was bound by the SSE2-only build, not by accumulator latency or the blocking
//      (the double conversion per 16 elements a lane costs nothing measurable).
//   v3 rows shorter than four vectors (reduce_kernel.cpp) and the tail here in four
//      double chains instead of one: rows of 16 floats 7 -> 22 GB/s.
// max/min: integers keep four compare-select accumulators (int64 amax 27 -> 39 GB/s
// over two); floats run vmaxps with NaNs noted on the side (below).
// Tried and dropped: software prefetch 1-4 KiB ahead (no gain, the hardware prefetcher
// keeps up), 4 or 8 zmm accumulators for the sum (no gain from DRAM; slower at -O2),
// 16384-element chunks (no gain, and longer float chains).
// Accuracy (relative to sum |x|, float32 results; norch / PyTorch / NumPy): 1e8 ones 0 /
// 0 / 0; 1e6 and 1e-2 alternating 1.0e-8 each (the result's own rounding); x, -x and a
// small remainder, 8M: 7.4e-11 / 1.2e-10 / 1.5e-11 (v0: 1.7e-10).
#ifndef NORCH_ISA
#error "reduce_isa.cpp is compiled only through the per-ISA wrappers that CMake generates"
#endif
#include <cstdint>

#include "kernels/cpu/isa/reduce_isa.h"

// Products are never fused into adds (FMA), so every copy rounds each product the same way.
#pragma GCC optimize("fp-contract=off")
// The 64-byte vector types pass between this file's own (internal) functions only.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace norch::cpu::NORCH_ISA {
namespace {

template <typename T>
struct Vec64 {
  typedef T type __attribute__((vector_size(64)));
};
template <typename T>
using vec = typename Vec64<T>::type;
template <typename T>
constexpr int64_t kLanes = 64 / sizeof(T);
typedef double vd16 __attribute__((vector_size(128)));  // float lanes widened

template <typename T>
inline vec<T> load(const T* p) {
  vec<T> v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

// Pairwise fold of a vector's lanes with the scalar combine f, in one fixed order.
template <typename T, typename V, typename F>
inline T fold(V v, F f) {
  constexpr int n = sizeof(V) / sizeof(T);
  T lanes[n];
  __builtin_memcpy(lanes, &v, sizeof v);
  for (int w = n / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) lanes[j] = f(lanes[j], lanes[j + w]);
  return lanes[0];
}

// D: double lanes, as many as one vec<T> holds.
template <typename T, typename D>
double sum_impl(const T* p, int64_t n) {
  constexpr int64_t L = kLanes<T>, kStep = 2 * L, kChunk = 16 * kStep;
  D d0 = {}, d1 = {};
  int64_t i = 0;
  for (; i + kChunk <= n; i += kChunk) {
    vec<T> a0 = {}, a1 = {};
    for (int64_t k = 0; k < kChunk; k += kStep) {
      a0 += load(p + i + k);
      a1 += load(p + i + k + L);
    }
    d0 += __builtin_convertvector(a0, D);
    d1 += __builtin_convertvector(a1, D);
  }
  const bool vectors = i + kStep <= n || i > 0;
  if (i + kStep <= n) {
    vec<T> a0 = {}, a1 = {};
    for (; i + kStep <= n; i += kStep) {
      a0 += load(p + i);
      a1 += load(p + i + L);
    }
    d0 += __builtin_convertvector(a0, D);
    d1 += __builtin_convertvector(a1, D);
  }
  // The last 2L - 1 or fewer in four scalar chains: a short row is all tail, and one
  // chain of K dependent adds made rows of 16 floats slower than PyTorch's.
  double r0 = 0, r1 = 0, r2 = 0, r3 = 0;
  for (; i + 4 <= n; i += 4) {
    r0 += static_cast<double>(p[i]);
    r1 += static_cast<double>(p[i + 1]);
    r2 += static_cast<double>(p[i + 2]);
    r3 += static_cast<double>(p[i + 3]);
  }
  for (; i < n; ++i) r0 += static_cast<double>(p[i]);
  const double rest = (r0 + r1) + (r2 + r3);
  // A short row (fewer than 2L elements) skips the fold of all-zero lanes.
  if (!vectors) return rest;
  return fold<double>(d0 + d1, [](double a, double b) { return a + b; }) + rest;
}

// D: double lanes, as many as one vec<T> holds; two accumulators, pairwise fold.
template <typename T, typename D>
double sumsq_impl(const T* p, int64_t n, double mean) {
  constexpr int64_t L = kLanes<T>;
  int64_t i = 0;
  double total = 0;
  if (n >= 2 * L) {
    const D m = D{} + mean;
    D a0 = {}, a1 = {};
    for (; i + 2 * L <= n; i += 2 * L) {
      const D d0 = __builtin_convertvector(load(p + i), D) - m, d1 = __builtin_convertvector(load(p + i + L), D) - m;
      a0 += d0 * d0;
      a1 += d1 * d1;
    }
    total = fold<double>(a0 + a1, [](double a, double b) { return a + b; });
  }
  for (; i < n; ++i) {
    const double d = static_cast<double>(p[i]) - mean;
    total += d * d;
  }
  return total;
}

enum class Op { Sum, Prod, Max, Min };

// Max/Min as functors::reduce_combine: a NaN in b replaces a, a NaN in a stays.
template <Op op, typename T>
inline T combine(T a, T b) {
  if constexpr (op == Op::Sum) return a + b;
  else if constexpr (op == Op::Prod) return a * b;
  else if constexpr (op == Op::Max) return (b > a || b != b) ? b : a;
  else return (b < a || b != b) ? b : a;
}

template <Op op, typename T>
inline vec<T> vcombine(vec<T> a, vec<T> b) {
  if constexpr (op == Op::Sum) return a + b;
  else if constexpr (op == Op::Prod) return a * b;
  else if constexpr (op == Op::Max) return ((b > a) | (b != b)) ? b : a;
  else return ((b < a) | (b != b)) ? b : a;
}

template <Op op, typename T>
constexpr T identity() {
  if constexpr (op == Op::Sum) return T(0);
  else if constexpr (op == Op::Prod) return T(1);
  else if constexpr (T(0.5) != T(0)) return op == Op::Max ? T(-__builtin_huge_val()) : T(__builtin_huge_val());
  else if constexpr (sizeof(T) == 8) return op == Op::Max ? T(INT64_MIN) : T(INT64_MAX);
  else return op == Op::Max ? T(INT32_MIN) : T(INT32_MAX);
}

template <Op op, typename T>
T reduce_impl(const T* p, int64_t n) {
  constexpr int64_t L = kLanes<T>;
  int64_t i = 0;
  T acc = identity<op, T>();
  if constexpr ((op == Op::Max || op == Op::Min) && T(0.5) != T(0)) {
    // Floating: a plain max/min chain (one vmaxps per vector, `x > a ? x : a` is its
    // exact semantics), NaNs noted on the side instead of in the chain, two accumulators
    // as the sum. The NaN-aware select with four accumulators gave float32 amax 31 GB/s
    // beside PyTorch's 38 (load 8); this loop 34 beside 33 (load 10).
    if (n >= 2 * L) {
      using Mask = decltype(vec<T>{} != vec<T>{});
      vec<T> a0 = vec<T>{} + identity<op, T>(), a1 = a0;
      Mask nan = {};
      for (; i + 2 * L <= n; i += 2 * L) {
        const vec<T> x0 = load(p + i), x1 = load(p + i + L);
        nan |= (x0 != x0) | (x1 != x1);
        if constexpr (op == Op::Max) a0 = x0 > a0 ? x0 : a0, a1 = x1 > a1 ? x1 : a1;
        else a0 = x0 < a0 ? x0 : a0, a1 = x1 < a1 ? x1 : a1;
      }
      bool any_nan = false;
      for (int j = 0; j < L; ++j) any_nan |= nan[j] != 0;
      if (any_nan) {
        for (int64_t k = 0;; ++k)
          if (p[k] != p[k]) return p[k];  // the first NaN, as the scalar combine keeps
      }
      acc = fold<T>(vcombine<op, T>(a0, a1), combine<op, T>);
    }
  } else if constexpr (op == Op::Max || op == Op::Min) {
    // Exact, so the lane layout cannot change the result: four accumulators, since the
    // compare-and-select chain is longer than an add's.
    if (n >= 4 * L) {
      vec<T> a0 = vec<T>{} + identity<op, T>(), a1 = a0, a2 = a0, a3 = a0;
      for (; i + 4 * L <= n; i += 4 * L) {
        a0 = vcombine<op, T>(a0, load(p + i));
        a1 = vcombine<op, T>(a1, load(p + i + L));
        a2 = vcombine<op, T>(a2, load(p + i + 2 * L));
        a3 = vcombine<op, T>(a3, load(p + i + 3 * L));
      }
      acc = fold<T>(vcombine<op, T>(vcombine<op, T>(a0, a2), vcombine<op, T>(a1, a3)), combine<op, T>);
    }
  } else if (n >= 2 * L) {
    vec<T> a0 = vec<T>{} + identity<op, T>(), a1 = a0;
    for (; i + 2 * L <= n; i += 2 * L) {
      a0 = vcombine<op, T>(a0, load(p + i));
      a1 = vcombine<op, T>(a1, load(p + i + L));
    }
    acc = fold<T>(vcombine<op, T>(a0, a1), combine<op, T>);
  }
  for (; i < n; ++i) acc = combine<op, T>(acc, p[i]);
  return acc;
}

template <typename T>
T extreme_impl(const T* p, int64_t n, bool is_max) {
  return is_max ? reduce_impl<Op::Max>(p, n) : reduce_impl<Op::Min>(p, n);
}

// Blocks small enough to stay in L1 are reduced to their max (min) at vector speed; only
// the block holding the first strict improvement is searched again for the index, so
// the first occurrence wins ties, and the first NaN wins outright.
template <typename T>
int64_t arg_impl(const T* p, int64_t n, bool is_max) {
  constexpr int64_t kBlock = 2048;
  T best = p[0];
  int64_t best_block = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t len = n - b < kBlock ? n - b : kBlock;
    const T v = extreme_impl(p + b, len, is_max);
    if (v != v) {
      for (int64_t i = b;; ++i)
        if (p[i] != p[i]) return i;
    }
    if (is_max ? v > best : v < best) {
      best = v;
      best_block = b;
    }
  }
  for (int64_t i = best_block;; ++i)
    if (p[i] == best) return i;
}

double sum_f32(const float* p, int64_t n) { return sum_impl<float, vd16>(p, n); }
double sum_f64(const double* p, int64_t n) { return sum_impl<double, vec<double>>(p, n); }
int64_t sum_i64(const int64_t* p, int64_t n) { return reduce_impl<Op::Sum>(p, n); }
double sumsq_f32(const float* p, int64_t n, double mean) { return sumsq_impl<float, vd16>(p, n, mean); }
double sumsq_f64(const double* p, int64_t n, double mean) { return sumsq_impl<double, vec<double>>(p, n, mean); }
float prod_f32(const float* p, int64_t n) { return reduce_impl<Op::Prod>(p, n); }
double prod_f64(const double* p, int64_t n) { return reduce_impl<Op::Prod>(p, n); }
int64_t prod_i64(const int64_t* p, int64_t n) { return reduce_impl<Op::Prod>(p, n); }
float extreme_f32(const float* p, int64_t n, bool is_max) { return extreme_impl(p, n, is_max); }
double extreme_f64(const double* p, int64_t n, bool is_max) { return extreme_impl(p, n, is_max); }
int64_t extreme_i64(const int64_t* p, int64_t n, bool is_max) { return extreme_impl(p, n, is_max); }
int32_t extreme_i32(const int32_t* p, int64_t n, bool is_max) { return extreme_impl(p, n, is_max); }
int64_t arg_f32(const float* p, int64_t n, bool is_max) { return arg_impl(p, n, is_max); }
int64_t arg_f64(const double* p, int64_t n, bool is_max) { return arg_impl(p, n, is_max); }
int64_t arg_i64(const int64_t* p, int64_t n, bool is_max) { return arg_impl(p, n, is_max); }
int64_t arg_i32(const int32_t* p, int64_t n, bool is_max) { return arg_impl(p, n, is_max); }

}  // namespace

const ReduceIsa reduce_isa = {sum_f32,     sum_f64,     sum_i64,     sumsq_f32,   sumsq_f64,
                              prod_f32,    prod_f64,    prod_i64,    extreme_f32, extreme_f64,
                              extreme_i64, extreme_i32, arg_f32,     arg_f64,     arg_i64,
                              arg_i32};

}  // namespace norch::cpu::NORCH_ISA

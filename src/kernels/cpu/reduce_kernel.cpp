// CPU reductions over the 2-d problem of Note [Reduction layout].
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/cpu/loops.h"
#include "kernels/reduce.h"

namespace norch::cpu {
namespace {

template <typename T>
using acc_t = std::conditional_t<std::is_floating_point_v<T>, double, std::conditional_t<std::is_same_v<T, bool>, bool, int64_t>>;

// Sum of n contiguous floats: 16 float lanes summed in blocks, blocks summed
// in double. Close to NumPy's pairwise accuracy at memory speed.
template <typename T>
double sum_contiguous(const T* p, int64_t n) {
  double total = 0;
  constexpr int64_t kBlock = 4096;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    T lanes[16] = {};
    int64_t i = b;
    for (; i + 16 <= e; i += 16) {
#pragma omp simd
      for (int j = 0; j < 16; ++j) lanes[j] += p[i + j];
    }
    T rest = 0;
    for (; i < e; ++i) rest += p[i];
    double block = rest;
    for (int j = 0; j < 16; ++j) block += lanes[j];
    total += block;
  }
  return total;
}

template <typename T>
struct Reducer {
  ReduceOp op;
  T identity() const {
    switch (op) {
      case ReduceOp::Sum: return T(0);
      case ReduceOp::Prod: return T(1);
      // -inf/+inf for floats: lowest() would beat an all -inf row.
      case ReduceOp::Max:
        return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                    : std::numeric_limits<T>::lowest();
      case ReduceOp::Min:
        return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity()
                                                    : std::numeric_limits<T>::max();
      case ReduceOp::All: return T(1);
      case ReduceOp::Any: return T(0);
    }
    return T(0);
  }
  T combine(T a, T b) const {
    switch (op) {
      case ReduceOp::Sum: return a + b;
      case ReduceOp::Prod: return a * b;
      case ReduceOp::Max:
        if constexpr (std::is_floating_point_v<T>) { if (a != a || b != b) return std::numeric_limits<T>::quiet_NaN(); }
        return a > b ? a : b;
      case ReduceOp::Min:
        if constexpr (std::is_floating_point_v<T>) { if (a != a || b != b) return std::numeric_limits<T>::quiet_NaN(); }
        return a < b ? a : b;
      case ReduceOp::All: return T((a != T(0)) && (b != T(0)));
      case ReduceOp::Any: return T((a != T(0)) || (b != T(0)));
    }
    return a;
  }
};

template <typename T, typename O>
void reduce_typed(ReduceOp op, const Tensor& in, bool inner, const Tensor& out) {
  const int64_t M = inner ? in.sizes()[0] : in.sizes()[1];
  const int64_t K = inner ? in.sizes()[1] : in.sizes()[0];
  const T* src = in.data<T>();
  O* dst = out.data<O>();
  Reducer<T> r{op};
  const int threads = get_num_threads();
  if (inner) {
    if (M == 1 && op == ReduceOp::Sum && std::is_floating_point_v<T> && K >= 65536 && threads > 1) {
      // One long row: each thread sums a slice, then the slices are added.
      double partial[64] = {};
      const int nt = std::min(threads, 64);
#pragma omp parallel for num_threads(nt) schedule(static)
      for (int t = 0; t < nt; ++t) {
        int64_t b = K * t / nt, e = K * (t + 1) / nt;
        partial[t] = sum_contiguous(src + b, e - b);
      }
      double total = 0;
      for (int t = 0; t < nt; ++t) total += partial[t];
      dst[0] = static_cast<O>(total);
      return;
    }
#pragma omp parallel for schedule(static) if (M * K > 32768 && M > 1 && threads > 1)
    for (int64_t m = 0; m < M; ++m) {
      const T* row = src + m * K;
      if constexpr (std::is_floating_point_v<T>) {
        if (op == ReduceOp::Sum) {
          dst[m] = static_cast<O>(sum_contiguous(row, K));
          continue;
        }
      }
      if constexpr (!std::is_same_v<T, bool> && !std::is_floating_point_v<T>) {
        if (op == ReduceOp::Sum) {
          int64_t acc = 0;
          for (int64_t k = 0; k < K; ++k) acc += row[k];
          dst[m] = static_cast<O>(acc);
          continue;
        }
      }
      T acc = r.identity();
      for (int64_t k = 0; k < K; ++k) acc = r.combine(acc, row[k]);
      dst[m] = cast<O>(acc);
    }
  } else {
    // Columns: accumulate whole rows into a buffer so the inner loop is contiguous.
#pragma omp parallel if (M * K > 32768 && threads > 1)
    {
      const int nt = omp_get_num_threads(), tid = omp_get_thread_num();
      const int64_t b = M * tid / nt, e = M * (tid + 1) / nt;
      if (b < e) {
        using A = std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>;
        std::vector<A> acc(e - b, r.identity());
        for (int64_t k = 0; k < K; ++k) {
          const T* row = src + k * M;
          if (op == ReduceOp::Sum) {
#pragma omp simd
            for (int64_t m = b; m < e; ++m) acc[m - b] += row[m];
          } else {
            for (int64_t m = b; m < e; ++m) acc[m - b] = static_cast<A>(r.combine(static_cast<T>(acc[m - b]), row[m]));
          }
        }
        for (int64_t m = b; m < e; ++m) dst[m] = cast<O>(static_cast<T>(acc[m - b]));
      }
    }
  }
}

void reduce_kernel(ReduceOp op, const Tensor& in, bool inner, const Tensor& out) {
  NORCH_DISPATCH_ALL_TYPES(in.dtype(), "reduce", [&] {
    using T = scalar_t;
    NORCH_DISPATCH_ALL_TYPES(out.dtype(), "reduce", [&] {
      if constexpr (std::is_same_v<T, bool> && !std::is_same_v<scalar_t, bool>) {
        // bool sums count: compute in the output type
        NORCH_ERROR("reduce: bool input must be converted before reduction");
      } else {
        reduce_typed<T, scalar_t>(op, in, inner, out);
      }
    });
  });
}

// True when `cand` should replace `best` in a running max/min: NaN wins and stays.
template <typename T>
inline bool arg_better(bool is_max, T cand, T best) {
  if constexpr (std::is_floating_point_v<T>) {
    if (best != best) return false;
    if (cand != cand) return true;
  }
  return is_max ? cand > best : cand < best;
}

template <typename T>
void arg_reduce_typed(bool is_max, const Tensor& in, bool inner, const Tensor& values, const Tensor& indices) {
  const int64_t M = inner ? in.sizes()[0] : in.sizes()[1];
  const int64_t K = inner ? in.sizes()[1] : in.sizes()[0];
  const T* src = in.data<T>();
  T* vals = values.defined() ? values.data<T>() : nullptr;
  int64_t* idx = indices.data<int64_t>();
  const int threads = get_num_threads();
  if (inner) {
#pragma omp parallel for schedule(static) if (M * K > 32768 && M > 1 && threads > 1)
    for (int64_t m = 0; m < M; ++m) {
      const T* row = src + m * K;
      T best = row[0];
      int64_t bi = 0;
      for (int64_t k = 1; k < K; ++k)
        if (arg_better<T>(is_max, row[k], best)) { best = row[k]; bi = k; }
      idx[m] = bi;
      if (vals) vals[m] = best;
    }
  } else {
    // Columns: keep a running best per column so each pass reads one contiguous row.
#pragma omp parallel if (M * K > 32768 && threads > 1)
    {
      const int nt = omp_get_num_threads(), tid = omp_get_thread_num();
      const int64_t b = M * tid / nt, e = M * (tid + 1) / nt;
      if (b < e) {
        std::vector<T> best(src + b, src + e);
        std::vector<int64_t> bi(e - b, 0);
        for (int64_t k = 1; k < K; ++k) {
          const T* row = src + k * M;
          for (int64_t m = b; m < e; ++m)
            if (arg_better<T>(is_max, row[m], best[m - b])) { best[m - b] = row[m]; bi[m - b] = k; }
        }
        for (int64_t m = b; m < e; ++m) {
          idx[m] = bi[m - b];
          if (vals) vals[m] = best[m - b];
        }
      }
    }
  }
}

void arg_reduce_kernel(bool is_max, const Tensor& in, bool inner, const Tensor& values, const Tensor& indices) {
  NORCH_DISPATCH_ALL_TYPES(in.dtype(), is_max ? "argmax" : "argmin",
                           [&] { arg_reduce_typed<scalar_t>(is_max, in, inner, values, indices); });
}

}  // namespace
NORCH_REGISTER_KERNEL(reduce_stub, CPU, reduce_kernel);
NORCH_REGISTER_KERNEL(arg_reduce_stub, CPU, arg_reduce_kernel);
}  // namespace norch::cpu

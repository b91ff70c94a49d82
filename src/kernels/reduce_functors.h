// The combine step and identity of each ReduceOp, shared by the CPU and CUDA
// reduction kernels (NORCH_HD, like the elementwise functors), and the
// accumulator type a sum runs in. Branch-free so the CPU loops vectorize.
#pragma once
#include <limits>
#include <type_traits>

#include "kernels/functors.h"
#include "kernels/reduce.h"

namespace norch::functors {

// -inf/+inf for floats: lowest() would beat an all -inf row.
template <ReduceOp Op, typename T>
NORCH_HD constexpr T reduce_identity() {
  if constexpr (Op == ReduceOp::Sum || Op == ReduceOp::Any) return T(0);
  else if constexpr (Op == ReduceOp::Prod || Op == ReduceOp::All) return T(1);
  else if constexpr (Op == ReduceOp::Max)
    return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
  else
    return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
}

template <ReduceOp Op, typename T>
NORCH_HD inline T reduce_combine(T a, T b) {
  if constexpr (Op == ReduceOp::Sum) return static_cast<T>(a + b);
  else if constexpr (Op == ReduceOp::Prod) return static_cast<T>(a * b);
  else if constexpr (Op == ReduceOp::All) return static_cast<T>((a != T(0)) & (b != T(0)));
  else if constexpr (Op == ReduceOp::Any) return static_cast<T>((a != T(0)) | (b != T(0)));
  // Max/Min: a NaN in b replaces a, and a NaN in a is never replaced, so NaN propagates.
  else if constexpr (Op == ReduceOp::Max) return (b > a || b != b) ? b : a;
  else return (b < a || b != b) ? b : a;
}

// True when `cand` should replace `best` in a running max/min: NaN wins and stays.
template <typename T>
NORCH_HD inline bool arg_better(bool is_max, T cand, T best) {
  if constexpr (is_floating_type_v<T>) {
    if (best != best) return false;
    if (cand != cand) return true;
  }
  return is_max ? cand > best : cand < best;
}

}  // namespace norch::functors

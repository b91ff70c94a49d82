// CUDA reductions (sum, prod, max, min, all, any) and arg-reductions (values
// and first-occurrence indices of the max/min) over Note [Reduction layout],
// on the deterministic machinery of reduce.cuh with the CPU's combine steps
// (kernels/reduce_functors.h). Float sums accumulate in double, as on the CPU;
// the half types accumulate every op in float (opmath_t) and round once, at the
// store, as PyTorch's CUDA reductions do.
#include <type_traits>

#include "kernels/cuda/loops.cuh"
#include "kernels/cuda/reduce.cuh"
#include "kernels/reduce_functors.h"

namespace norch::cuda_kernels {
namespace {

template <ReduceOp Op, typename T>
struct ReducePolicy {
  using acc_t = std::conditional_t<Op == ReduceOp::Sum && std::is_floating_point_v<T>, double, opmath_t<T>>;
  __device__ acc_t identity() const { return functors::reduce_identity<Op, acc_t>(); }
  __device__ acc_t load(T x, int64_t) const { return static_cast<acc_t>(x); }
  __device__ acc_t combine(acc_t a, acc_t b) const { return functors::reduce_combine<Op, acc_t>(a, b); }
};

template <typename T, typename A>
struct StoreOut {
  T* out;
  __device__ void operator()(int64_t m, int64_t, A v) const { out[m] = static_cast<T>(v); }
};

template <typename T, ReduceOp Op>
struct FillIdentity {
  NORCH_HD T operator()() const { return static_cast<T>(functors::reduce_identity<Op, opmath_t<T>>()); }
};

template <ReduceOp Op, typename T>
void reduce_impl(const Tensor& in, bool inner, const Tensor& out) {
  const int64_t M = inner ? in.sizes()[0] : in.sizes()[1];
  const int64_t K = inner ? in.sizes()[1] : in.sizes()[0];
  using P = ReducePolicy<Op, T>;
  if (M == 0) return;
  if (K == 0) {  // an empty reduction is the identity (the op refuses it for max/min)
    TensorIterator it = TensorIterator::nullary(out, "reduce");
    launch_elementwise<T>(it, FillIdentity<T, Op>{}, "reduce");
    return;
  }
  reduce_2d(P{}, in.data<T>(), inner, M, K, StoreOut<T, typename P::acc_t>{out.data<T>()}, "reduce");
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

void reduce_cuda(ReduceOp op, const Tensor& in, bool inner, const Tensor& out) {
  NORCH_CHECK(in.dtype() == out.dtype(), "reduce: input dtype ", dtype_name(in.dtype()),
              " differs from output dtype ", dtype_name(out.dtype()));
  NORCH_CUDA_DISPATCH_ALL_TYPES(in.dtype(), "reduce", [&] { reduce_typed<scalar_t>(op, in, inner, out); });
}

// A candidate max/min and where it was.
template <typename T>
struct ArgPair {
  T v;
  int64_t i;
};

// Order-free choice between two candidates: NaN beats every number, and equal
// values (or two NaNs) go to the lower index, so any combining order gives
// the CPU's sequential first-occurrence answer. A half-type candidate is held
// as float (exact), so the shuffles move whole words.
template <bool kMax, typename T>
struct ArgPolicy {
  using V = opmath_t<T>;
  using acc_t = ArgPair<V>;
  __device__ acc_t identity() const {
    return {functors::reduce_identity<kMax ? ReduceOp::Max : ReduceOp::Min, V>(), INT64_MAX};
  }
  __device__ acc_t load(T x, int64_t k) const { return {static_cast<V>(x), k}; }
  __device__ acc_t combine(acc_t a, acc_t b) const {
    if constexpr (std::is_floating_point_v<V>) {
      const bool an = a.v != a.v, bn = b.v != b.v;
      if (an || bn) return an && bn ? (a.i < b.i ? a : b) : (an ? a : b);
    }
    if (a.v == b.v) return a.i < b.i ? a : b;
    return (kMax ? b.v > a.v : b.v < a.v) ? b : a;
  }
};

template <typename T>
struct StoreArg {
  T* values;
  int64_t* indices;
  __device__ void operator()(int64_t m, int64_t, ArgPair<opmath_t<T>> v) const {
    indices[m] = v.i;
    if (values) values[m] = static_cast<T>(v.v);
  }
};

template <bool kMax, typename T>
void arg_impl(const Tensor& in, bool inner, const Tensor& values, const Tensor& indices) {
  const int64_t M = inner ? in.sizes()[0] : in.sizes()[1];
  const int64_t K = inner ? in.sizes()[1] : in.sizes()[0];
  StoreArg<T> store{values.defined() ? values.data<T>() : nullptr, indices.data<int64_t>()};
  reduce_2d(ArgPolicy<kMax, T>{}, in.data<T>(), inner, M, K, store, kMax ? "argmax" : "argmin");
}

void arg_reduce_cuda(bool is_max, const Tensor& in, bool inner, const Tensor& values, const Tensor& indices) {
  NORCH_CUDA_DISPATCH_ALL_TYPES(in.dtype(), is_max ? "argmax" : "argmin", [&] {
    if (is_max) arg_impl<true, scalar_t>(in, inner, values, indices);
    else arg_impl<false, scalar_t>(in, inner, values, indices);
  });
}

}  // namespace

NORCH_REGISTER_KERNEL(reduce_stub, CUDA, reduce_cuda);
NORCH_REGISTER_KERNEL(arg_reduce_stub, CUDA, arg_reduce_cuda);

}  // namespace norch::cuda_kernels

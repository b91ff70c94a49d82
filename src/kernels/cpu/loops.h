// CPU loop patterns (STYLE habit 4): a kernel is a scalar functor run by one of
// these. Each has a contiguous fast path, which the compiler vectorizes, and one
// strided path. Never throw from inside a functor: it runs on pool threads (parallel_for).
#pragma once
#include <type_traits>

#include "kernels/functors.h"
#include "norch/tensor/half.h"
#include "norch/tensor/iterator.h"

namespace norch::cpu {

// out = f(a)
template <typename out_t, typename in_t, typename F>
void unary_loop(const TensorIterator& iter, F f) {
  iter.for_each([&](char** ptrs, const int64_t* strides, int64_t n) {
    out_t* out = reinterpret_cast<out_t*>(ptrs[0]);
    const in_t* a = reinterpret_cast<const in_t*>(ptrs[1]);
    if (strides[0] == sizeof(out_t) && strides[1] == sizeof(in_t)) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) out[i] = f(a[i]);
    } else if (strides[0] == sizeof(out_t) && strides[1] == 0) {
      const out_t v = f(a[0]);
      for (int64_t i = 0; i < n; ++i) out[i] = v;
    } else {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<out_t*>(ptrs[0] + i * strides[0]) =
            f(*reinterpret_cast<const in_t*>(ptrs[1] + i * strides[1]));
    }
  });
}

// out = f(a, b)
template <typename out_t, typename in_t, typename F>
void binary_loop(const TensorIterator& iter, F f) {
  iter.for_each([&](char** ptrs, const int64_t* strides, int64_t n) {
    out_t* out = reinterpret_cast<out_t*>(ptrs[0]);
    const in_t* a = reinterpret_cast<const in_t*>(ptrs[1]);
    const in_t* b = reinterpret_cast<const in_t*>(ptrs[2]);
    if (strides[0] == sizeof(out_t) && strides[1] == sizeof(in_t) && strides[2] == sizeof(in_t)) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
    } else if (strides[0] == sizeof(out_t) && strides[1] == sizeof(in_t) && strides[2] == 0) {
      const in_t bv = b[0];
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], bv);
    } else if (strides[0] == sizeof(out_t) && strides[1] == 0 && strides[2] == sizeof(in_t)) {
      const in_t av = a[0];
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) out[i] = f(av, b[i]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<out_t*>(ptrs[0] + i * strides[0]) =
            f(*reinterpret_cast<const in_t*>(ptrs[1] + i * strides[1]),
              *reinterpret_cast<const in_t*>(ptrs[2] + i * strides[2]));
    }
  });
}

// out = f(a, b, c); the operands may differ in type (where's condition is bool).
template <typename out_t, typename a_t, typename b_t, typename c_t, typename F>
void ternary_loop(const TensorIterator& iter, F f) {
  iter.for_each([&](char** ptrs, const int64_t* strides, int64_t n) {
    if (strides[0] == sizeof(out_t) && strides[1] == sizeof(a_t) && strides[2] == sizeof(b_t) &&
        strides[3] == sizeof(c_t)) {
      out_t* out = reinterpret_cast<out_t*>(ptrs[0]);
      const a_t* a = reinterpret_cast<const a_t*>(ptrs[1]);
      const b_t* b = reinterpret_cast<const b_t*>(ptrs[2]);
      const c_t* c = reinterpret_cast<const c_t*>(ptrs[3]);
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i], c[i]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<out_t*>(ptrs[0] + i * strides[0]) =
            f(*reinterpret_cast<const a_t*>(ptrs[1] + i * strides[1]),
              *reinterpret_cast<const b_t*>(ptrs[2] + i * strides[2]),
              *reinterpret_cast<const c_t*>(ptrs[3] + i * strides[3]));
    }
  });
}

// The dtype conversion the CUDA kernels share (kernels/functors.h).
using functors::cast;

// Wraps a scalar functor so a half-type element is computed in float and
// rounded once on the way out (predicates return their bool unrounded).
template <typename T, typename F>
auto in_opmath(F f) {
  if constexpr (is_half_type_v<T>) {
    return [f](auto... a) {
      using R = decltype(f(static_cast<float>(a)...));
      if constexpr (std::is_same_v<R, bool>) return f(static_cast<float>(a)...);
      else return T(f(static_cast<float>(a)...));
    };
  } else {
    return f;
  }
}

}  // namespace norch::cpu

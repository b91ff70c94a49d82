// A plain N-d walk over a shape with several stride sets: the one place the
// gather/scatter/sort kernels step through strided memory.
#pragma once
#include <array>
#include <vector>

#include "norch/tensor/tensor.h"

namespace norch::cpu {

// Calls f(offsets, n, steps) for every row of `sizes` (all dims but the last)
// in row-major order: offsets[k] is the element offset of the row's first
// element under strides[k], and steps[k] the stride along the n-element row.
template <size_t N, typename F>
void for_each_row(const Shape& sizes, const std::array<Shape, N>& strides, F f) {
  int64_t numel = 1;
  for (auto s : sizes) numel *= s;
  if (numel == 0) return;
  if (sizes.empty()) {
    f(std::array<int64_t, N>{}, int64_t(1), std::array<int64_t, N>{});
    return;
  }
  const int64_t last = static_cast<int64_t>(sizes.size()) - 1, inner = sizes[last];
  std::array<int64_t, N> step{};
  for (size_t k = 0; k < N; ++k) step[k] = strides[k][last];
  std::vector<int64_t> pos(last, 0);
  std::array<int64_t, N> off{};
  for (int64_t row = 0; row < numel / inner; ++row) {
    f(off, inner, step);
    for (int64_t d = last - 1; d >= 0; --d) {  // odometer over the outer dims
      ++pos[d];
      for (size_t k = 0; k < N; ++k) off[k] += strides[k][d];
      if (pos[d] < sizes[d]) break;
      for (size_t k = 0; k < N; ++k) off[k] -= strides[k][d] * sizes[d];
      pos[d] = 0;
    }
  }
}

// Calls f(offsets) for every position of `sizes` in row-major order, where
// offsets[k] is the element offset of that position under strides[k].
template <size_t N, typename F>
void for_each_offset(const Shape& sizes, const std::array<Shape, N>& strides, F f) {
  for_each_row<N>(sizes, strides, [&](std::array<int64_t, N> o, int64_t n, const std::array<int64_t, N>& step) {
    for (int64_t i = 0; i < n; ++i) {
      f(o);
      for (size_t k = 0; k < N; ++k) o[k] += step[k];
    }
  });
}

// `t`'s strides with dim `dim` set to 0 (the dim the kernel indexes itself).
inline Shape strides_without(const Tensor& t, int64_t dim) {
  Shape s = t.strides();
  s[dim] = 0;
  return s;
}

}  // namespace norch::cpu

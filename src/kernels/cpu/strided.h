// A plain N-d walk over a shape with several stride sets: the one place the
// gather/scatter/sort kernels step through strided memory.
#pragma once
#include <array>
#include <vector>

#include "norch/tensor/tensor.h"

namespace norch::cpu {

// Calls f(offsets) for every position of `sizes` in row-major order, where
// offsets[k] is the element offset of that position under strides[k].
template <size_t N, typename F>
void for_each_offset(const Shape& sizes, const std::array<Shape, N>& strides, F f) {
  int64_t numel = 1;
  for (auto s : sizes) numel *= s;
  if (numel == 0) return;
  if (sizes.empty()) {
    f(std::array<int64_t, N>{});
    return;
  }
  // The innermost dim runs as a tight loop; the outer dims carry like an odometer.
  const int64_t last = static_cast<int64_t>(sizes.size()) - 1, inner = sizes[last];
  std::array<int64_t, N> step{};
  for (size_t k = 0; k < N; ++k) step[k] = strides[k][last];
  std::vector<int64_t> pos(last, 0);
  std::array<int64_t, N> off{};
  for (int64_t row = 0; row < numel / inner; ++row) {
    std::array<int64_t, N> o = off;
    for (int64_t i = 0; i < inner; ++i) {
      f(o);
      for (size_t k = 0; k < N; ++k) o[k] += step[k];
    }
    for (int64_t d = last - 1; d >= 0; --d) {
      ++pos[d];
      for (size_t k = 0; k < N; ++k) off[k] += strides[k][d];
      if (pos[d] < sizes[d]) break;
      for (size_t k = 0; k < N; ++k) off[k] -= strides[k][d] * sizes[d];
      pos[d] = 0;
    }
  }
}

// `t`'s strides with dim `dim` set to 0 (the dim the kernel indexes itself).
inline Shape strides_without(const Tensor& t, int64_t dim) {
  Shape s = t.strides();
  s[dim] = 0;
  return s;
}

}  // namespace norch::cpu

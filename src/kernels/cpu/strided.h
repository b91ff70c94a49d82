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
  const int64_t ndim = static_cast<int64_t>(sizes.size());
  std::vector<int64_t> pos(ndim, 0);
  std::array<int64_t, N> off{};
  for (int64_t n = 0; n < numel; ++n) {
    f(off);
    for (int64_t d = ndim - 1; d >= 0; --d) {
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

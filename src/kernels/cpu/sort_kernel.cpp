// CPU sort along a dim (full or the first k, for topk) and unique.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "kernels/cpu/strided.h"
#include "kernels/select.h"
#include "norch/ops/copy.h"

namespace norch::cpu {
namespace {

// PyTorch orders NaN above every number, in both directions.
template <typename T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  else return false;
}
template <typename T>
bool less_nan_last(T a, T b) { return (!is_nan(a) && is_nan(b)) || a < b; }

template <typename T>
void sort_impl(const Tensor& values, const Tensor& indices, const Tensor& self, int64_t dim, bool descending,
               int64_t k) {
  const int64_t n = self.sizes()[dim];
  const T* s = self.data<T>();
  T* v = values.data<T>();
  int64_t* ix = indices.data<int64_t>();
  const int64_t ss = self.strides()[dim], vs = values.strides()[dim], is = indices.strides()[dim];
  Shape outer = self.sizes();
  outer[dim] = 1;
  std::vector<int64_t> order(n);
  for_each_offset<3>(outer, {self.strides(), values.strides(), indices.strides()},
                     [&](const std::array<int64_t, 3>& off) {
                       const T* row = s + off[0];
                       std::iota(order.begin(), order.end(), 0);
                       // Ties broken by position: the same order as a stable sort.
                       auto before = [&](int64_t a, int64_t b) {
                         const T x = row[a * ss], y = row[b * ss];
                         if (descending ? less_nan_last(y, x) : less_nan_last(x, y)) return true;
                         if (descending ? less_nan_last(x, y) : less_nan_last(y, x)) return false;
                         return a < b;
                       };
                       // Only the first k are needed (topk): a partial sort is O(n log k).
                       if (k < n) std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
                       else std::sort(order.begin(), order.end(), before);
                       for (int64_t i = 0; i < k; ++i) {
                         v[off[1] + i * vs] = row[order[i] * ss];
                         ix[off[2] + i * is] = order[i];
                       }
                     });
}

void sort_kernel(const Tensor& values, const Tensor& indices, const Tensor& self, int64_t dim, bool descending,
                 int64_t k) {
  NORCH_DISPATCH_ALL_TYPES(self.dtype(), "sort",
                           [&] { sort_impl<scalar_t>(values, indices, self, dim, descending, k); });
}

template <typename T>
void unique_impl(const Tensor& self, Tensor& values, Tensor& inverse, Tensor& counts) {
  const Tensor c = contiguous(self);
  const T* p = c.data<T>();
  const int64_t n = c.numel();
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return less_nan_last(p[a], p[b]); });
  std::vector<T> uniq;
  std::vector<int64_t> cnt;
  inverse = empty(self.sizes(), TensorOptions(ScalarType::Int64, Device()));
  int64_t* inv = inverse.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const T x = p[order[i]];
    // NaNs are all distinct from each other, as in PyTorch.
    if (uniq.empty() || !(uniq.back() == x)) {
      uniq.push_back(x);
      cnt.push_back(0);
    }
    cnt.back() += 1;
    inv[order[i]] = static_cast<int64_t>(uniq.size()) - 1;
  }
  const int64_t u = static_cast<int64_t>(uniq.size());
  values = empty({u}, TensorOptions(self.dtype(), Device()));
  counts = empty({u}, TensorOptions(ScalarType::Int64, Device()));
  std::copy(uniq.begin(), uniq.end(), values.data<T>());
  std::copy(cnt.begin(), cnt.end(), counts.data<int64_t>());
}

void unique_kernel(const Tensor& self, Tensor& values, Tensor& inverse, Tensor& counts) {
  NORCH_DISPATCH_ALL_TYPES(self.dtype(), "unique", [&] { unique_impl<scalar_t>(self, values, inverse, counts); });
}

}  // namespace
NORCH_REGISTER_KERNEL(sort_stub, CPU, sort_kernel);
NORCH_REGISTER_KERNEL(unique_stub, CPU, unique_kernel);
}  // namespace norch::cpu

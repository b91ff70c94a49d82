// CPU sort along a dim (full or the first k, for topk) and unique.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "kernels/cpu/strided.h"
#include "kernels/select.h"

namespace norch::cpu {
namespace {

// PyTorch orders NaN above every number, in both directions.
template <typename T>
bool is_nan(T v) {
  if constexpr (is_floating_type_v<T>) return v != v;
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
  NORCH_DISPATCH_ALL_TYPES_AND_HALF(self.dtype(), "sort",
                           [&] { sort_impl<scalar_t>(values, indices, self, dim, descending, k); });
}

template <typename T>
void unique_impl(const Tensor& self, Tensor& first, Tensor& inverse, Tensor& counts) {
  const T* p = self.data<T>();
  const int64_t n = self.sizes()[0], m = self.sizes()[1];
  auto row_less = [&](int64_t a, int64_t b) {
    for (int64_t j = 0; j < m; ++j) {
      const T x = p[a * m + j], y = p[b * m + j];
      if (less_nan_last(x, y)) return true;
      if (less_nan_last(y, x)) return false;
    }
    return false;
  };
  // NaNs compare unequal to everything, themselves included, as in PyTorch.
  auto row_equal = [&](int64_t a, int64_t b) {
    for (int64_t j = 0; j < m; ++j)
      if (!(p[a * m + j] == p[b * m + j])) return false;
    return true;
  };
  std::vector<int64_t> order(n), reps, cnt;
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), row_less);
  inverse = empty({n}, TensorOptions(ScalarType::Int64, Device()));
  int64_t* inv = inverse.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    if (reps.empty() || !row_equal(reps.back(), order[i])) {
      reps.push_back(order[i]);
      cnt.push_back(0);
    }
    cnt.back() += 1;
    inv[order[i]] = static_cast<int64_t>(reps.size()) - 1;
  }
  const int64_t u = static_cast<int64_t>(reps.size());
  first = empty({u}, TensorOptions(ScalarType::Int64, Device()));
  counts = empty({u}, TensorOptions(ScalarType::Int64, Device()));
  std::copy(reps.begin(), reps.end(), first.data<int64_t>());
  std::copy(cnt.begin(), cnt.end(), counts.data<int64_t>());
}

void unique_kernel(const Tensor& self, Tensor& first, Tensor& inverse, Tensor& counts) {
  NORCH_DISPATCH_ALL_TYPES_AND_HALF(self.dtype(), "unique", [&] { unique_impl<scalar_t>(self, first, inverse, counts); });
}

}  // namespace
NORCH_REGISTER_KERNEL(sort_stub, CPU, sort_kernel);
NORCH_REGISTER_KERNEL(unique_stub, CPU, unique_kernel);
}  // namespace norch::cpu

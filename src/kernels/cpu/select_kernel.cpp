// CPU gather / scatter / nonzero: plain strided loops over the index tensor.
#include "kernels/cpu/strided.h"
#include "kernels/select.h"

namespace norch::cpu {
namespace {

template <typename T>
void gather_impl(const Tensor& out, const Tensor& self, int64_t dim, const Tensor& index) {
  T* o = out.data<T>();
  const T* s = self.data<T>();
  const int64_t* ix = index.data<int64_t>();
  const int64_t st = self.strides()[dim];
  for_each_row<3>(index.sizes(), {out.strides(), strides_without(self, dim), index.strides()},
                  [&](const std::array<int64_t, 3>& off, int64_t n, const std::array<int64_t, 3>& step) {
                    if (step[2] == 0) {
                      // One index for the whole row (index_select, flip): a strided row copy.
                      const T* src = s + off[1] + ix[off[2]] * st;
                      T* dst = o + off[0];
                      for (int64_t i = 0; i < n; ++i) dst[i * step[0]] = src[i * step[1]];
                    } else {
                      for (int64_t i = 0; i < n; ++i)
                        o[off[0] + i * step[0]] = s[off[1] + i * step[1] + ix[off[2] + i * step[2]] * st];
                    }
                  });
}

void gather_kernel(const Tensor& out, const Tensor& self, int64_t dim, const Tensor& index) {
  NORCH_DISPATCH_ALL_TYPES_AND_HALF(self.dtype(), "gather", [&] { gather_impl<scalar_t>(out, self, dim, index); });
}

template <typename T>
void scatter_impl(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, bool accumulate) {
  T* s = self.data<T>();
  const T* v = src.data<T>();
  const int64_t* ix = index.data<int64_t>();
  const int64_t st = self.strides()[dim];
  // Sequential on purpose: with repeated indices the last write wins (plain
  // scatter) and sums stay deterministic (scatter_add).
  for_each_offset<3>(index.sizes(), {strides_without(self, dim), index.strides(), src.strides()},
                     [&](const std::array<int64_t, 3>& off) {
                       T& dst = s[off[0] + ix[off[1]] * st];
                       if (accumulate) dst = static_cast<T>(dst + v[off[2]]);
                       else dst = v[off[2]];
                     });
}

void scatter_kernel(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, bool accumulate) {
  NORCH_DISPATCH_ALL_TYPES_AND_HALF(self.dtype(), "scatter", [&] { scatter_impl<scalar_t>(self, dim, index, src, accumulate); });
}

template <typename T>
Tensor nonzero_impl(const Tensor& c) {
  const T* p = c.data<T>();
  const int64_t n = c.numel(), ndim = c.dim();
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) count += p[i] != T(0);
  Tensor out = empty({count, ndim}, TensorOptions(ScalarType::Int64, Device()));
  int64_t* o = out.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    if (p[i] == T(0)) continue;
    int64_t rem = i;
    for (int64_t d = ndim - 1; d >= 0; --d) {
      o[d] = rem % c.sizes()[d];
      rem /= c.sizes()[d];
    }
    o += ndim;
  }
  return out;
}

Tensor nonzero_kernel(const Tensor& self) {
  return NORCH_DISPATCH_ALL_TYPES_AND_HALF(self.dtype(), "nonzero", [&] { return nonzero_impl<scalar_t>(self); });
}

}  // namespace
NORCH_REGISTER_KERNEL(gather_stub, CPU, gather_kernel);
NORCH_REGISTER_KERNEL(scatter_stub, CPU, scatter_kernel);
NORCH_REGISTER_KERNEL(nonzero_stub, CPU, nonzero_kernel);
}  // namespace norch::cpu

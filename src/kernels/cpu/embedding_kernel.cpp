// CPU kernels for embedding lookup and its scatter-add backward.
#include <algorithm>
#include <cstring>

#include "kernels/nn_fused.h"
#include "norch/tensor/dtype.h"
#include "norch/tensor/parallel.h"

namespace norch::cpu {
namespace {

void embedding_kernel(const Tensor& weight, const Tensor& indices, const Tensor& out) {
  const int64_t V = weight.size(0), D = weight.size(1), L = indices.numel();
  const int64_t* idx = indices.data<int64_t>();
  for (int64_t i = 0; i < L; ++i) NORCH_CHECK_INDEX(idx[i] >= 0 && idx[i] < V, "index out of range in self");
  const size_t row = static_cast<size_t>(D) * weight.element_size();
  const char* w = static_cast<const char*>(weight.data_ptr());
  char* o = static_cast<char*>(out.data_ptr());
  parallel_for(L, grain_for(L, L * D, 65536), [&](int64_t b_, int64_t e_) {
    for (int64_t i = b_; i < e_; ++i) std::memcpy(o + i * row, w + idx[i] * row, row);
  });
}

// Serial: several lookups of one row add into the same output row.
template <typename T>
void embedding_backward_impl(const T* g, const int64_t* idx, int64_t L, int64_t D, int64_t pad, T* out, int64_t V) {
  std::fill(out, out + V * D, T(0));
  for (int64_t i = 0; i < L; ++i) {
    if (idx[i] == pad) continue;
    T* row = out + idx[i] * D;
    const T* gr = g + i * D;
    for (int64_t d = 0; d < D; ++d) row[d] += gr[d];
  }
}

void embedding_backward_kernel(const Tensor& grad, const Tensor& indices, int64_t padding_idx, const Tensor& out) {
  NORCH_DISPATCH_FLOATING_TYPES_AND_HALF(grad.dtype(), "embedding_backward", [&] {
    embedding_backward_impl(grad.data<scalar_t>(), indices.data<int64_t>(), indices.numel(), out.size(1),
                            padding_idx, out.data<scalar_t>(), out.size(0));
  });
}

}  // namespace

NORCH_REGISTER_KERNEL(embedding_stub, CPU, embedding_kernel);
NORCH_REGISTER_KERNEL(embedding_backward_stub, CPU, embedding_backward_kernel);

}  // namespace norch::cpu

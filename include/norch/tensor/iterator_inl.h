// Template bodies of TensorIterator::for_each; included by iterator.h only.
#pragma once
#include "norch/tensor/parallel.h"

namespace norch {

template <typename F>
void TensorIterator::serial_for_each(F&& fn, int64_t begin, int64_t end) const {
  const int nt = ntensors();
  char* ptrs[8];
  int64_t inner_strides[8];
  if (ndim_ == 0) {
    for (int k = 0; k < nt; ++k) { ptrs[k] = data_[k]; inner_strides[k] = 0; }
    if (begin < end) fn(ptrs, inner_strides, int64_t{1});
    return;
  }
  const int nd = ndim();
  const int64_t inner = shape_[nd - 1];
  for (int k = 0; k < nt; ++k) inner_strides[k] = strides_[k][nd - 1];
  if (nd == 1) {
    // One run (contiguous or coalesced operands): no multi-index, whose integer
    // divisions cost more than a small tensor's arithmetic.
    for (int k = 0; k < nt; ++k) ptrs[k] = data_[k] + begin * inner_strides[k];
    if (begin < end) fn(ptrs, inner_strides, end - begin);
    return;
  }
  // Multi-index of `begin`, innermost last.
  int64_t counter[16];
  int64_t rem = begin;
  for (int d = nd - 1; d >= 0; --d) {
    counter[d] = rem % shape_[d];
    rem /= shape_[d];
  }
  int64_t idx = begin;
  while (idx < end) {
    const int64_t n = std::min(inner - counter[nd - 1], end - idx);
    for (int k = 0; k < nt; ++k) {
      char* p = data_[k];
      for (int d = 0; d < nd; ++d) p += counter[d] * strides_[k][d];
      ptrs[k] = p;
    }
    fn(ptrs, inner_strides, n);
    idx += n;
    counter[nd - 1] += n;
    for (int d = nd - 1; d > 0 && counter[d] >= shape_[d]; --d) {
      counter[d] = 0;
      counter[d - 1] += 1;
    }
  }
}

template <typename F>
void TensorIterator::for_each(F&& fn, int64_t grain) const {
  const int64_t n = numel_;
  if (n == 0) return;
  // The size test first: a small op does not ask OpenMP for its thread count.
  if (n < grain) {
    serial_for_each(fn, 0, n);
    return;
  }
  const int threads = get_num_threads();
  if (threads <= 1 || in_parallel_region()) {
    serial_for_each(fn, 0, n);
    return;
  }
  // Up to four chunks per thread (parallel_for), so a helper the scheduler stalls holds
  // back little; edges on 64-element boundaries keep each chunk's writes in its own cache lines.
  const int64_t chunks = std::min<int64_t>(int64_t{4} * threads, (n + grain - 1) / grain);
  parallel_for(chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      const int64_t b = (n * c / chunks) & ~int64_t{63};
      const int64_t e = c + 1 == chunks ? n : ((n * (c + 1) / chunks) & ~int64_t{63});
      if (b < e) serial_for_each(fn, b, e);
    }
  });
}

}  // namespace norch

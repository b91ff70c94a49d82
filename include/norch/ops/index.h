// norch/ops/index.h — Python-style indexing: a[1, ::2, None, ..., mask, idx].
// Basic indices (int, slice, None, Ellipsis) produce views; tensor indices
// (integer or bool) follow NumPy/PyTorch advanced-indexing rules and copy.
// Deviation from PyTorch (DESIGN principle 1): a 0-d tensor indexed by 0 or -1
// returns itself, so `loss[0]` works; any other index on a 0-d tensor raises
// IndexError.
#pragma once
#include <optional>
#include <vector>

#include "norch/tensor/tensor.h"

namespace norch {

struct TensorIndex {
  enum class Kind { Int, Slice, None, Ellipsis, Tensor };
  Kind kind = Kind::None;
  int64_t integer = 0;
  std::optional<int64_t> start, stop;
  int64_t step = 1;
  Tensor tensor;

  static TensorIndex from_int(int64_t i) { TensorIndex t; t.kind = Kind::Int; t.integer = i; return t; }
  static TensorIndex from_slice(std::optional<int64_t> a, std::optional<int64_t> b, int64_t s) {
    TensorIndex t; t.kind = Kind::Slice; t.start = a; t.stop = b; t.step = s; return t;
  }
  static TensorIndex none() { TensorIndex t; t.kind = Kind::None; return t; }
  static TensorIndex ellipsis() { TensorIndex t; t.kind = Kind::Ellipsis; return t; }
  static TensorIndex from_tensor(const Tensor& x) { TensorIndex t; t.kind = Kind::Tensor; t.tensor = x; return t; }
};

// self[indices]
Tensor index(const Tensor& self, const std::vector<TensorIndex>& indices);
// self[indices] = value (value broadcast to the indexed shape), or += with
// accumulate (repeated positions then add up). In place.
Tensor& index_put_(Tensor& self, const std::vector<TensorIndex>& indices, const Tensor& value,
                   bool accumulate = false);
// Out of place: a copy of self (with history) with index_put_ applied.
Tensor index_put(const Tensor& self, const std::vector<TensorIndex>& indices, const Tensor& value,
                 bool accumulate = false);

}  // namespace norch

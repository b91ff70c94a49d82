// norch/ops/select.h — selection by index tensors and masks, sorting, one_hot.
// All of these copy (none returns a view). Index tensors are int64, as in PyTorch.
#pragma once
#include <optional>
#include <tuple>

#include "norch/tensor/tensor.h"

namespace norch {

// out[i][j] = a[i][index[i][j]] (dim=1); out has index's shape.
Tensor gather(const Tensor& a, int64_t dim, const Tensor& index);
// a with a[i][index[i][j]] = src[i][j] (dim=1); out of place. Repeated indices: last write wins.
Tensor scatter(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter(const Tensor& a, int64_t dim, const Tensor& index, const Scalar& value);
// a with a[i][index[i][j]] += src[i][j] (dim=1).
Tensor scatter_add(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src);
Tensor& scatter_(Tensor& a, int64_t dim, const Tensor& index, const Tensor& src);
Tensor& scatter_(Tensor& a, int64_t dim, const Tensor& index, const Scalar& value);
Tensor& scatter_add_(Tensor& a, int64_t dim, const Tensor& index, const Tensor& src);
// Entries of a along dim picked by a 1-d index.
Tensor index_select(const Tensor& a, int64_t dim, const Tensor& index);
// a with a.select(dim, index[i]) += alpha * source.select(dim, i).
Tensor index_add(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& source,
                 const Scalar& alpha = Scalar(1));
Tensor& index_add_(Tensor& a, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha = Scalar(1));
// value is a 0-d tensor (a Python number arrives as a wrapped number).
Tensor masked_fill(const Tensor& a, const Tensor& mask, const Tensor& value);
Tensor& masked_fill_(Tensor& a, const Tensor& mask, const Tensor& value);
Tensor masked_select(const Tensor& a, const Tensor& mask);  // 1-d
Tensor nonzero(const Tensor& a);                             // (n, a.dim()) int64
TensorList nonzero_tuple(const Tensor& a);                   // a.dim() tensors of shape (n,)

std::tuple<Tensor, Tensor> sort(const Tensor& a, int64_t dim = -1, bool descending = false, bool stable = false);
Tensor argsort(const Tensor& a, int64_t dim = -1, bool descending = false, bool stable = false);
std::tuple<Tensor, Tensor> topk(const Tensor& a, int64_t k, int64_t dim = -1, bool largest = true, bool sorted = true);
// Distinct values of the flattened input (always sorted), the inverse map
// (a's shape) and the count of each value; with dim, distinct slices along dim
// in lexicographic order, the inverse map (a.size(dim),) and counts.
std::tuple<Tensor, Tensor, Tensor> unique(const Tensor& a, bool sorted = true, std::optional<int64_t> dim = std::nullopt);

// int64 tensor (..., num_classes); num_classes = -1 infers max(a) + 1.
Tensor one_hot(const Tensor& a, int64_t num_classes = -1);

// Op-side helper for index checks: a contiguous int64 CPU copy of `index` with
// negative entries wrapped (when allow_negative). `bad` receives the first
// entry outside [-size, size) (or [0, size)); the copy is then meaningless.
Tensor checked_index_cpu(const Tensor& index, int64_t size, bool allow_negative, std::optional<int64_t>& bad);

}  // namespace norch

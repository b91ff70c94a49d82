// norch/ops/shape.h — views and shape ops. Every function here except
// reshape-of-non-viewable and the copying join ops listed below returns a view:
// it shares storage and the version counter with its input (STYLE habit 7).
#pragma once
#include <optional>

#include "norch/tensor/tensor.h"

namespace norch {

Tensor view(const Tensor& a, Shape shape);                 // one -1 allowed
Tensor reshape(const Tensor& a, Shape shape);              // a view when possible, else a copy
Tensor flatten(const Tensor& a, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor unflatten(const Tensor& a, int64_t dim, Shape sizes);
Tensor expand(const Tensor& a, const Shape& shape);        // -1 keeps a size
Tensor expand_as(const Tensor& a, const Tensor& other);
Tensor permute(const Tensor& a, const Shape& dims);
Tensor transpose(const Tensor& a, int64_t dim0, int64_t dim1);
Tensor t(const Tensor& a);                                 // 0-, 1- or 2-d
Tensor mT(const Tensor& a);                                // transpose of the last two dims
Tensor squeeze(const Tensor& a);
Tensor squeeze(const Tensor& a, const Shape& dims);
Tensor unsqueeze(const Tensor& a, int64_t dim);
Tensor narrow(const Tensor& a, int64_t dim, int64_t start, int64_t length);
// a[start:end:step] along dim (PyTorch's slice; start/end are clamped).
Tensor slice(const Tensor& a, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end, int64_t step = 1);
Tensor select(const Tensor& a, int64_t dim, int64_t index);
Tensor as_strided(const Tensor& a, const Shape& sizes, const Shape& strides, std::optional<int64_t> offset = std::nullopt);
Tensor movedim(const Tensor& a, int64_t source, int64_t destination);

// Gradients of select/slice: zeros of `sizes` with `g` written into the view.
// Ops of their own so that double backward works through them.
Tensor select_backward(const Tensor& g, const Shape& sizes, int64_t dim, int64_t index);
Tensor slice_backward(const Tensor& g, const Shape& sizes, int64_t dim, int64_t start, int64_t end, int64_t step);

// Joining and splitting (src/ops/join.cpp). split/chunk/unbind return views;
// cat/stack/flip/roll/repeat/tile/tril/triu return fresh tensors.
Tensor cat(const TensorList& tensors, int64_t dim = 0);
Tensor stack(const TensorList& tensors, int64_t dim = 0);
TensorList split(const Tensor& a, int64_t split_size, int64_t dim = 0);
TensorList split_with_sizes(const Tensor& a, const Shape& split_sizes, int64_t dim = 0);
TensorList chunk(const Tensor& a, int64_t chunks, int64_t dim = 0);
TensorList unbind(const Tensor& a, int64_t dim = 0);
Tensor flip(const Tensor& a, const Shape& dims);
// dims empty: roll the flattened tensor by shifts[0] and restore the shape.
Tensor roll(const Tensor& a, const Shape& shifts, const Shape& dims = {});
Tensor repeat(const Tensor& a, const Shape& repeats);
Tensor tile(const Tensor& a, const Shape& dims);
Tensor tril(const Tensor& a, int64_t diagonal = 0);
Tensor triu(const Tensor& a, int64_t diagonal = 0);

// Infers a -1 in `shape` from numel; raises PyTorch's error when impossible.
Shape infer_size(const Shape& shape, int64_t numel);

}  // namespace norch

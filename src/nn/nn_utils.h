// Helpers shared by the conv, pooling and resampling ops in src/nn (private to the core).
#pragma once
#include <string>

#include "kernels/conv.h"
#include "norch/tensor/size_math.h"
#include "norch/tensor/tensor.h"

namespace norch::nn_detail {

// PyTorch's int-or-tuple parameters: one value for every spatial dim, or one per dim.
Shape expand_param(const Shape& v, int64_t n, const char* name, const char* op);

// Window geometry with checked arithmetic: padding, dilation and kernel sizes come
// from the user and may be as large as int64 allows.
// in + 2 * pad, the padded length of a dim.
inline int64_t padded_length(int64_t in, int64_t pad, const char* op) {
  return checked_add(in, checked_mul(2, pad, op), op);
}
// dilation * (kernel - 1) + 1, the span of one window.
inline int64_t window_span(int64_t kernel, int64_t dilation, const char* op) {
  return checked_add(checked_mul(dilation, kernel - 1, op), 1, op);
}

// "[2, 3, 4]": shapes in the bracketed form PyTorch's conv/pool messages use.
std::string bracket(const Shape& s);

// Separable linear map of the last two dims (Note [Separable resampling]); x is
// [..., rows.in_size, cols.in_size]. Differentiable to any order: the backward of
// the map is its adjoint and the backward of the adjoint is the map.
// `name` and `adjoint_name` label the backward nodes of the map and of its adjoint.
Tensor resample2d(const Tensor& x, const TapsPtr& rows, const TapsPtr& cols, const char* name,
                  const char* adjoint_name);

// Runs a 2-d op on a 1-d problem: [N, C, L] -> [N, C, 1, L] and back.
inline Shape one_d_param(const Shape& v, int64_t fill) {
  Shape r{fill};
  r.insert(r.end(), v.begin(), v.end());
  return r;
}

}  // namespace norch::nn_detail

// norch/tensor/size_math.h — overflow-checked arithmetic on sizes, strides and
// byte counts. Every place that multiplies or adds sizes goes through here, so a
// hostile shape raises PyTorch's error instead of wrapping into a small buffer.
//
// Note [Size invariant]: a tensor's sizes are non-negative, its dimension count is
// at most kMaxTensorDims, and the product of max(size, 1) over its dims fits in
// int64. The invariant is checked where geometry is created (empty, empty_strided,
// from_blob, make_view), so the product of any subset of a tensor's sizes, its
// numel and its contiguous strides can then be computed with plain arithmetic.
// Zero-sized dims count as 1 so that a tensor with a 0 somewhere still cannot hide
// an overflowing product of its other dims (PyTorch refuses the same shapes when it
// computes their strides).
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "norch/error.h"

namespace norch {

// PyTorch's limit for reductions and kernels' offset tables; norch applies it to
// every tensor so that fixed-size dimension arrays can never be overrun.
constexpr int64_t kMaxTensorDims = 64;

// Each returns true when the exact result does not fit; *out then holds the
// wrapped value (defined behaviour: the builtins compute in infinite precision).
inline bool mul_overflows(int64_t a, int64_t b, int64_t* out) { return __builtin_mul_overflow(a, b, out); }
inline bool add_overflows(int64_t a, int64_t b, int64_t* out) { return __builtin_add_overflow(a, b, out); }

// Throwing forms for single products: "integer multiplication overflow", as PyTorch.
int64_t checked_mul(int64_t a, int64_t b, const char* what = nullptr);
int64_t checked_add(int64_t a, int64_t b, const char* what = nullptr);

// "[2, 3]": PyTorch prints IntArrayRef this way in the messages copied below.
std::string bracket_list(const std::vector<int64_t>& v);

// The product of max(size, 1), or false when it overflows int64 (Note [Size invariant]).
bool padded_product(const std::vector<int64_t>& sizes, int64_t* out);

// Number of elements; raises "numel: integer multiplication overflow" when the
// shape breaks Note [Size invariant]. Negative sizes raise as in empty().
int64_t compute_numel(const std::vector<int64_t>& sizes);

// Bytes of a contiguous tensor of `sizes`; raises "Storage size calculation
// overflowed with sizes=[...]" when that exceeds int64.
int64_t storage_nbytes(const std::vector<int64_t>& sizes, size_t itemsize);

// Bytes a strided layout reaches: (offset + 1 + sum((size - 1) * stride)) * itemsize,
// 0 when any size is 0. Raises "Storage size calculation overflowed with sizes=[...]
// and strides=[...]" as PyTorch's computeStorageNbytes. Strides must be >= 0.
int64_t storage_nbytes(const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides, size_t itemsize,
                       int64_t storage_offset = 0);

// Refuses a negative size, more than kMaxTensorDims dims, or a shape whose
// padded product overflows. The checks every new geometry passes.
void check_shape(const std::vector<int64_t>& sizes);

// A double (an output size computed from a scale factor) as int64, raising
// PyTorch's "value cannot be converted to type int64_t without overflow" for NaN,
// infinities and values outside int64; the cast itself would be undefined there.
int64_t checked_double_to_int64(double v);

}  // namespace norch

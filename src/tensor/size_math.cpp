// Overflow-checked size arithmetic (norch/tensor/size_math.h). The messages are
// PyTorch's, so code that matches on them behaves the same.
#include "norch/tensor/size_math.h"

#include <cmath>
#include <sstream>

namespace norch {

int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (mul_overflows(a, b, &r)) NORCH_ERROR(what ? what : "", what ? ": " : "", "integer multiplication overflow");
  return r;
}

int64_t checked_add(int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (add_overflows(a, b, &r)) NORCH_ERROR(what ? what : "", what ? ": " : "", "integer addition overflow");
  return r;
}

std::string bracket_list(const std::vector<int64_t>& v) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << ']';
  return os.str();
}

bool padded_product(const std::vector<int64_t>& sizes, int64_t* out) {
  int64_t n = 1;
  for (auto s : sizes)
    if (s > 1 && mul_overflows(n, s, &n)) return false;
  *out = n;
  return true;
}

void check_shape(const std::vector<int64_t>& sizes) {
  for (auto s : sizes)
    NORCH_CHECK(s >= 0, "Trying to create tensor with negative dimension ", s, ": ", bracket_list(sizes));
  NORCH_CHECK(static_cast<int64_t>(sizes.size()) <= kMaxTensorDims, "only tensors with up to ", kMaxTensorDims,
              " dims are supported, got ", sizes.size());
  int64_t n;
  NORCH_CHECK(padded_product(sizes, &n), "numel: integer multiplication overflow");
}

int64_t compute_numel(const std::vector<int64_t>& sizes) {
  check_shape(sizes);
  int64_t n = 1;
  for (auto s : sizes) n *= s;  // bounded by the padded product just checked
  return n;
}

int64_t storage_nbytes(const std::vector<int64_t>& sizes, size_t itemsize) {
  for (auto s : sizes)
    NORCH_CHECK(s >= 0, "Trying to create tensor with negative dimension ", s, ": ", bracket_list(sizes));
  int64_t n;
  bool overflow = !padded_product(sizes, &n);
  // An empty tensor needs no bytes: only its padded product must fit (PyTorch
  // accepts zeros(0, 2**62) and refuses zeros(2**62, 2**62, 0)).
  bool empty = false;
  for (auto s : sizes) empty |= s == 0;
  int64_t bytes = 0;
  if (!empty) overflow |= mul_overflows(n, static_cast<int64_t>(itemsize), &bytes);
  NORCH_CHECK(!overflow, "Storage size calculation overflowed with sizes=", bracket_list(sizes));
  return bytes;
}

int64_t storage_nbytes(const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides, size_t itemsize,
                       int64_t storage_offset) {
  for (auto s : sizes)
    if (s == 0) return 0;
  int64_t n;
  bool overflow = add_overflows(storage_offset, 1, &n);
  for (size_t i = 0; i < sizes.size(); ++i) {
    int64_t span;
    overflow |= mul_overflows(strides[i], sizes[i] - 1, &span);
    overflow |= add_overflows(n, span, &n);
  }
  overflow |= mul_overflows(n, static_cast<int64_t>(itemsize), &n);
  NORCH_CHECK(!overflow, "Storage size calculation overflowed with sizes=", bracket_list(sizes),
              " and strides=", bracket_list(strides));
  return n;
}

int64_t checked_double_to_int64(double v) {
  // 2^63 is exactly representable; every double below it converts without UB.
  NORCH_CHECK(std::isfinite(v) && v >= -9223372036854775808.0 && v < 9223372036854775808.0,
              "value cannot be converted to type int64_t without overflow");
  return static_cast<int64_t>(v);
}

}  // namespace norch

// TensorIterator's tensor-layer half: the promotion and broadcasting rules ops
// share, and the geometry kernels see (byte strides, coalescing). build() and
// output(), which cast and copy, are in src/ops/iterator_build.cpp (see iterator.h).
#include "norch/tensor/iterator.h"

#include <omp.h>

#include "norch/debug.h"

namespace norch {

namespace {
int g_num_threads = 0;  // 0: OpenMP's default
}
int get_num_threads() { return g_num_threads > 0 ? g_num_threads : omp_get_max_threads(); }
void set_num_threads(int n) {
  NORCH_CHECK_VALUE(n > 0, "set_num_threads expects a positive integer, got ", n);
  g_num_threads = n;
  omp_set_num_threads(n);
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op_name) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    NORCH_CHECK(da == db || da == 1 || db == 1, op_name, ": the size of tensor a (", da,
                ") must match the size of tensor b (", db, ") at non-singleton dimension ", i,
                "; shapes ", a, " and ", b, " cannot be broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

ScalarType result_type(const TensorList& tensors) {
  // Three priority groups, as in PyTorch: tensors with dims, 0-d tensors, wrapped numbers.
  int have[3] = {0, 0, 0};
  ScalarType group[3] = {ScalarType::Bool, ScalarType::Bool, ScalarType::Bool};
  for (const auto& t : tensors) {
    if (!t.defined()) continue;
    int g = t.impl()->is_wrapped_number ? 2 : (t.dim() == 0 ? 1 : 0);
    ScalarType dt = t.dtype();
    if (g == 2 && dt == ScalarType::Float64) dt = default_dtype();  // Python floats are "the default float"
    group[g] = have[g] ? promote_types(group[g], dt) : dt;
    have[g] = 1;
  }
  ScalarType result = ScalarType::Bool;
  bool any = false;
  for (int g = 0; g < 3; ++g) {
    if (!have[g]) continue;
    if (!any) {
      result = group[g];
      any = true;
    } else if (category(group[g]) > category(result)) {
      result = promote_types(result, group[g]);
      // A weaker participant only contributes its category, at its own width.
      if (g == 2 && is_floating_point(group[g])) result = default_dtype();
      else if (g == 2) result = group[g];
    }
  }
  return result;
}

void raise_device_mismatch(const char* op, const Device& a, const Device& b) {
  NORCH_ERROR("Expected all tensors to be on the same device, but found at least two devices, ", a.str(), " and ",
              b.str(), "! (when checking arguments for ", op, ")");
}

void check_same_device(const char* op, const TensorList& tensors) {
  const Tensor* first = nullptr;
  for (const auto& t : tensors) {
    if (!t.defined()) continue;
    if (!first) first = &t;
    else if (t.device() != first->device()) raise_device_mismatch(op, first->device(), t.device());
  }
}

bool can_cast(ScalarType from, ScalarType to) { return category(from) <= category(to); }

ScalarType result_type(const Tensor& a, const Scalar& s) { return result_type({a, scalar_to_tensor(s)}); }

bool TensorIterator::is_contiguous() const {
  if (ndim_ > 1) return false;
  if (ndim_ == 0) return true;
  for (int k = 0; k < ntensors(); ++k)
    if (strides_[k][0] != element_sizes_[k]) return false;
  return true;
}

TensorIterator TensorIterator::nullary(const Tensor& out, const char* op_name) {
  TensorIterator it;
  it.device_ = out.device();
  it.common_dtype_ = out.dtype();
  it.output_ = out;
  it.ntensors_ = 1;
  const Tensor* ops[1] = {&out};
  it.compute_geometry(ops, out.sizes(), op_name);
  it.trace(op_name, out.sizes(), out.dtype());
  return it;
}

void TensorIterator::compute_geometry(const Tensor* const ops[], const Shape& shape, const char* op_name) {
  const int nd = static_cast<int>(shape.size());
  NORCH_CHECK(nd <= kMaxDims, op_name, ": tensors with more than ", kMaxDims, " dimensions are not supported");
  numel_ = 1;
  for (auto s : shape) numel_ *= s;
  // Byte strides of each operand over the full shape; broadcast dims step by 0, and
  // so do dims of size <= 1, which are never stepped and whose element stride may
  // be any value (as_strided), so it is not multiplied by the element size.
  int64_t full[kMaxOperands][kMaxDims];
  for (int k = 0; k < ntensors_; ++k) {
    const Tensor& t = *ops[k];
    const int off = nd - static_cast<int>(t.dim());
    const int64_t es = static_cast<int64_t>(t.element_size());
    for (int d = 0; d < off; ++d) full[k][d] = 0;
    for (int d = 0; d < t.dim(); ++d)
      full[k][off + d] = t.sizes()[d] <= 1 ? 0 : t.strides()[d] * es;
    element_sizes_[k] = es;
    data_[k] = static_cast<char*>(t.data_ptr());
  }
  coalesce(shape, full);
}

// Merges dim d into the previous one when every operand steps over both as one.
void TensorIterator::coalesce(const Shape& shape, const int64_t (*full)[kMaxDims]) {
  const int nd = static_cast<int>(shape.size());
  int cd = 0;
  for (int d = 0; d < nd; ++d) {
    if (shape[d] == 1 && nd > 1) continue;  // size-1 dims carry no iteration
    bool merge = cd > 0;
    for (int k = 0; merge && k < ntensors_; ++k) merge = strides_[k][cd - 1] == full[k][d] * shape[d];
    if (merge) {
      shape_[cd - 1] *= shape[d];
      for (int k = 0; k < ntensors_; ++k) strides_[k][cd - 1] = full[k][d];
    } else {
      shape_[cd] = shape[d];
      for (int k = 0; k < ntensors_; ++k) strides_[k][cd] = full[k][d];
      ++cd;
    }
  }
  if (cd == 0 && nd > 0) {  // all dims were 1
    shape_[0] = 1;
    for (int k = 0; k < ntensors_; ++k) strides_[k][0] = 0;
    cd = 1;
  }
  ndim_ = cd;
}

void TensorIterator::trace(const char* op_name, const Shape& shape, ScalarType out_dtype) const {
  if (debug_level() >= 1)
    debug_print("%s: shape %s, compute dtype %s, output dtype %s, %s", op_name, shape_str(shape).c_str(),
                dtype_name(common_dtype_), dtype_name(out_dtype), device_.str().c_str());
}

}  // namespace norch

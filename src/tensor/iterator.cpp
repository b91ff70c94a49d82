// TensorIterator: broadcasting, type promotion, output allocation, coalescing.
#include "norch/tensor/iterator.h"

#include <omp.h>

#include "norch/debug.h"
#include "norch/ops/copy.h"

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

bool can_cast(ScalarType from, ScalarType to) { return category(from) <= category(to); }

ScalarType result_type(const Tensor& a, const Scalar& s) { return result_type({a, scalar_to_tensor(s)}); }

bool TensorIterator::is_contiguous() const {
  if (ndim_ > 1) return false;
  if (ndim_ == 0) return true;
  for (int k = 0; k < ntensors(); ++k)
    if (strides_[k][0] != element_sizes_[k]) return false;
  return true;
}

bool TensorIterator::is_scalar(int i) const {
  for (int d = 0; d < ndim_; ++d)
    if (strides_[i][d] != 0) return false;
  return true;
}

TensorIterator TensorIterator::build(Tensor out, const TensorList& inputs, const Config& cfg) {
  TensorIterator it;
  NORCH_CHECK(inputs.size() + 1 <= kMaxOperands, cfg.op_name, ": too many operands");
  // Device: every tensor operand must agree (wrapped numbers follow the others).
  bool have_device = false;
  for (const auto& t : inputs) {
    if (t.impl()->is_wrapped_number) continue;
    if (!have_device) {
      it.device_ = t.device();
      have_device = true;
    } else if (t.device() != it.device_ && t.dim() > 0) {
      NORCH_ERROR("Expected all tensors to be on the same device, but found at least two devices, ",
                  it.device_.str(), " and ", t.device().str(), "! (when checking arguments for ", cfg.op_name, ")");
    }
  }
  // 0-d CPU tensors may join CUDA ops (as in PyTorch); everything else moved above.
  if (!have_device && !inputs.empty()) it.device_ = inputs[0].device();

  Shape shape = inputs.empty() ? (out.defined() ? out.sizes() : Shape{}) : inputs[0].sizes();
  for (size_t i = 1; i < inputs.size(); ++i)
    if (inputs[i].sizes() != shape) shape = broadcast_shapes(shape, inputs[i].sizes(), cfg.op_name);

  // dtype
  ScalarType common;
  if (cfg.allow_mixed_input_dtypes) {
    common = inputs.back().dtype();
  } else if (cfg.promote_inputs) {
    common = result_type(inputs);
  } else {
    common = inputs.empty() ? default_dtype() : inputs[0].dtype();
    for (const auto& t : inputs)
      NORCH_CHECK(t.dtype() == common, cfg.op_name, ": expected all inputs to have dtype ", dtype_name(common),
                  " but got ", dtype_name(t.dtype()));
  }
  if (cfg.promote_integer_to_float && !is_floating_point(common)) common = default_dtype();
  it.common_dtype_ = common;
  ScalarType out_dtype = cfg.has_output_dtype ? cfg.output_dtype : common;

  // output
  it.output_ = out;
  Tensor target;
  if (out.defined()) {
    Shape combined = shape == out.sizes() ? shape : broadcast_shapes(shape, out.sizes(), cfg.op_name);
    NORCH_CHECK(out.sizes() == combined, cfg.op_name, ": output with shape ", out.sizes(),
                " doesn't match the broadcast shape ", combined);
    shape = combined;
    NORCH_CHECK(out.device() == it.device_ || !have_device, cfg.op_name, ": expected output on ",
                it.device_.str(), " but got ", out.device().str());
    if (out.dtype() != out_dtype) {
      NORCH_CHECK(cfg.cast_to_output || can_cast(out_dtype, out.dtype()),
                  "result type ", dtype_name(out_dtype), " can't be cast to the desired output type ",
                  dtype_name(out.dtype()));
      it.output_staging_ = empty(shape, TensorOptions(out_dtype, it.device_));
      target = it.output_staging_;
    } else {
      target = out;
    }
  } else {
    it.output_ = empty(shape, TensorOptions(out_dtype, it.device_));
    target = it.output_;
  }

  // operands: output first, inputs converted to the common dtype and device
  it.ntensors_ = static_cast<int>(inputs.size()) + 1;
  const Tensor* ops[kMaxOperands];
  ops[0] = &target;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    const bool convert = (t.dtype() != common && !cfg.allow_mixed_input_dtypes) || t.device() != it.device_;
    if (!convert) {
      ops[i + 1] = &t;
      continue;
    }
    Tensor c = t;
    if (c.dtype() != common && !cfg.allow_mixed_input_dtypes) c = to_dtype(c, common);
    if (c.device() != it.device_) c = to_device(c, it.device_);
    it.keep_alive_.reserve(inputs.size());
    it.keep_alive_.push_back(c);
    ops[i + 1] = &it.keep_alive_.back();
  }

  const int nd = static_cast<int>(shape.size());
  NORCH_CHECK(nd <= kMaxDims, cfg.op_name, ": tensors with more than ", kMaxDims, " dimensions are not supported");
  it.numel_ = 1;
  for (auto s : shape) it.numel_ *= s;
  int64_t full[kMaxOperands][kMaxDims];
  for (int k = 0; k < it.ntensors_; ++k) {
    const Tensor& t = *ops[k];
    const int off = nd - static_cast<int>(t.dim());
    const int64_t es = static_cast<int64_t>(t.element_size());
    for (int d = 0; d < off; ++d) full[k][d] = 0;
    for (int d = 0; d < t.dim(); ++d)
      full[k][off + d] = t.sizes()[d] == 1 && shape[off + d] != 1 ? 0 : t.strides()[d] * es;
    it.element_sizes_[k] = es;
    it.data_[k] = static_cast<char*>(t.data_ptr());
  }

  // Coalesce: merge dim d into the previous one when every operand steps over both as one.
  int cd = 0;
  for (int d = 0; d < nd; ++d) {
    if (shape[d] == 1 && nd > 1) continue;  // size-1 dims carry no iteration
    bool merge = cd > 0;
    for (int k = 0; merge && k < it.ntensors_; ++k) merge = it.strides_[k][cd - 1] == full[k][d] * shape[d];
    if (merge) {
      it.shape_[cd - 1] *= shape[d];
      for (int k = 0; k < it.ntensors_; ++k) it.strides_[k][cd - 1] = full[k][d];
    } else {
      it.shape_[cd] = shape[d];
      for (int k = 0; k < it.ntensors_; ++k) it.strides_[k][cd] = full[k][d];
      ++cd;
    }
  }
  if (cd == 0 && nd > 0) {  // all dims were 1
    it.shape_[0] = 1;
    for (int k = 0; k < it.ntensors_; ++k) it.strides_[k][0] = 0;
    cd = 1;
  }
  it.ndim_ = cd;
  if (debug_level() >= 1)
    debug_print("%s: shape %s, compute dtype %s, output dtype %s, %s", cfg.op_name, shape_str(shape).c_str(),
                dtype_name(common), dtype_name(target.dtype()), it.device_.str().c_str());
  return it;
}

Tensor TensorIterator::output() {
  if (output_staging_.defined()) {
    copy_(output_, output_staging_);
    output_staging_ = Tensor();
  }
  return output_;
}

}  // namespace norch

// TensorIterator: broadcasting, type promotion, output allocation, coalescing.
#include "norch/tensor/iterator.h"

#include <omp.h>

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
  if (shape_.size() > 1) return false;
  if (shape_.empty()) return true;
  for (int k = 0; k < ntensors(); ++k)
    if (strides_[k][0] != element_sizes_[k]) return false;
  return true;
}

bool TensorIterator::is_scalar(int i) const {
  for (auto s : strides_[i])
    if (s != 0) return false;
  return true;
}

TensorIterator TensorIterator::build(Tensor out, const TensorList& inputs, const Config& cfg) {
  TensorIterator it;
  NORCH_CHECK(inputs.size() + 1 <= 8, cfg.op_name, ": too many operands");
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

  Shape shape;
  for (const auto& t : inputs) shape = broadcast_shapes(shape, t.sizes(), cfg.op_name);
  if (inputs.empty() && out.defined()) shape = out.sizes();

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
    Shape combined = broadcast_shapes(shape, out.sizes(), cfg.op_name);
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
  std::vector<Tensor> ops;
  ops.push_back(target);
  for (const auto& t : inputs) {
    Tensor c = t;
    if (c.dtype() != common && !cfg.allow_mixed_input_dtypes) c = to_dtype(c, common);
    if (c.device() != it.device_) c = to_device(c, it.device_);
    ops.push_back(c);
    it.keep_alive_.push_back(c);
  }

  const int nd = static_cast<int>(shape.size());
  NORCH_CHECK(nd <= 16, cfg.op_name, ": tensors with more than 16 dimensions are not supported");
  it.numel_ = 1;
  for (auto s : shape) it.numel_ *= s;
  for (auto& t : ops) {
    Shape st(nd, 0);
    const int off = nd - static_cast<int>(t.dim());
    const int64_t es = static_cast<int64_t>(t.element_size());
    for (int d = 0; d < t.dim(); ++d)
      st[off + d] = t.sizes()[d] == 1 && shape[off + d] != 1 ? 0 : t.strides()[d] * es;
    it.strides_.push_back(std::move(st));
    it.element_sizes_.push_back(es);
    it.data_.push_back(static_cast<char*>(t.data_ptr()));
  }

  // Coalesce: merge dim d into d-1 when every operand steps over both as one.
  Shape cshape;
  std::vector<Shape> cstrides(ops.size());
  for (int d = 0; d < nd; ++d) {
    if (shape[d] == 1 && nd > 1) continue;  // size-1 dims carry no iteration
    bool merge = !cshape.empty();
    for (size_t k = 0; merge && k < ops.size(); ++k)
      merge = cstrides[k].back() == it.strides_[k][d] * shape[d];
    if (merge) {
      cshape.back() *= shape[d];
      for (size_t k = 0; k < ops.size(); ++k) cstrides[k].back() = it.strides_[k][d];
    } else {
      cshape.push_back(shape[d]);
      for (size_t k = 0; k < ops.size(); ++k) cstrides[k].push_back(it.strides_[k][d]);
    }
  }
  if (cshape.empty() && nd > 0) {  // all dims were 1
    cshape.push_back(1);
    for (size_t k = 0; k < ops.size(); ++k) cstrides[k].push_back(0);
  }
  it.shape_ = cshape;
  it.strides_ = cstrides;
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

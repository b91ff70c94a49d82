// Selection by index tensors and masks: gather/scatter/index_select/index_add,
// masked_fill/masked_select, nonzero, one_hot. gather and scatter own kernels;
// the rest are composites whose gradients come from those two and `where`.
#include "norch/ops/select.h"

#include "kernels/select.h"
#include "norch/autograd/function.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/index.h"
#include "norch/ops/shape.h"
#include "norch/ops/unary.h"
#include "norch/tensor/iterator.h"

namespace norch {

DispatchStub<GatherKernel> gather_stub("gather");
DispatchStub<ScatterKernel> scatter_stub("scatter");
DispatchStub<NonzeroKernel> nonzero_stub("nonzero");

using autograd::BackwardContext;

Tensor checked_index_cpu(const Tensor& index, int64_t size, bool allow_negative, std::optional<int64_t>& bad) {
  Tensor c = contiguous(to_dtype(to_device(index.detach(), Device()), ScalarType::Int64));
  const int64_t* p = c.data<int64_t>();
  const int64_t lo = allow_negative ? -size : 0;
  bool negative = false;
  bad.reset();
  for (int64_t i = 0; i < c.numel(); ++i) {
    if (p[i] < lo || p[i] >= size) {
      bad = p[i];
      return c;
    }
    negative = negative || p[i] < 0;
  }
  if (!negative) return c;  // no copy in the common case
  c = clone(c);
  int64_t* w = c.data<int64_t>();
  for (int64_t i = 0; i < c.numel(); ++i)
    if (w[i] < 0) w[i] += size;
  return c;
}

namespace {

// Shared checks of gather/scatter: an int32 or int64 index (as PyTorch) with
// self's rank, no larger than `self` off `dim` (and no larger than src anywhere),
// entries in range (on CUDA, by the kernel). Returns the index as int64 (what the
// kernels read) on self's device; scatter_add reports itself as scatter, as in PyTorch.
Tensor check_gather_scatter(const char* op, const Tensor& self, int64_t dim, const Tensor& index, const Tensor* src) {
  NORCH_CHECK(index.dtype() == ScalarType::Int64 || index.dtype() == ScalarType::Int32,
              std::string(op) == "scatter_add" ? "scatter" : op, "(): Expected dtype int32/int64 for index");
  check_same_device(op, {self, index});
  NORCH_CHECK(index.dim() == self.dim(), "Index tensor must have the same number of dimensions as ",
              src ? "self" : "input", " tensor");
  for (int64_t k = 0; k < self.dim(); ++k) {
    NORCH_CHECK(k == dim || index.sizes()[k] <= self.sizes()[k], "Size does not match at dimension ", k,
                " expected index ", index.sizes(), " to be no larger than self ", self.sizes(),
                " apart from dimension ", dim);
    if (src)
      NORCH_CHECK(index.sizes()[k] <= src->sizes()[k], "Expected index ", index.sizes(),
                  " to be no larger than src ", src->sizes(), " in dimension ", k);
  }
  // CUDA kernels check every index on the device and raise this same error after
  // the kernel (kernels/cuda/index_check.cuh), so the index never travels to the host.
  if (index.device().is_cuda()) return index.dtype() == ScalarType::Int64 ? index : to_dtype(index, ScalarType::Int64);
  std::optional<int64_t> bad;
  Tensor checked = checked_index_cpu(index, self.sizes()[dim], false, bad);
  NORCH_CHECK(!bad, op, "(): index ", bad.value_or(0), " is out of bounds for dimension ", dim, " with size ",
              self.sizes()[dim]);
  const bool usable = index.device().is_cpu() && index.dtype() == ScalarType::Int64;
  return usable ? index : to_device(checked, index.device());
}

// 0-d operands take part in gather/scatter as 1-d tensors of one element.
Tensor as_1d(const Tensor& t) { return t.dim() == 0 ? reshape(t, {1}) : t; }

// Out-of-place scatter without autograd: a copy of self written through index.
Tensor scatter_raw(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, bool accumulate,
                   const char* op) {
  const int64_t d = wrap_dim(dim, self.dim());
  Tensor s1 = as_1d(self.detach()), i1 = as_1d(index), v1 = as_1d(src.detach());
  NORCH_CHECK(src.dtype() == self.dtype(), op, "(): Expected self.dtype to be equal to src.dtype");
  check_same_device(op, {self, src});
  Tensor ix = check_gather_scatter(op, s1, d, i1, &v1);
  Tensor out = clone(s1);
  scatter_stub(out.device())(out, d, ix, v1, accumulate);
  return self.dim() == 0 ? view(out, {}) : out;
}

// In-place form shared by scatter_/scatter_add_/masked_fill_: self takes the
// out-of-place result's values and, when recording, its history.
Tensor& assign_result(Tensor& self, const Tensor& result, const char* op) {
  autograd::check_inplace(self, op);
  NORCH_CHECK(result.sizes() == self.sizes(), op, ": output with shape ", self.sizes(),
              " doesn't match the broadcast shape ", result.sizes());
  copy_data(self, result);
  self.bump_version();
  if (result.requires_grad()) autograd::rebase_history(self, result);
  return self;
}

}  // namespace

namespace {
// gather after the checks; index_select comes here directly, because checking
// its expanded index would materialize it.
Tensor gather_checked(const Tensor& a, int64_t d, const Tensor& index, const Tensor& ix);
}  // namespace

Tensor gather(const Tensor& a, int64_t dim, const Tensor& index) {
  const int64_t d = wrap_dim(dim, a.dim());
  return gather_checked(a, d, index, check_gather_scatter("gather", as_1d(a), d, as_1d(index), nullptr));
}

namespace {
Tensor gather_checked(const Tensor& a, int64_t d, const Tensor& index, const Tensor& ix) {
  Tensor a1 = as_1d(a), i1 = as_1d(index);
  Tensor out = empty(i1.sizes(), TensorOptions(a.dtype(), a.device()));
  gather_stub(a.device())(out, a1.detach(), d, ix);
  if (index.dim() == 0) out = view(out, {});
  if (autograd::needs_grad(a)) {
    Tensor saved_index = index.detach();
    autograd::record("GatherBackward0", {a}, {out}, {}, [d, saved_index](BackwardContext& ctx, const TensorList& g) -> TensorList {
      const auto& in = ctx.input(0);
      return {scatter_add(zeros(in.shape, TensorOptions(g[0].dtype(), g[0].device())), d, saved_index, g[0])};
    });
  }
  return out;
}
}  // namespace

Tensor scatter(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src) {
  Tensor out = scatter_raw(a, dim, index, src, false, "scatter");
  if (autograd::needs_grad(a, src)) {
    Tensor saved_index = index.detach();
    const int64_t d = wrap_dim(dim, a.dim());
    autograd::record("ScatterBackward0", {a, src}, {out}, {},
                     [d, saved_index](BackwardContext& ctx, const TensorList& g) -> TensorList {
                       return {ctx.needs_input_grad(0) ? scatter(g[0], d, saved_index, Scalar(0)) : Tensor(),
                               ctx.needs_input_grad(1) ? gather(g[0], d, saved_index) : Tensor()};
                     });
  }
  return out;
}

Tensor scatter(const Tensor& a, int64_t dim, const Tensor& index, const Scalar& value) {
  check_scalar_fits(value, a.dtype());
  Tensor v = expand(scalar_tensor(value, TensorOptions(a.dtype(), a.device())), index.sizes());
  Tensor out = scatter_raw(a, dim, index, v, false, "scatter");
  if (autograd::needs_grad(a)) {
    Tensor saved_index = index.detach();
    const int64_t d = wrap_dim(dim, a.dim());
    autograd::record("ScatterBackward1", {a}, {out}, {}, [d, saved_index](BackwardContext&, const TensorList& g) -> TensorList {
      return {scatter(g[0], d, saved_index, Scalar(0))};
    });
  }
  return out;
}

Tensor scatter_add(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src) {
  Tensor out = scatter_raw(a, dim, index, src, true, "scatter_add");
  if (autograd::needs_grad(a, src)) {
    Tensor saved_index = index.detach();
    const int64_t d = wrap_dim(dim, a.dim());
    autograd::record("ScatterAddBackward0", {a, src}, {out}, {},
                     [d, saved_index](BackwardContext& ctx, const TensorList& g) -> TensorList {
                       return {g[0], ctx.needs_input_grad(1) ? gather(g[0], d, saved_index) : Tensor()};
                     });
  }
  return out;
}

Tensor& scatter_(Tensor& a, int64_t dim, const Tensor& index, const Tensor& src) {
  return assign_result(a, scatter(a, dim, index, src), "scatter_");
}
Tensor& scatter_(Tensor& a, int64_t dim, const Tensor& index, const Scalar& value) {
  return assign_result(a, scatter(a, dim, index, value), "scatter_");
}
Tensor& scatter_add_(Tensor& a, int64_t dim, const Tensor& index, const Tensor& src) {
  return assign_result(a, scatter_add(a, dim, index, src), "scatter_add_");
}

namespace {
// index (1-d, entries in range) reshaped to broadcast along `dim` of `like`
// and expanded to `like`'s shape with dim replaced by index's length.
Tensor spread_index(const Tensor& index, const Shape& like, int64_t dim) {
  Shape pattern(like.size(), 1), target = like;
  pattern[dim] = index.numel();
  target[dim] = index.numel();
  return expand(reshape(index, pattern), target);
}

Tensor checked_select_index(const char* op, const Tensor& a, int64_t dim, const Tensor& index) {
  NORCH_CHECK_INDEX(index.dim() <= 1, op, "(): Index is supposed to be a vector");
  NORCH_CHECK(index.dtype() == ScalarType::Int64 || index.dtype() == ScalarType::Int32, op,
              "(): Expected dtype int32/int64 for index");
  check_same_device(op, {a, index});
  std::optional<int64_t> bad;
  Tensor ix = checked_index_cpu(index, a.dim() == 0 ? 1 : a.sizes()[dim], false, bad);
  NORCH_CHECK_INDEX(!bad, op, "(): index ", bad.value_or(0), " is out of range for dimension ", dim, " with size ",
                    a.dim() == 0 ? 1 : a.sizes()[dim]);
  return to_device(ix, a.device());
}
}  // namespace

Tensor index_select(const Tensor& a, int64_t dim, const Tensor& index) {
  const int64_t d = wrap_dim(dim, a.dim());
  Tensor ix = checked_select_index("index_select", a, d, index);
  if (a.dim() == 0) return reshape(gather(reshape(a, {1}), 0, reshape(ix, {-1})), index.sizes());
  Tensor spread = spread_index(ix, a.sizes(), d);
  return gather_checked(a, d, spread, spread);
}

Tensor index_add(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha) {
  const int64_t d = wrap_dim(dim, a.dim());
  Tensor ix = checked_select_index("index_add", a, d, index);
  Shape expected = a.sizes();
  if (a.dim() > 0) expected[d] = ix.numel();
  NORCH_CHECK(source.sizes() == expected || (a.dim() == 0 && source.numel() == ix.numel()),
              "index_add_(): source ", source.sizes(), " must have the shape of self ", a.sizes(),
              " with dimension ", d, " of size len(index) = ", ix.numel());
  Tensor src = alpha.is_integral() && alpha.to_int() == 1 ? source : mul(source, alpha);
  if (a.dim() == 0) return view(scatter_add(reshape(a, {1}), 0, reshape(ix, {-1}), reshape(src, {-1})), {});
  return scatter_add(a, d, spread_index(ix, a.sizes(), d), src);
}

Tensor& index_add_(Tensor& a, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha) {
  return assign_result(a, index_add(a, dim, index, source, alpha), "index_add_");
}

Tensor masked_fill(const Tensor& a, const Tensor& mask, const Tensor& value) {
  NORCH_CHECK(mask.dtype() == ScalarType::Bool, "masked_fill_ only supports boolean masks, but got mask with dtype ",
              dtype_name(mask.dtype()));
  NORCH_CHECK(value.dim() == 0, "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with ",
              value.dim(), " dimension(s).");
  check_same_device("masked_fill", {a, mask});
  return where(mask, to_dtype(value, a.dtype()), a);
}

Tensor& masked_fill_(Tensor& a, const Tensor& mask, const Tensor& value) {
  return assign_result(a, masked_fill(a, mask, value), "masked_fill_");
}

Tensor masked_select(const Tensor& a, const Tensor& mask) {
  NORCH_CHECK(mask.dtype() == ScalarType::Bool, "masked_select: expected BoolTensor for mask");
  check_same_device("masked_select", {a, mask});
  const Shape shape = broadcast_shapes(a.sizes(), mask.sizes(), "masked_select");
  return index(expand(a, shape), {TensorIndex::from_tensor(expand(mask, shape))});
}

Tensor nonzero(const Tensor& a) {
  // The kernel walks a flat buffer: hand it a contiguous CPU copy.
  Tensor out = nonzero_stub(Device())(contiguous(to_device(a.detach(), Device())));
  return to_device(out, a.device());
}

TensorList nonzero_tuple(const Tensor& a) {
  Tensor nz = nonzero(a.dim() == 0 ? reshape(a.detach(), {1}) : a);
  TensorList out;
  for (int64_t k = 0; k < nz.sizes()[1]; ++k) out.push_back(contiguous(select(nz, 1, k)));
  return out;
}

Tensor one_hot(const Tensor& a, int64_t num_classes) {
  NORCH_CHECK(a.dtype() == ScalarType::Int64, "one_hot is only applicable to index tensor of type LongTensor.");
  NORCH_CHECK(num_classes >= -1, "one_hot: num_classes should be -1 or non-negative, got ", num_classes);
  Tensor c = contiguous(to_device(a.detach(), Device()));
  const int64_t* p = c.data<int64_t>();
  int64_t lo = 0, hi = -1;
  for (int64_t i = 0; i < c.numel(); ++i) {
    lo = std::min(lo, p[i]);
    hi = std::max(hi, p[i]);
  }
  if (num_classes == -1) {
    NORCH_CHECK(c.numel() > 0, "Can not infer total number of classes from empty tensor.");
    num_classes = hi + 1;
  }
  NORCH_CHECK(lo >= 0, "Class values must be non-negative.");
  NORCH_CHECK(hi < num_classes, "Class values must be smaller than num_classes.");
  Tensor classes = arange(Scalar(int64_t(0)), Scalar(num_classes), Scalar(int64_t(1)),
                          TensorOptions(ScalarType::Int64, a.device()));
  return to_dtype(eq(unsqueeze(a.detach(), -1), classes), ScalarType::Int64);
}

}  // namespace norch

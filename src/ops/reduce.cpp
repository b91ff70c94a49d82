// Reductions: sum, mean, prod, max/min family, all/any, sum_to, and the layout
// helper every reduction shares. var/std/norm/logsumexp and scans: reduce_math.cpp.
#include "norch/ops/autocast.h"
#include "norch/ops/reduce.h"

#include "kernels/reduce.h"
#include "norch/autograd/function.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/shape.h"
#include "norch/ops/unary.h"

namespace norch {

DispatchStub<ReduceKernel> reduce_stub("reduce");
DispatchStub<ArgReduceKernel> arg_reduce_stub("argmax");

using autograd::BackwardContext;

std::vector<bool> reduction_mask(const Tensor& a, const Shape& dims, const char* op_name) {
  std::vector<bool> mask(a.dim(), dims.empty());
  for (auto d : dims) {
    int64_t w = wrap_dim(d, a.dim());
    if (a.dim() == 0) continue;
    NORCH_CHECK(!mask[w] || dims.empty(), op_name, ": dim ", w, " appears multiple times in the list of dims");
    mask[w] = true;
  }
  return mask;
}

Shape reduced_shape(const Tensor& a, const std::vector<bool>& mask, bool keepdim) {
  Shape out;
  for (int64_t i = 0; i < a.dim(); ++i) {
    if (!mask[i]) out.push_back(a.sizes()[i]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

Tensor unsqueeze_reduced(const Tensor& g, const std::vector<bool>& mask, bool keepdim) {
  if (keepdim) return g;
  Tensor r = g;
  for (size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) r = unsqueeze(r, static_cast<int64_t>(i));
  return r;
}

// An op-side step, since it may copy (declared in kernels/reduce.h for var's kernel).
Tensor reduction_2d(const Tensor& a, const std::vector<bool>& mask, bool& inner) {
  autograd::NoGradGuard no_grad;
  Shape kept, reduced;
  int64_t M = 1, K = 1;
  for (int64_t i = 0; i < a.dim(); ++i) {
    if (mask[i]) { reduced.push_back(i); K *= a.sizes()[i]; }
    else { kept.push_back(i); M *= a.sizes()[i]; }
  }
  Shape order = kept;
  order.insert(order.end(), reduced.begin(), reduced.end());
  Tensor p = permute(a, order);
  inner = true;
  if (p.is_contiguous()) return view(p, {M, K});
  Shape order2 = reduced;
  order2.insert(order2.end(), kept.begin(), kept.end());
  Tensor q = permute(a, order2);
  if (q.is_contiguous()) {
    inner = false;
    return view(q, {K, M});
  }
  return view(contiguous(p), {M, K});
}

namespace {

// Runs a ReduceOp over `mask`, producing `out_dtype`; no autograd.
Tensor run_reduce(const char* name, ReduceOp op, const Tensor& a, const std::vector<bool>& mask, bool keepdim,
                  ScalarType out_dtype) {
  Tensor src = a.dtype() == out_dtype ? a : to_dtype(a.detach(), out_dtype);
  bool inner = true;
  Tensor two_d = reduction_2d(src, mask, inner);
  Tensor out = empty(reduced_shape(a, mask, keepdim), TensorOptions(out_dtype, a.device()));
  reduce_stub(a.device(), name)(op, two_d, inner, out);
  return out;
}

// Writes the max/min (values may be undefined) and its index over `mask`; no autograd.
void run_arg_reduce(const char* name, bool is_max, const Tensor& a, const std::vector<bool>& mask,
                    const Tensor& values, const Tensor& indices) {
  bool inner = true;
  Tensor two_d = reduction_2d(a, mask, inner);
  arg_reduce_stub(a.device(), name)(is_max, two_d, inner, values, indices);
}

// Reductions without an identity (max, min, argmax, ...) refuse empty input
// with PyTorch's messages: RuntimeError (IndexError for argmax/argmin) when
// reducing everything, IndexError naming an empty reduced dim.
void check_nonempty(const Tensor& a, const std::vector<bool>& mask, bool dims_given, const char* name,
                    bool index_error = false) {
  if (!dims_given) {
    NORCH_CHECK_KIND(index_error ? ErrorKind::Index : ErrorKind::Runtime, a.numel() > 0, name,
                     "(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim "
                     "with the 'dim' argument.");
    return;
  }
  for (int64_t i = 0; i < a.dim(); ++i)
    NORCH_CHECK_INDEX(!mask[i] || a.sizes()[i] > 0, name, "(): Expected reduction dim ", i,
                      " to have non-zero size.");
}

Shape mask_dims(const std::vector<bool>& mask) {
  Shape dims;
  for (size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) dims.push_back(static_cast<int64_t>(i));
  return dims;
}

}  // namespace

Tensor sum(const Tensor& a, const Shape& dims, bool keepdim, std::optional<ScalarType> dtype) {
  auto mask = reduction_mask(a, dims, "sum");
  ScalarType out_dtype = dtype.value_or(is_integral(a.dtype(), true) ? ScalarType::Int64 : a.dtype());
  Tensor out = run_reduce("sum", ReduceOp::Sum, a, mask, keepdim, out_dtype);
  if (autograd::needs_grad(a))
    autograd::record("SumBackward1", {a}, {out}, {}, [mask, keepdim](BackwardContext& ctx, const TensorList& g) -> TensorList {
      return {expand(unsqueeze_reduced(g[0], mask, keepdim), ctx.input(0).shape)};
    });
  return out;
}

Tensor mean(const Tensor& a, const Shape& dims, bool keepdim, std::optional<ScalarType> dtype) {
  ScalarType dt = dtype.value_or(a.dtype());
  NORCH_CHECK(is_floating_point(dt), "mean(): could not infer output dtype. Input dtype must be either a floating point "
              "or complex dtype. Got: ", dtype_name(a.dtype()));
  auto mask = reduction_mask(a, dims, "mean");
  int64_t count = 1;
  for (int64_t i = 0; i < a.dim(); ++i)
    if (mask[i]) count *= a.sizes()[i];
  Tensor s = sum(a.dtype() == dt ? a : to_dtype(a, dt), dims, keepdim);
  // An empty reduction divides by zero and gives NaN, as in PyTorch.
  return div(s, scalar_to_tensor(Scalar(static_cast<double>(count))));
}

namespace {

// PyTorch's prod_safe_zeros_backward along the last dim of x: the gradient of
// each element is the product of the elements before it times the product of
// those after it (exclusive cumprods from both ends), which never divides by x.
Tensor prod_others_last_dim(const Tensor& x) {
  const int64_t d = x.dim() - 1, n = x.size(d);
  if (x.numel() == 0) return zeros_like(x);
  Shape one = x.sizes();
  one[d] = 1;
  Tensor ones1 = ones(one, TensorOptions(x.dtype(), x.device()));
  Tensor before = cumprod(cat({ones1, narrow(x, d, 0, n - 1)}, d), d);
  Tensor after = flip(cumprod(cat({ones1, flip(narrow(x, d, 1, n - 1), {d})}, d), d), {d});
  return mul(before, after);
}

}  // namespace

Tensor prod(const Tensor& a, const Shape& dims, bool keepdim, std::optional<ScalarType> dtype) {
  NORCH_AUTOCAST(prod(autocast::fp32(a), dims, keepdim, dtype));
  auto mask = reduction_mask(a, dims, "prod");
  ScalarType out_dtype = dtype.value_or(is_integral(a.dtype(), true) ? ScalarType::Int64 : a.dtype());
  Tensor out = run_reduce("prod", ReduceOp::Prod, a, mask, keepdim, out_dtype);
  if (autograd::needs_grad(a))
    autograd::record("ProdBackward1", {a}, {out}, {a, out}, [mask, keepdim, all = dims.empty()](BackwardContext& ctx, const TensorList& g) -> TensorList {
      // As PyTorch: without a zero anywhere, prod / x_i; with one, the product
      // of the others computed without division (so an inf beside a zero gives
      // what PyTorch gives, not 0 * inf). The reduced dims are moved last and
      // flattened into one.
      Tensor x = ctx.saved(0);
      Tensor gy = unsqueeze_reduced(g[0], mask, keepdim);
      if (x.dim() == 0) return {gy};
      const int64_t zeros_in_x = sum(eq(x, scalar(0))).item().to_int();
      if (zeros_in_x == 0) return {mul(gy, div(unsqueeze_reduced(ctx.saved(1), mask, keepdim), x))};
      // PyTorch's prod() over everything: two zeros make every gradient 0
      // (unless a graph is built, where it takes the general formula).
      if (all && zeros_in_x > 1 && !autograd::GradMode::is_enabled()) return {zeros_like(x)};
      Shape perm, kept_sizes;
      int64_t reduced = 1;
      for (int64_t i = 0; i < x.dim(); ++i)
        if (!mask[i]) perm.push_back(i), kept_sizes.push_back(x.size(i));
      for (int64_t i = 0; i < x.dim(); ++i)
        if (mask[i]) perm.push_back(i), reduced *= x.size(i);
      Shape flat = kept_sizes;
      flat.push_back(reduced);
      Tensor others = prod_others_last_dim(reshape(permute(x, perm), flat));
      Shape permuted_sizes;
      for (int64_t p : perm) permuted_sizes.push_back(x.size(p));
      Shape inverse(perm.size());
      for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = static_cast<int64_t>(i);
      return {mul(gy, permute(reshape(others, permuted_sizes), inverse))};
    });
  return out;
}

namespace {

// amax/amin and the dim-less max/min: ties share the gradient evenly.
Tensor extremum(bool is_max, const Tensor& a, const Shape& dims, bool keepdim, const char* name, const char* node) {
  auto mask = reduction_mask(a, dims, name);
  check_nonempty(a, mask, !dims.empty(), name);
  Tensor out = run_reduce(name, is_max ? ReduceOp::Max : ReduceOp::Min, a, mask, keepdim, a.dtype());
  if (autograd::needs_grad(a))
    autograd::record(node, {a}, {out}, {a, out}, [mask, keepdim](BackwardContext& ctx, const TensorList& g) -> TensorList {
      Tensor hit = eq(ctx.saved(0), unsqueeze_reduced(ctx.saved(1), mask, keepdim));
      Tensor count = sum(hit, mask_dims(mask), true);
      return {div(mul(unsqueeze_reduced(g[0], mask, keepdim), hit), count)};
    });
  return out;
}

// True at the positions `idx` (keepdim-shaped int64) name along `dim` of `shape`.
Tensor index_mask(const Tensor& idx, int64_t dim, const Shape& shape) {
  Shape along(shape.size(), 1);
  along[dim] = shape[dim];
  Tensor positions = view(arange(Scalar(0), Scalar(shape[dim]), Scalar(1), TensorOptions(ScalarType::Int64, idx.device())),
                          along);
  return eq(positions, idx);
}

std::tuple<Tensor, Tensor> extremum_dim(bool is_max, const Tensor& a, int64_t dim, bool keepdim) {
  const char* name = is_max ? "max" : "min";
  auto mask = reduction_mask(a, {dim}, name);
  check_nonempty(a, mask, true, name);
  Shape shape = reduced_shape(a, mask, keepdim);
  Tensor values = empty(shape, TensorOptions(a.dtype(), a.device()));
  Tensor indices = empty(shape, TensorOptions(ScalarType::Int64, a.device()));
  run_arg_reduce(name, is_max, a, mask, values, indices);
  if (autograd::needs_grad(a)) {
    const int64_t d = a.dim() == 0 ? 0 : wrap_dim(dim, a.dim());
    autograd::record(is_max ? "MaxBackward0" : "MinBackward0", {a}, {values}, {indices},
                     [mask, keepdim, d](BackwardContext& ctx, const TensorList& g) -> TensorList {
                       const Shape& in_shape = ctx.input(0).shape;
                       if (in_shape.empty()) return {g[0]};
                       Tensor idx = unsqueeze_reduced(ctx.saved(0), mask, keepdim);
                       return {mul(unsqueeze_reduced(g[0], mask, keepdim), index_mask(idx, d, in_shape))};
                     });
  }
  return {values, indices};
}

Tensor arg_extremum(bool is_max, const Tensor& a, std::optional<int64_t> dim, bool keepdim) {
  const char* name = is_max ? "argmax" : "argmin";
  if (!dim) {
    check_nonempty(a, {}, false, name, /*index_error=*/true);
    Tensor flat = reshape(a.detach(), {a.numel()});
    Tensor idx = empty({}, TensorOptions(ScalarType::Int64, a.device()));
    run_arg_reduce(name, is_max, flat, {true}, Tensor(), idx);
    return keepdim ? reshape(idx, Shape(a.dim(), 1)) : idx;
  }
  auto mask = reduction_mask(a, {*dim}, name);
  check_nonempty(a, mask, true, name);
  Tensor idx = empty(reduced_shape(a, mask, keepdim), TensorOptions(ScalarType::Int64, a.device()));
  run_arg_reduce(name, is_max, a.detach(), mask, Tensor(), idx);
  return idx;
}

Tensor truth(ReduceOp op, const Tensor& a, const Shape& dims, bool keepdim, const char* name) {
  auto mask = reduction_mask(a, dims, name);
  Tensor b = a.dtype() == ScalarType::Bool ? a.detach() : ne(a.detach(), scalar_to_tensor(Scalar(0), a.device()));
  Tensor out = run_reduce(name, op, b, mask, keepdim, ScalarType::Bool);
  // PyTorch keeps uint8 for uint8 input (a legacy of masks being uint8).
  return a.dtype() == ScalarType::UInt8 ? to_dtype(out, ScalarType::UInt8) : out;
}

}  // namespace

Tensor max(const Tensor& a) { return extremum(true, a, {}, false, "max", "MaxBackward1"); }
Tensor min(const Tensor& a) { return extremum(false, a, {}, false, "min", "MinBackward1"); }
Tensor amax(const Tensor& a, const Shape& dims, bool keepdim) {
  return extremum(true, a, dims, keepdim, "amax", "AmaxBackward0");
}
Tensor amin(const Tensor& a, const Shape& dims, bool keepdim) {
  return extremum(false, a, dims, keepdim, "amin", "AminBackward0");
}
std::tuple<Tensor, Tensor> max(const Tensor& a, int64_t dim, bool keepdim) { return extremum_dim(true, a, dim, keepdim); }
std::tuple<Tensor, Tensor> min(const Tensor& a, int64_t dim, bool keepdim) { return extremum_dim(false, a, dim, keepdim); }
Tensor argmax(const Tensor& a, std::optional<int64_t> dim, bool keepdim) { return arg_extremum(true, a, dim, keepdim); }
Tensor argmin(const Tensor& a, std::optional<int64_t> dim, bool keepdim) { return arg_extremum(false, a, dim, keepdim); }
Tensor all(const Tensor& a, const Shape& dims, bool keepdim) { return truth(ReduceOp::All, a, dims, keepdim, "all"); }
Tensor any(const Tensor& a, const Shape& dims, bool keepdim) { return truth(ReduceOp::Any, a, dims, keepdim, "any"); }

Tensor sum_to(const Tensor& a, const Shape& shape) {
  if (a.sizes() == shape) return a;
  const int64_t lead = a.dim() - static_cast<int64_t>(shape.size());
  NORCH_CHECK(lead >= 0, "sum_to: cannot sum shape ", a.sizes(), " to ", shape);
  Shape dims;
  for (int64_t i = 0; i < a.dim(); ++i) {
    if (i < lead) { dims.push_back(i); continue; }
    int64_t target = shape[i - lead];
    if (target == 1 && a.sizes()[i] != 1) dims.push_back(i);
    else NORCH_CHECK(target == a.sizes()[i], "sum_to: cannot sum shape ", a.sizes(), " to ", shape);
  }
  Tensor r = dims.empty() ? a : sum(a, dims, true);
  if (lead > 0 || r.sizes() != shape) r = reshape(r, shape);
  return r;
}

}  // namespace norch

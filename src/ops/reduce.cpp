// Reductions: sum, mean, sum_to, and the layout helper every reduction shares.
#include "norch/ops/reduce.h"

#include "kernels/reduce.h"
#include "norch/autograd/function.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/shape.h"

namespace norch {

DispatchStub<ReduceKernel> reduce_stub("reduce");

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
Tensor run_reduce(ReduceOp op, const Tensor& a, const std::vector<bool>& mask, bool keepdim, ScalarType out_dtype) {
  Tensor src = a.dtype() == out_dtype ? a : to_dtype(a.detach(), out_dtype);
  bool inner = true;
  Tensor two_d = reduction_2d(src, mask, inner);
  Tensor out = empty(reduced_shape(a, mask, keepdim), TensorOptions(out_dtype, a.device()));
  reduce_stub(a.device())(op, two_d, inner, out);
  return out;
}
}  // namespace

Tensor sum(const Tensor& a, const Shape& dims, bool keepdim, std::optional<ScalarType> dtype) {
  auto mask = reduction_mask(a, dims, "sum");
  ScalarType out_dtype = dtype.value_or(is_integral(a.dtype(), true) ? ScalarType::Int64 : a.dtype());
  Tensor out = run_reduce(ReduceOp::Sum, a, mask, keepdim, out_dtype);
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

// Reductions built from the primitives of reduce.cpp: var, std, norm,
// logsumexp; and the scans cumsum/cumprod with their backward formulas.
#include <cmath>
#include <limits>

#include "kernels/reduce.h"
#include "norch/autograd/function.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/reduce.h"
#include "norch/ops/shape.h"
#include "norch/ops/unary.h"

namespace norch {

DispatchStub<ScanKernel> scan_stub("cumsum");
DispatchStub<VarKernel> var_stub("var");

using autograd::BackwardContext;

namespace {

int64_t reduced_count(const Tensor& a, const std::vector<bool>& mask) {
  int64_t n = 1;
  for (int64_t i = 0; i < a.dim(); ++i)
    if (mask[i]) n *= a.sizes()[i];
  return n;
}

void check_float(const Tensor& a, const char* msg) {
  NORCH_CHECK(a.is_floating_point(), msg, " Got ", dtype_name(a.dtype()));
}

}  // namespace

// Two passes (mean, then squared deviations) for accuracy. Where a fused kernel exists
// (CPU float32/float64) it reads the input twice without temporaries, under a node whose
// backward is PyTorch's var_backward, 2 (x - mean) / dof, built from primitives so that
// double backward works; elsewhere a composite, whose gradient comes from the primitives.
Tensor var(const Tensor& a, const Shape& dims, double correction, bool keepdim) {
  check_float(a, "std and var only support floating point and complex dtypes.");
  auto mask = reduction_mask(a, dims, "var");
  const double n = static_cast<double>(reduced_count(a, mask));
  // PyTorch clamps the degrees of freedom at 0, so too few samples give NaN or inf.
  const double dof = std::max(0.0, n - correction);
  const bool fused = var_stub.has(a.device()) &&
                     (a.dtype() == ScalarType::Float32 || a.dtype() == ScalarType::Float64);
  if (!fused) {
    Tensor d = sub(a, mean(a, dims, true));
    return div(sum(mul(d, d), dims, keepdim), scalar(dof));
  }
  Tensor out = empty(reduced_shape(a, mask, keepdim), TensorOptions(a.dtype(), a.device()));
  {
    autograd::NoGradGuard no_grad;
    bool inner = true;
    Tensor two_d = reduction_2d(a.detach(), mask, inner);
    var_stub(a.device())(two_d, inner, correction, out);
  }
  if (autograd::needs_grad(a))
    autograd::record("VarBackward0", {a}, {out}, {a}, [mask, keepdim, dof](BackwardContext& ctx, const TensorList& g) -> TensorList {
      Tensor x = ctx.saved(0);
      Tensor gy = unsqueeze_reduced(g[0], mask, keepdim);
      Shape rd;
      for (size_t i = 0; i < mask.size(); ++i)
        if (mask[i]) rd.push_back(static_cast<int64_t>(i));
      Tensor d = sub(x, mean(x, rd, true));
      return {mul(gy, div(mul(d, scalar(2)), scalar(dof)))};
    });
  return out;
}

// Its own node, not sqrt(var): at a zero std (a constant slice) sqrt's
// gradient is inf and var's is 0, and their product NaN; PyTorch's std_backward
// gives 0 there, so the 1 / (2 std) factor is masked where std == 0.
Tensor std(const Tensor& a, const Shape& dims, double correction, bool keepdim) {
  check_float(a, "std and var only support floating point and complex dtypes.");
  auto mask = reduction_mask(a, dims, "std");
  Tensor out;
  {
    autograd::NoGradGuard no_grad;
    out = sqrt(var(a, dims, correction, keepdim));
  }
  if (autograd::needs_grad(a)) {
    const double dof = std::max(0.0, static_cast<double>(reduced_count(a, mask)) - correction);
    autograd::record("StdBackward0", {a}, {out}, {a, out},
                     [mask, keepdim, dof](BackwardContext& ctx, const TensorList& g) -> TensorList {
                       Tensor x = ctx.saved(0);
                       Tensor y = unsqueeze_reduced(ctx.saved(1), mask, keepdim);
                       Tensor gy = unsqueeze_reduced(g[0], mask, keepdim);
                       Tensor gvar = where(eq(y, scalar(0)), zeros_like(y), div(gy, mul(y, scalar(2))));
                       // d var / dx = 2 (x - mean) / dof
                       Shape rd;
                       for (size_t i = 0; i < mask.size(); ++i)
                         if (mask[i]) rd.push_back(static_cast<int64_t>(i));
                       Tensor d = sub(x, mean(x, rd, true));
                       return {mul(gvar, div(mul(d, scalar(2)), scalar(dof)))};
                     });
  }
  return out;
}

Tensor norm(const Tensor& a, double p, const Shape& dims, bool keepdim) {
  check_float(a, "linalg.vector_norm: Expected a floating point or complex tensor as input.");
  auto mask = reduction_mask(a, dims, "norm");
  if (std::isinf(p)) return p > 0 ? amax(abs(a), dims, keepdim) : amin(abs(a), dims, keepdim);
  if (p == 1) return sum(abs(a), dims, keepdim);
  Tensor out;
  {
    autograd::NoGradGuard no_grad;
    if (p == 0) out = sum(ne(a, scalar(0)), dims, keepdim, a.dtype());
    else if (p == 2) out = sqrt(sum(mul(a, a), dims, keepdim));
    else out = pow(sum(pow(abs(a), scalar(p)), dims, keepdim), scalar(1.0 / p));
  }
  if (autograd::needs_grad(a))
    autograd::record("NormBackward1", {a}, {out}, {a, out}, [p, mask, keepdim](BackwardContext& ctx, const TensorList& g) -> TensorList {
      Tensor x = ctx.saved(0);
      if (p == 0) return {zeros_like(x)};
      Tensor y = unsqueeze_reduced(ctx.saved(1), mask, keepdim);
      Tensor gy = unsqueeze_reduced(g[0], mask, keepdim);
      // A zero norm means a zero slice: its gradient is 0 (PyTorch's choice), so
      // divide by 1 there instead of 0.
      Tensor y_safe = where(eq(y, scalar(0)), ones_like(y), y);
      if (p == 2) return {mul(gy, div(x, y_safe))};
      Tensor scaled = mul(sign(x), pow(abs(x), scalar(p - 1)));
      if (p < 1) scaled = where(eq(x, scalar(0)), zeros_like(x), scaled);  // |x|^(p-1) is inf at 0
      return {mul(gy, div(scaled, pow(y_safe, scalar(p - 1))))};
    });
  return out;
}

Tensor logsumexp(const Tensor& a, const Shape& dims, bool keepdim) {
  Tensor x = a.is_floating_point() ? a : to_dtype(a, default_dtype());
  auto mask = reduction_mask(x, dims, "logsumexp");
  Tensor out;
  {
    autograd::NoGradGuard no_grad;
    bool empty_slice = false;
    for (int64_t i = 0; i < x.dim(); ++i) empty_slice = empty_slice || (mask[i] && x.sizes()[i] == 0);
    if (empty_slice) {
      out = log(sum(exp(x), dims, keepdim));  // log(0) = -inf, as PyTorch
    } else {
      // Shift by the max so exp never overflows; an infinite max shifts by 0.
      Tensor m = amax(x, dims, true);
      m = where(isinf(m), zeros_like(m), m);
      Tensor r = log(sum(exp(sub(x, m)), dims, true));
      out = add(r, m);
      if (!keepdim) out = sum(out, dims, false);  // drops the kept size-1 dims
    }
  }
  if (autograd::needs_grad(x))
    autograd::record("LogsumexpBackward0", {x}, {out}, {x, out}, [mask, keepdim](BackwardContext& ctx, const TensorList& g) -> TensorList {
      Tensor y = unsqueeze_reduced(ctx.saved(1), mask, keepdim);
      return {mul(unsqueeze_reduced(g[0], mask, keepdim), exp(sub(ctx.saved(0), y)))};
    });
  return out;
}

namespace {

// Runs a scan along `dim` in `dtype`; no autograd. The kernel sees [outer, n, inner].
Tensor run_scan(const char* name, ScanOp op, const Tensor& a, int64_t dim, ScalarType dtype, bool reverse) {
  Tensor src = contiguous(to_dtype(a.detach(), dtype));
  int64_t outer = 1, n = 1, inner = 1;
  for (int64_t i = 0; i < a.dim(); ++i) {
    if (i < dim) outer *= a.sizes()[i];
    else if (i == dim) n = a.sizes()[i];
    else inner *= a.sizes()[i];
  }
  Tensor out = empty(a.sizes(), TensorOptions(dtype, a.device()));
  if (out.numel() > 0) scan_stub(a.device(), name)(op, view(src, {outer, n, inner}), view(out, {outer, n, inner}), reverse);
  return out;
}

ScalarType scan_dtype(const Tensor& a, std::optional<ScalarType> dtype) {
  return dtype.value_or(is_integral(a.dtype(), true) ? ScalarType::Int64 : a.dtype());
}

// sum over j >= i: the gradient of cumsum, and differentiable in turn.
Tensor reverse_cumsum(const Tensor& g, int64_t dim) {
  Tensor out = run_scan("cumsum", ScanOp::Sum, g, dim, g.dtype(), true);
  if (autograd::needs_grad(g))
    autograd::record("ReverseCumsumBackward0", {g}, {out}, {}, [dim](BackwardContext&, const TensorList& gg) -> TensorList {
      return {cumsum(gg[0], dim)};
    });
  return out;
}

}  // namespace

Tensor cumsum(const Tensor& a, int64_t dim, std::optional<ScalarType> dtype) {
  const int64_t d = wrap_dim(dim, a.dim());
  Tensor out = run_scan("cumsum", ScanOp::Sum, a, d, scan_dtype(a, dtype), false);
  if (autograd::needs_grad(a))
    autograd::record("CumsumBackward0", {a}, {out}, {}, [d](BackwardContext&, const TensorList& g) -> TensorList {
      return {reverse_cumsum(g[0], d)};
    });
  return out;
}

Tensor cumprod(const Tensor& a, int64_t dim, std::optional<ScalarType> dtype) {
  const int64_t d = wrap_dim(dim, a.dim());
  Tensor out = run_scan("cumprod", ScanOp::Prod, a, d, scan_dtype(a, dtype), false);
  if (autograd::needs_grad(a))
    autograd::record("CumprodBackward0", {a}, {out}, {a, out}, [d](BackwardContext& ctx, const TensorList& g) -> TensorList {
      // dy_j/dx_i = prod_{k <= j, k != i} x_k for j >= i. Before the first zero of
      // a slice that is y_j / x_i; at the first zero z it is y_{z-1} times the
      // product of x over (z, j]; after it, 0 (the product holds x_z = 0).
      Tensor x = ctx.saved(0), y = ctx.saved(1);
      Tensor is_zero = eq(x, scalar(0));
      if (!any(is_zero).item().to_int()) return {div(reverse_cumsum(mul(g[0], y), d), x)};
      Tensor zeros_so_far = cumsum(is_zero, d);
      Tensor before = eq(zeros_so_far, scalar(0));
      Tensor first = logical_and(is_zero, eq(zeros_so_far, scalar(1)));
      Tensor one = ones_like(x);
      Tensor x_before = where(before, x, one);
      Tensor lead = cumprod(x_before, d);                         // y_{z-1} at z
      Tensor tail = cumprod(where(logical_or(before, first), one, x), d);  // prod over (z, j]
      Tensor at_first = mul(lead, reverse_cumsum(mul(g[0], tail), d));
      Tensor safe = div(reverse_cumsum(mul(g[0], y), d), x_before);
      return {where(before, safe, where(first, at_first, zeros_like(at_first)))};
    });
  return out;
}

Tensor norm(const Tensor& a, double p, const Shape& dims, bool keepdim, std::optional<ScalarType> dtype) {
  return norm(dtype ? a.to(*dtype) : a, p, dims, keepdim);
}

Tensor norm(const Tensor& a, const std::string& p, const Shape& dims, bool keepdim,
            std::optional<ScalarType> dtype) {
  NORCH_CHECK(p == "fro", "norm: p='", p, "' is not supported (only 'fro' and numbers)");
  return norm(a, 2.0, dims, keepdim, dtype);
}

}  // namespace norch

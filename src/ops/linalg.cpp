// The matmul family: shape rules, dispatch to one batched kernel, backward formulas.
#include "norch/ops/autocast.h"
#include "norch/ops/linalg.h"

#include <algorithm>

#include "kernels/linalg.h"
#include "norch/autograd/function.h"
#include "norch/ops/binary.h"
#include "norch/ops/creation.h"
#include "norch/ops/reduce.h"
#include "norch/ops/shape.h"
#include "norch/tensor/iterator.h"

namespace norch {

DispatchStub<BmmKernel> bmm_stub("bmm");
DispatchStub<BmmKernel> bmm_reference_stub("bmm_reference");

using autograd::BackwardContext;

namespace {

void check_same(const Tensor& a, const Tensor& b, const char* op) {
  check_same_device(op, {a, b});
  NORCH_CHECK(a.dtype() == b.dtype(), "expected m1 and m2 to have the same dtype, but got: ", dtype_name(a.dtype()),
              " != ", dtype_name(b.dtype()));
  NORCH_CHECK(a.dtype() != ScalarType::Bool, op, ": not implemented for dtype bool");
}

// [B, n, k] @ [B, k, m] with no autograd.
Tensor bmm_raw(const Tensor& a, const Tensor& b, const DispatchStub<BmmKernel>& stub = bmm_stub) {
  Tensor out = empty({a.sizes()[0], a.sizes()[1], b.sizes()[2]}, TensorOptions(a.dtype(), a.device()));
  if (out.numel() == 0) return out;
  if (a.sizes()[2] == 0) return zeros(out.sizes(), TensorOptions(a.dtype(), a.device()));
  stub(a.device())(a, b, out);
  return out;
}

void check_bmm(const Tensor& a, const Tensor& b) {
  NORCH_CHECK(a.dim() == 3, "batch1 must be a 3D tensor (got shape ", a.sizes(), ")");
  NORCH_CHECK(b.dim() == 3, "batch2 must be a 3D tensor (got shape ", b.sizes(), ")");
  NORCH_CHECK(a.sizes()[0] == b.sizes()[0], "batch1 and batch2 must have same number of batches, got ", a.sizes()[0],
              " and ", b.sizes()[0], " (bmm of shapes ", a.sizes(), " and ", b.sizes(), ")");
  NORCH_CHECK(a.sizes()[2] == b.sizes()[1], "Expected size for first two dimensions of batch2 tensor to be: [",
              a.sizes()[0], ", ", a.sizes()[2], "] but got: [", b.sizes()[0], ", ", b.sizes()[1], "]. (bmm of shapes ",
              a.sizes(), " and ", b.sizes(), ")");
  check_same(a, b, "bmm");
}

}  // namespace

// A matrix whose columns are contiguous and whose rows are not (a transposed view).
static bool column_major(const Tensor& m) {
  return m.sizes()[0] > 1 && m.sizes()[1] > 1 && m.strides()[0] == 1 && m.strides()[1] >= m.sizes()[0];
}

Tensor mm(const Tensor& a, const Tensor& b) {
  NORCH_AUTOCAST(mm(autocast::lower(a), autocast::lower(b)));
  NORCH_CHECK(a.dim() == 2, "self must be a matrix (mm got a ", a.dim(), "-d tensor of shape ", a.sizes(), ")");
  NORCH_CHECK(b.dim() == 2, "mat2 must be a matrix (mm got a ", b.dim(), "-d tensor of shape ", b.sizes(), ")");
  NORCH_CHECK(a.sizes()[1] == b.sizes()[0], "mat1 and mat2 shapes cannot be multiplied (", a.sizes()[0], "x",
              a.sizes()[1], " and ", b.sizes()[0], "x", b.sizes()[1], ")");
  check_same(a, b, "mm");
  Tensor out;
  {
    autograd::NoGradGuard no_grad;
    out = view(bmm_raw(unsqueeze(a, 0), unsqueeze(b, 0)), {a.sizes()[0], b.sizes()[1]});
  }
  // A column-major operand (Linear's weight.t()) gets its gradient in the same layout,
  // computed as the transpose of the product the other way round, as PyTorch does: the
  // gradient of the weight itself is then contiguous, with no transposing copy.
  const bool a_cm = column_major(a), b_cm = column_major(b);
  if (autograd::needs_grad(a, b))
    autograd::record("MmBackward0", {a, b}, {out}, {b.requires_grad() ? a : Tensor(), a.requires_grad() ? b : Tensor()},
                     [a_cm, b_cm](BackwardContext& ctx, const TensorList& g) -> TensorList {
                       Tensor ga, gb;
                       if (ctx.needs_input_grad(0))
                         ga = a_cm ? t(mm(ctx.saved(1), t(g[0]))) : mm(g[0], t(ctx.saved(1)));
                       if (ctx.needs_input_grad(1))
                         gb = b_cm ? t(mm(t(g[0]), ctx.saved(0))) : mm(t(ctx.saved(0)), g[0]);
                       return {ga, gb};
                     });
  return out;
}

Tensor bmm_reference(const Tensor& a, const Tensor& b) {
  check_bmm(a, b);
  return bmm_raw(a, b, bmm_reference_stub);
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  NORCH_AUTOCAST(bmm(autocast::lower(a), autocast::lower(b)));
  check_bmm(a, b);
  Tensor out = bmm_raw(a, b);
  if (autograd::needs_grad(a, b))
    autograd::record("BmmBackward0", {a, b}, {out}, {b.requires_grad() ? a : Tensor(), a.requires_grad() ? b : Tensor()},
                     [](BackwardContext& ctx, const TensorList& g) -> TensorList {
                       return {ctx.needs_input_grad(0) ? bmm(g[0], transpose(ctx.saved(1), 1, 2)) : Tensor(),
                               ctx.needs_input_grad(1) ? bmm(transpose(ctx.saved(0), 1, 2), g[0]) : Tensor()};
                     });
  return out;
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  NORCH_AUTOCAST(matmul(autocast::lower(a), autocast::lower(b)));
  NORCH_CHECK(a.dim() > 0 && b.dim() > 0, "both arguments to matmul need to be at least 1D, but they are ", a.dim(),
              "D and ", b.dim(), "D");
  if (a.dim() == 1 && b.dim() == 1) return dot(a, b);
  if (a.dim() == 2 && b.dim() == 1) return mv(a, b);
  if (a.dim() == 1 && b.dim() == 2) {
    NORCH_CHECK(a.sizes()[0] == b.sizes()[0], "mat1 and mat2 shapes cannot be multiplied (1x", a.sizes()[0], " and ",
                b.sizes()[0], "x", b.sizes()[1], ")");
    return squeeze(mm(unsqueeze(a, 0), b), {0});
  }
  if (a.dim() == 2 && b.dim() == 2) return mm(a, b);
  // Batched: promote 1-d operands, broadcast batch dims, fold them into one.
  Tensor A = a.dim() == 1 ? unsqueeze(a, 0) : a;
  Tensor B = b.dim() == 1 ? unsqueeze(b, 1) : b;
  const int64_t n = A.sizes()[A.dim() - 2], k = A.sizes()[A.dim() - 1];
  const int64_t k2 = B.sizes()[B.dim() - 2], m = B.sizes()[B.dim() - 1];
  NORCH_CHECK(k == k2, "Expected size for first two dimensions of batch2 tensor to be: [", k, ", ", m,
              "] but got: [", k2, ", ", m, "]. (matmul of shapes ", a.sizes(), " and ", b.sizes(), ")");
  Shape batch_a(A.sizes().begin(), A.sizes().end() - 2), batch_b(B.sizes().begin(), B.sizes().end() - 2);
  for (size_t i = 1; i <= std::min(batch_a.size(), batch_b.size()); ++i) {
    const int64_t da = batch_a[batch_a.size() - i], db = batch_b[batch_b.size() - i];
    NORCH_CHECK(da == db || da == 1 || db == 1, "matmul: batch dimensions of shapes ", a.sizes(), " and ", b.sizes(),
                " cannot be broadcast (", da, " vs ", db, ")");
  }
  Shape batch = broadcast_shapes(batch_a, batch_b, "matmul");
  int64_t nb = 1;
  for (auto s : batch) nb *= s;
  Shape ea = batch, eb = batch;
  ea.push_back(n); ea.push_back(k);
  eb.push_back(k); eb.push_back(m);
  Tensor out = bmm(reshape(expand(A, ea), {nb, n, k}), reshape(expand(B, eb), {nb, k, m}));
  Shape out_shape = batch;
  if (a.dim() > 1) out_shape.push_back(n);
  if (b.dim() > 1) out_shape.push_back(m);
  return reshape(out, out_shape);
}

Tensor mv(const Tensor& a, const Tensor& v) {
  NORCH_CHECK(a.dim() == 2 && v.dim() == 1, "vector + matrix @ vector expected, got ", a.dim(), ", ", v.dim());
  NORCH_CHECK(a.sizes()[1] == v.sizes()[0], "size mismatch, got input (", a.sizes()[0], "), mat (", a.sizes()[0], "x",
              a.sizes()[1], "), vec (", v.sizes()[0], ")");
  return squeeze(mm(a, unsqueeze(v, 1)), {1});
}

Tensor dot(const Tensor& a, const Tensor& b) {
  NORCH_CHECK(a.dim() == 1 && b.dim() == 1, "1D tensors expected, but got ", a.dim(), "D and ", b.dim(), "D tensors");
  NORCH_CHECK(a.sizes()[0] == b.sizes()[0], "inconsistent tensor size, expected tensor [", a.sizes()[0],
              "] and src [", b.sizes()[0], "] to have the same number of elements, but got ", a.sizes()[0], " and ",
              b.sizes()[0], " elements respectively");
  NORCH_CHECK(a.dtype() == b.dtype(), "dot : expected both vectors to have same dtype, but found ",
              dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
  return sum(mul(a, b));
}

Tensor outer(const Tensor& a, const Tensor& b) {
  NORCH_CHECK(a.dim() == 1 && b.dim() == 1, "outer: expected 1-D tensors, got ", a.dim(), "D and ", b.dim(), "D");
  return mul(unsqueeze(a, 1), unsqueeze(b, 0));
}

Tensor addmm(const Tensor& input, const Tensor& m1, const Tensor& m2, const Scalar& beta, const Scalar& alpha) {
  NORCH_AUTOCAST(addmm(autocast::lower(input), autocast::lower(m1), autocast::lower(m2), beta, alpha));
  Tensor prod = mm(m1, m2);
  if (!(alpha.is_integral() && alpha.to_int() == 1)) prod = mul(prod, alpha);
  if (beta.to_double() == 0.0) return prod;
  Tensor in = (beta.is_integral() && beta.to_int() == 1) ? input : mul(input, beta);
  Shape b = broadcast_shapes(in.sizes(), prod.sizes(), "addmm");
  NORCH_CHECK(b == prod.sizes(), "addmm: input of shape ", input.sizes(), " cannot be broadcast to ", prod.sizes());
  return add(in, prod);
}

}  // namespace norch

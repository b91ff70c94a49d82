// softmax and log_softmax: fused forward kernels; the backward is its own
// differentiable op (softmax_backward_data), fused when no graph is being built
// and written with norch ops under create_graph so higher derivatives work.
#include "kernels/nn_fused.h"
#include "norch/ops/autocast.h"
#include "norch/autograd/function.h"
#include "norch/nn/loss.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/reduce.h"
#include "norch/ops/unary.h"

namespace norch {

DispatchStub<SoftmaxKernel> softmax_stub("softmax");
DispatchStub<SoftmaxBackwardKernel> softmax_backward_stub("softmax_backward");

namespace nn {
namespace {

using autograd::BackwardContext;

struct Layout { int64_t outer = 1, dim = 1, inner = 1; };

Layout layout_of(const Tensor& t, int64_t d) {
  Layout l;
  if (t.dim() == 0) return l;
  for (int64_t i = 0; i < d; ++i) l.outer *= t.size(i);
  l.dim = t.size(d);
  for (int64_t i = d + 1; i < t.dim(); ++i) l.inner *= t.size(i);
  return l;
}

Tensor softmax_impl(const Tensor& input, int64_t dim, std::optional<ScalarType> dtype, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  NORCH_CHECK(input.defined(), name, ": undefined input");
  const int64_t d = wrap_dim(dim, input.dim());
  Tensor x = dtype ? to_dtype(input, *dtype) : input;
  if (!x.is_floating_point())
    NORCH_NOT_IMPLEMENTED(name, ": not implemented for dtype ", dtype_name(x.dtype()),
                          " (pass dtype= to compute in a floating type)");
  Tensor xc = contiguous(x.detach());
  Tensor out = empty(x.sizes(), TensorOptions(x.dtype(), x.device()));
  const Layout l = layout_of(x, d);
  if (x.numel() > 0) softmax_stub(x.device())(xc, out, l.outer, l.dim, l.inner, log);
  if (autograd::needs_grad(x))
    autograd::record(log ? "LogSoftmaxBackward0" : "SoftmaxBackward0", {x}, {out}, {out},
                     [d, log](BackwardContext& ctx, const TensorList& g) -> TensorList {
                       return {softmax_backward_data(g[0], ctx.saved(0), d, log)};
                     });
  return out;
}

}  // namespace

Tensor softmax(const Tensor& input, int64_t dim, std::optional<ScalarType> dtype) {
  NORCH_AUTOCAST(softmax(autocast::fp32_on_cuda(input), dim, dtype));
  return softmax_impl(input, dim, dtype, false);
}
Tensor log_softmax(const Tensor& input, int64_t dim, std::optional<ScalarType> dtype) {
  NORCH_AUTOCAST(log_softmax(autocast::fp32_on_cuda(input), dim, dtype));
  return softmax_impl(input, dim, dtype, true);
}

Tensor softmax_backward_data(const Tensor& grad, const Tensor& output, int64_t dim, bool log) {
  const int64_t d = wrap_dim(dim, output.dim());
  const Shape dims = output.dim() == 0 ? Shape{} : Shape{d};
  if (autograd::GradMode::is_enabled() && autograd::needs_grad(grad, output)) {
    // Building a graph (create_graph): the same formula in differentiable ops.
    if (log) return sub(grad, mul(exp(output), sum(grad, dims, true)));
    return mul(output, sub(grad, sum(mul(grad, output), dims, true)));
  }
  Tensor g = contiguous(grad.dtype() == output.dtype() ? grad : to_dtype(grad, output.dtype()));
  Tensor y = contiguous(output);
  Tensor gx = empty(output.sizes(), TensorOptions(output.dtype(), output.device()));
  const Layout l = layout_of(output, d);
  if (output.numel() > 0) softmax_backward_stub(output.device())(g, y, gx, l.outer, l.dim, l.inner, log);
  return gx;
}

}  // namespace nn
}  // namespace norch

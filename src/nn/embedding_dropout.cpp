// embedding (a row gather whose backward is an index_add-like scatter) and
// dropout (a Bernoulli keep-mask from the default generator, scaled by 1/(1-p)).
#include "kernels/nn_fused.h"
#include "norch/autograd/function.h"
#include "norch/nn/loss.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/random.h"
#include "norch/ops/shape.h"

namespace norch {

DispatchStub<EmbeddingKernel> embedding_stub("embedding");
DispatchStub<EmbeddingBackwardKernel> embedding_backward_stub("embedding_backward");

namespace nn {
namespace {

using autograd::BackwardContext;

Tensor flat_indices(const Tensor& indices, const char* op) {
  NORCH_CHECK(indices.dtype() == ScalarType::Int64 || indices.dtype() == ScalarType::Int32, op,
              ": Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; "
              "but got ", dtype_name(indices.dtype()), " instead");
  return contiguous(reshape(to_dtype(indices, ScalarType::Int64), {indices.numel()}));
}

int64_t wrap_padding(std::optional<int64_t> padding_idx, int64_t V) {
  if (!padding_idx) return -1;
  int64_t p = *padding_idx;
  NORCH_CHECK_VALUE(p < V && p >= -V, "Padding_idx must be within num_embeddings");
  return p < 0 ? p + V : p;
}

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& indices, std::optional<int64_t> padding_idx) {
  NORCH_CHECK(weight.dim() == 2, "embedding: 'weight' must be 2-D, got shape ", weight.sizes());
  NORCH_CHECK(weight.device() == indices.device(), "embedding: weight and indices must be on the same device");
  const int64_t V = weight.size(0), D = weight.size(1);
  const int64_t pad = wrap_padding(padding_idx, V);
  Tensor idx = flat_indices(indices, "embedding");
  Shape out_shape = indices.sizes();
  out_shape.push_back(D);
  Tensor out = empty({idx.numel(), D}, TensorOptions(weight.dtype(), weight.device()));
  if (out.numel() > 0 || idx.numel() > 0) embedding_stub(weight.device())(contiguous(weight.detach()), idx, out);
  out = view(out, out_shape);
  if (autograd::needs_grad(weight))
    autograd::record("EmbeddingBackward0", {weight}, {out}, {}, [idx, V, D, pad](BackwardContext&, const TensorList& g) {
      return TensorList{embedding_backward(reshape(g[0], {idx.numel(), D}), idx, V, pad < 0 ? std::nullopt
                                                                                         : std::optional<int64_t>(pad))};
    });
  return out;
}

Tensor embedding_backward(const Tensor& grad, const Tensor& indices, int64_t num_weights,
                          std::optional<int64_t> padding_idx) {
  Tensor idx = flat_indices(indices, "embedding_backward");
  const int64_t D = grad.numel() == 0 ? (grad.dim() ? grad.size(grad.dim() - 1) : 0) : grad.numel() / std::max<int64_t>(idx.numel(), 1);
  Tensor g = contiguous(reshape(grad, {idx.numel(), D}));
  const int64_t pad = padding_idx ? *padding_idx : -1;
  Tensor out = empty({num_weights, D}, TensorOptions(grad.dtype(), grad.device()));
  embedding_backward_stub(grad.device())(g.detach(), idx, pad, out);
  if (autograd::needs_grad(grad)) {
    // Linear in grad: its gradient is the lookup again, with padding rows zeroed.
    autograd::record("EmbeddingBackwardBackward0", {grad}, {out}, {},
                     [idx, pad, D, shape = grad.sizes()](BackwardContext&, const TensorList& gg) {
                       Tensor r = embedding(gg[0], idx);
                       if (pad >= 0) r = mul(r, unsqueeze(to_dtype(ne(idx, scalar_to_tensor(Scalar(pad))), r.dtype()), 1));
                       return TensorList{reshape(r, shape)};
                     });
  }
  return out;
}

Tensor dropout(const Tensor& input, double p, bool training) {
  NORCH_CHECK_VALUE(p >= 0.0 && p <= 1.0, "dropout probability has to be between 0 and 1, but got ", p);
  if (!training || p == 0.0) return input;
  NORCH_CHECK(input.is_floating_point(), "dropout: expected a floating point input, got ", dtype_name(input.dtype()));
  if (p == 1.0) return mul(input, zeros_like(input));
  // mask holds 0 or 1/(1-p), so forward and backward are one multiply each.
  Tensor mask = empty(input.sizes(), TensorOptions(input.dtype(), input.device()));
  {
    autograd::NoGradGuard no_grad;
    bernoulli_(mask, 1.0 - p);
    mask = mul(mask, scalar_to_tensor(Scalar(1.0 / (1.0 - p))));
  }
  return mul(input, mask);
}

}  // namespace nn
}  // namespace norch

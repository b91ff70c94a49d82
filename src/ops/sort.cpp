// Sorting ops: sort/argsort/topk/unique. sort owns a kernel; topk is sort plus
// narrow (simple, O(n log n) per slice; a partial-selection kernel can follow
// when a benchmark asks for it). Values' gradient scatters back through the
// indices; indices and unique are not differentiable.
#include "kernels/select.h"
#include "norch/autograd/function.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/select.h"
#include "norch/ops/shape.h"

namespace norch {

DispatchStub<SortKernel> sort_stub("sort");
DispatchStub<UniqueKernel> unique_stub("unique");

std::tuple<Tensor, Tensor> sort(const Tensor& a, int64_t dim, bool descending, bool /*stable: always*/) {
  const int64_t d = wrap_dim(dim, a.dim());
  Tensor a1 = a.dim() == 0 ? reshape(a.detach(), {1}) : a.detach();
  Tensor values = empty(a1.sizes(), TensorOptions(a.dtype(), a.device()));
  Tensor indices = empty(a1.sizes(), TensorOptions(ScalarType::Int64, a.device()));
  sort_stub(a.device())(values, indices, a1, d, descending);
  if (a.dim() == 0) {
    values = view(values, {});
    indices = view(indices, {});
  }
  if (autograd::needs_grad(a)) {
    autograd::record("SortBackward0", {a}, {values}, {}, [d, indices](autograd::BackwardContext& ctx,
                                                                      const TensorList& g) -> TensorList {
      Tensor z = zeros(ctx.input(0).shape, TensorOptions(g[0].dtype(), g[0].device()));
      return {scatter_add(z, d, indices, g[0])};
    });
  }
  return {values, indices};
}

Tensor argsort(const Tensor& a, int64_t dim, bool descending, bool stable) {
  return std::get<1>(sort(a.detach(), dim, descending, stable));
}

std::tuple<Tensor, Tensor> topk(const Tensor& a, int64_t k, int64_t dim, bool largest, bool /*sorted: always*/) {
  const int64_t d = wrap_dim(dim, a.dim());
  const int64_t n = a.dim() == 0 ? 1 : a.sizes()[d];
  NORCH_CHECK(k >= 0 && k <= n, "topk(): selected index k out of range (k = ", k, ", size along dim ", d, " = ", n,
              ")");
  auto [values, indices] = sort(a, d, largest, true);
  if (a.dim() == 0) return {values, indices};
  return {clone(narrow(values, d, 0, k)), clone(narrow(indices, d, 0, k))};
}

std::tuple<Tensor, Tensor, Tensor> unique(const Tensor& a, bool /*sorted: always*/) {
  Tensor values, inverse, counts;
  unique_stub(Device())(to_device(a.detach(), Device()), values, inverse, counts);
  return {to_device(values, a.device()), to_device(inverse, a.device()), to_device(counts, a.device())};
}

}  // namespace norch

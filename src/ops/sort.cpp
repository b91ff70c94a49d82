// Sorting ops: sort/argsort/topk/unique, on one sort kernel that can stop after
// the first k entries (topk). Values' gradient scatters back through the
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

namespace {
// The first k entries of each slice along dim in sorted order, with the
// gradient of the values scattered back through the indices.
std::tuple<Tensor, Tensor> sorted_prefix(const char* name, const Tensor& a, int64_t d, bool descending, int64_t k) {
  Tensor a1 = a.dim() == 0 ? reshape(a.detach(), {1}) : a.detach();
  Shape shape = a1.sizes();
  shape[d] = k;
  Tensor values = empty(shape, TensorOptions(a.dtype(), a.device()));
  Tensor indices = empty(shape, TensorOptions(ScalarType::Int64, a.device()));
  sort_stub(a.device())(values, indices, a1, d, descending, k);
  if (a.dim() == 0) {
    values = view(values, {});
    indices = view(indices, {});
  }
  if (autograd::needs_grad(a)) {
    autograd::record(name, {a}, {values}, {}, [d, indices](autograd::BackwardContext& ctx,
                                                           const TensorList& g) -> TensorList {
      Tensor z = zeros(ctx.input(0).shape, TensorOptions(g[0].dtype(), g[0].device()));
      return {scatter_add(z, d, indices, g[0])};
    });
  }
  return {values, indices};
}
}  // namespace

std::tuple<Tensor, Tensor> sort(const Tensor& a, int64_t dim, bool descending, bool /*stable: always*/) {
  const int64_t d = wrap_dim(dim, a.dim());
  return sorted_prefix("SortBackward0", a, d, descending, a.dim() == 0 ? 1 : a.sizes()[d]);
}

Tensor argsort(const Tensor& a, int64_t dim, bool descending, bool stable) {
  return std::get<1>(sort(a.detach(), dim, descending, stable));
}

std::tuple<Tensor, Tensor> topk(const Tensor& a, int64_t k, int64_t dim, bool largest, bool /*sorted: always*/) {
  const int64_t d = wrap_dim(dim, a.dim());
  const int64_t n = a.dim() == 0 ? 1 : a.sizes()[d];
  NORCH_CHECK(k >= 0 && k <= n, "topk(): selected index k out of range (k = ", k, ", size along dim ", d, " = ", n,
              ")");
  if (a.dim() == 0) return sort(a, d, largest);
  return sorted_prefix("TopkBackward0", a, d, largest, k);
}

std::tuple<Tensor, Tensor, Tensor> unique(const Tensor& a, bool /*sorted: always*/, std::optional<int64_t> dim) {
  // Rows to deduplicate: single elements (dim=None) or the slices along dim.
  Tensor x = a.detach();
  int64_t d = 0;
  Tensor rows;
  if (dim) {
    d = wrap_dim(*dim, a.dim(), /*scalar_ok=*/false);
    int64_t m = 1;
    for (int64_t k = 0; k < x.dim(); ++k) m *= k == d ? 1 : x.sizes()[k];
    NORCH_CHECK(m > 0 || x.sizes()[d] == 0,
                "There are 0 sized dimensions, and they aren't selected, so unique cannot be applied");
    rows = reshape(movedim(x, d, 0), {x.sizes()[d], m});
  } else {
    rows = reshape(x, {x.numel(), 1});
  }
  Tensor first, inverse, counts;
  unique_stub(Device())(contiguous(to_device(rows, Device())), first, inverse, counts);
  first = to_device(first, a.device());
  Tensor values = dim ? index_select(x, d, first) : index_select(reshape(x, {-1}), 0, first);
  if (!dim) inverse = view(inverse, a.sizes());
  return {values, to_device(inverse, a.device()), to_device(counts, a.device())};
}

}  // namespace norch

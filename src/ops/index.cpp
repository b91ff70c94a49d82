// Indexing: basic indices become view ops; tensor indices are advanced indexing.
#include "norch/ops/index.h"

#include <algorithm>

#include "kernels/select.h"
#include "norch/autograd/function.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/select.h"
#include "norch/ops/shape.h"
#include "norch/ops/unary.h"
#include "norch/tensor/iterator.h"

namespace norch {

namespace {

// NumPy broadcasting of `a` with *out (empty: no shape yet); false when incompatible.
bool broadcasts_to(const Shape& a, const Shape& b, Shape* out) {
  const size_t n = std::max(a.size(), b.size());
  Shape r(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t x = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t y = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (x != y && x != 1 && y != 1) return false;
    r[i] = x == 1 ? y : x;
  }
  *out = r;
  return true;
}

bool is_mask(const Tensor& t) { return t.dtype() == ScalarType::Bool || t.dtype() == ScalarType::UInt8; }

// value broadcast to the indexing result's shape (leading size-1 dims of value
// are dropped, as PyTorch does) in self's dtype.
Tensor broadcast_value(const Tensor& self, const Tensor& value, const Shape& shape) {
  Tensor val = value;
  while (val.dim() > static_cast<int64_t>(shape.size()) && val.sizes()[0] == 1) val = squeeze(val, {0});
  Shape common;
  NORCH_CHECK(val.dim() <= static_cast<int64_t>(shape.size()) && broadcasts_to(val.sizes(), shape, &common) &&
                  common == shape,
              "shape mismatch: value tensor of shape ", value.sizes(), " cannot be broadcast to indexing result of shape ",
              shape);
  return expand(to_dtype(val, self.dtype()), shape);
}

// Applies the basic indices and returns the view plus, for each remaining
// tensor index, the dim of the view it applies to.
Tensor apply_basic(const Tensor& self, const std::vector<TensorIndex>& indices,
                   std::vector<std::pair<int64_t, Tensor>>& tensor_indices) {
  int64_t consumed = 0, ellipses = 0;
  for (const auto& ix : indices) {
    if (ix.kind == TensorIndex::Kind::Int || ix.kind == TensorIndex::Kind::Slice) consumed += 1;
    else if (ix.kind == TensorIndex::Kind::Tensor)
      consumed += ix.tensor.dtype() == ScalarType::Bool || ix.tensor.dtype() == ScalarType::UInt8 ? ix.tensor.dim() : 1;
    else if (ix.kind == TensorIndex::Kind::Ellipsis) ellipses += 1;
  }
  NORCH_CHECK_INDEX(ellipses <= 1, "an index can only have a single ellipsis ('...')");
  // Note [0-d indexing]: seed 002 prints loss[0] on a 0-d loss; 0 and -1 on a
  // 0-d tensor return the tensor itself (DESIGN principle 1). Anything else raises.
  if (self.dim() == 0 && indices.size() == 1 && indices[0].kind == TensorIndex::Kind::Int) {
    int64_t i = indices[0].integer;
    NORCH_CHECK_INDEX(i == 0 || i == -1, "index ", i, " is out of bounds for a 0-d tensor (only 0 and -1 are allowed)");
    return self;
  }
  NORCH_CHECK_INDEX(consumed <= self.dim(), "too many indices for tensor of dimension ", self.dim(), " (got ",
                    consumed, ")");
  Tensor r = self;
  int64_t dim = 0;
  for (const auto& ix : indices) {
    switch (ix.kind) {
      case TensorIndex::Kind::Int: {
        const int64_t n = r.sizes()[dim];
        NORCH_CHECK_INDEX(ix.integer >= -n && ix.integer < n, "index ", ix.integer, " is out of bounds for dimension ",
                          dim, " with size ", n);
        r = select(r, dim, ix.integer);
        break;
      }
      case TensorIndex::Kind::Slice:
        NORCH_CHECK_VALUE(ix.step > 0, "step must be greater than zero");
        r = slice(r, dim, ix.start, ix.stop, ix.step);
        dim += 1;
        break;
      case TensorIndex::Kind::None:
        r = unsqueeze(r, dim);
        dim += 1;
        break;
      case TensorIndex::Kind::Ellipsis:
        dim += self.dim() - consumed;
        break;
      case TensorIndex::Kind::Tensor:
        tensor_indices.emplace_back(dim, ix.tensor);
        dim += ix.tensor.dtype() == ScalarType::Bool || ix.tensor.dtype() == ScalarType::UInt8 ? ix.tensor.dim() : 1;
        break;
    }
  }
  return r;
}

// self with the region selected by basic `indices` replaced by value, out of
// place and differentiable in both.
Tensor basic_index_put(const Tensor& self, const std::vector<TensorIndex>& indices, const Tensor& value) {
  std::vector<std::pair<int64_t, Tensor>> unused;
  Tensor out = clone(self.detach());
  copy_data(apply_basic(out, indices, unused), value);
  // A boolean mask selected with where, not multiplied: the overwritten
  // region gets exactly 0 even under an infinite or NaN upstream gradient.
  Tensor keep = ones(self.sizes(), TensorOptions(ScalarType::Bool, self.device()));
  copy_data(apply_basic(keep, indices, unused), zeros({}, TensorOptions(ScalarType::Bool, self.device())));
  if (autograd::needs_grad(self, value))
    autograd::record("IndexPutBackward0", {self, value}, {out}, {keep},
                     [indices](autograd::BackwardContext& ctx, const TensorList& g) -> TensorList {
                       return {ctx.needs_input_grad(0) ? where(ctx.saved(0), g[0], zeros_like(g[0])) : Tensor(),
                               ctx.needs_input_grad(1) ? index(g[0], indices) : Tensor()};
                     });
  return out;
}

// Note [Advanced indexing as a gather on flat positions]
// A single index tensor is an index_select along its dim. Otherwise the tensor
// indices are turned into one int64 tensor P of the result's shape
// holding, for each result element, its row-major position in the (basic-
// indexed) source r. Then r[indices] = index_select(r.reshape(-1), 0, P) and
// setitem is a scatter on the same positions, so both get their gradients
// (and double gradients) from gather/scatter. Bool masks become their
// nonzero() coordinates first, as in NumPy.
//
// Layout rule (NumPy/PyTorch): the broadcast index shape B replaces the
// indexed dims in place when those dims are adjacent; otherwise B goes first
// and the remaining dims follow in order.
// Returns the selected values (contiguous, any shape) and the result's shape.
std::pair<Tensor, Shape> advanced_select(Tensor& r, std::vector<std::pair<int64_t, Tensor>> tensor_indices) {
  std::vector<std::pair<int64_t, Tensor>> idx;  // (dim of r, int64 index)
  int64_t shift = 0;
  for (auto& [dim0, t] : tensor_indices) {
    int64_t dim = dim0 + shift;
    NORCH_CHECK(t.device() == r.device(), "indices should be either on cpu or on the same device as the indexed "
                "tensor (", r.device(), ")");
    if (t.dtype() == ScalarType::Bool || t.dtype() == ScalarType::UInt8) {
      Tensor mask = t;
      if (mask.dim() == 0) {
        // A 0-d bool index adds a dim of size 1 (True) or 0 (False).
        r = unsqueeze(r, dim);
        shift += 1;
        mask = reshape(mask, {1});
      }
      for (int64_t k = 0; k < mask.dim(); ++k)
        NORCH_CHECK_INDEX(mask.sizes()[k] == r.sizes()[dim + k], "The shape of the mask ", mask.sizes(),
                          " at index ", k, " does not match the shape of the indexed tensor ", r.sizes(),
                          " at index ", dim + k);
      Tensor nz = nonzero(mask);
      for (int64_t k = 0; k < mask.dim(); ++k) idx.emplace_back(dim + k, select(nz, 1, k));
    } else {
      const int64_t n = r.sizes()[dim];
      std::optional<int64_t> bad;
      Tensor wrapped = checked_index_cpu(t, n, true, bad);
      NORCH_CHECK_INDEX(!bad, "index ", bad.value_or(0), " is out of bounds for dimension ", dim, " with size ", n);
      idx.emplace_back(dim, to_device(wrapped, r.device()));
    }
  }
  if (idx.size() == 1) {
    // One index tensor: index_select along its dim, no position tensor needed.
    auto& [d, t] = idx.front();
    Shape shape(r.sizes().begin(), r.sizes().begin() + d);
    shape.insert(shape.end(), t.sizes().begin(), t.sizes().end());
    shape.insert(shape.end(), r.sizes().begin() + d + 1, r.sizes().end());
    return {index_select(r, d, reshape(t, {-1})), shape};
  }
  Shape b;
  bool broadcastable = true;
  for (auto& [d, t] : idx) broadcastable = broadcastable && broadcasts_to(t.sizes(), b, &b);
  if (!broadcastable) {
    std::string shapes;
    for (auto& [d, t] : idx) shapes += (shapes.empty() ? "" : ", ") + str(t.sizes());
    NORCH_CHECK_INDEX(false, "shape mismatch: indexing tensors could not be broadcast together with shapes ", shapes);
  }
  bool adjacent = true;
  for (size_t k = 1; k < idx.size(); ++k) adjacent = adjacent && idx[k].first == idx[k - 1].first + 1;
  std::vector<bool> indexed(r.dim(), false);
  for (auto& [d, t] : idx) indexed[d] = true;
  // Where each remaining dim of r lands in the result, and where B starts.
  const int64_t b_at = adjacent ? idx.front().first : 0;
  Shape result;
  std::vector<std::pair<int64_t, int64_t>> rest;  // (dim of r, result position)
  for (int64_t d = 0; d < r.dim(); ++d) {
    if (indexed[d]) continue;
    int64_t pos = static_cast<int64_t>(rest.size()) + ((!adjacent || d > b_at) ? static_cast<int64_t>(b.size()) : 0);
    rest.emplace_back(d, pos);
  }
  const int64_t rank = static_cast<int64_t>(rest.size() + b.size());
  result.assign(rank, 1);
  for (size_t k = 0; k < b.size(); ++k) result[b_at + k] = b[k];
  for (auto& [d, pos] : rest) result[pos] = r.sizes()[d];
  const Shape cs = contiguous_strides(r.sizes());
  TensorOptions opts(ScalarType::Int64, r.device());
  Tensor p = zeros({}, opts);
  for (auto& [d, t] : idx) {
    Shape place(rank, 1);
    for (size_t k = 0; k < b.size(); ++k) place[b_at + k] = b[k];
    p = add(p, mul(reshape(expand(t, b), place), Scalar(cs[d])));
  }
  for (auto& [d, pos] : rest) {
    Shape place(rank, 1);
    place[pos] = r.sizes()[d];
    Tensor ar = arange(Scalar(int64_t(0)), Scalar(r.sizes()[d]), Scalar(int64_t(1)), opts);
    p = add(p, mul(reshape(ar, place), Scalar(cs[d])));
  }
  p = contiguous(expand(p, result));
  return {index_select(reshape(r, {-1}), 0, reshape(p, {-1})), p.sizes()};
}

Tensor advanced_index(Tensor r, const std::vector<std::pair<int64_t, Tensor>>& tensor_indices) {
  auto [values, shape] = advanced_select(r, tensor_indices);
  return view(values, shape);
}

}  // namespace

Tensor index(const Tensor& self, const std::vector<TensorIndex>& indices) {
  std::vector<std::pair<int64_t, Tensor>> tensor_indices;
  Tensor r = apply_basic(self, indices, tensor_indices);
  if (tensor_indices.empty()) return r;
  return advanced_index(r, tensor_indices);
}

Tensor& index_put_(Tensor& self, const std::vector<TensorIndex>& indices, const Tensor& value, bool accumulate) {
  std::vector<std::pair<int64_t, Tensor>> tensor_indices;
  if (self.dim() == 0 && indices.size() == 1 && indices[0].kind == TensorIndex::Kind::Int) {
    index(self, indices);  // checks the index (0 and -1 only)
    std::vector<TensorIndex> none;
    return index_put_(self, none, value, accumulate);
  }
  Tensor target = apply_basic(self.detach(), indices, tensor_indices);
  autograd::check_inplace(self, "index_put_");
  if (tensor_indices.empty() && !accumulate) {
    if (!autograd::needs_grad(self, value)) {
      copy_data(target, value);
      self.bump_version();
      return self;
    }
    // Out of place with history: new = self with the view region replaced by value.
    Tensor result = basic_index_put(self, indices, value);
    copy_data(self, result);
    self.bump_version();
    autograd::rebase_history(self, result);
    return self;
  }
  NORCH_CHECK(value.dtype() == self.dtype() || value.impl()->is_wrapped_number,
              "Index put requires the source and destination dtypes match, got ", dtype_name(self.dtype()),
              " for the destination and ", dtype_name(value.dtype()), " for the source.");
  if (tensor_indices.size() == 1 && !is_mask(tensor_indices[0].second) && !autograd::needs_grad(self, value)) {
    // One integer index tensor, no autograd: scatter along its dim straight into the view.
    auto& [d, t] = tensor_indices[0];
    const int64_t n = target.sizes()[d];
    std::optional<int64_t> bad;
    Tensor ix = to_device(checked_index_cpu(t, n, true, bad), self.device());
    NORCH_CHECK_INDEX(!bad, "index ", bad.value_or(0), " is out of bounds for dimension ", d, " with size ", n);
    Shape shape(target.sizes().begin(), target.sizes().begin() + d);
    shape.insert(shape.end(), t.sizes().begin(), t.sizes().end());
    shape.insert(shape.end(), target.sizes().begin() + d + 1, target.sizes().end());
    Shape flat_shape = target.sizes(), pattern(target.dim(), 1);
    flat_shape[d] = pattern[d] = ix.numel();
    Tensor v = reshape(broadcast_value(self, value, shape), flat_shape);
    scatter_stub(self.device())(target, d, expand(reshape(ix, pattern), flat_shape), v.detach(), accumulate);
    self.bump_version();
    return self;
  }
  // Any other index: the positions of the selected elements in self, found by
  // indexing a tensor of positions the same way (Note [Advanced indexing as a
  // gather on flat positions]); costs one int64 tensor of self's size.
  Tensor positions = view(arange(Scalar(int64_t(0)), Scalar(self.numel()), Scalar(int64_t(1)),
                                 TensorOptions(ScalarType::Int64, self.device())), self.sizes());
  Tensor p = index(positions, indices);
  Tensor v = reshape(broadcast_value(self, value, p.sizes()), {-1});
  Tensor flat_p = reshape(p, {-1});
  if (!autograd::needs_grad(self, value)) {
    if (self.is_contiguous()) {
      // Positions come from self's own layout, so they are in range: write in place.
      scatter_stub(self.device())(view(self.detach(), {-1}), 0, flat_p, v.detach(), accumulate);
      self.bump_version();
      return self;
    }
    Tensor flat = reshape(self.detach(), {-1});
    Tensor result = accumulate ? scatter_add(flat, 0, flat_p, v) : scatter(flat, 0, flat_p, v);
    copy_data(self, view(result, self.sizes()));
    self.bump_version();
    return self;
  }
  Tensor flat = reshape(self.requires_grad() ? clone(self) : self, {-1});
  Tensor result = view(accumulate ? scatter_add(flat, 0, flat_p, v) : scatter(flat, 0, flat_p, v), self.sizes());
  copy_data(self, result);
  self.bump_version();
  autograd::rebase_history(self, result);
  return self;
}

Tensor index_put(const Tensor& self, const std::vector<TensorIndex>& indices, const Tensor& value, bool accumulate) {
  Tensor out = clone(self);
  return index_put_(out, indices, value, accumulate);
}

}  // namespace norch

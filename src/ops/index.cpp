// Indexing: basic indices become view ops; tensor indices are advanced indexing.
#include "norch/ops/index.h"

#include "norch/autograd/function.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/shape.h"

namespace norch {

namespace {

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
  Tensor keep = ones(self.sizes(), TensorOptions(self.dtype(), self.device()));
  copy_data(apply_basic(keep, indices, unused), zeros({}, TensorOptions(self.dtype(), self.device())));
  if (autograd::needs_grad(self, value))
    autograd::record("IndexPutBackward0", {self, value}, {out}, {keep},
                     [indices](autograd::BackwardContext& ctx, const TensorList& g) -> TensorList {
                       return {ctx.needs_input_grad(0) ? mul(g[0], ctx.saved(0)) : Tensor(),
                               ctx.needs_input_grad(1) ? index(g[0], indices) : Tensor()};
                     });
  return out;
}

Tensor advanced_index(const Tensor& self, const std::vector<std::pair<int64_t, Tensor>>& tensor_indices) {
  NORCH_NOT_IMPLEMENTED("indexing with tensors is not implemented yet");
}

Tensor& advanced_index_put_(Tensor& self, const std::vector<TensorIndex>& indices, const Tensor& value) {
  NORCH_NOT_IMPLEMENTED("assignment through tensor indices is not implemented yet");
}

}  // namespace

Tensor index(const Tensor& self, const std::vector<TensorIndex>& indices) {
  std::vector<std::pair<int64_t, Tensor>> tensor_indices;
  Tensor r = apply_basic(self, indices, tensor_indices);
  if (tensor_indices.empty()) return r;
  return advanced_index(r, tensor_indices);
}

Tensor& index_put_(Tensor& self, const std::vector<TensorIndex>& indices, const Tensor& value) {
  std::vector<std::pair<int64_t, Tensor>> tensor_indices;
  if (self.dim() == 0 && indices.size() == 1 && indices[0].kind == TensorIndex::Kind::Int) {
    std::vector<TensorIndex> none;
    return index_put_(self, none, value);
  }
  Tensor target = apply_basic(self.detach(), indices, tensor_indices);
  if (tensor_indices.empty()) {
    if (!autograd::needs_grad(self, value)) {
      autograd::check_inplace(self, "index_put_");
      copy_data(target, value);
      self.bump_version();
      return self;
    }
    autograd::check_inplace(self, "index_put_");
    // Out of place with history: new = self with the view region replaced by value.
    Tensor result = basic_index_put(self, indices, value);
    copy_data(self, result);
    self.bump_version();
    autograd::rebase_history(self, result);
    return self;
  }
  return advanced_index_put_(self, indices, value);
}

}  // namespace norch

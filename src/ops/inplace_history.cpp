// rebase_history: an in-place op's result takes its place in the graph, and a
// write into a view rewrites the history of the tensor it views (CopySlices).
// It lives in ops, not beside the graph records (src/autograd/function.cpp): it
// runs at forward time inside in-place ops and builds its node from ops (ones,
// zeros, copy_data, where), which the records, sitting below ops, may not call.
#include "norch/autograd/function.h"
#include "norch/ops/binary.h"
#include "norch/ops/copy.h"
#include "norch/ops/creation.h"
#include "norch/ops/unary.h"

namespace norch::autograd {

// Note [In-place on views]: writing in place into a view also changes the
// tensor it views, so the base's history must change too (PyTorch's
// CopySlices). The base gets a node whose gradient passes through everywhere
// except the view's region (masked out), where it flows to the in-place
// result instead; the view's own history is then re-taken from the new base.
// Views are only tracked when they were recorded with history.
void rebase_history(const Tensor& self, const Tensor& result) {
  auto fn = result.grad_fn();
  if (!fn) return;
  auto& m = self.impl()->autograd();
  if (m.view_base.defined() && GradMode::is_enabled()) {
    Tensor base = m.view_base;
    auto view_fn = m.view_fn;
    Tensor mask;
    {
      NoGradGuard no_grad;
      // Boolean, applied with where: see basic_index_put (index.cpp).
      TensorOptions opts(ScalarType::Bool, base.device());
      mask = ones(base.sizes(), opts);
      copy_data(view_fn(mask), zeros({}, opts));
    }
    Tensor new_base = alias(base);
    record("CopySlices", {base, result}, {new_base}, {mask},
           [view_fn](BackwardContext& ctx, const TensorList& g) -> TensorList {
             return {ctx.needs_input_grad(0) ? where(ctx.saved(0), g[0], zeros_like(g[0])) : Tensor(),
                     ctx.needs_input_grad(1) ? view_fn(g[0]) : Tensor()};
           });
    auto& bm = base.impl()->autograd();
    bm.grad_fn = new_base.grad_fn();
    bm.output_nr = 0;
    bm.requires_grad = false;
    Tensor retaken = view_fn(base);
    m.grad_fn = retaken.grad_fn();
    m.output_nr = retaken.output_nr();
    m.requires_grad = false;
    return;
  }
  m.grad_fn = fn;
  m.output_nr = result.output_nr();
  m.requires_grad = false;
}

}  // namespace norch::autograd

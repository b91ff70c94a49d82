// norch/autograd/function.h — how an op records its backward (DESIGN "one op, one place").
//
//   Tensor mul(const Tensor& a, const Tensor& b) {
//     Tensor out = ...forward kernel...;
//     if (autograd::needs_grad(a, b))
//       autograd::record("MulBackward0", {a, b}, {out}, /*save=*/{a, b},
//           [](autograd::BackwardContext& ctx, const TensorList& g) -> TensorList {
//             Tensor a = ctx.saved(0), b = ctx.saved(1);
//             return {ctx.needs_input_grad(0) ? mul(g[0], b) : Tensor(),
//                     ctx.needs_input_grad(1) ? mul(g[0], a) : Tensor()};
//           });
//     return out;
//   }
//
// The formula is written with differentiable norch ops, so with create_graph the
// backward pass is itself recorded (double backward). It may return gradients
// with the broadcast shape or the output dtype: the engine reduces them to each
// input's shape and dtype (sum_to) in one place. Non-tensor state the formula
// needs (dims, scalars) is captured by value in the lambda.
#pragma once
#include <functional>
#include <initializer_list>

#include "norch/autograd/grad_mode.h"
#include "norch/autograd/node.h"
#include "norch/autograd/saved_variable.h"

namespace norch::autograd {

class FunctionNode;

struct BackwardContext {
  FunctionNode& node;
  // The i-th saved tensor, checked against in-place modification since saving.
  Tensor saved(size_t i) const;
  bool needs_input_grad(size_t i) const;
  const InputMeta& input(size_t i) const;
};

using BackwardFormula = std::function<TensorList(BackwardContext& ctx, const TensorList& grads)>;

class FunctionNode : public Node {
 public:
  FunctionNode(const char* name, BackwardFormula formula) : name_(name), formula_(std::move(formula)) {}
  TensorList apply(TensorList&& grads) override;
  std::string name() const override { return name_; }
  void release_variables() override;

  std::vector<SavedVariable> saved;
  std::vector<InputMeta> output_meta;  // shape/dtype/device of each forward output
  // When true, undefined output gradients reach the formula as zeros (the
  // default, like PyTorch's materialize_grads; the engine makes them before
  // apply); multi-output ops may opt out.
  bool materialize_grads = true;

 private:
  const char* name_;
  BackwardFormula formula_;
};

// True when grad mode is on and any argument requires grad.
bool needs_grad(const Tensor& a);
bool needs_grad(const Tensor& a, const Tensor& b);
bool needs_grad(const TensorList& ts);

// Records a FunctionNode for `outputs` (marking floating-point outputs as
// requiring grad) with edges to `inputs`, saving `to_save` (inputs or outputs).
std::shared_ptr<FunctionNode> record(const char* name, const TensorList& inputs, const TensorList& outputs,
                                     const TensorList& to_save, BackwardFormula formula);

// Connects an existing node to outputs and inputs (used by record and by nodes
// defined elsewhere, such as Python Functions).
void set_history(const std::shared_ptr<Node>& node, const TensorList& inputs, const TensorList& outputs);

// Refuses in-place modification of a leaf that requires grad (PyTorch's message).
void check_inplace(const Tensor& self, const char* op_name);
// Records that `view` was taken from `input` by `replay` (composed with input's
// own view function when input is itself a view).
void set_view_info(const Tensor& view, const Tensor& input, std::function<Tensor(const Tensor&)> replay);

// rebase_history(self, result), called by in-place ops, is declared in
// norch/ops/copy.h: it builds nodes with ops, so it sits above this layer.

}  // namespace norch::autograd

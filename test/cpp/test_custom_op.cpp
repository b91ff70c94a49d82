// A custom op with its own backward, defined outside the library with
// autograd::record (the example of docs/extending.md).
#include <gtest/gtest.h>

#include <cmath>

#include "test_helpers.h"

using namespace norch;
using norch::testing::from_vector;
using norch::testing::to_vector;

namespace {

// softplus(x) = log(1 + exp(x)); d/dx = sigmoid(x).
Tensor my_softplus(const Tensor& x) {
  Tensor out;
  {
    // The forward is computed with library ops but must not record their nodes:
    // the custom node below replaces them.
    autograd::NoGradGuard no_grad;
    out = log1p(exp(x));
  }
  if (autograd::needs_grad(x)) {
    autograd::record("MySoftplusBackward0", /*inputs=*/{x}, /*outputs=*/{out}, /*to_save=*/{x},
                     [](autograd::BackwardContext& ctx, const TensorList& grads) -> TensorList {
                       // Written with differentiable ops, so double backward works too.
                       return {mul(grads[0], sigmoid(ctx.saved(0)))};
                     });
  }
  return out;
}

double sigmoid_d(double v) { return 1.0 / (1.0 + std::exp(-v)); }

}  // namespace

TEST(CustomOp, ForwardAndBackward) {
  Tensor x = from_vector({-1.0, 0.0, 2.0}, {3}, ScalarType::Float64, true);
  Tensor y = my_softplus(x);
  ASSERT_TRUE(y.grad_fn());
  EXPECT_EQ(y.grad_fn()->name(), "MySoftplusBackward0");
  EXPECT_NEAR(to_vector(y)[2], std::log1p(std::exp(2.0)), 1e-12);
  autograd::backward({sum(y)}, {}, false, false);
  std::vector<double> g = to_vector(x.grad());
  EXPECT_NEAR(g[0], sigmoid_d(-1.0), 1e-12);
  EXPECT_NEAR(g[1], 0.5, 1e-12);
  EXPECT_NEAR(g[2], sigmoid_d(2.0), 1e-12);
}

TEST(CustomOp, DoubleBackward) {
  Tensor x = from_vector({0.5}, {1}, ScalarType::Float64, true);
  TensorList g = autograd::grad({sum(my_softplus(x))}, {x}, {}, false, true, false);
  TensorList gg = autograd::grad({sum(g[0])}, {x}, {}, false, false, false);
  const double s = sigmoid_d(0.5);
  EXPECT_NEAR(to_vector(gg[0])[0], s * (1 - s), 1e-12);
}

TEST(CustomOp, NoNodeWithoutGrad) {
  Tensor x = from_vector({1.0}, {1});
  EXPECT_FALSE(my_softplus(x).grad_fn());
}

// The autograd engine from C++: backward of expressions, shared subgraphs,
// retain_graph, higher-order gradients, version checks, hooks.
#include <gtest/gtest.h>

#include <cmath>

#include "test_helpers.h"

using namespace norch;
using norch::testing::from_vector;
using norch::testing::to_vector;

TEST(Engine, BackwardOfSmallExpression) {
  Tensor x = from_vector({2.0}, {1}, ScalarType::Float64, true);
  Tensor y = from_vector({3.0}, {1}, ScalarType::Float64, true);
  Tensor z = add(mul(x, y), sin(x));  // dz/dx = y + cos x, dz/dy = x
  EXPECT_EQ(z.grad_fn()->name(), "AddBackward0");
  autograd::backward({sum(z)}, {}, false, false);
  EXPECT_NEAR(to_vector(x.grad())[0], 3.0 + std::cos(2.0), 1e-12);
  EXPECT_NEAR(to_vector(y.grad())[0], 2.0, 1e-12);
}

TEST(Engine, DiamondSumsBothPaths) {
  Tensor x = from_vector({1.0, 2.0}, {2}, ScalarType::Float64, true);
  Tensor a = mul(x, Scalar(2.0));
  Tensor d = add(mul(a, Scalar(3.0)), mul(a, a));  // d = 6x + 4x^2
  autograd::backward({sum(d)}, {}, false, false);
  EXPECT_EQ(to_vector(x.grad()), (std::vector<double>{6 + 8 * 1.0, 6 + 8 * 2.0}));
}

TEST(Engine, BroadcastGradientIsReducedToInputShape) {
  Tensor b = from_vector({1.0, 2.0, 3.0}, {3}, ScalarType::Float64, true);
  Tensor m = ones({4, 3}, TensorOptions(ScalarType::Float64));
  autograd::backward({sum(add(m, b))}, {}, false, false);
  EXPECT_EQ(b.grad().sizes(), (Shape{3}));
  EXPECT_EQ(to_vector(b.grad()), (std::vector<double>{4, 4, 4}));
}

TEST(Engine, SecondBackwardNeedsRetainGraph) {
  Tensor x = from_vector({1.0, 2.0}, {2}, ScalarType::Float64, true);
  Tensor loss = sum(mul(x, x));
  autograd::backward({loss}, {}, /*retain_graph=*/true, false);
  autograd::backward({loss}, {}, false, false);
  EXPECT_EQ(to_vector(x.grad()), (std::vector<double>{4, 8}));
  try {
    autograd::backward({loss}, {}, false, false);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Trying to backward through the graph a second time"), std::string::npos);
  }
}

TEST(Engine, GradWithCreateGraphGivesSecondDerivative) {
  Tensor x = from_vector({1.5}, {1}, ScalarType::Float64, true);
  Tensor f = sum(pow(x, Scalar(3)));
  TensorList g = autograd::grad({f}, {x}, {}, false, /*create_graph=*/true, false);
  ASSERT_TRUE(g[0].grad_fn());
  TensorList gg = autograd::grad({sum(g[0])}, {x}, {}, false, false, false);
  EXPECT_NEAR(to_vector(gg[0])[0], 6 * 1.5, 1e-12);
  EXPECT_FALSE(x.grad().defined());
}

TEST(Engine, InplaceChangeOfSavedTensorIsCaught) {
  Tensor x = from_vector({1.0, 2.0}, {2}, ScalarType::Float64, true);
  Tensor h = mul(x, Scalar(1.0));
  Tensor y = mul(h, h);
  add_(h, ones({2}, TensorOptions(ScalarType::Float64)));
  EXPECT_THROW(autograd::backward({sum(y)}, {}, false, false), Error);
  EXPECT_THROW(add_(x, x), Error);  // leaf that requires grad
}

TEST(Engine, TensorHookAndGradMode) {
  Tensor x = from_vector({1.0}, {1}, ScalarType::Float64, true);
  autograd::register_tensor_hook(x, [](const Tensor& g) { return mul(g, Scalar(10.0)); });
  autograd::backward({sum(mul(x, Scalar(3.0)))}, {}, false, false);
  EXPECT_EQ(to_vector(x.grad()), (std::vector<double>{30}));
  {
    autograd::NoGradGuard guard;
    EXPECT_FALSE(mul(x, x).requires_grad());
  }
  EXPECT_TRUE(mul(x, x).requires_grad());
}

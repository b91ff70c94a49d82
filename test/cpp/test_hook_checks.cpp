// Tensor hooks from C++ go through the same engine check as Python's
// (run_tensor_hook): a hook may change a gradient's values, never its shape
// or dtype, on a leaf or on a non-leaf.
#include <gtest/gtest.h>

#include "norch/autograd/engine.h"
#include "test_helpers.h"

using namespace norch;
using norch::testing::from_vector;
using norch::testing::to_vector;

TEST(HookChecks, ShapeChangeIsRefusedOnLeafAndNonLeaf) {
  Tensor x = from_vector({1.0, 2.0, 3.0, 4.0}, {2, 2}, ScalarType::Float64, true);
  autograd::register_tensor_hook(x, [](const Tensor& g) { return sum(g); });
  EXPECT_THROW(autograd::backward({sum(mul(x, Scalar(2.0)))}, {}, false, false), Error);
  EXPECT_FALSE(x.grad().defined());

  Tensor w = from_vector({1.0, 2.0}, {2}, ScalarType::Float64, true);
  Tensor y = mul(w, Scalar(3.0));
  autograd::register_tensor_hook(y, [](const Tensor& g) { return sum(g); });
  EXPECT_THROW(autograd::backward({sum(y)}, {}, false, false), Error);
}

TEST(HookChecks, DtypeChangeIsRefusedAndValueChangeKept) {
  Tensor x = from_vector({1.0, 2.0}, {2}, ScalarType::Float32, true);
  autograd::register_tensor_hook(x, [](const Tensor& g) { return to_dtype(g, ScalarType::Float64); });
  EXPECT_THROW(autograd::backward({sum(x)}, {}, false, false), Error);

  Tensor z = from_vector({1.0, 2.0}, {2}, ScalarType::Float64, true);
  autograd::register_tensor_hook(z, [](const Tensor& g) { return mul(g, Scalar(5.0)); });
  autograd::backward({sum(z)}, {}, false, false);
  EXPECT_EQ(to_vector(z.grad()), (std::vector<double>{5.0, 5.0}));
}

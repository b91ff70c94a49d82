// Convolution, pooling and padding from C++ alone: hand-computed values and
// gradients, so the C++ API is checked without Python or an oracle library.
#include <gtest/gtest.h>

#include "test_helpers.h"

using namespace norch;
using norch::testing::from_vector;
using norch::testing::to_vector;

TEST(Conv2d, SumsWindowsAndAddsBias) {
  // x = 1..9 in a 3x3 plane; a 2x2 kernel of ones sums each window.
  Tensor x = from_vector({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  Tensor w = ones({1, 1, 2, 2}, TensorOptions(ScalarType::Float64));
  Tensor b = from_vector({0.5}, {1});
  Tensor y = conv2d(x, w, b);
  EXPECT_EQ(y.sizes(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(to_vector(y), (std::vector<double>{12.5, 16.5, 24.5, 28.5}));
}

TEST(Conv2d, GradientsCountWindowMemberships) {
  Tensor x = from_vector({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}, ScalarType::Float64, true);
  Tensor w = from_vector({1, 1, 1, 1}, {1, 1, 2, 2}, ScalarType::Float64, true);
  autograd::backward({sum(conv2d(x, w))}, {}, false, false);
  // Each input element is in as many windows as overlap it.
  EXPECT_EQ(to_vector(x.grad()), (std::vector<double>{1, 2, 1, 2, 4, 2, 1, 2, 1}));
  // Each weight sees the sum of the inputs it slides over.
  EXPECT_EQ(to_vector(w.grad()), (std::vector<double>{12, 16, 24, 28}));
}

TEST(Conv2d, ChannelMismatchNamesShapes) {
  Tensor x = zeros({1, 3, 5, 5}, TensorOptions(ScalarType::Float64));
  Tensor w = zeros({2, 2, 3, 3}, TensorOptions(ScalarType::Float64));
  try {
    conv2d(x, w);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
    EXPECT_NE(std::string(e.what()).find("weight of size [2, 2, 3, 3], expected input[1, 3, 5, 5]"),
              std::string::npos);
  }
}

TEST(MaxPool2d, ValuesIndicesAndGradient) {
  Tensor x = from_vector({1, 5, 2, 0, 3, 4, 9, 1, 6, 7, 8, 2, 0, 1, 2, 3}, {1, 1, 4, 4}, ScalarType::Float64, true);
  auto [y, idx] = max_pool2d_with_indices(x, {2});
  EXPECT_EQ(to_vector(y), (std::vector<double>{5, 9, 7, 8}));
  EXPECT_EQ(to_vector(idx), (std::vector<double>{1, 6, 9, 10}));
  autograd::backward({sum(y)}, {}, false, false);
  EXPECT_EQ(to_vector(x.grad()), (std::vector<double>{0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0}));
}

TEST(Pad, ReflectAndConstant) {
  Tensor x = from_vector({1, 2, 3}, {1, 1, 3});
  EXPECT_EQ(to_vector(pad(x, {2, 1}, "reflect")), (std::vector<double>{3, 2, 1, 2, 3, 2}));
  EXPECT_EQ(to_vector(pad(x, {1, -1}, "constant", 9.0)), (std::vector<double>{9, 1, 2}));
}

TEST(AvgPool2d, CountIncludePad) {
  Tensor x = ones({1, 1, 2, 2}, TensorOptions(ScalarType::Float64));
  EXPECT_EQ(to_vector(avg_pool2d(x, {2}, {1}, {1}, false, true)),
            (std::vector<double>{0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25}));
  EXPECT_EQ(to_vector(avg_pool2d(x, {2}, {1}, {1}, false, false)), (std::vector<double>(9, 1.0)));
}

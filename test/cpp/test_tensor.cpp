// C++ API on its own: tensor metadata, views sharing storage, type promotion, errors.
#include <gtest/gtest.h>

#include "test_helpers.h"

using namespace norch;
using norch::testing::from_vector;
using norch::testing::to_vector;

TEST(Tensor, BasicsAndMetadata) {
  Tensor t = zeros({2, 3});
  EXPECT_EQ(t.dim(), 2);
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.sizes(), (Shape{2, 3}));
  EXPECT_EQ(t.strides(), (Shape{3, 1}));
  EXPECT_EQ(t.dtype(), ScalarType::Float32);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_TRUE(t.device().is_cpu());
  Tensor f = full({2, 2}, Scalar(2.5), TensorOptions(ScalarType::Float64));
  EXPECT_EQ(to_vector(f), (std::vector<double>{2.5, 2.5, 2.5, 2.5}));
  EXPECT_DOUBLE_EQ(sum(f).item().to_double(), 10.0);
  Tensor c = clone(f);
  EXPECT_NE(c.data_ptr(), f.data_ptr());
}

TEST(Tensor, NegativeSizeIsAnError) {
  try {
    empty({2, -1});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
    EXPECT_NE(std::string(e.what()).find("negative dimension"), std::string::npos);
  }
}

TEST(Tensor, ViewsShareStorageAndVersion) {
  Tensor base = from_vector({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor tr = transpose(base, 0, 1);
  EXPECT_EQ(tr.sizes(), (Shape{3, 2}));
  EXPECT_EQ(tr.strides(), (Shape{1, 3}));
  EXPECT_FALSE(tr.is_contiguous());
  EXPECT_EQ(tr.data_ptr(), base.data_ptr());
  EXPECT_EQ(to_vector(tr), (std::vector<double>{0, 3, 1, 4, 2, 5}));

  Tensor row = select(base, 0, 1);
  EXPECT_EQ(row.storage_offset(), 3);
  EXPECT_EQ(to_vector(row), (std::vector<double>{3, 4, 5}));
  Tensor v = view(base, {3, 2});
  uint32_t before = base.version();
  fill_(row, Scalar(7.0));
  EXPECT_GT(base.version(), before);  // views share one version counter
  EXPECT_EQ(to_vector(v), (std::vector<double>{0, 1, 2, 7, 7, 7}));
  EXPECT_THROW(view(tr, {6}), Error);  // not expressible as a view
  EXPECT_EQ(to_vector(reshape(tr, {6})), (std::vector<double>{0, 7, 1, 7, 2, 7}));
}

TEST(Tensor, TypePromotionFollowsPyTorch) {
  EXPECT_EQ(promote_types(ScalarType::Int32, ScalarType::Float32), ScalarType::Float32);
  EXPECT_EQ(promote_types(ScalarType::Bool, ScalarType::UInt8), ScalarType::UInt8);
  EXPECT_EQ(promote_types(ScalarType::Int64, ScalarType::Float64), ScalarType::Float64);
  Tensor i = ones({2}, TensorOptions(ScalarType::Int64));
  Tensor f = ones({2}, TensorOptions(ScalarType::Float32));
  EXPECT_EQ(add(i, f).dtype(), ScalarType::Float32);
  // A 0-d tensor does not widen a dimensioned one of the same category.
  Tensor d0 = scalar_tensor(Scalar(1.0), TensorOptions(ScalarType::Float64));
  EXPECT_EQ(add(f, d0).dtype(), ScalarType::Float32);
  EXPECT_EQ(result_type(f, Scalar(0.5)), ScalarType::Float32);
  EXPECT_EQ(result_type(i, Scalar(0.5)), default_dtype());
  EXPECT_EQ(add(i, Scalar(int64_t{2})).dtype(), ScalarType::Int64);
}

TEST(Tensor, BroadcastingAndShapeErrors) {
  Tensor a = from_vector({1, 2, 3}, {3});
  Tensor b = from_vector({10, 20}, {2, 1});
  Tensor c = add(a, b);
  EXPECT_EQ(c.sizes(), (Shape{2, 3}));
  EXPECT_EQ(to_vector(c), (std::vector<double>{11, 12, 13, 21, 22, 23}));
  EXPECT_THROW(add(a, from_vector({1, 2}, {2})), Error);
}

TEST(Random, SeedsReproduceAndGeneratorsAreIndependent) {
  manual_seed(42);
  Tensor a = rand({100});
  manual_seed(42);
  Tensor b = rand({100});
  EXPECT_EQ(to_vector(a), to_vector(b));
  Generator g(42);
  EXPECT_EQ(to_vector(rand({100}, {}, &g)), to_vector(a));
  Tensor p = randperm(50);
  std::vector<double> sorted = to_vector(p);
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_THROW(randint(3, 3, {2}), Error);
}

TEST(Random, PhiloxMatchesRandom123KnownAnswers) {
  // Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors).
  auto zero = philox4x32(0, 0, 0);
  EXPECT_EQ(zero, (std::array<uint32_t, 4>{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  auto ones = philox4x32(~0ULL, ~0ULL, ~0ULL);
  EXPECT_EQ(ones, (std::array<uint32_t, 4>{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  // ctr = (243f6a88 85a308d3 13198a2e 03707344), key = (a4093822 299f31d0): words are little-endian halves.
  auto pi = philox4x32(0x85a308d3243f6a88ULL, 0x0370734413198a2eULL, 0x299f31d0a4093822ULL);
  EXPECT_EQ(pi, (std::array<uint32_t, 4>{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

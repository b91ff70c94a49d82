// Overflow-checked size arithmetic (norch/tensor/size_math.h) and the geometry
// checks built on it: every overflow is an Error with PyTorch's message, never a
// wrapped size.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "test_helpers.h"

using namespace norch;

namespace {
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

// The message of the Error `f` raises, or "" when it raises none.
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(SizeMath, CheckedMulAndAdd) {
  EXPECT_EQ(checked_mul(int64_t{1} << 31, int64_t{1} << 31), int64_t{1} << 62);
  EXPECT_EQ(checked_mul(kMax, 1), kMax);
  EXPECT_EQ(checked_mul(-1, kMax), -kMax);
  EXPECT_EQ(error_of([] { checked_mul(int64_t{1} << 32, int64_t{1} << 31); }), "integer multiplication overflow");
  EXPECT_EQ(error_of([] { checked_mul(kMin, -1, "repeat"); }), "repeat: integer multiplication overflow");
  EXPECT_EQ(checked_add(kMax - 1, 1), kMax);
  EXPECT_EQ(error_of([] { checked_add(kMax, 1, "cat"); }), "cat: integer addition overflow");
  EXPECT_EQ(error_of([] { checked_add(kMin, -1); }), "integer addition overflow");
  int64_t out;
  EXPECT_TRUE(mul_overflows(kMax, 2, &out));
  EXPECT_FALSE(add_overflows(kMax, kMin, &out));
  EXPECT_EQ(out, -1);
}

TEST(SizeMath, NumelAndContiguousBytes) {
  EXPECT_EQ(compute_numel({}), 1);
  EXPECT_EQ(compute_numel({2, 3, 4}), 24);
  EXPECT_EQ(compute_numel({0, int64_t{1} << 62}), 0);
  EXPECT_EQ(compute_numel({kMax}), kMax);
  // (2^32)^2 wraps to 0 in plain arithmetic; a zero dim must not hide the rest.
  EXPECT_EQ(error_of([] { compute_numel({int64_t{1} << 32, int64_t{1} << 32}); }),
            "numel: integer multiplication overflow");
  EXPECT_EQ(error_of([] { compute_numel({int64_t{1} << 62, int64_t{1} << 62, 0}); }),
            "numel: integer multiplication overflow");
  EXPECT_EQ(storage_nbytes({2, 3}, 4), 24);
  EXPECT_EQ(storage_nbytes({0, int64_t{1} << 62}, 8), 0);
  EXPECT_EQ(error_of([] { storage_nbytes({int64_t{1} << 62}, 4); }),
            "Storage size calculation overflowed with sizes=[4611686018427387904]");
  EXPECT_EQ(error_of([] { storage_nbytes({int64_t{1} << 61}, 4); }),  // 2^63 bytes: one past int64
            "Storage size calculation overflowed with sizes=[2305843009213693952]");
  EXPECT_NE(error_of([] { storage_nbytes({2, -1}, 4); }).find("negative dimension -1"), std::string::npos);
}

TEST(SizeMath, StridedExtent) {
  EXPECT_EQ(storage_nbytes({2, 3}, {3, 1}, 4), 24);
  EXPECT_EQ(storage_nbytes({2, 2}, {1, 2}, 8, 1), 5 * 8);
  EXPECT_EQ(storage_nbytes({0}, {kMax}, 4, kMax), 0);          // empty: no storage needed
  EXPECT_EQ(storage_nbytes({1}, {kMax}, 1), 1);                // a size-1 dim is never stepped
  EXPECT_EQ(error_of([] { storage_nbytes({int64_t{1} << 62}, {3}, 4); }),
            "Storage size calculation overflowed with sizes=[4611686018427387904] and strides=[3]");
  EXPECT_EQ(error_of([] { storage_nbytes({2}, {int64_t{1} << 62}, 4); }),
            "Storage size calculation overflowed with sizes=[2] and strides=[4611686018427387904]");
  EXPECT_NE(error_of([] { storage_nbytes({1}, {1}, 4, kMax); }).find("overflowed"), std::string::npos);
}

TEST(SizeMath, ShapeChecksAndDoubleConversion) {
  EXPECT_EQ(error_of([] { check_shape(Shape(kMaxTensorDims, 1)); }), "");
  EXPECT_NE(error_of([] { check_shape(Shape(kMaxTensorDims + 1, 1)); }).find("up to 64 dims"), std::string::npos);
  EXPECT_EQ(checked_double_to_int64(-9223372036854775808.0), kMin);
  EXPECT_EQ(checked_double_to_int64(1e18), int64_t{1000000000000000000});
  for (double bad : {9223372036854775808.0, 1e30, -1e30, std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()})
    EXPECT_EQ(error_of([bad] { checked_double_to_int64(bad); }),
              "value cannot be converted to type int64_t without overflow");
}

TEST(SizeMath, GeometryEntryPointsRefuseOverflow) {
  EXPECT_NE(error_of([] { empty({int64_t{1} << 62}); }).find("Storage size calculation overflowed"),
            std::string::npos);
  EXPECT_NE(error_of([] { empty_strided({int64_t{1} << 62}, {4}); }).find("and strides=[4]"), std::string::npos);
  Tensor one = zeros({3});
  EXPECT_EQ(error_of([&] { expand(one, {int64_t{1} << 62, 3}); }), "numel: integer multiplication overflow");
  EXPECT_EQ(error_of([&] { as_strided(zeros({4}), {1}, {1}, -1); }), "Tensor: invalid storage offset -1");
  EXPECT_NE(error_of([&] { as_strided(zeros({4}), {2}, {1}, 3); }).find("out of bounds"), std::string::npos);
  Tensor ok = as_strided(zeros({4}), {2}, {1}, 2);
  EXPECT_EQ(ok.storage_offset(), 2);
  EXPECT_TRUE(zeros({0, 3}).is_contiguous());
  EXPECT_TRUE(transpose(zeros({0, 3}), 0, 1).is_contiguous());
}

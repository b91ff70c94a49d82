// Float-to-integer conversions without undefined behaviour (norch/tensor/value_cast.h):
// NaN, infinities and out-of-range values give what PyTorch's CPU build gives on x86
// (the destination's minimum; uint8 through int64), and copy kernels use the same
// conversion. Under the sanitizer build (-fsanitize=float-cast-overflow) a plain
// static_cast of these values would abort this test.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "test_helpers.h"

using namespace norch;

namespace {
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kMin64 = std::numeric_limits<int64_t>::min();
constexpr int32_t kMin32 = std::numeric_limits<int32_t>::min();
}  // namespace

TEST(ValueCast, NanAndOverflowGiveTheMinimum) {
  for (double v : {kNan, kInf, -kInf, 1e20, -1e20, 9223372036854775808.0}) {
    EXPECT_EQ(value_cast<int64_t>(v), kMin64) << v;
    EXPECT_EQ(value_cast<int64_t>(static_cast<float>(v)), kMin64) << v;
  }
  for (double v : {kNan, kInf, -kInf, 3e9, -3e9, 2147483648.0, -2147483649.0}) EXPECT_EQ(value_cast<int32_t>(v), kMin32) << v;
}

TEST(ValueCast, InRangeValuesTruncate) {
  EXPECT_EQ(value_cast<int64_t>(-9223372036854775808.0), kMin64);
  EXPECT_EQ(value_cast<int64_t>(9223372036854774784.0), 9223372036854774784LL);
  EXPECT_EQ(value_cast<int32_t>(2147483647.9), 2147483647);
  EXPECT_EQ(value_cast<int32_t>(-2147483648.9), kMin32);
  EXPECT_EQ(value_cast<int32_t>(-1.5), -1);
  EXPECT_EQ(value_cast<int64_t>(-0.5f), 0);
}

TEST(ValueCast, Uint8KeepsTheLowByteOfTheInt64Conversion) {
  EXPECT_EQ(value_cast<uint8_t>(300.7), 44);
  EXPECT_EQ(value_cast<uint8_t>(-1.5), 255);
  EXPECT_EQ(value_cast<uint8_t>(-300.7), 212);
  EXPECT_EQ(value_cast<uint8_t>(4294967551.0), 255);  // 2^32 + 255: through int64, not int32
  EXPECT_EQ(value_cast<uint8_t>(kNan), 0);
  EXPECT_EQ(value_cast<uint8_t>(1e30), 0);
}

TEST(ValueCast, BoolIsNonzero) {
  EXPECT_TRUE(value_cast<bool>(kNan));
  EXPECT_TRUE(value_cast<bool>(-kInf));
  EXPECT_FALSE(value_cast<bool>(-0.0));
}

TEST(ValueCast, ScalarsIntoIntegerTensorsAreChecked) {
  EXPECT_FALSE(Scalar(kNan).fits<int64_t>());
  EXPECT_TRUE(Scalar(9223372036854775808.0).fits<int64_t>());  // PyTorch compares as doubles
  EXPECT_FALSE(Scalar(2147483647.5).fits<int32_t>());
  EXPECT_FALSE(Scalar(-0.5).fits<uint8_t>());
  EXPECT_TRUE(Scalar(int64_t{-255}).fits<uint8_t>());
  EXPECT_FALSE(Scalar(int64_t{-256}).fits<uint8_t>());
  EXPECT_TRUE(Scalar(kNan).fits<bool>());
  EXPECT_THROW(full({2}, Scalar(kNan), TensorOptions(ScalarType::Int64)), Error);
  EXPECT_THROW(full({2}, Scalar(int64_t{300}), TensorOptions(ScalarType::UInt8)), Error);
}

TEST(ValueCast, CopyKernelCastsHostileValues) {
  Tensor f = empty({4}, TensorOptions(ScalarType::Float64));
  double* p = f.data<double>();
  p[0] = kNan;
  p[1] = kInf;
  p[2] = -1e300;
  p[3] = -7.9;
  Tensor l = f.to(ScalarType::Int64);
  EXPECT_EQ(l.data<int64_t>()[0], kMin64);
  EXPECT_EQ(l.data<int64_t>()[1], kMin64);
  EXPECT_EQ(l.data<int64_t>()[2], kMin64);
  EXPECT_EQ(l.data<int64_t>()[3], -7);
  Tensor i = f.to(ScalarType::Int32);
  EXPECT_EQ(i.data<int32_t>()[0], kMin32);
  EXPECT_EQ(i.data<int32_t>()[3], -7);
  Tensor u = f.to(ScalarType::UInt8);
  EXPECT_EQ(u.data<uint8_t>()[3], 249);
}

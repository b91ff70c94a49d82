// Mixing devices in one op raises PyTorch's RuntimeError naming both devices. No GPU is
// needed: a tensor whose metadata says cuda:0 (its storage stays on the host and is never
// read) reaches each op's device check, which runs before any kernel.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "test_helpers.h"

namespace norch {
namespace {

Tensor on_cuda_metadata_only(const Tensor& t) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.impl()->storage;
  impl->sizes = t.sizes();
  impl->strides = t.strides();
  impl->dtype = t.dtype();
  impl->device = Device(DeviceType::CUDA, 0);
  return Tensor(std::move(impl));
}

void expect_names_both(const std::function<void()>& op, const std::string& name) {
  try {
    op();
    FAIL() << name << ": expected a device mismatch error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::Runtime) << m;
    EXPECT_NE(m.find("Expected all tensors to be on the same device"), std::string::npos) << m;
    EXPECT_NE(m.find("cpu"), std::string::npos) << m;
    EXPECT_NE(m.find("cuda:0"), std::string::npos) << m;
  }
}

TEST(DeviceMismatch, OpsNameBothDevices) {
  Tensor a = testing::from_vector({1, 2, 3, 4}, {2, 2}, ScalarType::Float32);
  Tensor g = on_cuda_metadata_only(a);
  expect_names_both([&] { add(a, g); }, "add");
  expect_names_both([&] { mul(g, a); }, "mul");
  expect_names_both([&] { matmul(a, g); }, "matmul");
  expect_names_both([&] { cat({a, g}, 0); }, "cat");
  expect_names_both([&] { check_same_device("where", {a, g, a}); }, "check_same_device");
}

}  // namespace
}  // namespace norch

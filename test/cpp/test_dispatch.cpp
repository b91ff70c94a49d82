// The device-dispatch stub: a missing kernel is a NotImplementedError that names
// the op being run (not the family stub that serves it) and the device.
#include <gtest/gtest.h>

#include <string>

#include "norch/dispatch.h"

using namespace norch;

namespace {
using Kernel = void (*)(int*);
void cpu_kernel(int* x) { *x = 1; }

std::string missing_kernel_message(const DispatchStub<Kernel>& stub, Device device, const char* op) {
  try {
    stub(device, op);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotImplemented);
    return e.what();
  }
  ADD_FAILURE() << "no error for a device without a kernel";
  return "";
}
}  // namespace

TEST(Dispatch, MissingKernelNamesTheOpNotTheFamily) {
  DispatchStub<Kernel> stub("unary");
  KernelRegistrar reg(stub, DeviceType::CPU, &cpu_kernel);
  std::string msg = missing_kernel_message(stub, Device(DeviceType::CUDA, 0), "exp");
  EXPECT_NE(msg.find("exp is not implemented on cuda"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("unary"), std::string::npos) << msg;
  // Without an op name the stub's own name is the op (single-op stubs such as "bmm").
  EXPECT_NE(missing_kernel_message(stub, Device(DeviceType::CUDA, 0), nullptr).find("unary is not implemented on cuda"),
            std::string::npos);
  int x = 0;
  stub(Device(DeviceType::CPU), "exp")(&x);
  EXPECT_EQ(x, 1);
}

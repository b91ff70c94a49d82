// norch/dispatch.h — the one device-dispatch point (STYLE habit 5).
//
// An op declares a DispatchStub for its kernel signature; each device's kernel
// file registers itself into the stub's table at load time. Calling the stub
// for a device with no kernel raises NotImplementedError naming op and device
// (the op's own name when the call passes one, else the stub's).
// The dtype switch happens inside the kernel (NORCH_DISPATCH_* in dtype.h).
#pragma once
#include "norch/debug.h"
#include "norch/error.h"
#include "norch/tensor/device.h"

namespace norch {

template <typename FnPtr>
struct DispatchStub {
  const char* name;
  FnPtr table[kNumDeviceTypes];

  constexpr explicit DispatchStub(const char* n) : name(n), table{} {}

  // `op` names the op being run, for stubs that serve a family (unary, binary):
  // a missing kernel then reads "exp is not implemented on cuda".
  FnPtr operator()(Device device, const char* op = nullptr) const {
    const char* who = op ? op : name;
    FnPtr fn = table[static_cast<int>(device.type)];
    if (debug_level() >= 1)
      debug_print("dispatch %s on %s%s%s", name, device.is_cuda() ? "cuda" : "cpu", op ? ": " : "", op ? op : "");
    if (!fn) NORCH_NOT_IMPLEMENTED(who, " is not implemented on ", device.is_cuda() ? "cuda" : "cpu",
                                   device.is_cuda() ? " (this build has no CUDA kernel for it)" : "");
    return fn;
  }
  bool has(Device device) const { return table[static_cast<int>(device.type)] != nullptr; }
};

struct KernelRegistrar {
  template <typename Stub, typename Fn>
  KernelRegistrar(Stub& stub, DeviceType device, Fn fn) {
    stub.table[static_cast<int>(device)] = fn;
  }
};

}  // namespace norch

#define NORCH_CONCAT_INNER(a, b) a##b
#define NORCH_CONCAT(a, b) NORCH_CONCAT_INNER(a, b)
// Registers `fn` as the `device` (CPU or CUDA) kernel of `stub`.
#define NORCH_REGISTER_KERNEL(stub, device, fn) \
  static ::norch::KernelRegistrar NORCH_CONCAT(norch_registrar_, __COUNTER__)(stub, ::norch::DeviceType::device, fn)

// norch/tensor/device.h — where a tensor lives: cpu or cuda[:index].
#pragma once
#include <cstdint>
#include <ostream>
#include <string>

#include "norch/error.h"

namespace norch {

enum class DeviceType : int8_t { CPU = 0, CUDA = 1 };
constexpr int kNumDeviceTypes = 2;

struct Device {
  DeviceType type = DeviceType::CPU;
  int8_t index = -1;  // -1: "the current device" for cuda, unused for cpu

  Device() = default;
  Device(DeviceType t, int idx = -1) : type(t), index(static_cast<int8_t>(idx)) {}
  // Parses "cpu", "cuda", "cuda:1" as PyTorch does.
  explicit Device(const std::string& spec);

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  // cuda and cuda:0 are the same device while only one GPU is addressed.
  bool operator==(const Device& o) const {
    return type == o.type && (type == DeviceType::CPU || (index < 0 ? 0 : index) == (o.index < 0 ? 0 : o.index));
  }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const;
};

inline std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }

}  // namespace norch

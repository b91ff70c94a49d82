// Device parsing and printing.
#include "norch/tensor/device.h"

#include <cctype>

namespace norch {

Device::Device(const std::string& spec) {
  std::string s = spec;
  std::string kind = s.substr(0, s.find(':'));
  if (kind == "cpu") {
    type = DeviceType::CPU;
  } else if (kind == "cuda") {
    type = DeviceType::CUDA;
  } else {
    NORCH_ERROR("Expected one of cpu, cuda device type at start of device string: ", spec);
  }
  auto colon = s.find(':');
  if (colon != std::string::npos) {
    std::string idx = s.substr(colon + 1);
    bool ok = !idx.empty() && idx.size() < 4;
    for (char c : idx) ok = ok && std::isdigit(static_cast<unsigned char>(c));
    NORCH_CHECK(ok, "Invalid device string: '", spec, "'");
    index = static_cast<int8_t>(std::stoi(idx));
    NORCH_CHECK(type != DeviceType::CPU || index == 0, "Invalid device string: '", spec, "'");
    if (type == DeviceType::CPU) index = -1;
  }
}

std::string Device::str() const {
  if (type == DeviceType::CPU) return "cpu";
  return index < 0 ? "cuda" : "cuda:" + std::to_string(index);
}

}  // namespace norch

#include "mixnet/base/context.h"

#include <charconv>

#include "mixnet/base/error.h"

namespace mixnet {
namespace {
const char* DeviceName(DeviceType t) {
  switch (t) {
    case DeviceType::kCPU:
      return "cpu";
    case DeviceType::kGPU:
      return "gpu";
    case DeviceType::kCPUPinned:
      return "cpu_pinned";
    case DeviceType::kCPUShared:
      return "cpu_shared";
  }
  return "unknown";
}
}  // namespace

bool Context::IsValidDeviceType(int32_t t) {
  return t == 1 || t == 2 || t == 3 || t == 5;
}

std::string Context::ToString() const {
  return std::string(DeviceName(dev_type)) + "(" + std::to_string(dev_id) + ")";
}

Context Context::FromString(std::string_view s) {
  const auto open = s.find('(');
  MX_CHECK(open != std::string_view::npos && s.size() > open + 1 && s.back() == ')', ValueError)
      << "invalid context '" << s << "'; expected e.g. cpu(0), gpu(1), cpu_pinned(0)";
  const std::string_view name = s.substr(0, open);
  const std::string_view num = s.substr(open + 1, s.size() - open - 2);
  int32_t id = 0;
  auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), id);
  MX_CHECK(ec == std::errc() && ptr == num.data() + num.size() && id >= 0, ValueError)
      << "invalid device id in context '" << s << "'";
  for (DeviceType t :
       {DeviceType::kCPU, DeviceType::kGPU, DeviceType::kCPUPinned, DeviceType::kCPUShared}) {
    if (name == DeviceName(t)) return Context{t, id};
  }
  MX_THROW(ValueError) << "invalid device type in context '" << s
                       << "'; expected cpu, gpu, cpu_pinned or cpu_shared";
}

}  // namespace mixnet

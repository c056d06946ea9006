/*!
 * \file context.h
 * \brief Device context: device type and id, with MXNet 1.x's numeric device types.
 *
 * GPU contexts are ordinary values even though no GPU backend is built: they can be named,
 * compared and saved; allocating on one raises NotImplementedError.
 */
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace mixnet {

/*! \brief MXNet's dev_type values (stored in .params files). */
enum class DeviceType : int32_t {
  kCPU = 1,
  kGPU = 2,
  kCPUPinned = 3,
  kCPUShared = 5,
};

/*! \brief A device: type and id. */
struct Context {
  /*! \brief Device ids are below this bound (the engine keeps a worker-pool slot for each). */
  static constexpr int32_t kMaxDevId = 64;

  DeviceType dev_type = DeviceType::kCPU;
  int32_t dev_id = 0;

  static constexpr Context cpu(int32_t id = 0) { return {DeviceType::kCPU, id}; }
  static constexpr Context gpu(int32_t id = 0) { return {DeviceType::kGPU, id}; }
  static constexpr Context cpu_pinned(int32_t id = 0) { return {DeviceType::kCPUPinned, id}; }
  static constexpr Context cpu_shared(int32_t id = 0) { return {DeviceType::kCPUShared, id}; }

  /*! \brief True for cpu, cpu_pinned and cpu_shared: host memory the CPU reads directly. */
  constexpr bool is_host() const { return dev_type != DeviceType::kGPU; }

  /*! \brief "cpu(0)", "gpu(1)", "cpu_pinned(0)", "cpu_shared(0)" as MXNet prints them. */
  std::string ToString() const;
  /*! \brief Parses ToString()'s form; raises ValueError on anything else. */
  static Context FromString(std::string_view s);
  /*! \brief True if `t` is one of MXNet's device types. */
  static bool IsValidDeviceType(int32_t t);

  friend constexpr bool operator==(const Context& a, const Context& b) = default;
  friend constexpr bool operator<(const Context& a, const Context& b) {
    return a.dev_type != b.dev_type ? a.dev_type < b.dev_type : a.dev_id < b.dev_id;
  }
};

inline std::ostream& operator<<(std::ostream& os, const Context& c) {
  return os << c.ToString();
}

}  // namespace mixnet

template <>
struct std::hash<mixnet::Context> {
  size_t operator()(const mixnet::Context& c) const noexcept {
    return std::hash<int64_t>()((int64_t{static_cast<int32_t>(c.dev_type)} << 32) | c.dev_id);
  }
};

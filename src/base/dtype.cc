#include "mixnet/base/dtype.h"

#include <array>

namespace mixnet {
namespace {
struct DTypeInfo {
  const char* name;
  size_t size;
};
constexpr std::array<DTypeInfo, kNumDTypes> kInfo = {{
    {"float32", 4},
    {"float64", 8},
    {"float16", 2},
    {"uint8", 1},
    {"int32", 4},
    {"int8", 1},
    {"int64", 8},
    {"bool", 1},
    {"int16", 2},
    {"uint16", 2},
    {"uint32", 4},
    {"uint64", 8},
    {"bfloat16", 2},
}};

const DTypeInfo& Info(DType t) {
  const auto i = static_cast<int64_t>(t);
  MX_CHECK(IsValidDTypeFlag(i), TypeError) << "invalid dtype flag " << i;
  return kInfo[static_cast<size_t>(i)];
}
}  // namespace

size_t DTypeSize(DType t) {
  return Info(t).size;
}
const char* DTypeName(DType t) {
  return Info(t).name;
}

DType DTypeFromName(std::string_view name) {
  for (size_t i = 0; i < kInfo.size(); ++i) {
    if (name == kInfo[i].name) return static_cast<DType>(i);
  }
  if (name == "float") return DType::kFloat32;
  if (name == "double") return DType::kFloat64;
  if (name == "half") return DType::kFloat16;
  MX_THROW(TypeError) << "unknown dtype '" << name
                      << "'; expected one of float32, float64, float16, bfloat16, uint8, int8, "
                         "int16, int32, int64, uint16, uint32, uint64, bool";
}

bool IsFloatingDType(DType t) {
  return t == DType::kFloat32 || t == DType::kFloat64 || t == DType::kFloat16 ||
         t == DType::kBFloat16;
}

}  // namespace mixnet

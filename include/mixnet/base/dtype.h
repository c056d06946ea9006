/*!
 * \file dtype.h
 * \brief Element types with MXNet 1.x's type flags (the values stored in .params files).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mixnet/base/error.h"
#include "mixnet/base/half.h"

namespace mixnet {

/*! \brief Element type; the numeric value is MXNet's `type_flag`. */
enum class DType : int32_t {
  kFloat32 = 0,
  kFloat64 = 1,
  kFloat16 = 2,
  kUint8 = 3,
  kInt32 = 4,
  kInt8 = 5,
  kInt64 = 6,
  kBool = 7,
  kInt16 = 8,
  kUint16 = 9,
  kUint32 = 10,
  kUint64 = 11,
  kBFloat16 = 12,
};

/*! \brief Number of type flags (valid flags are 0 .. kNumDTypes-1). */
inline constexpr int kNumDTypes = 13;

/*! \brief Size in bytes of one element. */
size_t DTypeSize(DType t);
/*! \brief NumPy-style name: "float32", "bfloat16", "bool", ... */
const char* DTypeName(DType t);
/*! \brief Parses a NumPy-style name; raises TypeError naming the bad value. */
DType DTypeFromName(std::string_view name);
/*! \brief True if `flag` is one of MXNet's type flags. */
inline bool IsValidDTypeFlag(int64_t flag) {
  return flag >= 0 && flag < kNumDTypes;
}
/*! \brief True for float16/bfloat16/float32/float64. */
bool IsFloatingDType(DType t);

/*! \brief Maps a C++ element type to its DType. */
template <typename T>
struct DTypeOf;
#define MIXNET_DTYPE_OF(CType, Flag)            \
  template <>                                   \
  struct DTypeOf<CType> {                       \
    static constexpr DType value = DType::Flag; \
  };
MIXNET_DTYPE_OF(float, kFloat32)
MIXNET_DTYPE_OF(double, kFloat64)
MIXNET_DTYPE_OF(float16_t, kFloat16)
MIXNET_DTYPE_OF(uint8_t, kUint8)
MIXNET_DTYPE_OF(int32_t, kInt32)
MIXNET_DTYPE_OF(int8_t, kInt8)
MIXNET_DTYPE_OF(int64_t, kInt64)
MIXNET_DTYPE_OF(bool, kBool)
MIXNET_DTYPE_OF(int16_t, kInt16)
MIXNET_DTYPE_OF(uint16_t, kUint16)
MIXNET_DTYPE_OF(uint32_t, kUint32)
MIXNET_DTYPE_OF(uint64_t, kUint64)
MIXNET_DTYPE_OF(bfloat16_t, kBFloat16)
#undef MIXNET_DTYPE_OF

/*! \brief Tag carrying a C++ element type through a generic lambda. */
template <typename T>
struct TypeTag {
  using type = T;
};

/*!
 * \brief Calls `f(TypeTag<T>{})` with the C++ type of `t`:
 *   DispatchDType(a.dtype(), [&](auto tag) { using T = typename decltype(tag)::type; ... });
 */
template <typename F>
decltype(auto) DispatchDType(DType t, F&& f) {
  switch (t) {
    case DType::kFloat32:
      return f(TypeTag<float>{});
    case DType::kFloat64:
      return f(TypeTag<double>{});
    case DType::kFloat16:
      return f(TypeTag<float16_t>{});
    case DType::kUint8:
      return f(TypeTag<uint8_t>{});
    case DType::kInt32:
      return f(TypeTag<int32_t>{});
    case DType::kInt8:
      return f(TypeTag<int8_t>{});
    case DType::kInt64:
      return f(TypeTag<int64_t>{});
    case DType::kBool:
      return f(TypeTag<bool>{});
    case DType::kInt16:
      return f(TypeTag<int16_t>{});
    case DType::kUint16:
      return f(TypeTag<uint16_t>{});
    case DType::kUint32:
      return f(TypeTag<uint32_t>{});
    case DType::kUint64:
      return f(TypeTag<uint64_t>{});
    case DType::kBFloat16:
      return f(TypeTag<bfloat16_t>{});
  }
  MX_THROW(TypeError) << "invalid dtype flag " << static_cast<int>(t);
}

}  // namespace mixnet

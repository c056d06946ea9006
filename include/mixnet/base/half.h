/*!
 * \file half.h
 * \brief Storage types for float16 (IEEE binary16) and bfloat16 with exact float conversion.
 *
 * Both are plain 16-bit payloads; arithmetic happens in float. Conversions round to nearest
 * even, keep NaN a NaN, and saturate to infinity like hardware converters do.
 */
#pragma once

#include <bit>
#include <cstdint>

namespace mixnet {

/*! \brief IEEE 754 binary16. */
struct float16_t {
  uint16_t bits = 0;

  float16_t() = default;
  float16_t(float f) : bits(FromFloat(f)) {}        // NOLINT(google-explicit-constructor)
  operator float() const { return ToFloat(bits); }  // NOLINT(google-explicit-constructor)

  static constexpr float16_t FromBits(uint16_t b) {
    float16_t h;
    h.bits = b;
    return h;
  }
  static uint16_t FromFloat(float f);
  static float ToFloat(uint16_t h);
};

/*! \brief bfloat16: the upper half of a float32. */
struct bfloat16_t {
  uint16_t bits = 0;

  bfloat16_t() = default;
  bfloat16_t(float f) : bits(FromFloat(f)) {}  // NOLINT(google-explicit-constructor)
  operator float() const { return std::bit_cast<float>(uint32_t{bits} << 16); }  // NOLINT

  static constexpr bfloat16_t FromBits(uint16_t b) {
    bfloat16_t h;
    h.bits = b;
    return h;
  }
  static uint16_t FromFloat(float f) {
    uint32_t u = std::bit_cast<uint32_t>(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // NaN
    u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even
    return static_cast<uint16_t>(u >> 16);
  }
};

inline float float16_t::ToFloat(uint16_t h) {
  const uint32_t sign = uint32_t{h & 0x8000u} << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t out;
  if (exp == 0x1f) {
    out = sign | 0x7f800000u | (mant << 13);  // inf / nan
  } else if (exp != 0) {
    out = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    out = sign;
  } else {  // subnormal: normalise
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400u) == 0);
    out = sign | (static_cast<uint32_t>(112 - e) << 23) | ((mant & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(out);
}

inline uint16_t float16_t::FromFloat(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t absu = u & 0x7fffffffu;
  if (absu > 0x7f800000u) return sign | 0x7e00u;   // NaN
  if (absu >= 0x477ff000u) return sign | 0x7c00u;  // overflow (rounds to inf) or inf
  if (absu < 0x38800000u) {                        // subnormal or zero in half
    if (absu < 0x33000000u) return sign;           // below half of the smallest subnormal
    const uint32_t exp = absu >> 23;
    const uint32_t mant = (absu & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exp;  // 14..24 (+ 10 bits of the target)
    uint32_t v = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (v & 1u))) ++v;
    return sign | static_cast<uint16_t>(v);
  }
  uint32_t v = absu - 0x38000000u;  // rebias exponent 127 -> 15
  const uint32_t rem = v & 0x1fffu;
  v >>= 13;
  if (rem > 0x1000u || (rem == 0x1000u && (v & 1u))) ++v;
  return sign | static_cast<uint16_t>(v);
}

}  // namespace mixnet

// MXNet's 2-bit gradient compression (NOTE [ 2-bit compression ] in gradient_compression.h).
#include "kvstore/gradient_compression.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <string>

#include "mixnet/base/error.h"
#include "mixnet/engine/engine.h"

namespace mixnet::kvstore {

namespace {

constexpr int kBlock = 16;  // elements per 32-bit word

// NOTE [ 2-bit loops ]: the dist stores quantize on their communication threads, so the loops
// are written for the vectoriser, in chunks of kChunk elements: one flat, branch-free pass
// updates the residuals with selects and writes one 2-bit code per element into a small
// buffer; a second pass packs four codes per byte (element j of a block in byte j / 4, bits
// 7-6 for j % 4 == 0 down to 1-0: MXNet's masks, in memory order). (About 0.8 ns per element
// for quantize, memory-bound, against 5-10 ns for the branching form on random gradients.)
// Dequantizing unpacks the bytes into codes, then maps codes to values in a flat pass. Each element
// still sees exactly one of: r >= t (r -= t), r <= -t (r += t, MXNet's r -= -t, the same float
// operation), or neither (r kept, even -0), so the result is bit-exact with MXNet's branching
// kernel. The passes are compiled for several instruction sets and picked at load time
// (target_clones).
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define MIXNET_GC_CLONES __attribute__((target_clones("default", "avx2", "arch=skylake-avx512")))
#else
#define MIXNET_GC_CLONES
#endif

constexpr int64_t kChunk = 2048;  // a multiple of kBlock; the codes stay in L1

MIXNET_GC_CLONES
void QuantizeCodes(const float* __restrict grad, float* __restrict residual,
                   uint8_t* __restrict codes, int64_t m, float t) {
  // Masks instead of selects (compilers keep selects as branches here): r - (t or +0) -
  // (-t or +0) is r - t, r + t or r itself (x - +0 == x, even for -0).
  const uint32_t tb = std::bit_cast<uint32_t>(t), ntb = std::bit_cast<uint32_t>(-t);
  for (int64_t i = 0; i < m; ++i) {
    const float r = residual[i] + grad[i];
    const uint32_t mp = 0u - static_cast<uint32_t>(r >= t);
    const uint32_t mn = 0u - static_cast<uint32_t>(r <= -t);
    residual[i] = r - std::bit_cast<float>(tb & mp) - std::bit_cast<float>(ntb & mn);
    codes[i] = static_cast<uint8_t>((mp & 3u) | (mn & 2u));  // 11 positive, 10 negative
  }
}

MIXNET_GC_CLONES
void PackCodes(const uint8_t* __restrict codes, uint8_t* __restrict bytes, int64_t nbytes) {
  for (int64_t b = 0; b < nbytes; ++b)
    bytes[b] = static_cast<uint8_t>(codes[4 * b] << 6 | codes[4 * b + 1] << 4 |
                                    codes[4 * b + 2] << 2 | codes[4 * b + 3]);
}

MIXNET_GC_CLONES
void UnpackCodes(const uint8_t* __restrict bytes, uint8_t* __restrict codes, int64_t nbytes) {
  for (int64_t b = 0; b < nbytes; ++b) {
    codes[4 * b] = bytes[b] >> 6;
    codes[4 * b + 1] = (bytes[b] >> 4) & 3;
    codes[4 * b + 2] = (bytes[b] >> 2) & 3;
    codes[4 * b + 3] = bytes[b] & 3;
  }
}

template <bool Add>
MIXNET_GC_CLONES void CodesToValues(const uint8_t* __restrict codes, float* __restrict out,
                                    int64_t m, float t) {
  for (int64_t i = 0; i < m; ++i) {
    const float v = codes[i] == 3 ? t : (codes[i] == 2 ? -t : 0.f);
    if constexpr (Add)
      out[i] += v;
    else
      out[i] = v;
  }
}

void QuantizeRaw(std::span<const float> grad, std::span<float> residual, std::span<uint32_t> out,
                 float t) {
  const int64_t n = static_cast<int64_t>(grad.size());
  MX_CHECK(residual.size() == grad.size(), ValueError)
      << "GradientCompression.Quantize: residual has " << residual.size() << " elements, grad "
      << n;
  MX_CHECK(static_cast<int64_t>(out.size()) >= GradientCompression::CompressedWords(n), ValueError)
      << "GradientCompression.Quantize: " << out.size() << " words cannot hold " << n
      << " elements (" << GradientCompression::CompressedWords(n) << " needed)";
  uint8_t codes[kChunk];
  uint8_t* bytes = reinterpret_cast<uint8_t*>(out.data());  // the words in memory order
  for (int64_t c = 0; c < n; c += kChunk) {
    const int64_t m = std::min(kChunk, n - c);
    QuantizeCodes(grad.data() + c, residual.data() + c, codes, m, t);
    const int64_t padded = (m + kBlock - 1) / kBlock * kBlock;
    std::fill(codes + m, codes + padded, uint8_t{0});  // the last word's unused bits are 0
    PackCodes(codes, bytes + c / 4, padded / 4);
  }
}

template <bool Add>
void DequantizeRaw(std::span<const uint32_t> in, std::span<float> out, float t) {
  const int64_t n = static_cast<int64_t>(out.size());
  MX_CHECK(static_cast<int64_t>(in.size()) >= GradientCompression::CompressedWords(n), ValueError)
      << "GradientCompression.Dequantize: " << in.size() << " words cannot hold " << n
      << " elements (" << GradientCompression::CompressedWords(n) << " needed)";
  uint8_t codes[kChunk];
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(in.data());
  for (int64_t c = 0; c < n; c += kChunk) {
    const int64_t m = std::min(kChunk, n - c);
    UnpackCodes(bytes + c / 4, codes, (m + 3) / 4);
    CodesToValues<Add>(codes, out.data() + c, m, t);
  }
}

void CheckFloat32(const NDArray& a, const char* func, const char* what) {
  MX_CHECK(!a.is_none(), ValueError)
      << "GradientCompression." << func << ": " << what << " is a none array";
  MX_CHECK(a.dtype() == DType::kFloat32, TypeError)
      << "GradientCompression." << func << ": 2-bit compression needs float32, but " << what
      << " is " << DTypeName(a.dtype());
}

void CheckWords(const NDArray& compressed, int64_t n, const char* func) {
  MX_CHECK(compressed.Size() == GradientCompression::CompressedWords(n), ValueError)
      << "GradientCompression." << func << ": the compressed array has " << compressed.Size()
      << " elements, but " << n << " values need " << GradientCompression::CompressedWords(n);
}

}  // namespace

std::unique_ptr<GradientCompression> GradientCompression::Create(const op::AttrDict& params) {
  std::string type;
  float threshold = 0.5f;
  for (const auto& [k, v] : params) {
    if (k == "type") {
      type = v;
    } else if (k == "threshold") {
      char* end = nullptr;
      threshold = std::strtof(v.c_str(), &end);
      MX_CHECK(end != v.c_str() && *end == '\0', ValueError)
          << "set_gradient_compression: threshold must be a number, got '" << v << "'";
    } else {
      MX_THROW(ValueError) << "set_gradient_compression: unknown parameter '" << k
                           << "' (expected 'type' and 'threshold')";
    }
  }
  MX_CHECK(!type.empty(), ValueError)
      << "set_gradient_compression: compression_params needs a 'type' ('2bit' or 'none')";
  if (type == "none") return nullptr;
  MX_CHECK(type == "2bit", ValueError) << "set_gradient_compression: unknown type '" << type
                                       << "' (mixnet, as MXNet, supports '2bit' and 'none')";
  MX_CHECK(std::isfinite(threshold) && threshold > 0, ValueError)
      << "set_gradient_compression: threshold must be greater than 0, got " << threshold;
  return std::unique_ptr<GradientCompression>(new GradientCompression(threshold));
}

void GradientCompression::Quantize(std::span<const float> grad, std::span<float> residual,
                                   std::span<uint32_t> out) const {
  QuantizeRaw(grad, residual, out, threshold_);
}

void GradientCompression::Dequantize(std::span<const uint32_t> in, std::span<float> out) const {
  DequantizeRaw<false>(in, out, threshold_);
}

void GradientCompression::DequantizeAdd(std::span<const uint32_t> in, std::span<float> out) const {
  DequantizeRaw<true>(in, out, threshold_);
}

void GradientCompression::Quantize(const NDArray& grad, const NDArray& residual,
                                   const NDArray& compressed, int priority) const {
  CheckFloat32(grad, "Quantize", "the gradient");
  CheckFloat32(residual, "Quantize", "the residual");
  CheckFloat32(compressed, "Quantize", "the compressed array");
  MX_CHECK(residual.shape() == grad.shape(), ValueError)
      << "GradientCompression.Quantize: residual shape " << residual.shape()
      << " differs from gradient shape " << grad.shape();
  CheckWords(compressed, grad.Size(), "Quantize");
  if (grad.Size() == 0) return;
  residual.BumpVersion();
  compressed.BumpVersion();
  Engine::Get()->PushSync(
      // Captures the threshold, not `this`: the op may outlive the store.
      [t = threshold_, g = grad.data_ref(), r = residual.data_ref(), c = compressed.data_ref(),
       n = static_cast<size_t>(grad.Size())](RunContext) {
        QuantizeRaw({static_cast<const float*>(g.Data()), n}, {static_cast<float*>(r.Data()), n},
                    {static_cast<uint32_t*>(c.Data()), static_cast<size_t>(CompressedWords(n))}, t);
      },
      grad.ctx(), {grad.var()}, {residual.var(), compressed.var()}, FnProperty::kNormal, priority,
      "QuantizeTwoBit");
}

void GradientCompression::Dequantize(const NDArray& compressed, const NDArray& out,
                                     int priority) const {
  DequantizeInto(compressed, out, priority, false);
}

void GradientCompression::DequantizeAdd(const NDArray& compressed, const NDArray& out,
                                        int priority) const {
  DequantizeInto(compressed, out, priority, true);
}

void GradientCompression::DequantizeInto(const NDArray& compressed, const NDArray& out,
                                         int priority, bool add) const {
  const char* func = add ? "DequantizeAdd" : "Dequantize";
  CheckFloat32(compressed, func, "the compressed array");
  CheckFloat32(out, func, "the output");
  CheckWords(compressed, out.Size(), func);
  if (out.Size() == 0) return;
  out.BumpVersion();
  Engine::Get()->PushSync(
      [t = threshold_, c = compressed.data_ref(), o = out.data_ref(),
       n = static_cast<size_t>(out.Size()), add](RunContext) {
        const std::span<const uint32_t> in{static_cast<const uint32_t*>(c.Data()),
                                           static_cast<size_t>(CompressedWords(n))};
        const std::span<float> dst{static_cast<float*>(o.Data()), n};
        if (add)
          DequantizeRaw<true>(in, dst, t);
        else
          DequantizeRaw<false>(in, dst, t);
      },
      out.ctx(), {compressed.var()}, {out.var()}, FnProperty::kNormal, priority,
      add ? "DequantizeAddTwoBit" : "DequantizeTwoBit");
}

}  // namespace mixnet::kvstore

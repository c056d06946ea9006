// MXNet's 2-bit gradient compression (NOTE [ 2-bit compression ] in gradient_compression.h).
#include "kvstore/gradient_compression.h"

#include <cmath>
#include <cstring>
#include <string>

#include "mixnet/base/error.h"
#include "mixnet/engine/engine.h"

namespace mixnet::kvstore {

namespace {

constexpr int kBlock = 16;  // elements per 32-bit word

// NOTE [ 2-bit loops ]: the dist stores quantize on their communication threads, so the
// loops are branch-free per element (compare -> mask -> select) over a 16-element block whose
// codes are packed afterwards; the compiler vectorises both the residual update and the
// per-byte packing. Bit-exactness with MXNet's branching kernel holds because each element
// still sees exactly one of: r >= t (r -= t), r <= -t (r += t, written by MXNet as
// r -= -t, the same float operation), or neither.

/*! \brief Updates n <= 16 residuals and returns the packed word (bytes in memory order). */
inline uint32_t QuantizeBlock(const float* __restrict grad, float* __restrict residual, int n,
                              float t) {
  uint8_t code[kBlock] = {};
  for (int j = 0; j < n; ++j) {
    const float r = residual[j] + grad[j];
    const bool pos = r >= t;
    const bool neg = r <= -t;
    residual[j] = pos ? r - t : (neg ? r + t : r);
    // 2-bit codes: 11 positive, 10 negative, 00 none.
    code[j] = static_cast<uint8_t>((pos ? 3 : 0) | (neg ? 2 : 0));
  }
  uint8_t bytes[4];
  for (int b = 0; b < 4; ++b)
    bytes[b] = static_cast<uint8_t>(code[4 * b] << 6 | code[4 * b + 1] << 4 | code[4 * b + 2] << 2 |
                                    code[4 * b + 3]);
  uint32_t word;
  std::memcpy(&word, bytes, 4);
  return word;
}

/*! \brief The n <= 16 values of one word: +t (11), -t (10) or 0; `Add` accumulates. */
template <bool Add>
inline void DequantizeBlock(uint32_t word, float* __restrict out, int n, float t) {
  uint8_t bytes[4];
  std::memcpy(bytes, &word, 4);
  for (int j = 0; j < n; ++j) {
    const unsigned c = (bytes[j >> 2] >> (6 - 2 * (j & 3))) & 3u;
    const float v = c == 3u ? t : (c == 2u ? -t : 0.f);
    if constexpr (Add)
      out[j] += v;
    else
      out[j] = v;
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
  const int64_t full = n / kBlock;
  for (int64_t w = 0; w < full; ++w)
    out[w] = QuantizeBlock(grad.data() + w * kBlock, residual.data() + w * kBlock, kBlock, t);
  if (n % kBlock)
    out[full] = QuantizeBlock(grad.data() + full * kBlock, residual.data() + full * kBlock,
                              static_cast<int>(n % kBlock), t);
}

template <bool Add>
void DequantizeRaw(std::span<const uint32_t> in, std::span<float> out, float t) {
  const int64_t n = static_cast<int64_t>(out.size());
  MX_CHECK(static_cast<int64_t>(in.size()) >= GradientCompression::CompressedWords(n), ValueError)
      << "GradientCompression.Dequantize: " << in.size() << " words cannot hold " << n
      << " elements (" << GradientCompression::CompressedWords(n) << " needed)";
  const int64_t full = n / kBlock;
  for (int64_t w = 0; w < full; ++w)
    DequantizeBlock<Add>(in[w], out.data() + w * kBlock, kBlock, t);
  if (n % kBlock)
    DequantizeBlock<Add>(in[full], out.data() + full * kBlock, static_cast<int>(n % kBlock), t);
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

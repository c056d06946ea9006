/*!
 * \file gradient_compression.h
 * \brief MXNet's 2-bit gradient compression, bit for bit.
 *
 * NOTE [ 2-bit compression ]
 * Each float32 gradient element is added to its residual r. If r >= threshold the element
 * is sent as +threshold (bits 11) and r -= threshold; if r <= -threshold as -threshold
 * (bits 10) and r += threshold; otherwise as 0 (bits 00) and r keeps it. Sixteen elements pack
 * into one 32-bit word: element j of a block goes to byte j / 4 of the word, at bits
 * (7 - 2 (j % 4), 6 - 2 (j % 4)), i.e. masks 0xc0, 0x30, 0x0c, 0x03 (positive) and
 * 0x80, 0x20, 0x08, 0x02 (negative). A gradient of n elements is ceil(n / 16) words.
 * Dequantizing gives +threshold, -threshold or 0.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "mixnet/ndarray/ndarray.h"
#include "mixnet/op/attrs.h"

namespace mixnet::kvstore {

class GradientCompression {
 public:
  /*!
   * \brief From MXNet's parameters: {"type": "2bit", "threshold": t} (t > 0, default 0.5).
   * Returns null for {"type": "none"}; ValueError for other types or a bad threshold.
   */
  static std::unique_ptr<GradientCompression> Create(const op::AttrDict& params);

  float threshold() const { return threshold_; }
  /*! \brief 32-bit words for n elements: ceil(n / 16). */
  static int64_t CompressedWords(int64_t n) { return (n + 15) / 16; }

  // ---- on raw memory (communication threads, servers, tests) ----
  /*! \brief residual += grad, then packs `grad.size()` elements into `out` (CompressedWords
   * words) and subtracts what was sent from the residual. */
  void Quantize(std::span<const float> grad, std::span<float> residual,
                std::span<uint32_t> out) const;
  /*! \brief Writes n = out.size() dequantized values. */
  void Dequantize(std::span<const uint32_t> in, std::span<float> out) const;
  /*! \brief out += dequantized `in` (summing several workers' pushes). */
  void DequantizeAdd(std::span<const uint32_t> in, std::span<float> out) const;

  // ---- engine operations on NDArrays (float32 only; TypeError otherwise) ----
  /*! \brief `compressed` is a float32 array of CompressedWords(grad.size) elements (MXNet
   * stores the words in a float array); residual has grad's shape. */
  void Quantize(const NDArray& grad, const NDArray& residual, const NDArray& compressed,
                int priority) const;
  void Dequantize(const NDArray& compressed, const NDArray& out, int priority) const;
  /*! \brief out += dequantized `compressed` (an engine op, as Dequantize). */
  void DequantizeAdd(const NDArray& compressed, const NDArray& out, int priority) const;

 private:
  explicit GradientCompression(float threshold) : threshold_(threshold) {}
  void DequantizeInto(const NDArray& compressed, const NDArray& out, int priority, bool add) const;
  float threshold_;
};

}  // namespace mixnet::kvstore

// A 5x7 bitmap font of printable ASCII for chart text (the viz layer's own, no font files):
// Glyph(c) gives 7 rows of 5 bits, bit 4 the leftmost pixel; characters outside ' '..'~'
// draw as a box.
#pragma once

#include <array>
#include <cstdint>

namespace mixnet::viz::font {

constexpr int kWidth = 5, kHeight = 7;
/*! \brief Horizontal advance of one character, in font pixels (glyph + 1 column gap). */
constexpr int kAdvance = kWidth + 1;

using Glyph = std::array<uint8_t, kHeight>;
/*! \brief The rows of `c` (a box for a character the font lacks). */
const Glyph& GlyphOf(char c);

}  // namespace mixnet::viz::font

/*!
 * \file shape.h
 * \brief Array shape with small-vector storage.
 *
 * NOTE [ Shape semantics ]
 * mixnet uses NumPy semantics everywhere inside (MXNet's "np_shape" mode):
 *  - ndim() == -1: the shape is unknown (nothing is known, not even the rank);
 *  - a dim of -1: that dimension is unknown (partial shapes during inference);
 *  - ndim() == 0: a scalar, one element;
 *  - a dim of 0: a zero-size array (legal, zero elements).
 * MXNet 1.x's legacy mode used ndim 0 / dim 0 for "unknown"; the file formats still carry that
 * meaning for "none" arrays, and the loaders translate (see ndarray/serialize.h).
 * Up to kInlineDims dims live inline; more spill to the heap.
 */
#pragma once

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

namespace mixnet {

class Shape {
 public:
  static constexpr int kInlineDims = 6;
  /*! \brief Largest rank mixnet accepts (bounds file readers and parsers). */
  static constexpr int kMaxDims = 32;

  /*! \brief An unknown shape (ndim -1). */
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) { Assign(dims.begin(), dims.size()); }
  explicit Shape(std::span<const int64_t> dims) { Assign(dims.data(), dims.size()); }
  /*! \brief `ndim` dims all equal to `value`. */
  Shape(int ndim, int64_t value);
  Shape(const Shape& o) { Assign(o.data(), o.ndim_ < 0 ? 0 : o.ndim_, o.ndim_); }
  Shape(Shape&& o) noexcept;
  Shape& operator=(const Shape& o);
  Shape& operator=(Shape&& o) noexcept;
  ~Shape() { Release(); }

  /*! \brief The unknown shape, spelled out. */
  static Shape Unknown() { return Shape(); }
  /*! \brief The scalar shape (). */
  static Shape Scalar() { return Shape(0, 0); }

  int ndim() const { return ndim_; }
  bool is_unknown() const { return ndim_ < 0; }
  /*! \brief Rank known and every dim known. */
  bool is_known() const {
    if (ndim_ < 0) return false;
    for (int64_t d : dims())
      if (d < 0) return false;
    return true;
  }
  const int64_t* data() const { return heap_ ? heap_ : inline_; }
  int64_t* data() { return heap_ ? heap_ : inline_; }
  const int64_t* begin() const { return data(); }
  const int64_t* end() const { return data() + (ndim_ < 0 ? 0 : ndim_); }
  std::span<const int64_t> dims() const { return {begin(), end()}; }
  int64_t operator[](int i) const { return data()[i]; }
  int64_t& operator[](int i) { return data()[i]; }
  /*! \brief Dim with Python-style negative index; raises IndexError when out of range. */
  int64_t at(int i) const;

  /*! \brief Number of elements (1 for a scalar); raises ValueError if not known. */
  int64_t Size() const {
    // Inline: every op call asks several times. Known dims whose product does not overflow
    // return here; the rest (an error, or a 0 dim after an overflowing prefix) take SizeSlow.
    if (ndim_ >= 0) {
      int64_t p = 1;
      bool ok = true;
      for (int64_t d : dims())
        ok &= (d >= 0) & !__builtin_mul_overflow(p, d, &p);
      if (ok) return p;
    }
    return SizeSlow();
  }
  /*! \brief Product of dims [begin, end). */
  int64_t ProdDims(int begin, int end) const;
  /*! \brief Size() with its checks: ValueError for unknown dims or an overflow. */
  int64_t SizeSlow() const;

  /*! \brief "(2, 3)", "()" for a scalar, "None" when unknown, "-1" for unknown dims. */
  std::string ToString() const;
  /*! \brief Parses MXNet's tuple syntax "(2, 3)", "[2,3]", "2", "()" ; raises ValueError. */
  static Shape FromString(std::string_view s);

  friend bool operator==(const Shape& a, const Shape& b);
  friend bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }

 private:
  void Assign(const int64_t* src, size_t n, int ndim = -2);
  void Release();

  int ndim_ = -1;
  int64_t* heap_ = nullptr;
  int64_t inline_[kInlineDims] = {};
};

inline std::ostream& operator<<(std::ostream& os, const Shape& s) {
  return os << s.ToString();
}

/*!
 * \brief Target shape of MXNet's Reshape with special codes (Reshape op, NDArray.reshape):
 *  0 copy this dim from the input; -1 infer from the rest (at most one); -2 copy all
 *  remaining dims; -3 merge two consecutive dims; -4 split one dim into the next two values
 *  (one of which may be -1). With `reverse`, codes are matched right to left.
 * Raises ValueError naming both shapes when the codes do not fit `src`.
 */
Shape InferReshape(const Shape& src, std::span<const int64_t> codes, bool reverse = false);

}  // namespace mixnet

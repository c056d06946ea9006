#include "mixnet/base/shape.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <sstream>
#include <vector>

#include "mixnet/base/error.h"

namespace mixnet {

Shape::Shape(int ndim, int64_t value) {
  MX_CHECK(ndim >= 0 && ndim <= kMaxDims, ValueError)
      << "shape rank " << ndim << " out of range [0, " << kMaxDims << "]";
  Assign(nullptr, static_cast<size_t>(ndim));
  std::fill(data(), data() + ndim, value);
}

Shape::Shape(Shape&& o) noexcept : ndim_(o.ndim_), heap_(o.heap_) {
  std::memcpy(inline_, o.inline_, sizeof(inline_));
  o.heap_ = nullptr;
  o.ndim_ = -1;
}

Shape& Shape::operator=(const Shape& o) {
  if (this != &o) Assign(o.data(), o.ndim_ < 0 ? 0 : o.ndim_, o.ndim_);
  return *this;
}

Shape& Shape::operator=(Shape&& o) noexcept {
  if (this != &o) {
    Release();
    ndim_ = o.ndim_;
    heap_ = o.heap_;
    std::memcpy(inline_, o.inline_, sizeof(inline_));
    o.heap_ = nullptr;
    o.ndim_ = -1;
  }
  return *this;
}

void Shape::Release() {
  delete[] heap_;
  heap_ = nullptr;
}

void Shape::Assign(const int64_t* src, size_t n, int ndim) {
  MX_CHECK(n <= static_cast<size_t>(kMaxDims), ValueError)
      << "shape rank " << n << " exceeds the maximum of " << kMaxDims;
  int64_t* dst = inline_;
  if (n > static_cast<size_t>(kInlineDims)) {
    if (!heap_ || ndim_ < static_cast<int>(n)) {
      Release();
      heap_ = new int64_t[n];
    }
    dst = heap_;
  } else {
    Release();
  }
  if (src) std::memmove(dst, src, n * sizeof(int64_t));
  ndim_ = ndim == -2 ? static_cast<int>(n) : ndim;
}

int64_t Shape::at(int i) const {
  const int n = ndim_ < 0 ? 0 : ndim_;
  const int j = i < 0 ? i + n : i;
  MX_CHECK(j >= 0 && j < n, IndexError) << "axis " << i << " out of range for shape " << *this;
  return data()[j];
}

int64_t Shape::SizeSlow() const {
  MX_CHECK(is_known(), ValueError) << "size of shape " << *this << " is not known";
  return ProdDims(0, ndim_);
}

int64_t Shape::ProdDims(int b, int e) const {
  // A zero dim anywhere makes the product 0, however large the other dims are.
  for (int i = b; i < e; ++i) {
    if (data()[i] == 0) return 0;
  }
  int64_t p = 1;
  for (int i = b; i < e; ++i) {
    int64_t next = 0;
    MX_CHECK(!__builtin_mul_overflow(p, data()[i], &next), ValueError)
        << "number of elements of shape " << *this << " overflows int64";
    p = next;
  }
  return p;
}

std::string Shape::ToString() const {
  if (ndim_ < 0) return "None";
  std::ostringstream os;
  os << '(';
  for (int i = 0; i < ndim_; ++i) {
    if (i) os << ", ";
    os << data()[i];
  }
  if (ndim_ == 1) os << ',';
  os << ')';
  return os.str();
}

Shape Shape::FromString(std::string_view s) {
  auto bad = [&]() {
    MX_THROW(ValueError) << "invalid shape '" << s << "'; expected a tuple such as (2, 3)";
  };
  std::string_view t = s;
  auto trim = [](std::string_view v) {
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front())))
      v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back())))
      v.remove_suffix(1);
    return v;
  };
  t = trim(t);
  if (t == "None") return Shape();
  if (!t.empty() && (t.front() == '(' || t.front() == '[')) {
    const char close = t.front() == '(' ? ')' : ']';
    if (t.size() < 2 || t.back() != close) bad();
    t = t.substr(1, t.size() - 2);
  }
  std::vector<int64_t> dims;
  while (true) {
    t = trim(t);
    if (t.empty()) break;
    const auto comma = t.find(',');
    std::string_view item = trim(t.substr(0, comma));
    if (item.empty()) {
      if (comma == std::string_view::npos) break;
      bad();
    }
    if (item == "None") {
      dims.push_back(-1);
    } else {
      int64_t v = 0;
      if (!item.empty() && item.front() == '+') item.remove_prefix(1);
      if (!item.empty() && item.back() == 'L') item.remove_suffix(1);  // Python 2 longs
      auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
      if (ec != std::errc() || ptr != item.data() + item.size()) bad();
      dims.push_back(v);
    }
    if (comma == std::string_view::npos) break;
    t = t.substr(comma + 1);
  }
  MX_CHECK(dims.size() <= static_cast<size_t>(kMaxDims), ValueError)
      << "shape '" << s << "' has more than " << kMaxDims << " dims";
  return Shape(std::span<const int64_t>(dims));
}

bool operator==(const Shape& a, const Shape& b) {
  if (a.ndim_ != b.ndim_) return false;
  return std::equal(a.begin(), a.end(), b.begin());
}

Shape InferReshape(const Shape& src, std::span<const int64_t> codes, bool reverse) {
  MX_CHECK(!src.is_unknown(), ValueError) << "reshape: source shape is unknown";
  std::vector<int64_t> in(src.begin(), src.end());
  std::vector<int64_t> param(codes.begin(), codes.end());
  if (reverse) {
    std::reverse(in.begin(), in.end());
    std::reverse(param.begin(), param.end());
  }
  auto fail = [&](const std::string& why) {
    MX_THROW(ValueError) << "reshape: cannot reshape array of shape " << src << " with target "
                         << Shape(codes) << (reverse ? " (reverse=True)" : "") << ": " << why;
  };
  std::vector<int64_t> out;
  size_t src_i = 0;
  int infer_at = -1;
  for (size_t i = 0; i < param.size(); ++i) {
    const int64_t code = param[i];
    if (code == 0) {
      if (src_i >= in.size()) fail("code 0 has no input dim to copy");
      out.push_back(in[src_i++]);
    } else if (code == -1) {
      if (infer_at >= 0) fail("only one dim can be -1");
      infer_at = static_cast<int>(out.size());
      out.push_back(1);
      ++src_i;
    } else if (code == -2) {
      while (src_i < in.size())
        out.push_back(in[src_i++]);
    } else if (code == -3) {
      if (src_i + 1 >= in.size()) fail("code -3 needs two input dims to merge");
      const int64_t d1 = in[src_i++], d2 = in[src_i++];
      out.push_back(d1 < 0 || d2 < 0 ? -1 : d1 * d2);
    } else if (code == -4) {
      if (i + 2 >= param.size()) fail("code -4 must be followed by two dims");
      if (src_i >= in.size()) fail("code -4 has no input dim to split");
      const int64_t d0 = in[src_i++];
      int64_t d1 = param[++i], d2 = param[++i];
      if (d1 == -1 && d2 == -1) fail("split dims of -4 cannot both be -1");
      if (d1 == 0 || d2 == 0 || d1 < -1 || d2 < -1) fail("split dims of -4 must be positive or -1");
      if (d1 == -1 && d0 >= 0) d1 = d0 / d2;
      if (d2 == -1 && d0 >= 0) d2 = d0 / d1;
      if (d0 >= 0 && d1 * d2 != d0) {
        fail("split dims " + std::to_string(d1) + ", " + std::to_string(d2) +
             " do not multiply to the input dim " + std::to_string(d0));
      }
      out.push_back(d1);
      out.push_back(d2);
    } else if (code > 0) {
      out.push_back(code);
      ++src_i;
    } else {
      fail("invalid code " + std::to_string(code));
    }
  }
  if (reverse) std::reverse(out.begin(), out.end());
  if (infer_at >= 0 && reverse) infer_at = static_cast<int>(out.size()) - 1 - infer_at;
  if (out.size() > static_cast<size_t>(Shape::kMaxDims)) fail("too many dims");
  Shape result{std::span<const int64_t>(out)};
  if (!src.is_known()) {
    if (infer_at >= 0) result[infer_at] = -1;
    return result;
  }
  const int64_t total = src.Size();
  if (infer_at >= 0) {
    int64_t rest = 1;
    for (size_t k = 0; k < out.size(); ++k) {
      if (static_cast<int>(k) != infer_at) rest *= out[k];
    }
    if (rest == 0) fail("cannot infer the -1 dim when the other dims multiply to 0");
    if (total % rest != 0) fail("size " + std::to_string(total) + " is not divisible");
    result[infer_at] = total / rest;
  }
  if (result.Size() != total) {
    fail("target has " + std::to_string(result.Size()) + " elements, source has " +
         std::to_string(total));
  }
  return result;
}

}  // namespace mixnet

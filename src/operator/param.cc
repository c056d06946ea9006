#include "operator/param.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "mixnet/base/shape.h"

namespace mixnet::op {
namespace {
std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      const bool same = std::tolower(a[i - 1]) == std::tolower(b[j - 1]);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}
}  // namespace

std::vector<std::string> NearestNames(std::string_view name,
                                      const std::vector<std::string>& candidates) {
  const size_t limit = std::max<size_t>(2, name.size() / 3);
  std::vector<std::pair<size_t, std::string>> scored;
  for (const auto& c : candidates) {
    const size_t d = EditDistance(name, c);
    if (d <= limit) scored.emplace_back(d, c);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < 3; ++i)
    out.push_back(scored[i].second);
  return out;
}

std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates) {
  const auto near = NearestNames(name, candidates);
  if (near.empty()) return "";
  std::string out = " (did you mean ";
  for (size_t i = 0; i < near.size(); ++i) {
    if (i) out += i + 1 == near.size() ? " or " : ", ";
    out += "'" + near[i] + "'";
  }
  return out + "?)";
}

bool ValueCodec<bool>::Parse(std::string_view s) {
  s = Trim(s);
  if (s == "True" || s == "true" || s == "1") return true;
  if (s == "False" || s == "false" || s == "0") return false;
  throw std::string("expected True or False");
}

int64_t ValueCodec<int64_t>::Parse(std::string_view s) {
  s = Trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (!s.empty() && s.back() == 'L') s.remove_suffix(1);  // Python 2 longs in old JSON
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) throw std::string("integer out of range");
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) {
    throw std::string("expected an integer");
  }
  return v;
}

int ValueCodec<int>::Parse(std::string_view s) {
  const int64_t v = ValueCodec<int64_t>::Parse(s);
  if (v < INT32_MIN || v > INT32_MAX) throw std::string("integer out of the 32-bit range");
  return static_cast<int>(v);
}

double ValueCodec<double>::Parse(std::string_view s) {
  s = Trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const std::string str(s);  // strtod handles inf/nan spellings from_chars also takes
  if (str == "inf" || str == "Inf") return INFINITY;
  if (str == "-inf" || str == "-Inf") return -INFINITY;
  double v = 0;
  auto [ptr, ec] = std::from_chars(str.data(), str.data() + str.size(), v);
  if (ec != std::errc() || ptr != str.data() + str.size() || str.empty()) {
    throw std::string("expected a number");
  }
  return v;
}

std::string ValueCodec<double>::Print(double v) {
  // Shortest text that reads back to the same double (MXNet prints Python floats).
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, ptr);
}

std::vector<int64_t> ValueCodec<std::vector<int64_t>>::Parse(std::string_view s) {
  try {
    const Shape shape = Shape::FromString(s);
    if (shape.is_unknown()) throw std::string("expected a tuple of integers, not None");
    return std::vector<int64_t>(shape.begin(), shape.end());
  } catch (const ValueError&) {
    throw std::string("expected a tuple of integers such as (3, 3)");
  }
}

std::string ValueCodec<std::vector<int64_t>>::Print(const std::vector<int64_t>& v) {
  return Shape(std::span<const int64_t>(v)).ToString();
}

std::vector<double> ValueCodec<std::vector<double>>::Parse(std::string_view s) {
  s = Trim(s);
  if (s.size() >= 2 &&
      ((s.front() == '(' && s.back() == ')') || (s.front() == '[' && s.back() == ']'))) {
    s = s.substr(1, s.size() - 2);
  }
  std::vector<double> out;
  while (!Trim(s).empty()) {
    const size_t comma = s.find(',');
    const std::string_view item = Trim(s.substr(0, comma));
    if (item.empty()) throw std::string("expected a tuple of numbers such as (0.1, 0.01)");
    out.push_back(ValueCodec<double>::Parse(item));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);  // a trailing comma ("(0.1,)") ends the loop above
  }
  return out;
}

std::string ValueCodec<std::vector<double>>::Print(const std::vector<double>& v) {
  std::string out = "(";
  for (size_t i = 0; i < v.size(); ++i)
    out += (i ? ", " : "") + ValueCodec<double>::Print(v[i]);
  return out + (v.size() == 1 ? ",)" : ")");
}

namespace detail {
void ThrowBadValue(std::string_view op, const FieldInfo& f, std::string_view value,
                   const std::string& reason) {
  MX_THROW(ValueError) << op << ": invalid value '" << value << "' for argument '" << f.name
                       << "' (" << f.type_name << "): " << reason;
}

void ThrowUnknownArgument(std::string_view op, std::string_view name,
                          const std::vector<std::string>& valid) {
  std::ostringstream os;
  os << op << " got an unexpected argument '" << name << "'" << DidYouMean(name, valid);
  if (valid.empty()) {
    os << "; it takes no arguments";
  } else {
    os << "; valid arguments: ";
    for (size_t i = 0; i < valid.size(); ++i)
      os << (i ? ", " : "") << valid[i];
  }
  throw TypeError(os.str());
}

void ThrowMissing(std::string_view op, const FieldInfo& f) {
  MX_THROW(ValueError) << op << ": required argument '" << f.name << "' (" << f.type_name
                       << ") is missing" << (f.doc.empty() ? "" : ": " + f.doc);
}
}  // namespace detail

}  // namespace mixnet::op

#include <algorithm>
#include <functional>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "operator/op_def.h"

namespace mixnet::op {
namespace {
/*! \brief Hashes std::string and string_view alike, so lookups by string_view do not copy. */
struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Table {
  std::mutex mu;
  std::unordered_map<std::string, OpDef*, NameHash, std::equal_to<>> by_name;  // and aliases
  std::vector<std::unique_ptr<OpDef>> defs;
};
// Never destroyed: op definitions are referenced from static objects of other layers.
Table& GetTable() {
  static Table* table = new Table;
  return *table;
}

std::vector<std::string> AllNames(const Table& t) {
  std::vector<std::string> names;
  for (const auto& [name, def] : t.by_name)
    names.push_back(name);
  std::sort(names.begin(), names.end());  // suggestions in a stable order
  return names;
}
}  // namespace

OpDef& Registry::Add(const char* name) {
  Table& t = GetTable();
  std::lock_guard<std::mutex> lock(t.mu);
  MX_INTERNAL_ASSERT(!t.by_name.count(name)) << "operator " << name << " registered twice";
  t.defs.push_back(std::make_unique<OpDef>());
  OpDef* def = t.defs.back().get();
  def->name = name;
  t.by_name[name] = def;
  return *def;
}

OpDef& OpDef::Alias(std::string a) {
  Table& t = GetTable();
  std::lock_guard<std::mutex> lock(t.mu);
  MX_INTERNAL_ASSERT(!t.by_name.count(a)) << "operator alias " << a << " registered twice";
  t.by_name[a] = this;
  aliases.push_back(std::move(a));
  return *this;
}

const OpDef* Registry::Find(std::string_view name) {
  Table& t = GetTable();
  std::lock_guard<std::mutex> lock(t.mu);
  auto it = t.by_name.find(name);
  return it == t.by_name.end() ? nullptr : it->second;
}

const OpDef& Registry::Get(std::string_view name) {
  if (const OpDef* def = Find(name)) return *def;
  Table& t = GetTable();
  std::lock_guard<std::mutex> lock(t.mu);
  MX_THROW(ValueError) << "unknown operator '" << name << "'" << DidYouMean(name, AllNames(t));
}

std::vector<const OpDef*> Registry::List() {
  Table& t = GetTable();
  std::lock_guard<std::mutex> lock(t.mu);
  std::vector<const OpDef*> out;
  for (const auto& d : t.defs)
    out.push_back(d.get());
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name < b->name; });
  return out;
}

Attrs OpDef::ParseAttrs(const AttrDict& d) const {
  Attrs a;
  a.op = this;
  a.dict = d;
  a.parsed = params->Parse(d, name);
  return a;
}

namespace {
/*! \brief Name `i` of a list: the static names when the op has them (no call, no copy). */
std::string NameAt(const Attrs& attrs, const std::optional<std::vector<std::string>>& fixed,
                   const NamesFn& names_fn, size_t i, const char* kind) {
  if (fixed) return i < fixed->size() ? (*fixed)[i] : kind + std::to_string(i);
  const auto names = names_fn(attrs);
  return i < names.size() ? names[i] : kind + std::to_string(i);
}
}  // namespace

std::string InputName(const Attrs& attrs, size_t i) {
  return NameAt(attrs, attrs.op->static_inputs, attrs.op->input_names, i, "input ");
}

void AssignShape(const Attrs& attrs, std::string_view arg, Shape* dst, const Shape& src) {
  if (src.is_unknown()) return;
  if (dst->is_unknown()) {
    *dst = src;
    return;
  }
  bool ok = dst->ndim() == src.ndim();
  for (int i = 0; ok && i < src.ndim(); ++i) {
    ok = (*dst)[i] < 0 || src[i] < 0 || (*dst)[i] == src[i];
  }
  MX_CHECK(ok, ValueError) << attrs.op->name << ": " << arg << " has shape " << *dst << " but "
                           << src << " was expected";
  for (int i = 0; i < src.ndim(); ++i) {
    if ((*dst)[i] < 0) (*dst)[i] = src[i];
  }
}

void AssignType(const Attrs& attrs, std::string_view arg, int* dst, int src) {
  if (src < 0) return;
  if (*dst < 0) {
    *dst = src;
    return;
  }
  MX_CHECK(*dst == src, TypeError)
      << attrs.op->name << ": " << arg << " has dtype " << DTypeName(static_cast<DType>(*dst))
      << " but " << DTypeName(static_cast<DType>(src)) << " was expected";
}

namespace {
std::string OutputName(const Attrs& attrs, size_t i) {
  return NameAt(attrs, attrs.op->static_outputs, attrs.op->output_names, i, "output ");
}

/*! \brief True if AssignShape(dst, src) succeeds (so the argument's name is not needed). */
bool ShapesAgree(const Shape& dst, const Shape& src) {
  if (src.is_unknown() || dst.is_unknown()) return true;
  if (dst.ndim() != src.ndim()) return false;
  for (int i = 0; i < src.ndim(); ++i) {
    if (dst[i] >= 0 && src[i] >= 0 && dst[i] != src[i]) return false;
  }
  return true;
}
}  // namespace

// Names are built only for messages: eager calls run these on every invocation.
void SameShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  Shape s;
  for (const Shape& x : *in) {
    if (!x.is_unknown() && s.is_unknown()) s = x;
  }
  for (const Shape& x : *out) {
    if (!x.is_unknown() && s.is_unknown()) s = x;
  }
  for (size_t i = 0; i < in->size(); ++i) {
    Shape& x = (*in)[i];
    AssignShape(attrs, ShapesAgree(x, s) ? "" : InputName(attrs, i), &x, s);
  }
  for (size_t i = 0; i < in->size(); ++i)
    AssignShape(attrs, "the shape", &s, (*in)[i]);
  for (size_t i = 0; i < out->size(); ++i) {
    Shape& x = (*out)[i];
    AssignShape(attrs, ShapesAgree(x, s) ? "" : OutputName(attrs, i), &x, s);
  }
}

void SameType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  int t = -1;
  for (int x : *in)
    t = t < 0 ? x : t;
  for (int x : *out)
    t = t < 0 ? x : t;
  const auto agree = [t](int x) { return x < 0 || t < 0 || x == t; };
  for (size_t i = 0; i < in->size(); ++i) {
    int& x = (*in)[i];
    AssignType(attrs, agree(x) ? "" : InputName(attrs, i), &x, t);
  }
  for (size_t i = 0; i < out->size(); ++i) {
    int& x = (*out)[i];
    AssignType(attrs, agree(x) ? "" : OutputName(attrs, i), &x, t);
  }
}

}  // namespace mixnet::op

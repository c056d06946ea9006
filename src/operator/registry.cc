#include <algorithm>
#include <map>
#include <mutex>
#include <sstream>

#include "operator/op_def.h"

namespace mixnet::op {
namespace {
struct Table {
  std::mutex mu;
  std::map<std::string, OpDef*, std::less<>> by_name;  // names and aliases
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

std::string InputName(const Attrs& attrs, size_t i) {
  const auto names = attrs.op->input_names(attrs);
  return i < names.size() ? names[i] : "input " + std::to_string(i);
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
  const auto names = attrs.op->output_names(attrs);
  return i < names.size() ? names[i] : "output " + std::to_string(i);
}
}  // namespace

void SameShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  Shape s;
  for (const Shape& x : *in) {
    if (!x.is_unknown() && s.is_unknown()) s = x;
  }
  for (const Shape& x : *out) {
    if (!x.is_unknown() && s.is_unknown()) s = x;
  }
  for (size_t i = 0; i < in->size(); ++i)
    AssignShape(attrs, InputName(attrs, i), &(*in)[i], s);
  for (size_t i = 0; i < in->size(); ++i)
    AssignShape(attrs, "the shape", &s, (*in)[i]);
  for (size_t i = 0; i < out->size(); ++i)
    AssignShape(attrs, OutputName(attrs, i), &(*out)[i], s);
}

void SameType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  int t = -1;
  for (int x : *in)
    t = t < 0 ? x : t;
  for (int x : *out)
    t = t < 0 ? x : t;
  for (size_t i = 0; i < in->size(); ++i)
    AssignType(attrs, InputName(attrs, i), &(*in)[i], t);
  for (size_t i = 0; i < out->size(); ++i)
    AssignType(attrs, OutputName(attrs, i), &(*out)[i], t);
}

}  // namespace mixnet::op

#include "operator/attrs_cache.h"

#include <array>
#include <functional>
#include <string_view>

namespace mixnet::op {
namespace {

size_t HashAttrs(const OpDef& def, const AttrDict& dict) {
  size_t h = std::hash<const void*>{}(&def);
  const auto mix = [&h](std::string_view s) {
    h ^= std::hash<std::string_view>{}(s) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  };
  for (const auto& [key, value] : dict) {
    mix(key);
    mix(value);
  }
  return h;
}

struct Entry {
  size_t hash = 0;
  std::shared_ptr<const Attrs> attrs;  // null: empty slot
};

// Enough for the distinct (op, attributes) pairs of a training loop's step; a collision
// only costs a parse.
constexpr size_t kSlots = 256;

}  // namespace

std::shared_ptr<const Attrs> CachedAttrs(const OpDef& def, const AttrDict& dict) {
  thread_local std::array<Entry, kSlots> table;
  const size_t hash = HashAttrs(def, dict);
  Entry& e = table[hash % kSlots];
  if (e.attrs && e.hash == hash && e.attrs->op == &def && e.attrs->dict == dict) return e.attrs;
  auto parsed = std::make_shared<const Attrs>(def.ParseAttrs(dict));
  e.hash = hash;
  e.attrs = parsed;
  return parsed;
}

}  // namespace mixnet::op

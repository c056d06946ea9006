#include "operator/gradient.h"

#include "mixnet/op/invoke.h"

namespace mixnet::op {

std::vector<GValue> EagerGradBuilder::Apply(std::string_view name, std::span<const GValue> inputs,
                                            const AttrDict& attrs) {
  std::vector<NDArray> in;
  for (GValue v : inputs)
    in.push_back(Get(v));
  std::vector<GValue> out;
  for (const NDArray& o : Invoke(name, in, attrs, {}, options_))
    out.push_back(Add(o));
  return out;
}

}  // namespace mixnet::op

// Parsed attributes reused across eager calls that pass the same strings.
//
// NOTE [ Attribute cache ]
// Parsing MXNet's string attributes into an op's typed parameter struct allocates and costs
// far more than a small kernel, yet an eager loop calls the same op with the same strings
// again and again. Each thread keeps a small direct-mapped table from (op, attribute strings)
// to the parsed, immutable Attrs; a hit costs a hash, a comparison and a reference count.
// Parsing is a pure function of the strings, so sharing the result cannot change what a
// kernel sees; a failed parse throws before anything is cached.
#pragma once

#include <memory>

#include "operator/op_def.h"

namespace mixnet::op {

/*! \brief `def`'s attributes parsed from `dict`, shared with earlier calls on this thread. */
std::shared_ptr<const Attrs> CachedAttrs(const OpDef& def, const AttrDict& dict);

}  // namespace mixnet::op

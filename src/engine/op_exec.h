// What both engines do around running one op: skip on poisoned inputs, record errors, versions.
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "engine/engine_error.h"
#include "engine/var.h"
#include "mixnet/engine/engine.h"

namespace mixnet::engine {

/*! \brief True for ops that run even when an input carries an error. */
inline bool RunsDespiteErrors(FnProperty p) {
  return p == FnProperty::kNoSkip || p == FnProperty::kDeleteVar;
}

/*! \brief The first still-active error on any of the vars, or null. */
inline ErrorRef FirstActiveError(std::span<const VarHandle> a, std::span<const VarHandle> b) {
  for (auto vars : {a, b}) {
    for (VarHandle v : vars) {
      if (v->error && v->error->active()) return v->error;
    }
  }
  return nullptr;
}

/*! \brief After an op: its outcome (null on success) becomes the state of what it wrote. */
inline void RecordWrites(std::span<const VarHandle> mutable_vars, const ErrorRef& outcome) {
  for (auto it = mutable_vars.begin(); it != mutable_vars.end(); ++it) {
    VarHandle v = *it;
    if (std::find(mutable_vars.begin(), it, v) != it) continue;  // listed twice: one write
    v->error = outcome;
    v->version.fetch_add(1, std::memory_order_relaxed);
  }
}

/*!
 * \brief Sorts and de-duplicates both lists and removes from `reads` every var in `writes`
 * (a var both read and written counts as written), in place.
 */
inline void DedupVars(std::vector<VarHandle>* reads, std::vector<VarHandle>* writes) {
  std::sort(writes->begin(), writes->end());
  writes->erase(std::unique(writes->begin(), writes->end()), writes->end());
  std::sort(reads->begin(), reads->end());
  reads->erase(std::unique(reads->begin(), reads->end()), reads->end());
  reads->erase(std::remove_if(reads->begin(), reads->end(),
                              [&](VarHandle v) {
                                return std::binary_search(writes->begin(), writes->end(), v);
                              }),
               reads->end());
}

}  // namespace mixnet::engine

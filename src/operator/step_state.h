// What a kernel may keep between runs of one inference executor step (NOTE [ Step state ]).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "mixnet/engine/engine.h"
#include "operator/op_def.h"

namespace mixnet::op {

/*!
 * NOTE [ Step state ]
 * An inference executor runs the same op call on the same weights again and again. A kernel
 * that prepares an input at a cost (a blocked oneDNN convolution reorders its weights) may keep
 * the prepared copy with the executor's step, valid while the input has the same data pointer
 * and its engine var the same version (its count of completed writes): any write to the weights,
 * e.g. a training step or set_data, makes the kernel prepare them again. The executor sets the
 * state around inference runs of a step only; training runs and eager calls see none. The
 * kernel runs in the thread that runs the step, so a thread-local hands it over. Versions are
 * read only by a kernel that asks (InputVersion), so other ops pay nothing per run.
 */
struct StepState {
  std::span<const TBlob> in;           // the call's inputs, for this run
  std::span<const VarHandle> in_vars;  // their engine vars
  std::shared_ptr<void> kept;          // the kernel's, kept across runs of the step

  /*! \brief The version of the input whose data is `dptr`, or nullopt if none is. */
  std::optional<uint64_t> InputVersion(const void* dptr) const {
    for (size_t i = 0; i < in.size() && i < in_vars.size(); ++i) {
      if (in[i].dptr == dptr) return Engine::Get()->VarVersion(in_vars[i]);
    }
    return std::nullopt;
  }
};

/*! \brief The inference step running on this thread, or null. */
inline thread_local StepState* tl_step_state = nullptr;

}  // namespace mixnet::op

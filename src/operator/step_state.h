// What a kernel may keep between runs of one inference executor step (NOTE [ Step state ]).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace mixnet::op {

/*!
 * NOTE [ Step state ]
 * An inference executor runs the same op call on the same weights again and again. A kernel
 * that prepares an input at a cost (a blocked oneDNN convolution reorders its weights) may keep
 * the prepared copy with the executor's step, valid while the input has the same data pointer
 * and its engine var the same version (its count of completed writes): any write to the weights,
 * e.g. a training step or set_data, makes the kernel prepare them again. The executor sets the
 * state around inference runs of a step only; training runs and eager calls see none. The
 * kernel runs in the thread that runs the step, so a thread-local hands it over.
 */
struct StepState {
  std::vector<const void*> in_ptrs;   // each input's data, for this run
  std::vector<uint64_t> in_versions;  // each input's var version, for this run
  std::shared_ptr<void> kept;         // the kernel's, kept across runs of the step
};

/*! \brief The inference step running on this thread, or null. */
inline thread_local StepState* tl_step_state = nullptr;

}  // namespace mixnet::op

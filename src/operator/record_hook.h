// How the operator layer lets autograd (the layer above) see each call.
//
// NOTE [ Autograd hook ]
// Invoke must know whether the calling thread records (autograd's flag) and must hand each
// recorded call to autograd before pushing it, but the operator layer may not depend on
// autograd. So the thread-local flags live here, and autograd installs one function that
// Invoke calls while recording. Not recording costs one thread-local load per call.
#pragma once

#include <memory>
#include <span>

#include "mixnet/op/attrs.h"

#include "mixnet/ndarray/ndarray.h"

namespace mixnet::op {

struct OpDef;
struct Attrs;

/*! \brief autograd's thread-local flags: is_recording, is_training. */
struct AutogradFlags {
  bool recording = false;
  bool training = false;
};
inline thread_local AutogradFlags t_autograd_flags;

/*! \brief One call as Invoke is about to push it (versions not yet bumped for its writes). */
struct RecordedCall {
  const OpDef& op;
  const std::shared_ptr<const Attrs>& attrs;
  std::span<const NDArray> inputs;
  std::span<NDArray> outputs;  // the recorder sets their GradEntry
  bool outputs_given;          // written in place (out=...) rather than new
  std::span<const int> mutated_inputs;
  bool is_train;
};
using RecordFn = void (*)(const RecordedCall& call);
/*! \brief Installed once by autograd; Invoke calls it for every call made while recording. */
void SetRecordFn(RecordFn fn);

/*!
 * \brief Deferred compute (sym::TraceScope, in the symbol layer above): while a trace is active
 * on this thread, Invoke hands every call to the function the symbol layer installed, the same
 * way as autograd's (NOTE [ Autograd hook ]).
 */
inline thread_local bool t_tracing = false;
void SetTraceFn(RecordFn fn);

/*! \brief The op call a view stands for (slice_axis on axis 0, or Reshape), to record it. */
struct ViewOp {
  const OpDef* op;
  AttrDict attrs;
};
ViewOp DescribeView(const NDArray& source, const NDArray& view, NDArray::ViewKind kind);

}  // namespace mixnet::op

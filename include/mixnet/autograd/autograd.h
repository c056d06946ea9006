/*!
 * \file autograd.h
 * \brief Imperative automatic differentiation on NDArray, with MXNet 1.x semantics.
 *
 *   autograd::AttachGrad(&w);                     // w.grad: zeros, grad_req "write"
 *   NDArray loss;
 *   {
 *     autograd::RecordScope record;               // mx.autograd.record()
 *     loss = op::sum(op::square(op::FullyConnected(x, w, b, ...)));
 *   }
 *   autograd::Backward({loss});                   // loss.backward()
 *   NDArray g = autograd::GetGrad(w);             // w.grad
 *
 * While recording, every operator call whose inputs reach a marked variable adds a node to
 * the tape, and NDArray views (Slice, At, Reshape) of recorded arrays are recorded too. A node
 * keeps only the inputs and outputs its gradient reads (found by tracing the op's gradient
 * graph once per op and attributes). Backward runs the ops' gradient graphs through the engine
 * like any other call, then frees the tape unless asked to retain it. With create_graph the
 * backward ops are themselves recorded, so gradients can be differentiated again.
 *
 * Each NDArray object carries its own place in the graph: copies of the object share it, a
 * Detach()ed copy does not. Every write to an array bumps its chunk's version; an array that
 * the tape saved and that was written afterwards is reported at backward, naming the op.
 *
 * The recording and training flags are thread-local (off by default on every thread).
 */
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "mixnet/ndarray/ndarray.h"

namespace mixnet::autograd {

/*! \brief How a variable's gradient buffer is written (MXNet's grad_req). */
enum class GradReq { kNull, kWrite, kAdd };
/*! \brief "null", "write", "add" (also "inplace", as MXNet, for write); ValueError otherwise. */
GradReq GradReqFromString(std::string_view s);

// ---- flags (thread-local) ----
bool IsRecording();
bool IsTraining();
/*! \brief Sets the flag; returns the previous value. */
bool SetRecording(bool recording);
bool SetTraining(bool training);

/*! \brief mx.autograd.record(train_mode): records in this scope, restoring the flags after. */
class RecordScope {
 public:
  explicit RecordScope(bool train_mode = true);
  ~RecordScope();
  RecordScope(const RecordScope&) = delete;
  RecordScope& operator=(const RecordScope&) = delete;

 private:
  bool prev_recording_, prev_training_;
};

/*! \brief mx.autograd.pause(train_mode): stops recording in this scope. */
class PauseScope {
 public:
  explicit PauseScope(bool train_mode = false);
  ~PauseScope();
  PauseScope(const PauseScope&) = delete;
  PauseScope& operator=(const PauseScope&) = delete;

 private:
  bool prev_recording_, prev_training_;
};

/*! \brief mx.autograd.train_mode() / predict_mode(): sets only the training flag. */
class TrainingScope {
 public:
  explicit TrainingScope(bool training);
  ~TrainingScope();
  TrainingScope(const TrainingScope&) = delete;
  TrainingScope& operator=(const TrainingScope&) = delete;

 private:
  bool prev_training_;
};

// ---- variables ----
/*!
 * \brief x.attach_grad(grad_req): gives *x a zero gradient buffer of its shape and dtype and
 * makes it a variable of the graphs recorded from now on.
 */
void AttachGrad(NDArray* x, GradReq req = GradReq::kWrite);
/*!
 * \brief mx.autograd.mark_variables: each variables[i] gets gradients[i] (same shape and dtype)
 * as its buffer, written per reqs[i] (one req for all if reqs has size 1).
 */
void MarkVariables(std::span<NDArray> variables, std::span<const NDArray> gradients,
                   std::span<const GradReq> reqs);
/*! \brief x.grad: the gradient buffer of a variable; ValueError if x is not one. */
NDArray GetGrad(const NDArray& x);
/*! \brief True if x is a variable (AttachGrad/MarkVariables) or the output of a recorded op. */
bool HasGraph(const NDArray& x);
/*!
 * \brief If x is a variable: its gradient buffer and grad_req (*req); else a none array. For
 * code that computes a variable's gradient straight into its buffer (CachedOp).
 */
NDArray VariableGrad(const NDArray& x, GradReq* req);
/*! \brief x.detach(): the same array (shared storage) outside any graph. */
NDArray Detach(const NDArray& x);

// ---- differentiation ----
/*!
 * \brief loss.backward() for several heads: adds d(sum_i <heads[i], head_grads[i]>)/dv into
 * every variable v reached, per its grad_req. `head_grads` empty means ones; a none entry
 * means ones for that head. The tape is freed unless `retain_graph`. Errors: a head not
 * recorded, no variable reached, a freed tape, a head_grad of another shape, an op without a
 * gradient on the path, an input the tape saved that was modified in place since.
 */
void Backward(std::span<const NDArray> heads, std::span<const NDArray> head_grads = {},
              bool retain_graph = false, bool train_mode = true);
inline void Backward(std::initializer_list<NDArray> heads) {
  Backward(std::span<const NDArray>(heads.begin(), heads.size()));
}

/*!
 * \brief mx.autograd.grad: the gradients of the heads with respect to `variables` (which need
 * a place in the graph: marked variables or recorded outputs), returned as new arrays; the
 * variables' buffers are not touched. A variable the heads do not depend on gets zeros. With
 * `create_graph` the computation of the gradients is recorded (higher-order gradients);
 * `retain_graph` defaults to create_graph, as in MXNet.
 */
std::vector<NDArray> Grad(std::span<const NDArray> heads, std::span<const NDArray> variables,
                          std::span<const NDArray> head_grads = {}, bool create_graph = false,
                          int retain_graph = -1, bool train_mode = true);

// ---- custom differentiable functions ----
/*!
 * \brief mx.autograd.Function: a differentiable function with a user-written backward.
 *
 *   struct Sigmoid : autograd::Function {
 *     std::vector<NDArray> Forward(std::span<const NDArray> in) override {
 *       NDArray y = op::sigmoid(in[0]);
 *       SaveForBackward({y});
 *       return {y};
 *     }
 *     std::vector<NDArray> Backward(std::span<const NDArray> dy) override {
 *       NDArray y = saved()[0];
 *       return {op::elemwise_mul(dy[0], op::elemwise_mul(y, op::_rminus_scalar(y, 1)))};
 *     }
 *   };
 *   auto f = std::make_shared<Sigmoid>();
 *   NDArray y = (*f)({x})[0];
 *
 * Forward runs with recording paused; its outputs become one node of the tape whose gradient
 * calls Backward (recorded when differentiating with create_graph). A Function object must be
 * owned by a std::shared_ptr and called once.
 */
class Function : public std::enable_shared_from_this<Function> {
 public:
  virtual ~Function() = default;
  virtual std::vector<NDArray> Forward(std::span<const NDArray> inputs) = 0;
  /*! \brief One gradient per input, from one gradient per output; a none array means zero. */
  virtual std::vector<NDArray> Backward(std::span<const NDArray> output_grads) = 0;

  std::vector<NDArray> operator()(std::span<const NDArray> inputs);
  std::vector<NDArray> operator()(std::initializer_list<NDArray> inputs) {
    return (*this)(std::span<const NDArray>(inputs.begin(), inputs.size()));
  }

 protected:
  void SaveForBackward(std::vector<NDArray> arrays) { saved_ = std::move(arrays); }
  /*!
   * \brief True while autograd::Backward (without create_graph) runs this Backward: every array
   * it returns is read by operations pushed before Backward returns, so it may be a buffer the
   * function overwrites in a later call (the engine orders that write after those reads).
   * False under autograd::Grad or create_graph, where returned arrays may be kept: return
   * arrays of their own then.
   */
  static bool GradientsConsumedAtOnce();
  const std::vector<NDArray>& saved() const { return saved_; }

 private:
  std::vector<NDArray> saved_;
  bool called_ = false;
};

}  // namespace mixnet::autograd

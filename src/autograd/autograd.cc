// Flags, scopes and variables (mx.autograd.record/pause, attach_grad, mark_variables).
#include "mixnet/autograd/autograd.h"

#include "autograd/node.h"
#include "mixnet/base/error.h"
#include "operator/op_def.h"
#include "operator/record_hook.h"

namespace mixnet::autograd {

GradReq GradReqFromString(std::string_view s) {
  if (s == "null") return GradReq::kNull;
  if (s == "write" || s == "inplace") return GradReq::kWrite;
  if (s == "add") return GradReq::kAdd;
  MX_THROW(ValueError) << "grad_req: expected 'null', 'write', 'add' or 'inplace', got '" << s
                       << "'";
}

std::string Node::Name() const {
  if (is_variable) return "variable";
  if (function) return "autograd::Function";
  return op ? op->name : "?";
}

bool IsRecording() {
  return op::t_autograd_flags.recording;
}
bool IsTraining() {
  return op::t_autograd_flags.training;
}
bool SetRecording(bool recording) {
  if (recording) InstallHooks();
  return std::exchange(op::t_autograd_flags.recording, recording);
}
bool SetTraining(bool training) {
  return std::exchange(op::t_autograd_flags.training, training);
}

RecordScope::RecordScope(bool train_mode)
    : prev_recording_(SetRecording(true)), prev_training_(SetTraining(train_mode)) {}
RecordScope::~RecordScope() {
  SetRecording(prev_recording_);
  SetTraining(prev_training_);
}

PauseScope::PauseScope(bool train_mode)
    : prev_recording_(SetRecording(false)), prev_training_(SetTraining(train_mode)) {}
PauseScope::~PauseScope() {
  SetRecording(prev_recording_);
  SetTraining(prev_training_);
}

TrainingScope::TrainingScope(bool training) : prev_training_(SetTraining(training)) {}
TrainingScope::~TrainingScope() {
  SetTraining(prev_training_);
}

namespace {

void MakeVariable(NDArray* x, NDArray grad, GradReq req, const char* api) {
  MX_CHECK(x != nullptr && !x->is_none(), ValueError) << api << ": the variable is a none array";
  MX_CHECK(!grad.is_none() && grad.shape() == x->shape() && grad.dtype() == x->dtype(), ValueError)
      << api << ": the gradient buffer (" << (grad.is_none() ? "none" : grad.Describe())
      << ") must have the variable's shape and dtype (" << x->Describe() << ")";
  InstallHooks();
  auto node = std::make_shared<Node>();
  node->is_variable = true;
  node->req = req;
  node->grad = std::move(grad);
  x->set_grad_entry({std::move(node), 0});
}

}  // namespace

void AttachGrad(NDArray* x, GradReq req) {
  MX_CHECK(x != nullptr && !x->is_none(), ValueError) << "attach_grad: the array is a none array";
  MakeVariable(x, NDArray::Zeros(x->shape(), x->dtype(), x->ctx()), req, "attach_grad");
}

void MarkVariables(std::span<NDArray> variables, std::span<const NDArray> gradients,
                   std::span<const GradReq> reqs) {
  MX_CHECK(gradients.size() == variables.size(), ValueError)
      << "mark_variables: " << variables.size() << " variables but " << gradients.size()
      << " gradient buffers";
  MX_CHECK(reqs.size() == variables.size() || reqs.size() == 1, ValueError)
      << "mark_variables: " << variables.size() << " variables but " << reqs.size()
      << " grad_reqs (give one per variable, or one for all)";
  for (size_t i = 0; i < variables.size(); ++i)
    MakeVariable(&variables[i], gradients[i], reqs.size() == 1 ? reqs[0] : reqs[i],
                 "mark_variables");
}

NDArray GetGrad(const NDArray& x) {
  const NDArray::GradEntry& e = x.grad_entry();
  MX_CHECK(e.node && e.node->is_variable, ValueError)
      << "grad: " << (x.is_none() ? std::string("a none array") : x.Describe())
      << " has no gradient buffer; call autograd::AttachGrad (attach_grad) on it first"
      << (e.node ? " (it is the output of a recorded " + e.node->Name() + ")" : "");
  return e.node->grad;
}

bool HasGraph(const NDArray& x) {
  return x.grad_entry().node != nullptr;
}

NDArray VariableGrad(const NDArray& x, GradReq* req) {
  const NDArray::GradEntry& e = x.grad_entry();
  if (!e.node || !e.node->is_variable) return NDArray();
  *req = e.node->req;
  return e.node->grad;
}

NDArray Detach(const NDArray& x) {
  NDArray out = x;
  out.set_grad_entry({});
  return out;
}

}  // namespace mixnet::autograd

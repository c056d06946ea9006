#include "operator/dnnl/dnnl_util.h"

#include "operator/parallel.h"

namespace mixnet::op::dnnl_util {

const dnnl::engine& Engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& Stream() {
  thread_local dnnl::stream stream(Engine());
  return stream;
}

dnnl::primitive_attr ScratchpadAttr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

std::unordered_map<std::string, std::shared_ptr<void>>& ThreadCache() {
  thread_local std::unordered_map<std::string, std::shared_ptr<void>> cache;
  return cache;
}

void Arg::Plan(const memory::desc& user, const memory::desc& want, bool in) {
  user_ = user;
  want_ = want;
  in_ = in;
  if (user_ == want_) return;
  const memory src(in ? user_ : want_, Engine(), DNNL_MEMORY_NONE);
  const memory dst(in ? want_ : user_, Engine(), DNNL_MEMORY_NONE);
  reorder_ = dnnl::reorder(src, dst);
}

BoundArg::BoundArg(const Arg& arg, void* ptr, TempSpace& temp)
    : arg_(arg), user_(arg.user_, Engine(), ptr) {
  if (!arg_.reorder_) return;
  want_ = memory(arg_.want_, Engine(), temp.Alloc(arg_.want_.get_size()));
  if (arg_.in_) arg_.reorder_.execute(Stream(), user_, want_);
}

void BoundArg::Finish() {
  if (!arg_.reorder_ || arg_.in_) return;
  arg_.reorder_.execute(Stream(), want_, user_);
  Stream().wait();
}

void Execute(const dnnl::primitive& prim, const dnnl::primitive_desc_base& pd,
             std::unordered_map<int, memory> args, TempSpace& temp) {
  const memory::desc scratch_md = pd.scratchpad_desc();
  if (scratch_md.get_size() > 0) {
    args[DNNL_ARG_SCRATCHPAD] = memory(scratch_md, Engine(), temp.Alloc(scratch_md.get_size()));
  }
  prim.execute(Stream(), args);
  Stream().wait();
}

OutputSlot::OutputSlot(OpReq req, const TBlob& out, TempSpace& temp) : req_(req), out_(out) {
  const bool direct = req == OpReq::kWrite || req == OpReq::kWriteInplace;
  ptr_ = direct ? out.data<float>() : temp.Alloc<float>(out.Size());
}

void OutputSlot::Commit() {
  if (req_ != OpReq::kAdd) return;
  float* dst = out_.data<float>();
  const float* y = ptr_;
  ParallelFor(out_.Size(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      dst[i] += y[i];
  });
}

void WriteFloatOutput(OpReq req, const TBlob& out, TempSpace& temp,
                      const std::function<void(float*)>& run) {
  if (req == OpReq::kNull) return;
  OutputSlot slot(req, out, temp);
  run(slot.ptr());
  slot.Commit();
}

}  // namespace mixnet::op::dnnl_util

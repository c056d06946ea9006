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

ScratchBuffer::ScratchBuffer(size_t bytes) : h_(Storage::Get()->Alloc(bytes, Context::cpu())) {}

ScratchBuffer::~ScratchBuffer() {
  Storage::Get()->Free(h_);
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

BoundArg::BoundArg(const Arg& arg, void* ptr) : arg_(arg), user_(arg.user_, Engine(), ptr) {
  if (!arg_.reorder_) return;
  buf_ = std::make_unique<ScratchBuffer>(arg_.want_.get_size());
  want_ = memory(arg_.want_, Engine(), buf_->data());
  if (arg_.in_) arg_.reorder_.execute(Stream(), user_, want_);
}

void BoundArg::Finish() {
  if (!arg_.reorder_ || arg_.in_) return;
  arg_.reorder_.execute(Stream(), want_, user_);
  Stream().wait();
}

void Execute(const dnnl::primitive& prim, const dnnl::primitive_desc_base& pd,
             std::unordered_map<int, memory> args) {
  const memory::desc scratch_md = pd.scratchpad_desc();
  std::unique_ptr<ScratchBuffer> scratch;
  if (scratch_md.get_size() > 0) {
    scratch = std::make_unique<ScratchBuffer>(scratch_md.get_size());
    args[DNNL_ARG_SCRATCHPAD] = memory(scratch_md, Engine(), scratch->data());
  }
  prim.execute(Stream(), args);
  Stream().wait();
}

OutputSlot::OutputSlot(OpReq req, const TBlob& out) : req_(req), out_(out) {
  if (req == OpReq::kWrite || req == OpReq::kWriteInplace) {
    ptr_ = out.data<float>();
    return;
  }
  buf_ = std::make_unique<ScratchBuffer>(static_cast<size_t>(out.Size()) * sizeof(float));
  ptr_ = static_cast<float*>(buf_->data());
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

void WriteFloatOutput(OpReq req, const TBlob& out, const std::function<void(float*)>& run) {
  if (req == OpReq::kNull) return;
  OutputSlot slot(req, out);
  run(slot.ptr());
  slot.Commit();
}

}  // namespace mixnet::op::dnnl_util

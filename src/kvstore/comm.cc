// Reduction and broadcast across the devices of one process (MXNet's CommCPU / CommDevice).
#include "kvstore/comm.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "kvstore/gradient_compression.h"
#include "mixnet/base/error.h"
#include "mixnet/engine/engine.h"
#include "mixnet/op/invoke.h"

namespace mixnet::kvstore {

namespace {

// NOTE [ Device sum ]: the devices of one process share host memory, so a push of k arrays is
// one engine op reading all k and writing the key's buffer, summed block by block (the block
// stays in cache while the k - 1 additions run), without copying each array to the first
// context first. Its read list is cached per key (the arrays a Trainer pushes are the same every
// step), so a warm push allocates nothing.
constexpr int64_t kSumBlock = 4096;

template <typename T>
void SumRaw(const std::vector<void*>& srcs, void* dst_raw, int64_t n) {
  T* __restrict dst = static_cast<T*>(dst_raw);
  for (int64_t b = 0; b < n; b += kSumBlock) {
    const int64_t e = std::min(n, b + kSumBlock);
    const T* __restrict s0 = static_cast<const T*>(srcs[0]);
    const T* __restrict s1 = static_cast<const T*>(srcs[1]);
    for (int64_t i = b; i < e; ++i)
      dst[i] = static_cast<T>(s0[i] + s1[i]);
    for (size_t k = 2; k < srcs.size(); ++k) {
      const T* __restrict sk = static_cast<const T*>(srcs[k]);
      for (int64_t i = b; i < e; ++i)
        dst[i] = static_cast<T>(dst[i] + sk[i]);
    }
  }
}

using SumFn = void (*)(const std::vector<void*>&, void*, int64_t);

SumFn SumFor(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return &SumRaw<float>;
    case DType::kFloat64:
      return &SumRaw<double>;
    case DType::kInt32:
      return &SumRaw<int32_t>;
    case DType::kInt64:
      return &SumRaw<int64_t>;
    case DType::kInt8:  // wraps around, as MXNet's ElementwiseSum
      return &SumRaw<int8_t>;
    case DType::kUint8:
      return &SumRaw<uint8_t>;
    default:
      return nullptr;  // float16, bfloat16: add_n's kernels
  }
}

}  // namespace

struct Comm::SumPlan {
  std::vector<NDArray> values;  // kept alive so that their vars identify them
  std::vector<VarHandle> reads;
  std::vector<NDArray::DataRef> refs;
  SumFn fn;
};

const NDArray& Comm::MergeBuffer(int key, const NDArray& like) {
  NDArray& buf = merge_[key];
  if (buf.is_none() || buf.shape() != like.shape() || buf.dtype() != like.dtype() ||
      buf.ctx() != like.ctx())
    buf = NDArray(like.shape(), like.ctx(), like.dtype());
  return buf;
}

void Comm::SumInto(int key, const std::vector<NDArray>& values, const NDArray& dst, int priority) {
  const SumFn fn = SumFor(dst.dtype());
  const bool host =
      std::all_of(values.begin(), values.end(), [](const NDArray& v) { return v.ctx().is_host(); });
  if (!fn || !host || !dst.ctx().is_host()) {
    std::vector<NDArray> parts;
    parts.reserve(values.size());
    for (const NDArray& v : values)
      parts.push_back(v.AsInContext(dst.ctx()));
    op::Invoke("add_n", parts, {{"num_args", std::to_string(parts.size())}}, {&dst, 1});
    return;
  }
  std::shared_ptr<const SumPlan>& plan = plans_[key];
  bool same = plan && plan->values.size() == values.size();
  for (size_t i = 0; same && i < values.size(); ++i)
    same = plan->values[i].var() == values[i].var() &&
           plan->values[i].byte_offset() == values[i].byte_offset();
  if (!same) {
    auto p = std::make_shared<SumPlan>();
    p->values = values;
    p->fn = fn;
    for (const NDArray& v : values) {
      p->reads.push_back(v.var());
      p->refs.push_back(v.data_ref());
    }
    plan = std::move(p);
  }
  dst.BumpVersion();
  const VarHandle write = dst.var();
  Engine::Get()->PushSync(
      [plan, d = dst.data_ref(), n = dst.Size()](RunContext) {
        // The srcs vector is per run (not per push), so the plan stays shared read-only.
        thread_local std::vector<void*> srcs;
        srcs.clear();
        for (const NDArray::DataRef& r : plan->refs)
          srcs.push_back(r.Data());
        plan->fn(srcs, d.Data(), n);
      },
      dst.ctx(), plan->reads, {&write, 1}, FnProperty::kNormal, priority, "KVStoreReduce");
}

NDArray Comm::Reduce(int key, const std::vector<NDArray>& values, int priority,
                     GradientCompression* gc) {
  MX_CHECK(!values.empty(), ValueError) << "KVStore.push: no value given for key " << key;
  const NDArray& first = values[0];  // the caller checked every value against the key's
  if (!gc) {
    if (values.size() == 1) return first;  // MXNet: one device needs no reduction, nor a copy
    const NDArray& buf = MergeBuffer(key, first);
    SumInto(key, values, buf, priority);
    return buf;
  }
  // MXNet's device store with compression: every device's value is quantized with its own
  // residual and dequantized (even a single one), and the dequantized values are summed.
  const NDArray& buf = MergeBuffer(key, first);
  const int64_t words = GradientCompression::CompressedWords(first.Size());
  for (size_t d = 0; d < values.size(); ++d) {
    const NDArray& v = values[d];
    const std::pair<int, int> kd{key, static_cast<int>(d)};
    NDArray& res = residual_[kd];
    if (res.is_none() || res.shape() != v.shape() || res.ctx() != v.ctx())
      res = NDArray::Zeros(v.shape(), DType::kFloat32, v.ctx());
    NDArray& comp = compressed_[kd];
    if (comp.is_none() || comp.Size() != words || comp.ctx() != v.ctx())
      comp = NDArray(Shape({words}), v.ctx(), DType::kFloat32);
    gc->Quantize(v, res, comp, priority);
    // The words are read in place from the device's memory (one host address space).
    if (d == 0)
      gc->Dequantize(comp, buf, priority);
    else
      gc->DequantizeAdd(comp, buf, priority);
  }
  return buf;
}

void Comm::Broadcast(int key, const NDArray& src, const std::vector<NDArray>& outs, int priority) {
  for (const NDArray& out : outs) {
    MX_CHECK(!out.is_none(), ValueError) << "KVStore.pull: key " << key << " got a none output";
    MX_CHECK(out.shape() == src.shape(), ValueError)
        << "KVStore.pull: key " << key << " holds shape " << src.shape()
        << ", but the output has shape " << out.shape();
    if (out.SharesStorageWith(src) && out.byte_offset() == src.byte_offset()) continue;
    src.CopyTo(out, priority);
  }
}

}  // namespace mixnet::kvstore

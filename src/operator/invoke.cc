#include "mixnet/op/invoke.h"

#include <array>
#include <atomic>
#include <cstddef>
#include <memory_resource>
#include <sstream>

#include "engine/object_pool.h"
#include "operator/attrs_cache.h"
#include "operator/op_call.h"
#include "operator/op_def.h"
#include "operator/random_resource.h"
#include "operator/record_hook.h"

namespace mixnet::op {
namespace {

std::string Describe(std::span<const Shape> shapes) {
  std::ostringstream os;
  for (size_t i = 0; i < shapes.size(); ++i)
    os << (i ? ", " : "") << shapes[i];
  return os.str();
}

/*! \brief Where an op without inputs runs: its "ctx" attribute (MXNet's), else cpu(0). */
Context CtxAttr(const AttrDict& dict) {
  for (const auto& [key, value] : dict) {
    if (key == "ctx" && !value.empty()) return Context::FromString(value);
  }
  return Context::cpu();
}

void CheckInputCount(const OpDef& def, const Attrs& attrs, size_t given) {
  const size_t expected =
      def.static_inputs ? def.static_inputs->size() : static_cast<size_t>(def.NumInputs(attrs));
  if (given == expected) return;
  const std::vector<std::string> names = def.input_names(attrs);
  std::string list;
  for (size_t i = 0; i < names.size(); ++i)
    list += (i ? ", " : "") + names[i];
  MX_THROW(ValueError) << def.name << " takes " << names.size() << " input(s) (" << list
                       << "), got " << given;
}

/*!
 * \brief One eager call: the work area of inference at push time, then what the pushed
 * function needs to run the kernel. Pooled (NOTE [ Allocation-free push ] in docs/design.md):
 * the vectors keep their capacity, so a warm call allocates only its output arrays.
 */
struct PushedOp {
  // Inference (push time).
  std::vector<Shape> in_shapes, out_shapes;
  std::vector<int> in_types, out_types;
  // The kernel call (run time). Arrays are reached through DataRefs: the engine keeps their
  // chunks alive until this op has run.
  const KernelDef* kernel = nullptr;
  std::shared_ptr<const Attrs> attrs;
  std::vector<NDArray::DataRef> in_refs, out_refs;
  std::vector<TBlob> in, out;  // shapes and dtypes at push, pointers at run
  std::vector<OpReq> req;
  bool is_train = false;
  std::mt19937_64* rng = nullptr;
  bool needs_temp = false;

  void Run(RunContext rctx) {
    for (size_t i = 0; i < in.size(); ++i)
      in[i].dptr = in_refs[i].Data();
    for (size_t i = 0; i < out.size(); ++i)
      out[i].dptr = out_refs[i].Data();
    TempSpace temp;  // allocates nothing unless the kernel asks
    kernel->compute(OpContext{rctx, is_train, rng, needs_temp ? &temp : nullptr}, *attrs, in, req,
                    out);
  }
};

/*!
 * \brief Owns a PushedOp until the engine destroys the pushed function (after running it, or
 * after skipping it because an input carries an error); then returns it to the pool.
 */
class PushedOpRef {
 public:
  PushedOpRef() : op_(engine::ObjectPool<PushedOp>::New()) {}
  PushedOpRef(PushedOpRef&& o) noexcept : op_(std::exchange(o.op_, nullptr)) {}
  PushedOpRef& operator=(PushedOpRef&&) = delete;
  ~PushedOpRef() {
    if (!op_) return;
    op_->attrs.reset();  // the cached Attrs may be evicted meanwhile; drop our share now
    engine::ObjectPool<PushedOp>::Delete(op_);
  }
  PushedOp* operator->() const { return op_; }
  void operator()(RunContext rctx) const { op_->Run(rctx); }

 private:
  PushedOp* op_;
};

std::atomic<RecordFn> g_record_fn{nullptr};
std::atomic<RecordFn> g_trace_fn{nullptr};

}  // namespace

void SetRecordFn(RecordFn fn) {
  g_record_fn.store(fn);
}

void SetTraceFn(RecordFn fn) {
  g_trace_fn.store(fn);
}

ViewOp DescribeView(const NDArray& source, const NDArray& view, NDArray::ViewKind kind) {
  if (kind == NDArray::ViewKind::kSlice) {
    static const OpDef* slice = GetOp("slice_axis");
    const Shape& s = source.shape();
    const size_t row_bytes =
        static_cast<size_t>(s.ProdDims(1, s.ndim())) * DTypeSize(source.dtype());
    const int64_t begin =
        row_bytes ? static_cast<int64_t>((view.byte_offset() - source.byte_offset()) / row_bytes)
                  : 0;
    return {slice,
            {{"axis", "0"},
             {"begin", std::to_string(begin)},
             {"end", std::to_string(begin + view.shape()[0])}}};
  }
  static const OpDef* reshape = GetOp("Reshape");
  std::ostringstream shape;
  shape << view.shape();
  return {reshape, {{"shape", shape.str()}}};
}

const OpDef* GetOp(std::string_view name) {
  return &Registry::Get(name);
}

std::vector<NDArray> Invoke(const OpDef* op, std::span<const NDArray> inputs, const AttrDict& dict,
                            std::span<const NDArray> outputs, InvokeOptions options) {
  MX_CHECK(op != nullptr, ValueError) << "Invoke: null operator handle";
  const OpDef& def = *op;
  PushedOpRef p;
  p->attrs = CachedAttrs(def, dict);
  const Attrs& attrs = *p->attrs;
  CheckInputCount(def, attrs, inputs.size());
  const int n_out =
      def.static_outputs ? static_cast<int>(def.static_outputs->size()) : def.NumOutputs(attrs);
  MX_CHECK(outputs.empty() || static_cast<int>(outputs.size()) == n_out, ValueError)
      << def.name << " has " << n_out << " output(s), got " << outputs.size() << " to write to";

  // Meta first: nothing is pushed unless shapes and dtypes are consistent.
  auto& in_shapes = p->in_shapes;
  auto& out_shapes = p->out_shapes;
  auto& in_types = p->in_types;
  auto& out_types = p->out_types;
  in_shapes.clear();
  in_types.clear();
  out_shapes.assign(static_cast<size_t>(n_out), Shape());
  out_types.assign(static_cast<size_t>(n_out), -1);
  for (size_t i = 0; i < inputs.size(); ++i) {
    MX_CHECK(!inputs[i].is_none(), ValueError)
        << def.name << ": input '" << InputName(attrs, i) << "' is a none array";
    in_shapes.push_back(inputs[i].shape());
    in_types.push_back(static_cast<int>(inputs[i].dtype()));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    out_shapes[i] = outputs[i].shape();
    out_types[i] = static_cast<int>(outputs[i].dtype());
  }
  if (def.infer_shape) def.infer_shape(attrs, &in_shapes, &out_shapes);
  if (def.infer_type) def.infer_type(attrs, &in_types, &out_types);
  for (size_t i = 0; i < inputs.size(); ++i) {
    // Inference may not change what the caller gave; only fill what was unknown.
    MX_INTERNAL_ASSERT(in_shapes[i] == inputs[i].shape() &&
                       in_types[i] == static_cast<int>(inputs[i].dtype()))
        << def.name << " inference changed input " << i;
  }
  for (int i = 0; i < n_out; ++i) {
    MX_CHECK(out_shapes[i].is_known() && out_types[i] >= 0, ValueError)
        << def.name << ": cannot infer output " << i << " from input shapes ("
        << Describe(in_shapes) << ")";
  }

  const Context ctx =
      inputs.empty() ? (outputs.empty() ? CtxAttr(dict) : outputs[0].ctx()) : inputs[0].ctx();
  std::vector<NDArray> outs;
  outs.reserve(static_cast<size_t>(n_out));
  for (int i = 0; i < n_out; ++i) {
    if (outputs.empty()) {
      outs.emplace_back(out_shapes[i], ctx, static_cast<DType>(out_types[i]));
    } else {
      outs.push_back(outputs[i]);
    }
  }

  int64_t elements = 0;
  p->in.resize(inputs.size());
  p->in_refs.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    p->in[i] = TBlob{nullptr, inputs[i].shape(), inputs[i].dtype()};
    p->in_refs[i] = inputs[i].data_ref();
    elements += inputs[i].Size();
  }
  p->out.resize(outs.size());
  p->out_refs.resize(outs.size());
  for (size_t i = 0; i < outs.size(); ++i) {
    p->out[i] = TBlob{nullptr, outs[i].shape(), outs[i].dtype()};
    p->out_refs[i] = outs[i].data_ref();
    elements += outs[i].Size();
  }
  p->req.assign(outs.size(), OpReq::kWrite);
  p->kernel = &SelectKernel(attrs, p->in, p->out, ctx.is_host() ? DeviceType::kCPU : ctx.dev_type,
                            options.kernel);

  // The var lists live on this stack frame (the engine copies them, or, the naive engine,
  // uses them during the call), so they need no allocation and survive nested calls.
  const std::vector<int> mutated = def.mutate_inputs(attrs);
  std::array<std::byte, 512> var_buf;
  std::pmr::monotonic_buffer_resource var_mem(var_buf.data(), var_buf.size());
  std::pmr::vector<VarHandle> reads(&var_mem), writes(&var_mem);
  reads.reserve(inputs.size());
  writes.reserve(outs.size() + mutated.size() + 1);
  for (const NDArray& a : inputs)
    reads.push_back(a.var());
  for (const NDArray& o : outs)
    writes.push_back(o.var());
  for (int i : mutated) {
    MX_INTERNAL_ASSERT(i >= 0 && i < static_cast<int>(inputs.size()));
    writes.push_back(inputs[static_cast<size_t>(i)].var());  // the engine dedups the read
  }
  const AutogradFlags flags = t_autograd_flags;
  const bool is_train = options.is_train || flags.training;
  if (flags.recording || t_tracing) {
    const RecordedCall call{def,     p->attrs, inputs, std::span<NDArray>(outs), !outputs.empty(),
                            mutated, is_train};
    if (flags.recording) {
      if (RecordFn record = g_record_fn.load(std::memory_order_relaxed)) record(call);
    }
    if (t_tracing) {
      if (RecordFn trace = g_trace_fn.load(std::memory_order_relaxed)) trace(call);
    }
  }
  // Every write to an existing array counts (NDArray::version): autograd checks them.
  for (const NDArray& o : outputs)
    o.BumpVersion();
  for (int i : mutated)
    inputs[static_cast<size_t>(i)].BumpVersion();

  p->rng = nullptr;
  if (def.needs_random) {
    RandomResource& r = RandomFor(ctx);
    writes.push_back(r.var);  // random ops on a context run in push order: reproducible
    p->rng = &r.engine;
  }
  p->is_train = is_train;
  p->needs_temp = def.needs_temp_space;
  // Small calls run in the caller when their inputs are ready (NOTE [ Small ops inline ]).
  const FnProperty prop = elements <= kSmallOpElements ? FnProperty::kSmall : FnProperty::kNormal;
  Engine::Get()->PushSync(std::move(p), ctx, reads, writes, prop, 0, def.name.c_str());
  return outs;
}

std::vector<NDArray> Invoke(std::string_view name, std::span<const NDArray> inputs,
                            const AttrDict& attrs, std::span<const NDArray> outputs,
                            InvokeOptions options) {
  return Invoke(&Registry::Get(name), inputs, attrs, outputs, options);
}

std::vector<std::string> ListOps() {
  std::vector<std::string> names;
  for (const OpDef* def : Registry::List())
    names.push_back(def->name);
  return names;
}

}  // namespace mixnet::op

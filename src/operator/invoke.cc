#include "mixnet/op/invoke.h"

#include <cstdio>
#include <sstream>

#include "mixnet/base/env.h"
#include "operator/op_def.h"
#include "operator/random_resource.h"

namespace mixnet::op {
namespace {

bool VerboseKernels() {
  static const bool verbose = GetEnvInt("MIXNET_VERBOSE_KERNELS", 0) != 0;
  return verbose;
}

std::string Describe(std::span<const Shape> shapes) {
  std::ostringstream os;
  for (size_t i = 0; i < shapes.size(); ++i)
    os << (i ? ", " : "") << shapes[i];
  return os.str();
}

/*! \brief The first kernel (in registration order) that takes this case. */
const KernelDef& SelectKernel(const Attrs& attrs, std::span<const TBlob> in,
                              std::span<const TBlob> out, DeviceType device,
                              std::string_view wanted) {
  std::string declined;
  bool found = wanted.empty();
  for (const KernelDef& k : attrs.op->kernels) {
    if (k.device != device || (!wanted.empty() && k.name != wanted)) continue;
    found = true;
    const std::string why = k.supports ? k.supports(attrs, in, out) : "";
    if (why.empty()) {
      if (VerboseKernels()) {
        std::fprintf(stderr, "[mixnet] %s: kernel '%s'%s\n", attrs.op->name.c_str(), k.name.c_str(),
                     declined.c_str());
      }
      return k;
    }
    declined += "; '" + k.name + "' declined: " + why;
  }
  MX_CHECK(found, ValueError) << attrs.op->name << " has no kernel '" << wanted << "'";
  MX_THROW(NotImplementedError) << attrs.op->name << ": no kernel for device type "
                                << static_cast<int>(device) << declined;
}

/*! \brief Where an op without inputs runs: its "ctx" attribute (MXNet's), else cpu(0). */
Context CtxAttr(const AttrDict& dict) {
  for (const auto& [key, value] : dict) {
    if (key == "ctx" && !value.empty()) return Context::FromString(value);
  }
  return Context::cpu();
}

}  // namespace

std::vector<NDArray> Invoke(std::string_view name, std::span<const NDArray> inputs,
                            const AttrDict& dict, std::span<const NDArray> outputs,
                            InvokeOptions options) {
  const OpDef& def = Registry::Get(name);
  Attrs attrs = def.ParseAttrs(dict);
  const std::vector<std::string> in_names = def.input_names(attrs);
  MX_CHECK(inputs.size() == in_names.size(), ValueError) << def.name << " takes " << in_names.size()
                                                         << " input(s) (" <<
      [&] {
        std::string s;
        for (size_t i = 0; i < in_names.size(); ++i)
          s += (i ? ", " : "") + in_names[i];
        return s;
      }() << "), got " << inputs.size();
  const int n_out = def.NumOutputs(attrs);
  MX_CHECK(outputs.empty() || static_cast<int>(outputs.size()) == n_out, ValueError)
      << def.name << " has " << n_out << " output(s), got " << outputs.size() << " to write to";

  // Meta first: nothing is pushed unless shapes and dtypes are consistent.
  std::vector<Shape> in_shapes, out_shapes(static_cast<size_t>(n_out));
  std::vector<int> in_types, out_types(static_cast<size_t>(n_out), -1);
  for (size_t i = 0; i < inputs.size(); ++i) {
    MX_CHECK(!inputs[i].is_none(), ValueError)
        << def.name << ": input '" << in_names[i] << "' is a none array";
    in_shapes.push_back(inputs[i].shape());
    in_types.push_back(static_cast<int>(inputs[i].dtype()));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    out_shapes[i] = outputs[i].shape();
    out_types[i] = static_cast<int>(outputs[i].dtype());
  }
  const std::vector<Shape> given_in_shapes = in_shapes;
  const std::vector<int> given_in_types = in_types;
  if (def.infer_shape) def.infer_shape(attrs, &in_shapes, &out_shapes);
  if (def.infer_type) def.infer_type(attrs, &in_types, &out_types);
  for (size_t i = 0; i < inputs.size(); ++i) {
    // Inference may not change what the caller gave; only fill what was unknown.
    MX_INTERNAL_ASSERT(in_shapes[i] == given_in_shapes[i] && in_types[i] == given_in_types[i])
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
  for (int i = 0; i < n_out; ++i) {
    if (outputs.empty()) {
      outs.emplace_back(out_shapes[i], ctx, static_cast<DType>(out_types[i]));
    } else {
      outs.push_back(outputs[i]);
    }
  }

  std::vector<TBlob> in_meta, out_meta;
  for (size_t i = 0; i < inputs.size(); ++i) {
    in_meta.push_back(TBlob{nullptr, inputs[i].shape(), inputs[i].dtype()});
  }
  for (const NDArray& o : outs)
    out_meta.push_back(TBlob{nullptr, o.shape(), o.dtype()});
  const KernelDef& kernel = SelectKernel(
      attrs, in_meta, out_meta, ctx.is_host() ? DeviceType::kCPU : ctx.dev_type, options.kernel);

  std::vector<VarHandle> reads, writes;
  for (const NDArray& a : inputs)
    reads.push_back(a.var());
  for (const NDArray& o : outs)
    writes.push_back(o.var());
  for (int i : def.mutate_inputs(attrs)) {
    MX_INTERNAL_ASSERT(i >= 0 && i < static_cast<int>(inputs.size()));
    writes.push_back(inputs[static_cast<size_t>(i)].var());  // the engine dedups the read
  }
  std::mt19937_64* rng = nullptr;
  if (def.needs_random) {
    RandomResource& r = RandomFor(ctx);
    writes.push_back(r.var);  // random ops on a context run in push order: reproducible
    rng = &r.engine;
  }
  std::vector<NDArray> in_arrays(inputs.begin(), inputs.end());
  Engine::Get()->PushSync(
      [in_arrays = std::move(in_arrays), outs, attrs = std::move(attrs), &kernel,
       is_train = options.is_train, rng](RunContext rctx) {
        std::vector<TBlob> in(in_arrays.size()), out(outs.size());
        for (size_t i = 0; i < in.size(); ++i) {
          in[i] = TBlob{in_arrays[i].RawData(), in_arrays[i].shape(), in_arrays[i].dtype()};
        }
        for (size_t i = 0; i < out.size(); ++i) {
          out[i] = TBlob{outs[i].RawData(), outs[i].shape(), outs[i].dtype()};
        }
        const std::vector<OpReq> req(out.size(), OpReq::kWrite);
        kernel.compute(OpContext{rctx, is_train, rng}, attrs, in, req, out);
      },
      ctx, reads, writes, FnProperty::kNormal, 0, def.name.c_str());
  return outs;
}

std::vector<std::string> ListOps() {
  std::vector<std::string> names;
  for (const OpDef* def : Registry::List())
    names.push_back(def->name);
  return names;
}

}  // namespace mixnet::op

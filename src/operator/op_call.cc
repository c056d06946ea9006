#include "operator/op_call.h"

#include <cstdio>

#include "mixnet/base/env.h"

namespace mixnet::op {
namespace {
bool VerboseKernels() {
  static const bool verbose = GetEnvInt("MIXNET_VERBOSE_KERNELS", 0) != 0;
  return verbose;
}
}  // namespace

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

void OpCall::RunOn(RunContext rctx, bool is_train, std::span<const TBlob> in_blobs,
                   std::span<const TBlob> out_blobs) const {
  TempSpace temp;  // allocates nothing unless the kernel asks
  kernel->compute(
      OpContext{rctx, is_train, random ? &random->engine : nullptr, needs_temp ? &temp : nullptr},
      *attrs, in_blobs, req, out_blobs);
}

OpCall PrepareOpCall(std::shared_ptr<const Attrs> attrs, std::vector<TBlob> in,
                     std::vector<TBlob> out, Context ctx) {
  OpCall c;
  c.attrs = std::move(attrs);
  c.in = std::move(in);
  c.out = std::move(out);
  c.req.assign(c.out.size(), OpReq::kWrite);
  c.kernel = &SelectKernel(*c.attrs, c.in, c.out, ctx.is_host() ? DeviceType::kCPU : ctx.dev_type);
  if (c.op().needs_random) c.random = &RandomFor(ctx);
  c.needs_temp = c.op().needs_temp_space;
  return c;
}

}  // namespace mixnet::op

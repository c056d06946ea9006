// A kernel call prepared once for fixed shapes and dtypes and run many times: what executors
// push instead of Invoke (no inference, no kernel choice, no allocation per run).
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "operator/op_def.h"
#include "operator/random_resource.h"

namespace mixnet::op {

/*!
 * \brief The first kernel (in registration order) for `device` that takes this case, or the
 * one named `wanted`; NotImplementedError listing why each declined if none does.
 */
const KernelDef& SelectKernel(const Attrs& attrs, std::span<const TBlob> in,
                              std::span<const TBlob> out, DeviceType device,
                              std::string_view wanted = {});

struct OpCall {
  std::shared_ptr<const Attrs> attrs;
  const KernelDef* kernel = nullptr;
  /*! \brief Shapes and dtypes fixed at preparation; the caller sets dptr before each Run. */
  std::vector<TBlob> in, out;
  std::vector<OpReq> req;
  /*! \brief The context's generator for random ops: push with random->var written. */
  RandomResource* random = nullptr;
  bool needs_temp = false;

  const OpDef& op() const { return *attrs->op; }
  /*! \brief Runs the kernel on the blobs' current pointers. */
  void Run(RunContext rctx, bool is_train) const { RunOn(rctx, is_train, in, out); }
  /*! \brief Runs the kernel on other blobs of the same dtypes (a fused group's tiles). */
  void RunOn(RunContext rctx, bool is_train, std::span<const TBlob> in_blobs,
             std::span<const TBlob> out_blobs) const;
};

/*!
 * \brief Prepares `attrs`' op for blobs of these shapes and dtypes (already inferred and
 * consistent) on `ctx`, every output written (kWrite).
 */
OpCall PrepareOpCall(std::shared_ptr<const Attrs> attrs, std::vector<TBlob> in,
                     std::vector<TBlob> out, Context ctx);

}  // namespace mixnet::op

// NaiveEngine: every push runs to completion in the calling thread. The reference semantics.
#pragma once

#include "engine/engine_error.h"
#include "engine/object_pool.h"
#include "engine/var.h"
#include "mixnet/engine/engine.h"

namespace mixnet::engine {

class NaiveEngine final : public Engine {
 public:
  NaiveEngine() = default;
  ~NaiveEngine() override = default;
  Kind kind() const override { return Kind::kNaive; }

  VarHandle NewVariable() override;
  void DeleteVariable(SyncFn fn, Context ctx, VarHandle var) override;
  void PushAsync(AsyncFn fn, Context ctx, std::span<const VarHandle> const_vars,
                 std::span<const VarHandle> mutable_vars, FnProperty prop, int priority,
                 const char* opr_name) override;
  void PushSync(SyncFn fn, Context ctx, std::span<const VarHandle> const_vars,
                std::span<const VarHandle> mutable_vars, FnProperty prop, int priority,
                const char* opr_name) override;
  void WaitForVar(VarHandle var) override;
  void WaitForAll() override;
  int SetBulkSize(int size) override;
  void FlushBulk() override {}
  uint64_t VarVersion(VarHandle var) override { return var->version.load(); }
  void Shutdown() override {}

  /*! \brief Returns a var to the pool (used by a threaded engine after its shutdown too). */
  void FreeVar(VarHandle var);

 private:
  template <typename Run>
  void Execute(Run&& run, std::span<const VarHandle> const_vars,
               std::span<const VarHandle> mutable_vars, FnProperty prop, const char* opr_name);

  PendingErrors pending_errors_;
};

}  // namespace mixnet::engine

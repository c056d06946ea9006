// The executor of a bound symbol: the compiled graph and its pushed steps.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "executor/fused_elemwise.h"
#include "mixnet/executor/executor.h"
#include "operator/op_call.h"
#include "operator/step_state.h"
#include "symbol/indexed_graph.h"
#include "symbol/pass/passes.h"

namespace mixnet::exec {

/*! \brief One pushed unit of work: an op call, or a fused elementwise group. */
struct Step {
  uint32_t nid = 0;  // the node (a fused group's last node)
  op::OpCall call;   // unused for a fused group
  std::unique_ptr<FusedElemwise> fused;
  std::vector<NDArray::DataRef> in_refs, out_refs;
  std::vector<VarHandle> reads, writes;
  std::vector<VarHandle> in_vars;  // an op call's inputs' vars, for its StepState
  op::StepState state;             // set around inference runs (NOTE [ Step state ])
  std::string name;                // "node 'fc1' (FullyConnected)", for errors
  const char* op_name = "";
  std::vector<void*> ptrs;  // a fused group's array pointers (the engine runs a step at a time)
  int64_t elements = 0;     // elements of every array the step reads or writes

  void Run(RunContext rctx, bool is_train);
};

/*! \brief Steps pushed as one engine op, with every var they read and write. */
struct Segment {
  std::vector<size_t> steps;
  std::vector<VarHandle> reads, writes;
  const char* name = "";
  bool serial = false;  // small: one thread, inline in the pusher (NOTE [ Serial segments ])
};

/*! \brief What pushed functions need; shared with them so it outlives queued work. */
struct Program {
  std::vector<Step> steps;
  std::vector<Segment> forward, backward;
};

class GraphExecutor final : public Executor {
 public:
  GraphExecutor(const sym::Symbol& symbol, Context ctx, std::vector<NDArray> args,
                std::vector<NDArray> arg_grads, std::vector<GradReq> grad_reqs,
                std::vector<NDArray> aux_states, const GraphExecutor* shared,
                const ExecutorOptions& options);
  ~GraphExecutor() override;

  void Forward(bool is_train) override;
  void Forward(bool is_train, const std::unordered_map<std::string, NDArray>& inputs) override;
  void Backward(std::span<const NDArray> out_grads) override;

  const std::vector<NDArray>& outputs() const override { return outputs_; }
  const std::vector<NDArray>& arg_arrays() const override { return args_; }
  const std::vector<NDArray>& grad_arrays() const override { return grads_; }
  const std::vector<NDArray>& aux_arrays() const override { return aux_; }
  const std::vector<GradReq>& grad_reqs() const override { return reqs_; }
  const sym::Symbol& symbol() const override { return symbol_; }
  Context context() const override { return ctx_; }

  std::unique_ptr<Executor> Reshape(const std::unordered_map<std::string, Shape>& shapes,
                                    bool partial_shaping, bool allow_up_sizing) const override;
  void SetMonitorCallback(MonitorCallback callback, bool monitor_all) override;
  MemoryReport memory_report() const override { return report_; }
  std::string DebugStr() const override;

  /*! \brief The planned buffers, lent to executors bound with this one as `shared`. */
  const std::vector<NDArray>& buffers() const { return buffers_; }

 private:
  void Compile();
  Step MakeOpStep(uint32_t nid) const;
  Step MakeFusedStep(const std::vector<uint32_t>& group) const;
  Step MakeAccumulateStep(const NDArray& grad, const NDArray& computed, size_t arg) const;
  std::string NodeLabel(uint32_t nid) const;
  void Push(const Segment& seg, bool is_train);
  void RunSegments(const std::vector<Segment>& segs, bool is_train);
  std::string EntryName(uint32_t eid) const;

  sym::Symbol symbol_;
  Context ctx_;
  std::vector<NDArray> args_, grads_, aux_;
  std::vector<GradReq> reqs_;
  const GraphExecutor* shared_;
  ExecutorOptions options_;
  MonitorCallback monitor_;
  bool monitor_all_ = false;

  // ---- compiled ----
  std::unique_ptr<sym::IndexedGraph> graph_;
  uint32_t num_forward_nodes_ = 0;
  std::vector<Shape> shapes_;
  std::vector<int> dtypes_;
  sym::pass::MemoryPlan plan_;
  std::vector<NDArray> buffers_;
  std::vector<NDArray> entry_arrays_;  // per entry; none for fused intermediates
  std::vector<NDArray> outputs_, head_grads_;
  std::vector<bool> head_grad_used_;
  std::shared_ptr<Program> program_;
  MemoryReport report_;
  bool trained_forward_ = false;
};

}  // namespace mixnet::exec

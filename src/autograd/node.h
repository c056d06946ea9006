// The tape: recorded operations and variables, linked through NDArray::GradEntry.
//
// NOTE [ Autograd tape ]
// A Node is one recorded call (a registered op, or a custom Function) or one variable. Each
// input refers to the Node that produced it (GradEntry: node + output index; none for
// constants), so the tape is the graph reachable from the heads, and it lives exactly as long
// as arrays or later nodes refer to it. A node keeps only the arrays its gradient reads
// (GradUsage, found by tracing the op's gradient graph once per op and attributes). Saved
// outputs are kept without their GradEntry, which would point back at the node itself (a
// reference cycle); backward puts it back. Each saved array remembers its version
// (NDArray::version): if it was written since, the gradient would read the wrong values, and
// backward reports it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mixnet/autograd/autograd.h"
#include "mixnet/ndarray/ndarray.h"

namespace mixnet::op {
struct OpDef;
struct Attrs;
}  // namespace mixnet::op

namespace mixnet::autograd {

struct Node {
  // ---- a recorded call ----
  const op::OpDef* op = nullptr;           // null for variables and custom functions
  std::shared_ptr<const op::Attrs> attrs;  // the op's parsed attributes
  std::shared_ptr<Function> function;      // a custom function's node
  bool is_train = false;                   // the mode the call ran in
  std::vector<NDArray::GradEntry> inputs;  // producers; node null: a constant
  std::vector<NDArray> saved_inputs;       // none where the gradient does not read it
  std::vector<NDArray> saved_outputs;      // likewise; without GradEntry (see NOTE)
  std::vector<uint64_t> input_versions, output_versions;
  std::vector<Shape> out_shapes;
  std::vector<DType> out_dtypes;
  bool freed = false;  // by a backward without retain_graph

  // ---- a variable ----
  bool is_variable = false;
  GradReq req = GradReq::kWrite;
  NDArray grad;  // the buffer (shares the user's storage)

  /*! \brief Creation order: a node comes after every node it reads. */
  uint64_t seq = NextSeq();

  std::string Name() const;
  size_t num_outputs() const { return is_variable ? 1 : out_shapes.size(); }

  static uint64_t NextSeq() {
    static std::atomic<uint64_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed);
  }
};

/*! \brief How many outputs op `def` has with these attributes. */
size_t NumOutputs(const op::OpDef& def,
                  const std::vector<std::pair<std::string, std::string>>& attrs);

/*! \brief A new node for a recorded call's outputs; sets their GradEntry. */
void AttachOutputs(const std::shared_ptr<Node>& node, std::span<NDArray> outputs);

/*! \brief Installs the recording hooks of the operator and NDArray layers (idempotent). */
void InstallHooks();

}  // namespace mixnet::autograd

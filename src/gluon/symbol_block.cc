// SymbolBlock: a block running a given symbol graph (MXNet's gluon.SymbolBlock), and imports.
#include <algorithm>
#include <sstream>

#include "mixnet/base/error.h"
#include "mixnet/executor/cached_op.h"
#include "mixnet/gluon/block.h"
#include "mixnet/op/invoke.h"
#include "mixnet/symbol/trace.h"

namespace mixnet::gluon {
namespace {

/*! \brief The longest common prefix of the names, cut back to end at a '_' (MXNet's). */
std::string CommonPrefix(const std::vector<std::string>& names) {
  if (names.empty()) return "";
  std::string p = names[0];
  for (const std::string& n : names) {
    size_t i = 0;
    while (i < p.size() && i < n.size() && p[i] == n[i])
      ++i;
    p.resize(i);
  }
  while (!p.empty() && p.back() != '_')
    p.pop_back();
  return p;
}

}  // namespace

SymbolBlock::SymbolBlock(sym::Symbol outputs, std::vector<std::string> input_names, BlockArgs args)
    : HybridBlock("symbolblock",
                  BlockArgs{.prefix = args.prefix ? args.prefix : std::optional<std::string>("")}),
      symbol_(std::move(outputs)),
      input_names_(std::move(input_names)) {
  const std::vector<std::string> all = symbol_.ListInputs();
  for (const std::string& in : input_names_)
    MX_CHECK(std::find(all.begin(), all.end(), in) != all.end(), ValueError)
        << "SymbolBlock: input '" << in << "' is not a variable of the graph";
  const std::vector<std::string> aux = symbol_.ListAuxiliaryStates();
  // Parameters are named exactly as the graph's variables (MXNet: ParameterDict('', params)).
  params() =
      ParameterDict("", args.params ? std::make_shared<ParameterDict>(*args.params) : nullptr);
  std::vector<std::string> names;
  for (const std::string& n : all) {
    if (std::find(input_names_.begin(), input_names_.end(), n) != input_names_.end()) continue;
    const bool is_aux = std::find(aux.begin(), aux.end(), n) != aux.end();
    params().Get(n, Shape(),
                 ParameterOptions{.grad_req = is_aux ? GradReq::kNull : GradReq::kWrite});
    names.push_back(n);
  }
  // Structural names drop the common prefix (MXNet's _reg_params).
  const std::string common = CommonPrefix(names);
  std::vector<std::pair<std::string, ParameterPtr>> reg;
  for (const std::string& n : names)
    reg.emplace_back(n.substr(common.size()), params().Find(n));
  SetRegisteredParams(std::move(reg));
  // Static inputs: every parameter; the block inputs are copied in per call.
  std::vector<bool> is_static;
  for (const std::string& n : all)
    is_static.push_back(std::find(input_names_.begin(), input_names_.end(), n) ==
                        input_names_.end());
  op_ = std::make_shared<exec::CachedOp>(symbol_, is_static);
  last_symbol_ = symbol_;
}

void SymbolBlock::InferShape(const std::vector<NDArray>& inputs) {
  std::unordered_map<std::string, Shape> known;
  for (size_t i = 0; i < inputs.size() && i < input_names_.size(); ++i)
    known[input_names_[i]] = inputs[i].shape();
  for (const auto& [n, p] : params())
    if (p->initialized()) known[n] = p->shape();
  const sym::InferResult<Shape> r = symbol_.InferShapePartial(known);
  const std::vector<std::string> args = symbol_.ListArguments();
  const std::vector<std::string> aux = symbol_.ListAuxiliaryStates();
  for (size_t i = 0; i < args.size(); ++i)
    if (ParameterPtr p = params().Find(args[i])) p->SetShape(r.arg[i]);
  for (size_t i = 0; i < aux.size(); ++i)
    if (ParameterPtr p = params().Find(aux[i])) p->SetShape(r.aux[i]);
}

std::vector<NDArray> SymbolBlock::HybridForward(const std::vector<NDArray>& inputs) {
  MX_CHECK(inputs.size() == input_names_.size(), ValueError)
      << "SymbolBlock: expected " << input_names_.size() << " inputs, got " << inputs.size();
  const Context ctx = inputs.empty() ? Context::cpu() : inputs[0].ctx();
  std::vector<NDArray> args;
  for (const std::string& n : op_->input_names()) {
    auto it = std::find(input_names_.begin(), input_names_.end(), n);
    args.push_back(it != input_names_.end() ? inputs[static_cast<size_t>(it - input_names_.begin())]
                                            : params().at(n)->data(ctx));
  }
  // Inside another block's trace the graph must be replayed op by op so the trace records it.
  if (sym::TraceScope::Current() != nullptr) return op_->Replay(args);
  return (*op_)(args);
}

std::shared_ptr<SymbolBlock> SymbolBlock::Imports(const std::string& symbol_file,
                                                  const std::vector<std::string>& input_names,
                                                  const std::string& param_file,
                                                  std::vector<Context> ctxs) {
  auto block = std::make_shared<SymbolBlock>(sym::Symbol::Load(symbol_file), input_names);
  // As MXNet's imports: the saved dtypes are converted to the parameters'.
  if (!param_file.empty())
    block->CollectParams().Load(param_file, std::move(ctxs), false, false, "", true);
  return block;
}

}  // namespace mixnet::gluon

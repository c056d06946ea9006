#include "layer_util.h"

#include <span>

#include "mixnet/base/error.h"

namespace mixnet::gluon::nn::detail {

const NDArray& SingleInput(const std::vector<NDArray>& inputs, std::string_view layer) {
  MX_CHECK(inputs.size() == 1, ValueError) << layer << ": expects 1 input, got " << inputs.size();
  return inputs[0];
}

NDArray CallOp(std::string_view name, const std::vector<NDArray>& inputs,
               const op::AttrDict& attrs) {
  return op::Invoke(name, std::span<const NDArray>(inputs), attrs)[0];
}

int NormalizeAxis(int axis, int ndim, std::string_view layer) {
  MX_CHECK(axis >= -ndim && axis < ndim, ValueError)
      << layer << ": axis " << axis << " is out of range for an input with " << ndim << " axes";
  return axis < 0 ? axis + ndim : axis;
}

std::string TupleRepr(const std::vector<int>& v) {
  std::vector<int64_t> wide(v.begin(), v.end());
  return v.empty() ? "()" : op::AttrValue(wide);
}

std::vector<int64_t> ToInt64(const std::vector<int>& v) {
  return std::vector<int64_t>(v.begin(), v.end());
}

std::string ChildrenRepr(const std::string& class_name, const Block& block) {
  std::string mods;
  for (const auto& [key, child] : block.children()) {
    if (!mods.empty()) mods += '\n';
    mods.append("  (").append(key).append("): ");
    // MXNet's _indent: continuation lines of a child's repr move 2 spaces right.
    for (char c : child->Repr()) {
      mods += c;
      if (c == '\n') mods += "  ";
    }
  }
  return class_name + "(\n" + mods + "\n)";
}

init::InitializerPtr OrDefault(const init::InitializerPtr& init, bool one) {
  if (init) return init;
  if (one) return std::make_shared<init::One>();
  return std::make_shared<init::Zero>();
}

std::shared_ptr<Activation> RegisterActivation(Block* layer, const std::string& act) {
  if (act.empty()) return nullptr;
  BlockArgs args;
  args.prefix = act + "_";
  return layer->RegisterChild(std::make_shared<Activation>(act, args), "act");
}

std::string FloatRepr(double v) {
  std::string s = op::AttrValue(v);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";  // "e": 1e-05, "n": nan, inf
  return s;
}

}  // namespace mixnet::gluon::nn::detail

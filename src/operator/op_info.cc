#include "mixnet/op/op_info.h"

#include "operator/op_def.h"

namespace mixnet::op {

namespace {
OpInfo Describe(const OpDef& def) {
  OpInfo info;
  info.name = def.name;
  info.aliases = def.aliases;
  info.doc = def.doc;
  // The explicit signature, else the static names; inputs that depend on the params and have
  // no signature are taken as one list.
  info.inputs = def.signature;
  if (info.inputs.empty()) {
    info.inputs = def.static_inputs ? *def.static_inputs : std::vector<std::string>{"*inputs"};
  }
  for (const FieldInfo& f : def.params->Fields())
    info.params.push_back(ParamInfo{f.name, f.type_name, f.default_value, f.doc});
  if (def.static_outputs) {
    info.outputs = *def.static_outputs;
    info.num_visible_outputs = NumVisibleOutputs(&def, static_cast<int>(info.outputs.size()));
  }
  return info;
}
}  // namespace

int NumVisibleOutputs(const OpDef* op, int num_outputs) {
  if (op->visible_outputs == 0) return num_outputs;
  if (op->visible_outputs > 0) return op->visible_outputs;
  return num_outputs + op->visible_outputs;
}

OpInfo GetOpInfo(const std::string& name) {
  return Describe(Registry::Get(name));
}

std::vector<OpInfo> ListOpInfo() {
  std::vector<OpInfo> out;
  for (const OpDef* def : Registry::List())
    out.push_back(Describe(*def));
  return out;
}

}  // namespace mixnet::op

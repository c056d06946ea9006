// mixnet_sym_json: reads and rewrites MXNet symbol files (-symbol.json).
//   mixnet_sym_json list FILE               JSON: arguments, outputs, auxiliary_states, inputs
//   mixnet_sym_json resave IN OUT           loads IN and writes OUT with mixnet's writer
//   mixnet_sym_json shapes FILE NAME=SHAPE...  JSON: inferred arg/out/aux shapes (lists)
// Used by the MXNet interoperability tests; errors go to stderr with exit code 1.
#include <exception>
#include <iostream>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "mixnet/symbol/symbol.h"

namespace {

using mixnet::Shape;
using mixnet::sym::Symbol;
using Json = nlohmann::ordered_json;

Json ShapeList(const std::vector<Shape>& shapes) {
  Json out = Json::array();
  for (const Shape& s : shapes)
    out.push_back(std::vector<int64_t>(s.begin(), s.end()));
  return out;
}

int Run(const std::vector<std::string>& args) {
  if (args.size() == 2 && args[0] == "list") {
    const Symbol s = Symbol::Load(args[1]);
    Json out;
    out["arguments"] = s.ListArguments();
    out["outputs"] = s.ListOutputs();
    out["auxiliary_states"] = s.ListAuxiliaryStates();
    out["inputs"] = s.ListInputs();
    std::cout << out.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
    return 0;
  }
  if (args.size() == 3 && args[0] == "resave") {
    Symbol::Load(args[1]).Save(args[2]);
    return 0;
  }
  if (args.size() >= 2 && args[0] == "shapes") {
    std::unordered_map<std::string, Shape> known;
    for (size_t i = 2; i < args.size(); ++i) {
      const size_t eq = args[i].find('=');
      if (eq == std::string::npos) throw std::invalid_argument("expected NAME=SHAPE: " + args[i]);
      known[args[i].substr(0, eq)] = Shape::FromString(args[i].substr(eq + 1));
    }
    const auto r = Symbol::Load(args[1]).InferShape(known);
    Json out;
    out["arg"] = ShapeList(r.arg);
    out["out"] = ShapeList(r.out);
    out["aux"] = ShapeList(r.aux);
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::cerr << "usage: mixnet_sym_json list FILE | resave IN OUT | shapes FILE NAME=SHAPE...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "mixnet_sym_json: " << e.what() << "\n";
    return 1;
  }
}

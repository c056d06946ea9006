// Writes mixnet/op/ops.h: one typed C++ function per registered op, generated from the
// registry at build time so that nothing per op is written twice.
//
//   NDArray y = mx::op::FullyConnected(x, w, b, {.num_hidden = 10});
//
// Each op gets an argument struct whose fields are std::optional: unset fields keep the op's
// own default (the op's Declare() is the only place defaults live).
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include "mixnet/op/op_info.h"

namespace {
using mixnet::op::OpInfo;
using mixnet::op::ParamInfo;

std::string PascalCase(const std::string& name) {
  std::string out;
  bool up = true;
  for (char c : name) {
    if (c == '_') {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

/*! \brief C++ type of a field from its declared type name (see param.h's ValueCodec). */
std::string CppType(std::string type) {
  const std::string none_suffix = " or None";
  if (type.size() > none_suffix.size() && type.ends_with(none_suffix)) {
    type.resize(type.size() - none_suffix.size());  // unset already means the default
  }
  if (type == "int") return "int64_t";
  if (type == "float") return "double";
  if (type == "boolean") return "bool";
  if (type == "tuple of int") return "std::vector<int64_t>";
  return "std::string";  // strings and enums ({'relu', ...}) by name
}

bool IsIdentifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  if (s.size() > 1 && s[0] == '_' &&
      (std::isupper(static_cast<unsigned char>(s[1])) || s[1] == '_')) {
    return false;  // reserved in C++
  }
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::string Comment(const std::string& text, const char* indent) {
  std::string out;
  std::istringstream is(text);
  std::string line;
  while (std::getline(is, line))
    out += std::string(indent) + "/// " + line + "\n";
  return out;
}

/*! \brief One op's argument struct and function(s); returns false if it cannot be typed. */
void EmitOp(std::ostream& os, const OpInfo& def) {
  const std::string args = PascalCase(def.name) + "Args";
  const auto& fields = def.params;
  os << Comment(def.doc.empty() ? def.name : def.doc, "");
  os << "struct " << args << " {\n";
  for (const ParamInfo& f : fields) {
    std::string doc = f.doc;
    doc += f.default_value ? " (default " + *f.default_value + ")" : " (required)";
    os << Comment(doc, "  ");
    os << "  std::optional<" << CppType(f.type) << "> " << f.name << ";\n";
  }
  os << "  AttrDict ToAttrs() const {\n    AttrDict a;\n";
  for (const ParamInfo& f : fields)
    os << "    SetAttr(&a, \"" << f.name << "\", " << f.name << ");\n";
  os << "    return a;\n  }\n};\n";

  const std::vector<std::string>& inputs = def.inputs;
  const bool single = def.outputs.size() == 1;
  bool has_num_args = false;
  for (const ParamInfo& f : fields)
    has_num_args |= f.name == "num_args";

  std::set<std::string> names = {def.name};
  for (const auto& a : def.aliases)
    names.insert(a);
  for (const std::string& fname : names) {
    if (!IsIdentifier(fname)) continue;
    os << "inline " << (single ? "NDArray " : "std::vector<NDArray> ") << fname << "(";
    // Locals carry a prefix no input name has; the struct parameter is "args" unless taken.
    std::string params, pushes;
    std::string variadic;
    std::string args_name = "args";
    for (const std::string& in : inputs) {
      if (in == "args" || in == "*args" || in == "args?") args_name = "op_args";
    }
    for (const std::string& in : inputs) {
      if (in.starts_with("*")) {
        variadic = in.substr(1);
        params += "std::span<const NDArray> " + variadic + ", ";
        pushes +=
            "  gen_in.insert(gen_in.end(), " + variadic + ".begin(), " + variadic + ".end());\n";
      } else if (in.ends_with("?")) {
        const std::string n = in.substr(0, in.size() - 1);
        params += "const NDArray& " + n + " = NDArray(), ";
        pushes += "  if (!" + n + ".is_none()) gen_in.push_back(" + n + ");\n";
      } else {
        params += "const NDArray& " + in + ", ";
        pushes += "  gen_in.push_back(" + in + ");\n";
      }
    }
    os << params << "const " << args << "& " << args_name << " = {}) {\n";
    os << "  std::vector<NDArray> gen_in;\n" << pushes;
    os << "  AttrDict gen_attrs = " << args_name << ".ToAttrs();\n";
    if (!variadic.empty() && has_num_args) {
      os << "  if (!" << args_name << ".num_args) {\n    gen_attrs.emplace_back(\"num_args\", "
         << "std::to_string(" << variadic << ".size()));\n  }\n";
    }
    // Resolved once: a call skips the registry lookup.
    os << "  static const OpDef* const gen_op = GetOp(\"" << def.name << "\");\n";
    os << "  auto gen_out = Invoke(gen_op, gen_in, gen_attrs);\n";
    os << (single ? "  return gen_out[0];\n" : "  return gen_out;\n") << "}\n";
  }
  os << "\n";
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_HEADER\n", argv[0]);
    return 2;
  }
  std::ostringstream os;
  os << "// Generated by tools/gen_op_api.cc from the operator registry. Do not edit.\n"
        "#pragma once\n\n#include <cstdint>\n#include <optional>\n#include <span>\n"
        "#include <string>\n#include <vector>\n\n#include \"mixnet/ndarray/ndarray.h\"\n"
        "#include \"mixnet/op/attr_value.h\"\n#include \"mixnet/op/invoke.h\"\n\n"
        "namespace mixnet::op {\n\n";
  for (const OpInfo& def : mixnet::op::ListOpInfo())
    EmitOp(os, def);
  os << "}  // namespace mixnet::op\n";
  // Write only on change, so that dependants are not rebuilt for nothing.
  std::ifstream old(argv[1]);
  std::stringstream old_text;
  old_text << old.rdbuf();
  if (old_text.str() != os.str()) std::ofstream(argv[1]) << os.str();
  return 0;
}

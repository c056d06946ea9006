#include "mixnet/symbol/symbol.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "operator/param.h"
#include "symbol/indexed_graph.h"
#include "symbol/mxnet_compat.h"
#include "symbol/node.h"
#include "symbol/pass/passes.h"

namespace mixnet::sym {
namespace {

// ---- automatic names (NOTE: per thread, like MXNet's NameManager.current) ----
struct NameState {
  std::unordered_map<std::string, int> counters;
  std::string prefix;
};
thread_local NameState t_names;
thread_local op::AttrDict t_scope_attrs;

std::string AutoName(const std::string& given, std::string_view op_name) {
  if (!given.empty()) return t_names.prefix + given;
  std::string hint(op_name);
  std::transform(hint.begin(), hint.end(), hint.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const int n = t_names.counters[hint]++;
  return t_names.prefix + hint + std::to_string(n);
}

/*!
 * \brief MXNet's spelling of an attribute key given by a user: a hidden key without its
 * underscores (`lr_mult`) means `__lr_mult__`; `weight_lr_mult` on an op, which old MXNet used to
 * set a variable's attribute, is refused as MXNet 1.x refuses it.
 */
std::string HiddenKeyName(const std::string& key, std::string_view where) {
  for (std::string_view h : kHiddenKeys) {
    if (key == h) return "__" + key + "__";
    if (key.size() > h.size() + 1 && key.ends_with(h) && key[key.size() - h.size() - 1] == '_' &&
        !IsHiddenKey(key)) {
      MX_THROW(ValueError) << where << ": setting variable attributes with '" << key
                           << "' is not supported; give the variable " << h << " instead";
    }
  }
  return key;
}

op::AttrDict HiddenKeyNames(const op::AttrDict& attrs, std::string_view where) {
  op::AttrDict out;
  for (const auto& [k, v] : attrs)
    out.emplace_back(HiddenKeyName(k, where), v);
  return out;
}

/*! \brief A hidden attribute also listed without underscores, as MXNet's list_attr does. */
std::optional<std::string> PlainHiddenKey(std::string_view key) {
  for (std::string_view h : kHiddenKeys) {
    if (key.size() == h.size() + 4 && key.starts_with("__") && key.substr(2, h.size()) == h)
      return std::string(h);
  }
  return std::nullopt;
}

std::map<std::string, std::string> ListedAttrs(const Node& n) {
  std::map<std::string, std::string> out(n.attrs.begin(), n.attrs.end());
  for (const auto& [k, v] : n.attrs) {
    if (auto plain = PlainHiddenKey(k)) out[*plain] = v;
  }
  return out;
}

/*!
 * \brief `v` as Python's repr(float) writes it ("2.0", "0.001", "1e-05", "1e+16"): MXNet's Python
 * front end stores float attributes (lr_mult) with str(), so files written from C++ match.
 */
std::string PythonFloat(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[48];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view text(buf, static_cast<size_t>(res.ptr - buf));  // shortest: [-]d.ddde+XX
  const bool negative = text.starts_with('-');
  if (negative) text.remove_prefix(1);
  const size_t e = text.find('e');
  const int exp = std::atoi(std::string(text.substr(e + 1)).c_str());
  std::string digits;
  for (char c : text.substr(0, e)) {
    if (c != '.') digits += c;
  }
  std::string out;
  if (exp >= -4 && exp < 16) {  // Python's repr switches to exponents outside [1e-4, 1e16)
    if (exp < 0) {
      out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
      out = digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<size_t>(exp) + 1) + "." +
            digits.substr(static_cast<size_t>(exp) + 1);
    }
  } else {
    out = digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : "");
    char exp_text[16];
    std::snprintf(exp_text, sizeof(exp_text), "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += exp_text;
  }
  return negative ? "-" + out : out;
}

/*! \brief Scope attributes first, then the given ones (which win). */
op::AttrDict WithScopeAttrs(const op::AttrDict& attrs) {
  op::AttrDict out;
  for (const auto& kv : t_scope_attrs) {
    const bool overridden =
        std::any_of(attrs.begin(), attrs.end(), [&](const auto& a) { return a.first == kv.first; });
    if (!overridden) out.push_back(kv);
  }
  out.insert(out.end(), attrs.begin(), attrs.end());
  return out;
}

const Node& SingleNode(const Symbol& s, const char* what) {
  MX_CHECK(s.NumOutputs() == 1, ValueError)
      << "Symbol." << what << ": needs a symbol with one output, this one has " << s.NumOutputs();
  return *s.outputs()[0].node;
}

/*!
 * \brief Ops that have no output names in MXNet: their outputs are listed as NAME_output0,
 * NAME_output1, ... whenever the op has more than one output, hidden ones included.
 */
bool HasNumberedOutputs(const Node& n) {
  const std::string& op = n.op->name;
  return op == "sort" || op == "topk" || op == "moments" || op == "CTCLoss" || op == "ctc_loss" ||
         op == "_contrib_CTCLoss" || op == "_contrib_ctc_loss";
}

std::string OutputName(const Node& n, uint32_t index) {
  if (n.is_variable()) return n.name;
  if (HasNumberedOutputs(n) && MXNetOutputCount(n) > 1) {
    return n.name + "_output" + std::to_string(index);  // sort0_output0, as MXNet lists it
  }
  const auto names = n.op->output_names(n.parsed());
  return n.name + "_" + (index < names.size() ? names[index] : "output" + std::to_string(index));
}

bool IsVariadic(const op::OpDef& def) {
  return std::any_of(def.signature.begin(), def.signature.end(),
                     [](const std::string& s) { return s.starts_with("*"); });
}

bool HasField(const op::OpDef& def, std::string_view field) {
  const auto& fields = def.params->Fields();
  return std::any_of(fields.begin(), fields.end(),
                     [&](const op::FieldInfo& f) { return f.name == field; });
}

bool HasKey(const op::AttrDict& attrs, std::string_view key) {
  return std::any_of(attrs.begin(), attrs.end(), [&](const auto& kv) { return kv.first == key; });
}

NodeEntry SingleEntry(const Symbol& s, const std::string& node_name, const std::string& input) {
  MX_CHECK(s.NumOutputs() == 1, ValueError)
      << node_name << ": input '" << input << "' must be a symbol with one output, got "
      << s.NumOutputs() << " outputs";
  return s.outputs()[0];
}

/*! \brief Composes op `def` on inputs given by position (`given`, then the rest created). */
Symbol Compose(const op::OpDef& def, std::string_view name_hint,
               std::vector<std::optional<Symbol>> given_by_index,
               const std::vector<std::pair<std::string, Symbol>>& given_by_name,
               const op::AttrDict& user_attrs, const std::string& user_name) {
  const std::string name = AutoName(user_name, name_hint);
  op::AttrDict attrs = WithScopeAttrs(HiddenKeyNames(user_attrs, def.name + " '" + name + "'"));
  // Ops that take any number of inputs count them in num_args, as MXNet's key_var_num_args.
  if (IsVariadic(def) && HasField(def, "num_args") && !HasKey(attrs, "num_args")) {
    attrs.emplace_back("num_args", std::to_string(given_by_index.size()));
  }
  op::AttrDict params;
  for (const auto& kv : attrs) {
    if (!IsHiddenKey(kv.first)) params.push_back(kv);
  }
  const op::Attrs parsed = def.ParseAttrs(params);
  const std::vector<std::string> names = def.input_names(parsed);
  MX_CHECK(given_by_index.size() <= names.size(), ValueError)
      << def.name << " '" << name << "' takes " << names.size() << " input(s), got "
      << given_by_index.size();
  given_by_index.resize(names.size());
  for (const auto& [key, s] : given_by_name) {
    auto it = std::find(names.begin(), names.end(), key);
    MX_CHECK(it != names.end(), ValueError) << def.name << " '" << name << "' has no input '" << key
                                            << "'" << op::DidYouMean(key, names);
    given_by_index[static_cast<size_t>(it - names.begin())] = s;
  }
  std::vector<NodeEntry> inputs;
  for (size_t i = 0; i < names.size(); ++i) {
    if (given_by_index[i]) {
      inputs.push_back(SingleEntry(*given_by_index[i], name, names[i]));
    } else {
      // MXNet's rule: a missing input becomes the variable NAME_INPUT (fc1_weight), with a
      // copy of the op's attributes (so fc1_weight carries fc1's __lr_mult__ and num_hidden).
      inputs.push_back({Node::MakeVariable(name + "_" + names[i], attrs), 0});
    }
  }
  auto node = Node::MakeOp(def, name, std::move(attrs), std::move(inputs));
  SetInputVariableAttrs(*node);
  std::vector<SymbolOutput> outs;
  for (uint32_t i = 0; i < node->num_visible_outputs(); ++i)
    outs.push_back({node, i});
  return Symbol(std::move(outs));
}

/*! \brief Variables split into arguments and auxiliary states, in DFS order. */
void ListVariables(const Symbol& s, std::vector<std::string>* args, std::vector<std::string>* aux,
                   std::vector<std::string>* all) {
  IndexedGraph g(s.outputs());
  std::unordered_set<uint32_t> mut(g.mutable_input_nodes().begin(), g.mutable_input_nodes().end());
  for (uint32_t nid : g.input_nodes()) {
    const std::string& n = g.node(nid).name;
    if (all) all->push_back(n);
    if (mut.count(nid)) {
      if (aux) aux->push_back(n);
    } else if (args) {
      args->push_back(n);
    }
  }
}

// ---- inference ----
Shape ShapeAttr(const Node& n) {
  const std::string* s = n.FindAttr("__shape__");
  if (!s) return Shape();
  Shape shape = Shape::FromString(*s);
  // MXNet 1.x (without numpy semantics) writes unknown dimensions as 0.
  for (int i = 0; i < shape.ndim(); ++i) {
    if (shape[i] == 0) shape[i] = -1;
  }
  return shape;
}

int DTypeAttr(const Node& n) {
  const std::string* s = n.FindAttr("__dtype__");
  if (!s) return -1;
  return static_cast<int>(op::ValueCodec<int64_t>::Parse(*s));
}

template <typename T, typename Known, typename Preset, typename Run>
InferResult<T> Infer(const Symbol& s, const Known& known, Preset preset, Run run, bool partial,
                     const char* what, const char* noun) {
  IndexedGraph g(s.outputs());
  std::unordered_set<std::string> names;
  for (uint32_t nid : g.input_nodes())
    names.insert(g.node(nid).name);
  for (const auto& [name, v] : known) {
    if (!names.count(name)) {
      std::vector<std::string> all(names.begin(), names.end());
      std::sort(all.begin(), all.end());
      MX_THROW(ValueError) << what << ": '" << name << "' is not an input of the symbol"
                           << op::DidYouMean(name, all);
    }
  }
  auto values = preset(g);
  for (uint32_t nid : g.input_nodes()) {
    auto it = known.find(g.node(nid).name);
    if (it != known.end()) values[g.entry_id(nid, 0)] = it->second;
  }
  run(g, &values);
  InferResult<T> r;
  std::unordered_set<uint32_t> mut(g.mutable_input_nodes().begin(), g.mutable_input_nodes().end());
  std::vector<std::string> unknown;
  auto convert = [&](uint32_t eid, const std::string& name) {
    T v = T(values[eid]);
    if constexpr (std::is_same_v<T, Shape>) {
      if (!v.is_known()) unknown.push_back(name);
    } else {
      if (values[eid] < 0) unknown.push_back(name);
    }
    return v;
  };
  for (uint32_t nid : g.input_nodes()) {
    const std::string& name = g.node(nid).name;
    (mut.count(nid) ? r.aux : r.arg).push_back(convert(g.entry_id(nid, 0), name));
  }
  for (const auto& e : g.outputs())
    r.out.push_back(convert(g.entry_id(e), OutputName(g.node(e.node_id), e.index)));
  r.complete = unknown.empty();
  if (!partial && !r.complete) {
    std::string list;
    for (const auto& u : unknown)
      list += (list.empty() ? "" : ", ") + u;
    MX_THROW(ValueError) << what << ": cannot decide the " << noun << " of " << list << " from the "
                         << known.size() << " given; give more input " << noun << "s";
  }
  return r;
}

}  // namespace

/*
 * NOTE [ MXNet's hidden outputs ]
 * MXNet counts every output of a node in node_row_ptr, including outputs its symbols never show:
 * the saved mean and variance of BatchNorm and the other norms, Dropout's mask, LRN's and
 * L2Normalization's norms, sort's indices, and the workspace of max pooling that its oneDNN
 * build (the pip wheel) keeps. mixnet's ops have only the outputs they show, except Dropout's
 * mask and RNN's dropout masks (which MXNet does not count), so the counts are MXNet 1.9.1's
 * here (checked by tests/interop/test_mxnet_symbol.py).
 */
uint32_t MXNetOutputCount(const Node& n) {
  const uint32_t visible = n.num_outputs();
  if (n.is_variable()) return visible;
  const std::string& op = n.op->name;
  const auto attr_is = [&](const char* key, std::string_view value, bool if_missing) {
    const std::string* v = n.FindAttr(key);
    return v ? *v == value : if_missing;
  };
  // RNN's dropout_mask is mixnet's alone (NOTE [ RNN dropout masks ] in rnn.cc).
  if (op == "RNN") return visible - 1;
  uint32_t total = visible;
  if (op == "BatchNorm" || op == "_contrib_SyncBatchNorm" || op == "LayerNorm" ||
      op == "GroupNorm" || op == "InstanceNorm" || op == "SpatialTransformer" ||
      op == "Correlation") {
    total = 3;
  } else if (op == "Dropout" || op == "LRN" || op == "L2Normalization" || op == "sort" ||
             op == "CTCLoss" || op == "ctc_loss" || op == "_contrib_CTCLoss" ||
             op == "_contrib_ctc_loss" || op == "ROIPooling" || op == "BilinearSampler" ||
             op == "GridGenerator" || (op == "topk" && attr_is("ret_typ", "value", false))) {
    total = 2;
  } else if (op == "Pooling") {
    // oneDNN's max pooling (1-3 spatial dims, channels-first layouts) keeps its argmax.
    int kernel_ndim = 0;
    if (const std::string* kernel = n.FindAttr("kernel")) {
      try {
        kernel_ndim = Shape::FromString(*kernel).ndim();
      } catch (const Error&) {
      }
    }
    const bool channels_first =
        attr_is("layout", "None", true) || attr_is("layout", "NCW", false) ||
        attr_is("layout", "NCHW", false) || attr_is("layout", "NCDHW", false);
    if (attr_is("pool_type", "max", true) && kernel_ndim >= 1 && kernel_ndim <= 3 &&
        channels_first) {
      total = 2;
    }
  }
  return std::max(total, visible);
}

void SetInputVariableAttrs(const Node& node) {
  if (node.is_variable()) return;
  // NOTE [ Input variable attributes ]: MXNet's FSetInputVarAttrOnCompose, for the ops that
  // have it in 1.9.1. It belongs with the op definitions; it is kept here while it is the only
  // use, and it has to stay in step with MXNet anyway.
  struct Rule {
    std::string_view op;
    size_t input;
    const char* init;
  };
  static constexpr Rule kRules[] = {
      {"BatchNorm", 3, R"(["zero", {}])"},
      {"BatchNorm", 4, R"(["one", {}])"},
      {"_contrib_SyncBatchNorm", 3, R"(["zero", {}])"},
      {"_contrib_SyncBatchNorm", 4, R"(["one", {}])"},
      {"LeakyReLU", 1, R"(["Constant", {"value": 0.25}])"},
  };
  for (const Rule& r : kRules) {
    if (node.op->name != r.op || r.input >= node.inputs.size()) continue;
    Node& var = *node.inputs[r.input].node;
    if (var.is_variable() && !var.FindAttr("__init__")) var.SetAttr("__init__", r.init);
  }
}

// ---------------------------------------------------------------- construction

Symbol Symbol::Variable(const std::string& name, const VariableOptions& o) {
  MX_CHECK(!name.empty(), ValueError) << "Symbol::Variable: the name is empty";
  op::AttrDict attrs;
  if (o.shape) {
    // MXNet 1.x writes unknown dimensions as 0 (see ShapeAttr).
    Shape shape = *o.shape;
    for (int i = 0; i < shape.ndim(); ++i) {
      if (shape[i] < 0) shape[i] = 0;
    }
    attrs.emplace_back("__shape__", shape.ToString());
  }
  if (o.lr_mult) attrs.emplace_back("__lr_mult__", PythonFloat(*o.lr_mult));
  if (o.wd_mult) attrs.emplace_back("__wd_mult__", PythonFloat(*o.wd_mult));
  if (o.dtype) attrs.emplace_back("__dtype__", std::to_string(static_cast<int>(*o.dtype)));
  if (o.init) attrs.emplace_back("__init__", *o.init);
  if (o.stype) attrs.emplace_back("__storage_type__", *o.stype);
  const op::AttrDict more = HiddenKeyNames(o.attrs, "Symbol::Variable '" + name + "'");
  attrs.insert(attrs.end(), more.begin(), more.end());
  // As in MXNet, a name prefix (NameScope) applies to op names only, not to variables.
  return Symbol({{Node::MakeVariable(name, WithScopeAttrs(attrs)), 0}});
}

Symbol Symbol::Create(std::string_view op, std::span<const Symbol> inputs,
                      const op::AttrDict& attrs, const std::string& name) {
  std::vector<std::optional<Symbol>> given(inputs.begin(), inputs.end());
  // Automatic names come from the name called (split0 for SliceChannel's alias), as in MXNet.
  return Compose(op::Registry::Get(op), op, std::move(given), {}, attrs, name);
}

Symbol Symbol::CreateNamed(std::string_view op,
                           const std::vector<std::pair<std::string, Symbol>>& inputs,
                           const op::AttrDict& attrs, const std::string& name) {
  return Compose(op::Registry::Get(op), op, {}, inputs, attrs, name);
}

Symbol Symbol::Group(std::span<const Symbol> symbols) {
  std::vector<SymbolOutput> outs;
  for (const Symbol& s : symbols)
    outs.insert(outs.end(), s.outputs_.begin(), s.outputs_.end());
  return Symbol(std::move(outs));
}

// ---------------------------------------------------------------- outputs and listing

Symbol Symbol::operator[](size_t i) const {
  MX_CHECK(i < outputs_.size(), IndexError)
      << "Symbol: output " << i << " is out of range; the symbol has " << outputs_.size()
      << " output(s)";
  return Symbol({outputs_[i]});
}

Symbol Symbol::operator[](std::string_view name) const {
  const auto names = ListOutputs();
  std::optional<size_t> found;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] != name) continue;
    MX_CHECK(!found, ValueError) << "Symbol: several outputs are called '" << name << "'";
    found = i;
  }
  MX_CHECK(found.has_value(), ValueError)
      << "Symbol: no output called '" << name << "'" << op::DidYouMean(name, names);
  return (*this)[*found];
}

std::vector<std::string> Symbol::ListArguments() const {
  std::vector<std::string> args;
  ListVariables(*this, &args, nullptr, nullptr);
  return args;
}

std::vector<std::string> Symbol::ListAuxiliaryStates() const {
  std::vector<std::string> aux;
  ListVariables(*this, nullptr, &aux, nullptr);
  return aux;
}

std::vector<std::string> Symbol::ListInputs() const {
  std::vector<std::string> all;
  ListVariables(*this, nullptr, nullptr, &all);
  return all;
}

std::vector<std::string> Symbol::ListOutputs() const {
  std::vector<std::string> names;
  for (const SymbolOutput& o : outputs_)
    names.push_back(OutputName(*o.node, o.index));
  return names;
}

// ---------------------------------------------------------------- attributes

std::string Symbol::name() const {
  return SingleNode(*this, "name").name;
}

std::optional<std::string> Symbol::Attr(const std::string& key) const {
  const Node& n = SingleNode(*this, "attr");
  const std::string* v = n.FindAttr(key);
  if (!v) {
    for (std::string_view h : kHiddenKeys) {
      if (key == h) v = n.FindAttr("__" + key + "__");
    }
  }
  return v ? std::optional<std::string>(*v) : std::nullopt;
}

std::map<std::string, std::string> Symbol::ListAttr() const {
  return ListedAttrs(SingleNode(*this, "list_attr"));
}

std::map<std::string, std::map<std::string, std::string>> Symbol::AttrDict() const {
  std::map<std::string, std::map<std::string, std::string>> out;
  DFSVisit(outputs_, [&](const std::shared_ptr<Node>& n) {
    if (!n->attrs.empty()) out[n->name] = ListedAttrs(*n);
  });
  return out;
}

void Symbol::SetAttr(const std::string& given_key, const std::string& value) {
  MX_CHECK(outputs_.size() == 1, ValueError)
      << "Symbol.set_attr: needs a symbol with one output, this one has " << outputs_.size();
  Node& n = *outputs_[0].node;
  const std::string key = HiddenKeyName(given_key, "Symbol.set_attr");
  if (!n.is_variable() && !IsHiddenKey(key)) {
    // An op parameter: checked like at creation; the node keeps its old value on error.
    const op::AttrDict old = n.attrs;
    n.SetAttr(key, value);
    n.Reparse();
    try {
      n.parsed();
    } catch (...) {
      n.attrs = old;
      n.Reparse();
      throw;
    }
    return;
  }
  n.SetAttr(key, value);
}

// ---------------------------------------------------------------- structure

Symbol Symbol::GetInternals() const {
  std::vector<SymbolOutput> outs;
  DFSVisit(outputs_, [&](const std::shared_ptr<Node>& n) {
    for (uint32_t i = 0; i < n->num_visible_outputs(); ++i)
      outs.push_back({n, i});
  });
  return Symbol(std::move(outs));
}

Symbol Symbol::GetChildren() const {
  std::vector<SymbolOutput> outs;
  for (const SymbolOutput& o : outputs_) {
    for (const NodeEntry& e : o.node->inputs)
      outs.push_back(e);
  }
  return Symbol(std::move(outs));
}

Symbol Symbol::Copy() const {
  std::unordered_map<const Node*, std::shared_ptr<Node>> copies;
  DFSVisit(outputs_, [&](const std::shared_ptr<Node>& n) {
    auto c = std::make_shared<Node>(*n);
    for (NodeEntry& e : c->inputs)
      e.node = copies.at(e.node.get());
    for (auto& d : c->control_deps)
      d = copies.at(d.get());
    copies[n.get()] = std::move(c);
  });
  std::vector<SymbolOutput> outs;
  for (const SymbolOutput& o : outputs_)
    outs.push_back({copies.at(o.node.get()), o.index});
  return Symbol(std::move(outs));
}

std::string Symbol::DebugStr() const {
  IndexedGraph g(outputs_);
  std::ostringstream os;
  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid) {
    const Node& n = g.node(nid);
    os << (n.is_variable() ? "Variable:" : "Op:" + n.op->name + ",") << " Name=" << n.name;
    if (!n.is_variable()) {
      os << " Inputs=[";
      for (size_t i = 0; i < g[nid].inputs.size(); ++i) {
        const auto& e = g[nid].inputs[i];
        os << (i ? ", " : "") << g.node(e.node_id).name << "[" << e.index << "]";
      }
      os << "]";
    }
    for (const auto& [k, v] : n.attrs)
      os << " " << k << "=" << v;
    os << "\n";
  }
  return os.str();
}

// ---------------------------------------------------------------- inference

InferResult<Shape> Symbol::InferShape(const std::unordered_map<std::string, Shape>& known) const {
  return Infer<Shape>(
      *this, known,
      [](const IndexedGraph& g) {
        std::vector<Shape> v(g.num_entries());
        for (uint32_t nid : g.input_nodes())
          v[g.entry_id(nid, 0)] = ShapeAttr(g.node(nid));
        return v;
      },
      [](const IndexedGraph& g, std::vector<Shape>* v) { pass::InferShapes(g, v); }, false,
      "infer_shape", "shape");
}

InferResult<Shape> Symbol::InferShapePartial(
    const std::unordered_map<std::string, Shape>& known) const {
  return Infer<Shape>(
      *this, known,
      [](const IndexedGraph& g) {
        std::vector<Shape> v(g.num_entries());
        for (uint32_t nid : g.input_nodes())
          v[g.entry_id(nid, 0)] = ShapeAttr(g.node(nid));
        return v;
      },
      [](const IndexedGraph& g, std::vector<Shape>* v) { pass::InferShapes(g, v); }, true,
      "infer_shape_partial", "shape");
}

InferResult<DType> Symbol::InferType(const std::unordered_map<std::string, DType>& known) const {
  std::unordered_map<std::string, int> as_int;
  for (const auto& [k, v] : known)
    as_int[k] = static_cast<int>(v);
  auto r = Infer<int>(
      *this, as_int,
      [](const IndexedGraph& g) {
        std::vector<int> v(g.num_entries(), -1);
        for (uint32_t nid : g.input_nodes())
          v[g.entry_id(nid, 0)] = DTypeAttr(g.node(nid));
        return v;
      },
      [](const IndexedGraph& g, std::vector<int>* v) {
        pass::InferTypes(g, v);
        // Variables nothing decides are float32, as MXNet's simple_bind assumes.
        bool defaulted = false;
        for (uint32_t nid : g.input_nodes()) {
          int& t = (*v)[g.entry_id(nid, 0)];
          if (t < 0) {
            t = static_cast<int>(DType::kFloat32);
            defaulted = true;
          }
        }
        if (defaulted) pass::InferTypes(g, v);
      },
      false, "infer_type", "dtype");
  InferResult<DType> out;
  for (int t : r.arg)
    out.arg.push_back(static_cast<DType>(t));
  for (int t : r.out)
    out.out.push_back(static_cast<DType>(t));
  for (int t : r.aux)
    out.aux.push_back(static_cast<DType>(t));
  return out;
}

// ---------------------------------------------------------------- arithmetic

namespace {
// MXNet's Python operators call internal aliases (_Plus, _PlusScalar), which name the nodes
// (_plus0, _plusscalar0); the nodes are the canonical ops.
Symbol Binary(const char* op, const char* hint, const Symbol& a, const Symbol& b) {
  return Compose(op::Registry::Get(op), hint, {a, b}, {}, {}, "");
}
Symbol WithScalar(const char* op, const char* hint, const Symbol& a, std::string scalar) {
  return Compose(op::Registry::Get(op), hint, {a}, {}, {{"scalar", std::move(scalar)}}, "");
}
Symbol WithScalar(const char* op, const char* hint, const Symbol& a, double s) {
  return WithScalar(op, hint, a, op::ValueCodec<double>::Print(s));
}
}  // namespace

Symbol operator+(const Symbol& a, const Symbol& b) {
  return Binary("elemwise_add", "_plus", a, b);
}
Symbol operator-(const Symbol& a, const Symbol& b) {
  return Binary("elemwise_sub", "_minus", a, b);
}
Symbol operator*(const Symbol& a, const Symbol& b) {
  return Binary("elemwise_mul", "_mul", a, b);
}
Symbol operator/(const Symbol& a, const Symbol& b) {
  return Binary("elemwise_div", "_div", a, b);
}
Symbol operator+(const Symbol& a, double s) {
  return WithScalar("_plus_scalar", "_plusscalar", a, s);
}
Symbol operator-(const Symbol& a, double s) {
  return WithScalar("_minus_scalar", "_minusscalar", a, s);
}
Symbol operator*(const Symbol& a, double s) {
  return WithScalar("_mul_scalar", "_mulscalar", a, s);
}
Symbol operator/(const Symbol& a, double s) {
  return WithScalar("_div_scalar", "_divscalar", a, s);
}
Symbol operator+(double s, const Symbol& a) {
  return WithScalar("_plus_scalar", "_plusscalar", a, s);
}
Symbol operator-(double s, const Symbol& a) {
  return WithScalar("_rminus_scalar", "_rminusscalar", a, s);
}
Symbol operator*(double s, const Symbol& a) {
  return WithScalar("_mul_scalar", "_mulscalar", a, s);
}
Symbol operator/(double s, const Symbol& a) {
  return WithScalar("_rdiv_scalar", "_rdivscalar", a, s);
}
Symbol operator-(const Symbol& a) {
  return WithScalar("_mul_scalar", "_mulscalar", a, "-1.0");  // MXNet's __neg__: a * -1.0
}
Symbol Pow(const Symbol& a, const Symbol& b) {
  return Binary("_power", "_power", a, b);
}
Symbol Pow(const Symbol& a, double s) {
  return WithScalar("_power_scalar", "_powerscalar", a, s);
}

// ---------------------------------------------------------------- scopes

NameScope::NameScope(std::string prefix) {
  saved_ = std::make_shared<NameState>(std::move(t_names));
  t_names = NameState{{}, std::move(prefix)};
}

NameScope::~NameScope() {
  t_names = std::move(*static_cast<NameState*>(saved_.get()));
}

AttrScope::AttrScope(op::AttrDict given) : saved_(t_scope_attrs) {
  for (auto& [k, v] : HiddenKeyNames(given, "AttrScope")) {
    auto it = std::find_if(t_scope_attrs.begin(), t_scope_attrs.end(),
                           [&](const auto& kv) { return kv.first == k; });
    if (it != t_scope_attrs.end()) {
      it->second = v;
    } else {
      t_scope_attrs.emplace_back(k, v);
    }
  }
}

AttrScope::~AttrScope() {
  t_scope_attrs = std::move(saved_);
}

}  // namespace mixnet::sym

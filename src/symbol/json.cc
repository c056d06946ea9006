// MXNet 1.x symbol JSON (-symbol.json): written as MXNet 1.9.1 writes it, read from MXNet 0.8-1.9.
//
// NOTE [ Symbol JSON ]
// Writing reproduces MXNet 1.9.1's bytes (nnvm's SaveJSON through dmlc::JSONWriter): nodes in
// depth-first post-order, attributes sorted by key, dmlc's layout (", " then a newline and two
// spaces per level; arrays of numbers on one line unless they have more than 10 items; objects
// with one key on one line) and entry versions counted as MXNet counts in-place writes
// (UpdateNodeVersion). Two things MXNet writes are not kept in a mixnet graph and are
// recomputed: the versions (MXNet counts them in composition order, mixnet in depth-first
// order; they differ only for a variable that is written in place and also read elsewhere)
// and the number of outputs per node in node_row_ptr (NOTE [ MXNet's hidden outputs ] in
// symbol.cc).
//
// Reading accepts what MXNet's LoadLegacyJSON accepts, with its upgrade passes for older files
// (UpgradeJSON_* in MXNet's src/nnvm/legacy_json_util.cc), applied node by node as each node is
// built: nodes must come after their inputs, which every MXNet writer guarantees.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include <unistd.h>

#include "mixnet/symbol/symbol.h"
#include "operator/param.h"
#include "symbol/indexed_graph.h"
#include "symbol/mxnet_compat.h"
#include "symbol/node.h"

namespace mixnet::sym {
namespace {

// The version mixnet writes: the format is MXNet 1.9.1's.
constexpr int64_t kMXNetVersion = 10901;

// ---------------------------------------------------------------- writing

/*! \brief dmlc::JSONWriter's layout, byte for byte. */
class Writer {
 public:
  void BeginObject(bool multi_line = true) { Open('{', multi_line); }
  void EndObject() { Close('}'); }
  void BeginArray(bool multi_line) { Open('[', multi_line); }
  void EndArray() { Close(']'); }
  /*! \brief Starts the next item of the current array. */
  void Item() {
    if (scopes_.back().count++ != 0) out_ += ", ";
    Separator();
  }
  /*! \brief Starts the value of `key` in the current object. */
  void Key(std::string_view key) {
    Item();
    String(key);
    out_ += ": ";
  }
  /*!
   * \brief dmlc escapes only \r \n \t \\ and "; other control characters, which it writes raw
   * (not valid JSON), are written as \u00XX. Other bytes, UTF-8 included, are copied.
   */
  void String(std::string_view s) {
    out_ += '"';
    for (char c : s) {
      switch (c) {
        case '\r':
          out_ += "\\r";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\t':
          out_ += "\\t";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '"':
          out_ += "\\\"";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
            out_ += buf;
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
  }
  void UInt(uint64_t v) { out_ += std::to_string(v); }
  /*! \brief An array of numbers, laid out as dmlc lays out vectors of plain values. */
  template <typename Range, typename Fn>
  void Array(const Range& items, Fn write_item) {
    BeginArray(items.size() > 10);
    for (const auto& item : items) {
      Item();
      write_item(item);
    }
    EndArray();
  }
  std::string Take() { return std::move(out_); }

 private:
  struct Scope {
    bool multi_line;
    size_t count;
  };
  void Open(char c, bool multi_line) {
    out_ += c;
    scopes_.push_back({multi_line, 0});
  }
  void Close(char c) {
    const Scope s = scopes_.back();
    scopes_.pop_back();
    if (s.multi_line && s.count != 0) Separator();  // indented at the parent's level
    out_ += c;
  }
  void Separator() {
    if (scopes_.empty() || scopes_.back().multi_line) {
      out_ += '\n';
      out_.append(scopes_.size() * 2, ' ');
    }
  }

  std::string out_;
  std::vector<Scope> scopes_;
};

struct SavedEntry {
  uint32_t node_id, index, version;
};

void WriteEntry(Writer& w, const SavedEntry& e) {
  w.BeginArray(false);
  for (uint32_t v : {e.node_id, e.index, e.version}) {
    w.Item();
    w.UInt(v);
  }
  w.EndArray();
}

// ---------------------------------------------------------------- reading

using Json = nlohmann::ordered_json;

/*! \brief A short rendering of a JSON value for error messages. */
std::string Show(const Json& j) {
  std::string s = j.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

/*! \brief Builds the graph of one file; `who` starts every error message. */
class Reader {
 public:
  explicit Reader(std::string who) : who_(std::move(who)) {}

  // `FAIL << ...` raises ValueError("WHO: ...").
#define FAIL MX_THROW(ValueError) << who_ << ": "

  Symbol Read(std::string_view text) {
    Json root;
    try {
      root = Json::parse(text);
    } catch (const Json::exception& e) {
      FAIL << "not valid JSON: " << e.what();
    }
    if (!root.is_object()) FAIL << "expected an object with nodes, arg_nodes and heads";
    const Json& nodes = Field(root, "nodes", "the graph");
    const Json& arg_nodes = Field(root, "arg_nodes", "the graph");
    const Json& heads = Field(root, "heads", "the graph");
    for (const auto* key : {"nodes", "arg_nodes", "heads"}) {
      if (!root[key].is_array())
        FAIL << "'" << key << "' must be an array, got " << Show(root[key]);
    }
    ReadVersion(root);
    num_nodes_ = nodes.size();
    for (size_t i = 0; i < nodes.size(); ++i)
      nodes_.push_back(ReadNode(nodes[i], i));
    for (size_t i = 0; i < arg_nodes.size(); ++i) {
      const uint32_t nid =
          NodeId(arg_nodes[i], nodes_.size(), "arg_nodes[" + std::to_string(i) + "]");
      if (!nodes_[nid]->is_variable()) {
        FAIL << "arg_nodes[" << i << "] is node " << nid << " ('" << nodes_[nid]->name
             << "'), which is not a variable";
      }
    }
    std::vector<SymbolOutput> outputs;
    for (size_t i = 0; i < heads.size(); ++i)
      outputs.push_back(ReadEntry(heads[i], nodes_.size(), "heads[" + std::to_string(i) + "]"));
    return Symbol(std::move(outputs));
  }

 private:
  const Json& Field(const Json& obj, const char* key, const std::string& where) const {
    auto it = obj.find(key);
    if (it == obj.end()) FAIL << where << " has no '" << key << "' key";
    return *it;
  }

  /*! \brief "mxnet_version": ["int", N]; files without it are MXNet 0.8.0's. */
  void ReadVersion(const Json& root) {
    auto attrs = root.find("attrs");
    if (attrs == root.end()) return;
    if (!attrs->is_object()) FAIL << "graph 'attrs' must be an object, got " << Show(*attrs);
    auto v = attrs->find("mxnet_version");
    if (v == attrs->end()) return;  // other graph attributes are not used
    if (!v->is_array() || v->size() != 2 || !(*v)[0].is_string() || !(*v)[1].is_number_integer()) {
      FAIL << "graph attribute 'mxnet_version' must be [\"int\", VERSION], got " << Show(*v);
    }
    version_ = (*v)[1].get<int64_t>();
  }

  uint32_t NodeId(const Json& j, size_t limit, const std::string& where) const {
    if (!j.is_number_integer() || j.get<int64_t>() < 0) {
      FAIL << where << ": expected a node index, got " << Show(j);
    }
    const int64_t id = j.get<int64_t>();
    if (static_cast<uint64_t>(id) >= num_nodes_) {
      FAIL << where << ": node " << id << " is out of range; the graph has " << num_nodes_
           << " nodes";
    }
    if (static_cast<uint64_t>(id) >= limit) {
      FAIL << where << ": node " << id << " is not an earlier node (inputs must come before the "
           << "node that reads them)";
    }
    return static_cast<uint32_t>(id);
  }

  /*! \brief [node_id, output_index] or [node_id, output_index, version] (version unused). */
  SymbolOutput ReadEntry(const Json& j, size_t limit, const std::string& where) const {
    if (!j.is_array() || (j.size() != 2 && j.size() != 3)) {
      FAIL << where << ": expected [node_id, output_index, version], got " << Show(j);
    }
    const uint32_t nid = NodeId(j[0], limit, where);
    if (!j[1].is_number_integer() || j[1].get<int64_t>() < 0 ||
        (j.size() == 3 && (!j[2].is_number_integer() || j[2].get<int64_t>() < 0))) {
      FAIL << where << ": expected [node_id, output_index, version], got " << Show(j);
    }
    const int64_t index = j[1].get<int64_t>();
    const Node& src = *nodes_[nid];
    if (static_cast<uint64_t>(index) >= src.num_outputs()) {
      FAIL << where << ": output " << index << " of node " << nid << " ('" << src.name
           << "') is out of range; it has " << src.num_outputs() << " output(s)";
    }
    return {nodes_[nid], static_cast<uint32_t>(index)};
  }

  /*! \brief Reads a string -> string object into `dict` (later keys replace earlier ones). */
  void ReadAttrs(const Json& j, const std::string& where, const char* key, op::AttrDict* dict,
                 bool override) const {
    if (!j.is_object()) FAIL << where << ": '" << key << "' must be an object, got " << Show(j);
    for (const auto& [k, v] : j.items()) {
      if (!v.is_string()) {
        FAIL << where << ": attribute '" << k << "' must be a string, got " << Show(v);
      }
      auto it =
          std::find_if(dict->begin(), dict->end(), [&](const auto& kv) { return kv.first == k; });
      if (it == dict->end()) {
        dict->emplace_back(k, v.get<std::string>());
      } else if (override) {
        it->second = v.get<std::string>();
      }
    }
  }

  std::shared_ptr<Node> ReadNode(const Json& j, size_t i) {
    std::string where = "node " + std::to_string(i);
    if (!j.is_object()) FAIL << where << ": expected an object, got " << Show(j);
    const Json& name = Field(j, "name", where);
    if (!name.is_string()) FAIL << where << ": 'name' must be a string, got " << Show(name);
    where += " ('" + name.get<std::string>() + "')";
    const Json& op = Field(j, "op", where);
    const Json& inputs = Field(j, "inputs", where);
    if (!op.is_string()) FAIL << where << ": 'op' must be a string, got " << Show(op);
    if (!inputs.is_array()) FAIL << where << ": 'inputs' must be an array, got " << Show(inputs);
    // "attr" (MXNet 0.9-1.0) and "param" (0.8) are older names of "attrs"; "param" never
    // replaces a value given under the other names.
    op::AttrDict attrs;
    for (const auto* key : {"attrs", "attr"}) {
      if (auto it = j.find(key); it != j.end()) ReadAttrs(*it, where, key, &attrs, true);
    }
    if (auto it = j.find("param"); it != j.end()) ReadAttrs(*it, where, "param", &attrs, false);
    if (auto it = j.find("subgraphs"); it != j.end() && !it->empty()) {
      MX_THROW(NotImplementedError) << who_ << ": " << where << ": ops with subgraphs are not "
                                    << "supported";
    }

    auto node = std::make_shared<Node>();
    node->name = name.get<std::string>();
    node->attrs = std::move(attrs);
    for (size_t k = 0; k < inputs.size(); ++k)
      node->inputs.push_back(ReadEntry(inputs[k], i, where + ": input " + std::to_string(k)));
    if (auto it = j.find("control_deps"); it != j.end()) {
      if (!it->is_array()) FAIL << where << ": 'control_deps' must be an array";
      for (size_t k = 0; k < it->size(); ++k) {
        node->control_deps.push_back(
            nodes_[NodeId((*it)[k], i, where + ": control_deps[" + std::to_string(k) + "]")]);
      }
    }
    const std::string& op_name = op.get_ref<const std::string&>();
    if (op_name == "null") {
      if (!node->inputs.empty()) FAIL << where << ": a variable (op \"null\") has inputs";
      if (version_ < kMXNetVersion) FixHiddenKeys(node.get());
      return node;
    }
    std::vector<std::string> input_names;
    try {
      node->op = &op::Registry::Get(op_name);
      Upgrade(node.get());
      input_names = InputNames(*node);  // checks the parameters
    } catch (const Error& e) {
      FAIL << where << ": " << e.what();
    }
    if (node->inputs.size() != input_names.size()) {
      std::string list;
      for (const auto& n : input_names)
        list += (list.empty() ? "" : ", ") + n;
      FAIL << where << ": " << node->op->name << " takes " << input_names.size() << " input(s) ("
           << list << "), the file gives " << node->inputs.size();
    }
    // MXNet 0.9.4 moved default initializers of some inputs (BatchNorm's moving_var) into the
    // graph: UpgradeJSON_000903_000904.
    if (version_ < 904) SetInputVariableAttrs(*node);
    return node;
  }

  /*! \brief The op's input names, with the parameters as they stand. */
  std::vector<std::string> InputNames(const Node& n) const {
    op::AttrDict params;
    for (const auto& kv : n.attrs) {
      if (!IsHiddenKey(kv.first)) params.push_back(kv);
    }
    return n.op->input_names(n.op->ParseAttrs(params));
  }

  /*! \brief MXNet's upgrades of op nodes from older files, before their parameters are parsed. */
  void Upgrade(Node* n) const {
    if (version_ < kMXNetVersion) FixHiddenKeys(n);
    // UpgradeJSON_000904_000905: argmax/argmin's axis -1 meant "all axes" before 0.9.5.
    if (version_ < 905 && (n->op->name == "argmax" || n->op->name == "argmin")) {
      auto it = std::find_if(n->attrs.begin(), n->attrs.end(),
                             [](const auto& kv) { return kv.first == "axis"; });
      if (it != n->attrs.end() && it->second == "-1") n->attrs.erase(it);
    }
    // UpgradeJSON_000800_000900: files before 0.9 lack auxiliary states (BatchNorm's moving
    // statistics); missing inputs become variables NODE_INPUT with the node's attributes.
    if (version_ < 900) {
      const auto names = InputNames(*n);
      for (size_t k = n->inputs.size(); k < names.size(); ++k) {
        const std::string var_name = n->name.empty() ? names[k] : n->name + "_" + names[k];
        n->inputs.push_back({Node::MakeVariable(var_name, n->attrs), 0});
      }
    }
  }

  /*!
   * \brief UpgradeJSON_FixParsing: in files older than 1.9.1, a hidden key written without
   * underscores (`lr_mult`) becomes `__lr_mult__`, and an op's INPUT_KEY (`weight_lr_mult`)
   * becomes `__KEY__` on the variable feeding that input. Other keys that start or end with a
   * hidden key are kept as they are.
   */
  void FixHiddenKeys(Node* n) const {
    op::AttrDict kept, moved;
    for (const auto& kv : n->attrs) {
      bool hidden = false;
      for (std::string_view h : kHiddenKeys) {
        const size_t pos = kv.first.rfind(h);
        hidden =
            hidden || pos == 0 || (pos != std::string::npos && pos + h.size() == kv.first.size());
      }
      (hidden ? moved : kept).push_back(kv);
    }
    if (moved.empty()) return;
    n->attrs = std::move(kept);
    std::optional<std::vector<std::string>> input_names;
    for (auto& [key, value] : moved) {
      bool placed = false;
      for (std::string_view h : kHiddenKeys) {
        const size_t pos = key.rfind(h);
        if (pos == 0 && key.size() == h.size()) {
          n->SetAttr("__" + key + "__", value);
          placed = true;
          break;
        }
        if (pos != std::string::npos && pos > 1 && pos + h.size() == key.size()) {
          if (n->is_variable()) break;
          if (!input_names) input_names = InputNames(*n);
          const std::string input = key.substr(0, pos - 1);
          auto it = std::find(input_names->begin(), input_names->end(), input);
          const auto idx = static_cast<size_t>(it - input_names->begin());
          if (it != input_names->end() && idx < n->inputs.size() &&
              n->inputs[idx].node->is_variable()) {
            n->inputs[idx].node->SetAttr("__" + std::string(h) + "__", value);
            placed = true;
          }
          break;
        }
      }
      if (!placed) n->SetAttr(key, value);
    }
  }

#undef FAIL

  std::string who_;
  size_t num_nodes_ = 0;
  int64_t version_ = 800;  // MXNET_MAKE_VERSION(0, 8, 0)
  std::vector<std::shared_ptr<Node>> nodes_;
};

}  // namespace

std::string Symbol::ToJSON() const {
  IndexedGraph g(outputs_);
  Writer w;
  w.BeginObject();
  w.Key("nodes");
  w.BeginArray(true);
  std::vector<uint32_t> var_versions(g.num_nodes(), 0);
  std::vector<uint32_t> row_ptr{0};
  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid) {
    const Node& n = g.node(nid);
    // MXNet's UpdateNodeVersion: a variable input is read at the variable's current version,
    // and each in-place write of it makes a new one.
    std::vector<SavedEntry> inputs;
    for (const auto& e : g[nid].inputs) {
      const bool var = g.node(e.node_id).is_variable();
      inputs.push_back({e.node_id, e.index, var ? var_versions[e.node_id] : 0});
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (g.node(inputs[i].node_id).is_variable() && IsMutatedInput(n, i)) {
        inputs[i].version = ++var_versions[inputs[i].node_id];
      }
    }
    w.Item();
    w.BeginObject();
    w.Key("op");
    w.String(n.is_variable() ? "null" : n.op->name);
    w.Key("name");
    w.String(n.name);
    if (!n.attrs.empty()) {
      const std::map<std::string, std::string> sorted(n.attrs.begin(), n.attrs.end());
      w.Key("attrs");
      w.BeginObject(sorted.size() > 1);
      for (const auto& [k, v] : sorted) {
        w.Key(k);
        w.String(v);
      }
      w.EndObject();
    }
    w.Key("inputs");
    w.Array(inputs, [&](const SavedEntry& e) { WriteEntry(w, e); });
    if (!g[nid].control_deps.empty()) {
      w.Key("control_deps");
      w.Array(g[nid].control_deps, [&](uint32_t d) { w.UInt(d); });
    }
    w.EndObject();
    row_ptr.push_back(row_ptr.back() + MXNetOutputCount(n));
  }
  w.EndArray();
  w.Key("arg_nodes");
  w.Array(g.input_nodes(), [&](uint32_t nid) { w.UInt(nid); });
  w.Key("node_row_ptr");
  w.Array(row_ptr, [&](uint32_t v) { w.UInt(v); });
  w.Key("heads");
  w.Array(g.outputs(), [&](const IndexedGraph::Entry& e) {
    WriteEntry(w, {e.node_id, e.index, 0});
  });
  w.Key("attrs");
  w.BeginObject(false);
  w.Key("mxnet_version");
  w.BeginArray(false);
  w.Item();
  w.String("int");
  w.Item();
  w.UInt(kMXNetVersion);
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return w.Take();
}

Symbol Symbol::FromJSON(std::string_view json) {
  return Reader("Symbol.FromJSON").Read(json);
}

void Symbol::Save(const std::string& path) const {
  const std::string json = ToJSON();
  // A temporary file renamed into place: a failed save never leaves a truncated file.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    MX_CHECK(out.good(), Error) << "Symbol.Save: cannot create " << tmp << ": "
                                << std::strerror(errno);
    out.write(json.data(), static_cast<std::streamsize>(json.size()));
    out.close();
    if (!out.good()) {
      std::remove(tmp.c_str());
      MX_THROW(Error) << "Symbol.Save: cannot write " << tmp;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    MX_THROW(Error) << "Symbol.Save: cannot write " << path << ": " << std::strerror(err);
  }
}

Symbol Symbol::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  MX_CHECK(in.good(), Error) << "Symbol.Load: cannot open " << path << ": " << std::strerror(errno);
  std::ostringstream text;
  text << in.rdbuf();
  MX_CHECK(!in.bad(), Error) << "Symbol.Load: cannot read " << path;
  return Reader("Symbol.Load " + path).Read(text.str());
}

}  // namespace mixnet::sym

// Symbol JSON (MXNet 1.x -symbol.json): MXNet 1.9.1's exact bytes, round trips, MXNet 1.9 and
// legacy 0.8 files that load and compute the right values, and errors for malformed files.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "mixnet/executor/executor.h"
#include "mixnet/op/invoke.h"
#include "mixnet/symbol/symbol.h"
#include "test_util.h"

namespace mixnet::sym {
namespace {

using Names = std::vector<std::string>;

// What MXNet 1.9.1 writes (sym.tojson()) for
//   data = mx.sym.var("data", shape=(2, 3), lr_mult=2.0, init=mx.init.Zero())
//   fc = mx.sym.FullyConnected(data, num_hidden=10, name="fc1")
//   bn = mx.sym.BatchNorm(fc, name="bn", fix_gamma=False)
//   mx.sym.Group([bn, mx.sym.split(fc, num_outputs=2, name="sp")[1]])
// BatchNorm's hidden outputs count in node_row_ptr (8, 11, 13).
constexpr const char* kMXNetGroup = R"json({
  "nodes": [
    {
      "op": "null", 
      "name": "data", 
      "attrs": {
        "__init__": "[\"zero\", {}]", 
        "__lr_mult__": "2.0", 
        "__shape__": "(2, 3)"
      }, 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "fc1_weight", 
      "attrs": {"num_hidden": "10"}, 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "fc1_bias", 
      "attrs": {"num_hidden": "10"}, 
      "inputs": []
    }, 
    {
      "op": "FullyConnected", 
      "name": "fc1", 
      "attrs": {"num_hidden": "10"}, 
      "inputs": [[0, 0, 0], [1, 0, 0], [2, 0, 0]]
    }, 
    {
      "op": "null", 
      "name": "bn_gamma", 
      "attrs": {"fix_gamma": "False"}, 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "bn_beta", 
      "attrs": {"fix_gamma": "False"}, 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "bn_moving_mean", 
      "attrs": {
        "__init__": "[\"zero\", {}]", 
        "fix_gamma": "False"
      }, 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "bn_moving_var", 
      "attrs": {
        "__init__": "[\"one\", {}]", 
        "fix_gamma": "False"
      }, 
      "inputs": []
    }, 
    {
      "op": "BatchNorm", 
      "name": "bn", 
      "attrs": {"fix_gamma": "False"}, 
      "inputs": [[3, 0, 0], [4, 0, 0], [5, 0, 0], [6, 0, 1], [7, 0, 1]]
    }, 
    {
      "op": "SliceChannel", 
      "name": "sp", 
      "attrs": {"num_outputs": "2"}, 
      "inputs": [[3, 0, 0]]
    }
  ], 
  "arg_nodes": [0, 1, 2, 4, 5, 6, 7], 
  "node_row_ptr": [
    0, 
    1, 
    2, 
    3, 
    4, 
    5, 
    6, 
    7, 
    8, 
    11, 
    13
  ], 
  "heads": [[8, 0, 0], [9, 1, 0]], 
  "attrs": {"mxnet_version": ["int", 10901]}
})json";

// MXNet 1.9.1 for a Concat of x0..x10 (dim=1) named cat, then Pooling(kernel=(2,), max, "pool")
// and Dropout(p=0.25, "drop"): more than 10 inputs or row pointers go on separate lines.
constexpr const char* kMXNetConcat = R"json({
  "nodes": [
    {
      "op": "null", 
      "name": "x0", 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "x1", 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "x2", 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "x3", 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "x4", 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "x5", 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "x6", 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "x7", 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "x8", 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "x9", 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "x10", 
      "inputs": []
    }, 
    {
      "op": "Concat", 
      "name": "cat", 
      "attrs": {
        "dim": "1", 
        "num_args": "11"
      }, 
      "inputs": [
        [0, 0, 0], 
        [1, 0, 0], 
        [2, 0, 0], 
        [3, 0, 0], 
        [4, 0, 0], 
        [5, 0, 0], 
        [6, 0, 0], 
        [7, 0, 0], 
        [8, 0, 0], 
        [9, 0, 0], 
        [10, 0, 0]
      ]
    }, 
    {
      "op": "Pooling", 
      "name": "pool", 
      "attrs": {
        "kernel": "(2,)", 
        "pool_type": "max"
      }, 
      "inputs": [[11, 0, 0]]
    }, 
    {
      "op": "Dropout", 
      "name": "drop", 
      "attrs": {"p": "0.25"}, 
      "inputs": [[12, 0, 0]]
    }
  ], 
  "arg_nodes": [
    0, 
    1, 
    2, 
    3, 
    4, 
    5, 
    6, 
    7, 
    8, 
    9, 
    10
  ], 
  "node_row_ptr": [
    0, 
    1, 
    2, 
    3, 
    4, 
    5, 
    6, 
    7, 
    8, 
    9, 
    10, 
    11, 
    12, 
    14, 
    16
  ], 
  "heads": [[13, 0, 0]], 
  "attrs": {"mxnet_version": ["int", 10901]}
})json";

// MXNet 1.9.1 for a small CNN:
//   c1 = Convolution(data, kernel=(3,3), pad=(1,1), num_filter=3, name="conv1")
//   b1 = BatchNorm(c1, fix_gamma=False, eps=1e-3, name="bn1")
//   a1 = Activation(b1, act_type="relu", name="relu1")
//   p1 = Pooling(a1, pool_type="max", kernel=(2,2), stride=(2,2), name="pool1")
//   softmax(FullyConnected(Flatten(p1, name="flat"), num_hidden=2, name="fc"), name="prob")
constexpr const char* kMXNetCNN = R"json({
  "nodes": [
    {
      "op": "null", 
      "name": "data", 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "conv1_weight", 
      "attrs": {
        "kernel": "(3, 3)", 
        "num_filter": "3", 
        "pad": "(1, 1)"
      }, 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "conv1_bias", 
      "attrs": {
        "kernel": "(3, 3)", 
        "num_filter": "3", 
        "pad": "(1, 1)"
      }, 
      "inputs": []
    }, 
    {
      "op": "Convolution", 
      "name": "conv1", 
      "attrs": {
        "kernel": "(3, 3)", 
        "num_filter": "3", 
        "pad": "(1, 1)"
      }, 
      "inputs": [[0, 0, 0], [1, 0, 0], [2, 0, 0]]
    }, 
    {
      "op": "null", 
      "name": "bn1_gamma", 
      "attrs": {
        "eps": "0.001", 
        "fix_gamma": "False"
      }, 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "bn1_beta", 
      "attrs": {
        "eps": "0.001", 
        "fix_gamma": "False"
      }, 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "bn1_moving_mean", 
      "attrs": {
        "__init__": "[\"zero\", {}]", 
        "eps": "0.001", 
        "fix_gamma": "False"
      }, 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "bn1_moving_var", 
      "attrs": {
        "__init__": "[\"one\", {}]", 
        "eps": "0.001", 
        "fix_gamma": "False"
      }, 
      "inputs": []
    }, 
    {
      "op": "BatchNorm", 
      "name": "bn1", 
      "attrs": {
        "eps": "0.001", 
        "fix_gamma": "False"
      }, 
      "inputs": [[3, 0, 0], [4, 0, 0], [5, 0, 0], [6, 0, 1], [7, 0, 1]]
    }, 
    {
      "op": "Activation", 
      "name": "relu1", 
      "attrs": {"act_type": "relu"}, 
      "inputs": [[8, 0, 0]]
    }, 
    {
      "op": "Pooling", 
      "name": "pool1", 
      "attrs": {
        "kernel": "(2, 2)", 
        "pool_type": "max", 
        "stride": "(2, 2)"
      }, 
      "inputs": [[9, 0, 0]]
    }, 
    {
      "op": "Flatten", 
      "name": "flat", 
      "inputs": [[10, 0, 0]]
    }, 
    {
      "op": "null", 
      "name": "fc_weight", 
      "attrs": {"num_hidden": "2"}, 
      "inputs": []
    }, 
    {
      "op": "null", 
      "name": "fc_bias", 
      "attrs": {"num_hidden": "2"}, 
      "inputs": []
    }, 
    {
      "op": "FullyConnected", 
      "name": "fc", 
      "attrs": {"num_hidden": "2"}, 
      "inputs": [[11, 0, 0], [12, 0, 0], [13, 0, 0]]
    }, 
    {
      "op": "softmax", 
      "name": "prob", 
      "inputs": [[14, 0, 0]]
    }
  ], 
  "arg_nodes": [0, 1, 2, 4, 5, 6, 7, 12, 13], 
  "node_row_ptr": [
    0, 
    1, 
    2, 
    3, 
    4, 
    5, 
    6, 
    7, 
    8, 
    11, 
    12, 
    14, 
    15, 
    16, 
    17, 
    18, 
    19
  ], 
  "heads": [[15, 0, 0]], 
  "attrs": {"mxnet_version": ["int", 10901]}
})json";

// A file in MXNet 0.8's format, written by hand after the files of that time: "param" and
// "attr" instead of "attrs", no mxnet_version, two-element inputs, backward_source_id, hidden
// keys without underscores (also as INPUT_lr_mult on the op), BatchNorm without its moving
// statistics, and argmax's old axis -1 (all axes).
constexpr const char* kLegacy08 = R"json({
  "nodes": [
    {"op": "null", "param": {}, "name": "data", "inputs": [], "backward_source_id": -1,
     "attr": {"ctx_group": "stage1"}},
    {"op": "null", "param": {}, "name": "fc1_weight", "inputs": [], "backward_source_id": -1},
    {"op": "null", "param": {}, "name": "fc1_bias", "inputs": [], "backward_source_id": -1},
    {"op": "FullyConnected", "param": {"no_bias": "False", "num_hidden": "3"}, "name": "fc1",
     "inputs": [[0, 0], [1, 0], [2, 0]], "backward_source_id": -1,
     "attr": {"lr_mult": "2", "weight_lr_mult": "0.5", "wd_mult": "0"}},
    {"op": "null", "param": {}, "name": "bn_gamma", "inputs": [], "backward_source_id": -1},
    {"op": "null", "param": {}, "name": "bn_beta", "inputs": [], "backward_source_id": -1},
    {"op": "BatchNorm", "param": {"eps": "0.001", "fix_gamma": "False", "momentum": "0.9",
     "use_global_stats": "False"}, "name": "bn", "inputs": [[3, 0], [4, 0], [5, 0]],
     "backward_source_id": -1},
    {"op": "Activation", "param": {"act_type": "relu"}, "name": "relu1", "inputs": [[6, 0]],
     "backward_source_id": -1},
    {"op": "argmax", "param": {"axis": "-1"}, "name": "best", "inputs": [[7, 0]],
     "backward_source_id": -1}
  ],
  "arg_nodes": [0, 1, 2, 4, 5],
  "heads": [[7, 0], [8, 0]]
})json";

std::vector<float> Values(const NDArray& a) {
  return a.ToVector<float>();
}

/*! \brief Fills every argument and auxiliary state with fixed values (variances positive). */
void FillInputs(exec::Executor& e) {
  uint64_t seed = 1;
  auto fill = [&](const std::map<std::string, NDArray>& arrays) {
    for (const auto& [name, a] : arrays) {
      const bool positive = name.ends_with("moving_var");
      const auto v = testing_util::Random(static_cast<size_t>(a.Size()), seed++,
                                          positive ? 0.5 : -1, positive ? 2 : 1);
      const std::vector<float> f(v.begin(), v.end());
      a.SyncCopyFromHost(f.data(), f.size());
    }
  };
  fill(e.arg_dict());
  fill(e.aux_dict());
}

void ExpectClose(const NDArray& got, const NDArray& want) {
  ASSERT_EQ(got.shape(), want.shape());
  const auto g = Values(got), w = Values(want);
  for (size_t i = 0; i < g.size(); ++i)
    EXPECT_NEAR(g[i], w[i], 1e-5 * (1 + std::abs(w[i]))) << "element " << i;
}

TEST(SymbolJSON, WritesMXNetsBytes) {
  VariableOptions o;
  o.shape = Shape{2, 3};
  o.lr_mult = 2.0;
  o.init = R"(["zero", {}])";
  const Symbol data = Symbol::Variable("data", o);
  const Symbol fc = Symbol::Create("FullyConnected", {data}, {{"num_hidden", "10"}}, "fc1");
  const Symbol bn = Symbol::Create("BatchNorm", {fc}, {{"fix_gamma", "False"}}, "bn");
  const Symbol sp = Symbol::Create("split", {fc}, {{"num_outputs", "2"}}, "sp");
  EXPECT_EQ(Symbol::Group({bn, sp[1]}).ToJSON(), kMXNetGroup);

  std::vector<Symbol> xs;
  for (int i = 0; i < 11; ++i)
    xs.push_back(Symbol::Variable("x" + std::to_string(i)));
  const Symbol cat = Symbol::Create("Concat", xs, {{"dim", "1"}}, "cat");
  const Symbol pool =
      Symbol::Create("Pooling", {cat}, {{"kernel", "(2,)"}, {"pool_type", "max"}}, "pool");
  // A Dropout symbol shows one output (its mask is hidden), as in MXNet.
  const Symbol drop = Symbol::Create("Dropout", {pool}, {{"p", "0.25"}}, "drop");
  EXPECT_EQ(drop.ListOutputs(), std::vector<std::string>{"drop_output"});
  EXPECT_EQ(drop.ToJSON(), kMXNetConcat);

  EXPECT_EQ(
      Symbol::Variable("x").ToJSON(),
      "{\n  \"nodes\": [\n    {\n      \"op\": \"null\", \n      \"name\": \"x\", \n"
      "      \"inputs\": []\n    }\n  ], \n  \"arg_nodes\": [0], \n  \"node_row_ptr\": [0, 1], "
      "\n  \"heads\": [[0, 0, 0]], \n  \"attrs\": {\"mxnet_version\": [\"int\", 10901]}\n}");
}

TEST(SymbolJSON, MXNetFilesRoundTripByteForByte) {
  for (const char* text : {kMXNetGroup, kMXNetConcat, kMXNetCNN}) {
    const Symbol s = Symbol::FromJSON(text);
    EXPECT_EQ(s.ToJSON(), text);
  }
  const Symbol g = Symbol::FromJSON(kMXNetGroup);
  EXPECT_EQ(g.ListArguments(), (Names{"data", "fc1_weight", "fc1_bias", "bn_gamma", "bn_beta"}));
  EXPECT_EQ(g.ListAuxiliaryStates(), (Names{"bn_moving_mean", "bn_moving_var"}));
  EXPECT_EQ(g.ListOutputs(), (Names{"bn_output", "sp_output1"}));
  EXPECT_EQ(g.GetInternals()["data"].Attr("__lr_mult__"), "2.0");
}

TEST(SymbolJSON, RoundTripKeepsNamesAttributesAuxAndHeads) {
  const Symbol data = Symbol::Variable("data", {.shape = Shape{4, 6}, .wd_mult = 0.0});
  const Symbol fc = Symbol::Create("FullyConnected", {data},
                                   {{"num_hidden", "5"}, {"__ctx_group__", "g1"}}, "fc");
  const Symbol bn = Symbol::Create("BatchNorm", {fc}, {{"output_mean_var", "True"}}, "bn");
  const Symbol sp = Symbol::Create("SliceChannel", {bn[0]}, {{"num_outputs", "5"}}, "sp");
  const Symbol tricky = Symbol::Variable("a \"quoted\"\\name\twith\nnewline, 名前");
  const Symbol net = Symbol::Group({sp[4], bn[2], sp[0] + tricky, data});
  const std::string json = net.ToJSON();
  const Symbol back = Symbol::FromJSON(json);
  EXPECT_EQ(back.ToJSON(), json);
  EXPECT_EQ(back.ListArguments(), net.ListArguments());
  EXPECT_EQ(back.ListAuxiliaryStates(), net.ListAuxiliaryStates());
  EXPECT_EQ(back.ListOutputs(), net.ListOutputs());
  EXPECT_EQ(back.AttrDict(), net.AttrDict());
  ASSERT_EQ(back.NumOutputs(), 4u);
  EXPECT_EQ(back[1].ListOutputs(), Names{"bn_var"});
  EXPECT_EQ(back.InferShape({}).out, net.InferShape({}).out);
  // In-place writes count versions, as MXNet does: BatchNorm's aux inputs are version 1.
  EXPECT_NE(json.find("[[3, 0, 0], [4, 0, 0], [5, 0, 0], [6, 0, 1], [7, 0, 1]]"), std::string::npos)
      << json;
}

TEST(SymbolJSON, SaveAndLoadFiles) {
  const Symbol net =
      Symbol::Create("Activation", {Symbol::Variable("x")}, {{"act_type", "tanh"}}, "t");
  const std::string path =
      (std::filesystem::path(testing::TempDir()) / "mixnet_sym_test-symbol.json").string();
  net.Save(path);
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes, net.ToJSON());
  EXPECT_EQ(Symbol::Load(path).ToJSON(), net.ToJSON());
  std::remove(path.c_str());
  EXPECT_ERROR(Symbol::Load(path), Error, "cannot open", path);
  const std::string bad = path + ".bad";
  std::ofstream(bad) << "{\"nodes\": [";
  EXPECT_ERROR(Symbol::Load(bad), ValueError, bad, "not valid JSON");
  std::remove(bad.c_str());
}

TEST(SymbolJSON, NodesInAnyTopologicalOrderAndOptionalFields) {
  // Variables first, inputs without versions, no node_row_ptr, extra graph attributes.
  const Symbol s = Symbol::FromJSON(R"({
    "nodes": [
      {"op": "null", "name": "data", "inputs": []},
      {"op": "null", "name": "fc1_weight", "inputs": []},
      {"op": "null", "name": "fc1_bias", "inputs": []},
      {"op": "null", "name": "fc2_weight", "inputs": []},
      {"op": "null", "name": "fc2_bias", "inputs": []},
      {"op": "FullyConnected", "name": "fc1", "attrs": {"num_hidden": "4"},
       "inputs": [[0, 0], [1, 0], [2, 0]]},
      {"op": "FullyConnected", "name": "fc2", "attrs": {"num_hidden": "2"},
       "inputs": [[5, 0], [3, 0], [4, 0]]}
    ],
    "arg_nodes": [0, 1, 2, 3, 4],
    "heads": [[6, 0]],
    "attrs": {"mxnet_version": ["int", 10600], "note": ["str", "ignored"]}
  })");
  EXPECT_EQ(s.ListArguments(), (Names{"data", "fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias"}));
  const Symbol built = Symbol::Create(
      "FullyConnected",
      {Symbol::Create("FullyConnected", {Symbol::Variable("data")}, {{"num_hidden", "4"}}, "fc1")},
      {{"num_hidden", "2"}}, "fc2");
  // Saved in depth-first order; created variables in `built` carry their op's attributes.
  const Symbol plain = Symbol::FromJSON(built.ToJSON());
  EXPECT_EQ(s.ListArguments(), plain.ListArguments());
  EXPECT_EQ(s.InferShape({{"data", Shape{3, 7}}}).arg,
            built.InferShape({{"data", Shape{3, 7}}}).arg);
}

TEST(SymbolJSON, ControlDependenciesRoundTrip) {
  const char* text = R"({
    "nodes": [
      {"op": "null", "name": "x", "inputs": []},
      {"op": "null", "name": "y", "inputs": []},
      {"op": "Activation", "name": "a", "attrs": {"act_type": "relu"}, "inputs": [[0, 0]],
       "control_deps": [1]}
    ],
    "arg_nodes": [0, 1],
    "heads": [[2, 0]]
  })";
  const Symbol s = Symbol::FromJSON(text);
  EXPECT_EQ(s.ListArguments(), (Names{"x", "y"}));
  const std::string json = s.ToJSON();
  EXPECT_NE(json.find("\"control_deps\": [1]"), std::string::npos) << json;
  EXPECT_EQ(Symbol::FromJSON(json).ToJSON(), json);
}

TEST(SymbolJSON, MXNet19FileComputesTheRightValues) {
  const Symbol net = Symbol::FromJSON(kMXNetCNN);
  EXPECT_EQ(net.ListArguments(), (Names{"data", "conv1_weight", "conv1_bias", "bn1_gamma",
                                        "bn1_beta", "fc_weight", "fc_bias"}));
  EXPECT_EQ(net.ListAuxiliaryStates(), (Names{"bn1_moving_mean", "bn1_moving_var"}));
  auto exec = exec::Executor::SimpleBind(net, Context::cpu(), {{"data", Shape{2, 2, 4, 4}}});
  FillInputs(*exec);
  exec->Forward(false);
  const auto args = exec->arg_dict();
  const auto aux = exec->aux_dict();
  using op::Invoke;
  const NDArray conv =
      Invoke("Convolution", {args.at("data"), args.at("conv1_weight"), args.at("conv1_bias")},
             {{"kernel", "(3, 3)"}, {"pad", "(1, 1)"}, {"num_filter", "3"}})[0];
  const NDArray bn = Invoke("BatchNorm",
                            {conv, args.at("bn1_gamma"), args.at("bn1_beta"),
                             aux.at("bn1_moving_mean"), aux.at("bn1_moving_var")},
                            {{"fix_gamma", "False"}, {"eps", "0.001"}})[0];
  const NDArray relu = Invoke("Activation", {bn}, {{"act_type", "relu"}})[0];
  const NDArray pool = Invoke(
      "Pooling", {relu}, {{"kernel", "(2, 2)"}, {"stride", "(2, 2)"}, {"pool_type", "max"}})[0];
  const NDArray flat = Invoke("Flatten", {pool}, {})[0];
  const NDArray fc = Invoke("FullyConnected", {flat, args.at("fc_weight"), args.at("fc_bias")},
                            {{"num_hidden", "2"}})[0];
  const NDArray prob = Invoke("softmax", {fc}, {})[0];
  ASSERT_EQ(exec->outputs().size(), 1u);
  ExpectClose(exec->outputs()[0], prob);
  // The rows are probabilities.
  const auto p = Values(exec->outputs()[0]);
  EXPECT_NEAR(p[0] + p[1], 1.0, 1e-6);
}

TEST(SymbolJSON, LegacyFileIsUpgradedAsMXNetDoes) {
  const Symbol net = Symbol::FromJSON(kLegacy08);
  EXPECT_EQ(net.ListArguments(), (Names{"data", "fc1_weight", "fc1_bias", "bn_gamma", "bn_beta"}));
  // Auxiliary states added as NODE_INPUT variables with the node's attributes and initializers.
  EXPECT_EQ(net.ListAuxiliaryStates(), (Names{"bn_moving_mean", "bn_moving_var"}));
  EXPECT_EQ(net.ListOutputs(), (Names{"relu1_output", "best_output"}));
  const auto dict = net.AttrDict();
  EXPECT_EQ(dict.at("bn_moving_mean").at("__init__"), R"(["zero", {}])");
  EXPECT_EQ(dict.at("bn_moving_var").at("__init__"), R"(["one", {}])");
  EXPECT_EQ(dict.at("bn_moving_var").at("eps"), "0.001");
  // Hidden keys get their underscores; fc1's weight_lr_mult moves to fc1_weight.
  EXPECT_EQ(dict.at("data").at("__ctx_group__"), "stage1");
  EXPECT_EQ(dict.at("fc1").at("__lr_mult__"), "2");
  EXPECT_EQ(dict.at("fc1").at("__wd_mult__"), "0");
  EXPECT_EQ(dict.at("fc1").count("weight_lr_mult"), 0u);
  EXPECT_EQ(dict.at("fc1_weight").at("__lr_mult__"), "0.5");
  EXPECT_EQ(dict.count("fc1_bias"), 0u);  // no attributes
  // argmax's old axis -1 (all axes) is dropped, so axis takes its default, None.
  EXPECT_EQ(net[1].Attr("axis"), std::nullopt);
  // Re-saved as a current file, which loads back unchanged. (MXNet's upgrade leaves the
  // version of the added aux inputs at 0; mixnet counts BatchNorm's writes as for any graph.)
  const std::string json = net.ToJSON();
  EXPECT_NE(json.find("\"mxnet_version\": [\"int\", 10901]"), std::string::npos);
  EXPECT_NE(json.find("[[3, 0, 0], [4, 0, 0], [5, 0, 0], [6, 0, 1], [7, 0, 1]]"), std::string::npos)
      << json;
  EXPECT_EQ(Symbol::FromJSON(json).ToJSON(), json);

  // No gradients: mixnet's argmax has none (MXNet's gives zeros).
  auto exec = exec::Executor::SimpleBind(net, Context::cpu(), {{"data", Shape{4, 5}}}, {},
                                         exec::GradReq::kNull);
  FillInputs(*exec);
  exec->Forward(false);
  const auto args = exec->arg_dict();
  const auto aux = exec->aux_dict();
  using op::Invoke;
  const NDArray fc =
      Invoke("FullyConnected", {args.at("data"), args.at("fc1_weight"), args.at("fc1_bias")},
             {{"num_hidden", "3"}})[0];
  const NDArray bn = Invoke("BatchNorm",
                            {fc, args.at("bn_gamma"), args.at("bn_beta"), aux.at("bn_moving_mean"),
                             aux.at("bn_moving_var")},
                            {{"fix_gamma", "False"}, {"eps", "0.001"}})[0];
  const NDArray relu = Invoke("Activation", {bn}, {{"act_type", "relu"}})[0];
  ASSERT_EQ(exec->outputs().size(), 2u);
  ExpectClose(exec->outputs()[0], relu);
  ExpectClose(exec->outputs()[1], Invoke("argmax", {relu}, {})[0]);
  // By hand for one element: relu((x.w + b - mean) / sqrt(var + eps) * gamma + beta).
  const auto x = Values(args.at("data")), w = Values(args.at("fc1_weight")),
             b = Values(args.at("fc1_bias"));
  const auto g = Values(args.at("bn_gamma")), beta = Values(args.at("bn_beta"));
  const auto mean = Values(aux.at("bn_moving_mean")), var = Values(aux.at("bn_moving_var"));
  const auto out = Values(exec->outputs()[0]);
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 3; ++c) {
      double dot = b[c];
      for (int k = 0; k < 5; ++k)
        dot += x[r * 5 + k] * w[c * 5 + k];
      const double y = (dot - mean[c]) / std::sqrt(var[c] + 1e-3) * g[c] + beta[c];
      EXPECT_NEAR(out[r * 3 + c], std::max(y, 0.0), 1e-5) << r << "," << c;
    }
  }
}

TEST(SymbolJSON, LegacyUpgradesApplyOnlyToOlderFiles) {
  // A 1.9.1 file keeps keys as written; a 1.9 file lacking inputs is an error, not an upgrade.
  const char* current = R"({
    "nodes": [{"op": "null", "name": "x", "attrs": {"lr_mult": "3"}, "inputs": []}],
    "arg_nodes": [0], "heads": [[0, 0, 0]], "attrs": {"mxnet_version": ["int", 10901]}})";
  EXPECT_EQ(Symbol::FromJSON(current).ListAttr().at("lr_mult"), "3");
  EXPECT_EQ(Symbol::FromJSON(current).Attr("__lr_mult__"), std::nullopt);
  const char* old_1_5 = R"({
    "nodes": [{"op": "null", "name": "x", "attrs": {"lr_mult": "3"}, "inputs": []}],
    "arg_nodes": [0], "heads": [[0, 0, 0]], "attrs": {"mxnet_version": ["int", 10500]}})";
  EXPECT_EQ(Symbol::FromJSON(old_1_5).Attr("__lr_mult__"), "3");
  const char* bn_missing_aux = R"({
    "nodes": [
      {"op": "null", "name": "x", "inputs": []},
      {"op": "null", "name": "g", "inputs": []},
      {"op": "null", "name": "b", "inputs": []},
      {"op": "BatchNorm", "name": "bn", "inputs": [[0, 0, 0], [1, 0, 0], [2, 0, 0]]}],
    "arg_nodes": [0, 1, 2], "heads": [[3, 0, 0]], "attrs": {"mxnet_version": ["int", 10901]}})";
  EXPECT_ERROR(Symbol::FromJSON(bn_missing_aux), ValueError, "node 3 ('bn')", "5 input",
               "moving_mean", "gives 3");
}

/*! \brief A one-op graph around `node`, for the error cases. */
std::string Graph(const std::string& node, const std::string& heads = "[[1, 0, 0]]") {
  return R"({"nodes": [{"op": "null", "name": "x", "inputs": []}, )" + node +
         R"(], "arg_nodes": [0], "heads": )" + heads +
         R"(, "attrs": {"mxnet_version": ["int", 10901]}})";
}

TEST(SymbolJSON, MalformedFilesRaiseValueErrorsNamingTheProblem) {
  const std::string relu =
      R"({"op": "Activation", "name": "act", "attrs": {"act_type": "relu"}, "inputs": [[0, 0, 0]]})";
  ASSERT_NO_THROW(Symbol::FromJSON(Graph(relu)));
  EXPECT_ERROR(Symbol::FromJSON("not json"), ValueError, "Symbol.FromJSON", "not valid JSON");
  EXPECT_ERROR(Symbol::FromJSON(""), ValueError, "not valid JSON");
  EXPECT_ERROR(Symbol::FromJSON("[1, 2]"), ValueError, "expected an object");
  EXPECT_ERROR(Symbol::FromJSON(R"({"nodes": [], "heads": []})"), ValueError, "'arg_nodes'");
  EXPECT_ERROR(Symbol::FromJSON(R"({"arg_nodes": [], "heads": []})"), ValueError, "'nodes'");
  EXPECT_ERROR(Symbol::FromJSON(R"({"nodes": [], "arg_nodes": []})"), ValueError, "'heads'");
  EXPECT_ERROR(Symbol::FromJSON(R"({"nodes": {}, "arg_nodes": [], "heads": []})"), ValueError,
               "'nodes' must be an array");
  // Node fields.
  EXPECT_ERROR(Symbol::FromJSON(Graph(R"({"name": "act", "inputs": []})")), ValueError,
               "node 1 ('act')", "'op'");
  EXPECT_ERROR(Symbol::FromJSON(Graph(R"({"op": "Activation", "inputs": []})")), ValueError,
               "node 1", "'name'");
  EXPECT_ERROR(Symbol::FromJSON(Graph(R"({"op": "Activation", "name": "act"})")), ValueError,
               "node 1 ('act')", "'inputs'");
  EXPECT_ERROR(Symbol::FromJSON(Graph("42")), ValueError, "node 1", "expected an object");
  EXPECT_ERROR(
      Symbol::FromJSON(Graph(
          R"({"op": "Activation", "name": "act", "attrs": {"act_type": 1}, "inputs": [[0, 0]]})")),
      ValueError, "node 1 ('act')", "act_type", "string");
  // Inputs.
  EXPECT_ERROR(
      Symbol::FromJSON(Graph(
          R"({"op": "Activation", "name": "act", "attrs": {"act_type": "relu"}, "inputs": [[7, 0, 0]]})")),
      ValueError, "node 1 ('act')", "input 0", "node 7 is out of range", "2 nodes");
  EXPECT_ERROR(
      Symbol::FromJSON(Graph(
          R"({"op": "Activation", "name": "act", "attrs": {"act_type": "relu"}, "inputs": [[1, 0, 0]]})")),
      ValueError, "node 1 ('act')", "node 1 is not an earlier node");
  EXPECT_ERROR(
      Symbol::FromJSON(Graph(
          R"({"op": "Activation", "name": "act", "attrs": {"act_type": "relu"}, "inputs": [[0, 1, 0]]})")),
      ValueError, "node 1 ('act')", "output 1 of node 0 ('x')", "1 output");
  EXPECT_ERROR(
      Symbol::FromJSON(Graph(
          R"({"op": "Activation", "name": "act", "attrs": {"act_type": "relu"}, "inputs": [[-1, 0]]})")),
      ValueError, "node 1 ('act')", "expected a node index");
  EXPECT_ERROR(
      Symbol::FromJSON(Graph(
          R"({"op": "Activation", "name": "act", "attrs": {"act_type": "relu"}, "inputs": [[0]]})")),
      ValueError, "node 1 ('act')", "[node_id, output_index");
  EXPECT_ERROR(
      Symbol::FromJSON(Graph(
          R"({"op": "Activation", "name": "act", "attrs": {"act_type": "relu"}, "inputs": []})")),
      ValueError, "node 1 ('act')", "takes 1 input", "gives 0");
  EXPECT_ERROR(Symbol::FromJSON(Graph(R"({"op": "null", "name": "v", "inputs": [[0, 0]]})")),
               ValueError, "node 1 ('v')", "variable");
  // Ops and their parameters.
  EXPECT_ERROR(
      Symbol::FromJSON(Graph(
          R"({"op": "Activaton", "name": "act", "attrs": {"act_type": "relu"}, "inputs": [[0, 0]]})")),
      ValueError, "node 1 ('act')", "unknown operator 'Activaton'", "Activation");
  EXPECT_ERROR(
      Symbol::FromJSON(Graph(
          R"({"op": "Activation", "name": "act", "attrs": {"act_type": "relux"}, "inputs": [[0, 0]]})")),
      ValueError, "node 1 ('act')", "act_type", "relux");
  EXPECT_ERROR(
      Symbol::FromJSON(Graph(
          R"({"op": "Activation", "name": "act", "attrs": {"act_type": "relu", "bogus": "1"}, "inputs": [[0, 0]]})")),
      ValueError, "node 1 ('act')", "bogus");
  EXPECT_ERROR(
      Symbol::FromJSON(Graph(R"({"op": "Activation", "name": "act", "inputs": [[0, 0]]})")),
      ValueError, "node 1 ('act')", "act_type");
  // Heads, arg_nodes and graph attributes.
  EXPECT_ERROR(Symbol::FromJSON(Graph(relu, "[[2, 0, 0]]")), ValueError, "heads[0]",
               "node 2 is out of range");
  EXPECT_ERROR(Symbol::FromJSON(Graph(relu, "[[1, 3, 0]]")), ValueError, "heads[0]",
               "output 3 of node 1 ('act')");
  EXPECT_ERROR(Symbol::FromJSON(Graph(relu, "[1]")), ValueError, "heads[0]");
  EXPECT_ERROR(Symbol::FromJSON(R"({"nodes": [{"op": "null", "name": "x", "inputs": []}],
                                    "arg_nodes": [3], "heads": [[0, 0]]})"),
               ValueError, "arg_nodes[0]", "out of range");
  EXPECT_ERROR(Symbol::FromJSON(R"({"nodes": [{"op": "null", "name": "x", "inputs": []}],
                                    "arg_nodes": [0], "heads": [[0, 0]],
                                    "attrs": {"mxnet_version": 10901}})"),
               ValueError, "mxnet_version");
  EXPECT_ERROR(
      Symbol::FromJSON(Graph(R"({"op": "Activation", "name": "act", "attrs": {"act_type": "relu"},
                                          "inputs": [[0, 0]], "subgraphs": [{}]})")),
      NotImplementedError, "node 1 ('act')", "subgraphs");
}

TEST(SymbolJSON, CorruptedFilesNeverCrash) {
  // Random edits of a real file either load or raise ValueError (NotImplementedError for
  // subgraphs): never another error, a crash or a hang.
  const std::string base = kMXNetCNN;
  const char* pieces[] = {"0", "1", "99", "-1",   "\"\"",  "[",        "]",
                          "{", "}", ",",  "null", "\"x\"", "[[0, 0]]", "3.5"};
  std::mt19937 rng(5);
  int loaded = 0;
  for (int it = 0; it < 2000; ++it) {
    std::string text = base;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k) {
      const size_t pos = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text.erase(pos, 1 + rng() % 8);
          break;
        case 1:
          text.insert(pos, pieces[rng() % std::size(pieces)]);
          break;
        default:
          text[pos] = " ,[]{}\"0a"[rng() % 9];
      }
    }
    try {
      const Symbol s = Symbol::FromJSON(text);
      s.ToJSON();
      s.ListOutputs();
      ++loaded;
    } catch (const ValueError&) {
    } catch (const NotImplementedError&) {
    }
  }
  EXPECT_GT(loaded, 0);  // some edits are harmless (inside names, whitespace)
  // Deep nesting is an error, not a stack overflow.
  EXPECT_ERROR(Symbol::FromJSON(std::string(100000, '[') + std::string(100000, ']')), ValueError,
               "expected an object");
}

}  // namespace
}  // namespace mixnet::sym

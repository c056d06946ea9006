// The Symbol API (mx.sym): composition, MXNet's naming, listing, attributes, structure and
// inference. Expected names and orders are MXNet 1.9.1's (checked against its Python API).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "mixnet/symbol/symbol.h"
#include "symbol/node.h"
#include "test_util.h"

namespace mixnet::sym {
namespace {

using Names = std::vector<std::string>;
using AttrMap = std::map<std::string, std::string>;

Symbol Var(const std::string& name) {
  return Symbol::Variable(name);
}

Symbol FC(const Symbol& x, int hidden, const std::string& name = "") {
  return Symbol::Create("FullyConnected", {x}, {{"num_hidden", std::to_string(hidden)}}, name);
}

TEST(Symbol, VariablesStoreMXNetHiddenAttributes) {
  VariableOptions o;
  o.shape = Shape{2, -1};
  o.dtype = DType::kFloat16;
  o.init = R"(["zero", {}])";
  o.lr_mult = 2;
  o.wd_mult = 0.5;
  o.attrs = {{"__foo__", "bar"}, {"ctx_group", "dev1"}};
  const Symbol v = Symbol::Variable("x", o);
  // MXNet's Python front end: str(shape) with unknown dims as 0, str(float), the dtype flag.
  const AttrMap want{{"__shape__", "(2, 0)"},      {"__dtype__", "2"},
                     {"__init__", o.init.value()}, {"__lr_mult__", "2.0"},
                     {"__wd_mult__", "0.5"},       {"__foo__", "bar"},
                     {"__ctx_group__", "dev1"},    {"lr_mult", "2.0"},
                     {"wd_mult", "0.5"},           {"ctx_group", "dev1"}};
  EXPECT_EQ(v.ListAttr(), want);  // hidden keys are listed without underscores too, as in MXNet
  EXPECT_EQ(v.Attr("lr_mult"), "2.0");
  EXPECT_EQ(v.Attr("__lr_mult__"), "2.0");
  EXPECT_EQ(v.Attr("missing"), std::nullopt);
  EXPECT_EQ(v.name(), "x");
  EXPECT_EQ(v.ListArguments(), Names{"x"});
  EXPECT_EQ(v.ListOutputs(), Names{"x"});
  EXPECT_EQ(Symbol::Variable("s", {.shape = Shape{5}}).Attr("__shape__"), "(5,)");
  EXPECT_ERROR(Symbol::Variable(""), ValueError, "name is empty");
}

TEST(Symbol, FloatAttributesArePrintedAsPythonDoes) {
  const auto lr = [](double v) {
    return *Symbol::Variable("v", {.lr_mult = v}).Attr("__lr_mult__");
  };
  EXPECT_EQ(lr(1), "1.0");
  EXPECT_EQ(lr(0.1), "0.1");
  EXPECT_EQ(lr(1e-5), "1e-05");
  EXPECT_EQ(lr(0.0001), "0.0001");
  EXPECT_EQ(lr(123456.5), "123456.5");
  EXPECT_EQ(lr(1e16), "1e+16");
  EXPECT_EQ(lr(1.5e22), "1.5e+22");
  EXPECT_EQ(lr(-2), "-2.0");
  EXPECT_EQ(lr(0), "0.0");
}

TEST(Symbol, CompositionCreatesMissingInputsWithMXNetNames) {
  const Symbol data = Var("data");
  const Symbol fc1 = FC(data, 10, "fc1");
  EXPECT_EQ(fc1.name(), "fc1");
  EXPECT_EQ(fc1.ListArguments(), (Names{"data", "fc1_weight", "fc1_bias"}));
  EXPECT_EQ(fc1.ListOutputs(), Names{"fc1_output"});
  // Created variables carry a copy of the op's attributes, as MXNet's compose does.
  EXPECT_EQ(fc1.GetInternals()["fc1_weight"].ListAttr(), (AttrMap{{"num_hidden", "10"}}));
  const Symbol no_bias =
      Symbol::Create("FullyConnected", {data}, {{"num_hidden", "3"}, {"no_bias", "True"}}, "nb");
  EXPECT_EQ(no_bias.ListArguments(), (Names{"data", "nb_weight"}));

  const Symbol bn = Symbol::Create("BatchNorm", {fc1}, {{"fix_gamma", "False"}}, "bn");
  EXPECT_EQ(bn.ListArguments(), (Names{"data", "fc1_weight", "fc1_bias", "bn_gamma", "bn_beta"}));
  EXPECT_EQ(bn.ListAuxiliaryStates(), (Names{"bn_moving_mean", "bn_moving_var"}));
  EXPECT_EQ(bn.ListInputs(), (Names{"data", "fc1_weight", "fc1_bias", "bn_gamma", "bn_beta",
                                    "bn_moving_mean", "bn_moving_var"}));
  EXPECT_EQ(bn.ListOutputs(), Names{"bn_output"});
  // BatchNorm's moving statistics get MXNet's initializers (FSetInputVarAttrOnCompose).
  const Symbol internals = bn.GetInternals();
  EXPECT_EQ(internals["bn_moving_mean"].Attr("__init__"), R"(["zero", {}])");
  EXPECT_EQ(internals["bn_moving_var"].Attr("__init__"), R"(["one", {}])");
  EXPECT_EQ(internals["bn_gamma"].Attr("__init__"), std::nullopt);
  // ... also on variables given by the user, unless they have one.
  const Symbol mm = Var("mm");
  const Symbol mv = Symbol::Variable("mv", {.init = R"(["constant", {"value": 2}])"});
  Symbol::CreateNamed("BatchNorm", {{"data", data}, {"moving_mean", mm}, {"moving_var", mv}});
  EXPECT_EQ(mm.Attr("__init__"), R"(["zero", {}])");
  EXPECT_EQ(mv.Attr("__init__"), R"(["constant", {"value": 2}])");
  const Symbol prelu = Symbol::Create("LeakyReLU", {data}, {{"act_type", "prelu"}}, "p");
  EXPECT_EQ(prelu.GetInternals()["p_gamma"].Attr("__init__"), R"(["Constant", {"value": 0.25}])");
}

TEST(Symbol, AutomaticNamesCountPerOpName) {
  NameScope fresh;  // counters start at 0 whatever ran before on this thread
  const Symbol data = Var("data");
  const Symbol a = FC(data, 4);
  const Symbol b = FC(a, 4);
  EXPECT_EQ(a.name(), "fullyconnected0");
  EXPECT_EQ(b.name(), "fullyconnected1");
  EXPECT_EQ(b.ListArguments(), (Names{"data", "fullyconnected0_weight", "fullyconnected0_bias",
                                      "fullyconnected1_weight", "fullyconnected1_bias"}));
  // The name called names the node: split is SliceChannel's alias.
  const Symbol sp = Symbol::Create("split", {data}, {{"num_outputs", "3"}});
  EXPECT_EQ(sp.ListOutputs(), (Names{"split0_output0", "split0_output1", "split0_output2"}));
  EXPECT_EQ(Symbol::Create("Activation", {data}, {{"act_type", "relu"}}).name(), "activation0");
  // Ops MXNet gives no output names are listed output0, output1... when MXNet counts more than
  // one output (sort keeps hidden indices).
  EXPECT_EQ(Symbol::Create("sort", {data}).ListOutputs(), Names{"sort0_output0"});
  EXPECT_EQ(Symbol::Create("topk", {data}).ListOutputs(), Names{"topk0_output"});
  EXPECT_EQ(Symbol::Create("topk", {data}, {{"ret_typ", "value"}}).ListOutputs(),
            Names{"topk1_output0"});
}

TEST(Symbol, NameScopePrefixesOpNamesNotVariables) {
  NameScope outer_fresh;
  const Symbol v = Var("v");
  {
    NameScope net("net_");
    const Symbol w = Var("w");
    EXPECT_EQ(w.name(), "w");  // MXNet's Prefix does not rename variables
    const Symbol act = Symbol::Create("Activation", {v}, {{"act_type", "relu"}}, "act");
    EXPECT_EQ(act.name(), "net_act");
    {
      NameScope inner("in_");  // replaces the prefix, with its own counters
      EXPECT_EQ(Symbol::Create("Activation", {act}, {{"act_type", "relu"}}).name(),
                "in_activation0");
    }
    EXPECT_EQ(Symbol::Create("Activation", {act}, {{"act_type", "relu"}}).name(),
              "net_activation0");
    const Symbol fc = FC(act, 2, "fc");
    EXPECT_EQ(fc.ListArguments(), (Names{"v", "net_fc_weight", "net_fc_bias"}));
  }
  EXPECT_EQ(Symbol::Create("Activation", {v}, {{"act_type", "relu"}}).name(), "activation0");
}

TEST(Symbol, AttrScopeAttributesNestAndGivenOnesWin) {
  Symbol q, fc;
  {
    AttrScope a(op::AttrDict{{"__a__", "1"}, {"ctx_group", "dev1"}});
    AttrScope b(op::AttrDict{{"__b__", "2"}});
    q = Var("q");
    fc = Symbol::Create("FullyConnected", {q}, {{"num_hidden", "3"}, {"ctx_group", "dev2"}}, "fc");
  }
  const Symbol after = Var("after");
  EXPECT_EQ(
      q.ListAttr(),
      (AttrMap{{"__a__", "1"}, {"__b__", "2"}, {"__ctx_group__", "dev1"}, {"ctx_group", "dev1"}}));
  EXPECT_EQ(fc.Attr("__ctx_group__"), "dev2");
  EXPECT_EQ(fc.Attr("__a__"), "1");
  EXPECT_EQ(fc.GetInternals()["fc_weight"].Attr("__ctx_group__"), "dev2");
  EXPECT_TRUE(after.ListAttr().empty());
  // MXNet refuses the old way of setting a variable attribute through the op.
  EXPECT_ERROR(
      Symbol::Create("FullyConnected", {q}, {{"num_hidden", "3"}, {"weight_lr_mult", "2"}}),
      ValueError, "weight_lr_mult", "lr_mult");
}

TEST(Symbol, GroupAndOutputIndexing) {
  const Symbol data = Var("data");
  const Symbol fc = FC(data, 4, "fc");
  const Symbol bn = Symbol::Create("BatchNorm", {fc}, {}, "bn");
  const Symbol g = Symbol::Group({fc, bn});
  EXPECT_EQ(g.NumOutputs(), 2u);
  EXPECT_EQ(g.ListOutputs(), (Names{"fc_output", "bn_output"}));
  EXPECT_EQ(g[1].name(), "bn");
  EXPECT_EQ(g["bn_output"].name(), "bn");
  EXPECT_EQ(g.ListArguments(), bn.ListArguments());
  EXPECT_ERROR(g[2], IndexError, "2", "2 output");
  EXPECT_ERROR(g["bn_outptu"], ValueError, "bn_outptu", "bn_output");
  EXPECT_ERROR(g.name(), ValueError, "2");
  const Symbol twice = Symbol::Group({fc, fc});
  EXPECT_ERROR(twice["fc_output"], ValueError, "several");

  const Symbol sp = Symbol::Create("SliceChannel", {data}, {{"num_outputs", "3"}}, "sp");
  EXPECT_EQ(sp[2].ListOutputs(), Names{"sp_output2"});
  EXPECT_EQ(sp["sp_output1"].outputs()[0].index, 1u);
  // A multi-output symbol is not one input.
  EXPECT_ERROR(FC(sp, 2), ValueError, "one output", "3 outputs");
}

TEST(Symbol, AttrDictAndSetAttr) {
  const Symbol data = Symbol::Variable("data", {.lr_mult = 0.5});
  Symbol fc = Symbol::Create("FullyConnected", {data},
                             {{"num_hidden", "3"}, {"__mirror_stage__", "1"}}, "fc");
  const auto dict = fc.AttrDict();
  EXPECT_EQ(dict.at("data"), (AttrMap{{"__lr_mult__", "0.5"}, {"lr_mult", "0.5"}}));
  EXPECT_EQ(dict.at("fc"),
            (AttrMap{{"num_hidden", "3"}, {"__mirror_stage__", "1"}, {"mirror_stage", "1"}}));
  EXPECT_EQ(dict.at("fc_bias"), dict.at("fc"));
  fc.SetAttr("ctx_group", "dev3");
  EXPECT_EQ(fc.Attr("__ctx_group__"), "dev3");
  // An op parameter can change only to a valid value; the node keeps the old one otherwise.
  fc.SetAttr("num_hidden", "5");
  EXPECT_EQ(fc.Attr("num_hidden"), "5");
  EXPECT_ERROR(fc.SetAttr("num_hidden", "five"), ValueError, "num_hidden");
  EXPECT_EQ(fc.Attr("num_hidden"), "5");
}

TEST(Symbol, InternalsChildrenAndCopy) {
  const Symbol data = Var("data");
  const Symbol fc1 = FC(data, 4, "fc1");
  const Symbol fc2 = FC(fc1, 4, "fc2");
  const Symbol bn = Symbol::Create("BatchNorm", {fc2}, {}, "bn");
  EXPECT_EQ(
      bn.GetInternals().ListOutputs(),
      (Names{"data", "fc1_weight", "fc1_bias", "fc1_output", "fc2_weight", "fc2_bias", "fc2_output",
             "bn_gamma", "bn_beta", "bn_moving_mean", "bn_moving_var", "bn_output"}));
  EXPECT_EQ(fc2.GetChildren().ListOutputs(), (Names{"fc1_output", "fc2_weight", "fc2_bias"}));
  EXPECT_EQ(data.GetChildren().NumOutputs(), 0u);
  // An internal output composes like any symbol.
  const Symbol head = FC(bn.GetInternals()["fc1_output"], 2, "head");
  EXPECT_EQ(head.ListArguments(),
            (Names{"data", "fc1_weight", "fc1_bias", "head_weight", "head_bias"}));

  Symbol copy = bn.Copy();
  EXPECT_EQ(copy.ToJSON(), bn.ToJSON());
  EXPECT_NE(copy.outputs()[0].node, bn.outputs()[0].node);
  copy.SetAttr("__tag__", "copy");  // the copy's nodes are its own
  EXPECT_EQ(bn.Attr("__tag__"), std::nullopt);
  // Shared inputs stay shared in the copy.
  const Symbol sum = fc1 + fc1;
  const Symbol sum_copy = sum.Copy();
  const auto& in = sum_copy.outputs()[0].node->inputs;
  EXPECT_EQ(in[0].node, in[1].node);
  EXPECT_EQ(sum_copy.ListArguments(), sum.ListArguments());
}

TEST(Symbol, InferShape) {
  const Symbol net = FC(Var("data"), 3, "fc1");
  const auto r = net.InferShape({{"data", Shape{2, 5}}});
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.arg, (std::vector<Shape>{Shape{2, 5}, Shape{3, 5}, Shape{3}}));
  EXPECT_EQ(r.out, (std::vector<Shape>{Shape{2, 3}}));
  EXPECT_TRUE(r.aux.empty());
  // Shapes also come from variables' __shape__ attributes.
  const Symbol with_attr = FC(Symbol::Variable("data", {.shape = Shape{4, 6}}), 2);
  EXPECT_EQ(with_attr.InferShape({}).out, (std::vector<Shape>{Shape{4, 2}}));
  // Conflicts name the node and both shapes.
  EXPECT_ERROR(net.InferShape({{"data", Shape{2, 5}}, {"fc1_weight", Shape{4, 5}}}), ValueError,
               "fc1", "(4, 5)", "(3, 5)");
  EXPECT_ERROR(net.InferShape({}), ValueError, "data");
  EXPECT_ERROR(net.InferShape({{"dta", Shape{2, 5}}}), ValueError, "dta", "data");

  const Symbol bn = Symbol::Create("BatchNorm", {Var("x")}, {}, "bn");
  const auto rb = bn.InferShape({{"x", Shape{2, 3, 4}}});
  EXPECT_EQ(rb.aux, (std::vector<Shape>{Shape{3}, Shape{3}}));
}

TEST(Symbol, InferShapePartial) {
  const Symbol a = FC(Var("a"), 3, "fa");
  const Symbol b = FC(Var("b"), 4, "fb");
  const Symbol g = Symbol::Group({a, b});
  const auto r = g.InferShapePartial({{"a", Shape{2, 5}}});
  EXPECT_FALSE(r.complete);
  ASSERT_EQ(r.arg.size(), 6u);
  EXPECT_EQ(r.arg[1], (Shape{3, 5}));
  EXPECT_FALSE(r.arg[3].is_known());  // b
  EXPECT_EQ(r.out[0], (Shape{2, 3}));
  EXPECT_FALSE(r.out[1].is_known());
  EXPECT_ERROR(g.InferShape({{"a", Shape{2, 5}}}), ValueError, "b", "fb_output");
}

TEST(Symbol, InferType) {
  const Symbol net = FC(Var("data"), 3, "fc1");
  const auto r = net.InferType({{"data", DType::kFloat64}});
  EXPECT_EQ(r.arg, (std::vector<DType>{DType::kFloat64, DType::kFloat64, DType::kFloat64}));
  EXPECT_EQ(r.out, (std::vector<DType>{DType::kFloat64}));
  // Nothing known: float32, as MXNet assumes; __dtype__ attributes count as known.
  EXPECT_EQ(net.InferType({}).out, (std::vector<DType>{DType::kFloat32}));
  const Symbol typed = FC(Symbol::Variable("x", {.dtype = DType::kFloat64}), 2);
  EXPECT_EQ(typed.InferType({}).out, (std::vector<DType>{DType::kFloat64}));
  EXPECT_ERROR(net.InferType({{"data", DType::kFloat64}, {"fc1_weight", DType::kFloat32}}), Error,
               "fc1");
}

TEST(Symbol, ArithmeticOperatorsUseMXNetsOpsAndNames) {
  NameScope fresh;
  const Symbol x = Var("x"), y = Var("y");
  struct Case {
    Symbol s;
    const char* op;
    const char* name;
    std::optional<std::string> scalar;
  };
  const Case cases[] = {
      {x + y, "elemwise_add", "_plus0", {}},
      {x - y, "elemwise_sub", "_minus0", {}},
      {x * y, "elemwise_mul", "_mul0", {}},
      {x / y, "elemwise_div", "_div0", {}},
      {x + 1, "_plus_scalar", "_plusscalar0", "1"},
      {x - 1, "_minus_scalar", "_minusscalar0", "1"},
      {x * 2.5, "_mul_scalar", "_mulscalar0", "2.5"},
      {x / 2, "_div_scalar", "_divscalar0", "2"},
      {1 + x, "_plus_scalar", "_plusscalar1", "1"},
      {1 - x, "_rminus_scalar", "_rminusscalar0", "1"},
      {2 * x, "_mul_scalar", "_mulscalar1", "2"},
      {2 / x, "_rdiv_scalar", "_rdivscalar0", "2"},
      {-x, "_mul_scalar", "_mulscalar2", "-1.0"},
      {Pow(x, y), "_power", "_power0", {}},
      {Pow(x, 2), "_power_scalar", "_powerscalar0", "2"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.s.name(), c.name);
    EXPECT_EQ(c.s.outputs()[0].node->op->name, c.op);
    EXPECT_EQ(c.s.Attr("scalar"), c.scalar);
  }
  const Symbol expr = (x + y) * 2 - x / y;
  EXPECT_EQ(expr.ListArguments(), (Names{"x", "y"}));
  EXPECT_EQ(expr.InferShape({{"x", Shape{3}}, {"y", Shape{3}}}).out,
            (std::vector<Shape>{Shape{3}}));
}

TEST(Symbol, CreateChecksOpsInputsAndParameters) {
  const Symbol x = Var("x");
  EXPECT_ERROR(Symbol::Create("FullyConnectd", {x}, {{"num_hidden", "2"}}), ValueError,
               "FullyConnectd", "FullyConnected");
  EXPECT_ERROR(Symbol::Create("FullyConnected", {x}, {{"num_hidden", "two"}}), Error, "num_hidden");
  EXPECT_ERROR(Symbol::Create("Activation", {x, x}, {{"act_type", "relu"}}), ValueError, "1 input",
               "got 2");
  EXPECT_ERROR(Symbol::CreateNamed("FullyConnected", {{"wieght", x}}, {{"num_hidden", "2"}}),
               ValueError, "wieght", "weight");
  // Ops with any number of inputs record how many (num_args), as MXNet does.
  const Symbol c = Symbol::Create("Concat", {x, Var("y"), Var("z")}, {}, "cat");
  EXPECT_EQ(c.Attr("num_args"), "3");
  EXPECT_EQ(c.ListArguments(), (Names{"x", "y", "z"}));
}

}  // namespace
}  // namespace mixnet::sym

// The graph passes (src/symbol/pass/): common subexpressions, mirroring, elementwise groups,
// bulk segments, gradients and memory planning on small hand-built graphs, then end to end
// through the executor.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "mixnet/executor/executor.h"
#include "mixnet/symbol/symbol.h"
#include "symbol/indexed_graph.h"
#include "symbol/node.h"
#include "symbol/pass/passes.h"
#include "test_util.h"

namespace mixnet {
namespace {

using sym::IndexedGraph;
using sym::Node;
using sym::NodeEntry;
using sym::Symbol;
namespace pass = sym::pass;

Symbol Var(const std::string& name) {
  return Symbol::Variable(name);
}
Symbol Op(const std::string& op, std::initializer_list<Symbol> in, const op::AttrDict& attrs = {},
          const std::string& name = "") {
  return Symbol::Create(op, in, attrs, name);
}
/*! \brief A chain of `n` unary `op`s on `x`, named NAME0, NAME1, ... */
Symbol Chain(Symbol x, int n, const std::string& op = "sin", const std::string& name = "s") {
  for (int i = 0; i < n; ++i)
    x = Op(op, {x}, {}, name + std::to_string(i));
  return x;
}

size_t CountOp(const IndexedGraph& g, const std::string& op) {
  size_t n = 0;
  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid)
    n += !g.node(nid).is_variable() && g.node(nid).op->name == op ? 1 : 0;
  return n;
}
uint32_t NodeNamed(const IndexedGraph& g, const std::string& name) {
  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid) {
    if (g.node(nid).name == name) return nid;
  }
  ADD_FAILURE() << "no node " << name;
  return 0;
}

/*! \brief Shapes and dtypes of every entry from the variables' shapes (float32). */
struct Inferred {
  std::vector<Shape> shapes;
  std::vector<int> dtypes;
};
Inferred Infer(const IndexedGraph& g, const std::map<std::string, Shape>& known) {
  Inferred r{std::vector<Shape>(g.num_entries()), std::vector<int>(g.num_entries(), -1)};
  for (uint32_t nid : g.input_nodes()) {
    auto it = known.find(g.node(nid).name);
    if (it != known.end()) r.shapes[g.entry_id(nid, 0)] = it->second;
    r.dtypes[g.entry_id(nid, 0)] = static_cast<int>(DType::kFloat32);
  }
  EXPECT_EQ(pass::InferShapes(g, &r.shapes), 0u);
  EXPECT_EQ(pass::InferTypes(g, &r.dtypes), 0u);
  return r;
}

// ---------------------------------------------------------------- common subexpressions

TEST(SymbolPassCSE, DuplicatesMerge) {
  Symbol x = Var("x");
  Symbol sum = Op("exp", {x}, {}, "e1") + Op("exp", {x}, {}, "e2");
  const auto out = pass::EliminateCommonSubexpressions(sum.outputs());
  IndexedGraph g(out);
  EXPECT_EQ(CountOp(g, "exp"), 1u);
  const Node& add = *out[0].node;
  EXPECT_EQ(add.inputs[0].node, add.inputs[1].node);
  // The symbol's own nodes are untouched.
  EXPECT_NE(sum.outputs()[0].node, out[0].node);
  EXPECT_NE(sum.outputs()[0].node->inputs[0].node, sum.outputs()[0].node->inputs[1].node);
  EXPECT_EQ(CountOp(IndexedGraph(sum.outputs()), "exp"), 2u);
}

TEST(SymbolPassCSE, ChainsMergeInOneCall) {
  Symbol x = Var("x");
  Symbol a = Op("tanh", {Op("sin", {Op("exp", {x})})});
  Symbol b = Op("tanh", {Op("sin", {Op("exp", {x})})});
  Symbol c = Op("cos", {x});  // untouched: shared with the input graph
  const auto out = pass::EliminateCommonSubexpressions(Symbol::Group({a * b, c}).outputs());
  IndexedGraph g(out);
  EXPECT_EQ(CountOp(g, "exp"), 1u);
  EXPECT_EQ(CountOp(g, "sin"), 1u);
  EXPECT_EQ(CountOp(g, "tanh"), 1u);
  EXPECT_EQ(g.num_nodes(), 6u);  // x, exp, sin, tanh, mul, cos
  EXPECT_EQ(out[1].node, c.outputs()[0].node);
  // The surviving exp is the first one, unchanged (its input did not change).
  EXPECT_EQ(&g.node(NodeNamed(g, a.outputs()[0].node->inputs[0].node->inputs[0].node->name)),
            a.outputs()[0].node->inputs[0].node->inputs[0].node.get());
}

TEST(SymbolPassCSE, UntouchedGraphKeepsItsNodes) {
  Symbol x = Var("x"), w = Var("w");
  Symbol net = Op("FullyConnected", {Op("relu", {x}), w}, {{"num_hidden", "4"}, {"no_bias", "1"}});
  net = Symbol::Group({net, Op("sigmoid", {x})});
  const auto out = pass::EliminateCommonSubexpressions(net.outputs());
  ASSERT_EQ(out.size(), 2u);
  IndexedGraph before(net.outputs()), after(out);
  ASSERT_EQ(before.num_nodes(), after.num_nodes());
  for (uint32_t nid = 0; nid < before.num_nodes(); ++nid)
    EXPECT_EQ(before[nid].node, after[nid].node);
}

TEST(SymbolPassCSE, RandomMutatingAndVariablesKeptApart) {
  Symbol x = Var("x");
  Symbol d = Op("Dropout", {x}, {{"p", "0.5"}})[0] + Op("Dropout", {x}, {{"p", "0.5"}})[0];
  EXPECT_EQ(CountOp(IndexedGraph(pass::EliminateCommonSubexpressions(d.outputs())), "Dropout"), 2u);
  // Two BatchNorms on the very same inputs both update the moving stats.
  Symbol gamma = Var("g"), beta = Var("b"), mean = Var("m"), var = Var("v");
  Symbol bn = Op("BatchNorm", {x, gamma, beta, mean, var}, {}, "bn1")[0] +
              Op("BatchNorm", {x, gamma, beta, mean, var}, {}, "bn2")[0];
  EXPECT_EQ(CountOp(IndexedGraph(pass::EliminateCommonSubexpressions(bn.outputs())), "BatchNorm"),
            2u);
  // Two variables of one name are two arguments.
  Symbol v = Op("exp", {Var("y")}) + Op("exp", {Var("y")});
  EXPECT_EQ(CountOp(IndexedGraph(pass::EliminateCommonSubexpressions(v.outputs())), "exp"), 2u);
}

TEST(SymbolPassCSE, AttributesDecide) {
  Symbol x = Var("x");
  Symbol diff =
      Op("_plus_scalar", {x}, {{"scalar", "1"}}) * Op("_plus_scalar", {x}, {{"scalar", "2"}});
  EXPECT_EQ(
      CountOp(IndexedGraph(pass::EliminateCommonSubexpressions(diff.outputs())), "_plus_scalar"),
      2u);
  // The same attributes in another order are the same computation.
  Symbol same = Op("_plus_scalar", {x}, {{"scalar", "1"}, {"is_int", "0"}}) *
                Op("_plus_scalar", {x}, {{"is_int", "0"}, {"scalar", "1"}});
  EXPECT_EQ(
      CountOp(IndexedGraph(pass::EliminateCommonSubexpressions(same.outputs())), "_plus_scalar"),
      1u);
  // A hidden attribute (a mirroring hint) keeps nodes apart too.
  Symbol h1 = Op("exp", {x}), h2 = Op("exp", {x});
  h2.SetAttr("__force_mirroring__", "True");
  EXPECT_EQ(CountOp(IndexedGraph(pass::EliminateCommonSubexpressions((h1 + h2).outputs())), "exp"),
            2u);
  // Different outputs of one node are different inputs.
  Symbol split = Op("SliceChannel", {x}, {{"num_outputs", "2"}});
  Symbol two = Op("exp", {split[0]}) + Op("exp", {split[1]});
  EXPECT_EQ(CountOp(IndexedGraph(pass::EliminateCommonSubexpressions(two.outputs())), "exp"), 2u);
}

TEST(SymbolPassCSE, ControlDepsAndOutputs) {
  Symbol x = Var("x");
  Symbol a = Op("exp", {x}), b = Op("exp", {x}), c = Op("cos", {x});
  // Outputs that merge become one entry.
  auto out = pass::EliminateCommonSubexpressions(Symbol::Group({a, b}).outputs());
  EXPECT_EQ(out[0].node, out[1].node);
  // A control dependency on different nodes keeps them apart.
  auto with_dep = std::make_shared<Node>(*b.outputs()[0].node);
  with_dep->control_deps.push_back(c.outputs()[0].node);
  std::vector<NodeEntry> heads = {a.outputs()[0], {with_dep, 0}};
  out = pass::EliminateCommonSubexpressions(heads);
  EXPECT_NE(out[0].node, out[1].node);
}

// ---------------------------------------------------------------- mirroring

/*! \brief Names of the mirrored op nodes of `s` (data shape `shape`). */
std::vector<std::string> Mirrored(const Symbol& s, const std::map<std::string, Shape>& shapes,
                                  bool auto_plan) {
  IndexedGraph g(s.outputs());
  const Inferred inf = Infer(g, shapes);
  const pass::MirrorFn fn = pass::PlanMirror(g, inf.shapes, inf.dtypes, auto_plan);
  std::vector<std::string> names;
  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid) {
    if (fn && fn(g.node(nid))) names.push_back(g.node(nid).name);
  }
  return names;
}

TEST(SymbolPassMirror, ForceAttribute) {
  Symbol x = Var("x");
  Symbol fc = Op("FullyConnected", {x}, {{"num_hidden", "8"}}, "fc");
  Symbol r = Op("relu", {fc}, {}, "r");
  Symbol d = Op("Dropout", {r}, {{"p", "0.5"}}, "d");
  Symbol s = Op("sin", {d[0]}, {}, "s");
  Symbol out = Op("cos", {s}, {}, "out");
  const std::map<std::string, Shape> shapes = {{"x", Shape{4, 5}}};
  EXPECT_TRUE(Mirrored(out, shapes, false).empty());  // nothing asked, no plan
  EXPECT_EQ(pass::PlanMirror(IndexedGraph(out.outputs()), {}, {}, false), nullptr);
  for (Symbol t : {fc, r, d[0], s})  // copies share the nodes
    t.SetAttr("__force_mirroring__", "True");
  // Forced everywhere, but FullyConnected is expensive and Dropout random.
  EXPECT_EQ(Mirrored(out, shapes, false), (std::vector<std::string>{"r", "s"}));
  s.SetAttr("__force_mirroring__", "0");
  EXPECT_EQ(Mirrored(out, shapes, false), (std::vector<std::string>{"r"}));
  EXPECT_EQ(Mirrored(out, shapes, true), (std::vector<std::string>{"r"}));  // False wins
  s.SetAttr("__force_mirroring__", "maybe");
  EXPECT_ERROR(Mirrored(out, shapes, false), ValueError, "'s'", "__force_mirroring__", "maybe");
}

TEST(SymbolPassMirror, AutoPlanCutsSqrtNStages) {
  for (int n : {4, 9, 16, 25, 30}) {
    SCOPED_TRACE("chain of " + std::to_string(n));
    Symbol out = Chain(Var("x"), n);
    const auto names = Mirrored(out, {{"x", Shape{8, 8}}}, true);
    // Kept: round(sqrt(n)) - 1 boundaries and the output; the rest recomputed.
    const int stages = static_cast<int>(std::lround(std::sqrt(n)));
    EXPECT_EQ(static_cast<int>(names.size()), n - stages);
    // Boundaries cut the chain into stages of about equal bytes (equal sizes here).
    std::vector<int> kept;
    for (int i = 0; i < n; ++i) {
      if (std::find(names.begin(), names.end(), "s" + std::to_string(i)) == names.end()) {
        kept.push_back(i);
      }
    }
    ASSERT_EQ(static_cast<int>(kept.size()), stages);
    int prev = -1;
    for (int k : kept) {
      EXPECT_NEAR(k - prev, static_cast<double>(n) / stages, 1.0);
      prev = k;
    }
  }
}

TEST(SymbolPassMirror, AutoPlanBalancesBytes) {
  // Four big nodes then twelve small ones (1/4 the size each): equal bytes put the first
  // boundary at the first big nodes, not at the 4th node of 16.
  Symbol big = Chain(Var("x"), 4, "sin", "big");
  Symbol small = Op("Reshape", {big}, {{"shape", "(4,4,4)"}}, "reshape");
  small = Op("slice_axis", {small}, {{"axis", "0"}, {"begin", "0"}, {"end", "1"}}, "slice");
  small = Chain(small, 10, "sin", "small");
  IndexedGraph g(small.outputs());
  const auto names = Mirrored(small, {{"x", Shape{8, 8}}}, true);
  // 16 op nodes: 4 stages. Bytes: 4 x 256, reshape 256, slice 64, 10 x 64: 1984 in all, a
  // stage 496: boundaries where the running sum reaches 496, 992, 1488: big1 (512), big3
  // (1024), small2 (1536 = 1344 + 3 x 64). Equal node counts would cut at big3, small1, small5.
  for (const char* kept : {"big1", "big3", "small2", "small9"})
    EXPECT_EQ(std::find(names.begin(), names.end(), kept), names.end()) << kept;
  EXPECT_EQ(names.size(), 12u);
}

TEST(SymbolPassMirror, MirrorStageAttributeChoosesBoundaries) {
  Symbol x = Var("x");
  Symbol a = Chain(x, 3, "sin", "a");
  a.SetAttr("__mirror_stage__", "True");
  Symbol b = Chain(a, 3, "sin", "b");
  b.SetAttr("__mirror_stage__", "True");
  Symbol out = Chain(b, 3, "sin", "c");
  const auto names = Mirrored(out, {{"x", Shape{2, 2}}}, true);
  EXPECT_EQ(names, (std::vector<std::string>{"a0", "a1", "b0", "b1", "c0", "c1"}));
}

TEST(SymbolPassMirror, AutoPlanNeverMirrorsExpensiveRandomOrMutating) {
  Symbol x = Var("x");
  Symbol h =
      Op("Convolution", {x}, {{"kernel", "(3,3)"}, {"num_filter", "4"}, {"pad", "(1,1)"}}, "conv");
  h = Op("BatchNorm", {h}, {}, "bn")[0];
  h = Op("relu", {h}, {}, "relu");
  h = Op("Dropout", {h}, {{"p", "0.2"}}, "drop")[0];
  h = Op("Deconvolution", {h}, {{"kernel", "(3,3)"}, {"num_filter", "4"}, {"pad", "(1,1)"}},
         "deconv");
  h = Op("Flatten", {h}, {}, "flat");
  h = Op("FullyConnected", {h}, {{"num_hidden", "6"}}, "fc");
  h = Op("tanh", {h}, {}, "tanh");
  h = Op("dot", {h, Var("w")}, {}, "dot");
  h = Op("sigmoid", {h}, {}, "sig");
  Symbol out =
      Op("batch_dot", {Op("Reshape", {h}, {{"shape", "(2,1,3)"}}, "r3"), Var("v")}, {}, "bdot");
  const auto names =
      Mirrored(out, {{"x", Shape{2, 3, 6, 6}}, {"w", Shape{6, 3}}, {"v", Shape{2, 3, 5}}}, true);
  for (const std::string& n : names) {
    // BatchNorm writes its moving stats, but its recomputed copy writes scratch ones.
    EXPECT_TRUE(n == "bn" || n == "relu" || n == "flat" || n == "tanh" || n == "sig" || n == "r3")
        << n;
  }
  EXPECT_FALSE(names.empty());
}

TEST(SymbolPassMirror, GradientReadsMirrorCopies) {
  Symbol x = Var("x");
  Symbol out = Chain(x, 4);
  IndexedGraph fg(out.outputs());
  const Node* s1 = &fg.node(NodeNamed(fg, "s1"));
  const Node* s2 = &fg.node(NodeNamed(fg, "s2"));
  pass::MirrorFn fn = [&](const Node& n) { return &n == s1 || &n == s2; };
  auto head = Var("head");
  std::vector<NodeEntry> xs = {x.outputs()[0]};
  const auto grads = pass::Gradient(out.outputs(), head.outputs(), xs, fn);
  IndexedGraph g(grads);
  // s3's gradient reads s2's copy, which reads s1's copy, which reads the kept s0.
  const uint32_t m2 = NodeNamed(g, "s2_mirror"), m1 = NodeNamed(g, "s1_mirror");
  EXPECT_EQ(g[m2].inputs[0].node_id, m1);
  EXPECT_EQ(g.node(g[m1].inputs[0].node_id).name, "s0");
  // The copies replace the forward nodes: the backward graph reads no forward s1 or s2.
  EXPECT_FALSE(g.has_node(s1));
  EXPECT_FALSE(g.has_node(s2));
  EXPECT_EQ(g.num_nodes(),
            IndexedGraph(pass::Gradient(out.outputs(), head.outputs(), xs)).num_nodes());
}

// ---------------------------------------------------------------- elementwise groups

std::vector<std::vector<std::string>> Groups(const Symbol& s,
                                             const std::map<std::string, Shape>& shapes,
                                             const std::vector<std::string>& keep_nodes = {}) {
  IndexedGraph g(s.outputs());
  const Inferred inf = Infer(g, shapes);
  std::vector<bool> keep(g.num_entries(), false);
  for (const auto& n : keep_nodes)
    keep[g.entry_id(NodeNamed(g, n), 0)] = true;
  std::vector<std::vector<std::string>> out;
  for (const auto& grp : pass::FindElemwiseGroups(g, inf.shapes, inf.dtypes, keep)) {
    EXPECT_TRUE(std::is_sorted(grp.begin(), grp.end()));
    out.emplace_back();
    for (uint32_t nid : grp)
      out.back().push_back(g.node(nid).name);
  }
  return out;
}
using Names = std::vector<std::vector<std::string>>;

TEST(SymbolPassFuse, ChainIsOneGroup) {
  Symbol x = Var("x");
  Symbol out =
      Op("relu", {Op("_mul_scalar", {Op("exp", {x}, {}, "e")}, {{"scalar", "2"}}, "m")}, {}, "r");
  out = Op("Activation", {out}, {{"act_type", "tanh"}}, "act");
  EXPECT_EQ(Groups(out, {{"x", Shape{3, 4}}}), (Names{{"e", "m", "r", "act"}}));
  // A lone elementwise node is no group.
  EXPECT_EQ(Groups(Op("exp", {x}), {{"x", Shape{3, 4}}}), Names{});
}

TEST(SymbolPassFuse, BranchesJoinWhenAllReadersAreInside) {
  Symbol x = Var("x"), y = Var("y");
  Symbol a = Op("exp", {x}, {}, "a");
  Symbol d = Op("elemwise_add", {Op("sin", {a}, {}, "b"), Op("cos", {a}, {}, "c")}, {}, "d");
  d = Op("elemwise_mul", {d, y}, {}, "e");  // y: an outside input, read by anyone
  EXPECT_EQ(Groups(d, {{"x", Shape{5}}, {"y", Shape{5}}}), (Names{{"a", "b", "c", "d", "e"}}));
}

TEST(SymbolPassFuse, EntriesReadOutsideOrKeptEndGroups) {
  Symbol x = Var("x");
  Symbol a = Op("exp", {x}, {}, "a");
  Symbol b = Op("sin", {a}, {}, "b");
  Symbol c = Op("cos", {b}, {}, "c");
  Symbol fc = Op("FullyConnected", {a}, {{"num_hidden", "4"}}, "fc");  // reads a outside
  const std::map<std::string, Shape> shapes = {{"x", Shape{2, 4}}};
  EXPECT_EQ(Groups(Symbol::Group({c, fc}), shapes), (Names{{"b", "c"}}));
  Symbol d = Op("tanh", {c}, {}, "d");
  // b kept (say the backward pass reads it): a group ends at b and another starts after it.
  EXPECT_EQ(Groups(d, shapes, {"b"}), (Names{{"a", "b"}, {"c", "d"}}));
  // A graph output inside the chain is kept as well.
  EXPECT_EQ(Groups(Symbol::Group({d, b}), shapes), (Names{{"a", "b"}, {"c", "d"}}));
  // Two readers in two different groups: a stays out of both.
  Symbol p = Op("tanh", {Op("sin", {a}, {}, "p1")}, {}, "p2");
  Symbol q = Op("tanh", {Op("cos", {a}, {}, "q1")}, {}, "q2");
  Symbol both = Symbol::Group(
      {Op("Reshape", {p}, {{"shape", "(8,)"}}), Op("Reshape", {q}, {{"shape", "(8,)"}})});
  EXPECT_EQ(Groups(both, shapes), (Names{{"p1", "p2"}, {"q1", "q2"}}));
}

TEST(SymbolPassFuse, MembersAreConsecutiveOpNodes) {
  // e = exp(x) is read only by the final add, but FullyConnected runs between them: fused,
  // x's and e's lifetimes would stretch to the add; so e stays out of the add's group.
  Symbol x = Var("x");
  Symbol e = Op("exp", {x}, {}, "e");
  Symbol fc = Op("FullyConnected", {x}, {{"num_hidden", "4"}, {"no_bias", "True"}}, "fc");
  Symbol out = Op("elemwise_add", {e, Op("sin", {fc}, {}, "s")}, {}, "add");
  // Depth-first order: x, e, fc, s, add: s and add are adjacent, e is not.
  const auto groups = Groups(out, {{"x", Shape{4, 4}}});
  for (const auto& grp : groups) {
    EXPECT_TRUE(std::find(grp.begin(), grp.end(), "e") == grp.end() ||
                std::find(grp.begin(), grp.end(), "add") == grp.end())
        << "e and add are not consecutive";
  }
  EXPECT_EQ(groups, (Names{{"s", "add"}}));
}

TEST(SymbolPassSchedule, BackwardFreesGradientsEarly) {
  // y = sum_i w * x_i: w's gradient has 12 contributions, summed by a chain of adds. The
  // schedule runs each add as soon as its contribution exists.
  Symbol w = Var("w");
  std::vector<Symbol> terms;
  for (int i = 0; i < 12; ++i)
    terms.push_back(
        Op("elemwise_mul", {w, Var("x" + std::to_string(i))}, {}, "m" + std::to_string(i)));
  Symbol y = terms[0];
  for (size_t i = 1; i < terms.size(); ++i)
    y = Op("elemwise_add", {y, terms[i]}, {}, "a" + std::to_string(i));
  IndexedGraph fg(y.outputs());
  auto head = Var("head");
  const NodeEntry wx{w.outputs()[0].node, 0};
  const auto grads =
      pass::Gradient(y.outputs(), head.outputs(), std::span<const NodeEntry>(&wx, 1));
  std::vector<NodeEntry> all = y.outputs();
  all.push_back(grads[0]);
  IndexedGraph g(all);
  std::vector<size_t> bytes(g.num_entries(), 64);
  const auto order = pass::ScheduleForMemory(g, static_cast<uint32_t>(fg.num_nodes()), bytes);
  ASSERT_EQ(order.size(), g.num_nodes());
  IndexedGraph s(all, order);
  // Forward nodes keep their ids; every node comes after its inputs.
  for (uint32_t nid = 0; nid < fg.num_nodes(); ++nid)
    EXPECT_EQ(&s.node(nid), &g.node(nid));
  for (uint32_t nid = 0; nid < s.num_nodes(); ++nid) {
    for (const auto& e : s[nid].inputs)
      EXPECT_LT(e.node_id, nid);
  }
  // Most gradient contributions (the products' gradients w.r.t. w) alive at once: with the
  // schedule a sum follows each new contribution, so at most 2 are alive.
  std::vector<uint32_t> refs = s.EntryRefCounts();
  size_t live = 0, most = 0;
  for (uint32_t nid = static_cast<uint32_t>(fg.num_nodes()); nid < s.num_nodes(); ++nid) {
    if (s.node(nid).is_variable()) continue;
    live += s.num_outputs(nid);
    most = std::max(most, live);
    for (const auto& e : s[nid].inputs) {
      if (e.node_id >= fg.num_nodes() && --refs[s.entry_id(e)] == 0) --live;
    }
  }
  EXPECT_LE(most, 4u);
}

TEST(SymbolPassFuse, ShapeChangesBreakGroups) {
  Symbol x = Var("x");
  Symbol a = Op("sin", {Op("exp", {x}, {}, "e")}, {}, "s");
  Symbol r = Op("Reshape", {a}, {{"shape", "(4,3)"}}, "reshape");
  Symbol out = Op("tanh", {Op("cos", {r}, {}, "c")}, {}, "t");
  EXPECT_EQ(Groups(out, {{"x", Shape{3, 4}}}), (Names{{"e", "s"}, {"c", "t"}}));
  // Broadcasting is not elementwise; a same-shape op on a differently shaped input is no member.
  Symbol y = Var("y");
  Symbol b = Op("exp", {Op("broadcast_add", {Op("sin", {x}, {}, "s1"), y}, {}, "badd")}, {}, "e2");
  EXPECT_EQ(Groups(Op("cos", {b}, {}, "c2"), {{"x", Shape{3, 4}}, {"y", Shape{1, 4}}}),
            (Names{{"e2", "c2"}}));
}

// ---------------------------------------------------------------- bulk segments

TEST(SymbolPassBulk, RunsOfAtMostMaxNodes) {
  Symbol x = Var("x");
  Symbol out = Op("elemwise_add", {Chain(x, 6), Var("y")}, {}, "add");  // 7 ops, 2 variables
  IndexedGraph g(out.outputs());
  auto names = [&](const std::vector<std::vector<uint32_t>>& segs) {
    std::vector<std::vector<std::string>> n;
    for (const auto& s : segs) {
      n.emplace_back();
      for (uint32_t nid : s)
        n.back().push_back(g.node(nid).name);
    }
    return n;
  };
  const uint32_t all = static_cast<uint32_t>(g.num_nodes());
  EXPECT_EQ(names(pass::BulkSegments(g, 0, all, 3, nullptr)),
            (Names{{"s0", "s1", "s2"}, {"s3", "s4", "s5"}, {"add"}}));
  EXPECT_EQ(pass::BulkSegments(g, 0, all, 1, nullptr).size(), 7u);
  EXPECT_EQ(pass::BulkSegments(g, 0, all, 0, nullptr).size(), 7u);
  EXPECT_EQ(names(pass::BulkSegments(g, 0, all, 100, nullptr)),
            (Names{{"s0", "s1", "s2", "s3", "s4", "s5", "add"}}));
  const uint32_t s2 = NodeNamed(g, "s2");
  EXPECT_EQ(names(pass::BulkSegments(g, 0, all, 3, [&](uint32_t nid) { return nid == s2; })),
            (Names{{"s0", "s1"}, {"s2"}, {"s3", "s4", "s5"}, {"add"}}));
  EXPECT_EQ(names(pass::BulkSegments(g, NodeNamed(g, "s4"), all, 4, nullptr)),
            (Names{{"s4", "s5", "add"}}));
  EXPECT_TRUE(pass::BulkSegments(g, 0, 1, 4, nullptr).empty());  // x alone
}

// ---------------------------------------------------------------- gradient

TEST(SymbolPassGradient, SummedUsesAndUnreachableInputs) {
  Symbol x = Var("x"), w = Var("w"), head = Var("head");
  Symbol y = Op("elemwise_mul", {Op("exp", {x}, {}, "e"), Op("sin", {x}, {}, "s")}, {}, "y");
  std::vector<NodeEntry> xs = {x.outputs()[0], w.outputs()[0]};
  const auto grads = pass::Gradient(y.outputs(), head.outputs(), xs);
  ASSERT_EQ(grads.size(), 2u);
  // x feeds two nodes: its gradient is the add_n of both contributions.
  const Node& gx = *grads[0].node;
  EXPECT_EQ(gx.op->name, "add_n");
  EXPECT_EQ(gx.inputs.size(), 2u);
  EXPECT_EQ(*gx.FindAttr("num_args"), "2");
  // w is not used: zeros shaped like it.
  const Node& gw = *grads[1].node;
  EXPECT_EQ(gw.op->name, "zeros_like");
  EXPECT_EQ(gw.inputs[0].node, w.outputs()[0].node);
  // Backward nodes are named after the forward node they serve.
  IndexedGraph g(grads);
  bool named = false;
  for (uint32_t nid = 0; nid < g.num_nodes(); ++nid)
    named = named || g.node(nid).name.starts_with("y_backward");
  EXPECT_TRUE(named);
  // Nothing flows to x through a variable that does not depend on it.
  const auto none =
      pass::Gradient(w.outputs(), head.outputs(), std::vector<NodeEntry>{x.outputs()[0]});
  EXPECT_EQ(none[0].node->op->name, "zeros_like");
}

// ---------------------------------------------------------------- memory planning

pass::MemoryPlan Plan(const IndexedGraph& g, const Inferred& inf, bool share, bool inplace) {
  pass::MemoryPlanRequest r;
  r.graph = &g;
  r.shapes = &inf.shapes;
  r.dtypes = &inf.dtypes;
  r.skip.assign(g.num_entries(), false);
  r.keep.assign(g.num_entries(), false);
  for (uint32_t nid : g.input_nodes())
    r.skip[g.entry_id(nid, 0)] = true;
  for (const auto& e : g.outputs())
    r.keep[g.entry_id(e)] = true;
  r.share = share;
  r.inplace = inplace;
  return pass::PlanMemory(r);
}

TEST(SymbolPassMemory, HandComputedChain) {
  // x (4x4 float32: 64 bytes) -> exp -> sin -> cos.
  Symbol out = Op("cos", {Op("sin", {Op("exp", {Var("x")}, {}, "e")}, {}, "s")}, {}, "c");
  IndexedGraph g(out.outputs());
  const Inferred inf = Infer(g, {{"x", Shape{4, 4}}});
  auto sid = [&](const pass::MemoryPlan& p, const char* n) {
    return p.storage_id[g.entry_id(NodeNamed(g, n), 0)];
  };
  // In place: each op overwrites its dying input; x is bound outside and never taken.
  auto p = Plan(g, inf, true, true);
  EXPECT_EQ(p.unplanned_bytes, 192u);
  EXPECT_EQ(p.planned_bytes, 64u);
  EXPECT_EQ(p.inplace_entries, 2u);
  EXPECT_EQ(p.storage_id[g.entry_id(NodeNamed(g, "x"), 0)], -1);
  EXPECT_EQ(sid(p, "e"), sid(p, "c"));
  EXPECT_TRUE(p.inplace[g.entry_id(NodeNamed(g, "c"), 0)]);
  // Sharing only: sin's output cannot take exp's buffer (exp is read while sin writes), cos's
  // can (exp died at sin).
  p = Plan(g, inf, true, false);
  EXPECT_EQ(p.planned_bytes, 128u);
  EXPECT_EQ(p.shared_entries, 1u);
  EXPECT_EQ(sid(p, "e"), sid(p, "c"));
  EXPECT_NE(sid(p, "e"), sid(p, "s"));
  p = Plan(g, inf, false, false);
  EXPECT_EQ(p.planned_bytes, 192u);
  EXPECT_EQ(p.storage_bytes.size(), 3u);
}

TEST(SymbolPassMemory, DiamondAndKeptOutputs) {
  // a = exp(x) read twice; b = sin(a), c = cos(a), d = b + c.
  Symbol x = Var("x");
  Symbol a = Op("exp", {x}, {}, "a");
  Symbol d = Op("elemwise_add", {Op("sin", {a}, {}, "b"), Op("cos", {a}, {}, "c")}, {}, "d");
  {
    IndexedGraph g(d.outputs());
    const Inferred inf = Infer(g, {{"x", Shape{16}}});
    const auto p = Plan(g, inf, true, true);
    // a: buffer 0; b: a still read by c, new buffer 1; c: a dies, in place in 0; d: b dies, in
    // place in 1.
    EXPECT_EQ(p.unplanned_bytes, 256u);
    EXPECT_EQ(p.planned_bytes, 128u);
    EXPECT_EQ(p.inplace_entries, 2u);
    EXPECT_LT(p.planned_bytes, p.unplanned_bytes);
  }
  // a also a graph output: kept, so nothing ever takes its buffer.
  Symbol both = Symbol::Group({d, a});
  IndexedGraph g(both.outputs());
  const Inferred inf = Infer(g, {{"x", Shape{16}}});
  const auto p = Plan(g, inf, true, true);
  const int a_sid = p.storage_id[g.entry_id(NodeNamed(g, "a"), 0)];
  for (uint32_t e = 0; e < g.num_entries(); ++e) {
    if (e != g.entry_id(NodeNamed(g, "a"), 0)) EXPECT_NE(p.storage_id[e], a_sid);
  }
  EXPECT_EQ(p.planned_bytes, 192u);
}

TEST(SymbolPassMemory, SharesAcrossNonOverlappingLifetimes) {
  // A long chain without in-place: two buffers ping-pong however long it is.
  Symbol out = Chain(Var("x"), 10);
  IndexedGraph g(out.outputs());
  const Inferred inf = Infer(g, {{"x", Shape{8}}});
  const auto p = Plan(g, inf, true, false);
  EXPECT_EQ(p.storage_bytes.size(), 2u);
  EXPECT_EQ(p.shared_entries, 8u);
  EXPECT_EQ(p.planned_bytes, 64u);
  EXPECT_EQ(p.unplanned_bytes, 320u);
}

// ---------------------------------------------------------------- end to end

std::vector<float> Values(const NDArray& a) {
  return a.ToVector<float>();
}
void Fill(const NDArray& a, uint64_t seed, double lo = -1, double hi = 1) {
  const auto v = testing_util::Random(static_cast<size_t>(a.shape().Size()), seed, lo, hi);
  NDArray::FromVector(std::vector<float>(v.begin(), v.end()), a.shape()).CopyTo(a);
}

struct RunResult {
  std::vector<std::vector<float>> outputs, grads, aux;
  exec::MemoryReport report;
};
/*! \brief Binds `net`, fills every argument from fixed seeds, runs forward(train) + backward. */
RunResult BindAndRun(const Symbol& net, const std::unordered_map<std::string, Shape>& shapes,
                     const exec::ExecutorOptions& options, bool backward = true) {
  auto ex = exec::Executor::SimpleBind(net, Context::cpu(), shapes, {},
                                       backward ? exec::GradReq::kWrite : exec::GradReq::kNull, {},
                                       nullptr, options);
  uint64_t seed = 1;
  for (const auto& [name, arr] : ex->arg_dict()) {
    if (name.find("label") != std::string::npos) {
      Fill(arr, seed++, 0, 3.99);
      auto v = Values(arr);
      for (float& f : v)
        f = std::floor(f);
      NDArray::FromVector(v, arr.shape()).CopyTo(arr);
    } else {
      Fill(arr, seed++);
    }
  }
  for (const auto& [name, arr] : ex->aux_dict())
    Fill(arr, seed++, 0.5, 1.5);
  ex->Forward(backward);
  if (backward) ex->Backward();
  RunResult r;
  for (const NDArray& o : ex->outputs())
    r.outputs.push_back(Values(o));
  for (const NDArray& gr : ex->grad_arrays()) {
    if (!gr.is_none()) r.grads.push_back(Values(gr));
  }
  for (const NDArray& a : ex->aux_arrays())
    r.aux.push_back(Values(a));  // BatchNorm's moving stats, updated once per training pass
  r.report = ex->memory_report();
  return r;
}
void ExpectSame(const RunResult& a, const RunResult& b) {
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    ASSERT_EQ(a.outputs[i].size(), b.outputs[i].size());
    for (size_t j = 0; j < a.outputs[i].size(); ++j)
      ASSERT_FLOAT_EQ(a.outputs[i][j], b.outputs[i][j]) << "output " << i << " element " << j;
  }
  for (auto [x, y, what] : {std::tuple{&a.grads, &b.grads, "gradient"},
                            std::tuple{&a.aux, &b.aux, "auxiliary state"}}) {
    ASSERT_EQ(x->size(), y->size());
    for (size_t i = 0; i < x->size(); ++i) {
      ASSERT_EQ((*x)[i].size(), (*y)[i].size());
      for (size_t j = 0; j < (*x)[i].size(); ++j)
        ASSERT_NEAR((*x)[i][j], (*y)[i][j], 1e-6 + 1e-5 * std::abs((*x)[i][j]))
            << what << " " << i << " element " << j;
    }
  }
}
exec::ExecutorOptions Options(bool mirror, bool cse = true) {
  exec::ExecutorOptions o;
  o.mirror = mirror;
  o.cse = cse;
  o.plan_memory = true;
  o.inplace = true;
  return o;
}

Symbol Mlp(bool force_mirror) {
  Symbol h = Var("data");
  for (int i = 0; i < 3; ++i) {
    h = Op("FullyConnected", {h}, {{"num_hidden", "16"}}, "fc" + std::to_string(i));
    h = Op("Activation", {h}, {{"act_type", i % 2 ? "tanh" : "relu"}}, "act" + std::to_string(i));
    if (force_mirror) h.SetAttr("__force_mirroring__", "True");
    h = Op("_mul_scalar", {h}, {{"scalar", "1.5"}}, "scale" + std::to_string(i));
  }
  h = Op("FullyConnected", {h}, {{"num_hidden", "4"}}, "out");
  return Op("SoftmaxOutput", {h, Var("softmax_label")}, {}, "softmax");
}

/*! \brief `net(force)` trained without mirroring, with the automatic plan, and with the nodes
 * `net(true)` marks forced (of which `forced` may be mirrored): same outputs and gradients. */
void ExpectMirroringKeepsResults(Symbol (*net)(bool),
                                 const std::unordered_map<std::string, Shape>& shapes,
                                 size_t forced) {
  const RunResult base = BindAndRun(net(false), shapes, Options(false));
  EXPECT_EQ(base.report.mirrored_nodes, 0u);
  const RunResult autop = BindAndRun(net(false), shapes, Options(true));
  EXPECT_GT(autop.report.mirrored_nodes, 0u);
  ExpectSame(base, autop);
  const RunResult forced_run = BindAndRun(net(true), shapes, Options(false));
  EXPECT_EQ(forced_run.report.mirrored_nodes, forced);
  ExpectSame(base, forced_run);
}

TEST(SymbolPassEndToEnd, MlpMirroringKeepsResults) {
  ExpectMirroringKeepsResults(Mlp, {{"data", Shape{8, 10}}, {"softmax_label", Shape{8}}}, 3);
}

Symbol ConvNet(bool force_mirror) {
  Symbol h = Var("data");
  h = Op("Convolution", {h}, {{"kernel", "(3,3)"}, {"num_filter", "4"}, {"pad", "(1,1)"}}, "conv0");
  h = Op("BatchNorm", {h}, {}, "bn0")[0];
  // Recomputed from conv0's output; the copy's moving stats are scratch (updated once).
  if (force_mirror) h.SetAttr("__force_mirroring__", "True");
  h = Op("Activation", {h}, {{"act_type", "relu"}}, "relu0");
  if (force_mirror) h.SetAttr("__force_mirroring__", "True");
  h = Op("Pooling", {h}, {{"kernel", "(2,2)"}, {"stride", "(2,2)"}, {"pool_type", "max"}}, "pool0");
  h = Op("Convolution", {h}, {{"kernel", "(3,3)"}, {"num_filter", "4"}, {"pad", "(1,1)"}}, "conv1");
  h = Op("Activation", {h}, {{"act_type", "sigmoid"}}, "sig1");
  if (force_mirror) h.SetAttr("__force_mirroring__", "True");
  h = Op("Flatten", {h}, {}, "flat");
  h = Op("FullyConnected", {h}, {{"num_hidden", "4"}}, "fc");
  return Op("SoftmaxOutput", {h, Var("softmax_label")}, {}, "softmax");
}

TEST(SymbolPassEndToEnd, ConvNetMirroringKeepsResults) {
  ExpectMirroringKeepsResults(ConvNet, {{"data", Shape{2, 3, 8, 8}}, {"softmax_label", Shape{2}}},
                              3);
}

/*! \brief Residual blocks h + sin(tanh(h)) * 0.5: stage boundaries do not cut every path. */
Symbol Residual(bool force_mirror) {
  Symbol h = Var("data");
  for (int i = 0; i < 8; ++i) {
    Symbol t = Op("tanh", {h}, {}, "t" + std::to_string(i));
    if (force_mirror && i % 2) t.SetAttr("__force_mirroring__", "True");
    h = h + Op("_mul_scalar", {Op("sin", {t})}, {{"scalar", "0.5"}});
  }
  return h;
}

TEST(SymbolPassEndToEnd, ResidualMirroringKeepsResults) {
  ExpectMirroringKeepsResults(Residual, {{"data", Shape{4, 6}}}, 4);
}

TEST(SymbolPassEndToEnd, MirroringLowersMemoryOnADeepChain) {
  // 36 cheap ops whose gradients read their inputs: without mirroring every one is kept for
  // the backward pass; with it about sqrt(36) boundaries plus one stage.
  Symbol h = Var("data");
  for (int i = 0; i < 36; ++i)
    h = Op(i % 2 ? "sin" : "tanh", {h}, {}, "n" + std::to_string(i));
  const std::unordered_map<std::string, Shape> shapes = {{"data", Shape{32, 64}}};
  const RunResult base = BindAndRun(h, shapes, Options(false));
  const RunResult autop = BindAndRun(h, shapes, Options(true));
  ExpectSame(base, autop);
  EXPECT_EQ(autop.report.mirrored_nodes, 30u);
  EXPECT_LT(autop.report.planned_bytes, base.report.planned_bytes);
  std::printf("deep chain (36 ops of 8 KiB): planned %zu bytes without mirroring, %zu with\n",
              base.report.planned_bytes, autop.report.planned_bytes);
}

TEST(SymbolPassEndToEnd, CseKeepsResults) {
  Symbol x = Var("data");
  Symbol w = Var("w");
  Symbol a = Op("FullyConnected", {x, w}, {{"num_hidden", "6"}, {"no_bias", "1"}}, "fa");
  Symbol b = Op("FullyConnected", {x, w}, {{"num_hidden", "6"}, {"no_bias", "1"}}, "fb");
  // sin(a) and sin(b) become one entry: two outputs of one array, two head gradients summed.
  Symbol net = Symbol::Group({Op("tanh", {a}) * Op("tanh", {b}), Op("sin", {a}), Op("sin", {b})});
  const std::unordered_map<std::string, Shape> shapes = {{"data", Shape{4, 5}}};
  for (bool train : {false, true}) {
    const RunResult off = BindAndRun(net, shapes, Options(false, false), train);
    const RunResult on = BindAndRun(net, shapes, Options(false, true), train);
    ExpectSame(off, on);
    if (train) EXPECT_LT(on.report.unplanned_bytes, off.report.unplanned_bytes);
  }
}

}  // namespace
}  // namespace mixnet

// Autograd: gradients of composed expressions against central differences, higher-order
// gradients against analytic second derivatives, grad_req semantics, custom functions, the
// tape's bookkeeping, and clear errors for misuse.
#include <cmath>
#include <functional>

#include "autograd/node.h"
#include "mixnet/autograd/autograd.h"
#include "mixnet/op/invoke.h"
#include "test_util.h"

namespace mixnet {
namespace {

using autograd::GradReq;
using testing_util::ExpectNear;
using testing_util::Random;

NDArray Call(std::string_view name, std::initializer_list<NDArray> in, op::AttrDict attrs = {}) {
  return op::Invoke(name, std::span<const NDArray>(in.begin(), in.size()), attrs)[0];
}
NDArray F64(const std::vector<double>& v, const Shape& s) {
  return NDArray::FromVector(v, s);
}
double Scalar(const NDArray& a) {
  return a.ToVector<double>().at(0);
}

using Fn = std::function<NDArray(const std::vector<NDArray>&)>;

/*! \brief d f / d inputs by central differences (f returns one element). */
std::vector<std::vector<double>> NumericGrad(const Fn& f, const std::vector<std::vector<double>>& x,
                                             const std::vector<Shape>& shapes, double h = 1e-5) {
  std::vector<std::vector<double>> grads(x.size());
  for (size_t k = 0; k < x.size(); ++k) {
    for (size_t i = 0; i < x[k].size(); ++i) {
      auto eval = [&](double delta) {
        std::vector<NDArray> in;
        for (size_t m = 0; m < x.size(); ++m) {
          std::vector<double> v = x[m];
          if (m == k) v[i] += delta;
          in.push_back(F64(v, shapes[m]));
        }
        return Scalar(f(in));
      };
      grads[k].push_back((eval(h) - eval(-h)) / (2 * h));
    }
  }
  return grads;
}

/*! \brief Records f on attach_grad'ed float64 inputs, runs backward, compares with NumericGrad. */
void CheckGrad(const Fn& f, const std::vector<Shape>& shapes, uint64_t seed = 1,
               double tol = 1e-6) {
  std::vector<std::vector<double>> x;
  std::vector<NDArray> in;
  for (size_t k = 0; k < shapes.size(); ++k) {
    x.push_back(Random(static_cast<size_t>(shapes[k].Size()), seed + k, -1, 1));
    in.push_back(F64(x.back(), shapes[k]));
    autograd::AttachGrad(&in.back());
  }
  NDArray y;
  {
    autograd::RecordScope record;
    y = f(in);
  }
  autograd::Backward({y});
  const auto want = NumericGrad(f, x, shapes);
  for (size_t k = 0; k < in.size(); ++k) {
    SCOPED_TRACE("input " + std::to_string(k));
    ExpectNear(autograd::GetGrad(in[k]).ToVector<double>(), want[k], tol);
  }
}

TEST(Autograd, FlagsAndScopes) {
  EXPECT_FALSE(autograd::IsRecording());
  EXPECT_FALSE(autograd::IsTraining());
  {
    autograd::RecordScope record;
    EXPECT_TRUE(autograd::IsRecording());
    EXPECT_TRUE(autograd::IsTraining());
    {
      autograd::PauseScope pause;
      EXPECT_FALSE(autograd::IsRecording());
      EXPECT_FALSE(autograd::IsTraining());
      autograd::TrainingScope train(true);
      EXPECT_TRUE(autograd::IsTraining());
    }
    EXPECT_TRUE(autograd::IsRecording());
  }
  {
    autograd::RecordScope record(/*train_mode=*/false);
    EXPECT_TRUE(autograd::IsRecording());
    EXPECT_FALSE(autograd::IsTraining());
  }
  EXPECT_FALSE(autograd::IsRecording());
  EXPECT_FALSE(autograd::SetRecording(true));
  EXPECT_TRUE(autograd::SetRecording(false));
  EXPECT_EQ(autograd::GradReqFromString("add"), GradReq::kAdd);
  EXPECT_EQ(autograd::GradReqFromString("inplace"), GradReq::kWrite);
  EXPECT_ERROR(autograd::GradReqFromString("sum"), ValueError, "grad_req", "'sum'");
}

TEST(Autograd, TrainModeReachesOps) {
  NDArray x = NDArray::Ones(Shape{1000}, DType::kFloat32);
  autograd::AttachGrad(&x);
  auto zeros = [](const NDArray& a) {
    int n = 0;
    for (float v : a.ToVector<float>())
      n += v == 0;
    return n;
  };
  NDArray train, predict;
  {
    autograd::RecordScope record;  // train_mode: Dropout drops
    train = Call("Dropout", {x}, {{"p", "0.5"}});
  }
  {
    autograd::RecordScope record(false);
    predict = Call("Dropout", {x}, {{"p", "0.5"}});
  }
  EXPECT_GT(zeros(train), 300);
  EXPECT_EQ(zeros(predict), 0);
}

TEST(Autograd, ComposedExpressionWithReuse) {
  // x appears four times; y twice.
  CheckGrad(
      [](const std::vector<NDArray>& in) {
        const NDArray& x = in[0];
        const NDArray& y = in[1];
        NDArray a = Call("elemwise_mul", {x, y});
        NDArray b = Call("sigmoid", {Call("elemwise_add", {a, x})});
        NDArray c = Call("elemwise_mul", {Call("tanh", {x}), Call("exp", {y})});
        return Call("sum",
                    {Call("elemwise_add", {Call("elemwise_mul", {b, c}), Call("square", {x})})});
      },
      {Shape{3, 4}, Shape{3, 4}});
}

TEST(Autograd, Broadcasting) {
  CheckGrad(
      [](const std::vector<NDArray>& in) {
        NDArray z = Call("broadcast_mul", {in[0], in[1]});  // (3,4) * (1,4)
        z = Call("broadcast_add", {z, in[2]});              // + (3,1)
        z = Call("broadcast_div",
                 {z, Call("_plus_scalar", {Call("square", {in[1]})}, {{"scalar", "1"}})});
        return Call("sum", {Call("sin", {z})});
      },
      {Shape{3, 4}, Shape{1, 4}, Shape{3, 1}});
}

TEST(Autograd, ViewsAreRecorded) {
  CheckGrad(
      [](const std::vector<NDArray>& in) {
        const NDArray& x = in[0];     // (4, 3)
        NDArray top = x.Slice(0, 2);  // rows 0-1
        NDArray row = x.At(3);        // row 3, shape (3)
        NDArray flat = x.Reshape(Shape{12});
        NDArray s1 = Call("sum", {Call("square", {top})});
        NDArray s2 = Call("sum", {Call("exp", {row})});
        NDArray s3 = Call("sum", {Call("sin", {flat})});
        return Call("elemwise_add", {Call("elemwise_add", {s1, s2}), s3});
      },
      {Shape{4, 3}});
}

TEST(Autograd, FullyConnectedDotSoftmaxLoss) {
  CheckGrad(
      [](const std::vector<NDArray>& in) {
        NDArray h = Call("FullyConnected", {in[0], in[1], in[2]}, {{"num_hidden", "5"}});
        h = Call("Activation", {h}, {{"act_type", "tanh"}});
        h = Call("dot", {h, in[3]});
        NDArray p = Call("log_softmax", {h});
        return Call("sum", {Call("elemwise_mul", {p, Call("sigmoid", {h})})});
      },
      {Shape{2, 3}, Shape{5, 3}, Shape{5}, Shape{5, 4}});
}

TEST(Autograd, GradReqWriteAddNull) {
  const std::vector<double> xv{1, 2, 3};
  NDArray w = F64(xv, Shape{3}), a = F64(xv, Shape{3}), n = F64(xv, Shape{3});
  autograd::AttachGrad(&w, GradReq::kWrite);
  autograd::AttachGrad(&a, GradReq::kAdd);
  autograd::AttachGrad(&n, GradReq::kNull);
  for (int step = 0; step < 2; ++step) {
    NDArray y;
    {
      autograd::RecordScope record;
      // d/dv sum(v^2) = 2v for each.
      y = Call("sum", {Call("elemwise_add",
                            {Call("elemwise_add", {Call("square", {w}), Call("square", {a})}),
                             Call("square", {n})})});
    }
    autograd::Backward({y});
  }
  ExpectNear(autograd::GetGrad(w).ToVector<double>(), {2, 4, 6}, 1e-12);
  ExpectNear(autograd::GetGrad(a).ToVector<double>(), {4, 8, 12}, 1e-12);  // accumulated
  ExpectNear(autograd::GetGrad(n).ToVector<double>(), {0, 0, 0}, 0);       // untouched
}

TEST(Autograd, MarkVariablesAndHeadGrads) {
  NDArray x = F64({1, 2}, Shape{2});
  NDArray buf = F64({10, 10}, Shape{2});
  std::vector<NDArray> vars{x};
  const std::vector<NDArray> bufs{buf};
  const std::vector<GradReq> reqs{GradReq::kAdd};
  autograd::MarkVariables(vars, bufs, reqs);
  NDArray y;
  {
    autograd::RecordScope record;
    y = Call("_mul_scalar", {vars[0]}, {{"scalar", "3"}});
  }
  const std::vector<NDArray> heads{y};
  const std::vector<NDArray> head_grads{F64({1, -2}, Shape{2})};
  autograd::Backward(heads, head_grads);
  // The user's buffer is the gradient buffer (shared storage), accumulated into.
  ExpectNear(buf.ToVector<double>(), {13, 4}, 1e-12);
  ExpectNear(autograd::GetGrad(vars[0]).ToVector<double>(), {13, 4}, 1e-12);
}

TEST(Autograd, RetainGraphAndFreedTape) {
  NDArray x = F64({0.5, -1}, Shape{2});
  autograd::AttachGrad(&x, GradReq::kAdd);
  NDArray y;
  {
    autograd::RecordScope record;
    y = Call("sum", {Call("exp", {x})});
  }
  const std::vector<NDArray> heads{y};
  autograd::Backward(heads, {}, /*retain_graph=*/true);
  autograd::Backward(heads);  // allowed: retained
  ExpectNear(autograd::GetGrad(x).ToVector<double>(), {2 * std::exp(0.5), 2 * std::exp(-1.0)},
             1e-12);
  // Freed now: the sum node keeps nothing.
  EXPECT_TRUE(y.grad_entry().node->freed);
  EXPECT_TRUE(y.grad_entry().node->saved_inputs.empty());
  EXPECT_ERROR(autograd::Backward(heads), ValueError, "backward", "already freed", "retain_graph");
}

TEST(Autograd, TapeKeepsOnlyWhatGradientsRead) {
  NDArray x = F64({1, 2}, Shape{2}), c = F64({3, 4}, Shape{2});
  autograd::AttachGrad(&x);
  NDArray add, mul, ex;
  {
    autograd::RecordScope record;
    add = Call("elemwise_add", {x, c});  // the gradient reads neither input
    mul = Call("elemwise_mul", {x, c});  // reads both
    ex = Call("exp", {x});               // reads its output only
  }
  const autograd::Node& a = *add.grad_entry().node;
  EXPECT_TRUE(a.saved_inputs[0].is_none());
  EXPECT_TRUE(a.saved_inputs[1].is_none());
  const autograd::Node& m = *mul.grad_entry().node;
  EXPECT_FALSE(m.saved_inputs[0].is_none());
  EXPECT_FALSE(m.saved_inputs[1].is_none());
  const autograd::Node& e = *ex.grad_entry().node;
  EXPECT_TRUE(e.saved_inputs[0].is_none());
  ASSERT_FALSE(e.saved_outputs[0].is_none());
  EXPECT_FALSE(e.saved_outputs[0].grad_entry().node);  // no cycle through the node itself
  // A call on constants only is not recorded.
  NDArray k;
  {
    autograd::RecordScope record;
    k = Call("exp", {c});
  }
  EXPECT_FALSE(autograd::HasGraph(k));
}

TEST(Autograd, Detach) {
  NDArray x = F64({1, 2}, Shape{2});
  autograd::AttachGrad(&x);
  NDArray y;
  {
    autograd::RecordScope record;
    NDArray sq = Call("square", {x});
    // d/dx [x^2 * stop(x^2) + x] = 2x * x^2 + 1
    y = Call("sum", {Call("elemwise_add", {Call("elemwise_mul", {sq, autograd::Detach(sq)}), x})});
  }
  autograd::Backward({y});
  ExpectNear(autograd::GetGrad(x).ToVector<double>(), {3, 17}, 1e-12);
  EXPECT_FALSE(autograd::HasGraph(autograd::Detach(y)));
}

// ---- higher order ----

struct Unary {
  const char* op;
  std::function<double(double)> d1, d2;
  double lo, hi;
};

TEST(Autograd, SecondOrderElementwise) {
  const std::vector<Unary> cases = {
      {"sin", [](double x) { return std::cos(x); }, [](double x) { return -std::sin(x); }, -2, 2},
      {"cos", [](double x) { return -std::sin(x); }, [](double x) { return -std::cos(x); }, -2, 2},
      {"exp", [](double x) { return std::exp(x); }, [](double x) { return std::exp(x); }, -1, 1},
      {"log", [](double x) { return 1 / x; }, [](double x) { return -1 / (x * x); }, 0.5, 2},
      {"sqrt", [](double x) { return 0.5 / std::sqrt(x); },
       [](double x) { return -0.25 / (x * std::sqrt(x)); }, 0.5, 2},
      {"square", [](double x) { return 2 * x; }, [](double) { return 2.0; }, -2, 2},
      {"reciprocal", [](double x) { return -1 / (x * x); },
       [](double x) { return 2 / (x * x * x); }, 0.5, 2},
      {"tanh", [](double x) { return 1 - std::tanh(x) * std::tanh(x); },
       [](double x) {
         const double t = std::tanh(x);
         return -2 * t * (1 - t * t);
       },
       -2, 2},
      {"sigmoid",
       [](double x) {
         const double s = 1 / (1 + std::exp(-x));
         return s * (1 - s);
       },
       [](double x) {
         const double s = 1 / (1 + std::exp(-x));
         return s * (1 - s) * (1 - 2 * s);
       },
       -2, 2},
      {"relu", [](double x) { return x > 0 ? 1.0 : 0.0; }, [](double) { return 0.0; }, -2, 2},
      {"softrelu_act", [](double x) { return 1 / (1 + std::exp(-x)); },
       [](double x) {
         const double s = 1 / (1 + std::exp(-x));
         return s * (1 - s);
       },
       -2, 2},
      {"arctan", [](double x) { return 1 / (1 + x * x); },
       [](double x) { return -2 * x / ((1 + x * x) * (1 + x * x)); }, -2, 2},
  };
  for (const Unary& u : cases) {
    SCOPED_TRACE(u.op);
    const std::vector<double> xv = Random(6, 7, u.lo, u.hi);
    NDArray x = F64(xv, Shape{2, 3});
    autograd::AttachGrad(&x);
    NDArray y;
    std::vector<NDArray> dx;
    {
      autograd::RecordScope record;
      y = std::string(u.op) == "softrelu_act" ? Call("Activation", {x}, {{"act_type", "softrelu"}})
                                              : Call(u.op, {x});
      const std::vector<NDArray> heads{y}, vars{x};
      dx = autograd::Grad(heads, vars, {}, /*create_graph=*/true);
    }
    std::vector<double> d1, d2;
    for (double v : xv) {
      d1.push_back(u.d1(v));
      d2.push_back(u.d2(v));
    }
    ExpectNear(dx[0].ToVector<double>(), d1, 1e-10);
    autograd::Backward({dx[0]});  // sum of the first derivative: the second derivative
    ExpectNear(autograd::GetGrad(x).ToVector<double>(), d2, 1e-10);
  }
}

TEST(Autograd, ThirdOrder) {
  const std::vector<double> xv{0.3, -0.7};
  NDArray x = F64(xv, Shape{2});
  autograd::AttachGrad(&x);
  std::vector<NDArray> d2;
  {
    autograd::RecordScope record;
    NDArray y = Call("sin", {x});
    const std::vector<NDArray> vars{x};
    const std::vector<NDArray> heads{y};
    std::vector<NDArray> d1 = autograd::Grad(heads, vars, {}, true);
    const std::vector<NDArray> heads2{d1[0]};
    d2 = autograd::Grad(heads2, vars, {}, true);
  }
  autograd::Backward({d2[0]});
  ExpectNear(autograd::GetGrad(x).ToVector<double>(), {-std::cos(0.3), -std::cos(-0.7)}, 1e-12);
}

/*!
 * \brief For matrix ops the check is numeric: the gradient of <v, dF/dx> with respect to every
 * input, by create_graph, against central differences of first-order grads.
 */
void CheckSecondOrder(const Fn& f, const std::vector<Shape>& shapes) {
  std::vector<std::vector<double>> x;
  for (size_t k = 0; k < shapes.size(); ++k)
    x.push_back(Random(static_cast<size_t>(shapes[k].Size()), 20 + k, -1, 1));
  const std::vector<double> v = Random(static_cast<size_t>(shapes[0].Size()), 99, -1, 1);
  // g(inputs) = <v, d f / d input0>
  const Fn g = [&](const std::vector<NDArray>& in_const) {
    std::vector<NDArray> in = in_const;
    for (NDArray& a : in) {
      if (!autograd::HasGraph(a)) autograd::AttachGrad(&a);
    }
    autograd::RecordScope record;
    const std::vector<NDArray> heads{f(in)};
    const std::vector<NDArray> vars{in[0]};
    NDArray d = autograd::Grad(heads, vars, {}, true)[0];
    return Call("sum", {Call("elemwise_mul", {d, F64(v, shapes[0])})});
  };
  std::vector<NDArray> in;
  for (size_t k = 0; k < shapes.size(); ++k) {
    in.push_back(F64(x[k], shapes[k]));
    autograd::AttachGrad(&in.back());
  }
  NDArray s = g(in);
  autograd::Backward({s});
  const auto want = NumericGrad(g, x, shapes);
  for (size_t k = 0; k < in.size(); ++k) {
    SCOPED_TRACE("input " + std::to_string(k));
    ExpectNear(autograd::GetGrad(in[k]).ToVector<double>(), want[k], 1e-6);
  }
}

TEST(Autograd, SecondOrderFullyConnectedAndDot) {
  CheckSecondOrder(
      [](const std::vector<NDArray>& in) {
        NDArray h = Call("FullyConnected", {in[0], in[1], in[2]}, {{"num_hidden", "4"}});
        return Call("sum", {Call("sigmoid", {h})});
      },
      {Shape{2, 3}, Shape{4, 3}, Shape{4}});
  CheckSecondOrder(
      [](const std::vector<NDArray>& in) {
        NDArray h = Call("dot", {in[0], in[1]});
        return Call("sum", {Call("tanh", {Call("dot", {h, in[1]}, {{"transpose_b", "True"}})})});
      },
      {Shape{2, 3}, Shape{3, 3}});
}

// ---- custom functions ----

struct MySigmoid : autograd::Function {
  std::vector<NDArray> Forward(std::span<const NDArray> in) override {
    EXPECT_FALSE(autograd::IsRecording());
    NDArray y = Call("sigmoid", {in[0]});
    SaveForBackward({y});
    return {y};
  }
  std::vector<NDArray> Backward(std::span<const NDArray> dy) override {
    const NDArray& y = saved()[0];
    ++backward_calls;
    return {
        Call("elemwise_mul",
             {dy[0], Call("elemwise_mul", {y, Call("_rminus_scalar", {y}, {{"scalar", "1"}})})})};
  }
  int backward_calls = 0;
};

TEST(Autograd, CustomFunction) {
  const std::vector<double> xv{0.2, -1.5, 3};
  NDArray x = F64(xv, Shape{3});
  autograd::AttachGrad(&x);
  auto f = std::make_shared<MySigmoid>();
  NDArray y;
  {
    autograd::RecordScope record;
    y = Call("sum", {Call("square", {(*f)({x})[0]})});
  }
  autograd::Backward({y});
  EXPECT_EQ(f->backward_calls, 1);
  std::vector<double> want;
  for (double v : xv) {
    const double s = 1 / (1 + std::exp(-v));
    want.push_back(2 * s * s * (1 - s));
  }
  ExpectNear(autograd::GetGrad(x).ToVector<double>(), want, 1e-12);
  EXPECT_ERROR((*f)({x}), ValueError, "already called");
  MySigmoid on_stack;
  EXPECT_ERROR(on_stack({x}), ValueError, "std::shared_ptr");
}

// ---- misuse ----

TEST(Autograd, MisuseErrors) {
  NDArray x = F64({1, 2}, Shape{2});
  autograd::AttachGrad(&x);
  // Computed outside a record scope: no graph.
  NDArray plain = Call("exp", {x});
  EXPECT_ERROR(autograd::Backward({plain}), ValueError, "backward", "head 0",
               "not part of a recorded graph");
  // A head that depends on no variable taking a gradient.
  NDArray frozen = F64({1, 2}, Shape{2});
  autograd::AttachGrad(&frozen, GradReq::kNull);
  NDArray y;
  {
    autograd::RecordScope record;
    y = Call("exp", {frozen});
  }
  EXPECT_ERROR(autograd::Backward({y}), ValueError, "does not depend on any variable");
  // Shape-mismatched head_grads.
  {
    autograd::RecordScope record;
    y = Call("exp", {x});
  }
  const std::vector<NDArray> heads{y};
  const std::vector<NDArray> bad{F64({1, 2, 3}, Shape{3})};
  EXPECT_ERROR(autograd::Backward(heads, bad), ValueError, "head_grads[0]", "(3,)", "(2,)");
  // Backward twice without retain_graph.
  autograd::Backward(heads);
  EXPECT_ERROR(autograd::Backward(heads), ValueError, "already freed");
  // grad of a non-variable, GetGrad of a non-variable.
  EXPECT_ERROR(autograd::GetGrad(y), ValueError, "no gradient buffer", "attach_grad");
  // Writing in place into a recorded array while recording.
  {
    autograd::RecordScope record;
    NDArray z = Call("exp", {x});
    const NDArray in[] = {x};
    const NDArray out[] = {z};
    EXPECT_ERROR(op::Invoke("sin", in, {}, out), ValueError, "sin", "in place",
                 "part of the graph");
  }
}

TEST(Autograd, InPlaceWriteToSavedArrayIsReported) {
  NDArray x = F64({1, 2}, Shape{2});
  NDArray c = F64({3, 4}, Shape{2});  // a constant the product's gradient reads
  autograd::AttachGrad(&x);
  NDArray y;
  {
    autograd::RecordScope record;
    y = Call("sum", {Call("elemwise_mul", {x, c})});
    // Recorded write into c (c has no graph of its own, so it is allowed at record time).
    const NDArray in[] = {c};
    const NDArray out[] = {c};
    op::Invoke("_plus_scalar", in, {{"scalar", "1"}}, out);
  }
  EXPECT_ERROR(autograd::Backward({y}), ValueError, "input 'rhs' of elemwise_mul",
               "modified in place");
  // A write the gradient does not read is fine.
  NDArray x2 = F64({1, 2}, Shape{2});
  autograd::AttachGrad(&x2);
  NDArray d = F64({3, 4}, Shape{2});
  {
    autograd::RecordScope record;
    y = Call("sum", {Call("elemwise_add", {x2, d})});
  }
  d.Fill(7);
  autograd::Backward({y});
  ExpectNear(autograd::GetGrad(x2).ToVector<double>(), {1, 1}, 0);
}

TEST(Autograd, GradOfUnreachableVariableIsZeroAndBuffersUntouched) {
  NDArray x = F64({1, 2}, Shape{2}), u = F64({5}, Shape{1});
  autograd::AttachGrad(&x);
  autograd::AttachGrad(&u);
  NDArray y;
  {
    autograd::RecordScope record;
    y = Call("sum", {Call("square", {x})});
  }
  const std::vector<NDArray> heads{y}, vars{x, u};
  std::vector<NDArray> g = autograd::Grad(heads, vars);
  ExpectNear(g[0].ToVector<double>(), {2, 4}, 1e-12);
  ExpectNear(g[1].ToVector<double>(), {0}, 0);
  ExpectNear(autograd::GetGrad(x).ToVector<double>(), {0, 0}, 0);
}

TEST(Autograd, OpsWithoutAGradientStopIt) {
  // NOTE [ Ops without a gradient ]: BlockGrad and argmax pass no gradient back.
  NDArray x = F64({0.5, -2, 3}, Shape{3});
  autograd::AttachGrad(&x);
  NDArray y;
  {
    autograd::RecordScope record;
    NDArray sq = Call("elemwise_mul", {x, x});
    NDArray stopped = Call("BlockGrad", {sq});
    NDArray idx = Call("argmax", {x}, {{"axis", "0"}});
    y = Call("sum", {Call("elemwise_add", {sq, stopped})});
    y = Call("broadcast_add", {y, Call("Cast", {idx}, {{"dtype", "float64"}})});
  }
  autograd::Backward({y});
  ExpectNear(autograd::GetGrad(x).ToVector<double>(), {1, -4, 6}, 1e-12);
}

}  // namespace
}  // namespace mixnet

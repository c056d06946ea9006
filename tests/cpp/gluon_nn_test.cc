// Gluon nn layers: values against hand computations (or the op they run), MXNet 1.9.1's
// names, prefixes, parameter shapes and reprs, deferred shapes, and eager == hybridized for
// every hybrid layer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "gluon_check.h"
#include "mixnet/autograd/autograd.h"
#include "mixnet/gluon/nn.h"
#include "mixnet/ndarray/serialize.h"
#include "mixnet/op/ops.h"
#include "test_util.h"

namespace mixnet::gluon::nn {
namespace {

using test::ExpectHybridMatchesEager;
using test::HybridCheckOptions;

NDArray Arr(const std::vector<float>& v, const Shape& s) {
  return NDArray::FromVector<float>(v, s);
}

NDArray Rand(const Shape& s, uint64_t seed) {
  const std::vector<double> d = testing_util::Random(static_cast<size_t>(s.Size()), seed);
  return Arr(std::vector<float>(d.begin(), d.end()), s);
}

NDArray Iota(const Shape& s) {
  std::vector<float> v(static_cast<size_t>(s.Size()));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<float>(i);
  return Arr(v, s);
}

void ExpectValues(const NDArray& a, const std::vector<double>& want, double tol = 1e-5) {
  const std::vector<float> got = a.ToVector<float>();
  testing_util::ExpectNear(std::vector<double>(got.begin(), got.end()), want, tol);
}

std::vector<std::string> Keys(const ParameterDict& d) {
  std::vector<std::string> keys;
  for (const auto& [name, p] : d)
    keys.push_back(name);
  return keys;
}

// Initialises `block`, runs it once (deferred shapes get resolved) and checks that the
// hybridized forward and backward agree with the eager ones.
void CheckHybrid(const std::shared_ptr<HybridBlock>& block, const std::vector<NDArray>& inputs,
                 HybridCheckOptions o = {}) {
  SCOPED_TRACE(block->Repr());
  bool fresh = false;
  for (const auto& [name, p] : block->CollectParams())
    fresh |= !p->initialized() && !p->deferred();
  if (fresh) block->Initialize();
  (*block)(inputs);
  ExpectHybridMatchesEager(*block, inputs, o);
}

// ---- names ----

TEST(GluonNN, AliasesArePrefixesAsMXNet) {
  ResetBlockNames();
  // MXNet 1.9.1: print(type(l).__name__, l.prefix) for each layer, created in this order.
  const std::vector<std::pair<BlockPtr, std::string>> layers = {
      {std::make_shared<Dense>(3), "dense0_"},
      {std::make_shared<Dropout>(0.5), "dropout0_"},
      {std::make_shared<BatchNorm>(), "batchnorm0_"},
      {std::make_shared<LayerNorm>(), "layernorm0_"},
      {std::make_shared<GroupNorm>(), "groupnorm0_"},
      {std::make_shared<InstanceNorm>(), "instancenorm0_"},
      {std::make_shared<Embedding>(4, 3), "embedding0_"},
      {std::make_shared<Flatten>(), "flatten0_"},
      {std::make_shared<Sequential>(), "sequential0_"},
      {std::make_shared<HybridSequential>(), "hybridsequential0_"},
      {std::make_shared<Lambda>([](const std::vector<NDArray>& x) { return x; }), "lambda0_"},
      {std::make_shared<HybridLambda>([](const std::vector<NDArray>& x) { return x; }),
       "hybridlambda0_"},
      {std::make_shared<Identity>(), "identity0_"},
      {std::make_shared<Concurrent>(), "concurrent0_"},
      {std::make_shared<HybridConcurrent>(), "hybridconcurrent0_"},
      {std::make_shared<Conv1D>(2, std::vector<int>{3}), "conv0_"},
      {std::make_shared<Conv2D>(2, std::vector<int>{3}), "conv1_"},
      {std::make_shared<Conv3D>(2, std::vector<int>{3}), "conv2_"},
      {std::make_shared<Conv1DTranspose>(2, std::vector<int>{3}), "conv3_"},
      {std::make_shared<Conv2DTranspose>(2, std::vector<int>{3}), "conv4_"},
      {std::make_shared<Conv3DTranspose>(2, std::vector<int>{3}), "conv5_"},
      {std::make_shared<MaxPool1D>(), "pool0_"},
      {std::make_shared<MaxPool2D>(), "pool1_"},
      {std::make_shared<MaxPool3D>(), "pool2_"},
      {std::make_shared<AvgPool1D>(), "pool3_"},
      {std::make_shared<AvgPool2D>(), "pool4_"},
      {std::make_shared<AvgPool3D>(), "pool5_"},
      {std::make_shared<GlobalMaxPool1D>(), "pool6_"},
      {std::make_shared<GlobalMaxPool2D>(), "pool7_"},
      {std::make_shared<GlobalMaxPool3D>(), "pool8_"},
      {std::make_shared<GlobalAvgPool1D>(), "pool9_"},
      {std::make_shared<GlobalAvgPool2D>(), "pool10_"},
      {std::make_shared<GlobalAvgPool3D>(), "pool11_"},
      {std::make_shared<ReflectionPad2D>(), "reflectionpad2d0_"},
      {std::make_shared<Activation>("relu"), "relu0_"},
      {std::make_shared<LeakyReLU>(0.1), "leakyrelu0_"},
      {std::make_shared<PReLU>(), "prelu0_"},
      {std::make_shared<ELU>(), "elu0_"},
      {std::make_shared<SELU>(), "selu0_"},
      {std::make_shared<GELU>(), "gelu0_"},
      {std::make_shared<Swish>(), "swish0_"},
  };
  for (const auto& [block, prefix] : layers)
    EXPECT_EQ(block->prefix(), prefix) << block->Repr();
  // MXNet: the parameters of each (collect_params().keys()).
  EXPECT_EQ(Keys(layers[0].first->CollectParams()),
            (std::vector<std::string>{"dense0_weight", "dense0_bias"}));
  EXPECT_EQ(Keys(layers[2].first->CollectParams()),
            (std::vector<std::string>{"batchnorm0_gamma", "batchnorm0_beta",
                                      "batchnorm0_running_mean", "batchnorm0_running_var"}));
  EXPECT_EQ(Keys(layers[4].first->CollectParams()),
            (std::vector<std::string>{"groupnorm0_gamma", "groupnorm0_beta"}));
  EXPECT_EQ(Keys(layers[6].first->CollectParams()),
            (std::vector<std::string>{"embedding0_weight"}));
  EXPECT_EQ(Keys(layers[19].first->CollectParams()),
            (std::vector<std::string>{"conv4_weight", "conv4_bias"}));
  EXPECT_EQ(Keys(layers[36].first->CollectParams()), (std::vector<std::string>{"prelu0_alpha"}));
  for (size_t i : {1, 7, 21, 33, 34, 35, 37, 40})
    EXPECT_TRUE(layers[i].first->CollectParams().empty()) << layers[i].first->Repr();
}

// The network of the MXNet script in the comment: names, structural names, shapes, repr.
//   net = nn.HybridSequential()
//   with net.name_scope():
//       net.add(nn.Conv2D(4, 3, padding=1, in_channels=2, activation='relu'), nn.BatchNorm(),
//               nn.MaxPool2D(), nn.Dense(5, activation='tanh'))
//       c = cnn.HybridConcurrent(axis=1)
//       with c.name_scope():
//           c.add(nn.Dense(2), nn.Dense(3))
//       net.add(c)
//   net.initialize(); net(mx.nd.ones((2, 2, 4, 4)))
std::shared_ptr<HybridSequential> MXNetExampleNet() {
  ResetBlockNames();
  auto net = std::make_shared<HybridSequential>();
  BlockScope scope(net.get());
  net->Add({std::make_shared<Conv2D>(
                4, std::vector<int>{3},
                ConvOptions{.padding = {1}, .in_channels = 2, .activation = "relu"}),
            std::make_shared<BatchNorm>(), std::make_shared<MaxPool2D>(),
            std::make_shared<Dense>(5, DenseOptions{.activation = "tanh"})});
  auto c = std::make_shared<HybridConcurrent>(1);
  {
    BlockScope inner(c.get());
    c->Add({std::make_shared<Dense>(2), std::make_shared<Dense>(3)});
  }
  net->Add(c);
  return net;
}

TEST(GluonNN, NestedNamesShapesAndReprMatchMXNet) {
  auto net = MXNetExampleNet();
  net->Initialize();
  const NDArray y = (*net)(NDArray::Ones({2, 2, 4, 4}));
  EXPECT_EQ(y.shape(), (Shape{2, 5}));
  EXPECT_EQ(
      Keys(net->CollectParams()),
      (std::vector<std::string>{
          "hybridsequential0_conv0_weight", "hybridsequential0_conv0_bias",
          "hybridsequential0_batchnorm0_gamma", "hybridsequential0_batchnorm0_beta",
          "hybridsequential0_batchnorm0_running_mean", "hybridsequential0_batchnorm0_running_var",
          "hybridsequential0_dense0_weight", "hybridsequential0_dense0_bias",
          "hybridsequential0_hybridconcurrent0_dense0_weight",
          "hybridsequential0_hybridconcurrent0_dense0_bias",
          "hybridsequential0_hybridconcurrent0_dense1_weight",
          "hybridsequential0_hybridconcurrent0_dense1_bias"}));
  std::vector<std::string> structural;
  for (const auto& [name, p] : net->CollectParamsWithPrefix())
    structural.push_back(name);
  EXPECT_EQ(structural,
            (std::vector<std::string>{"0.weight", "0.bias", "1.gamma", "1.beta", "1.running_mean",
                                      "1.running_var", "3.weight", "3.bias", "4.0.weight",
                                      "4.0.bias", "4.1.weight", "4.1.bias"}));
  EXPECT_EQ(net->Repr(),
            "HybridSequential(\n"
            "  (0): Conv2D(2 -> 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), "
            "Activation(relu))\n"
            "  (1): BatchNorm(axis=1, eps=1e-05, momentum=0.9, fix_gamma=False, "
            "use_global_stats=False, in_channels=4)\n"
            "  (2): MaxPool2D(size=(2, 2), stride=(2, 2), padding=(0, 0), ceil_mode=False, "
            "global_pool=False, pool_type=max, layout=NCHW)\n"
            "  (3): Dense(16 -> 5, Activation(tanh))\n"
            "  (4): HybridConcurrent(\n"
            "    (0): Dense(5 -> 2, linear)\n"
            "    (1): Dense(5 -> 3, linear)\n"
            "  )\n"
            ")");
  // The activation child: prefix "<act>_" inside the layer, as MXNet.
  auto conv = std::dynamic_pointer_cast<ConvBase>((*net)[0]);
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->children().at(0).first, "act");
  EXPECT_EQ(conv->children().at(0).second->prefix(), "hybridsequential0_conv0_relu_");
  EXPECT_EQ(net->size(), 5u);
  EXPECT_ERROR((*net)[5], IndexError, "index 5", "5 children");
}

TEST(GluonNN, ExportNamesArgumentsAndAuxStatesAsMXNet) {
  auto net = MXNetExampleNet();
  net->Initialize();
  net->Hybridize();
  (*net)(NDArray::Ones({2, 2, 4, 4}));
  const std::string path = ::testing::TempDir() + "gluon_nn_export";
  const auto [symbol_file, params_file] = net->Export(path);
  const NDArrayList saved = LoadNDArrays(params_file);
  std::vector<std::string> names = saved.names;
  std::sort(names.begin(), names.end());
  // MXNet 1.9.1's export of this net: the running statistics are aux states.
  EXPECT_EQ(names,
            (std::vector<std::string>{
                "arg:hybridsequential0_batchnorm0_beta", "arg:hybridsequential0_batchnorm0_gamma",
                "arg:hybridsequential0_conv0_bias", "arg:hybridsequential0_conv0_weight",
                "arg:hybridsequential0_dense0_bias", "arg:hybridsequential0_dense0_weight",
                "arg:hybridsequential0_hybridconcurrent0_dense0_bias",
                "arg:hybridsequential0_hybridconcurrent0_dense0_weight",
                "arg:hybridsequential0_hybridconcurrent0_dense1_bias",
                "arg:hybridsequential0_hybridconcurrent0_dense1_weight",
                "aux:hybridsequential0_batchnorm0_running_mean",
                "aux:hybridsequential0_batchnorm0_running_var"}));
  std::remove(symbol_file.c_str());
  std::remove(params_file.c_str());
}

TEST(GluonNN, WholeNetworkHybridMatchesEager) {
  auto net = MXNetExampleNet();
  CheckHybrid(net, {Rand({2, 2, 4, 4}, 1)});
}

TEST(GluonNN, ReprOfLayersMatchesMXNet) {
  ResetBlockNames();
  EXPECT_EQ(Dense(3, {.activation = "relu", .in_units = 4}).Repr(),
            "Dense(4 -> 3, Activation(relu))");
  EXPECT_EQ(Dense(3).Repr(), "Dense(None -> 3, linear)");
  EXPECT_EQ(
      Conv2DTranspose(
          4, {3, 2},
          {.strides = {2}, .output_padding = {1}, .groups = 2, .in_channels = 6, .use_bias = false})
          .Repr(),
      "Conv2DTranspose(2 -> 6, kernel_size=(3, 2), stride=(2, 2), groups=2, bias=False)");
  EXPECT_EQ(Conv1D(4, {3}, {.padding = {1}, .dilation = {2}, .groups = 2, .in_channels = 4}).Repr(),
            "Conv1D(2 -> 4, kernel_size=(3,), stride=(1,), padding=(1,), dilation=(2,), groups=2)");
  EXPECT_EQ(BatchNorm({.scale = false, .in_channels = 3}).Repr(),
            "BatchNorm(axis=1, eps=1e-05, momentum=0.9, fix_gamma=True, use_global_stats=False, "
            "in_channels=3)");
  EXPECT_EQ(AvgPool2D({.pool_size = {3},
                       .strides = {1},
                       .padding = {1},
                       .ceil_mode = true,
                       .count_include_pad = false})
                .Repr(),
            "AvgPool2D(size=(3, 3), stride=(1, 1), padding=(1, 1), ceil_mode=True, "
            "global_pool=False, pool_type=avg, layout=NCHW)");
  EXPECT_EQ(GlobalAvgPool1D().Repr(),
            "GlobalAvgPool1D(size=(1,), stride=(1,), padding=(0,), ceil_mode=True, "
            "global_pool=True, pool_type=avg, layout=NCW)");
  EXPECT_EQ(Dropout(0.25, {.axes = {1}}).Repr(), "Dropout(p = 0.25, axes=(1,))");
  EXPECT_EQ(Dropout(0.5).Repr(), "Dropout(p = 0.5, axes=())");
  EXPECT_EQ(LayerNorm().Repr(),
            "LayerNorm(eps=1e-05, axis=-1, center=True, scale=True, in_channels=0)");
  EXPECT_EQ(GroupNorm().Repr(), "GroupNorm(eps=1e-05, num_groups=1, center=True, scale=True)");
  EXPECT_EQ(InstanceNorm().Repr(),
            "InstanceNorm(eps=1e-05, axis=1, center=True, scale=False, in_channels=0)");
  EXPECT_EQ(Embedding(4, 3).Repr(), "Embedding(4 -> 3, float32)");
  EXPECT_EQ(Flatten().Repr(), "Flatten");
  EXPECT_EQ(LeakyReLU(0.1).Repr(), "LeakyReLU(0.1)");
  EXPECT_EQ(ELU().Repr(), "ELU(\n\n)");
  EXPECT_EQ(HybridSequential().Repr(), "HybridSequential(\n\n)");
}

// Nearly every layer in one network, with weights from a formula, against MXNet 1.9.1:
//   net = nn.HybridSequential()   # in net.name_scope(), the layers below
//   net.initialize(); net(x)
//   for k, (name, p) in enumerate(net._collect_params_with_prefix().items()):
//       v = 0.5 * np.sin(np.arange(p.shape.size) + 7 * k)   # 0.5 + |v| for running_var
//   print(net(x)); with autograd.record(): print(net(x))    # x: the formula with k=100, times 2
std::vector<float> Pattern(int64_t n, int k) {
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<float>(0.5 * std::sin(static_cast<double>(i) + 7 * k));
  return v;
}

TEST(GluonNN, WholeNetworkMatchesMXNet) {
  ResetBlockNames();
  auto net = std::make_shared<HybridSequential>();
  {
    BlockScope scope(net.get());
    net->Add(
        {std::make_shared<Conv2D>(4, std::vector<int>{3},
                                  ConvOptions{.padding = {1}, .activation = "relu"}),
         std::make_shared<BatchNorm>(), std::make_shared<MaxPool2D>(PoolOptions{.ceil_mode = true}),
         std::make_shared<Conv2DTranspose>(3, std::vector<int>{2}, ConvOptions{.strides = {2}}),
         std::make_shared<InstanceNorm>(InstanceNormOptions{.scale = true}),
         std::make_shared<AvgPool2D>(PoolOptions{
             .pool_size = {3}, .strides = {1}, .padding = {1}, .count_include_pad = false}),
         std::make_shared<ReflectionPad2D>(std::vector<int>{1}),
         std::make_shared<GroupNorm>(GroupNormOptions{.num_groups = 3}), std::make_shared<PReLU>(),
         std::make_shared<GlobalMaxPool2D>(), std::make_shared<Flatten>(),
         std::make_shared<Dense>(6, DenseOptions{.activation = "tanh"}),
         std::make_shared<LayerNorm>(), std::make_shared<ELU>(0.7), std::make_shared<SELU>(),
         std::make_shared<GELU>(), std::make_shared<Swish>(1.5), std::make_shared<LeakyReLU>(0.3),
         std::make_shared<Dense>(2)});
  }
  std::vector<float> xv = Pattern(100, 100);
  for (float& v : xv)
    v *= 2;
  const NDArray x = Arr(xv, {2, 2, 5, 5});
  net->Initialize();
  (*net)(x);
  // NOTE: mixnet's BatchNorm op updates the running statistics in the training forward,
  // MXNet 1.9.1 on CPU in the backward; the parameters are set again before each pass.
  auto set_params = [&] {
    int k = 0;
    for (const auto& [name, p] : net->CollectParamsWithPrefix()) {
      std::vector<float> v = Pattern(p->shape().Size(), k++);
      if (name.ends_with("running_var"))
        for (float& e : v)
          e = 0.5f + std::abs(e);
      p->SetData(Arr(v, p->shape()));
    }
  };
  for (bool hybrid : {false, true}) {
    SCOPED_TRACE(hybrid ? "hybridized" : "eager");
    set_params();
    net->Hybridize(hybrid);
    ExpectValues((*net)(x), {0.240729779, 0.666502416, 0.241680399, 0.667290866});
    NDArray y;
    {
      autograd::RecordScope record;  // training: BatchNorm uses the batch statistics
      y = (*net)(x);
    }
    ExpectValues(y, {0.239762038, 0.6656937, 0.243594825, 0.668852985});
  }
}

// ---- Dense ----

TEST(GluonNN, DenseMatchesHandComputationAndInfersInUnits) {
  ResetBlockNames();
  auto dense = std::make_shared<Dense>(2);
  EXPECT_EQ(dense->weight()->shape(), (Shape{2, 0}));
  dense->Initialize();
  const NDArray x = Iota({2, 1, 3});  // flattened to (2, 3)
  EXPECT_EQ((*dense)(x).shape(), (Shape{2, 2}));
  EXPECT_EQ(dense->weight()->shape(), (Shape{2, 3}));
  EXPECT_EQ(dense->bias()->shape(), (Shape{2}));
  EXPECT_EQ(dense->bias()->data().ToVector<float>(), (std::vector<float>{0, 0}));  // zeros
  dense->weight()->SetData(Arr({1, 0, -1, 0.5, 0.5, 0.5}, {2, 3}));
  dense->bias()->SetData(Arr({1, -1}, {2}));
  // rows (0, 1, 2) and (3, 4, 5): (0 - 2 + 1, 1.5 - 1), (3 - 5 + 1, 6 - 1)
  ExpectValues((*dense)(x), {-1, 0.5, -1, 5});

  auto relu = std::make_shared<Dense>(
      2, DenseOptions{.activation = "relu", .use_bias = false, .flatten = false, .in_units = 3});
  relu->Initialize();
  relu->weight()->SetData(Arr({1, 0, -1, 0.5, 0.5, 0.5}, {2, 3}));
  EXPECT_EQ(relu->bias(), nullptr);
  const NDArray y = (*relu)(x);
  EXPECT_EQ(y.shape(), (Shape{2, 1, 2}));  // flatten=false keeps the leading axes
  ExpectValues(y, {0, 1.5, 0, 6});
  CheckHybrid(dense, {Rand({2, 1, 3}, 2)});
  CheckHybrid(relu, {Rand({3, 2, 3}, 3)});
  // A given in_units must agree with the input.
  EXPECT_ERROR((*relu)(Iota({2, 4})), ValueError, "");
}

TEST(GluonNN, SharedParametersCastAndInputErrors) {
  ResetBlockNames();
  // params=: the second Dense finds the first one's parameters instead of creating its own.
  auto a = std::make_shared<Dense>(3, DenseOptions{.in_units = 2});
  DenseOptions shared_opts;
  shared_opts.params = a->CollectParams();
  auto b = std::make_shared<Dense>(3, shared_opts);
  EXPECT_EQ(b->weight(), a->weight());
  EXPECT_EQ(b->bias(), a->bias());
  a->Initialize();
  const NDArray x = Rand({4, 2}, 12);
  EXPECT_EQ((*a)(x).ToVector<float>(), (*b)(x).ToVector<float>());

  // float64 parameters; Cast to float16 keeps BatchNorm in float32, as MXNet.
  auto d64 = std::make_shared<Dense>(2, DenseOptions{.dtype = DType::kFloat64});
  EXPECT_EQ(d64->weight()->dtype(), DType::kFloat64);
  auto net = std::make_shared<HybridSequential>();
  net->Add({std::make_shared<Dense>(2, DenseOptions{.in_units = 3}),
            std::make_shared<BatchNorm>(BatchNormOptions{.in_channels = 2})});
  net->Initialize();
  net->Cast(DType::kFloat16);
  for (const auto& [name, p] : net->CollectParams())
    EXPECT_EQ(p->dtype(),
              name.find("batchnorm") != std::string::npos ? DType::kFloat32 : DType::kFloat16)
        << name;

  // Each layer takes one input; axes and shapes are checked with the layer's name.
  EXPECT_ERROR((*a)(std::vector<NDArray>{x, x}), ValueError, "Dense", "1 input", "got 2");
  auto ln = std::make_shared<LayerNorm>(LayerNormOptions{.axis = 2});
  ln->Initialize();
  EXPECT_ERROR((*ln)(x), ValueError, "LayerNorm", "axis 2", "2 axes");
  EXPECT_ERROR(Dense(0), ValueError, "Dense", "units");
  EXPECT_ERROR(Embedding(0, 3), ValueError, "Embedding", "input_dim");
}

// ---- convolutions ----

TEST(GluonNN, ConvolutionMatchesHandComputationAndTheOp) {
  ResetBlockNames();
  auto c1 = std::make_shared<Conv1D>(1, std::vector<int>{2});
  c1->Initialize();
  const NDArray x1 = Arr({1, 2, 3, 4}, {1, 1, 4});
  (*c1)(x1);
  EXPECT_EQ(c1->weight()->shape(), (Shape{1, 1, 2}));
  c1->weight()->SetData(Arr({2, 1}, {1, 1, 2}));
  c1->bias()->SetData(Arr({0.5}, {1}));
  ExpectValues((*c1)(x1), {4.5, 7.5, 10.5});  // 2 x_i + x_{i+1} + 0.5

  // A grouped, strided, padded, dilated Conv2D is the Convolution op with these attributes.
  auto c2 = std::make_shared<Conv2D>(
      4, std::vector<int>{3, 2},
      ConvOptions{.strides = {2, 1}, .padding = {1}, .dilation = {1, 2}, .groups = 2});
  c2->Initialize();
  const NDArray x2 = Rand({2, 6, 5, 5}, 4);
  const NDArray y2 = (*c2)(x2);
  EXPECT_EQ(c2->weight()->shape(), (Shape{4, 3, 3, 2}));
  EXPECT_EQ(c2->bias()->shape(), (Shape{4}));
  const NDArray want = op::Convolution(x2, c2->weight()->data(), c2->bias()->data(),
                                       {.kernel = std::vector<int64_t>{3, 2},
                                        .stride = std::vector<int64_t>{2, 1},
                                        .dilate = std::vector<int64_t>{1, 2},
                                        .pad = std::vector<int64_t>{1, 1},
                                        .num_filter = 4,
                                        .num_group = 2});
  EXPECT_EQ(y2.shape(), want.shape());
  EXPECT_EQ(y2.ToVector<float>(), want.ToVector<float>());
  CheckHybrid(c1, {Rand({2, 1, 5}, 5)});
  CheckHybrid(c2, {x2});

  auto c3 = std::make_shared<Conv3D>(2, std::vector<int>{2}, ConvOptions{.activation = "sigmoid"});
  CheckHybrid(c3, {Rand({1, 2, 3, 3, 3}, 6)});
  EXPECT_EQ(c3->weight()->shape(), (Shape{2, 2, 2, 2, 2}));
  EXPECT_ERROR((*c3)(Rand({1, 2, 3, 3}, 7)), ValueError, "Convolution", "(1, 2, 3, 3)");
  // With the weight shape still unknown, the layer's InferShape names itself.
  auto c4 = std::make_shared<Conv3D>(2, std::vector<int>{2});
  c4->Initialize();
  EXPECT_ERROR((*c4)(Rand({1, 2, 3, 3}, 7)), ValueError, "Conv3D", "5 axes", "(1, 2, 3, 3)");
}

TEST(GluonNN, TransposedConvolutionMatchesHandComputation) {
  ResetBlockNames();
  // Kernel of ones, stride 2: each input value becomes a 2x2 block.
  auto t2 = std::make_shared<Conv2DTranspose>(1, std::vector<int>{2},
                                              ConvOptions{.strides = {2}, .use_bias = false});
  t2->Initialize(std::make_shared<init::One>());
  const NDArray y = (*t2)(Arr({1, 2, 3, 4}, {1, 1, 2, 2}));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
  ExpectValues(y, {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  // Deferred weight: (in_channels, channels / groups, *kernel); output_padding adds a column.
  auto t1 = std::make_shared<Conv1DTranspose>(
      4, std::vector<int>{3}, ConvOptions{.strides = {2}, .output_padding = {1}, .groups = 2});
  EXPECT_EQ(t1->weight()->shape(), (Shape{0, 2, 3}));
  t1->Initialize();
  EXPECT_EQ((*t1)(Rand({2, 6, 4}, 8)).shape(), (Shape{2, 4, 10}));  // (4 - 1) * 2 + 3 + 1
  EXPECT_EQ(t1->weight()->shape(), (Shape{6, 2, 3}));
  CheckHybrid(t1, {Rand({2, 6, 4}, 9)});
  CheckHybrid(t2, {Rand({2, 1, 2, 3}, 10)});
  CheckHybrid(
      std::make_shared<Conv3DTranspose>(2, std::vector<int>{2}, ConvOptions{.padding = {1}}),
      {Rand({1, 3, 3, 3, 3}, 11)});
  EXPECT_ERROR(Conv2D(4, {3}, {.output_padding = {1}}), ValueError, "Conv2D", "output_padding");
  EXPECT_ERROR(Conv2D(4, {3, 3, 3}), ValueError, "Conv2D", "kernel_size", "(3, 3, 3)");
  EXPECT_ERROR(Conv2D(3, {3}, {.groups = 2}), ValueError, "Conv2D", "groups=2", "channels=3");
}

// ---- pooling and padding ----

TEST(GluonNN, PoolingMatchesHandComputation) {
  ResetBlockNames();
  auto max2 = std::make_shared<MaxPool2D>();
  ExpectValues((*max2)(Iota({1, 1, 4, 4})), {5, 7, 13, 15});
  // count_include_pad=false divides the corner's 4 values by 4, true by 9.
  const NDArray x = Iota({1, 1, 3, 3});
  auto avg_ex = std::make_shared<AvgPool2D>(
      PoolOptions{.pool_size = {3}, .strides = {1}, .padding = {1}, .count_include_pad = false});
  auto avg_in =
      std::make_shared<AvgPool2D>(PoolOptions{.pool_size = {3}, .strides = {1}, .padding = {1}});
  const NDArray ye = (*avg_ex)(x), yi = (*avg_in)(x);
  EXPECT_NEAR(ye.ToVector<float>()[0], (0 + 1 + 3 + 4) / 4.0, 1e-6);
  EXPECT_NEAR(yi.ToVector<float>()[0], (0 + 1 + 3 + 4) / 9.0, 1e-6);
  EXPECT_NEAR(ye.ToVector<float>()[4], 4, 1e-6);
  // ceil_mode keeps the partial last window.
  ExpectValues((*std::make_shared<MaxPool1D>(PoolOptions{.ceil_mode = true}))(Iota({1, 1, 5})),
               {1, 3, 4});
  ExpectValues((*std::make_shared<MaxPool1D>())(Iota({1, 1, 5})), {1, 3});
  auto gavg = std::make_shared<GlobalAvgPool2D>();
  const NDArray g = (*gavg)(Iota({1, 2, 2, 2}));
  EXPECT_EQ(g.shape(), (Shape{1, 2, 1, 1}));
  ExpectValues(g, {1.5, 5.5});
  ExpectValues((*std::make_shared<GlobalMaxPool1D>())(Iota({2, 1, 3})), {2, 5});

  const std::vector<std::shared_ptr<HybridBlock>> pools = {
      std::make_shared<MaxPool1D>(),
      std::make_shared<MaxPool2D>(PoolOptions{.strides = {1}}),
      std::make_shared<MaxPool3D>(),
      std::make_shared<AvgPool1D>(PoolOptions{.pool_size = {3}}),
      avg_ex,
      std::make_shared<AvgPool3D>(),
      std::make_shared<GlobalMaxPool1D>(),
      std::make_shared<GlobalMaxPool2D>(),
      std::make_shared<GlobalMaxPool3D>(),
      std::make_shared<GlobalAvgPool1D>(),
      gavg,
      std::make_shared<GlobalAvgPool3D>()};
  const std::vector<Shape> shapes = {{2, 2, 6}, {2, 2, 4, 4}, {1, 2, 4, 4, 4}};
  for (size_t i = 0; i < pools.size(); ++i)
    CheckHybrid(pools[i], {Rand(shapes[i % 3], 20 + i)});
  EXPECT_ERROR(MaxPool2D({.layout = "NCW"}), ValueError, "MaxPool2D", "layout 'NCW'");
}

TEST(GluonNN, ReflectionPad2DMatchesHandComputation) {
  ResetBlockNames();
  auto pad = std::make_shared<ReflectionPad2D>(std::vector<int>{1});
  const NDArray y = (*pad)(Arr({1, 2, 3, 4}, {1, 1, 2, 2}));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
  ExpectValues(y, {4, 3, 4, 3, 2, 1, 2, 1, 4, 3, 4, 3, 2, 1, 2, 1});
  CheckHybrid(pad, {Rand({2, 2, 3, 3}, 30)});
  CheckHybrid(std::make_shared<ReflectionPad2D>(std::vector<int>{0, 0, 0, 0, 1, 2, 0, 1}),
              {Rand({1, 2, 3, 4}, 31)});
  EXPECT_ERROR(ReflectionPad2D({1, 1}), ValueError, "ReflectionPad2D", "(1, 1)");
}

// ---- normalisations ----

TEST(GluonNN, BatchNormTrainsAndUpdatesRunningStatistics) {
  ResetBlockNames();
  auto bn = std::make_shared<BatchNorm>();
  bn->Initialize();
  // Channel 0 holds 0, 1, 4, 5; channel 1 holds 2, 3, 6, 7: mean 2.5 / 4.5, biased var 4.25.
  const NDArray x = Iota({2, 2, 2});
  NDArray y;
  {
    autograd::RecordScope record;
    y = (*bn)(x);
  }
  autograd::Backward({y});  // MXNet 1.9.1 updates the running statistics by the backward
  const double s = 1 / std::sqrt(4.25 + 1e-5);
  // MXNet 1.9.1 prints [-1.2126768 -0.72760606 -1.2126768 -0.72760606 0.72760606 1.2126768 ...]
  ExpectValues(y, {-2.5 * s, -1.5 * s, -2.5 * s, -1.5 * s, 1.5 * s, 2.5 * s, 1.5 * s, 2.5 * s});
  const auto params = bn->CollectParams();
  for (const auto& [name, p] : params)
    EXPECT_EQ(p->shape(), (Shape{2})) << name;
  EXPECT_EQ(params.at("batchnorm0_running_mean")->grad_req(), GradReq::kNull);
  EXPECT_EQ(params.at("batchnorm0_running_var")->grad_req(), GradReq::kNull);
  EXPECT_EQ(params.at("batchnorm0_gamma")->grad_req(), GradReq::kWrite);
  // momentum 0.9: running = 0.9 * running + 0.1 * batch statistic (MXNet: [0.25 0.45] and
  // [1.325 1.325], the biased variance).
  ExpectValues(params.at("batchnorm0_running_mean")->data(), {0.25, 0.45});
  ExpectValues(params.at("batchnorm0_running_var")->data(), {0.9 + 0.425, 0.9 + 0.425});
  // Prediction normalises with the running statistics.
  const std::vector<float> pred = (*bn)(x).ToVector<float>();
  EXPECT_NEAR(pred[0], (0 - 0.25) / std::sqrt(1.325 + 1e-5), 1e-5);

  // Channels on the last axis; center/scale off: gamma and beta get no gradient.
  auto last =
      std::make_shared<BatchNorm>(BatchNormOptions{.axis = -1, .center = false, .scale = false});
  CheckHybrid(bn, {Rand({3, 2, 2}, 40)});
  CheckHybrid(last, {Rand({4, 3}, 41)});
  EXPECT_EQ(last->CollectParams().at("batchnorm1_gamma")->shape(), (Shape{3}));
  EXPECT_EQ(last->CollectParams().at("batchnorm1_beta")->grad_req(), GradReq::kNull);
  CheckHybrid(std::make_shared<BatchNorm>(BatchNormOptions{.use_global_stats = true}),
              {Rand({2, 3, 2}, 42)});
  CheckHybrid(std::make_shared<BatchNorm>(), {Rand({2, 3, 2}, 43)}, {.train = false});
}

TEST(GluonNN, LayerGroupInstanceNormMatchMXNetExamples) {
  ResetBlockNames();
  // The examples of MXNet 1.9.1's docstrings, with their printed outputs.
  auto ln = std::make_shared<LayerNorm>();
  ln->Initialize();
  ExpectValues((*ln)(Arr({1, 2, 3, 4, 5, 1, 1, 2, 2, 2}, {2, 5})),
               {-1.41421, -0.707105, 0, 0.707105, 1.41421, -1.2247195, -1.2247195, 0.81647956,
                0.81647956, 0.81647956},
               1e-5);
  EXPECT_EQ(ln->CollectParams().at("layernorm0_gamma")->shape(), (Shape{5}));

  auto gn = std::make_shared<GroupNorm>();
  gn->Initialize();
  const std::vector<double> row = {-1.5932543, -1.3035717, -1.0138891, -0.7242065,
                                   -0.4345239, -0.1448413, 0.1448413,  0.4345239,
                                   0.7242065,  1.0138891,  1.3035717,  1.5932543};
  std::vector<double> want = row;
  want.insert(want.end(), row.begin(), row.end());
  ExpectValues((*gn)(Iota({2, 3, 4})), want, 1e-5);

  auto in = std::make_shared<InstanceNorm>();
  in->Initialize();
  ExpectValues((*in)(Arr({1.1f, 2.2f, 3.3f, 4.4f}, {2, 1, 2})),
               {-0.99998355, 0.99998331, -0.99998319, 0.99998361}, 1e-5);
  EXPECT_EQ(in->CollectParams().at("instancenorm0_gamma")->grad_req(), GradReq::kNull);  // scale
  // InstanceNorm on another axis swaps it to axis 1 and back.
  auto in2 = std::make_shared<InstanceNorm>(InstanceNormOptions{.axis = 2, .scale = true});
  in2->Initialize();
  const NDArray x = Rand({2, 3, 4}, 50);
  const NDArray swapped = op::swapaxes(x, {.dim1 = 1, .dim2 = 2});
  auto in1 = std::make_shared<InstanceNorm>(InstanceNormOptions{.scale = true});
  in1->Initialize();
  EXPECT_EQ((*in2)(x).ToVector<float>(),
            op::swapaxes((*in1)(swapped), {.dim1 = 1, .dim2 = 2}).ToVector<float>());
  EXPECT_EQ(in2->CollectParams().at("instancenorm1_gamma")->shape(), (Shape{4}));

  CheckHybrid(ln, {Rand({3, 5}, 51)});
  CheckHybrid(std::make_shared<LayerNorm>(LayerNormOptions{.axis = 1}), {Rand({2, 3, 2}, 52)});
  CheckHybrid(std::make_shared<GroupNorm>(GroupNormOptions{.num_groups = 2}),
              {Rand({2, 4, 3}, 53)});
  CheckHybrid(in, {Rand({2, 1, 3}, 54)});
  CheckHybrid(in2, {x});
}

// ---- Embedding, Flatten, Dropout ----

TEST(GluonNN, EmbeddingFlattenDropout) {
  ResetBlockNames();
  auto emb = std::make_shared<Embedding>(4, 3);
  emb->Initialize();
  emb->CollectParams().at("embedding0_weight")->SetData(Iota({4, 3}));
  const NDArray idx = Arr({0, 3, 1, 1}, {2, 2});
  const NDArray e = (*emb)(idx);
  EXPECT_EQ(e.shape(), (Shape{2, 2, 3}));
  ExpectValues(e, {0, 1, 2, 9, 10, 11, 3, 4, 5, 3, 4, 5});
  CheckHybrid(emb, {idx});

  auto flat = std::make_shared<Flatten>();
  const NDArray f = (*flat)(Iota({2, 3, 2}));
  EXPECT_EQ(f.shape(), (Shape{2, 6}));
  CheckHybrid(flat, {Rand({2, 3, 2}, 60)});

  // Predicting, Dropout is the identity; training, it zeroes about `rate` and scales the rest.
  auto drop = std::make_shared<Dropout>(0.5);
  const NDArray ones = NDArray::Ones({4, 500});
  EXPECT_EQ((*drop)(ones).ToVector<float>(), ones.ToVector<float>());
  NDArray d;
  {
    autograd::RecordScope record;
    d = (*drop)(ones);
  }
  int zeros = 0;
  for (float v : d.ToVector<float>()) {
    EXPECT_TRUE(v == 0 || v == 2) << v;
    zeros += v == 0;
  }
  EXPECT_NEAR(zeros / 2000.0, 0.5, 0.05);
  // axes=(1,): the mask is shared along axis 1, so each row is all dropped or all kept.
  auto shared = std::make_shared<Dropout>(0.5, DropoutOptions{.axes = {1}});
  {
    autograd::RecordScope record;
    d = (*shared)(ones);
  }
  const std::vector<float> dv = d.ToVector<float>();
  for (size_t r = 0; r < 4; ++r)
    for (size_t c = 1; c < 500; ++c)
      ASSERT_EQ(dv[r * 500 + c], dv[r * 500]) << "row " << r;
  CheckHybrid(drop, {Rand({3, 4}, 61)}, {.train = false});
  CheckHybrid(std::make_shared<Dropout>(0.0), {Rand({3, 4}, 62)});
  EXPECT_ERROR(Dropout(1.0), ValueError, "Dropout", "rate");
}

// ---- activations ----

TEST(GluonNN, ActivationsMatchHandComputation) {
  ResetBlockNames();
  const std::vector<float> xs = {-2, -0.5, 0, 0.5, 3};
  const NDArray x = Arr(xs, {5});
  auto each = [&](auto f) {
    std::vector<double> r;
    for (float v : xs)
      r.push_back(f(static_cast<double>(v)));
    return r;
  };
  const double a = 1.6732632423543772, scale = 1.0507009873554805;
  ExpectValues((*std::make_shared<Activation>("relu"))(x),
               each([](double v) { return v > 0 ? v : 0; }));
  ExpectValues((*std::make_shared<LeakyReLU>(0.1))(x),
               each([](double v) { return v > 0 ? v : 0.1 * v; }));
  ExpectValues((*std::make_shared<ELU>(0.5))(x),
               each([](double v) { return v > 0 ? v : 0.5 * (std::exp(v) - 1); }));
  ExpectValues((*std::make_shared<SELU>())(x),
               each([&](double v) { return scale * (v > 0 ? v : a * (std::exp(v) - 1)); }));
  ExpectValues((*std::make_shared<GELU>())(x),
               each([](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }));
  ExpectValues((*std::make_shared<Swish>(2.0))(x),
               each([](double v) { return v / (1 + std::exp(-2 * v)); }));
  auto prelu = std::make_shared<PReLU>();
  prelu->Initialize();
  EXPECT_EQ(prelu->CollectParams().at("prelu0_alpha")->shape(), (Shape{1}));
  ExpectValues((*prelu)(x), each([](double v) { return v > 0 ? v : 0.25 * v; }));
  // One slope per channel of axis 1.
  auto prelu3 =
      std::make_shared<PReLU>(PReLUOptions{.alpha_initializer = nullptr, .in_channels = 3});
  prelu3->Initialize();
  prelu3->CollectParams().at("prelu1_alpha")->SetData(Arr({0, 1, 2}, {3}));
  ExpectValues((*prelu3)(Arr({-1, -1, -1, 1, 1, 1}, {2, 3})), {0, -1, -2, 1, 1, 1});

  const NDArray r = Rand({2, 3, 2}, 70);
  for (const std::string act : {"relu", "sigmoid", "tanh", "softrelu", "softsign"})
    CheckHybrid(std::make_shared<Activation>(act), {r});
  CheckHybrid(std::make_shared<LeakyReLU>(0.2), {r});
  CheckHybrid(prelu, {r});
  CheckHybrid(prelu3, {r});
  CheckHybrid(std::make_shared<ELU>(), {r});
  CheckHybrid(std::make_shared<SELU>(), {r});
  CheckHybrid(std::make_shared<GELU>(), {r});
  CheckHybrid(std::make_shared<Swish>(), {r});
  EXPECT_ERROR(LeakyReLU(-0.1), ValueError, "LeakyReLU", "alpha");
}

// ---- containers, Lambda, Identity, Concurrent ----

TEST(GluonNN, ContainersLambdaIdentityConcurrent) {
  ResetBlockNames();
  auto relu = [](const std::vector<NDArray>& v) {
    return std::vector<NDArray>{op::Activation(v.at(0), {.act_type = "relu"})};
  };
  auto x = Arr({-1, 2, -3, 4}, {2, 2});

  auto seq = std::make_shared<Sequential>();
  seq->Add(std::make_shared<Lambda>(relu));
  seq->Add({std::make_shared<Identity>(), std::make_shared<Flatten>()});
  EXPECT_EQ(seq->size(), 3u);
  ExpectValues((*seq)(x), {0, 2, 0, 4});
  EXPECT_EQ((*seq)[0]->prefix(), "lambda0_");
  EXPECT_EQ(seq->Repr(),
            "Sequential(\n  (0): Lambda(<lambda>)\n  (1): Identity(\n  \n  )\n"
            "  (2): Flatten\n)");

  // Concurrent joins the children's outputs on the axis (default: the last).
  auto conc = std::make_shared<Concurrent>();
  conc->Add({std::make_shared<Identity>(), std::make_shared<Lambda>(relu)});
  const NDArray c = (*conc)(x);
  EXPECT_EQ(c.shape(), (Shape{2, 4}));
  ExpectValues(c, {-1, 2, 0, 2, -3, 4, 0, 4});

  auto hconc = std::make_shared<HybridConcurrent>(0);
  hconc->Add({std::make_shared<HybridLambda>(relu), std::make_shared<Identity>(),
              std::make_shared<Dense>(2, DenseOptions{.in_units = 2})});
  hconc->Initialize();
  EXPECT_EQ((*hconc)(x).shape(), (Shape{6, 2}));
  ExpectValues((*hconc)(x).Slice(0, 4), {0, 2, 0, 4, -1, 2, -3, 4});
  CheckHybrid(hconc, {Rand({2, 2}, 80)});
  CheckHybrid(std::make_shared<HybridLambda>(relu), {Rand({2, 3}, 81)});
  CheckHybrid(std::make_shared<Identity>(), {Rand({2, 3}, 82)});

  auto hseq = std::make_shared<HybridSequential>();
  hseq->Add({std::make_shared<Dense>(3), std::make_shared<Activation>("tanh"),
             std::make_shared<Dense>(2)});
  CheckHybrid(hseq, {Rand({4, 5}, 83)});
  EXPECT_EQ(hseq->size(), 3u);
  EXPECT_ERROR((*hseq)[3], IndexError, "index 3");
}

}  // namespace
}  // namespace mixnet::gluon::nn

// Gluon model zoo: MXNet 1.9.1's parameter names and shapes for every network (pinned from
// MXNet), loading MXNet-format .params files (both name forms), the pretrained errors, and
// eager == hybridized for every network at small inputs.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "gluon_check.h"
#include "mixnet/gluon/model_zoo.h"
#include "mixnet/ndarray/serialize.h"
#include "mixnet/op/random.h"
#include "test_util.h"

namespace mixnet {
namespace {

namespace vision = gluon::model_zoo::vision;
using gluon::HybridBlock;

std::string ShapeString(const Shape& shape) {
  std::string out;
  for (const int64_t d : shape) {
    if (!out.empty()) out += 'x';
    out += std::to_string(d);
  }
  return out;
}

// "STRUCTURAL PREFIXED SHAPE" per parameter, in CollectParams order.
std::vector<std::string> NameLines(const HybridBlock& net) {
  const auto structural = net.CollectParamsWithPrefix();
  std::vector<std::string> lines;
  for (const auto& [full_name, param] : net.CollectParams()) {
    std::string struct_name = "?";
    for (const auto& [s, p] : structural) {
      if (p == param) struct_name = s;
    }
    lines.push_back(struct_name + " " + full_name + " " + ShapeString(param->shape()));
  }
  return lines;
}

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::shared_ptr<HybridBlock> Build(const std::string& name, vision::ModelOptions options) {
  gluon::ResetBlockNames();  // "resnetv10_" as in a fresh MXNet process
  return vision::GetModel(name, options);
}

// From MXNet 1.9.1: vision.get_model(name, classes=10) under a fresh mx.name.NameManager();
// the hash is FNV-1a 64 of the "STRUCTURAL PREFIXED SHAPE" lines joined by '\n' (shapes
// before the first forward, 0 = inferred later).
struct Pinned {
  const char* name;
  size_t count;
  uint64_t hash;
  const char* first;
  const char* last;
};

const Pinned kPinned[] = {
    {"resnet18_v1", 102, 0xb715798b49898237ull, "features.0.weight resnetv10_conv0_weight 64x0x7x7",
     "output.bias resnetv10_dense0_bias 10"},
    {"resnet34_v1", 182, 0x96f6faa5c76222faull, "features.0.weight resnetv10_conv0_weight 64x0x7x7",
     "output.bias resnetv10_dense0_bias 10"},
    {"resnet50_v1", 299, 0xa6f642219d6e24eeull, "features.0.weight resnetv10_conv0_weight 64x0x7x7",
     "output.bias resnetv10_dense0_bias 10"},
    {"resnet101_v1", 588, 0x17879f8e24a122d3ull,
     "features.0.weight resnetv10_conv0_weight 64x0x7x7", "output.bias resnetv10_dense0_bias 10"},
    {"resnet152_v1", 877, 0xde8773cc3911d1daull,
     "features.0.weight resnetv10_conv0_weight 64x0x7x7", "output.bias resnetv10_dense0_bias 10"},
    {"resnet18_v2", 98, 0x7db7f4d767f3035bull, "features.0.gamma resnetv20_batchnorm0_gamma 0",
     "output.bias resnetv20_dense0_bias 10"},
    {"resnet34_v2", 178, 0x4efd6e132b361340ull, "features.0.gamma resnetv20_batchnorm0_gamma 0",
     "output.bias resnetv20_dense0_bias 10"},
    {"resnet50_v2", 259, 0xf37ec04ac98ce117ull, "features.0.gamma resnetv20_batchnorm0_gamma 0",
     "output.bias resnetv20_dense0_bias 10"},
    {"resnet101_v2", 514, 0x8e8503c4509fee63ull, "features.0.gamma resnetv20_batchnorm0_gamma 0",
     "output.bias resnetv20_dense0_bias 10"},
    {"resnet152_v2", 769, 0xdb61c2c1f912715cull, "features.0.gamma resnetv20_batchnorm0_gamma 0",
     "output.bias resnetv20_dense0_bias 10"},
    {"vgg11", 22, 0x228d83642f1ff713ull, "features.0.weight vgg0_conv0_weight 64x0x3x3",
     "output.bias vgg0_dense2_bias 10"},
    {"vgg13", 26, 0x39b5983cf2cf84c9ull, "features.0.weight vgg0_conv0_weight 64x0x3x3",
     "output.bias vgg0_dense2_bias 10"},
    {"vgg16", 32, 0x1f2c91b541e61011ull, "features.0.weight vgg0_conv0_weight 64x0x3x3",
     "output.bias vgg0_dense2_bias 10"},
    {"vgg19", 38, 0x20780830035eac4bull, "features.0.weight vgg0_conv0_weight 64x0x3x3",
     "output.bias vgg0_dense2_bias 10"},
    {"vgg11_bn", 54, 0x6b8517855bfa13dbull, "features.0.weight vgg0_conv0_weight 64x0x3x3",
     "output.bias vgg0_dense2_bias 10"},
    {"vgg13_bn", 66, 0xbfa3c423408c2317ull, "features.0.weight vgg0_conv0_weight 64x0x3x3",
     "output.bias vgg0_dense2_bias 10"},
    {"vgg16_bn", 84, 0x586c920b5efaf159ull, "features.0.weight vgg0_conv0_weight 64x0x3x3",
     "output.bias vgg0_dense2_bias 10"},
    {"vgg19_bn", 102, 0x43d93cd590dfa667ull, "features.0.weight vgg0_conv0_weight 64x0x3x3",
     "output.bias vgg0_dense2_bias 10"},
    {"alexnet", 16, 0xccd4c96b81cec525ull, "features.0.weight alexnet0_conv0_weight 64x0x11x11",
     "output.bias alexnet0_dense2_bias 10"},
    {"densenet121", 606, 0x74cecb1599bbccf6ull, "features.0.weight densenet0_conv0_weight 64x0x7x7",
     "output.bias densenet0_dense0_bias 10"},
    {"densenet161", 806, 0x61b5a4777aaed26aull, "features.0.weight densenet0_conv0_weight 96x0x7x7",
     "output.bias densenet0_dense0_bias 10"},
    {"densenet169", 846, 0xb5f386964319c2f6ull, "features.0.weight densenet0_conv0_weight 64x0x7x7",
     "output.bias densenet0_dense0_bias 10"},
    {"densenet201", 1006, 0x244b83acc83e9b7full,
     "features.0.weight densenet0_conv0_weight 64x0x7x7", "output.bias densenet0_dense0_bias 10"},
    {"squeezenet1.0", 52, 0x35a7d10c0deca08full,
     "features.0.weight squeezenet0_conv0_weight 96x0x7x7",
     "output.0.bias squeezenet0_conv25_bias 10"},
    {"squeezenet1.1", 52, 0x7ff42be1c2e64dd9ull,
     "features.0.weight squeezenet0_conv0_weight 64x0x3x3",
     "output.0.bias squeezenet0_conv25_bias 10"},
    {"inceptionv3", 472, 0xd4c4579ff7d3e521ull,
     "features.0.0.weight inception30_conv0_weight 32x0x3x3",
     "output.bias inception30_dense0_bias 10"},
    {"mobilenet1.0", 137, 0xcd019beb6397d6d1ull,
     "features.0.weight mobilenet0_conv0_weight 32x0x3x3", "output.bias mobilenet0_dense0_bias 10"},
    {"mobilenet0.75", 137, 0x9bf5a60298fb7537ull,
     "features.0.weight mobilenet0_conv0_weight 24x0x3x3", "output.bias mobilenet0_dense0_bias 10"},
    {"mobilenet0.5", 137, 0x719781f9a4093abeull,
     "features.0.weight mobilenet0_conv0_weight 16x0x3x3", "output.bias mobilenet0_dense0_bias 10"},
    {"mobilenet0.25", 137, 0xface394a83639753ull,
     "features.0.weight mobilenet0_conv0_weight 8x0x3x3", "output.bias mobilenet0_dense0_bias 10"},
    {"mobilenetv2_1.0", 266, 0xa2d6c85f8521c0deull,
     "features.0.weight mobilenetv20_features_conv0_weight 32x0x3x3",
     "output.0.weight mobilenetv20_output_pred_weight 10x0x1x1"},
    {"mobilenetv2_0.75", 266, 0x3706fc862aef6e7full,
     "features.0.weight mobilenetv20_features_conv0_weight 24x0x3x3",
     "output.0.weight mobilenetv20_output_pred_weight 10x0x1x1"},
    {"mobilenetv2_0.5", 266, 0xf37be30d6a2fc4c3ull,
     "features.0.weight mobilenetv20_features_conv0_weight 16x0x3x3",
     "output.0.weight mobilenetv20_output_pred_weight 10x0x1x1"},
    {"mobilenetv2_0.25", 266, 0x6af22a1aa67e592cull,
     "features.0.weight mobilenetv20_features_conv0_weight 8x0x3x3",
     "output.0.weight mobilenetv20_output_pred_weight 10x0x1x1"},
};

TEST(GluonModelZoo, EveryNetworkHasMXNetsParameterNamesAndShapes) {
  std::vector<std::string> pinned;
  for (const auto& p : kPinned) {
    SCOPED_TRACE(p.name);
    pinned.push_back(p.name);
    const auto lines = NameLines(*Build(p.name, {.classes = 10}));
    ASSERT_EQ(lines.size(), p.count);
    EXPECT_EQ(lines.front(), p.first);
    EXPECT_EQ(lines.back(), p.last);
    std::string joined;
    for (const auto& l : lines)
      joined += (joined.empty() ? "" : "\n") + l;
    EXPECT_EQ(Fnv1a(joined), p.hash) << "names or shapes differ from MXNet's";
  }
  std::sort(pinned.begin(), pinned.end());
  EXPECT_EQ(vision::ModelNames(), pinned);
}

TEST(GluonModelZoo, ReprIsMXNets) {
  // FNV-1a 64 of repr(vision.get_model(name, classes=3)) in MXNet 1.9.1.
  const std::pair<const char*, uint64_t> pinned[] = {
      {"alexnet", 0x65b001966aa1d3b7ull},
      {"densenet121", 0x2a38e72e8821fea1ull},
      {"densenet161", 0xf78129ef15d59b59ull},
      {"densenet169", 0xaaf4968733543f6full},
      {"densenet201", 0x62635f7b667f7b74ull},
      {"inceptionv3", 0xf2ca18cc1211630full},
      {"mobilenet0.25", 0xea9e1466b9bacda1ull},
      {"mobilenet0.5", 0xca4ef75835c4266eull},
      {"mobilenet0.75", 0x2ec4ae09484859d0ull},
      {"mobilenet1.0", 0x4296e8c7dd5693b7ull},
      {"mobilenetv2_0.25", 0xaf79f4943bef5f4dull},
      {"mobilenetv2_0.5", 0xb6104613cf9ce5c7ull},
      {"mobilenetv2_0.75", 0xb64fe09865e2d6c3ull},
      {"mobilenetv2_1.0", 0x0f339e5159f72921ull},
      {"resnet101_v1", 0x8913711cece6944dull},
      {"resnet101_v2", 0xfb827f204ad67fc5ull},
      {"resnet152_v1", 0x210deeb45ea9cf05ull},
      {"resnet152_v2", 0x11445a81bb6b023dull},
      {"resnet18_v1", 0xc61068202cedaa19ull},
      {"resnet18_v2", 0xffb1424a4d6cb19aull},
      {"resnet34_v1", 0x993abb04d9a7b826ull},
      {"resnet34_v2", 0x00661c3a866400c7ull},
      {"resnet50_v1", 0x87a6a52aa40f406cull},
      {"resnet50_v2", 0xa02dad615abdf802ull},
      {"squeezenet1.0", 0x6278f16d9f273e62ull},
      {"squeezenet1.1", 0xa61e6d07e6340f31ull},
      {"vgg11", 0xc9c03d4cd1a95aa5ull},
      {"vgg11_bn", 0x8aace6f429e396c0ull},
      {"vgg13", 0x0a74aa5deb47dce2ull},
      {"vgg13_bn", 0x9243bbf371ef5faeull},
      {"vgg16", 0xd88e4b57367e7b41ull},
      {"vgg16_bn", 0x62ebb9d2b75f6c6cull},
      {"vgg19", 0x01757272a135bcaeull},
      {"vgg19_bn", 0x60329c73ab95f941ull},
  };
  for (const auto& [name, hash] : pinned) {
    EXPECT_EQ(Fnv1a(Build(name, {.classes = 3})->Repr()), hash) << name;
  }
  const std::string mv2 = Build("mobilenetv2_0.25", {.classes = 3})->Repr();
  EXPECT_NE(mv2.find("    (2): RELU6(\n    \n    )\n"), std::string::npos) << mv2.substr(0, 400);
}

TEST(GluonModelZoo, NamesInsideResidualAndMixedBlocks) {
  // Spot checks deep inside, readable when the hash above fails (from MXNet 1.9.1).
  auto has = [](const std::vector<std::string>& lines, const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  };
  const auto r18 = NameLines(*Build("resnet18_v1", {.classes = 10}));
  EXPECT_TRUE(has(r18, "features.5.0.body.0.weight resnetv10_stage2_conv0_weight 128x64x3x3"));
  EXPECT_TRUE(
      has(r18, "features.5.0.downsample.0.weight resnetv10_stage2_conv2_weight 128x64x1x1"));
  EXPECT_TRUE(
      has(r18, "features.5.1.body.4.running_var resnetv10_stage2_batchnorm4_running_var 0"));
  const auto r50v2 = NameLines(*Build("resnet50_v2", {.classes = 10}));
  EXPECT_TRUE(
      has(r50v2, "features.5.0.downsample.weight resnetv20_stage1_conv3_weight 256x64x1x1"));
  const auto inc = NameLines(*Build("inceptionv3", {.classes = 10}));
  EXPECT_TRUE(has(inc, "features.16.1.1.1.0.0.weight inception30_E1_conv3_weight 384x0x3x1"));
  const auto mv2 = NameLines(*Build("mobilenetv2_1.0", {.classes = 10}));
  EXPECT_TRUE(
      has(mv2,
          "features.3.out.3.weight mobilenetv20_features_linearbottleneck0_conv1_weight 32x0x3x3"));
}

NDArray RandomArray(const Shape& shape, uint64_t seed, double lo = -1, double hi = 1) {
  const auto v = testing_util::Random(static_cast<size_t>(shape.Size()), seed, lo, hi);
  return NDArray::FromVector(std::vector<float>(v.begin(), v.end()), shape);
}

std::vector<float> Values(const NDArray& a) {
  return a.ToVector<float>();
}

class GluonModelZooFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mixnet_zoo_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& file) const { return (dir_ / file).string(); }
  std::filesystem::path dir_;
};

TEST_F(GluonModelZooFiles, LoadsHandBuiltMXNetParamsUnderBothNameForms) {
  // The files MXNet writes: a dict of arrays by structural names (save_parameters, and the
  // model store's NAME-HASH.params) or by the legacy names (save_params, i.e.
  // collect_params().save(strip_prefix=net.prefix): "features_conv0_weight").
  const NDArray x = RandomArray(Shape{2, 3, 32, 32}, 1);
  auto ref = Build("mobilenetv2_0.25", {.classes = 5});
  ref->Initialize();
  (*ref)(x);  // every shape known now
  std::vector<NDArray> arrays;
  std::vector<std::string> structural, legacy;
  uint64_t seed = 100;
  for (const auto& [name, param] : ref->CollectParamsWithPrefix()) {
    const bool var = name.ends_with("running_var");
    arrays.push_back(RandomArray(param->shape(), seed++, var ? 0.5 : -1, var ? 2 : 1));
    param->SetData(arrays.back());
    structural.push_back(name);
    ASSERT_TRUE(param->name().starts_with(ref->prefix()));
    legacy.push_back(param->name().substr(ref->prefix().size()));
  }
  ASSERT_EQ(arrays.size(), 266u);
  EXPECT_EQ(legacy.front(), "features_conv0_weight");
  SaveNDArrays(Path("mobilenetv2_0.25-ae8f9392.params"), arrays, structural);
  SaveNDArrays(Path("legacy.params"), arrays, legacy);
  const auto want = Values((*ref)(x));

  const std::vector<vision::ModelOptions> sources = {
      {.classes = 5, .pretrained = true, .root = dir_.string()},
      {.classes = 5, .pretrained = true, .file = Path("legacy.params")},
  };
  for (const auto& options : sources) {
    SCOPED_TRACE(options.file.empty() ? "root, structural names" : "file, legacy names");
    auto net = Build("mobilenetv2_0.25", options);
    size_t i = 0;
    for (const auto& [name, param] : net->CollectParamsWithPrefix()) {
      ASSERT_LT(i, arrays.size());
      EXPECT_EQ(name, structural[i]);
      EXPECT_EQ(Values(param->data()), Values(arrays[i])) << name;
      ++i;
    }
    EXPECT_EQ(Values((*net)(x)), want);
  }
}

TEST_F(GluonModelZooFiles, PretrainedNeedsALocalFile) {
  EXPECT_ERROR(vision::GetModel("resnet18_v1", {.pretrained = true}), ValueError, "resnet18_v1",
               "pretrained=true needs a local .params file", "ModelOptions::file",
               "ModelOptions::root", "does not download");
  EXPECT_ERROR(vision::GetModel("squeezenet1.1", {.pretrained = true, .root = dir_.string()}),
               ValueError, Path("squeezenet1.1-33ba0f93.params"), "does not exist");
  EXPECT_ERROR(vision::GetModel("alexnet", {.pretrained = true, .file = Path("none.params")}),
               ValueError, Path("none.params"), "does not exist");
  // A file of another network: LoadParameters names what is missing.
  auto small = Build("mobilenet0.25", {.classes = 3});
  small->Initialize();
  (*small)(RandomArray(Shape{1, 3, 32, 32}, 2));
  small->SaveParameters(Path("m.params"));
  EXPECT_ERROR(vision::GetModel("resnet18_v1", {.pretrained = true, .file = Path("m.params")}),
               ValueError, Path("m.params"));
}

TEST(GluonModelZoo, BadNamesAndArguments) {
  EXPECT_ERROR(vision::GetModel("resnet19_v1"), ValueError, "resnet19_v1 is not supported",
               "resnet18_v1", "mobilenetv2_0.25", "vgg19_bn");
  EXPECT_NO_THROW(Build("ResNet18_V1", {}));  // case-insensitive, as MXNet's lower()
  EXPECT_ERROR(vision::GetModel("vgg11", {.thumbnail = true}), ValueError, "thumbnail");
  EXPECT_ERROR(vision::GetModel("alexnet", {.classes = 0}), ValueError, "classes");
  EXPECT_ERROR(vision::GetResNet(3, 18), ValueError, "version: 3");
  EXPECT_ERROR(vision::GetResNet(1, 20), ValueError, "number of layers: 20");
  EXPECT_ERROR(vision::GetVGG(12, false), ValueError, "number of layers: 12");
  EXPECT_ERROR(vision::GetDenseNet(100), ValueError, "number of layers: 100");
  EXPECT_ERROR(vision::SqueezeNet("1.2"), ValueError, "version 1.2");
  EXPECT_ERROR(vision::ResNetV1(vision::ResidualBlock::kBasic, {2, 2}, {64, 64}), ValueError,
               "channels needs one entry more");
}

TEST(GluonModelZoo, PrefixAndThumbnailAsMXNet) {
  vision::ModelOptions options{.classes = 4, .thumbnail = true};
  options.prefix = "net_";
  const auto lines = NameLines(*Build("resnet18_v1", options));
  // thumbnail: one 3x3 stem convolution (MXNet: _conv3x3(64, 1, 0)), then stage 1.
  EXPECT_EQ(lines.front(), "features.0.weight net_conv0_weight 64x0x3x3");
  EXPECT_EQ(lines[1], "features.1.0.body.0.weight net_stage1_conv0_weight 64x64x3x3");
  EXPECT_EQ(lines.back(), "output.bias net_dense0_bias 4");
}

// ---- eager == hybridized ----

// NOTE [ Dropout in the hybrid checks ]
// ExpectHybridMatchesEager runs in training mode, where Dropout draws a random mask: the eager
// and the hybridized runs only see the same masks if they start from the same random state.
// A forward pre-hook on the network reseeds before every call; both runs then draw in the same
// order (the networks' Dropout layers follow one another).
void CheckHybrid(HybridBlock& net, const Shape& input, bool grads) {
  op::SeedRandom(11);
  net.Initialize(std::make_shared<init::Xavier>("gaussian", "in", 2.0));
  const size_t hook = net.RegisterForwardPreHook(
      [](gluon::Block&, const std::vector<NDArray>&) { op::SeedRandom(3); });
  test::HybridCheckOptions o;
  o.rtol = 1e-4;
  o.atol = 1e-5;
  o.check_grads = grads;
  test::ExpectHybridMatchesEager(net, {RandomArray(input, 5)}, o);
  net.RemoveHook(hook);
}

void CheckHybrid(const std::string& name, const Shape& input, bool grads = true) {
  SCOPED_TRACE(name);
  CheckHybrid(*Build(name, {.classes = 3}), input, grads);
}

// Every block type of every family, with gradients, at the smallest inputs; the networks that
// only stack more of the same blocks are in DISABLED_LargeNetworks below, for time.
TEST(GluonModelZooHybrid, ResNetBlocks) {
  // BasicBlockV1/V2 (18 layers) and BottleneckV1/V2 (50), with and without downsampling.
  for (const auto* name : {"resnet18_v1", "resnet18_v2", "resnet50_v1", "resnet50_v2"}) {
    CheckHybrid(name, Shape{2, 3, 32, 32});
  }
  SCOPED_TRACE("resnet18_v1 thumbnail");
  gluon::ResetBlockNames();
  CheckHybrid(*vision::GetModel("resnet18_v1", {.classes = 3, .thumbnail = true}),
              Shape{2, 3, 8, 8}, true);
}

TEST(GluonModelZooHybrid, MobileNets) {
  for (const auto* name :
       {"mobilenet1.0", "mobilenet0.75", "mobilenet0.5", "mobilenet0.25", "mobilenetv2_1.0",
        "mobilenetv2_0.75", "mobilenetv2_0.5", "mobilenetv2_0.25"}) {
    CheckHybrid(name, Shape{2, 3, 32, 32});
  }
}

TEST(GluonModelZooHybrid, SqueezeNets) {
  // The last pool is 13x13: 217 and 210 are the smallest inputs.
  CheckHybrid("squeezenet1.0", Shape{1, 3, 217, 217});
  CheckHybrid("squeezenet1.1", Shape{1, 3, 210, 210});
}

TEST(GluonModelZooHybrid, AlexNetAndVGG) {
  CheckHybrid("alexnet", Shape{2, 3, 63, 63});  // 63: the smallest input
  CheckHybrid("vgg11_bn", Shape{2, 3, 32, 32});
}

TEST(GluonModelZooHybrid, DenseNetBlocks) {
  // DenseNet's dense layers, transitions and stages at narrow widths (the last pool is 7x7:
  // 221 is the smallest input), with and without dropout.
  for (const double dropout : {0.0, 0.2}) {
    SCOPED_TRACE("dropout " + std::to_string(dropout));
    gluon::ResetBlockNames();
    vision::DenseNet net(8, 4, {2, 2, 2, 2}, 2, dropout, 3);
    CheckHybrid(net, Shape{1, 3, 221, 221}, true);
  }
}

// The rest: every zoo network not checked above, gradients included except for the deepest
// (forward and BatchNorm statistics only). About ten times the time of the suites above on
// two cores, so not run by default: --gtest_also_run_disabled_tests.
TEST(GluonModelZooHybrid, DISABLED_LargeNetworks) {
  for (const auto* name : {"resnet34_v1", "resnet34_v2", "vgg11", "vgg13", "vgg16", "vgg19",
                           "vgg13_bn", "vgg16_bn", "vgg19_bn"}) {
    CheckHybrid(name, Shape{2, 3, 32, 32});
  }
  CheckHybrid("densenet121", Shape{1, 3, 221, 221});
  CheckHybrid("inceptionv3", Shape{1, 3, 299, 299});  // 299: the smallest input
  for (const auto* name : {"resnet101_v1", "resnet152_v1", "resnet101_v2", "resnet152_v2"}) {
    CheckHybrid(name, Shape{2, 3, 32, 32}, false);
  }
  for (const auto* name : {"densenet161", "densenet169", "densenet201"}) {
    CheckHybrid(name, Shape{1, 3, 221, 221}, false);
  }
}

}  // namespace
}  // namespace mixnet

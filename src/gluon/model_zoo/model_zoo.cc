// get_model and the pretrained weights (mxnet/gluon/model_zoo/vision/__init__.py and
// model_store.py, without downloads).
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gluon/model_zoo/layers.h"
#include "mixnet/base/error.h"

namespace mixnet::gluon::model_zoo::vision {

std::vector<NDArray> ImageClassifier::HybridForward(const std::vector<NDArray>& inputs) {
  MX_CHECK(inputs.size() == 1, ValueError)
      << prefix() << ": a zoo network takes one input (N, C, H, W), got " << inputs.size();
  return {(*output())((*features())(inputs[0]))};
}

BlockPtr ImageClassifier::Child(const char* name) const {
  for (const auto& [n, c] : children())
    if (n == name) return c;
  MX_THROW(ValueError) << "Block '" << this->name() << "' has no child '" << name << "'";
}

namespace {

using Builder = std::function<std::shared_ptr<HybridBlock>(const ModelOptions&)>;

std::shared_ptr<HybridBlock> Finish(std::shared_ptr<HybridBlock> net, const std::string& name,
                                    const ModelOptions& options) {
  return detail::LoadPretrained(std::move(net), name, options);
}

// get_model's table: name -> builder.
const std::map<std::string, Builder>& Models() {
  static const std::map<std::string, Builder> models = [] {
    std::map<std::string, Builder> m;
    for (int version : {1, 2}) {
      for (int layers : {18, 34, 50, 101, 152}) {
        m["resnet" + std::to_string(layers) + "_v" + std::to_string(version)] =
            [=](const ModelOptions& o) { return GetResNet(version, layers, o); };
      }
    }
    for (int layers : {11, 13, 16, 19}) {
      for (bool bn : {false, true}) {
        m["vgg" + std::to_string(layers) + (bn ? "_bn" : "")] = [=](const ModelOptions& o) {
          return GetVGG(layers, bn, o);
        };
      }
    }
    m["alexnet"] = [](const ModelOptions& o) {
      return Finish(std::make_shared<AlexNet>(o.classes, o), "alexnet", o);
    };
    for (int layers : {121, 161, 169, 201}) {
      m["densenet" + std::to_string(layers)] = [=](const ModelOptions& o) {
        return GetDenseNet(layers, o);
      };
    }
    for (std::string version : {"1.0", "1.1"}) {
      m["squeezenet" + version] = [=](const ModelOptions& o) {
        return Finish(std::make_shared<SqueezeNet>(version, o.classes, o), "squeezenet" + version,
                      o);
      };
    }
    m["inceptionv3"] = [](const ModelOptions& o) {
      return Finish(std::make_shared<Inception3>(o.classes, o), "inceptionv3", o);
    };
    // MXNet's file names: multipliers as "1.0", "0.75", "0.5", "0.25".
    const std::vector<std::pair<std::string, double>> multipliers = {
        {"1.0", 1.0}, {"0.75", 0.75}, {"0.5", 0.5}, {"0.25", 0.25}};
    for (const auto& [suffix, multiplier] : multipliers) {
      m["mobilenet" + suffix] = [=](const ModelOptions& o) {
        return Finish(std::make_shared<MobileNet>(multiplier, o.classes, o), "mobilenet" + suffix,
                      o);
      };
      m["mobilenetv2_" + suffix] = [=](const ModelOptions& o) {
        return Finish(std::make_shared<MobileNetV2>(multiplier, o.classes, o),
                      "mobilenetv2_" + suffix, o);
      };
    }
    return m;
  }();
  return models;
}

// model_store._model_sha1: the first 8 hex digits of each file's SHA-1 name the file.
const std::map<std::string, std::string>& ShortHashes() {
  static const std::map<std::string, std::string> hashes = {
      {"alexnet", "44335d1f"},         {"densenet121", "f27dbf2d"},
      {"densenet161", "b6c8a957"},     {"densenet169", "2603f878"},
      {"densenet201", "1cdbc116"},     {"inceptionv3", "ed47ec45"},
      {"mobilenet0.25", "9f83e440"},   {"mobilenet0.5", "8e9d539c"},
      {"mobilenet0.75", "529b2c7f"},   {"mobilenet1.0", "6b8c5106"},
      {"mobilenetv2_1.0", "36da4ff1"}, {"mobilenetv2_0.75", "e2be7b72"},
      {"mobilenetv2_0.5", "aabd26cd"}, {"mobilenetv2_0.25", "ae8f9392"},
      {"resnet18_v1", "a0666292"},     {"resnet34_v1", "48216ba9"},
      {"resnet50_v1", "0aee57f9"},     {"resnet101_v1", "d988c13d"},
      {"resnet152_v1", "671c637a"},    {"resnet18_v2", "a81db45f"},
      {"resnet34_v2", "9d6b80bb"},     {"resnet50_v2", "ecdde353"},
      {"resnet101_v2", "18e93e4f"},    {"resnet152_v2", "f2695542"},
      {"squeezenet1.0", "264ba497"},   {"squeezenet1.1", "33ba0f93"},
      {"vgg11", "dd221b16"},           {"vgg11_bn", "ee79a809"},
      {"vgg13", "6bc5de58"},           {"vgg13_bn", "7d97a06c"},
      {"vgg16", "e660d456"},           {"vgg16_bn", "7f01cf05"},
      {"vgg19", "ad2f660d"},           {"vgg19_bn", "f360b758"}};
  return hashes;
}

std::string ExpandUser(const std::string& path) {
  if (path.empty() || path[0] != '~') return path;
  const char* home = std::getenv("HOME");
  return home == nullptr ? path : std::string(home) + path.substr(1);
}

}  // namespace

std::vector<std::string> ModelNames() {
  std::vector<std::string> names;
  for (const auto& [name, builder] : Models())
    names.push_back(name);
  return names;
}

std::string PretrainedFile(const std::string& name, const ModelOptions& options) {
  std::string path = ExpandUser(options.file);
  if (path.empty()) {
    MX_CHECK(!options.root.empty(), ValueError)
        << "GetModel(\"" << name << "\"): pretrained=true needs a local .params file: set "
        << "ModelOptions::file, or ModelOptions::root to a directory holding MXNet's "
        << "model-store files (mixnet does not download weights)";
    const auto hash = ShortHashes().find(name);
    MX_CHECK(hash != ShortHashes().end(), ValueError)
        << "GetModel: pretrained model for " << name << " is not available";
    path =
        (std::filesystem::path(ExpandUser(options.root)) / (name + "-" + hash->second + ".params"))
            .string();
  }
  MX_CHECK(std::filesystem::is_regular_file(path), ValueError)
      << "GetModel(\"" << name << "\"): pretrained weights file " << path
      << " does not exist (mixnet does not download weights; fetch it with MXNet's "
      << "get_model_file or pass ModelOptions::file)";
  return path;
}

namespace detail {

std::shared_ptr<HybridBlock> LoadPretrained(std::shared_ptr<HybridBlock> net,
                                            const std::string& name, const ModelOptions& options) {
  if (options.pretrained) net->LoadParameters(PretrainedFile(name, options), options.ctx);
  return net;
}

}  // namespace detail

std::shared_ptr<HybridBlock> GetModel(const std::string& name, const ModelOptions& options) {
  std::string key = name;
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto it = Models().find(key);
  if (it == Models().end()) {
    std::ostringstream known;
    for (const auto& [n, builder] : Models())
      known << "\n\t" << n;
    MX_THROW(ValueError) << "GetModel: model " << key << " is not supported. Available options are"
                         << known.str();
  }
  MX_CHECK(options.classes > 0, ValueError)
      << "GetModel(\"" << key << "\"): classes must be positive, got " << options.classes;
  MX_CHECK(!options.thumbnail || key.rfind("resnet", 0) == 0, ValueError)
      << "GetModel(\"" << key << "\"): thumbnail applies to the ResNets only";
  return it->second(options);
}

}  // namespace mixnet::gluon::model_zoo::vision

// mixnet_zoo_run: builds Gluon model-zoo networks, for the MXNet interoperability tests.
//   mixnet_zoo_run names CLASSES NAME...
//       For each network: a line "== NAME", then one line per parameter, in CollectParams
//       order: "STRUCTURAL_NAME PREFIXED_NAME SHAPE" (shape as 64x0x7x7, 0 = not known yet).
//   mixnet_zoo_run predict NAME CLASSES DATA.params OUT.params PARAMS [MORE_PARAMS...]
//       GetModel(NAME, pretrained from PARAMS), then its outputs on DATA's "data" in inference
//       mode, eagerly and hybridized: OUT is the list [eager, hybridized]. Each MORE_PARAMS
//       file (the same weights under the other name form: save_parameters' structural names
//       or the legacy save_params' names, without the network's prefix) is loaded into
//       another network and must give every parameter the same value (exit 1 naming the
//       first that differs).
// Errors go to stderr with exit code 1.
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "mixnet/gluon/model_zoo.h"
#include "mixnet/ndarray/serialize.h"

namespace {

namespace vision = mixnet::gluon::model_zoo::vision;
using mixnet::NDArray;

std::string ShapeString(const mixnet::Shape& shape) {
  std::string out;
  for (const int64_t d : shape) {
    if (!out.empty()) out += 'x';
    out += std::to_string(d);
  }
  return out;
}

int Names(int classes, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    mixnet::gluon::ResetBlockNames();
    auto net = vision::GetModel(name, {.classes = classes});
    std::printf("== %s\n", name.c_str());
    const auto structural = net->CollectParamsWithPrefix();
    for (const auto& [full_name, param] : net->CollectParams()) {
      std::string struct_name = "?";
      for (const auto& [s, p] : structural) {
        if (p == param) struct_name = s;
      }
      std::printf("%s %s %s\n", struct_name.c_str(), full_name.c_str(),
                  ShapeString(param->shape()).c_str());
    }
  }
  return 0;
}

int Predict(const std::string& name, int classes, const std::string& data_path,
            const std::string& out_path, const std::vector<std::string>& param_files) {
  const auto data = mixnet::LoadNDArrays(data_path);
  NDArray x;
  for (size_t i = 0; i < data.names.size(); ++i) {
    if (data.names[i] == "data") x = data.arrays[i];
  }
  if (x.is_none()) throw std::runtime_error(data_path + " has no array named 'data'");
  auto load = [&](const std::string& file) {
    mixnet::gluon::ResetBlockNames();
    return vision::GetModel(name, {.classes = classes, .pretrained = true, .file = file});
  };
  auto net = load(param_files[0]);
  std::vector<NDArray> outputs = {(*net)(x)};
  net->Hybridize();
  outputs.push_back((*net)(x));
  const auto want = net->CollectParamsWithPrefix();
  for (size_t f = 1; f < param_files.size(); ++f) {
    const auto got = load(param_files[f])->CollectParamsWithPrefix();
    for (size_t i = 0; i < want.size(); ++i) {
      if (got[i].second->data().ToVector<float>() != want[i].second->data().ToVector<float>()) {
        throw std::runtime_error(param_files[f] + ": " + got[i].first + " differs from " +
                                 param_files[0]);
      }
    }
  }
  mixnet::SaveNDArrays(out_path, outputs);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "names" && argc >= 4) {
      return Names(std::stoi(argv[2]), std::vector<std::string>(argv + 3, argv + argc));
    }
    if (cmd == "predict" && argc >= 7) {
      return Predict(argv[2], std::stoi(argv[3]), argv[4], argv[5],
                     std::vector<std::string>(argv + 6, argv + argc));
    }
    std::fprintf(stderr,
                 "usage: %s names CLASSES NAME...\n"
                 "       %s predict NAME CLASSES DATA.params OUT.params PARAMS...\n",
                 argv[0], argv[0]);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

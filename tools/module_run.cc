// mixnet_module_run: runs mod::Module on an MXNet checkpoint (PREFIX-symbol.json +
// PREFIX-%04d.params), for the MXNet interoperability tests.
//   mixnet_module_run predict PREFIX EPOCH DATA.params OUT.params
//       Module::Load, Bind for inference, Predict on DATA's "data" (one batch of all rows);
//       writes the outputs as a list.
//   mixnet_module_run fit PREFIX EPOCH DATA.params BATCH LR OUT_PREFIX
//       Module::Load, one epoch of Fit (plain SGD, no shuffle) on DATA's "data" and
//       "softmax_label", then SaveCheckpoint(OUT_PREFIX, 1).
// Errors go to stderr with exit code 1.
#include <cstdio>
#include <exception>
#include <map>
#include <string>

#include "mixnet/module/module.h"
#include "mixnet/ndarray/serialize.h"

namespace {

using mixnet::NDArray;

std::map<std::string, NDArray> LoadNamed(const std::string& path) {
  const auto list = mixnet::LoadNDArrays(path);
  std::map<std::string, NDArray> out;
  for (size_t i = 0; i < list.arrays.size() && i < list.names.size(); ++i)
    out.emplace(list.names[i], list.arrays[i]);
  return out;
}

int Predict(const std::string& prefix, int epoch, const std::string& data_path,
            const std::string& out_path) {
  const NDArray data = LoadNamed(data_path).at("data");
  auto m = mixnet::mod::Module::Load(prefix, epoch);
  mixnet::io::NDArrayIter it({{"data", data}}, {}, static_cast<int>(data.shape()[0]));
  m.Bind(it.provide_data(), {}, /*for_training=*/false);
  const auto outputs = m.Predict(it);
  mixnet::SaveNDArrays(out_path, outputs);
  return 0;
}

int Fit(const std::string& prefix, int epoch, const std::string& data_path, int batch,
        const std::string& lr, const std::string& out_prefix) {
  const auto arrays = LoadNamed(data_path);
  auto m = mixnet::mod::Module::Load(prefix, epoch);
  mixnet::io::NDArrayIter it({{"data", arrays.at("data")}},
                             {{"softmax_label", arrays.at("softmax_label")}}, batch);
  mixnet::mod::FitOptions options;
  options.optimizer = "sgd";
  options.optimizer_params = {{"learning_rate", lr}};
  options.num_epoch = 1;
  m.Fit(it, options);
  m.SaveCheckpoint(out_prefix, 1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "predict" && argc == 6)
      return Predict(argv[2], std::stoi(argv[3]), argv[4], argv[5]);
    if (cmd == "fit" && argc == 8) {
      return Fit(argv[2], std::stoi(argv[3]), argv[4], std::stoi(argv[5]), argv[6], argv[7]);
    }
    std::fprintf(stderr,
                 "usage: %s predict PREFIX EPOCH DATA.params OUT.params\n"
                 "       %s fit PREFIX EPOCH DATA.params BATCH LR OUT_PREFIX\n",
                 argv[0], argv[0]);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

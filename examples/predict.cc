// Inference from an exported model (MXNet's PREFIX-symbol.json + PREFIX-NNNN.params, as
// HybridBlock.export, Module.save_checkpoint or mx.callback.do_checkpoint write them), the C++
// counterpart of python -m mixnet.examples.export_inference and of MXNet's C++ predict example.
//
//   build/examples/predict PREFIX EPOCH [options]
//   build/examples/predict --symbol FILE.json --params FILE.params [options]
//     --data-dir DIR      Fashion-MNIST idx files (/usr/share/datasets/fashion-mnist): runs the
//                         t10k test images, prints predictions and the accuracy
//     --input FILE.nd     instead, the first array of an .nd file (mx.nd.save) as the inputs
//     --num N             use the first N inputs (0: all)
//     --batch-size B      images per forward pass (100)
//     --mean M --std S    Fashion-MNIST inputs are (pixel / 255 - M) / S (0, 1)
//     --input-name NAME   the graph's input variable (data)
//     --save-outputs F    writes the network's outputs, one (N, classes) array, as an .nd file
//     --show K            prints the top-1 class of the first K inputs (5)
//
// The model is loaded with gluon::SymbolBlock::Imports (gluon.SymbolBlock.imports), hybridized
// so that the graph runs as one CachedOp, and called on batches; a last partial batch is a new
// input shape (traced once more).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "fashion_mnist.h"
#include "mixnet/gluon/block.h"
#include "mixnet/ndarray/serialize.h"

namespace {

using mixnet::NDArray;

struct Options {
  std::string symbol, params, data_dir = "/usr/share/datasets/fashion-mnist", input;
  std::string input_name = "data", save_outputs;
  int64_t num = 0, batch_size = 100, show = 5;
  float mean = 0.0f, std = 1.0f;
};

int Usage() {
  std::fprintf(stderr,
               "usage: predict PREFIX EPOCH | --symbol FILE.json --params FILE.params\n"
               "         [--data-dir DIR | --input FILE.nd] [--num N] [--batch-size B]\n"
               "         [--mean M] [--std S] [--input-name NAME] [--save-outputs FILE.nd]\n"
               "         [--show K]\n");
  return 2;
}

bool ParseArgs(int argc, char** argv, Options* o) {
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      positional.push_back(a);
      continue;
    }
    if (i + 1 >= argc) return false;
    const std::string v = argv[++i];
    if (a == "--symbol")
      o->symbol = v;
    else if (a == "--params")
      o->params = v;
    else if (a == "--data-dir")
      o->data_dir = v;
    else if (a == "--input")
      o->input = v;
    else if (a == "--num")
      o->num = std::atoll(v.c_str());
    else if (a == "--batch-size")
      o->batch_size = std::atoll(v.c_str());
    else if (a == "--mean")
      o->mean = std::strtof(v.c_str(), nullptr);
    else if (a == "--std")
      o->std = std::strtof(v.c_str(), nullptr);
    else if (a == "--input-name")
      o->input_name = v;
    else if (a == "--save-outputs")
      o->save_outputs = v;
    else if (a == "--show")
      o->show = std::atoll(v.c_str());
    else
      return false;
  }
  if (positional.size() == 2) {  // PREFIX EPOCH, MXNet's checkpoint naming
    char epoch[16];
    std::snprintf(epoch, sizeof(epoch), "-%04d.params", std::atoi(positional[1].c_str()));
    o->symbol = positional[0] + "-symbol.json";
    o->params = positional[0] + epoch;
  } else if (!positional.empty()) {
    return false;
  }
  return !o->symbol.empty() && !o->params.empty() && o->batch_size > 0 && o->std != 0.0f;
}

/*! \brief The inputs (N, 1, 28, 28) and, for Fashion-MNIST, the labels (else empty). */
NDArray LoadInputs(const Options& o, std::vector<int>* labels) {
  if (!o.input.empty()) {
    mixnet::NDArrayList list = mixnet::LoadNDArrays(o.input);
    MX_CHECK(!list.arrays.empty(), ValueError) << "predict: " << o.input << " holds no array";
    NDArray x = list.arrays[0];
    const int64_t n = o.num > 0 ? std::min(o.num, x.shape()[0]) : x.shape()[0];
    return x.Slice(0, n);
  }
  fashion_mnist::Dataset d = fashion_mnist::Load(o.data_dir, "t10k");
  const int64_t n = o.num > 0 ? std::min(o.num, d.num) : d.num;
  const int64_t pixels = d.rows * d.cols;
  std::vector<float> images(d.images.begin(), d.images.begin() + n * pixels);
  for (float& p : images)
    p = (p - o.mean) / o.std;
  labels->assign(d.labels.begin(), d.labels.begin() + n);
  return NDArray::FromVector(images, {n, 1, d.rows, d.cols});
}

int Run(const Options& o) {
  std::vector<int> labels;
  const NDArray x = LoadInputs(o, &labels);
  const int64_t n = x.shape()[0];

  auto net = mixnet::gluon::SymbolBlock::Imports(o.symbol, {o.input_name}, o.params);
  net->Hybridize();
  const auto start = std::chrono::steady_clock::now();
  std::vector<NDArray> outs;
  for (int64_t b = 0; b < n; b += o.batch_size)
    outs.push_back((*net)(x.Slice(b, std::min(n, b + o.batch_size))));
  std::vector<float> probs;  // (n, classes), row-major
  for (const NDArray& out : outs) {
    const std::vector<float> v = out.ToVector<float>();
    probs.insert(probs.end(), v.begin(), v.end());
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int64_t classes = n > 0 ? static_cast<int64_t>(probs.size()) / n : 0;

  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = probs.data() + i * classes;
    const int64_t top = std::max_element(row, row + classes) - row;
    if (i < o.show) {
      std::printf("input %lld: class %lld (score %.4f)", static_cast<long long>(i),
                  static_cast<long long>(top), row[top]);
      if (!labels.empty()) std::printf(", true %d", labels[static_cast<size_t>(i)]);
      std::printf("\n");
    }
    if (!labels.empty() && top == labels[static_cast<size_t>(i)]) ++correct;
  }
  std::printf("Predicted %lld inputs in %.3f s (%.0f inputs/s)\n", static_cast<long long>(n), secs,
              static_cast<double>(n) / std::max(secs, 1e-9));
  if (!labels.empty()) {
    std::printf("Test accuracy %.4f on %lld images\n",
                static_cast<double>(correct) / static_cast<double>(std::max<int64_t>(n, 1)),
                static_cast<long long>(n));
  }
  if (!o.save_outputs.empty()) {
    const NDArray all = NDArray::FromVector(probs, {n, classes});
    mixnet::SaveNDArrays(o.save_outputs, std::vector<NDArray>{all});
    std::printf("Saved the outputs (%lld, %lld) to %s\n", static_cast<long long>(n),
                static_cast<long long>(classes), o.save_outputs.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) return Usage();
  try {
    return Run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "predict: %s\n", e.what());
    return 1;
  }
}

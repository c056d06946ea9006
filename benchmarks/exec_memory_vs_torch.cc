// Memory and speed of symbolic training: mixnet's executor with memory planning off, on, and
// on with mirroring, against PyTorch (libtorch, C++) running the same training step.
//
// Networks: ResNet-18, CIFAR variant (3x3 conv stem 64, no max-pool, 4 stages of 2 basic
// blocks 64/128/256/512 with BatchNorm + relu, stride-2 downsampling with a 1x1 projection,
// global average pool, FC 10), input (64, 3, 32, 32); and an LSTM language model (Embedding
// 10000 x 200, 2 LSTM layers unrolled over 35 steps with hidden 200 and batch 20, cells made of
// FullyConnected + SliceChannel + Activation + elementwise ops as mx.rnn.LSTMCell unrolls them,
// outputs concatenated, FC to the vocabulary). Both end in SoftmaxOutput (torch: cross_entropy).
//
// A training step is forward + backward, no optimizer update, on both sides. mixnet binds with
// Executor::SimpleBind (gradients written, none for data, label and the LSTM's begin states).
//
// Memory, mixnet: the storage layer's bytes in use (pooled blocks not counted). Static memory
// is what binding and a first step leave allocated: parameters, their gradients and BatchNorm
// statistics ("params+grads"), the planned internal buffers ("internal planned", the
// executor's own arrays: activations and their gradients, as memory_report() gives them), and
// "other static": inputs, the outputs' head gradients, and the pool's rounding of block sizes
// (up to 25% of a block; MIXNET_CPU_MEM_POOL_TYPE=Unpooled rounds to 64 bytes only, so that
// the figures are the bytes asked for). "temp" is the most a step allocates on top (kernel
// workspaces); peak = static + temp.
// Memory, torch: every tensor byte, counted by a wrapper around c10's CPU allocator (oneDNN's
// scratch memory in torch goes through it too); peak is the most in use during the step,
// counted from before the model was made, so it includes parameters, gradients and inputs.
// torch runs the step two ways: with gradients kept and zeroed (as libtorch 1.13's optimizers
// do), and with gradients set to none first, so that backward allocates them while it frees
// activations (mixnet's gradient arrays, bound once, exist for the whole step).
//
// Time: all configurations and torch run in alternating batches of `steps` steps (mixnet waits
// for each step), with the same thread count (OMP_NUM_THREADS; torch::set_num_threads to match);
// medians over the batches.
//
//   exec_memory_vs_torch [--net resnet|lstm|all] [--reps R (7)] [--steps S (2)]
//                        [--dump PREFIX]  (each configuration's compiled graph, DebugStr, to
//                                          PREFIX<net>_<config>.txt)
#include <c10/core/CPUAllocator.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "mixnet/engine/engine.h"
#include "mixnet/executor/executor.h"
#include "mixnet/storage/storage.h"
#include "mixnet/symbol/symbol.h"
#include "torch_peer.h"

namespace {

using Clock = std::chrono::steady_clock;
using mixnet::NDArray;
using mixnet::Shape;
using mixnet::sym::Symbol;
namespace exec = mixnet::exec;

constexpr double kMB = 1024.0 * 1024.0;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// ---- torch's memory: a counting wrapper around c10's CPU allocator ----

/*!
 * \brief Counts the bytes of every live CPU allocation. Blocks keep the inner allocator's
 * DataPtr in a table; the ones handed out have data == context, so raw_allocate (oneDNN's
 * scratch memory in torch) works through raw_deleter.
 */
class CountingAllocator final : public c10::Allocator {
 public:
  explicit CountingAllocator(c10::Allocator* inner) : inner_(inner) {}

  c10::DataPtr allocate(size_t n) const override {
    c10::DataPtr p = inner_->allocate(n);
    void* data = p.get();
    if (data == nullptr) return p;
    const c10::Device device = p.device();
    std::lock_guard<std::mutex> lock(mu_);
    current_ += n;
    peak_ = std::max(peak_, current_);
    live_.emplace(data, Block{n, std::move(p)});
    return {data, data, &Delete, device};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &Delete; }

  size_t current() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  size_t peak() const {
    std::lock_guard<std::mutex> lock(mu_);
    return peak_;
  }
  void ResetPeak() {
    std::lock_guard<std::mutex> lock(mu_);
    peak_ = current_;
  }

  static CountingAllocator* Install() {
    static CountingAllocator* a = [] {
      auto* counting = new CountingAllocator(c10::GetCPUAllocator());
      c10::SetCPUAllocator(counting, /*priority=*/100);
      TORCH_CHECK(c10::GetCPUAllocator() == counting, "the counting allocator was not installed");
      return counting;
    }();
    return a;
  }

 private:
  struct Block {
    size_t bytes = 0;
    c10::DataPtr inner;  // frees the block when dropped
  };
  static void Delete(void* ptr) {
    if (ptr == nullptr) return;  // raw_allocate(0) (oneDNN) frees a null pointer
    CountingAllocator* self = Install();
    Block b;
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      auto it = self->live_.find(ptr);
      TORCH_CHECK(it != self->live_.end(), "counting allocator: unknown pointer");
      b = std::move(it->second);
      self->live_.erase(it);
      self->current_ -= b.bytes;
    }
  }  // b.inner frees the block outside the lock

  c10::Allocator* inner_;
  mutable std::mutex mu_;
  mutable size_t current_ = 0, peak_ = 0;
  mutable std::unordered_map<void*, Block> live_;
};

// ---- the networks in mixnet ----

std::string Tuple(int a) {
  return "(" + std::to_string(a) + ", " + std::to_string(a) + ")";
}

/*! \brief Convolution (no bias) + BatchNorm, then relu if asked. */
Symbol ConvBN(const Symbol& x, int filters, int kernel, int stride, const std::string& name,
              bool relu) {
  Symbol h = Symbol::Create("Convolution", {x},
                            {{"num_filter", std::to_string(filters)},
                             {"kernel", Tuple(kernel)},
                             {"stride", Tuple(stride)},
                             {"pad", Tuple(kernel / 2)},
                             {"no_bias", "True"}},
                            name + "_conv");
  h = Symbol::Create("BatchNorm", {h}, {{"fix_gamma", "False"}, {"eps", "2e-5"}}, name + "_bn");
  return relu ? Symbol::Create("Activation", {h}, {{"act_type", "relu"}}, name + "_relu") : h;
}

Symbol MixnetResNet18() {
  Symbol x = ConvBN(Symbol::Variable("data"), 64, 3, 1, "stem", true);
  int in = 64;
  for (int s = 0; s < 4; ++s) {
    const int filters = 64 << s;
    for (int b = 0; b < 2; ++b) {
      const int stride = s > 0 && b == 0 ? 2 : 1;
      const std::string name = "stage" + std::to_string(s + 1) + "_unit" + std::to_string(b + 1);
      Symbol h = ConvBN(x, filters, 3, stride, name + "_1", true);
      h = ConvBN(h, filters, 3, 1, name + "_2", false);
      const Symbol shortcut =
          stride != 1 || in != filters ? ConvBN(x, filters, 1, stride, name + "_sc", false) : x;
      x = Symbol::Create("Activation", {h + shortcut}, {{"act_type", "relu"}}, name + "_relu");
      in = filters;
    }
  }
  x = Symbol::Create("Pooling", {x},
                     {{"global_pool", "True"}, {"pool_type", "avg"}, {"kernel", Tuple(1)}}, "pool");
  x = Symbol::Create("Flatten", {x}, {}, "flatten");
  x = Symbol::Create("FullyConnected", {x}, {{"num_hidden", "10"}}, "fc");
  return Symbol::Create("SoftmaxOutput", {x}, {}, "softmax");
}

struct LstmShape {
  int vocab = 10000, embed = 200, hidden = 200, layers = 2, seq = 35, batch = 20;
};

/*! \brief As mx.rnn.LSTMCell unrolls: weights shared over time, one gate FC per input. */
Symbol MixnetLstmLM(const LstmShape& d) {
  Symbol embed = Symbol::Create(
      "Embedding", {Symbol::Variable("data")},
      {{"input_dim", std::to_string(d.vocab)}, {"output_dim", std::to_string(d.embed)}}, "embed");
  Symbol steps = Symbol::Create(
      "SliceChannel", {embed},
      {{"num_outputs", std::to_string(d.seq)}, {"axis", "1"}, {"squeeze_axis", "True"}},
      "embed_steps");
  std::vector<Symbol> inputs;
  for (int t = 0; t < d.seq; ++t)
    inputs.push_back(steps[static_cast<size_t>(t)]);
  const mixnet::op::AttrDict gates_fc = {{"num_hidden", std::to_string(4 * d.hidden)}};
  for (int l = 0; l < d.layers; ++l) {
    const std::string p = "lstm_l" + std::to_string(l) + "_";
    const Symbol i2h_w = Symbol::Variable(p + "i2h_weight"),
                 i2h_b = Symbol::Variable(p + "i2h_bias");
    const Symbol h2h_w = Symbol::Variable(p + "h2h_weight"),
                 h2h_b = Symbol::Variable(p + "h2h_bias");
    Symbol h = Symbol::Variable(p + "begin_state_0"), c = Symbol::Variable(p + "begin_state_1");
    for (int t = 0; t < d.seq; ++t) {
      const std::string n = p + "t" + std::to_string(t) + "_";
      const Symbol i2h = Symbol::Create(
          "FullyConnected", {inputs[static_cast<size_t>(t)], i2h_w, i2h_b}, gates_fc, n + "i2h");
      const Symbol h2h = Symbol::Create("FullyConnected", {h, h2h_w, h2h_b}, gates_fc, n + "h2h");
      const Symbol gates =
          Symbol::Create("SliceChannel", {i2h + h2h}, {{"num_outputs", "4"}}, n + "slice");
      auto act = [&](size_t i, const char* type, const char* name) {
        return Symbol::Create("Activation", {gates[i]}, {{"act_type", type}}, n + name);
      };
      const Symbol in_gate = act(0, "sigmoid", "i"), forget_gate = act(1, "sigmoid", "f");
      const Symbol in_transform = act(2, "tanh", "c"), out_gate = act(3, "sigmoid", "o");
      c = forget_gate * c + in_gate * in_transform;
      h = out_gate * Symbol::Create("Activation", {c}, {{"act_type", "tanh"}}, n + "state");
      inputs[static_cast<size_t>(t)] = h;
    }
  }
  // merge_outputs=True: expand_dims + Concat along time, then (batch * seq, hidden).
  std::vector<Symbol> expanded;
  for (const Symbol& h : inputs)
    expanded.push_back(Symbol::Create("expand_dims", {h}, {{"axis", "1"}}));
  Symbol out = Symbol::Create("Concat", expanded,
                              {{"num_args", std::to_string(d.seq)}, {"dim", "1"}}, "merge");
  out = Symbol::Create("Reshape", {out}, {{"shape", "(-1, " + std::to_string(d.hidden) + ")"}});
  out = Symbol::Create("FullyConnected", {out}, {{"num_hidden", std::to_string(d.vocab)}}, "pred");
  const Symbol label = Symbol::Create("Reshape", {Symbol::Variable("softmax_label")},
                                      {{"shape", "(-1,)"}}, "label_flat");
  return Symbol::Create("SoftmaxOutput", {out, label}, {}, "softmax");
}

// ---- the networks in torch ----

struct TorchResNet18 : torch::nn::Module {
  struct Unit {
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv_sc{nullptr};
    torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn_sc{nullptr};
  };
  TorchResNet18() {
    int in = 64;
    stem = register_module("stem", Conv(3, 64, 3, 1));
    stem_bn = register_module("stem_bn", torch::nn::BatchNorm2d(64));
    for (int s = 0; s < 4; ++s) {
      const int filters = 64 << s;
      for (int b = 0; b < 2; ++b) {
        const int stride = s > 0 && b == 0 ? 2 : 1;
        const std::string name = "s" + std::to_string(s) + "u" + std::to_string(b);
        Unit u;
        u.conv1 = register_module(name + "c1", Conv(in, filters, 3, stride));
        u.bn1 = register_module(name + "b1", torch::nn::BatchNorm2d(filters));
        u.conv2 = register_module(name + "c2", Conv(filters, filters, 3, 1));
        u.bn2 = register_module(name + "b2", torch::nn::BatchNorm2d(filters));
        if (stride != 1 || in != filters) {
          u.conv_sc = register_module(name + "csc", Conv(in, filters, 1, stride));
          u.bn_sc = register_module(name + "bsc", torch::nn::BatchNorm2d(filters));
        }
        units.push_back(u);
        in = filters;
      }
    }
    fc = register_module("fc", torch::nn::Linear(512, 10));
  }
  static torch::nn::Conv2d Conv(int in, int out, int k, int stride) {
    return torch::nn::Conv2d(
        torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2).bias(false));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(stem_bn->forward(stem->forward(x)));
    for (Unit& u : units) {
      torch::Tensor h = torch::relu(u.bn1->forward(u.conv1->forward(x)));
      h = u.bn2->forward(u.conv2->forward(h));
      x = torch::relu(h + (u.conv_sc ? u.bn_sc->forward(u.conv_sc->forward(x)) : x));
    }
    return fc->forward(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
  }
  torch::nn::Conv2d stem{nullptr};
  torch::nn::BatchNorm2d stem_bn{nullptr};
  std::vector<Unit> units;
  torch::nn::Linear fc{nullptr};
};

/*! \brief The LSTM LM: unrolled as mixnet's (Linear layers), or with torch::nn::LSTM. */
struct TorchLstmLM : torch::nn::Module {
  TorchLstmLM(const LstmShape& d, bool fused) : d_(d), fused_(fused) {
    embed = register_module("embed", torch::nn::Embedding(d.vocab, d.embed));
    if (fused) {
      lstm = register_module(
          "lstm",
          torch::nn::LSTM(
              torch::nn::LSTMOptions(d.embed, d.hidden).num_layers(d.layers).batch_first(true)));
    } else {
      for (int l = 0; l < d.layers; ++l) {
        const int in = l == 0 ? d.embed : d.hidden;
        i2h.push_back(
            register_module("i2h" + std::to_string(l), torch::nn::Linear(in, 4 * d.hidden)));
        h2h.push_back(
            register_module("h2h" + std::to_string(l), torch::nn::Linear(d.hidden, 4 * d.hidden)));
      }
    }
    pred = register_module("pred", torch::nn::Linear(d.hidden, d.vocab));
  }
  torch::Tensor forward(const torch::Tensor& data) {
    torch::Tensor x = embed->forward(data);  // (batch, seq, embed)
    torch::Tensor out;
    if (fused_) {
      out = std::get<0>(lstm->forward(x));
    } else {
      std::vector<torch::Tensor> inputs = x.unbind(1);
      for (size_t l = 0; l < i2h.size(); ++l) {
        torch::Tensor h = torch::zeros({d_.batch, d_.hidden}), c = torch::zeros_like(h);
        for (auto& in : inputs) {
          auto gates = (i2h[l]->forward(in) + h2h[l]->forward(h)).chunk(4, 1);
          c = torch::sigmoid(gates[1]) * c + torch::sigmoid(gates[0]) * torch::tanh(gates[2]);
          h = torch::sigmoid(gates[3]) * torch::tanh(c);
          in = h;
        }
      }
      out = torch::stack(inputs, 1);
    }
    return pred->forward(out.reshape({-1, d_.hidden}));
  }
  LstmShape d_;
  bool fused_;
  torch::nn::Embedding embed{nullptr};
  torch::nn::LSTM lstm{nullptr};
  std::vector<torch::nn::Linear> i2h, h2h;
  torch::nn::Linear pred{nullptr};
};

// ---- measuring ----

size_t InUse() {
  mixnet::Engine::Get()->WaitForAll();
  return mixnet::Storage::Get()->Stats(mixnet::Context::cpu()).bytes_in_use;
}

size_t PeakInUse() {
  mixnet::Engine::Get()->WaitForAll();
  return mixnet::Storage::Get()->Stats(mixnet::Context::cpu()).peak_bytes_in_use;
}

/*! \brief Uniform values in [lo, hi), or integers in [0, classes) when `classes` > 0. */
void FillRandom(const NDArray& a, std::mt19937* rng, float lo, float hi, int classes = 0) {
  std::vector<float> v(static_cast<size_t>(a.Size()));
  std::uniform_real_distribution<float> u(lo, hi);
  std::uniform_int_distribution<int> k(0, std::max(classes, 1) - 1);
  for (float& x : v)
    x = classes > 0 ? static_cast<float>(k(*rng)) : u(*rng);
  a.SyncCopyFromHost(v.data(), v.size());
}

double Timed(const std::function<void()>& step, int steps) {
  const auto t0 = Clock::now();
  for (int i = 0; i < steps; ++i)
    step();
  return std::chrono::duration<double>(Clock::now() - t0).count() / steps;
}

/*! \brief One mixnet configuration, bound and measured. */
struct MixnetSide {
  std::string name;
  exec::ExecutorOptions options;
  std::unique_ptr<exec::Executor> exec;
  exec::MemoryReport report;
  size_t params = 0;  // parameters, their gradients, BatchNorm statistics
  size_t static_bytes = 0, temp_bytes = 0;
  std::vector<double> seconds;

  void Step() const {
    exec->Forward(true);
    exec->Backward();
    mixnet::Engine::Get()->WaitForAll();
  }
  size_t peak() const { return static_bytes + temp_bytes; }
};

/*!
 * \brief One torch model: its step is forward + loss + backward. Gradients are either kept
 * between steps and zeroed first (libtorch 1.13's Optimizer::zero_grad), or set to none first,
 * so that backward allocates them as it frees activations (less peak memory; the gradients
 * still exist after the step, for an update).
 */
struct TorchSide {
  std::string name;
  bool grads_kept = false;
  std::shared_ptr<torch::nn::Module> model;
  std::function<torch::Tensor()> loss;
  size_t params = 0;  // parameters, their gradients, buffers (BatchNorm statistics)
  size_t peak = 0;    // above what was in use before the model was made
  std::vector<double> seconds;

  void Step() const {
    model->zero_grad(/*set_to_none=*/!grads_kept);
    loss().backward();
  }
};

struct Workload {
  std::string name, short_name;
  Symbol net;
  std::unordered_map<std::string, Shape> shapes;
  std::unordered_map<std::string, int> classes;  // integer inputs (ids, labels): their range
  std::unordered_set<std::string> inputs;        // data, labels, begin states: no gradient
};

using TorchInputs = std::pair<torch::Tensor, torch::Tensor>;  // data, labels

/*!
 * \brief A torch side whose loss is cross_entropy(model(data), labels), measured: the model and
 * its inputs are made with the counting allocator watching.
 */
template <typename Model>
TorchSide MakeTorchSide(const std::string& name, bool grads_kept,
                        const std::function<std::shared_ptr<Model>()>& make_model,
                        const std::function<TorchInputs()>& make_inputs, int steps) {
  CountingAllocator* counting = CountingAllocator::Install();
  const size_t before = counting->current();
  TorchSide t;
  t.name = name + (grads_kept ? ", grads kept" : ", grads set to none");
  t.grads_kept = grads_kept;
  auto model = make_model();
  const auto [data, label] = make_inputs();
  t.model = model;
  t.loss = [model, data, label] {
    return torch::nn::functional::cross_entropy(model->forward(data), label);
  };
  for (const auto& p : t.model->parameters())
    t.params += 2 * p.nbytes();
  for (const auto& b : t.model->buffers())
    t.params += b.nbytes();
  t.Step();  // warm-up: oneDNN primitives, first-touch
  counting->ResetPeak();
  for (int i = 0; i < steps; ++i)
    t.Step();
  t.peak = counting->peak() - before;
  return t;
}

std::string g_dump_prefix;  // --dump PREFIX: each configuration's compiled graph to a file

std::vector<MixnetSide> BindMixnet(const Workload& w, int steps) {
  std::mt19937 rng(0);
  std::vector<MixnetSide> sides(3);
  sides[0].name = "planning off";
  sides[0].options.plan_memory = false;
  sides[0].options.mirror = false;
  sides[1].name = "planning on";
  sides[1].options.plan_memory = true;
  sides[1].options.mirror = false;
  sides[2].name = "planning + mirror";
  sides[2].options.plan_memory = true;
  sides[2].options.mirror = true;
  std::unordered_map<std::string, exec::GradReq> reqs;
  for (const std::string& n : w.inputs)
    reqs[n] = exec::GradReq::kNull;
  for (MixnetSide& m : sides) {
    const size_t before = InUse();
    m.exec = exec::Executor::SimpleBind(w.net, mixnet::Context::cpu(), w.shapes, {},
                                        exec::GradReq::kWrite, reqs, nullptr, m.options);
    m.report = m.exec->memory_report();
    if (!g_dump_prefix.empty()) {
      std::string file = g_dump_prefix + w.short_name + "_" + m.name + ".txt";
      std::replace(file.begin(), file.end(), ' ', '_');
      std::ofstream(file) << m.exec->DebugStr();
    }
    for (const auto& [name, a] : m.exec->arg_dict()) {
      auto k = w.classes.find(name);
      if (k != w.classes.end()) {
        FillRandom(a, &rng, 0, 0, k->second);
      } else {
        FillRandom(a, &rng, -0.05F, 0.05F);
        if (!w.inputs.count(name)) m.params += a.nbytes();
      }
    }
    for (const auto& [name, g] : m.exec->grad_dict())
      m.params += g.nbytes();
    for (const auto& [name, a] : m.exec->aux_dict()) {
      a.Fill(name.ends_with("var") ? 1.0 : 0.0);
      m.params += a.nbytes();
    }
    m.Step();  // first step: buffers allocated on first write, kernels prepared
    const size_t after = InUse();
    m.static_bytes = after - before;
    mixnet::Storage::Get()->ResetPeak(mixnet::Context::cpu());
    for (int i = 0; i < steps; ++i)
      m.Step();
    m.temp_bytes = PeakInUse() - after;
  }
  return sides;
}

void Report(const Workload& w, std::vector<MixnetSide>& mx, std::vector<TorchSide>& th, int reps,
            int steps) {
  // Time: every side in turn, in alternating batches.
  for (int r = 0; r < reps; ++r) {
    for (MixnetSide& m : mx)
      m.seconds.push_back(Timed([&] { m.Step(); }, steps));
    for (TorchSide& t : th)
      t.seconds.push_back(Timed([&] { t.Step(); }, steps));
  }
  std::printf("\n### %s\n\n", w.name.c_str());
  std::printf(
      "| side | internal planned MB | internal unplanned MB | params+grads MB | other static MB "
      "| temp MB | peak MB | peak - params+grads MB | step ms |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const MixnetSide& m : mx) {
    std::printf(
        "| mixnet, %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", m.name.c_str(),
        m.report.planned_bytes / kMB, m.report.unplanned_bytes / kMB, m.params / kMB,
        (static_cast<double>(m.static_bytes) - static_cast<double>(m.params) -
         static_cast<double>(m.report.planned_bytes)) /
            kMB,
        m.temp_bytes / kMB, m.peak() / kMB, (m.peak() - m.params) / kMB, Median(m.seconds) * 1e3);
  }
  for (const TorchSide& t : th) {
    std::printf("| torch, %s | | | %.1f | | | %.1f | %.1f | %.1f |\n", t.name.c_str(),
                t.params / kMB, t.peak / kMB, (t.peak - t.params) / kMB, Median(t.seconds) * 1e3);
  }
  const MixnetSide &off = mx[0], &on = mx[1], &mirror = mx[2];
  std::printf("\nplan: %zu buffers, %zu in place, %zu shared; mirror: %zu nodes recomputed\n",
              on.report.num_buffers, on.report.inplace_entries, on.report.shared_entries,
              mirror.report.mirrored_nodes);
  const auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  // Activations and their gradients: the internal arrays and the kernels' temporaries.
  const auto act_grad = [](const MixnetSide& m) {
    return static_cast<double>(m.report.planned_bytes + m.temp_bytes);
  };
  const double plan_cut = ratio(act_grad(off), act_grad(on));
  const double mirror_cut = ratio(act_grad(on), act_grad(mirror));
  std::vector<double> mirror_time;  // per batch: both ran in the same turn
  for (size_t r = 0; r < on.seconds.size(); ++r)
    mirror_time.push_back(ratio(mirror.seconds[r], on.seconds[r]));
  const double slowdown = Median(mirror_time) - 1;
  std::printf("planning off / on: internal %.2fx, internal + temp %.2fx, peak %.2fx\n",
              ratio(off.report.planned_bytes, on.report.planned_bytes), plan_cut,
              ratio(off.peak(), on.peak()));
  std::printf(
      "mirroring vs planning on: internal %.2fx smaller, internal + temp %.2fx, peak %.2fx; "
      "step time %+.1f%% (median of per-batch ratios)\n",
      ratio(on.report.planned_bytes, mirror.report.planned_bytes), mirror_cut,
      ratio(on.peak(), mirror.peak()), slowdown * 100);
  const double best = static_cast<double>(std::min(on.peak(), mirror.peak()));
  for (const TorchSide& t : th) {
    std::printf(
        "mixnet peak / torch (%s) peak: planning on %.2fx, with mirroring %.2fx: below "
        "torch's %s\n",
        t.name.c_str(), ratio(on.peak(), t.peak), ratio(mirror.peak(), t.peak),
        best < static_cast<double>(t.peak) ? "met" : "NOT met");
  }
  const auto verdict = [](bool ok) { return ok ? "met" : "NOT met"; };
  std::printf(
      "goals: planning cuts activations + gradients >= 2x: %s; mirroring cuts further at <= 30%% "
      "slowdown: %s\n",
      verdict(plan_cut >= 2), verdict(mirror_cut > 1.01 && slowdown <= 0.30));
  std::fflush(stdout);
}

void ResNet(int reps, int steps) {
  const int64_t batch = 64;
  Workload w{"ResNet-18 (CIFAR), batch 64, input (64, 3, 32, 32)",
             "resnet18",
             MixnetResNet18(),
             {{"data", Shape{batch, 3, 32, 32}}, {"softmax_label", Shape{batch}}},
             {{"softmax_label", 10}},
             {"data", "softmax_label"}};
  std::vector<MixnetSide> mx = BindMixnet(w, steps);
  std::vector<TorchSide> th;
  for (const bool grads_kept : {true, false}) {
    th.push_back(MakeTorchSide<TorchResNet18>(
        "torch::nn", grads_kept, [] { return std::make_shared<TorchResNet18>(); },
        [&] {
          return TorchInputs(torch::rand({batch, 3, 32, 32}), torch::randint(0, 10, {batch}));
        },
        steps));
  }
  Report(w, mx, th, reps, steps);
}

void LstmLM(int reps, int steps) {
  const LstmShape d;
  Workload w{"LSTM LM: vocab 10000, embed 200, 2 x LSTM 200 unrolled over 35 steps, batch 20",
             "lstm_lm",
             MixnetLstmLM(d),
             {{"data", Shape{d.batch, d.seq}}, {"softmax_label", Shape{d.batch, d.seq}}},
             {{"data", d.vocab}, {"softmax_label", d.vocab}},
             {"data", "softmax_label"}};
  for (int l = 0; l < d.layers; ++l) {
    for (int s = 0; s < 2; ++s) {
      const std::string n = "lstm_l" + std::to_string(l) + "_begin_state_" + std::to_string(s);
      w.shapes[n] = Shape{d.batch, d.hidden};
      w.inputs.insert(n);
    }
  }
  std::vector<MixnetSide> mx = BindMixnet(w, steps);
  std::vector<TorchSide> th;
  for (const bool fused : {false, true}) {
    for (const bool grads_kept : {true, false}) {
      th.push_back(MakeTorchSide<TorchLstmLM>(
          fused ? "torch::nn::LSTM" : "unrolled, Linear cells", grads_kept,
          [&] { return std::make_shared<TorchLstmLM>(d, fused); },
          [&] {
            return TorchInputs(torch::randint(0, d.vocab, {d.batch, d.seq}),
                               torch::randint(0, d.vocab, {d.batch * d.seq}));
          },
          steps));
    }
  }
  Report(w, mx, th, reps, steps);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 7, steps = 2;
  std::string net = "all";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--steps" && i + 1 < argc) {
      steps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--net" && i + 1 < argc) {
      net = argv[++i];
    } else if (a == "--dump" && i + 1 < argc) {
      g_dump_prefix = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: %s [--net resnet|lstm|all] [--reps R] [--steps S] [--dump PREFIX]\n",
                   argv[0]);
      return 2;
    }
  }
  CountingAllocator::Install();  // before torch allocates anything
  const int threads = MatchTorchThreads();
  std::printf(
      "Training step (forward + backward, no update): mixnet executor vs torch %s (oneDNN %s); "
      "%d threads each; times are medians of %d batches of %d steps\n",
      TORCH_VERSION, at::hasMKLDNN() ? "on" : "off", threads, reps, steps);
  if (net == "resnet" || net == "all") ResNet(reps, steps);
  if (net == "lstm" || net == "all") LstmLM(reps, steps);
  return 0;
}

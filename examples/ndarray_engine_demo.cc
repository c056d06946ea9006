// The NDArray + engine tour: create arrays, push custom work through the dependency engine,
// watch views share storage, see an error surface with its op's name, and round-trip a
// .params file in MXNet's format.
//
//   build/examples/ndarray_engine_demo [--out DIR] [--n ELEMENTS]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "mixnet/mixnet.h"

namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

/*! \brief Sums `x` into `out[0]` as an engine op that reads x and writes out. */
void PushSum(const mx::NDArray& x, const mx::NDArray& out) {
  mx::Engine::Get()->PushSync(
      [x, out](mx::RunContext) {
        const float* p = x.Data<float>();
        double s = 0;
        for (int64_t i = 0; i < x.Size(); ++i)
          s += p[i];
        out.Data<float>()[0] = static_cast<float>(s);
      },
      x.ctx(), {x.var()}, {out.var()}, mx::FnProperty::kNormal, 0, "demo_sum");
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_dir = std::filesystem::temp_directory_path() / "mixnet-demo";
  int64_t n = 1 << 22;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--out") && i + 1 < argc) {
      out_dir = argv[++i];
    } else if (!std::strcmp(argv[i], "--n") && i + 1 < argc) {
      n = std::stoll(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--out DIR] [--n ELEMENTS]\n", argv[0]);
      return 2;
    }
  }
  try {
    std::filesystem::create_directories(out_dir);
    const auto t0 = Clock::now();
    const bool naive = mx::Engine::Get()->kind() == mx::Engine::Kind::kNaive;
    std::printf("[1/5] engine: %s\n", naive ? "NaiveEngine" : "ThreadedEnginePerDevice");

    // Creation is asynchronous: these calls return before the values are written.
    mx::NDArray x = mx::NDArray::Arange(0, static_cast<double>(n), 1.0, 1, mx::DType::kFloat32);
    mx::NDArray ones = mx::NDArray::Ones(mx::Shape{4, 3});
    std::printf("[2/5] created %s and %s\n", x.Describe().c_str(), ones.Describe().c_str());

    // Views share storage and the engine variable; a write through a view is ordered
    // after every earlier use of the base array.
    mx::NDArray rows = ones.Slice(1, 3);
    rows.Fill(5.0);
    const auto grid = ones.Reshape({-1}).ToVector<float>();
    std::printf("[3/5] ones after rows[1:3] = 5: ");
    for (float v : grid)
      std::printf("%g ", v);
    std::printf("\n");

    // Four partial sums over slices of x run as independent engine ops, then one op
    // combines them: the engine sees the dependencies, the code has no locks.
    const int parts = 4;
    mx::NDArray partial = mx::NDArray::Zeros(mx::Shape{parts});
    mx::NDArray total = mx::NDArray::Zeros(mx::Shape{1});
    const int64_t step = n / parts;
    for (int p = 0; p < parts; ++p) {
      PushSum(x.Slice(p * step, p == parts - 1 ? n : (p + 1) * step), partial.Slice(p, p + 1));
    }
    PushSum(partial, total);
    const double got = total.ToVector<float>()[0];
    const double want = 0.5 * static_cast<double>(n) * static_cast<double>(n - 1);
    std::printf("[4/5] sum of arange(%lld) = %.6g (exact %.6g, rel. error %.1e)\n",
                static_cast<long long>(n), got, want, std::fabs(got - want) / want);

    // An error inside an engine op surfaces at the next sync point, naming the op.
    mx::NDArray victim = mx::NDArray::Zeros(mx::Shape{2});
    mx::Engine::Get()->PushSync(
        [](mx::RunContext) { throw mx::ValueError("the demo's deliberate failure"); }, victim.ctx(),
        {}, {victim.var()}, mx::FnProperty::kNormal, 0, "demo_failing_op");
    try {
      victim.WaitToRead();
      std::printf("      error was lost!\n");
      return 1;
    } catch (const mx::ValueError& e) {
      std::printf("      caught at WaitToRead: %s\n", e.what());
    }

    // Save and load in MXNet's .params format (mx.nd.load reads this file).
    const std::string path = out_dir + "/demo-0000.params";
    std::vector<mx::NDArray> arrays = {ones, partial, x.Slice(0, 8)};
    std::vector<std::string> names = {"arg:ones", "arg:partial", "aux:head"};
    mx::SaveNDArrays(path, arrays, names);
    mx::NDArrayList loaded = mx::LoadNDArrays(path);
    bool same = loaded.names == names;
    for (size_t i = 0; i < arrays.size() && same; ++i) {
      same = loaded.arrays[i].ToVector<float>() == arrays[i].ToVector<float>();
    }
    std::printf("[5/5] saved and reloaded %zu arrays via %s: %s\n", loaded.arrays.size(),
                path.c_str(), same ? "identical" : "MISMATCH");
    const mx::StorageStats stats = mx::Storage::Get()->Stats(mx::Context::cpu());
    std::printf("done in %.3fs; cpu memory in use %zu bytes, peak %zu, pooled %zu\n", Seconds(t0),
                stats.bytes_in_use, stats.peak_bytes_in_use, stats.bytes_pooled);
    return same ? 0 : 1;
  } catch (const mx::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

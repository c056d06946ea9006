// dist_sync communication cost: one program, run under mpirun, in one of three modes:
//   raw      MPI_Allreduce of float32 buffers (the floor: what MPI alone costs)
//   comm     the same sums through mixnet's communication thread (mpi_comm.h): control word
//            (nonblocking, polled), blocking data collective, completion callback
//   kvstore  KVStore("dist_sync") pushpull of one key, in place (engine op, thread hand-offs;
//            the stored value's copy runs after the caller's wait ends)
//   kvstore local: the same pushpull on a "local" store (the store's cost without MPI)
//   compress bytes sent for the same gradients with and without 2-bit compression
// For each size (4 KB .. 64 MB, doubling by 4) it prints one JSON line per size on rank 0:
//   {"mode": ..., "bytes": ..., "ranks": ..., "median_us": ..., "min_us": ..., "reps": ...}
// benchmarks/kvstore/run.sh runs the modes and prints the table.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include "kvstore/dist_sync/mpi_comm.h"
#include "mixnet/kvstore/kvstore.h"
#include "mixnet/ndarray/ndarray.h"

namespace {

using Clock = std::chrono::steady_clock;
using mixnet::kvstore::dist_sync::MpiComm;

int Reps(size_t bytes) {
  return static_cast<int>(
      std::clamp<size_t>((size_t(256) << 20) / std::max<size_t>(bytes, 1), size_t(7), size_t(101)));
}

// Times `op` `reps` times (after 3 warm-up calls) and prints rank 0's median and minimum.
void Measure(const char* mode, size_t bytes, int rank, int ranks, const std::function<void()>& op,
             const std::function<void()>& sync) {
  for (int i = 0; i < 3; ++i)
    op();
  int reps = Reps(bytes);
  std::vector<double> us;
  for (int i = 0; i < reps; ++i) {
    sync();
    auto t0 = Clock::now();
    op();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  if (rank == 0) {
    std::printf(
        "{\"mode\": \"%s\", \"bytes\": %zu, \"ranks\": %d, \"median_us\": %.2f, \"min_us\": "
        "%.2f, \"reps\": %d}\n",
        mode, bytes, ranks, us[us.size() / 2], us[0], reps);
    std::fflush(stdout);
  }
}

std::vector<size_t> Sizes() {
  std::vector<size_t> sizes;
  for (size_t b = 4 << 10; b <= (size_t(64) << 20); b *= 4)
    sizes.push_back(b);
  return sizes;
}

int RunRaw() {
  MPI_Init(nullptr, nullptr);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  for (size_t bytes : Sizes()) {
    std::vector<float> send(bytes / 4, 1.0f), recv(bytes / 4);
    int n = static_cast<int>(send.size());
    Measure(
        "raw", bytes, rank, ranks,
        [&] { MPI_Allreduce(send.data(), recv.data(), n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); },
        [] { MPI_Barrier(MPI_COMM_WORLD); });
  }
  MPI_Finalize();
  return 0;
}

// A barrier through the communication thread (MPI belongs to it).
void CommBarrier(MpiComm& comm) {
  comm.Join(comm.NextSeq(), nullptr);
}

void CommAllreduce(MpiComm& comm, int key, const float* send, float* recv, size_t n) {
  std::promise<void> done;
  comm.Allreduce(comm.NextSeq(), key, send, recv, static_cast<int64_t>(n), mixnet::DType::kFloat32,
                 [&](std::exception_ptr e) {
                   if (e) {
                     done.set_exception(e);
                   } else {
                     done.set_value();
                   }
                 });
  done.get_future().get();
}

int RunComm() {
  MpiComm& comm = MpiComm::Get();
  for (size_t bytes : Sizes()) {
    std::vector<float> send(bytes / 4, 1.0f), recv(bytes / 4);
    Measure(
        "comm", bytes, comm.rank(), comm.size(),
        [&] { CommAllreduce(comm, 0, send.data(), recv.data(), send.size()); },
        [&] { CommBarrier(comm); });
    if (recv[0] != static_cast<float>(comm.size())) {
      std::fprintf(stderr, "comm: wrong sum %g\n", recv[0]);
      return 1;
    }
  }
  return 0;
}

// `type` "local" measures the same calls without communication (run it with -np 1).
int RunKVStore(const std::string& type) {
  auto kv = mixnet::kvstore::KVStore::Create(type);
  int key = 0;
  for (size_t bytes : Sizes()) {
    auto arr = mixnet::NDArray::Ones(mixnet::Shape{static_cast<int64_t>(bytes / 4)});
    kv->Init(key, arr);
    Measure(
        type == "local" ? "local" : "kvstore", bytes, kv->rank(), kv->num_workers(),
        [&] {
          kv->PushPull(std::vector<int>{key}, {{arr}}, {{arr}});
          arr.WaitToRead();
        },
        [&] { kv->Barrier(); });
    ++key;
  }
  return 0;
}

// Bytes each worker sends for the same gradients, plain and 2-bit compressed: an MLP's
// parameter sizes, N(0, 0.3) gradients, 10 pushes of every key.
int RunCompress() {
  const std::vector<int64_t> sizes = {784 * 256, 256, 256 * 128, 128, 128 * 10, 10};
  uint64_t sent[2] = {0, 0};
  double ms[2] = {0, 0};
  for (int compressed = 0; compressed < 2; ++compressed) {
    auto kv = mixnet::kvstore::KVStore::Create("dist_sync");
    if (compressed) kv->SetGradientCompression({{"type", "2bit"}, {"threshold", "0.5"}});
    std::vector<mixnet::NDArray> grads;
    for (size_t k = 0; k < sizes.size(); ++k) {
      grads.push_back(mixnet::NDArray::Zeros(mixnet::Shape{sizes[k]}));
      kv->Init(static_cast<int>(k), grads.back());
      std::vector<float> g(static_cast<size_t>(sizes[k]));
      uint32_t state = 12345u + static_cast<uint32_t>(k) * 7919u + kv->rank() * 104729u;
      for (float& v : g) {  // a small LCG: the same gradients in both runs
        float u1 = ((state = state * 1664525u + 1013904223u) >> 8) / 16777216.0f;
        float u2 = ((state = state * 1664525u + 1013904223u) >> 8) / 16777216.0f;
        v = 0.3f * (u1 + u2 - 1.0f) * 1.7320508f;
      }
      grads.back().SyncCopyFromHost(g.data(), g.size());
    }
    kv->Barrier();
    MpiComm::Get().ResetStats();
    auto t0 = Clock::now();
    for (int step = 0; step < 10; ++step) {
      for (int k = static_cast<int>(sizes.size()) - 1; k >= 0; --k)
        kv->Push(std::vector<int>{k}, {{grads[static_cast<size_t>(k)]}}, -k);
    }
    kv->Barrier();
    ms[compressed] = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    sent[compressed] = MpiComm::Get().stats().bytes_sent;
    if (kv->rank() == 0) {
      std::printf(
          "{\"mode\": \"compress\", \"compression\": \"%s\", \"ranks\": %d, \"pushes\": %zu, "
          "\"bytes_sent_per_worker\": %llu, \"ms\": %.2f}\n",
          compressed ? "2bit" : "none", kv->num_workers(), 10 * sizes.size(),
          static_cast<unsigned long long>(sent[compressed]), ms[compressed]);
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "raw") return RunRaw();
  if (mode == "comm") return RunComm();
  if (mode == "kvstore") return RunKVStore(argc > 2 ? argv[2] : "dist_sync");
  if (mode == "compress") return RunCompress();
  std::fprintf(stderr, "usage: mpirun -np N %s raw|comm|kvstore|compress\n", argv[0]);
  return 2;
}

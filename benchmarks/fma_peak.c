// Peak fp32 FMA rate of this machine, in GFLOP/s: every thread (one per core, OpenMP) runs
// independent chains of vector fused multiply-adds that never touch memory, so the figure is
// the arithmetic ceiling that convolution and GEMM kernels are measured against
// (benchmarks/suite.py's "fraction of peak" rows). Built by the suite with
//   cc -O2 -march=native -fopenmp benchmarks/fma_peak.c
// -march=native selects the widest vectors the CPU has (AVX-512 here: 16 floats, 32 FLOP per FMA).
// Prints one line: "<GFLOP/s> <threads> <vector bytes>"; the best of 20 short runs is reported. The
// suite runs it with OMP_NUM_THREADS=1 and multiplies by its compute threads: on a shared machine a
// one-thread run is rarely disturbed, while a run on every core often is.
#include <omp.h>
#include <stdio.h>

#if defined(__AVX512F__)
#define VEC_BYTES 64
#elif defined(__AVX__)
#define VEC_BYTES 32
#else
#define VEC_BYTES 16
#endif
#define LANES (VEC_BYTES / 4)
#define CHAINS 16  // independent accumulators: > FMA latency x FMA ports (4 x 2)

typedef float Vec __attribute__((vector_size(VEC_BYTES)));

static float Run(long iters) {
  Vec acc[CHAINS];
  Vec mul, add;
  for (int l = 0; l < LANES; ++l) {
    mul[l] = 0.999999f;
    add[l] = 1e-6f;
  }
  for (int c = 0; c < CHAINS; ++c)
    for (int l = 0; l < LANES; ++l)
      acc[c][l] = (float)(c + l);
  for (long i = 0; i < iters; ++i) {
    // The empty asm keeps the compiler from hoisting or folding the loop-invariant operands.
    __asm__ volatile("" : "+v"(mul), "+v"(add));
#pragma GCC unroll 16
    for (int c = 0; c < CHAINS; ++c)
      acc[c] = acc[c] * mul + add;
  }
  float sum = 0;
  for (int c = 0; c < CHAINS; ++c)
    for (int l = 0; l < LANES; ++l)
      sum += acc[c][l];
  return sum;
}

int main(void) {
  const long iters = 4000000;  // about 30 ms per run
  double best = 0;
  int threads = 1;
  volatile float sink = 0;
  for (int rep = 0; rep < 20; ++rep) {
    double t0 = omp_get_wtime();
#pragma omp parallel reduction(+ : sink)
    {
      sink += Run(iters);
      if (omp_get_thread_num() == 0) threads = omp_get_num_threads();
    }
    double dt = omp_get_wtime() - t0;
    double gflops = 2.0 * LANES * CHAINS * (double)iters * threads / dt / 1e9;
    if (gflops > best) best = gflops;
  }
  printf("%.1f %d %d\n", best, threads, VEC_BYTES);
  return sink == 12345.0f;  // keeps the result alive
}

// Peak fp32 FMA rate of this machine, in GFLOP/s: every thread (one per core, OpenMP) runs
// independent chains of vector fused multiply-adds that never touch memory, so the figure is
// the arithmetic ceiling that convolution and GEMM kernels are measured against
// (benchmarks/suite.py's "fraction of peak" rows). Built by the suite with
//   cc -O2 -march=native -fopenmp benchmarks/fma_peak.c
// -march=native selects the widest vectors the CPU has (AVX-512 here: 16 floats, 32 FLOP per FMA).
// Prints one line: "<GFLOP/s> <threads> <vector bytes>": the best of 20 short runs, each the sum
// over threads of FLOP per CPU-second (so time the core spent on other jobs does not count). The
// suite runs it with OMP_NUM_THREADS=1 and multiplies by its compute threads.
#include <omp.h>
#include <stdio.h>
#include <time.h>

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

// Seconds of CPU time this thread has run: a machine shared with other jobs takes the core away
// now and then, and wall time would count those gaps as slow arithmetic.
static double ThreadSeconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(void) {
  const long iters = 4000000;  // about 10 ms per run
  double best = 0;
  int threads = 1;
  volatile float sink = 0;
  for (int rep = 0; rep < 20; ++rep) {
    double rate = 0;  // GFLOP per CPU-second, summed over the threads
#pragma omp parallel reduction(+ : sink, rate)
    {
      double t0 = ThreadSeconds();
      sink += Run(iters);
      rate += 2.0 * LANES * CHAINS * (double)iters / (ThreadSeconds() - t0) / 1e9;
      if (omp_get_thread_num() == 0) threads = omp_get_num_threads();
    }
    if (rate > best) best = rate;
  }
  printf("%.1f %d %d\n", best, threads, VEC_BYTES);
  return sink == 12345.0f;  // keeps the result alive
}

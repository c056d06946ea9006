// Multithreaded loops for kernels.
//
// NOTE [ Threads ]
// Kernels parallelise with OpenMP inside one engine op. The engine runs one CPU worker by
// default, so one op's team uses the cores (OMP_NUM_THREADS, default: all); more engine
// workers times a full team would oversubscribe them. The ThreadSanitizer build compiles
// without OpenMP (its runtime is not instrumented), so there ParallelFor runs serially.
#pragma once

#include <algorithm>
#include <cstdint>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace mixnet::op {

/*!
 * \brief Calls f(begin, end) over [0, n) in chunks, in parallel when n >= grain (ranges below
 * that are not worth a thread wake-up). f must be safe to run concurrently on disjoint ranges.
 */
template <typename F>
void ParallelFor(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
#if defined(_OPENMP)
  const int threads = omp_get_max_threads();
  if (threads > 1 && n >= 2 * grain && !omp_in_parallel()) {
    const int64_t chunks = std::min<int64_t>(threads, n / grain);
    const int64_t step = (n + chunks - 1) / chunks;
#pragma omp parallel for num_threads(static_cast <int>(chunks)) schedule(static)
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t b = c * step;
      const int64_t e = std::min(n, b + step);
      if (b < e) f(b, e);
    }
    return;
  }
#endif
  f(int64_t{0}, n);
}

/*! \brief Elements per chunk for cheap element-wise work (about 20 us of memory traffic). */
inline constexpr int64_t kElementwiseGrain = 32768;

}  // namespace mixnet::op

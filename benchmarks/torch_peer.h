// Shared set-up of the benchmarks that run libtorch beside mixnet.
#pragma once

#include <torch/torch.h>

#if defined(_OPENMP)
#include <omp.h>
#endif

/*! \brief Gives torch as many threads as mixnet's kernels use (OMP_NUM_THREADS), seeds it, and
 * returns the count. */
inline int MatchTorchThreads() {
  int threads = 1;
#if defined(_OPENMP)
  threads = omp_get_max_threads();
#endif
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  return threads;
}

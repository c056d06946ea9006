#include "operator/simd/kernels.h"

#include <initializer_list>

namespace mixnet::op::simd {

namespace sse2 {
const Kernels& Table();
}
namespace avx2 {
const Kernels& Table();
}
namespace avx512 {
const Kernels& Table();
}

namespace {

bool CpuRuns(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::kSse2:
      break;
  }
  return true;
}

}  // namespace

const Kernels* ForIsa(Isa isa) {
  if (!CpuRuns(isa)) return nullptr;
  switch (isa) {
    case Isa::kAvx512:
      return &avx512::Table();
    case Isa::kAvx2:
      return &avx2::Table();
    case Isa::kSse2:
      break;
  }
  return &sse2::Table();
}

const Kernels& Best() {
  static const Kernels& best = [&]() -> const Kernels& {
    for (Isa isa : {Isa::kAvx512, Isa::kAvx2}) {
      if (const Kernels* k = ForIsa(isa)) return *k;
    }
    return sse2::Table();
  }();
  return best;
}

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kSse2:
      break;
  }
  return "sse2";
}

}  // namespace mixnet::op::simd

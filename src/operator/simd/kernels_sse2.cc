// The SSE2 (x86-64 baseline) build of the SIMD kernels (NOTE [ SIMD kernels ] in vec.h).
#define MIXNET_SIMD_ISA sse2
#define MIXNET_SIMD_BYTES 16
#define MIXNET_SIMD_TARGET "sse2"
#include "operator/simd/build.h"

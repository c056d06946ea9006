// The AVX2 + FMA build of the SIMD kernels (NOTE [ SIMD kernels ] in vec.h).
#define MIXNET_SIMD_ISA avx2
#define MIXNET_SIMD_BYTES 32
#define MIXNET_SIMD_TARGET "avx2,fma"
#include "operator/simd/build.h"

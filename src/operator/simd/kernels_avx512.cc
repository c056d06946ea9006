// The AVX-512 (F, DQ, VL, BW) build of the SIMD kernels (NOTE [ SIMD kernels ] in vec.h).
#define MIXNET_SIMD_ISA avx512
#define MIXNET_SIMD_BYTES 64
#define MIXNET_SIMD_TARGET "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma"
#include "operator/simd/build.h"

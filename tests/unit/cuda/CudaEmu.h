//===- CudaEmu.h - nnc's generated CUDA C++ as host C++ ---------*- C++ -*-===//
///
/// \file
/// Force-included (-include) when CudaEmulator compiles a generated module
/// with the host C++ compiler: the CUDA keywords become plain C++
/// (`__shared__` a function-local static: the emulator runs one block at a
/// time), the built-in index variables and __syncthreads come from the
/// emulator, and the two PTX instructions of the TF32 GEMM are emulated
/// from the PTX ISA's description of mma.sync.m16n8k8 (fragment layouts,
/// TF32 rounding to nearest with ties away from zero). Not part of nnc:
/// only the generated source and this header are compiled together.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <math.h>

struct nn_emu_dim3 {
  unsigned x = 0, y = 0, z = 0;
};

// Set by the emulator (through dlsym) before each thread runs.
extern "C" {
nn_emu_dim3 threadIdx, blockIdx, blockDim, gridDim;
/// Suspends the calling thread until every thread of the block arrives.
void (*nn_emu_syncthreads)() = nullptr;
}

#define __global__
#define __device__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __shared__ static
#define __launch_bounds__(n)
#define __restrict__ __restrict
#define __align__(n) __attribute__((aligned(n)))

struct alignas(16) float4 {
  float x, y, z, w;
};

inline void __syncthreads() { nn_emu_syncthreads(); }
// Blocks run one after another, threads as fibers that switch only at
// __syncthreads: memory is always coherent, atomics are plain.
inline void __threadfence() {}
inline unsigned atomicAdd(unsigned *p, unsigned v) {
  unsigned old = *p;
  *p += v;
  return old;
}
inline float __ldcg(const float *p) { return *p; }
using std::min;

inline float __uint_as_float(unsigned u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline unsigned nn_emu_bits(float f) {
  unsigned u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
inline unsigned __float_as_uint(float f) { return nn_emu_bits(f); }

#define NN_EMULATED_PTX 1

// cvt.rna.tf32.f32: keep 10 mantissa bits, round to nearest, ties away
// from zero (add half of the dropped part's weight, truncate). Inf and NaN
// pass through.
inline unsigned nn_tf32(float x) {
  unsigned u = nn_emu_bits(x);
  if ((u & 0x7f800000u) == 0x7f800000u)
    return u;
  return (u + 0x1000u) & 0xffffe000u;
}

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 for the calling
// thread's warp. Lane l (g = l / 4, t = l % 4) holds A(g, t), A(g + 8, t),
// A(g, t + 4), A(g + 8, t + 4); B(t, g), B(t + 4, g); and D(g, 2t),
// D(g, 2t + 1), D(g + 8, 2t), D(g + 8, 2t + 1). Every lane posts its
// fragments, the block synchronizes (the TF32 GEMMs call this uniformly), each
// lane computes its four results (sums in fp32, k in order), and the block
// synchronizes again before the slots are reused.
inline void nn_mma_tf32(float (&d)[4], unsigned a0, unsigned a1, unsigned a2,
                        unsigned a3, unsigned b0, unsigned b1) {
  static unsigned As[32][32][4], Bs[32][32][2]; // [warp][lane][register]
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  unsigned *a = As[warp][lane], *b = Bs[warp][lane];
  a[0] = a0, a[1] = a1, a[2] = a2, a[3] = a3, b[0] = b0, b[1] = b1;
  __syncthreads();
  auto A = [&](unsigned row, unsigned k) {
    return __uint_as_float(
        As[warp][(row % 8) * 4 + k % 4][(row >= 8 ? 1 : 0) + (k >= 4 ? 2 : 0)]);
  };
  auto B = [&](unsigned k, unsigned n) {
    return __uint_as_float(Bs[warp][n * 4 + k % 4][k >= 4 ? 1 : 0]);
  };
  const unsigned g = lane / 4, t = lane % 4;
  float out[4];
  for (unsigned r = 0; r < 4; ++r) {
    unsigned row = g + (r >= 2 ? 8 : 0), col = 2 * t + (r & 1);
    float sum = d[r];
    for (unsigned k = 0; k < 8; ++k)
      sum += A(row, k) * B(k, col);
    out[r] = sum;
  }
  __syncthreads();
  for (unsigned r = 0; r < 4; ++r)
    d[r] = out[r];
}

//===- CudaPrelude.cpp - The code every generated CUDA module starts with -===//
///
/// \file
/// The block reduction and the GEMMs the kernels call: nn_gemm64, a 64 x 64
/// tile per block (4 x 4 results per thread: small products, which need
/// many blocks to fill the GPU), and nn_gemm128, a 128 x 128 tile (8 x 8 per
/// thread, the next slice fetched while the block multiplies the last:
/// large products). Both add each result's terms in the same order with the
/// same fused multiply-adds, so they give the same bits. Products of few
/// small tiles and a long K may be split among blocks (split-K), whose sums
/// the last block adds in a fixed order. --precision=tf32 adds the same two
/// tiles on tensor cores.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaEmit.h"

namespace nn::cuda {

namespace {

const char *const kHead =
    R"(// Compiled at run time by NVRTC (IEEE float: no fast math, no contraction
// of a * b + c; the GEMM uses fmaf explicitly).

)";

const char *const kBody =
    R"(
// The sum of v over the block's NN_BLOCK threads, added in a fixed tree
// order (the same result on every run). Every thread of the block calls it.
__device__ __forceinline__ double nn_block_sum(double v) {
  __shared__ double nn_red[NN_BLOCK];
  nn_red[threadIdx.x] = v;
  __syncthreads();
  for (int s = NN_BLOCK / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s)
      nn_red[threadIdx.x] += nn_red[threadIdx.x + s];
    __syncthreads();
  }
  const double r = nn_red[0];
  __syncthreads();
  return r;
}

// out[i] = sum over r < len of v(i, r) (divided by len when mean), for the
// 32 results i of this block: lane l of each of the 8 warps adds rows w,
// w + 8, ... of result 32 b + l in double, then the 8 partial sums are added
// in warp order (the same result on every run). One block per 32 results:
// consecutive lanes read consecutive results, the rows of a column sum.
template <class V>
__device__ __forceinline__ void nn_column_sums(float *out, long long n,
                                               long long len, bool mean,
                                               V v) {
  __shared__ double nn_part[NN_BLOCK / 32][32];
  const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
  const long long i = (long long)blockIdx.x * 32 + lane;
  double acc = 0.0;
  if (i < n)
    for (long long r = w; r < len; r += NN_BLOCK / 32)
      acc += (double)v(i, r);
  nn_part[w][lane] = acc;
  __syncthreads();
  if (w == 0 && i < n) {
    double sum = 0.0;
    for (int k = 0; k < NN_BLOCK / 32; ++k)
      sum += nn_part[k][lane];
    out[i] = (float)(mean ? sum / (double)len : sum);
  }
}

// Loads the NN_TK-deep slice p0 of the tile at (i0, j0): As[p][i] from
// la(i0 + i, p0 + p), Bs[p][j] from lb(p0 + p, j0 + j), zero outside the
// matrices. Consecutive threads walk A along p when A_ROW, B along j when
// B_ROW (contiguous in memory). nn_tile64 loads its slices with it.
template <bool A_ROW, bool B_ROW, int LD, class LA, class LB>
__device__ __forceinline__ void
nn_load_tiles(float (&As)[NN_TK][LD], float (&Bs)[NN_TK][LD], long long M,
              long long N, long long K, long long i0, long long j0,
              long long p0, LA la, LB lb) {
  const int tid = threadIdx.x;
    for (int e = tid; e < NN_TILE * NN_TK; e += NN_BLOCK) {
      const int ii = A_ROW ? e / NN_TK : e % NN_TILE;
      const int pp = A_ROW ? e % NN_TK : e / NN_TILE;
      const long long i = i0 + ii, p = p0 + pp;
      As[pp][ii] = (i < M && p < K) ? la(i, p) : 0.0f;
    }
    for (int e = tid; e < NN_TILE * NN_TK; e += NN_BLOCK) {
      const int jj = B_ROW ? e % NN_TILE : e / NN_TK;
      const int pp = B_ROW ? e / NN_TILE : e % NN_TK;
      const long long j = j0 + jj, p = p0 + pp;
      Bs[pp][jj] = (j < N && p < K) ? lb(p, j) : 0.0f;
    }
}

// Split-K for products with few tiles and a long K (the launcher's choice,
// cudaLaunchDims): gridDim.x = tiles x splits, block b computes split
// b % splits of tile b / splits, K slices [k0, k1) of it. With one split,
// the whole of K.
struct nn_split {
  long long k0, k1;
  int tile, s, splits;
};
__device__ __forceinline__ nn_split nn_split_of(long long tiles, long long K) {
  nn_split r;
  r.splits = tiles > 0 ? (int)(gridDim.x / tiles) : 1;
  r.tile = (int)blockIdx.x / r.splits;
  r.s = (int)blockIdx.x % r.splits;
  const long long slices = (K + NN_TK - 1) / NN_TK;
  const long long chunk = (slices + r.splits - 1) / r.splits * NN_TK;
  r.k0 = min(K, (long long)r.s * chunk);
  r.k1 = min(K, r.k0 + chunk);
  return r;
}

// The partial sums of every split (at most NN_SPLIT_TILES tiles x
// NN_SPLITS splits x 16 per thread), and per tile the splits done so far.
// Kernels of a module run one after another, so they share them.
__device__ float nn_split_sums[NN_SPLIT_TILES * NN_SPLITS * 16 * NN_BLOCK];
__device__ unsigned nn_split_done[NN_SPLIT_TILES];

// The cold part of nn_split_reduce, outlined so that it takes no registers
// from the GEMM around it: stores this block's 16 partial sums per thread;
// the last block of the tile to finish adds all of them in split order
// (the same result on every run) into part, resets the tile's count for
// the next launch, and returns true; the others return false.
__device__ __noinline__ bool nn_split_add(float *part, int tile, int s,
                                          int splits) {
  __shared__ int nn_last;
  const int tid = threadIdx.x;
  float *mine = nn_split_sums + (tile * splits + s) * 16 * NN_BLOCK;
  for (int q = 0; q < 16; ++q)
    mine[q * NN_BLOCK + tid] = part[q];
  __threadfence(); // the partial sums are visible before the count says so
  __syncthreads();
  if (tid == 0)
    nn_last = atomicAdd(&nn_split_done[tile], 1u) == (unsigned)splits - 1;
  __syncthreads();
  if (!nn_last)
    return false;
  __threadfence();
  const float *all = nn_split_sums + tile * splits * 16 * NN_BLOCK;
  for (int q = 0; q < 16; ++q) {
    float sum = 0.0f;
    for (int k = 0; k < splits; ++k)
      sum += __ldcg(all + (k * 16 + q) * NN_BLOCK + tid); // not from L1
    part[q] = sum;
  }
  if (tid == 0)
    nn_split_done[tile] = 0;
  return true;
}

// Adds acc over the splits of its tile (see nn_split_add); true in the
// block that holds the sums (every block when K is not split). Computed
// from M and N, which the epilogue needs anyway.
__device__ __forceinline__ bool nn_split_reduce(float (&acc)[4][4],
                                                long long M, long long N) {
  const nn_split sp = nn_split_of(
      (M + NN_TILE - 1) / NN_TILE * ((N + NN_TILE - 1) / NN_TILE), 0);
  if (sp.splits == 1)
    return true;
  float part[16];
#pragma unroll
  for (int q = 0; q < 16; ++q)
    part[q] = acc[q / 4][q % 4];
  if (!nn_split_add(part, sp.tile, sp.s, sp.splits))
    return false;
#pragma unroll
  for (int q = 0; q < 16; ++q)
    acc[q / 4][q % 4] = part[q];
  return true;
}

// The K loop of this block's 64 x 64 tile of C[M, N] = A[M, K] @ B[K, N],
// over its split of K (nn_split_of): the tile t / tilesN, t % tilesN, at
// (i0, j0); each NN_TK-deep slice loaded to shared memory (rows padded to
// LD) and mul(As, Bs) run on it, in order; then acc summed over the splits
// (nn_split_reduce). False in a block that has no result to store. Both
// 64 x 64 GEMMs run their tiles with it.
template <bool A_ROW, bool B_ROW, int LD, class LA, class LB, class MUL>
__device__ __forceinline__ bool
nn_tile64(long long M, long long N, long long K, LA la, LB lb,
          float (&acc)[4][4], long long &i0, long long &j0, MUL mul) {
  __shared__ float As[NN_TK][LD];
  __shared__ float Bs[NN_TK][LD];
  const long long tilesN = (N + NN_TILE - 1) / NN_TILE;
  const nn_split sp = nn_split_of((M + NN_TILE - 1) / NN_TILE * tilesN, K);
  i0 = (long long)sp.tile / tilesN * NN_TILE;
  j0 = (long long)sp.tile % tilesN * NN_TILE;
#pragma unroll
  for (int q = 0; q < 16; ++q)
    acc[q / 4][q % 4] = 0.0f;
  for (long long p0 = sp.k0; p0 < sp.k1; p0 += NN_TK) {
    nn_load_tiles<A_ROW, B_ROW>(As, Bs, M, N, sp.k1, i0, j0, p0, la, lb);
    __syncthreads();
    mul(As, Bs);
    __syncthreads();
  }
  return nn_split_reduce(acc, M, N);
}

// C[M, N] = A[M, K] @ B[K, N] on 64 x 64 tiles (nn_tile64): thread t holds
// a 4 x 4 register block of its block's tile (rows ty + 16r, columns
// tx + 16c). Elements come from the loaders la(i, p) and lb(p, j), which
// fold in transposes and activation gradients; ep(i, j, acc) stores each
// result. Each result sums its K terms in order p = 0, 1, ... with fused
// multiply-adds (with split-K: each split's terms in order, then the splits'
// sums in order). A_ROW: A is contiguous along p; B_ROW: B is contiguous
// along j (the tile loads follow).
template <bool A_ROW, bool B_ROW, class LA, class LB, class EP>
__device__ __forceinline__ void nn_gemm64(long long M, long long N,
                                          long long K, LA la, LB lb, EP ep) {
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  float acc[4][4];
  long long i0, j0;
  if (!nn_tile64<A_ROW, B_ROW, NN_TILE + 1>(
          M, N, K, la, lb, acc, i0, j0,
          [&](const float (&As)[NN_TK][NN_TILE + 1],
              const float (&Bs)[NN_TK][NN_TILE + 1]) {
#pragma unroll
            for (int pp = 0; pp < NN_TK; ++pp) {
              float a[4], b[4];
#pragma unroll
              for (int r = 0; r < 4; ++r)
                a[r] = As[pp][ty + 16 * r];
#pragma unroll
              for (int c = 0; c < 4; ++c)
                b[c] = Bs[pp][tx + 16 * c];
#pragma unroll
              for (int r = 0; r < 4; ++r)
#pragma unroll
                for (int c = 0; c < 4; ++c)
                  acc[r][c] = fmaf(a[r], b[c], acc[r][c]);
            }
          }))
    return;
#pragma unroll
  for (int r = 0; r < 4; ++r)
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      const long long i = i0 + ty + 16 * r, j = j0 + tx + 16 * c;
      if (i < M && j < N)
        ep(i, j, acc[r][c]);
    }
}

// The 128 x 128 tiles. Each thread fetches NN_PART elements of each
// NN_TK-deep slice of A (128 x NN_TK) and B (NN_TK x 128).
#define NN_PART (NN_BIG * NN_TK / NN_BLOCK)

// Where element q of this thread's part of a slice goes: row (of A) or
// column (of B) x of the tile, depth p of the slice. Consecutive threads
// walk along p when ALONG_P (A contiguous along p, or B read transposed),
// else along x: the order of memory.
template <bool ALONG_P>
__device__ __forceinline__ void nn_big_slot(int q, int &x, int &p) {
  const int e = threadIdx.x + NN_BLOCK * q;
  x = ALONG_P ? e / NN_TK : e % NN_BIG;
  p = ALONG_P ? e % NN_TK : e / NN_BIG;
}

// This thread's part of slice p0 of the tile at (i0, j0), into registers
// (zero outside the matrices).
template <bool A_ROW, bool B_ROW, class LA, class LB>
__device__ __forceinline__ void
nn_big_fetch(float (&ra)[NN_PART], float (&rb)[NN_PART], long long M,
             long long N, long long K, long long i0, long long j0,
             long long p0, LA la, LB lb) {
#pragma unroll
  for (int q = 0; q < NN_PART; ++q) {
    int x, p;
    nn_big_slot<A_ROW>(q, x, p);
    const long long i = i0 + x, pa = p0 + p;
    ra[q] = (i < M && pa < K) ? la(i, pa) : 0.0f;
    nn_big_slot<!B_ROW>(q, x, p);
    const long long j = j0 + x, pb = p0 + p;
    rb[q] = (j < N && pb < K) ? lb(pb, j) : 0.0f;
  }
}

// Stores a fetched part as As[p][i], Bs[p][j], each value through cv.
template <bool A_ROW, bool B_ROW, int LD, class CV>
__device__ __forceinline__ void nn_big_stash(float (&As)[NN_TK][LD],
                                             float (&Bs)[NN_TK][LD],
                                             const float (&ra)[NN_PART],
                                             const float (&rb)[NN_PART],
                                             CV cv) {
#pragma unroll
  for (int q = 0; q < NN_PART; ++q) {
    int x, p;
    nn_big_slot<A_ROW>(q, x, p);
    As[p][x] = cv(ra[q]);
    nn_big_slot<!B_ROW>(q, x, p);
    Bs[p][x] = cv(rb[q]);
  }
}

// The K loop of the 128 x 128 tile at (i0, j0): mul(As, Bs) once per slice,
// in order, with the slice in shared memory. While the block multiplies one
// slice, each thread holds its part of the next in registers; two buffers,
// one __syncthreads per slice.
template <bool A_ROW, bool B_ROW, int LD, class LA, class LB, class CV,
          class MUL>
__device__ __forceinline__ void nn_big_loop(long long M, long long N,
                                            long long K, long long i0,
                                            long long j0, LA la, LB lb,
                                            CV cv, MUL mul) {
  __shared__ __align__(16) float As[2][NN_TK][LD];
  __shared__ __align__(16) float Bs[2][NN_TK][LD];
  float ra[NN_PART], rb[NN_PART];
  nn_big_fetch<A_ROW, B_ROW>(ra, rb, M, N, K, i0, j0, 0, la, lb);
  nn_big_stash<A_ROW, B_ROW>(As[0], Bs[0], ra, rb, cv);
  __syncthreads();
  int s = 0;
  for (long long p0 = 0; p0 < K; p0 += NN_TK) {
    const bool next = p0 + NN_TK < K;
    if (next)
      nn_big_fetch<A_ROW, B_ROW>(ra, rb, M, N, K, i0, j0, p0 + NN_TK, la, lb);
    mul(As[s], Bs[s]);
    if (next)
      nn_big_stash<A_ROW, B_ROW>(As[s ^ 1], Bs[s ^ 1], ra, rb, cv);
    __syncthreads();
    s ^= 1;
  }
}

// Four consecutive floats of 16-byte aligned shared memory, in one load.
__device__ __forceinline__ void nn_ld4(float *d, const float *s) {
  const float4 v = *reinterpret_cast<const float4 *>(s);
  d[0] = v.x, d[1] = v.y, d[2] = v.z, d[3] = v.w;
}

// Row (or column) of a 128 x 128 tile held in a thread's register r (or c):
// 4 consecutive from 4 t, then 4 more 64 further.
__device__ __forceinline__ int nn_big_at(int t, int r) {
  return 4 * t + (r & 3) + (r >> 2) * 64;
}

// nn_gemm64 on 128 x 128 tiles: thread (ty, tx) of 16 x 16 holds an 8 x 8
// register block, rows nn_big_at(ty, r) and columns nn_big_at(tx, c), read
// from shared memory in float4s (without bank conflicts: rows padded to
// 132). Each result sums its terms in the same order, with the same fused
// multiply-adds and the same zero padding, as nn_gemm64: the same bits.
template <bool A_ROW, bool B_ROW, class LA, class LB, class EP>
__device__ __forceinline__ void nn_gemm128(long long M, long long N,
                                           long long K, LA la, LB lb, EP ep) {
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const long long tilesN = (N + NN_BIG - 1) / NN_BIG;
  const long long i0 = (long long)blockIdx.x / tilesN * NN_BIG;
  const long long j0 = (long long)blockIdx.x % tilesN * NN_BIG;
  float acc[8][8];
#pragma unroll
  for (int r = 0; r < 8; ++r)
#pragma unroll
    for (int c = 0; c < 8; ++c)
      acc[r][c] = 0.0f;
  nn_big_loop<A_ROW, B_ROW, NN_BIG + 4>(
      M, N, K, i0, j0, la, lb, [](float x) { return x; },
      [&](const float (&As)[NN_TK][NN_BIG + 4],
          const float (&Bs)[NN_TK][NN_BIG + 4]) {
#pragma unroll
        for (int p = 0; p < NN_TK; ++p) {
          float a[8], b[8];
          nn_ld4(a, &As[p][4 * ty]);
          nn_ld4(a + 4, &As[p][64 + 4 * ty]);
          nn_ld4(b, &Bs[p][4 * tx]);
          nn_ld4(b + 4, &Bs[p][64 + 4 * tx]);
#pragma unroll
          for (int r = 0; r < 8; ++r)
#pragma unroll
            for (int c = 0; c < 8; ++c)
              acc[r][c] = fmaf(a[r], b[c], acc[r][c]);
        }
      });
#pragma unroll
  for (int r = 0; r < 8; ++r)
#pragma unroll
    for (int c = 0; c < 8; ++c) {
      const long long i = i0 + nn_big_at(ty, r), j = j0 + nn_big_at(tx, c);
      if (i < M && j < N)
        ep(i, j, acc[r][c]);
    }
}
)";

/// The GEMMs on tensor cores, added for --precision=tf32.
const char *const kTf32 =
    R"(
// The two PTX instructions (tests/unit/cuda's host emulator defines
// NN_EMULATED_PTX and its own versions of these two functions).
#ifndef NN_EMULATED_PTX
// A float rounded to TF32 (10-bit mantissa, to nearest, ties away).
__device__ __forceinline__ unsigned nn_tf32(float x) {
  unsigned r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return r;
}

// d += A (16 x 8) B (8 x 8) for the warp, from each lane's fragments.
__device__ __forceinline__ void nn_mma_tf32(float (&d)[4], unsigned a0,
                                            unsigned a1, unsigned a2,
                                            unsigned a3, unsigned b0,
                                            unsigned b1) {
  asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
               "{%0, %1, %2, %3};"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}
#endif

// nn_gemm64 with the multiply-adds on tensor cores (sm_80 and newer): the
// same tiles, loaders and epilogue, each 8-deep slice of a tile's product
// one mma.sync m16n8k8 per 16 x 8 piece, operands rounded to TF32, sums in
// fp32 (in the order the hardware adds them). Warp w of the block's 8 holds
// rows 16 (w / 2) .. +16 and columns 32 (w % 2) .. +32 of the 64 x 64 tile:
// four 16 x 8 accumulators; lane l holds rows l / 4 and l / 4 + 8 of each,
// columns 2 (l % 4) and 2 (l % 4) + 1 (the PTX fragment layouts of m16n8k8).
template <bool A_ROW, bool B_ROW, class LA, class LB, class EP>
__device__ __forceinline__ void nn_gemm64_tf32(long long M, long long N,
                                               long long K, LA la, LB lb,
                                               EP ep) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int g = lane / 4, t = lane % 4;
  const int wm = warp / 2 * 16, wn = warp % 2 * 32;
  float acc[4][4];
  long long i0, j0;
  if (!nn_tile64<A_ROW, B_ROW, NN_TILE + 4>(
          M, N, K, la, lb, acc, i0, j0,
          [&](const float (&As)[NN_TK][NN_TILE + 4],
              const float (&Bs)[NN_TK][NN_TILE + 4]) {
#pragma unroll
            for (int kk = 0; kk < NN_TK; kk += 8) {
              // A fragment (16 x 8, row-major): rows g, g + 8; depths t,
              // t + 4.
              const unsigned a0 = nn_tf32(As[kk + t][wm + g]);
              const unsigned a1 = nn_tf32(As[kk + t][wm + g + 8]);
              const unsigned a2 = nn_tf32(As[kk + t + 4][wm + g]);
              const unsigned a3 = nn_tf32(As[kk + t + 4][wm + g + 8]);
#pragma unroll
              for (int c = 0; c < 4; ++c) {
                // B fragment (8 x 8, column-major): depths t, t + 4;
                // column g.
                const unsigned b0 = nn_tf32(Bs[kk + t][wn + 8 * c + g]);
                const unsigned b1 = nn_tf32(Bs[kk + t + 4][wn + 8 * c + g]);
                nn_mma_tf32(acc[c], a0, a1, a2, a3, b0, b1);
              }
            }
          }))
    return;
#pragma unroll
  for (int c = 0; c < 4; ++c)
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      // Accumulator r: row g (+ 8 for r >= 2), column 2 t + (r & 1).
      const long long i = i0 + wm + g + (r >= 2 ? 8 : 0);
      const long long j = j0 + wn + 8 * c + 2 * t + (r & 1);
      if (i < M && j < N)
        ep(i, j, acc[c][r]);
    }
}

// nn_gemm64_tf32 on 128 x 128 tiles, fetched as nn_gemm128 fetches them and
// rounded to TF32 once, as they are stored to shared memory (rows padded to
// 136: the fragment reads are free of bank conflicts). Warp w of 8 holds
// rows 64 (w / 4) .. +64 and columns 32 (w % 4) .. +32: 4 x 4 accumulators
// of 16 x 8, 16 mma.sync per 8-deep step. Each result adds the same 8-deep
// products in the same order as nn_gemm64_tf32: the same bits.
template <bool A_ROW, bool B_ROW, class LA, class LB, class EP>
__device__ __forceinline__ void nn_gemm128_tf32(long long M, long long N,
                                                long long K, LA la, LB lb,
                                                EP ep) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int g = lane / 4, t = lane % 4;
  const int wm = warp / 4 * 64, wn = warp % 4 * 32;
  const long long tilesN = (N + NN_BIG - 1) / NN_BIG;
  const long long i0 = (long long)blockIdx.x / tilesN * NN_BIG;
  const long long j0 = (long long)blockIdx.x % tilesN * NN_BIG;
  float acc[4][4][4];
#pragma unroll
  for (int m = 0; m < 4; ++m)
#pragma unroll
    for (int n = 0; n < 4; ++n)
#pragma unroll
      for (int r = 0; r < 4; ++r)
        acc[m][n][r] = 0.0f;
  nn_big_loop<A_ROW, B_ROW, NN_BIG + 8>(
      M, N, K, i0, j0, la, lb,
      [](float x) { return __uint_as_float(nn_tf32(x)); },
      [&](const float (&As)[NN_TK][NN_BIG + 8],
          const float (&Bs)[NN_TK][NN_BIG + 8]) {
#pragma unroll
        for (int kk = 0; kk < NN_TK; kk += 8) {
          unsigned a[4][4], b[4][2];
#pragma unroll
          for (int m = 0; m < 4; ++m) {
            const int i = wm + 16 * m + g;
            a[m][0] = __float_as_uint(As[kk + t][i]);
            a[m][1] = __float_as_uint(As[kk + t][i + 8]);
            a[m][2] = __float_as_uint(As[kk + t + 4][i]);
            a[m][3] = __float_as_uint(As[kk + t + 4][i + 8]);
          }
#pragma unroll
          for (int n = 0; n < 4; ++n) {
            b[n][0] = __float_as_uint(Bs[kk + t][wn + 8 * n + g]);
            b[n][1] = __float_as_uint(Bs[kk + t + 4][wn + 8 * n + g]);
          }
#pragma unroll
          for (int m = 0; m < 4; ++m)
#pragma unroll
            for (int n = 0; n < 4; ++n)
              nn_mma_tf32(acc[m][n], a[m][0], a[m][1], a[m][2], a[m][3],
                          b[n][0], b[n][1]);
        }
      });
#pragma unroll
  for (int m = 0; m < 4; ++m)
#pragma unroll
    for (int n = 0; n < 4; ++n)
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const long long i = i0 + wm + 16 * m + g + (r >= 2 ? 8 : 0);
        const long long j = j0 + wn + 8 * n + 2 * t + (r & 1);
        if (i < M && j < N)
          ep(i, j, acc[m][n][r]);
      }
}
)";

} // namespace

std::string prelude(const CudaPrintOptions &opts) {
  // The sizes the launcher (cudaLaunchDims) computes with.
  std::string sizes;
  for (auto [name, value] : {std::pair<const char *, int>{"NN_BLOCK", kCudaBlock},
                             {"NN_TILE", kCudaTile},
                             {"NN_BIG", kCudaBigTile},
                             {"NN_TK", kCudaSliceDepth},
                             {"NN_SPLIT_TILES", kCudaSplitTiles},
                             {"NN_SPLITS", kCudaMaxSplits}})
    sizes += "#define " + std::string(name) + " " + std::to_string(value) + "\n";
  return std::string(kHead) + sizes + kBody + (opts.tf32 ? kTf32 : "");
}

} // namespace nn::cuda

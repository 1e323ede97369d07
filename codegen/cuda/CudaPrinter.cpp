//===- CudaPrinter.cpp - A graph as one CUDA C++ translation unit ---------===//
///
/// \file
/// The prelude (block reduction, the tiled GEMM), constant arrays, and one
/// `extern "C" __global__` kernel per non-leaf node, each under a comment
/// with its `.nn` location and IR line; also the KernelWriter helpers the
/// kernel printers use, and the launch shapes.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaEmit.h"

#include "ir/Printer.h"
#include "ir/Support.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace nn {

int64_t CudaExtent::at(int64_t batch) const {
  int64_t v = fixed;
  for (int i = 0; i < batchPow; ++i)
    v *= batch;
  return v;
}

std::string CudaExtent::str() const {
  std::string s = batchPow == 0 || fixed != 1 ? std::to_string(fixed) : "";
  for (int i = 0; i < batchPow; ++i)
    s += s.empty() ? "N" : "*N";
  return s;
}

const CudaKernel *CudaSource::kernelAtLine(int line) const {
  for (const CudaKernel &k : kernels)
    if (line >= k.firstLine && line <= k.lastLine)
      return &k;
  return nullptr;
}

const CudaKernel *CudaSource::kernelOf(NodeId id) const {
  for (const CudaKernel &k : kernels)
    if (k.node == id)
      return &k;
  return nullptr;
}

CudaLaunchDims cudaLaunchDims(const CudaKernel &k, int64_t batch) {
  CudaLaunchDims d;
  auto blocks = [](int64_t items, int64_t per) {
    return items <= 0 ? int64_t(0) : (items + per - 1) / per;
  };
  int64_t grid = 1;
  switch (k.launch) {
  case CudaLaunchKind::Elements:
    // Grid-stride loops: a capped grid still covers every item.
    grid = std::min<int64_t>(blocks(k.count.at(batch), kCudaBlock), 1 << 20);
    break;
  case CudaLaunchKind::Single:
    grid = 1;
    break;
  case CudaLaunchKind::Gemm:
    grid = blocks(k.rows.at(batch), kCudaTile) *
           blocks(k.cols.at(batch), kCudaTile);
    NN_ASSERT(grid < (int64_t(1) << 31), "GEMM grid too large");
    break;
  }
  d.grid = static_cast<unsigned>(grid);
  return d;
}

namespace cuda {

std::string floatLit(double v) {
  float f = static_cast<float>(v);
  if (std::isnan(f))
    return "__uint_as_float(0x7fffffffu)";
  if (std::isinf(f))
    return f > 0 ? "__uint_as_float(0x7f800000u)"
                 : "__uint_as_float(0xff800000u)";
  char buf[64];
  for (int prec = 1; prec <= 9; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, static_cast<double>(f));
    if (std::strtof(buf, nullptr) == f)
      break;
  }
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  s += "f";
  return s[0] == '-' ? "(" + s + ")" : s;
}

KernelWriter::KernelWriter(const Graph &g, NodeId id,
                           const CudaPrintOptions &opts)
    : g(g), node(g[id]), opts(opts) {
  meta.node = id;
  meta.name = cudaKernelName(g, id);
  PrintOptions po;
  po.locations = false;
  meta.nodeText = printNode(g, id, po);
  meta.loc = node.loc;
}

void KernelWriter::line(const std::string &s) {
  text += std::string(static_cast<size_t>(depth) * 2, ' ') + s + "\n";
}

std::string KernelWriter::fresh(const char *prefix) {
  return prefix + std::to_string(temps++);
}

std::string KernelWriter::dim(int64_t d) const {
  return d == kBatch ? "batch" : std::to_string(d) + "LL";
}

std::string KernelWriter::product(const std::vector<int64_t> &dims, size_t from,
                                  size_t to) const {
  CudaExtent e = extent(dims, from, to);
  std::string s =
      e.batchPow == 0 || e.fixed != 1 ? std::to_string(e.fixed) + "LL" : "";
  for (int i = 0; i < e.batchPow; ++i)
    s += s.empty() ? "batch" : " * batch";
  return e.batchPow > 0 && e.fixed != 1 ? "(" + s + ")" : s;
}

CudaExtent KernelWriter::extent(const std::vector<int64_t> &dims, size_t from,
                                size_t to) {
  CudaExtent e;
  for (size_t i = from; i < to; ++i) {
    if (dims[i] == kBatch)
      ++e.batchPow;
    else
      e.fixed *= dims[i];
  }
  return e;
}

bool KernelWriter::isConst(size_t i) const {
  const Node &n = inNode(i);
  return n.op == OpKind::Const && n.values.size() == 1;
}

bool KernelWriter::isSingle(size_t i) const {
  if (isConst(i))
    return true;
  for (int64_t d : inType(i).dims)
    if (d != 1)
      return false;
  return true;
}

std::string KernelWriter::at(size_t i, const std::string &index) const {
  const Node &n = inNode(i);
  if (isConst(i))
    return floatLit(n.values[0]);
  if (n.op == OpKind::Const)
    return "nn_c" + std::to_string(node.inputs[i]) + "[" + index + "]";
  return "in" + std::to_string(i) + "[" + index + "]";
}

void KernelWriter::gridLoop(const std::string &var,
                            const std::vector<int64_t> &dims, size_t from,
                            size_t to) {
  meta.launch = CudaLaunchKind::Elements;
  meta.count = extent(dims, from, to);
  open("for (long long " + var +
       " = (long long)blockIdx.x * blockDim.x + threadIdx.x; " + var + " < " +
       product(dims, from, to) + "; " + var +
       " += (long long)gridDim.x * blockDim.x)");
}

CudaMath::Value CudaMath::let(const std::string &expr) {
  std::string t = k.fresh();
  k.line("const float " + t + " = " + expr + ";");
  return t;
}

std::vector<std::string> broadcastStrides(const KernelWriter &k,
                                          const std::vector<int64_t> &a,
                                          const std::vector<int64_t> &out) {
  NN_ASSERT(fitsBroadcast(a, out),
            "cannot broadcast " + dimsStr(a) + " to " + dimsStr(out));
  std::vector<std::string> s(out.size());
  size_t off = out.size() - a.size();
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != 1)
      s[off + i] = k.product(a, i + 1, a.size());
  return s;
}

bool fitsBroadcast(const std::vector<int64_t> &a,
                   const std::vector<int64_t> &out) {
  if (a.size() > out.size())
    return false;
  size_t off = out.size() - a.size();
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != 1 && a[i] != out[off + i])
      return false;
  return true;
}

void printUnflatten(KernelWriter &k, const std::string &flat,
                    const std::string &var, const std::vector<int64_t> &dims) {
  if (dims.empty())
    return;
  std::string rem = k.fresh("rem");
  k.line("long long " + rem + " = " + flat + ";");
  for (size_t d = dims.size(); d-- > 0;) {
    std::string n = k.dim(dims[d]);
    if (d == 0) {
      k.line("const long long " + var + "0 = " + rem + ";");
      break;
    }
    k.line("const long long " + var + std::to_string(d) + " = " + rem + " % " +
           n + ";");
    k.line(rem + " /= " + n + ";");
  }
}

std::string offsetExpr(const std::string &var,
                       const std::vector<std::string> &strides) {
  std::string s;
  for (size_t d = 0; d < strides.size(); ++d) {
    if (strides[d].empty())
      continue;
    std::string term = var + std::to_string(d);
    if (strides[d] != "1LL")
      term += " * " + strides[d];
    s += (s.empty() ? "" : " + ") + term;
  }
  return s.empty() ? "0LL" : s;
}

} // namespace cuda

namespace {

/// `s` with every character outside [A-Za-z0-9_] replaced by '_'.
std::string identifier(const std::string &s) {
  std::string r;
  for (char c : s)
    r += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return r;
}

/// The code every module starts with: the block reduction and the GEMM.
const char *const kPrelude =
    R"(// Compiled at run time by NVRTC (IEEE float: no fast math, no contraction
// of a * b + c; the GEMM uses fmaf explicitly).

#define NN_BLOCK 256
#define NN_TILE 64
#define NN_TK 16

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

// Loads the NN_TK-deep slice p0 of the tile at (i0, j0): As[p][i] from
// la(i0 + i, p0 + p), Bs[p][j] from lb(p0 + p, j0 + j), zero outside the
// matrices. Consecutive threads walk A along p when A_ROW, B along j when
// B_ROW (contiguous in memory). Both GEMMs load their tiles with it.
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

// C[M, N] = A[M, K] @ B[K, N], tiled through shared memory: block b computes
// the NN_TILE x NN_TILE tile (b / tilesN, b % tilesN) of C; thread t holds a
// 4 x 4 register block of it (rows ty + 16r, columns tx + 16c). Elements come
// from the loaders la(i, p) and lb(p, j), which fold in transposes and
// activation gradients; ep(i, j, acc) stores each result. Each result sums
// its K terms in order p = 0, 1, ... with fused multiply-adds. A_ROW: A is
// contiguous along p; B_ROW: B is contiguous along j (the tile loads follow).
template <bool A_ROW, bool B_ROW, class LA, class LB, class EP>
__device__ __forceinline__ void nn_gemm(long long M, long long N, long long K,
                                        LA la, LB lb, EP ep) {
  __shared__ float As[NN_TK][NN_TILE + 1];
  __shared__ float Bs[NN_TK][NN_TILE + 1];
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  const long long tilesN = (N + NN_TILE - 1) / NN_TILE;
  const long long i0 = (long long)blockIdx.x / tilesN * NN_TILE;
  const long long j0 = (long long)blockIdx.x % tilesN * NN_TILE;
  float acc[4][4];
#pragma unroll
  for (int r = 0; r < 4; ++r)
#pragma unroll
    for (int c = 0; c < 4; ++c)
      acc[r][c] = 0.0f;
  for (long long p0 = 0; p0 < K; p0 += NN_TK) {
    nn_load_tiles<A_ROW, B_ROW>(As, Bs, M, N, K, i0, j0, p0, la, lb);
    __syncthreads();
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
    __syncthreads();
  }
#pragma unroll
  for (int r = 0; r < 4; ++r)
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      const long long i = i0 + ty + 16 * r, j = j0 + tx + 16 * c;
      if (i < M && j < N)
        ep(i, j, acc[r][c]);
    }
}
)";

/// The GEMM on tensor cores, added to the prelude for --precision=tf32.
const char *const kTf32Gemm =
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

// nn_gemm with the multiply-adds on tensor cores (sm_80 and newer): the same
// tiles, loaders and epilogue, each 8-deep slice of a tile's product one
// mma.sync m16n8k8 per 16 x 8 piece, operands rounded to TF32, sums in fp32
// (in the order the hardware adds them). Warp w of the block's 8 holds rows
// 16 (w / 2) .. +16 and columns 32 (w % 2) .. +32 of the 64 x 64 tile: four
// 16 x 8 accumulators; lane l holds rows l / 4 and l / 4 + 8 of each, columns
// 2 (l % 4) and 2 (l % 4) + 1 (the PTX fragment layouts of m16n8k8).
template <bool A_ROW, bool B_ROW, class LA, class LB, class EP>
__device__ __forceinline__ void nn_gemm_tf32(long long M, long long N,
                                             long long K, LA la, LB lb,
                                             EP ep) {
  __shared__ float As[NN_TK][NN_TILE + 4];
  __shared__ float Bs[NN_TK][NN_TILE + 4];
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int g = lane / 4, t = lane % 4;
  const int wm = warp / 2 * 16, wn = warp % 2 * 32;
  const long long tilesN = (N + NN_TILE - 1) / NN_TILE;
  const long long i0 = (long long)blockIdx.x / tilesN * NN_TILE;
  const long long j0 = (long long)blockIdx.x % tilesN * NN_TILE;
  float acc[4][4];
#pragma unroll
  for (int c = 0; c < 4; ++c)
#pragma unroll
    for (int r = 0; r < 4; ++r)
      acc[c][r] = 0.0f;
  for (long long p0 = 0; p0 < K; p0 += NN_TK) {
    nn_load_tiles<A_ROW, B_ROW>(As, Bs, M, N, K, i0, j0, p0, la, lb);
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < NN_TK; kk += 8) {
      // A fragment (16 x 8, row-major): rows g, g + 8; depths t, t + 4.
      const unsigned a0 = nn_tf32(As[kk + t][wm + g]);
      const unsigned a1 = nn_tf32(As[kk + t][wm + g + 8]);
      const unsigned a2 = nn_tf32(As[kk + t + 4][wm + g]);
      const unsigned a3 = nn_tf32(As[kk + t + 4][wm + g + 8]);
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        // B fragment (8 x 8, column-major): depths t, t + 4; column g.
        const unsigned b0 = nn_tf32(Bs[kk + t][wn + 8 * c + g]);
        const unsigned b1 = nn_tf32(Bs[kk + t + 4][wn + 8 * c + g]);
        nn_mma_tf32(acc[c], a0, a1, a2, a3, b0, b1);
      }
    }
    __syncthreads();
  }
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
)";

int countLines(const std::string &s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

} // namespace

std::string cudaKernelName(const Graph &g, NodeId id) {
  const Node &n = g[id];
  std::string name = "k" + std::to_string(id);
  if (n.loc.valid()) {
    std::string file = n.loc.file;
    size_t slash = file.find_last_of('/');
    if (slash != std::string::npos)
      file = file.substr(slash + 1);
    name += "_" + identifier(file) + "_" + std::to_string(n.loc.line);
  }
  return name + "_" + identifier(mnemonic(n.op));
}

void checkTf32Arch(const std::string &arch) {
  int sm = 0;
  if (arch.rfind("sm_", 0) == 0)
    sm = std::atoi(arch.c_str() + 3);
  if (sm < 80)
    throw UserError("nnc: error: --precision=tf32 needs tensor cores with "
                    "TF32: sm_80 or newer (this is " + arch + ")");
}

CudaSource printCuda(const Graph &g, const CudaPrintOptions &opts) {
  CudaSource src;
  src.graph = g.name;
  std::string &code = src.code;
  code = "// The training step of graph '" + g.name +
         "', one kernel per node, generated by nnc" +
         (opts.tf32 ? " (GEMMs in TF32 on tensor cores)" : "") + ".\n" +
         kPrelude + (opts.tf32 ? kTf32Gemm : "");

  // Constant tensors (single constants are inlined into the kernels).
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    if (n.op != OpKind::Const || n.values.size() <= 1)
      continue;
    code += "\n__device__ const float nn_c" + std::to_string(id) + "[" +
            std::to_string(n.values.size()) + "] = {";
    for (size_t i = 0; i < n.values.size(); ++i)
      code += (i ? ", " : "") + cuda::floatLit(n.values[i]);
    code += "};\n";
  }

  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    if (hasTrait(n.op, kLeaf))
      continue;
    NN_ASSERT(n.type.known, "cuda printer: node %" + std::to_string(id) +
                                " has no known type");
    cuda::KernelWriter k(g, id, opts);
    cuda::printKernelBody(k);
    std::string head = "\n// ";
    if (n.loc.valid())
      head += n.loc.str() + ": ";
    head += k.meta.nodeText;
    std::replace(head.begin() + 1, head.end(), '\n', ' ');
    head += "\n";
    std::string sig =
        "extern \"C\" __global__ void __launch_bounds__(NN_BLOCK)\n" +
        k.meta.name + "(float *__restrict__ out";
    for (size_t i = 0; i < n.inputs.size(); ++i)
      sig += ", const float *__restrict__ in" + std::to_string(i);
    sig += ", const long long batch) {\n";
    code += head;
    k.meta.firstLine = countLines(code) + 1;
    code += sig + k.body() + "}\n";
    k.meta.lastLine = countLines(code);
    src.kernels.push_back(k.meta);
  }
  return src;
}

} // namespace nn

//===- CudaPrinter.h - Graphs printed as CUDA C++ --------------*- C++ -*-===//
///
/// \file
/// The CUDA backend's code generator: one `extern "C" __global__` kernel per
/// non-leaf node, named after the `.nn` line it came from, in one CUDA C++
/// translation unit per graph, with the facts a launcher needs (grid shape as
/// a function of the batch size). Plain strings: no CUDA header is needed to
/// print, only to compile (codegen/cuda/Nvrtc.h) and run (CudaDriver.h).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nn {

/// Threads per block of every generated kernel.
constexpr int kCudaBlock = 256;
/// The output tiles of a GEMM kernel: kCudaTile x kCudaTile results per block
/// (each of the kCudaBlock threads computes a 4 x 4 register block), or, in
/// its big variant, kCudaBigTile x kCudaBigTile (8 x 8 per thread), launched
/// for results of at least CudaPrintOptions::bigTileMin elements.
constexpr int kCudaTile = 64;
/// The depth of the K slices a GEMM block loads into shared memory.
constexpr int kCudaSliceDepth = 16;
/// Split-K (small-tile GEMMs only): a product of at most kCudaSplitTiles
/// tiles with a long K runs as tiles x splits blocks (at most
/// kCudaMaxSplits, each at least kCudaSplitMinSlices slices, about
/// kCudaSplitBlocks blocks in all); the last block of each tile adds the
/// partial sums in split order.
constexpr int kCudaSplitTiles = 16;
constexpr int kCudaMaxSplits = 16;
constexpr int kCudaSplitMinSlices = 4;
constexpr int kCudaSplitBlocks = 128;
/// Results per block of a Columns launch (one per lane of a warp).
constexpr int kCudaColumns = 32;
constexpr int kCudaBigTile = 128;
/// 128 tiles of 128 x 128: about one per multiprocessor of an H100 (132).
/// Smaller products keep the small tile, which makes 4 times more blocks.
constexpr int64_t kCudaBigTileMin = int64_t(128) * kCudaBigTile * kCudaBigTile;

/// A size that depends on the batch: fixed * batch^batchPow.
struct CudaExtent {
  int64_t fixed = 1;
  int batchPow = 0;

  int64_t at(int64_t batch) const;
  /// "784", "N", "10*N".
  std::string str() const;
};

/// How a kernel is launched.
enum class CudaLaunchKind {
  /// A grid-stride loop over `count` work items, kCudaBlock threads a block.
  Elements,
  /// One block of kCudaBlock threads (a full reduction to a scalar).
  Single,
  /// One block per kCudaColumns of `count` results, each a sum over rows
  /// that the block's warps share (nn_column_sums).
  Columns,
  /// One block per tile of an [m, n] result: kCudaTile, or kCudaBigTile
  /// (the kernel's big variant) when m * n >= CudaKernel::bigTileMin.
  Gemm,
  /// One block per row of `count` rows (at most kCudaMaxRowBlocks blocks,
  /// each then taking every gridDim.x-th row); the block's threads share
  /// the row and reduce over it with nn_block_sum (layer_norm's rows).
  Rows,
};
/// The most blocks of a Rows launch.
constexpr int64_t kCudaMaxRowBlocks = int64_t(1) << 20;

/// One generated kernel: what it computes and how to launch it. Every kernel
/// takes (float *out, const float *in0, ..., long long batch): one pointer
/// per operand of its node, in order (the pointer of an operand the kernel
/// does not read, an inlined constant, may be null).
struct CudaKernel {
  NodeId node = 0;
  /// "k7_mnist_mlp_nn_7_matmul".
  std::string name;
  /// The node's IR line, e.g. "%7 = matmul %x, %fc1.weight : f32[N,128]".
  std::string nodeText;
  /// Where in the .nn file the node comes from (may be invalid).
  SrcLoc loc;
  CudaLaunchKind launch = CudaLaunchKind::Elements;
  /// Elements: the number of work items; Rows: the number of rows.
  CudaExtent count;
  /// Gemm: the result's rows and columns; the name of the variant on big
  /// tiles ("fc1_fused_dense_big"; empty when the result is
  /// never big enough), and the size from which it is launched.
  CudaExtent rows, cols;
  std::string bigName;
  int64_t bigTileMin = kCudaBigTileMin;
  /// Gemm: the number of terms of each result (K), and whether the launch
  /// may split it (CudaPrintOptions::splitK).
  CudaExtent depth;
  bool splitK = true;
  /// The kernel's lines in the source, 1-based, both ends included (to map
  /// compiler messages back to kernels).
  int firstLine = 0, lastLine = 0;
  /// A chain kernel (CudaChains.cpp): the update nodes it computes in one
  /// loop, ascending (`node` is the last). Its arguments are, member after
  /// member, the member's (out, in0, ...), then batch (cudaKernelArgs). It
  /// follows the per-node kernels in CudaSource::kernels and is launched in
  /// their stead where the memory plan allows (cudaLaunchList). Empty for
  /// the kernel of one node.
  std::vector<NodeId> members;
};

/// A graph as one CUDA C++ translation unit.
struct CudaSource {
  /// The graph's name.
  std::string graph;
  /// The complete source (prelude, constants, kernels).
  std::string code;
  /// One per non-leaf node, in graph order; then one per chain of a
  /// parameter's updates (CudaKernel::members).
  std::vector<CudaKernel> kernels;
  /// Per node: the Param or State leaf whose buffer its kernel writes
  /// (passes/InPlaceUpdates: an update computed in place, with no copy
  /// after the step), or -1. Those kernels' pointers are not __restrict__.
  std::vector<NodeId> inPlace;

  /// The kernel whose source contains 1-based `line`, or nullptr.
  const CudaKernel *kernelAtLine(int line) const;
  /// The kernel of node `id`, or nullptr.
  const CudaKernel *kernelOf(NodeId id) const;
};

/// How the GEMMs multiply (`--precision`).
struct CudaPrintOptions {
  /// On tensor cores (mma.sync m16n8k8, sm_80 and newer): the operands
  /// rounded to TF32 (10-bit mantissa), the sums in fp32. Every other op is
  /// unchanged.
  bool tf32 = false;
  /// GEMM kernels get a variant on 128 x 128 tiles, launched for results of
  /// at least this many elements (tests lower it to run the big tiles on
  /// small models). Both variants give the same bits.
  int64_t bigTileMin = kCudaBigTileMin;
  /// Split long K among blocks for products of few tiles (see
  /// kCudaSplitTiles): more blocks, partial sums added in a fixed order,
  /// so other bits than without.
  bool splitK = true;
  /// Blocks per multiprocessor the big variants are compiled for
  /// (`__launch_bounds__(NN_BLOCK, n)`): 1 lets ptxas use up to 255
  /// registers; 2 caps them at 128 (more warps, some spills).
  int bigMinBlocks = 1;
  /// Print conv2d and its gradients as direct loops (one thread per
  /// result, sums in double) even where they fit an implicit GEMM (groups
  /// = 1); tests compare the two forms.
  bool directConv = false;
};

/// Prints every non-leaf node of `g` (types known; fused ops included) as a
/// kernel with the semantics of runtime/Interpreter.cpp, computed in float
/// (sums and means accumulated in double; GEMMs in float, fused
/// multiply-add, each result summing its terms in order; or in TF32).
CudaSource printCuda(const Graph &g, const CudaPrintOptions &opts = {});

/// Throws UserError when TF32 GEMMs cannot run on `arch` ("sm_75": tensor
/// core TF32 needs sm_80 or newer).
void checkTf32Arch(const std::string &arch);

/// The kernel name of node `id`: its `.nn` binding and op made a C
/// identifier ("fc1_fused_dense"), as ir/KernelNames.h names it.
std::string cudaKernelName(const Graph &g, NodeId id);

/// Grid and block sizes of one launch.
struct CudaLaunchDims {
  unsigned grid = 1;
  unsigned block = kCudaBlock;
  /// Launch the kernel's big-tile variant (CudaKernel::bigName).
  bool big = false;
  /// Gemm: blocks per tile (split-K; 1: none).
  unsigned splits = 1;
};

/// The launch of kernel `k` for `batch` samples; grid 0 when there is no
/// work (an empty tensor).
CudaLaunchDims cudaLaunchDims(const CudaKernel &k, int64_t batch);
/// The name of the function that launch runs (k.name or k.bigName).
inline const std::string &cudaLaunchName(const CudaKernel &k,
                                         const CudaLaunchDims &d) {
  return d.big ? k.bigName : k.name;
}

} // namespace nn

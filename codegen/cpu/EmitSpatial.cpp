//===- EmitSpatial.cpp - CPU kernels: convolution, pooling, batch norm ----===//
///
/// \file
/// The dispatch of the spatial family to its kernels (EmitConv.cpp,
/// EmitPool.cpp, EmitChannels.cpp), how each is split between threads
/// (spatialSplit, for the entry point's parallel-for), and reshape.
/// Algorithm: reshape is a flat copy of its elements (the same row-major
/// order in both shapes), split in ranges.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/EmitSpatial.h"
#include "codegen/cpu/ModuleEmitter.h"

#include "ir/Support.h"

namespace nn::cpu {

using namespace llvm;
using Val = llvm::Value *;

void emitSpatialKernel(KernelEmitter &k) {
  switch (member<SpatialOp>(k.node.op)) {
  case SpatialOp::Conv2d:
    return emitConv2d(k);
  case SpatialOp::Conv2dGradInput:
    return emitConv2dGradInput(k);
  case SpatialOp::Conv2dGradWeight:
    return emitConv2dGradWeight(k);
  case SpatialOp::ChannelSum:
  case SpatialOp::ChannelMean:
  case SpatialOp::ChannelVar:
    return emitChannelReduce(k);
  case SpatialOp::ChannelAffine:
    return emitChannelAffine(k);
  case SpatialOp::BatchNormalize:
    return emitBatchNormalize(k);
  case SpatialOp::BatchNormalizeGrad:
    return emitBatchNormalizeGrad(k);
  case SpatialOp::MaxPool2d:
    return emitMaxPool2d(k);
  case SpatialOp::MaxPool2dGrad:
    return emitMaxPool2dGrad(k);
  case SpatialOp::AvgPool2d:
    return emitAvgPool2d(k);
  case SpatialOp::AvgPool2dGrad:
    return emitAvgPool2dGrad(k);
  }
  NN_UNREACHABLE("bad SpatialOp");
}

void emitReshape(KernelEmitter &k) {
  k.splitLoop(k.numel(k.node.type), "e",
              [&](Val e) { k.store(e, k.load(0, e)); });
}

std::pair<Val, Val> spatialSplit(IRBuilder<> &b, const Graph &g, NodeId id,
                                 Val batch) {
  const Node &n = g[id];
  auto dimOf = [&](int64_t d) -> Val {
    return d == kBatch ? batch : b.getInt64(static_cast<uint64_t>(d));
  };
  auto numel = [&](const std::vector<int64_t> &dims) {
    Val v = b.getInt64(1);
    for (int64_t d : dims)
      v = b.CreateMul(v, dimOf(d));
    return v;
  };
  auto max = [&](Val x, Val y) {
    return b.CreateSelect(b.CreateICmpSGT(x, y), x, y);
  };
  const std::vector<int64_t> &out = n.type.dims;
  const std::vector<int64_t> &in0 = g[n.inputs[0]].type.dims;
  Val size = numel(out);
  int64_t taps = n.win.kernel[0] * n.win.kernel[1];
  Val groups = b.getInt64(static_cast<uint64_t>(n.win.groups));
  switch (member<SpatialOp>(n.op)) {
  case SpatialOp::Conv2d: {
    // Units (image, group), or one image's product: [Og, Ho*Wo].
    ImageGeom G(in0, out, n.win);
    Val units = b.CreateMul(dimOf(in0[0]), groups);
    Val product = gemmMaxParts(b, b.getInt64(G.og()),
                               b.getInt64(G.ho * G.wo));
    return {max(units, product),
            b.CreateMul(size, b.getInt64(G.cg() * taps))};
  }
  case SpatialOp::Conv2dGradInput: {
    ImageGeom G(out, in0, n.win);
    Val units = b.CreateMul(dimOf(out[0]), groups);
    Val product = gemmMaxParts(b, b.getInt64(G.cg()), b.getInt64(G.h * G.w));
    return {max(units, product),
            b.CreateMul(size, b.getInt64(G.og() * taps))};
  }
  case SpatialOp::Conv2dGradWeight: {
    // [Og, Cg*kh*kw] for each group, over N*Ho*Wo, split by columns: every
    // task packs all of a (dy, Og x N*Ho*Wo), so at least 4 column panels
    // each, that packing a quarter of the task's multiply-adds at most.
    const std::vector<int64_t> &dy = g[n.inputs[1]].type.dims;
    Val work = b.CreateMul(size, numel({dy[0], dy[2], dy[3]}));
    if (weightGradByChannel(out[1] * taps, out[0] / n.win.groups))
      return {b.getInt64(out[0]), work}; // by output channel
    Val panels = gemmMaxParts(b, b.getInt64(1), b.getInt64(out[1] * taps));
    return {max(b.CreateUDiv(panels, b.getInt64(4)), b.getInt64(1)), work};
  }
  case SpatialOp::ChannelSum:
  case SpatialOp::ChannelMean:
  case SpatialOp::ChannelVar:
  case SpatialOp::BatchNormalize:
  case SpatialOp::BatchNormalizeGrad:
    // By channels.
    return {dimOf(in0[1]), numel(in0)};
  case SpatialOp::ChannelAffine:
    return {b.CreateMul(dimOf(in0[0]), dimOf(in0[1])), size};
  case SpatialOp::MaxPool2d:
  case SpatialOp::AvgPool2d:
    return {b.CreateMul(dimOf(out[0]), dimOf(out[1])),
            b.CreateMul(size, b.getInt64(static_cast<uint64_t>(taps)))};
  case SpatialOp::MaxPool2dGrad:
  case SpatialOp::AvgPool2dGrad:
    // Planes of dy (and of the result).
    return {b.CreateMul(dimOf(in0[0]), dimOf(in0[1])),
            b.CreateMul(numel(in0), b.getInt64(static_cast<uint64_t>(taps)))};
  }
  NN_UNREACHABLE("bad SpatialOp");
}

} // namespace nn::cpu

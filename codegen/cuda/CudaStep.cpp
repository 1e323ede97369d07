//===- CudaStep.cpp - Where a CUDA step keeps each value ------------------===//

#include "codegen/cuda/CudaStep.h"

#include "ir/Support.h"

namespace nn {

CudaPlace cudaPlaceOf(const Graph &g, const CudaSource &src,
                      const MemoryPlan &plan, NodeId id) {
  CudaPlace p;
  if (src.inPlace[id] >= 0) { // an update computed into its leaf
    p.kind = CudaPlace::Leaf;
    p.leaf = src.inPlace[id];
    return p;
  }
  const Node &n = g[id];
  if (n.op == OpKind::Const && n.values.size() <= 1) {
    p.kind = CudaPlace::Inlined;
    return p;
  }
  if (hasTrait(n.op, kLeaf)) {
    p.kind = CudaPlace::Leaf;
    p.leaf = id;
    return p;
  }
  NN_ASSERT(plan.offset[id] >= 0,
            "node %" + std::to_string(id) + " has no buffer in the plan");
  p.offset = plan.offset[id];
  return p;
}

CudaUpdateCopy cudaUpdateCopy(const Graph &g, const CudaSource &src,
                              const Update &u) {
  const Node &value = g[u.value];
  if (value.op == OpKind::Const && value.values.size() == 1)
    return CudaUpdateCopy::Fill;
  NN_ASSERT(value.op != OpKind::Param && value.op != OpKind::State,
            "an update whose value is a parameter or state leaf");
  return src.inPlace[u.value] == u.target ? CudaUpdateCopy::None
                                          : CudaUpdateCopy::Copy;
}

} // namespace nn

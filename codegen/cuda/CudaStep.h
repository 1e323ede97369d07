//===- CudaStep.h - Where a CUDA step keeps each value ---------*- C++ -*-===//
///
/// \file
/// The buffer plan of one training step on the CUDA backend, shared by the
/// CUDA executor (runtime/CudaExecutor.cpp) and the host emulator of the
/// tests, so the step they play is one: which buffer each node's kernel
/// reads or writes, and how each update reaches its leaf after the kernels.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/cuda/CudaPrinter.h"
#include "passes/MemoryPlan.h"

namespace nn {

/// Where node `id`'s values are during a step of `src`.
struct CudaPlace {
  enum Kind {
    /// In leaf `leaf`'s own buffer: a leaf (Input, Label, Param, State, or
    /// a constant tensor), or an update computed in place into its target.
    Leaf,
    /// Nowhere: a constant of one value, inlined into the kernels.
    Inlined,
    /// At byte `offset` of the step's arena (the memory plan).
    Arena,
  };
  Kind kind = Arena;
  NodeId leaf = -1;
  int64_t offset = -1;
};

/// The place of node `id` of `g` (whose source is `src`) under `plan`.
CudaPlace cudaPlaceOf(const Graph &g, const CudaSource &src,
                      const MemoryPlan &plan, NodeId id);

/// How update `u` reaches its target leaf after the step's kernels.
enum class CudaUpdateCopy {
  Fill, ///< its value is a constant of one value: fill the leaf with it
  None, ///< its kernel computed it in the leaf's buffer (in place)
  Copy, ///< copy the value's buffer (cudaPlaceOf) into the leaf
};
CudaUpdateCopy cudaUpdateCopy(const Graph &g, const CudaSource &src,
                              const Update &u);

/// The nodes whose buffers (cudaPlaceOf) kernel `k` takes, in argument
/// order: its node then the node's operands; for a chain kernel, that of
/// every member in turn. The batch size follows them.
std::vector<NodeId> cudaKernelArgs(const Graph &g, const CudaKernel &k);

/// The kernels a step of `src` under `plan` launches, in order (indices into
/// src.kernels): each node's, except that a chain kernel replaces its
/// members, launched where its last member was, when moving them there keeps
/// every read intact: no other kernel between its first and last member
/// reads a member or touches the chain's buffers, and each member's result
/// is apart from every other buffer of the chain or exactly in its slot.
std::vector<size_t> cudaLaunchList(const Graph &g, const CudaSource &src,
                                   const MemoryPlan &plan);

} // namespace nn

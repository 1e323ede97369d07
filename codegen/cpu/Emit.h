//===- Emit.h - Graph to LLVM IR (private to codegen/cpu) ------*- C++ -*-===//
///
/// \file
/// The module emitter's internals: a KernelEmitter holds one kernel function
/// (one graph node) under construction, with helpers for loops, operand loads
/// and symbolic (batch-dependent) dimensions; emitKernelBody fills it with
/// the node's loop nest. Only codegen/cpu includes this header.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/cpu/CpuBackend.h"
#include "ir/Broadcast.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace nn::cpu {

/// A value a kernel reads: a float buffer, or one constant for every element
/// (a Const node with a single value, inlined).
struct Operand {
  const Node *node = nullptr;
  llvm::Value *ptr = nullptr;
  std::optional<double> constant;
};

/// Builds the body of one kernel function:
///   void k(ptr out, ptr in0, ..., i64 batch)
class KernelEmitter {
public:
  KernelEmitter(llvm::Module &m, llvm::Function *f, const Graph &g, NodeId id,
                std::vector<Operand> operands);
  /// One of several nodes in one function (a kernel group): writes `out`,
  /// emitting at the end of block `at` (the entry block is f's first).
  KernelEmitter(llvm::Module &m, llvm::Function *f, const Graph &g, NodeId id,
                std::vector<Operand> operands, llvm::Value *out,
                llvm::BasicBlock *at);

  llvm::IRBuilder<> b;
  const Graph &g;
  const Node &node;
  llvm::Value *out;
  llvm::Value *batch;
  std::vector<Operand> in;
  /// This call's share of a kernel split between threads: task `part` of
  /// `parts` (0 of 1 when it runs alone).
  llvm::Value *part;
  llvm::Value *parts;

  llvm::Type *f32() { return b.getFloatTy(); }
  llvm::Type *f64() { return b.getDoubleTy(); }
  llvm::Value *i64(int64_t v) { return b.getInt64(static_cast<uint64_t>(v)); }
  llvm::Value *f32(double v);

  /// A dimension as an i64: the constant, or `batch` for kBatch.
  llvm::Value *dim(int64_t d);
  /// The product of dims[from, to) (1 when empty).
  llvm::Value *product(const std::vector<int64_t> &dims, size_t from,
                       size_t to);
  llvm::Value *numel(const TensorType &t) {
    return product(t.dims, 0, t.dims.size());
  }
  /// The type of operand `i`'s node.
  const TensorType &inType(size_t i) const { return in[i].node->type; }

  /// for (i = 0; i < n; ++i) body(i).
  void loop(llvm::Value *n, const char *name,
            const std::function<void(llvm::Value *)> &body);
  /// if (cond) then() else otherwise() (no else block work when null).
  void ifElse(llvm::Value *cond, const std::function<void()> &then,
              const std::function<void()> &otherwise);
  /// for (i = begin; i < end; ++i) body(i) over this task's share of
  /// [0, n): [part * n / parts, (part + 1) * n / parts) (all of it when the
  /// kernel runs alone). For loops whose elements are independent.
  void splitLoop(llvm::Value *n, const char *name,
                 const std::function<void(llvm::Value *)> &body);
  /// Loops over `dims` (outermost first): body(outIndex, operandIndices)
  /// with the row-major index into `dims` and, for each entry of `strides`,
  /// sum(idx[d] * strides[k][d]).
  /// With `splitOuter`, the outermost dimension covers only this task's
  /// share of it (splitLoop).
  void stridedLoop(const std::vector<int64_t> &dims,
                   const std::vector<std::vector<llvm::Value *>> &strides,
                   const std::function<void(llvm::Value *,
                                            std::vector<llvm::Value *>)> &body,
                   bool splitOuter = false);
  /// Row-major strides of `dims`.
  std::vector<llvm::Value *> denseStrides(const std::vector<int64_t> &dims);

  /// Element `index` of operand `i` as a float.
  llvm::Value *load(size_t i, llvm::Value *index);
  /// out[index] = v.
  void store(llvm::Value *index, llvm::Value *v);
  void storeTo(llvm::Value *ptr, llvm::Value *index, llvm::Value *v);

  /// A stack slot of type `t` in the entry block (so loops do not grow the
  /// stack; the optimizer promotes it to a register).
  llvm::Value *slot(llvm::Type *t, const char *name);
  /// A double accumulator in the entry block (promoted to a register by the
  /// optimizer), set to 0.
  llvm::Value *accumulator(const char *name);
  /// *acc += fpext(v).
  void accumulate(llvm::Value *acc, llvm::Value *v);

  /// The libm function `name` : float -> float.
  llvm::FunctionCallee libm(const char *name);

private:
  void bindPart(llvm::Function *f);
  llvm::Module &mod;
  llvm::Function *fn;
};

/// The attribute of a kernel split between threads: its last parameters are
/// (i64 part, i64 parts, i64 batch).
constexpr const char *kSplitAttr = "nnc-split";

/// The emitter for ir/ElementwiseMath.h: float arithmetic in LLVM IR, no
/// fast-math (IEEE results, as the interpreter's). With `lanes` > 0 the
/// values are <lanes x float> vectors (libm calls element by element).
struct LlvmMath {
  using Value = llvm::Value *;
  KernelEmitter &k;
  unsigned lanes = 0;
  Value constant(double c) {
    return lanes ? k.b.CreateVectorSplat(lanes, k.f32(c)) : k.f32(c);
  }
  Value neg(Value a) { return k.b.CreateFNeg(a); }
  Value add(Value a, Value b) { return k.b.CreateFAdd(a, b); }
  Value sub(Value a, Value b) { return k.b.CreateFSub(a, b); }
  Value mul(Value a, Value b) { return k.b.CreateFMul(a, b); }
  Value div(Value a, Value b) { return k.b.CreateFDiv(a, b); }
  Value exp(Value a);
  Value log(Value a);
  Value log1p(Value a) { return call("log1pf", a); }
  Value tanh(Value a) { return call("tanhf", a); }
  /// llvm.sqrt: IEEE (correctly rounded), vectorizable.
  Value sqrt(Value a);
  Value erf(Value a) { return call("erff", a); }
  Value selectGt(Value a, Value b, Value t, Value f) {
    return k.b.CreateSelect(k.b.CreateFCmpOGT(a, b), t, f);
  }

private:
  /// The libm function `name` on a, lane by lane for a vector.
  Value call(const char *name, Value a);
};

/// Fills the kernel of node `k.node` (any non-leaf op) with its loop nest.
void emitKernelBody(KernelEmitter &k);
/// The same for the fused ops of Ops.def (EmitFused.cpp).
void emitFusedKernel(KernelEmitter &k);
/// layer_norm's row ops, split between threads by rows (EmitNormalize.cpp).
void emitNormalize(KernelEmitter &k);
void emitNormalizeGrad(KernelEmitter &k);
/// The same for the random ops (EmitRandom.cpp).
void emitRandomKernel(KernelEmitter &k);
/// conv2d, pooling, the channel ops (codegen/cpu/EmitSpatial.cpp).
void emitSpatialKernel(KernelEmitter &k);
/// reshape: a copy of the elements (codegen/cpu/EmitSpatial.cpp).
void emitReshape(KernelEmitter &k);
/// The kernel of an update op of the Update family (EmitUpdates.cpp).
void emitUpdateKernel(KernelEmitter &k);
/// The operands of update node `id` of a kernel group (scalar Consts
/// inlined), and the function argument of a node's buffer.
using OperandsFn = std::function<std::vector<Operand>(NodeId)>;
using BufferFn = std::function<llvm::Value *(NodeId)>;
/// How the buffers of two nodes lie: apart, in exactly the same slot
/// (offset and size), or partly over each other.
enum class Overlap { None, SameSlot, Partial };
using OverlapFn = std::function<Overlap(NodeId, NodeId)>;
/// Whether `chains` (of an optimizer group) may run one loop each, in any
/// order: every result apart from the group's other buffers, or in the slot
/// of one that only its own chain uses (KernelGroups.cpp).
bool chainsApart(const Graph &g, const std::vector<std::vector<NodeId>> &chains,
                 const OverlapFn &overlap);
struct KernelGroup;
/// How the buffers of `a` and `b` of update group `grp` lie under `plan`
/// (KernelGroups.cpp): leaves, and scalar operands the caller copies
/// (copiesScalar), are apart from everything.
Overlap planOverlap(const Graph &g, const MemoryPlan &plan,
                    const KernelGroup &grp, NodeId a, NodeId b);
/// The update nodes `nodes` of an optimizer group (ascending), emitted at
/// the end of `at` into `f`; returns the block to continue in. With
/// CpuOptions::updateChains (`overlap` says Partial for every pair when
/// off), where the buffers allow it (`overlap`: a result shares a slot only
/// with buffers its own parameter's updates alone use, in exactly that slot),
/// the updates of one parameter (a fused.adam with the fused.adam_moment and
/// fused.adam_variance it reads, a fused.sgd with its fused.sgd_momentum)
/// share one loop: each element of w, g, m, v is read once and each result
/// written once. Otherwise one loop per node, in graph order.
llvm::BasicBlock *emitUpdateGroup(llvm::Module &m, llvm::Function *f,
                                  const Graph &g,
                                  const std::vector<NodeId> &nodes,
                                  const OperandsFn &operands,
                                  const BufferFn &buffer, llvm::BasicBlock *at,
                                  const OverlapFn &overlap);
/// The sum (or mean) over every element `sum` with its elementwise operand
/// `operand` (isFoldedIntoSum) computed in its loop, emitted at the end of
/// `at` into `f` (EmitFoldedSum.cpp); returns the block to continue in.
llvm::BasicBlock *emitFoldedSum(llvm::Module &m, llvm::Function *f,
                                const Graph &g, NodeId operand, NodeId sum,
                                const OperandsFn &operands,
                                const BufferFn &buffer, llvm::BasicBlock *at);
/// Largest column count of a weight gradient whose bias gradient is computed
/// in the same kernel (its sums and a cached row live on the stack).
constexpr int64_t kMaxPairCols = 8192;
/// Whether `w` (a fused.dense_grad_weight, or a fused.matmul x^T @ d) and `b`
/// (a fused.dense_grad_bias, or a sum over axis 0 of d) read the same right
/// operand, so that emitGradWithBias computes both: d 2-D, its column count
/// and x's column count constant, at most kMaxPairCols and at least 1.
bool isGradBiasPair(const Graph &g, NodeId w, NodeId b);
/// k.node is the `w` of an isGradBiasPair: computes it as its own kernel
/// would (same blocks, same sums, bit for bit) and, into `biasOut`, the
/// column sums of its right operand (in double, rows in order, as the
/// separate kernel sums them: bit for bit too), accumulated while the first
/// block of rows of the result reads each row of that operand.
void emitGradWithBias(KernelEmitter &k, llvm::Value *biasOut);

// Building blocks shared by the kernels (EmitKernels.cpp).

/// An element of a matrix operand at (row, col), emitted on demand.
using ElemFn = std::function<llvm::Value *(llvm::Value *, llvm::Value *)>;
/// The value stored at (i, j) given the accumulated product there.
using EpilogueFn =
    std::function<llvm::Value *(llvm::Value *, llvm::Value *, llvm::Value *)>;
/// A matrix product out[i*n + j] = epilogue(i, j, sum_p a(i, p) * b(p, j))
/// for i < m, j < n (EmitGemm.cpp: packed, register-blocked, each sum in
/// the order p = 0, 1, ..., k-1 with one FMA per term, whatever the
/// blocking or the thread count).
struct GemmSpec {
  GemmSpec(llvm::Value *m, llvm::Value *k, llvm::Value *n) : m(m), k(k), n(n) {}
  llvm::Value *m, *k, *n;
  /// Elements of the operands, emitted on demand: b's are packed; a's
  /// too where a is computed (packA) or not read in place (no aBase).
  ElemFn a, b;
  /// a(i, p) = aBase[i * aRowStride + p * aColStride]: the micro-kernel
  /// reads a in place (a matrix or its transpose).
  llvm::Value *aBase = nullptr, *aRowStride = nullptr, *aColStride = nullptr;
  /// a is computed (an activation gradient folded in): pack it once per
  /// block instead of recomputing it for every column panel.
  bool packA = false;
  /// An i1: when true, the sums continue from out's values (as a depth
  /// block continues the blocks before it) instead of starting from 0: a
  /// product whose depth is cut into several calls, the same bits as one.
  llvm::Value *accumulate = nullptr;
  const EpilogueFn *epilogue = nullptr;
  /// The epilogue on <8 x float> (i, columns j .. j+7), for whole tiles;
  /// the scalar one for partial tiles. Null: scalar everywhere.
  std::function<llvm::Value *(llvm::Value *, llvm::Value *, llvm::Value *)>
      vecEpilogue;
  /// Sees every b(p, j) of this task's columns once, p ascending for each
  /// column (a bias gradient summed while b is packed).
  std::function<void(llvm::Value *, llvm::Value *, llvm::Value *)> onB;
  /// Optional (not with onB): bRow(p, j, dst, width) stores b(p, j + q) at
  /// dst[q] for q < width, 0 where j + q >= n, in place of `width` calls
  /// of `b`: a vector gather (an implicit GEMM's patches).
  std::function<void(llvm::Value *, llvm::Value *, llvm::Value *, int64_t)>
      bRow;
  /// Optional, for a packed a: aCol(i, p, dst, height) stores a(i + r, p)
  /// at dst[r] for r < height, 0 where i + r >= m, in place of `height`
  /// calls of `a`.
  std::function<void(llvm::Value *, llvm::Value *, llvm::Value *, int64_t)>
      aCol;
};
/// Emits `spec` for the columns of task k.part of k.parts.
void emitGemm(KernelEmitter &k, const GemmSpec &spec);
/// The columns [begin, end) of an n-column product that task k.part of
/// k.parts computes: whole panels of the module's tile width (GemmTarget's
/// nr), split evenly. (A spec with onB is split so; others split rows too
/// where the panels are fewer than the tasks.)
std::pair<llvm::Value *, llvm::Value *> gemmColumns(KernelEmitter &k,
                                                    llvm::Value *n);
/// The most tasks a rows x cols product is split into: its column panels
/// times groups of two row tiles (for the parallel-for's maxParts).
llvm::Value *gemmMaxParts(llvm::IRBuilder<> &b, llvm::Value *rows,
                          llvm::Value *cols);
/// Strides of an operand with dims `a` broadcast (numpy, trailing dims
/// aligned) to `out`: 0 along broadcast dims. Internal error if it does not
/// fit (shape inference checked it).
std::vector<llvm::Value *> broadcastStrides(KernelEmitter &k,
                                            const std::vector<int64_t> &a,
                                            const std::vector<int64_t> &out);
/// Whether `n` is a Const with one value (inlined into kernels).
bool isScalarConst(const Node &n);
/// Whether node `id` (an elementwise op) reads each operand either whole, at
/// the node's shape, or as one value: then emitBroadcastLoop runs one flat
/// loop, split between threads in ranges (else a loop nest, split along
/// its outermost dimension).
bool isFlatElementwise(const Graph &g, NodeId id);
/// Whether every element of operand `i` is at index 0 (a scalar or an
/// inlined constant).
bool isSingle(KernelEmitter &k, size_t i);
/// out[idx] = compute(operand values), every operand broadcast to the
/// node's shape: one flat loop when each operand is full-size or single,
/// else a loop nest with per-operand strides.
void emitBroadcastLoop(
    KernelEmitter &k,
    const std::function<llvm::Value *(const std::vector<llvm::Value *> &)>
        &compute);
/// The 8 floats of a value from element `first` on, as <8 x float>.
using ChunkFn = std::function<llvm::Value *(llvm::Value *)>;
/// Stores the sum (or for `mean` the mean) of the `n` elements of a value at
/// index 0 of k's result: whole chunks of 8 (`chunk`) into eight double
/// lanes, the lanes added in order, then the tail (`one(i)`: element i), as
/// a sum over every element of a buffer sums it (the same bits).
void emitSumAll(KernelEmitter &k, bool mean, llvm::Value *n,
                const ChunkFn &chunk,
                const std::function<llvm::Value *(llvm::Value *)> &one);
/// The max m and s = sum exp(z - m) (summed in double, returned as float)
/// of row `row` (length c) of operand 0.
std::pair<llvm::Value *, llvm::Value *>
rowMaxAndSum(KernelEmitter &k, llvm::Value *row, llvm::Value *c);
/// The class id in float `v` as an i64, and an i1 saying whether it is in
/// [0, classes) (out-of-range ids never index memory).
std::pair<llvm::Value *, llvm::Value *>
classIndex(KernelEmitter &k, llvm::Value *v, llvm::Value *classes);

/// The module for `entries`: one kernel per non-leaf node (or per kernel
/// group, see EmitModule.cpp), one entry point per entry. Verified: a broken function is an InternalError naming it.
std::unique_ptr<llvm::Module> emitModule(llvm::LLVMContext &ctx,
                                         const std::vector<CpuEntry> &entries,
                                         const CpuOptions &opts);

} // namespace nn::cpu

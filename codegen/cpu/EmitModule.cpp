//===- EmitModule.cpp - Graph to an LLVM module ---------------------------===//
///
/// \file
/// One kernel function per non-leaf node (named after its `.nn` binding and
/// op, ir/KernelNames.h), except kernel groups: a weight gradient with its
/// bias gradient, and the optimizer updates (the Update family), each one
/// function called at its last node's place where the memory plan allows
/// it. The entry point that calls them is EmitEntry.cpp's; the
/// KernelEmitter's helpers are in KernelEmitter.cpp.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/GemmTarget.h"
#include "codegen/cpu/ModuleEmitter.h"

#include "codegen/cpu/CpuSteps.h"
#include "ir/KernelNames.h"
#include "ir/Support.h"

#include "llvm/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdio>

namespace nn::cpu {

using namespace llvm;

namespace {

/// For the verifier test: an instruction whose operand is defined after it
/// (the verifier's "does not dominate all uses" error), in f's entry block.
void corrupt(Function *f) {
  LLVMContext &ctx = f->getContext();
  BasicBlock &entry = f->getEntryBlock();
  Instruction *first = &*entry.getFirstInsertionPt();
  auto *one = ConstantInt::get(Type::getInt64Ty(ctx), 1);
  auto *late =
      BinaryOperator::CreateAdd(f->getArg(f->arg_size() - 1), one, "late");
  auto *early = BinaryOperator::CreateAdd(late, one, "early");
  early->insertBefore(first);
  late->insertAfter(early);
}

} // namespace

bool isProduct(const Graph &g, NodeId id) {
  OpKind op = g[id].op;
  switch (family(op)) {
  case OpFamily::Linalg:
    return member<LinalgOp>(op) == LinalgOp::MatMul;
  case OpFamily::Dense:
    return member<DenseOp>(op) != DenseOp::DenseGradBias;
  case OpFamily::Leaf:
  case OpFamily::Elementwise:
  case OpFamily::Reduce:
  case OpFamily::Rows:
  case OpFamily::Random:
  case OpFamily::Spatial:
  case OpFamily::Loss:
  case OpFamily::LossGrad:
  case OpFamily::Update:
  case OpFamily::FusedElementwise:
    return false;
  }
  NN_UNREACHABLE("bad OpFamily");
}

/// Whether the kernel of a rows op splits its rows between threads.
static bool splitsByRows(RowsOp op) {
  switch (op) {
  case RowsOp::Normalize:
  case RowsOp::NormalizeGrad:
    return true;
  case RowsOp::Softmax:
  case RowsOp::OneHot:
    return false;
  }
  NN_UNREACHABLE("bad RowsOp");
}

bool splittable(const Graph &g, NodeId id) {
  OpFamily f = family(g[id].op);
  if (isProduct(g, id) || f == OpFamily::Update || f == OpFamily::Spatial)
    return true;
  // Elementwise loops (flat, or nests split along their outermost
  // dimension), and layer_norm's rows (split by rows), unless too small
  // ever to be worth a split.
  bool bigEnough = g[id].type.hasBatch() || g[id].type.numel() >= 8192;
  if (f == OpFamily::Rows)
    return splitsByRows(member<RowsOp>(g[id].op)) && bigEnough;
  if (g[id].op == OpKind::Reshape) // a flat copy
    return bigEnough;
  return (f == OpFamily::FusedElementwise || f == OpFamily::Elementwise) &&
         (isFlatElementwise(g, id) || !g[id].type.dims.empty()) && bigEnough;
}

// Operand 0's last dimension unless a dense-layer op reads it otherwise.
int64_t productDepth(const Graph &g, NodeId id) {
  const Node &n = g[id];
  const std::vector<int64_t> &a = g[n.inputs[0]].type.dims;
  if (family(n.op) != OpFamily::Dense)
    return a.back();
  switch (member<DenseOp>(n.op)) {
  case DenseOp::FusedMatMul:
    return n.transA ? a[0] : a.back();
  case DenseOp::DenseGradWeight:
    return a[0];
  case DenseOp::Dense:
  case DenseOp::DenseGradInput:
  case DenseOp::DenseGradBias:
    return a.back();
  }
  NN_UNREACHABLE("bad DenseOp");
}

llvm::Value *ModuleEmitter::constGlobal(const Graph &g, NodeId id) {
  std::vector<float> vals(g[id].values.begin(), g[id].values.end());
  Constant *init = ConstantDataArray::get(ctx, ArrayRef<float>(vals));
  auto *gv = new GlobalVariable(mod, init->getType(), /*isConstant=*/true,
                                GlobalValue::PrivateLinkage, init,
                                "const" + std::to_string(id));
  gv->setAlignment(Align(64));
  return gv;
}

Function *ModuleEmitter::emitKernel(const Graph &g, NodeId id) {
  const Node &n = g[id];
  bool split = splittable(g, id);
  std::vector<Type *> params(n.inputs.size() + 1, ptrTy);
  if (split)
    params.insert(params.end(), 2, Type::getInt64Ty(ctx));
  params.push_back(Type::getInt64Ty(ctx));
  auto *fty = FunctionType::get(Type::getVoidTy(ctx), params, false);
  Function *f = Function::Create(fty, GlobalValue::InternalLinkage,
                                 kernelName[static_cast<size_t>(id)], mod);
  if (split)
    f->addFnAttr(kSplitAttr);
  f->addFnAttr(Attribute::NoInline);
  f->addFnAttr(Attribute::NoUnwind);
  f->addFnAttr("nnc-node", (*nodeText)(id));
  if (n.loc.valid())
    f->addFnAttr("nnc-loc", n.loc.str());
  unsigned ptrs = static_cast<unsigned>(n.inputs.size()) + 1;
  for (unsigned a = 0; a < ptrs; ++a)
    f->addParamAttr(a, Attribute::NoAlias);
  f->getArg(0)->setName("out");
  for (unsigned a = 1; a < ptrs; ++a) {
    f->addParamAttr(a, Attribute::ReadOnly);
    f->getArg(a)->setName("in" + std::to_string(a - 1));
  }
  if (split) {
    f->getArg(ptrs)->setName("part");
    f->getArg(ptrs + 1)->setName("parts");
  }
  f->getArg(f->arg_size() - 1)->setName("batch");

  std::vector<Operand> ops;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const Node &in = g[n.inputs[i]];
    Operand o;
    o.node = &in;
    if (isScalarConst(in))
      o.constant = in.values[0];
    else
      o.ptr = f->getArg(static_cast<unsigned>(i + 1));
    ops.push_back(o);
  }
  KernelEmitter k(mod, f, g, id, std::move(ops));
  emitKernelBody(k);
  if (opts.corruptKernelForTest == id)
    corrupt(f);
  k.b.CreateRetVoid();
  verifyKernel(f, f->getName().str(), (*nodeText)(id));
  return f;
}

/// void k(ptr out0, ..., ptr in0, ..., i64 batch): the function of group
/// `grp`, named `name`, with its attributes and parameter names.
Function *ModuleEmitter::groupFunction(const Graph &g, const KernelGroup &grp,
                                       const std::string &name,
                                       size_t numOutside, bool split) {
  size_t outs = grp.nodes.size();
  std::vector<Type *> params(outs + numOutside, ptrTy);
  if (split)
    params.insert(params.end(), 2, Type::getInt64Ty(ctx));
  params.push_back(Type::getInt64Ty(ctx));
  auto *fty = FunctionType::get(Type::getVoidTy(ctx), params, false);
  Function *f =
      Function::Create(fty, GlobalValue::InternalLinkage, name, mod);
  if (split)
    f->addFnAttr(kSplitAttr);
  f->addFnAttr(Attribute::NoInline);
  f->addFnAttr(Attribute::NoUnwind);
  std::string nodes, locs;
  for (NodeId id : grp.nodes) {
    nodes += (nodes.empty() ? "" : "; ") + (*nodeText)(id);
    if (g[id].loc.valid() && locs.find(g[id].loc.str()) == std::string::npos)
      locs += (locs.empty() ? "" : "; ") + g[id].loc.str();
  }
  f->addFnAttr("nnc-node", nodes);
  if (!locs.empty())
    f->addFnAttr("nnc-loc", locs);
  return f;
}

/// The group kernel's parameters (`bufs`: its results, then its operands
/// from outside): noalias where a buffer overlaps no other, named.
void ModuleEmitter::nameGroupParams(const MemoryPlan &plan, Function *f,
                                    const std::vector<NodeId> &bufs,
                                    size_t outs, bool split) {
  for (unsigned a = 0; a < bufs.size(); ++a) {
    bool alone = true;
    for (NodeId other : bufs)
      alone = alone && !overlaps(plan, bufs[a], other);
    if (alone)
      f->addParamAttr(a, Attribute::NoAlias);
    if (a < outs) {
      f->getArg(a)->setName("out" + std::to_string(a));
    } else {
      f->addParamAttr(a, Attribute::ReadOnly);
      f->getArg(a)->setName("in" + std::to_string(a - outs));
    }
  }
  if (split) {
    f->getArg(static_cast<unsigned>(bufs.size()))->setName("part");
    f->getArg(static_cast<unsigned>(bufs.size()) + 1)->setName("parts");
  }
  f->getArg(f->arg_size() - 1)->setName("batch");
}

void ModuleEmitter::verifyKernel(Function *f, const std::string &name,
                                 const std::string &nodes) {
  std::string err;
  raw_string_ostream os(err);
  if (verifyFunction(*f, &os))
    NN_UNREACHABLE("cpu backend: the generated kernel " + name + " for '" +
                   nodes + "' fails LLVM's verifier: " + os.str());
}

namespace {

/// The operands from outside group `grp` (scalar constants inlined), in
/// first-use order.
std::vector<NodeId> outsideOperands(const Graph &g, const KernelGroup &grp) {
  std::vector<NodeId> outside;
  for (NodeId id : grp.nodes)
    for (NodeId in : g[id].inputs)
      if (std::find(grp.nodes.begin(), grp.nodes.end(), in) ==
              grp.nodes.end() &&
          !isScalarConst(g[in]) &&
          std::find(outside.begin(), outside.end(), in) == outside.end())
        outside.push_back(in);
  return outside;
}

/// The position of `id` in `v`, or v.size().
size_t indexIn(const std::vector<NodeId> &v, NodeId id) {
  return static_cast<size_t>(std::find(v.begin(), v.end(), id) - v.begin());
}

} // namespace

/// void k(ptr out0, ..., ptr in0, ..., i64 batch): one result per node of
/// the group, then its operands from outside the group (`outside`; scalar
/// constants inlined).
Function *ModuleEmitter::emitGroupKernel(const Graph &g,
                                         const MemoryPlan &plan,
                                         const KernelGroup &grp,
                                         const std::string &symbol,
                                         std::vector<NodeId> &outside) {
  outside = outsideOperands(g, grp);
  size_t outs = grp.nodes.size();
  // A product splits by columns. The updates' loops split by ranges only
  // where no result overlaps another buffer of the group, but in exactly
  // its slot: a task runs the next loop while another still reads the
  // previous loop's operands, and the plan may have placed a later result
  // over an earlier operand.
  bool split = grp.weight >= 0 ||
               (grp.reduce < 0 && disjointBuffers(g, plan, grp, true));
  std::string name = groupKernelName(grp, kernelName, symbol);
  Function *f = groupFunction(g, grp, name, outside.size(), split);
  std::vector<NodeId> bufs = grp.nodes;
  bufs.insert(bufs.end(), outside.begin(), outside.end());
  nameGroupParams(plan, f, bufs, outs, split);
  auto arg = [&](NodeId id) {
    return f->getArg(static_cast<unsigned>(indexIn(bufs, id)));
  };
  auto operands = [&](NodeId id) {
    std::vector<Operand> ops;
    for (NodeId in : g[id].inputs) {
      Operand o;
      o.node = &g[in];
      if (isScalarConst(g[in]))
        o.constant = g[in].values[0];
      else
        o.ptr = arg(in);
      ops.push_back(o);
    }
    return ops;
  };
  BasicBlock *at = BasicBlock::Create(ctx, "entry", f);
  if (grp.weight >= 0) {
    NodeId bias = grp.nodes[0] == grp.weight ? grp.nodes[1] : grp.nodes[0];
    KernelEmitter k(mod, f, g, grp.weight, operands(grp.weight),
                    arg(grp.weight), at);
    emitGradWithBias(k, arg(bias));
    at = k.b.GetInsertBlock();
  } else if (grp.reduce >= 0) {
    at = emitFoldedSum(mod, f, g, grp.nodes[0], grp.reduce, operands, arg, at);
  } else {
    at = emitUpdateGroup(
        mod, f, g, grp.nodes, operands, arg, at, [&](NodeId a, NodeId b) {
          if (!split || !opts.updateChains)
            return Overlap::Partial; // one loop per node
          return planOverlap(g, plan, grp, a, b);
        });
  }
  IRBuilder<>(at).CreateRetVoid();
  if (indexIn(grp.nodes, opts.corruptKernelForTest) < grp.nodes.size())
    corrupt(f);
  verifyKernel(f, name, f->getFnAttribute("nnc-node").getValueAsString().str());
  return f;
}

std::unique_ptr<Module> emitModule(LLVMContext &ctx,
                                   const std::vector<CpuEntry> &entries,
                                   const CpuOptions &opts) {
  NN_ASSERT(!entries.empty(), "no entry to compile");
  auto m = std::make_unique<Module>(entries[0].graph->name, ctx);
  setModuleGemmTarget(*m, gemmTargetFor(opts));
  ModuleEmitter me(ctx, *m, opts);
  for (const CpuEntry &e : entries) {
    me.emitEntry(e);
    emitStepsEntry(me, e); // K steps in one call (EmitEpoch.cpp)
  }
  if (opts.verbose && me.reusedKernels() > 0)
    std::fprintf(stderr, "nnc: cpu: %d kernels are copies of another, "
                 "compiled once\n", me.reusedKernels());
  std::string err;
  raw_string_ostream os(err);
  if (verifyModule(*m, &os))
    NN_UNREACHABLE("cpu backend: the generated module fails LLVM's "
                   "verifier: " + os.str());
  return m;
}

} // namespace nn::cpu

namespace nn {

std::string cpuKernelName(const Graph &g, NodeId id) {
  return kernelNames(g)[static_cast<size_t>(id)];
}

} // namespace nn

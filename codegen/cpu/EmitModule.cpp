//===- EmitModule.cpp - Graph to an LLVM module ---------------------------===//
///
/// \file
/// One kernel function per non-leaf node (named after its `.nn` line), except
/// kernel groups: a weight gradient with its bias gradient, and all SGD
/// updates, each one function called at its last node's place where the
/// memory plan allows it; and one entry point per graph that binds leaves and
/// arena buffers and calls the kernels in topological order, then copies
/// update values into their targets. The KernelEmitter's helpers are in
/// KernelEmitter.cpp.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Emit.h"
#include "codegen/cpu/KernelGroups.h"
#include "codegen/cpu/KernelReuse.h"

#include "ir/Printer.h"
#include "ir/Support.h"

#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace nn::cpu {

using namespace llvm;

/// `s` with every character outside [A-Za-z0-9_] replaced by '_'.
std::string identifier(const std::string &s) {
  std::string r;
  for (char c : s)
    r += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return r;
}

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

/// Whether node `id`'s kernel is a matrix product (EmitGemm.cpp).
bool isProduct(const Graph &g, NodeId id) {
  switch (g[id].op) {
  case OpKind::MatMul:
  case OpKind::Dense:
  case OpKind::FusedMatMul:
  case OpKind::DenseGradInput:
  case OpKind::DenseGradWeight:
    return true;
  case OpKind::Input:
  case OpKind::Label:
  case OpKind::Param:
  case OpKind::State:
  case OpKind::Const:
  case OpKind::Neg:
  case OpKind::Exp:
  case OpKind::Log:
  case OpKind::Sigmoid:
  case OpKind::Relu:
  case OpKind::Tanh:
  case OpKind::Step:
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Mul:
  case OpKind::Div:
  case OpKind::Transpose:
  case OpKind::Expand:
  case OpKind::Sum:
  case OpKind::Mean:
  case OpKind::Count:
  case OpKind::Softmax:
  case OpKind::OneHot:
  case OpKind::Bce:
  case OpKind::BceLogits:
  case OpKind::CrossEntropy:
  case OpKind::SoftmaxCrossEntropy:
  case OpKind::Mse:
  case OpKind::DenseGradBias:
  case OpKind::SoftmaxXentGrad:
  case OpKind::SigmoidBceGrad:
  case OpKind::SgdMomentum:
  case OpKind::Sgd:
  case OpKind::Elementwise:
    return false;
  }
  NN_UNREACHABLE("bad OpKind");
}

/// Whether node `id`'s kernel is split between threads (products by column
/// panels, loops by ranges): it then takes (..., i64 part, i64 parts,
/// i64 batch) and is called through nnc_parallel_for.
bool splittable(const Graph &g, NodeId id) {
  OpKind op = g[id].op;
  if (isProduct(g, id) || op == OpKind::Sgd || op == OpKind::SgdMomentum)
    return true;
  // Elementwise loops (flat, or nests split along their outermost
  // dimension), unless too small ever to be worth a split.
  return (op == OpKind::Elementwise || hasTrait(op, kElementwise)) &&
         (isFlatElementwise(g, id) || !g[id].type.dims.empty()) &&
         (g[id].type.hasBatch() || g[id].type.numel() >= 8192);
}

/// The depth (summed dimension) of node `id`'s product, kBatch possible.
int64_t productDepth(const Graph &g, NodeId id) {
  const Node &n = g[id];
  const std::vector<int64_t> &a = g[n.inputs[0]].type.dims;
  switch (n.op) {
  case OpKind::FusedMatMul:
    return n.transA ? a[0] : a.back();
  case OpKind::DenseGradInput:
    return a.back();
  case OpKind::DenseGradWeight:
    return a[0];
  case OpKind::Input:
  case OpKind::Label:
  case OpKind::Param:
  case OpKind::State:
  case OpKind::Const:
  case OpKind::Neg:
  case OpKind::Exp:
  case OpKind::Log:
  case OpKind::Sigmoid:
  case OpKind::Relu:
  case OpKind::Tanh:
  case OpKind::Step:
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Mul:
  case OpKind::Div:
  case OpKind::MatMul:
  case OpKind::Transpose:
  case OpKind::Expand:
  case OpKind::Sum:
  case OpKind::Mean:
  case OpKind::Count:
  case OpKind::Softmax:
  case OpKind::OneHot:
  case OpKind::Bce:
  case OpKind::BceLogits:
  case OpKind::CrossEntropy:
  case OpKind::SoftmaxCrossEntropy:
  case OpKind::Mse:
  case OpKind::Dense:
  case OpKind::DenseGradBias:
  case OpKind::SoftmaxXentGrad:
  case OpKind::SigmoidBceGrad:
  case OpKind::SgdMomentum:
  case OpKind::Sgd:
  case OpKind::Elementwise:
    return a.back();
  }
  NN_UNREACHABLE("bad OpKind");
}

/// The most kernel calls one function of a step makes (see emitEntry).
constexpr int64_t kCallsPerPart = 128;

class ModuleEmitter {
public:
  ModuleEmitter(LLVMContext &ctx, Module &m, const CpuOptions &opts)
      : ctx(ctx), mod(m), opts(opts), ptrTy(PointerType::get(ctx, 0)) {}

  void emitEntry(const CpuEntry &e);
  /// Kernels that were copies of an earlier one (KernelReuse).
  int reusedKernels() const { return reuse.reused(); }

private:
  /// `k`, or the identical kernel emitted before it (not with --profile,
  /// whose tick names must name each node's own kernel).
  Function *shared(Function *k) { return opts.profile ? k : reuse.reuse(k); }

  Function *emitKernel(const Graph &g, NodeId id);
  Function *emitGroupKernel(const Graph &g, const MemoryPlan &plan,
                            const KernelGroup &grp, const std::string &symbol,
                            std::vector<NodeId> &outside);
  llvm::Value *constGlobal(const Graph &g, NodeId id);
  /// Calls kernel `k` with `args` (its parameters but part and parts):
  /// directly, or, for a split kernel, through nnc_parallel_for_ptr with a
  /// task that unpacks `args` (maxParts column panels of 16 for a product
  /// of `work` multiply-adds).
  void callKernel(IRBuilder<> &b, Function *k,
                  const std::vector<llvm::Value *> &args,
                  llvm::Value *maxParts, llvm::Value *work);
  Function *taskOf(Function *k);
  GlobalVariable *parallelFor();

  LLVMContext &ctx;
  Module &mod;
  const CpuOptions &opts;
  PointerType *ptrTy;
  KernelReuse reuse;
  /// The entry's graph's nodes as text, without locations (set by emitEntry
  /// for its kernels).
  const NodePrinter *nodeText = nullptr;
};

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
                                 cpuKernelName(g, id), mod);
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
  std::string err;
  raw_string_ostream os(err);
  if (verifyFunction(*f, &os))
    NN_UNREACHABLE("cpu backend: the generated kernel " + f->getName().str() +
                   " for '" + (*nodeText)(id) +
                   "' fails LLVM's verifier: " + os.str());
  return f;
}

/// void k(ptr out0, ..., ptr in0, ..., i64 batch): one result per node of
/// the group, then its operands from outside the group (`outside`; scalar
/// constants inlined).
Function *ModuleEmitter::emitGroupKernel(const Graph &g,
                                         const MemoryPlan &plan,
                                         const KernelGroup &grp,
                                         const std::string &symbol,
                                         std::vector<NodeId> &outside) {
  outside.clear();
  auto member = [&](NodeId id) {
    return std::find(grp.nodes.begin(), grp.nodes.end(), id) -
           grp.nodes.begin();
  };
  auto isMember = [&](NodeId id) {
    return static_cast<size_t>(member(id)) < grp.nodes.size();
  };
  for (NodeId id : grp.nodes)
    for (NodeId in : g[id].inputs)
      if (!isMember(in) && !isScalarConst(g[in]) &&
          std::find(outside.begin(), outside.end(), in) == outside.end())
        outside.push_back(in);
  size_t outs = grp.nodes.size();
  // A product splits by columns. The updates' loops split by ranges only
  // where no result overlaps another buffer of the group, but in exactly
  // its slot: a task runs the next loop while another still reads the
  // previous loop's operands, and the plan may have placed a later result
  // over an earlier operand.
  bool split = grp.weight >= 0 || disjointBuffers(g, plan, grp, true);
  std::vector<Type *> params(outs + outside.size(), ptrTy);
  if (split)
    params.insert(params.end(), 2, Type::getInt64Ty(ctx));
  params.push_back(Type::getInt64Ty(ctx));
  auto *fty = FunctionType::get(Type::getVoidTy(ctx), params, false);
  std::string name = grp.weight >= 0
                         ? cpuKernelName(g, grp.weight) + "_with_bias"
                         : symbol + "_optimizer" +
                               (grp.index ? "_" + std::to_string(grp.index + 1)
                                          : "");
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
  std::vector<NodeId> bufs = grp.nodes;
  bufs.insert(bufs.end(), outside.begin(), outside.end());
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

  auto operands = [&](NodeId id) {
    std::vector<Operand> ops;
    for (NodeId in : g[id].inputs) {
      Operand o;
      o.node = &g[in];
      if (isScalarConst(g[in]))
        o.constant = g[in].values[0];
      else if (isMember(in))
        o.ptr = f->getArg(static_cast<unsigned>(member(in)));
      else
        o.ptr = f->getArg(static_cast<unsigned>(
            outs + (std::find(outside.begin(), outside.end(), in) -
                    outside.begin())));
      ops.push_back(o);
    }
    return ops;
  };
  BasicBlock *at = BasicBlock::Create(ctx, "entry", f);
  if (grp.weight >= 0) {
    NodeId bias = grp.nodes[0] == grp.weight ? grp.nodes[1] : grp.nodes[0];
    KernelEmitter k(mod, f, g, grp.weight, operands(grp.weight),
                    f->getArg(static_cast<unsigned>(member(grp.weight))), at);
    emitGradWithBias(k, f->getArg(static_cast<unsigned>(member(bias))));
    at = k.b.GetInsertBlock();
  } else {
    for (NodeId id : grp.nodes) {
      KernelEmitter k(mod, f, g, id, operands(id),
                      f->getArg(static_cast<unsigned>(member(id))), at);
      emitKernelBody(k);
      at = k.b.GetInsertBlock();
    }
  }
  IRBuilder<>(at).CreateRetVoid();
  if (isMember(opts.corruptKernelForTest))
    corrupt(f);
  std::string err;
  raw_string_ostream os(err);
  if (verifyFunction(*f, &os))
    NN_UNREACHABLE("cpu backend: the generated kernel " + name + " for '" +
                   nodes + "' fails LLVM's verifier: " + os.str());
  return f;
}

GlobalVariable *ModuleEmitter::parallelFor() {
  if (GlobalVariable *gv = mod.getGlobalVariable(kParallelForSymbol))
    return gv;
  // void nnc_serial_for(task, ctx, maxParts, work) { task(ctx, 0, 1); }
  Type *i64 = Type::getInt64Ty(ctx);
  auto *taskTy = FunctionType::get(Type::getVoidTy(ctx), {ptrTy, i64, i64},
                                   false);
  auto *forTy = FunctionType::get(Type::getVoidTy(ctx),
                                  {ptrTy, ptrTy, i64, i64}, false);
  // Weak, not linkonce: always emitted, so that when the JIT compiles the
  // module in parts, the part holding it keeps it for the global's
  // initializer in another part.
  Function *serial = Function::Create(forTy, GlobalValue::WeakODRLinkage,
                                      "nnc_serial_for", mod);
  serial->setVisibility(GlobalValue::HiddenVisibility);
  serial->addFnAttr(Attribute::NoUnwind);
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", serial));
  b.CreateCall(taskTy, serial->getArg(0),
               {serial->getArg(1), b.getInt64(0), b.getInt64(1)});
  b.CreateRetVoid();
  // Weak: modules linked into one program share it; the JIT sets it to the
  // thread pool's nnc_parallel_for.
  return new GlobalVariable(mod, ptrTy, /*isConstant=*/false,
                            GlobalValue::WeakAnyLinkage, serial,
                            kParallelForSymbol);
}

/// The parameters of split kernel `k` but part and parts, as a struct.
static StructType *argsType(Function *k) {
  std::vector<Type *> fields;
  for (unsigned i = 0; i + 3 < k->arg_size(); ++i)
    fields.push_back(k->getArg(i)->getType());
  fields.push_back(k->getArg(k->arg_size() - 1)->getType());
  return StructType::get(k->getContext(), fields);
}

Function *ModuleEmitter::taskOf(Function *k) {
  std::string name = "task_" + k->getName().str();
  if (Function *t = mod.getFunction(name))
    return t;
  Type *i64 = Type::getInt64Ty(ctx);
  auto *fty = FunctionType::get(Type::getVoidTy(ctx), {ptrTy, i64, i64},
                                false);
  Function *t = Function::Create(fty, GlobalValue::InternalLinkage, name, mod);
  t->addFnAttr(Attribute::NoUnwind);
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", t));
  StructType *st = argsType(k);
  unsigned fields = st->getNumElements();
  std::vector<llvm::Value *> args;
  for (unsigned i = 0; i < fields; ++i)
    args.push_back(b.CreateLoad(st->getElementType(i),
                                b.CreateStructGEP(st, t->getArg(0), i)));
  args.insert(args.end() - 1, {t->getArg(1), t->getArg(2)});
  b.CreateCall(k, args);
  b.CreateRetVoid();
  return t;
}

void ModuleEmitter::callKernel(IRBuilder<> &b, Function *k,
                               const std::vector<llvm::Value *> &args,
                               llvm::Value *maxParts, llvm::Value *work) {
  if (!k->hasFnAttribute(kSplitAttr)) {
    b.CreateCall(k, args);
    return;
  }
  StructType *st = argsType(k);
  Function *caller = b.GetInsertBlock()->getParent();
  IRBuilder<> entry(&caller->getEntryBlock(),
                    caller->getEntryBlock().begin());
  llvm::Value *slot = entry.CreateAlloca(st, nullptr, "args");
  for (unsigned i = 0; i < args.size(); ++i)
    b.CreateStore(args[i], b.CreateStructGEP(st, slot, i));
  Type *i64 = Type::getInt64Ty(ctx);
  auto *forTy = FunctionType::get(Type::getVoidTy(ctx),
                                  {ptrTy, ptrTy, i64, i64}, false);
  llvm::Value *fn = b.CreateLoad(ptrTy, parallelFor(), "parallel_for");
  b.CreateCall(forTy, fn, {taskOf(k), slot, maxParts, work});
}

void ModuleEmitter::emitEntry(const CpuEntry &e) {
  const Graph &g = *e.graph;
  const MemoryPlan &plan = *e.plan;
  NN_ASSERT(static_cast<NodeId>(plan.offset.size()) == g.size(),
            "memory plan does not match the graph");
  Type *i64 = Type::getInt64Ty(ctx);
  auto *fty = FunctionType::get(Type::getVoidTy(ctx), {ptrTy, ptrTy, i64},
                                false);
  Function *f = Function::Create(fty, GlobalValue::ExternalLinkage, e.symbol,
                                 mod);
  f->addFnAttr(Attribute::NoUnwind);
  f->addFnAttr("nnc-graph", g.name);
  NodePrinter printer(g, PrintOptions{false});
  nodeText = &printer;
  llvm::Value *leaves = f->getArg(0), *arena = f->getArg(1),
              *batch = f->getArg(2);
  leaves->setName("leaves");
  arena->setName("arena");
  batch->setName("batch");
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", f));

  // A product's column panels (of 16) and multiply-adds, for the pool.
  auto splitOf = [&](NodeId id) -> std::pair<llvm::Value *, llvm::Value *> {
    if (!splittable(g, id))
      return {nullptr, nullptr};
    auto dimOf = [&](int64_t d) -> llvm::Value * {
      return d == kBatch ? batch : b.getInt64(static_cast<uint64_t>(d));
    };
    const std::vector<int64_t> &dims = g[id].type.dims;
    llvm::Value *numel = b.getInt64(1);
    for (int64_t d : dims)
      numel = b.CreateMul(numel, dimOf(d));
    if (!isProduct(g, id)) // a flat loop: ranges of at least 4096 elements
      return {b.CreateAdd(b.CreateUDiv(numel, b.getInt64(4096)),
                          b.getInt64(1)),
              numel};
    llvm::Value *cols = dims.empty() ? b.getInt64(1) : dimOf(dims.back());
    llvm::Value *work = b.CreateMul(dimOf(productDepth(g, id)), numel);
    return {b.CreateUDiv(b.CreateAdd(cols, b.getInt64(15)), b.getInt64(16)),
            work};
  };
  // The optimizer group: every update's elements.
  auto splitOfUpdates = [&](const KernelGroup &grp) {
    int64_t n = 0;
    for (NodeId id : grp.nodes)
      n += g[id].type.numel();
    return std::pair<llvm::Value *, llvm::Value *>{b.getInt64(n / 4096 + 1),
                                                   b.getInt64(n)};
  };
  std::vector<KernelGroup> groups = findGroups(g, plan);
  std::vector<int> groupOf = groupIndex(g, groups);
  // --profile: ticks[0] before the first call, ticks[c + 1] after call c.
  GlobalVariable *ticks = nullptr;
  std::string names;
  int64_t calls = 0;
  if (opts.profile) {
    auto *ty = ArrayType::get(i64, static_cast<uint64_t>(g.size()) + 1);
    ticks = new GlobalVariable(mod, ty, false, GlobalValue::ExternalLinkage,
                               ConstantAggregateZero::get(ty),
                               e.symbol + "_profile_ticks");
    b.CreateStore(b.CreateIntrinsic(Intrinsic::readcyclecounter, {}, {}),
                  b.CreateConstInBoundsGEP2_64(ty, ticks, 0, 0));
  }
  auto tick = [&](Function *k) {
    if (!ticks)
      return;
    names += k->getName().str() + "\n";
    ++calls;
    b.CreateStore(
        b.CreateIntrinsic(Intrinsic::readcyclecounter, {}, {}),
        b.CreateConstInBoundsGEP2_64(ticks->getValueType(), ticks, 0,
                                     static_cast<uint64_t>(calls)));
  };
  // A step of more than kCallsPerPart kernel calls is cut into parts, each
  // a function of the entry's arguments that the entry calls in order: one
  // function of thousands of calls (a 200-layer stack) made LLVM's register
  // allocator and schedulers superlinear in the model's depth. A part
  // derives the pointers it uses from the arguments itself, so no value
  // lives across parts; a short step stays one function.
  int64_t kernelCalls = 0;
  for (NodeId id = 0; id < g.size(); ++id)
    if (!hasTrait(g[id].op, kLeaf) &&
        (groupOf[id] < 0 ||
         id == groups[static_cast<size_t>(groupOf[id])].nodes.back()))
      ++kernelCalls;
  const bool parted = kernelCalls > kCallsPerPart;
  IRBuilder<> top(b.GetInsertBlock()); // the entry's own body when parted
  int part = 0;
  int64_t callsInPart = 0;
  auto startPart = [&] {
    if (part > 0)
      b.CreateRetVoid();
    Function *p = Function::Create(fty, GlobalValue::InternalLinkage,
                                   e.symbol + "_part" + std::to_string(part++),
                                   mod);
    p->addFnAttr(Attribute::NoInline);
    p->addFnAttr(Attribute::NoUnwind);
    top.CreateCall(p, {f->getArg(0), f->getArg(1), f->getArg(2)});
    leaves = p->getArg(0);
    arena = p->getArg(1);
    batch = p->getArg(2);
    b.SetInsertPoint(BasicBlock::Create(ctx, "entry", p));
    callsInPart = 0;
  };
  if (parted)
    startPart();

  // Node pointers: constants once; leaves and arena slots in the part that
  // uses them (all of them up front in an unparted step).
  std::vector<llvm::Value *> ptr(g.nodes.size(), nullptr);
  std::vector<int> ptrPart(g.nodes.size(), -1); // part of ptr[id]; -2: any
  std::vector<int> leafIndexOf(g.nodes.size(), -1);
  auto at = [&](NodeId id) -> llvm::Value * {
    if (ptrPart[id] == -2 || ptrPart[id] == part)
      return ptr[id];
    if (leafIndexOf[id] >= 0)
      ptr[id] = b.CreateLoad(
          ptrTy, b.CreateConstInBoundsGEP1_64(ptrTy, leaves, leafIndexOf[id]),
          g[id].name);
    else
      ptr[id] = b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), arena,
                                             plan.offset[id]);
    ptrPart[id] = part;
    return ptr[id];
  };
  int leafIndex = 0;
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    if (n.op == OpKind::Const) {
      ptr[id] = isScalarConst(n) ? ConstantPointerNull::get(ptrTy)
                                 : constGlobal(g, id);
      ptrPart[id] = -2;
      continue;
    }
    if (hasTrait(n.op, kLeaf)) { // Input, Label, Param, State
      leafIndexOf[id] = leafIndex++;
      if (!parted)
        at(id);
      continue;
    }
    NN_ASSERT(plan.offset[id] >= 0, "node %" + std::to_string(id) +
                                        " has no buffer in the memory plan");
    bool callsHere =
        groupOf[id] < 0 ||
        id == groups[static_cast<size_t>(groupOf[id])].nodes.back();
    if (parted && callsHere && callsInPart++ == kCallsPerPart) {
      startPart();
      ++callsInPart;
    }
    at(id);
    if (int gi = groupOf[id]; gi >= 0) {
      const KernelGroup &grp = groups[static_cast<size_t>(gi)];
      if (id != grp.nodes.back())
        continue; // called with the group's last node
      std::vector<NodeId> outside;
      Function *k = shared(emitGroupKernel(g, plan, grp, e.symbol, outside));
      std::vector<llvm::Value *> args;
      for (NodeId m : grp.nodes)
        args.push_back(at(m));
      for (NodeId in : outside)
        args.push_back(at(in));
      args.push_back(batch);
      auto [maxParts, work] =
          grp.weight >= 0 ? splitOf(grp.weight) : splitOfUpdates(grp);
      callKernel(b, k, args, maxParts, work);
      tick(k);
      continue;
    }
    Function *k = shared(emitKernel(g, id));
    std::vector<llvm::Value *> args{at(id)};
    for (NodeId in : n.inputs)
      args.push_back(at(in));
    args.push_back(batch);
    auto [maxParts, work] = splitOf(id);
    callKernel(b, k, args, maxParts, work);
    tick(k);
  }
  if (ticks) {
    Constant *text = ConstantDataArray::getString(ctx, names);
    new GlobalVariable(mod, text->getType(), true,
                       GlobalValue::ExternalLinkage, text,
                       e.symbol + "_profile_names");
  }

  // Updates: every value is computed (and live) by now; copy into targets
  // (each counted as a call: hundreds of small copies in one block made the
  // schedulers superlinear too).
  for (const Update &u : g.updates) {
    if (parted && callsInPart++ == kCallsPerPart) {
      startPart();
      ++callsInPart;
    }
    const Node &value = g[u.value];
    const TensorType &t = g[u.target].type;
    int64_t fixed = t.numelPerSample();
    llvm::Value *count = b.getInt64(static_cast<uint64_t>(fixed));
    if (t.hasBatch())
      count = b.CreateMul(count, batch);
    if (isScalarConst(value)) {
      // A constant update (rare): fill element by element.
      NN_ASSERT(!t.hasBatch(), "update of a batched leaf");
      for (int64_t i = 0; i < fixed; ++i)
        b.CreateStore(ConstantFP::get(b.getFloatTy(), value.values[0]),
                      b.CreateConstInBoundsGEP1_64(b.getFloatTy(),
                                                   at(u.target), i));
      continue;
    }
    b.CreateMemCpy(at(u.target), MaybeAlign(4), at(u.value), MaybeAlign(4),
                   b.CreateMul(count, b.getInt64(4)));
  }
  b.CreateRetVoid();
  if (parted)
    top.CreateRetVoid();
  nodeText = nullptr;
  std::string err;
  raw_string_ostream os(err);
  if (verifyFunction(*f, &os))
    NN_UNREACHABLE("cpu backend: the generated entry point " + e.symbol +
                   " fails LLVM's verifier: " + os.str());
}

} // namespace

std::unique_ptr<Module> emitModule(LLVMContext &ctx,
                                   const std::vector<CpuEntry> &entries,
                                   const CpuOptions &opts) {
  NN_ASSERT(!entries.empty(), "no entry to compile");
  auto m = std::make_unique<Module>(entries[0].graph->name, ctx);
  ModuleEmitter me(ctx, *m, opts);
  for (const CpuEntry &e : entries)
    me.emitEntry(e);
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
  const Node &n = g[id];
  std::string name = "k" + std::to_string(id);
  if (n.loc.valid()) {
    std::string file = n.loc.file;
    size_t slash = file.find_last_of('/');
    if (slash != std::string::npos)
      file = file.substr(slash + 1);
    name += "_" + cpu::identifier(file) + "_" + std::to_string(n.loc.line);
  }
  return name + "_" + cpu::identifier(mnemonic(n.op));
}

} // namespace nn

//===- EmitEntry.cpp - The entry point of a compiled graph ----------------===//
///
/// \file
/// One entry point per graph, `void <symbol>(ptr leaves, ptr arena, i64
/// batch)`: it binds leaves and arena buffers, calls the kernels (one per
/// node, or per kernel group at the group's last node) in topological
/// order, split ones through the thread pool's nnc_parallel_for, then
/// copies update values into their targets. A step of more than
/// kCallsPerPart calls is cut into parts. With --profile it records a cycle
/// count after every call (<symbol>_profile_ticks, _profile_names).
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/ModuleEmitter.h"

#include "ir/KernelNames.h"
#include "ir/Support.h"

#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

namespace nn::cpu {

using namespace llvm;

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

StructType *argsType(Function *k) {
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

namespace {

/// Writes one entry point (ModuleEmitter::emitEntry); one object per entry.
class EntryEmitter {
public:
  EntryEmitter(ModuleEmitter &me, const CpuEntry &e);
  void emit();

private:
  using Split = std::pair<llvm::Value *, llvm::Value *>;
  /// `rows`: the product may split its rows too (not a grad-bias pair).
  Split splitOf(NodeId id, bool rows = true);
  Split splitOfUpdates(const KernelGroup &grp);
  void startProfile();
  void tick(Function *k);
  void finishProfile();
  int64_t kernelCalls() const;
  bool callsHere(NodeId id) const;
  void startPart();
  void countCall();
  llvm::Value *at(NodeId id);
  void bindLeaf(NodeId id);
  void callGroup(const KernelGroup &grp);
  void callNode(NodeId id);
  void issue(SplitCall c);
  void flush();
  void flushUnlessBeside(NodeId id);
  void copyUpdates();

  ModuleEmitter &me;
  const CpuEntry &e;
  const Graph &g;
  const MemoryPlan &plan;
  LLVMContext &ctx;
  PointerType *ptrTy;
  Type *i64;
  FunctionType *fty;
  Function *f;
  llvm::Value *leaves, *arena, *batch;
  IRBuilder<> b;
  std::vector<KernelGroup> groups;
  std::vector<int> groupOf;
  // --profile: ticks[0] before the first call, ticks[c + 1] after call c.
  GlobalVariable *ticks = nullptr;
  std::string names;
  int64_t calls = 0;
  // A step of more than kCallsPerPart kernel calls is cut into parts, each
  // a function of the entry's arguments that the entry calls in order: one
  // function of thousands of calls (a 200-layer stack) made LLVM's register
  // allocator and schedulers superlinear in the model's depth. A part
  // derives the pointers it uses from the arguments itself, so no value
  // lives across parts; a short step stays one function.
  bool parted = false;
  IRBuilder<> top; // the entry's own body when parted
  int part = 0;
  int64_t callsInPart = 0;
  // Node pointers: constants once; leaves and arena slots in the part that
  // uses them (all of them up front in an unparted step).
  std::vector<llvm::Value *> ptr;
  std::vector<int> ptrPart; // part of ptr[id]; -2: any
  std::vector<int> leafIndexOf;
  int leafIndex = 0;
  // A split call held back to run beside the next one (EmitSideBySide.cpp);
  // emitted before anything else (a call that depends on it, a new part,
  // the update copies). Not with --profile, whose ticks time each kernel.
  std::optional<SplitCall> pending;
};

EntryEmitter::EntryEmitter(ModuleEmitter &me, const CpuEntry &e)
    : me(me), e(e), g(*e.graph), plan(*e.plan), ctx(me.ctx),
      ptrTy(me.ptrTy), i64(Type::getInt64Ty(ctx)),
      fty(FunctionType::get(Type::getVoidTy(ctx), {ptrTy, ptrTy, i64},
                            false)),
      f(Function::Create(fty, GlobalValue::ExternalLinkage, e.symbol,
                         me.mod)),
      b(ctx), top(ctx), ptr(g.nodes.size(), nullptr),
      ptrPart(g.nodes.size(), -1), leafIndexOf(g.nodes.size(), -1) {
  f->addFnAttr(Attribute::NoUnwind);
  f->addFnAttr("nnc-graph", g.name);
  leaves = f->getArg(0);
  arena = f->getArg(1);
  batch = f->getArg(2);
  leaves->setName("leaves");
  arena->setName("arena");
  batch->setName("batch");
  b.SetInsertPoint(BasicBlock::Create(ctx, "entry", f));
}

/// A product's tasks (EmitGemm.cpp) and multiply-adds, for the pool.
EntryEmitter::Split EntryEmitter::splitOf(NodeId id, bool rows) {
  if (!splittable(g, id))
    return {nullptr, nullptr};
  if (family(g[id].op) == OpFamily::Spatial) {
    auto [maxParts, work] = spatialSplit(b, g, id, batch);
    return {maxParts, work};
  }
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
  return {gemmMaxParts(b, rows ? b.CreateUDiv(numel, cols) : b.getInt64(1),
                       cols),
          work};
}

/// The optimizer group: every update's elements (a folded gradient is
/// computed in its update's loop).
EntryEmitter::Split EntryEmitter::splitOfUpdates(const KernelGroup &grp) {
  int64_t n = 0;
  for (NodeId id : grp.nodes)
    if (family(g[id].op) == OpFamily::Update)
      n += g[id].type.numel();
  return {b.getInt64(n / 4096 + 1), b.getInt64(n)};
}

void EntryEmitter::startProfile() {
  auto *ty = ArrayType::get(i64, static_cast<uint64_t>(g.size()) + 1);
  ticks = new GlobalVariable(me.mod, ty, false, GlobalValue::ExternalLinkage,
                             ConstantAggregateZero::get(ty),
                             e.symbol + "_profile_ticks");
  b.CreateStore(b.CreateIntrinsic(Intrinsic::readcyclecounter, {}, {}),
                b.CreateConstInBoundsGEP2_64(ty, ticks, 0, 0));
}

void EntryEmitter::tick(Function *k) {
  if (!ticks)
    return;
  names += k->getName().str() + "\n";
  ++calls;
  b.CreateStore(b.CreateIntrinsic(Intrinsic::readcyclecounter, {}, {}),
                b.CreateConstInBoundsGEP2_64(ticks->getValueType(), ticks, 0,
                                             static_cast<uint64_t>(calls)));
}

void EntryEmitter::finishProfile() {
  Constant *text = ConstantDataArray::getString(ctx, names);
  new GlobalVariable(me.mod, text->getType(), true,
                     GlobalValue::ExternalLinkage, text,
                     e.symbol + "_profile_names");
}

/// Whether node `id` (not a leaf) calls a kernel at its place: alone, or
/// as its group's last node.
bool EntryEmitter::callsHere(NodeId id) const {
  return groupOf[id] < 0 ||
         id == groups[static_cast<size_t>(groupOf[id])].nodes.back();
}

int64_t EntryEmitter::kernelCalls() const {
  int64_t n = 0;
  for (NodeId id = 0; id < g.size(); ++id)
    if (!hasTrait(g[id].op, kLeaf) && callsHere(id))
      ++n;
  return n;
}

void EntryEmitter::startPart() {
  if (part > 0)
    b.CreateRetVoid();
  Function *p = Function::Create(fty, GlobalValue::InternalLinkage,
                                 e.symbol + "_part" + std::to_string(part++),
                                 me.mod);
  p->addFnAttr(Attribute::NoInline);
  p->addFnAttr(Attribute::NoUnwind);
  top.CreateCall(p, {f->getArg(0), f->getArg(1), f->getArg(2)});
  leaves = p->getArg(0);
  arena = p->getArg(1);
  batch = p->getArg(2);
  b.SetInsertPoint(BasicBlock::Create(ctx, "entry", p));
  callsInPart = 0;
}

/// Counts one call (or copy) in the current part; a full part starts the
/// next.
void EntryEmitter::countCall() {
  if (parted && callsInPart++ == kCallsPerPart) {
    flush();
    startPart();
    ++callsInPart;
  }
}

llvm::Value *EntryEmitter::at(NodeId id) {
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
}

/// A leaf: a constant's global (or null: inlined), or the next slot of the
/// leaves array.
void EntryEmitter::bindLeaf(NodeId id) {
  const Node &n = g[id];
  if (n.op == OpKind::Const) {
    ptr[id] = isScalarConst(n) ? ConstantPointerNull::get(ptrTy)
                               : me.constGlobal(g, id);
    ptrPart[id] = -2;
    return;
  }
  leafIndexOf[id] = leafIndex++; // Input, Label, Param, State
  if (!parted)
    at(id);
}

void EntryEmitter::callGroup(const KernelGroup &grp) {
  std::vector<NodeId> outside;
  Function *k =
      me.shared(me.emitGroupKernel(g, plan, grp, e.symbol, outside));
  std::vector<llvm::Value *> args;
  for (NodeId m : grp.nodes)
    args.push_back(at(m));
  for (NodeId in : outside) {
    llvm::Value *p = at(in);
    if (copiesScalar(g, grp, in)) { // its slot may be a result's
      IRBuilder<> e(&b.GetInsertBlock()->getParent()->getEntryBlock(),
                    b.GetInsertBlock()->getParent()->getEntryBlock().begin());
      llvm::Value *copy = e.CreateAlloca(b.getFloatTy());
      b.CreateStore(b.CreateLoad(b.getFloatTy(), p), copy);
      p = copy;
    }
    args.push_back(p);
  }
  args.push_back(batch);
  auto [maxParts, work] =
      grp.weight >= 0 ? splitOf(grp.weight, false) : splitOfUpdates(grp);
  issue(SplitCall{k, std::move(args), maxParts, work, {grp.nodes, outside}});
}

void EntryEmitter::callNode(NodeId id) {
  Function *k = me.shared(me.emitKernel(g, id));
  std::vector<llvm::Value *> args{at(id)};
  for (NodeId in : g[id].inputs)
    args.push_back(at(in));
  args.push_back(batch);
  auto [maxParts, work] = splitOf(id);
  issue(SplitCall{k, std::move(args), maxParts, work, {{id}, g[id].inputs}});
}

/// Calls `c`'s kernel: beside the pending split call when the two are
/// independent, else after it (a split call then waits for the next).
void EntryEmitter::issue(SplitCall c) {
  bool split =
      c.k->hasFnAttribute(kSplitAttr) && !ticks && me.opts.sideBySide;
  if (split && pending && sideBySide(plan, pending->buffers, c.buffers)) {
    me.callPair(b, *pending, c);
    pending.reset();
    return;
  }
  flush();
  if (split) {
    pending = std::move(c);
    return;
  }
  me.callKernel(b, c.k, c.args, c.maxParts, c.work);
  tick(c.k);
}

/// Emits the pending call before the call at node `id` binds its buffers,
/// unless that call may run beside it (then issue pairs them): a call that
/// is not paired comes out where it did before pairing.
void EntryEmitter::flushUnlessBeside(NodeId id) {
  if (!pending)
    return;
  CallFootprint next;
  bool split = splittable(g, id);
  if (int gi = groupOf[id]; gi >= 0) {
    const KernelGroup &grp = groups[static_cast<size_t>(gi)];
    split = true;
    next.writes = grp.nodes;
    for (NodeId m : grp.nodes)
      next.reads.insert(next.reads.end(), g[m].inputs.begin(),
                        g[m].inputs.end());
  } else {
    next.writes = {id};
    next.reads = g[id].inputs;
  }
  if (!split || !sideBySide(plan, pending->buffers, next))
    flush();
}

void EntryEmitter::flush() {
  if (!pending)
    return;
  me.callKernel(b, pending->k, pending->args, pending->maxParts,
                pending->work);
  tick(pending->k);
  pending.reset();
}

/// Updates: every value is computed (and live) by now; copy into targets
/// (each counted as a call: hundreds of small copies in one block made the
/// schedulers superlinear too).
void EntryEmitter::copyUpdates() {
  for (const Update &u : g.updates) {
    countCall();
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
}

void EntryEmitter::emit() {
  groups = findGroups(g, plan);
  groupOf = groupIndex(g, groups);
  if (me.opts.profile)
    startProfile();
  parted = kernelCalls() > kCallsPerPart;
  top.SetInsertPoint(b.GetInsertBlock());
  if (parted)
    startPart();
  for (NodeId id = 0; id < g.size(); ++id) {
    if (hasTrait(g[id].op, kLeaf)) {
      bindLeaf(id);
      continue;
    }
    NN_ASSERT(plan.offset[id] >= 0, "node %" + std::to_string(id) +
                                        " has no buffer in the memory plan");
    if (callsHere(id)) {
      flushUnlessBeside(id);
      countCall();
    }
    at(id);
    if (int gi = groupOf[id]; gi >= 0) {
      const KernelGroup &grp = groups[static_cast<size_t>(gi)];
      if (id == grp.nodes.back()) // else called with the group's last node
        callGroup(grp);
      continue;
    }
    callNode(id);
  }
  flush();
  if (ticks)
    finishProfile();
  copyUpdates();
  b.CreateRetVoid();
  if (parted)
    top.CreateRetVoid();
  std::string err;
  raw_string_ostream os(err);
  if (verifyFunction(*f, &os))
    NN_UNREACHABLE("cpu backend: the generated entry point " + e.symbol +
                   " fails LLVM's verifier: " + os.str());
}

} // namespace

void ModuleEmitter::emitEntry(const CpuEntry &e) {
  NN_ASSERT(static_cast<NodeId>(e.plan->offset.size()) == e.graph->size(),
            "memory plan does not match the graph");
  NodePrinter printer(*e.graph, PrintOptions{false});
  nodeText = &printer;
  kernelName = kernelNames(*e.graph);
  EntryEmitter(*this, e).emit();
  nodeText = nullptr;
}

} // namespace nn::cpu

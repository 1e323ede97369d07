//===- EmitModule.cpp - Graph to an LLVM module ---------------------------===//
///
/// \file
/// One kernel function per non-leaf node (named after its `.nn` line), and
/// one entry point per graph that binds leaves and arena buffers and calls the
/// kernels in topological order, then copies update values into their
/// targets. Also the KernelEmitter helpers the kernels are written with.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Emit.h"

#include "ir/Printer.h"
#include "ir/Support.h"

#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <cctype>

namespace nn::cpu {

using namespace llvm;

KernelEmitter::KernelEmitter(Module &m, Function *f, const Graph &g, NodeId id,
                             std::vector<Operand> operands)
    : b(BasicBlock::Create(m.getContext(), "entry", f)), g(g), node(g[id]),
      in(std::move(operands)), mod(m), fn(f) {
  out = f->getArg(0);
  batch = f->getArg(f->arg_size() - 1);
}

llvm::Value *KernelEmitter::f32(double v) {
  return ConstantFP::get(b.getFloatTy(), v);
}

llvm::Value *KernelEmitter::dim(int64_t d) {
  return d == kBatch ? batch : i64(d);
}

llvm::Value *KernelEmitter::product(const std::vector<int64_t> &dims,
                                    size_t from, size_t to) {
  int64_t fixed = 1;
  int batches = 0;
  for (size_t i = from; i < to; ++i) {
    if (dims[i] == kBatch)
      ++batches;
    else
      fixed *= dims[i];
  }
  llvm::Value *v = batches > 0 && fixed == 1 ? batch : i64(fixed);
  for (int i = fixed == 1 ? 1 : 0; i < batches; ++i)
    v = b.CreateMul(v, batch, "", /*HasNUW=*/true, /*HasNSW=*/true);
  return v;
}

void KernelEmitter::loop(llvm::Value *n, const char *name,
                         const std::function<void(llvm::Value *)> &body) {
  LLVMContext &ctx = b.getContext();
  BasicBlock *pre = b.GetInsertBlock();
  BasicBlock *header = BasicBlock::Create(ctx, Twine(name) + ".head", fn);
  BasicBlock *bodyBlock = BasicBlock::Create(ctx, Twine(name) + ".body", fn);
  BasicBlock *exit = BasicBlock::Create(ctx, Twine(name) + ".end", fn);
  b.CreateBr(header);
  b.SetInsertPoint(header);
  PHINode *i = b.CreatePHI(b.getInt64Ty(), 2, name);
  i->addIncoming(i64(0), pre);
  b.CreateCondBr(b.CreateICmpSLT(i, n), bodyBlock, exit);
  b.SetInsertPoint(bodyBlock);
  body(i);
  llvm::Value *next = b.CreateAdd(i, i64(1), Twine(name) + ".next",
                                  /*HasNUW=*/true, /*HasNSW=*/true);
  i->addIncoming(next, b.GetInsertBlock());
  b.CreateBr(header);
  b.SetInsertPoint(exit);
}

std::vector<llvm::Value *>
KernelEmitter::denseStrides(const std::vector<int64_t> &dims) {
  std::vector<llvm::Value *> s(dims.size());
  for (size_t d = 0; d < dims.size(); ++d)
    s[d] = product(dims, d + 1, dims.size());
  return s;
}

void KernelEmitter::stridedLoop(
    const std::vector<int64_t> &dims,
    const std::vector<std::vector<llvm::Value *>> &strides,
    const std::function<void(llvm::Value *, std::vector<llvm::Value *>)>
        &body) {
  static const char *names[] = {"i", "j", "k", "l", "m", "n", "o", "p"};
  std::function<void(size_t, llvm::Value *, std::vector<llvm::Value *>)> nest =
      [&](size_t d, llvm::Value *flat, std::vector<llvm::Value *> offs) {
        if (d == dims.size()) {
          body(flat, std::move(offs));
          return;
        }
        loop(dim(dims[d]), d < 8 ? names[d] : "q", [&](llvm::Value *i) {
          llvm::Value *f = b.CreateAdd(b.CreateMul(flat, dim(dims[d])), i);
          std::vector<llvm::Value *> o = offs;
          for (size_t k = 0; k < strides.size(); ++k)
            o[k] = b.CreateAdd(o[k], b.CreateMul(i, strides[k][d]));
          nest(d + 1, f, std::move(o));
        });
      };
  nest(0, i64(0), std::vector<llvm::Value *>(strides.size(), i64(0)));
}

llvm::Value *KernelEmitter::load(size_t i, llvm::Value *index) {
  const Operand &op = in[i];
  if (op.constant)
    return f32(*op.constant);
  llvm::Value *p = b.CreateInBoundsGEP(f32(), op.ptr, index);
  return b.CreateLoad(f32(), p);
}

void KernelEmitter::store(llvm::Value *index, llvm::Value *v) {
  storeTo(out, index, v);
}

void KernelEmitter::storeTo(llvm::Value *ptr, llvm::Value *index,
                            llvm::Value *v) {
  b.CreateStore(v, b.CreateInBoundsGEP(f32(), ptr, index));
}

llvm::Value *KernelEmitter::slot(Type *t, const char *name) {
  IRBuilder<> entry(&fn->getEntryBlock(), fn->getEntryBlock().begin());
  return entry.CreateAlloca(t, nullptr, name);
}

llvm::Value *KernelEmitter::accumulator(const char *name) {
  llvm::Value *a = slot(f64(), name);
  b.CreateStore(ConstantFP::get(f64(), 0.0), a);
  return a;
}

void KernelEmitter::accumulate(llvm::Value *acc, llvm::Value *v) {
  if (v->getType() != f64())
    v = b.CreateFPExt(v, f64());
  b.CreateStore(b.CreateFAdd(b.CreateLoad(f64(), acc), v), acc);
}

FunctionCallee KernelEmitter::libm(const char *name) {
  FunctionType *ty = FunctionType::get(f32(), {f32()}, false);
  FunctionCallee c = mod.getOrInsertFunction(name, ty);
  if (auto *f = dyn_cast<Function>(c.getCallee())) {
    f->setDoesNotThrow();
    f->setWillReturn();
    f->setDoesNotAccessMemory();
  }
  return c;
}

LlvmMath::Value LlvmMath::exp(Value a) {
  return k.b.CreateUnaryIntrinsic(Intrinsic::exp, a);
}

LlvmMath::Value LlvmMath::log(Value a) {
  return k.b.CreateUnaryIntrinsic(Intrinsic::log, a);
}

/// `s` with every character outside [A-Za-z0-9_] replaced by '_'.
std::string identifier(const std::string &s) {
  std::string r;
  for (char c : s)
    r += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return r;
}

namespace {

/// Whether node `id` is a Const with one value (inlined into kernels).
bool isScalarConst(const Node &n) {
  return n.op == OpKind::Const && n.values.size() == 1;
}

class ModuleEmitter {
public:
  ModuleEmitter(LLVMContext &ctx, Module &m, const CpuOptions &opts)
      : ctx(ctx), mod(m), opts(opts), ptrTy(PointerType::get(ctx, 0)) {}

  void emitEntry(const CpuEntry &e);

private:
  Function *emitKernel(const Graph &g, NodeId id);
  llvm::Value *constGlobal(const Graph &g, NodeId id);

  LLVMContext &ctx;
  Module &mod;
  const CpuOptions &opts;
  PointerType *ptrTy;
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
  std::vector<Type *> params(n.inputs.size() + 1, ptrTy);
  params.push_back(Type::getInt64Ty(ctx));
  auto *fty = FunctionType::get(Type::getVoidTy(ctx), params, false);
  Function *f = Function::Create(fty, GlobalValue::InternalLinkage,
                                 cpuKernelName(g, id), mod);
  f->addFnAttr(Attribute::NoInline);
  f->addFnAttr(Attribute::NoUnwind);
  PrintOptions po;
  po.locations = false;
  f->addFnAttr("nnc-node", printNode(g, id, po));
  if (n.loc.valid())
    f->addFnAttr("nnc-loc", n.loc.str());
  for (unsigned a = 0; a + 1 < f->arg_size(); ++a)
    f->addParamAttr(a, Attribute::NoAlias);
  f->getArg(0)->setName("out");
  for (unsigned a = 1; a + 1 < f->arg_size(); ++a) {
    f->addParamAttr(a, Attribute::ReadOnly);
    f->getArg(a)->setName("in" + std::to_string(a - 1));
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
  if (opts.corruptKernelForTest == id) {
    // An instruction whose operand is defined after it: the verifier's
    // "does not dominate all uses" error.
    BasicBlock &entry = f->getEntryBlock();
    Instruction *first = &*entry.getFirstInsertionPt();
    auto *late = BinaryOperator::CreateAdd(f->getArg(f->arg_size() - 1),
                                           k.i64(1), "late");
    auto *early = BinaryOperator::CreateAdd(late, k.i64(1), "early");
    early->insertBefore(first);
    late->insertAfter(early);
  }
  k.b.CreateRetVoid();
  std::string err;
  raw_string_ostream os(err);
  if (verifyFunction(*f, &os))
    NN_UNREACHABLE("cpu backend: the generated kernel " + f->getName().str() +
                   " for '" + printNode(g, id, po) +
                   "' fails LLVM's verifier: " + os.str());
  return f;
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
  llvm::Value *leaves = f->getArg(0), *arena = f->getArg(1),
              *batch = f->getArg(2);
  leaves->setName("leaves");
  arena->setName("arena");
  batch->setName("batch");
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", f));

  std::vector<llvm::Value *> ptr(g.nodes.size(), nullptr);
  int leafIndex = 0;
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    if (n.op == OpKind::Const) {
      ptr[id] = isScalarConst(n) ? ConstantPointerNull::get(ptrTy)
                                 : constGlobal(g, id);
      continue;
    }
    if (hasTrait(n.op, kLeaf)) { // Input, Label, Param, State
      llvm::Value *slot = b.CreateConstInBoundsGEP1_64(ptrTy, leaves,
                                                       leafIndex++);
      ptr[id] = b.CreateLoad(ptrTy, slot, n.name);
      continue;
    }
    NN_ASSERT(plan.offset[id] >= 0, "node %" + std::to_string(id) +
                                        " has no buffer in the memory plan");
    ptr[id] = b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), arena,
                                           plan.offset[id]);
    Function *k = emitKernel(g, id);
    std::vector<llvm::Value *> args{ptr[id]};
    for (NodeId in : n.inputs)
      args.push_back(ptr[in]);
    args.push_back(batch);
    b.CreateCall(k, args);
  }

  // Updates: every value is computed (and live) by now; copy into targets.
  for (const Update &u : g.updates) {
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
                                                   ptr[u.target], i));
      continue;
    }
    b.CreateMemCpy(ptr[u.target], MaybeAlign(4), ptr[u.value], MaybeAlign(4),
                   b.CreateMul(count, b.getInt64(4)));
  }
  b.CreateRetVoid();
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

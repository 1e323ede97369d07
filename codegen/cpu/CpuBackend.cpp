//===- CpuBackend.cpp - Optimize, generate code, JIT ----------------------===//
///
/// \file
/// The host TargetMachine (CPU name and features, e.g. AVX2 and FMA), LLVM's
/// new-pass-manager pipeline at -O<n>, object and assembly emission through
/// the legacy code generator, and ORC LLJIT loading of the object.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/CpuBackend.h"
#include "codegen/cpu/ThreadPool.h"
#include "codegen/cpu/Emit.h"

#include "ir/Support.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>

namespace nn {

using namespace llvm;

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void initLlvm() {
  static std::once_flag once;
  std::call_once(once, [] {
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
    InitializeNativeTargetAsmParser();
  });
}

std::string errorText(Error e) {
  std::string s;
  raw_string_ostream os(s);
  os << e;
  return os.str();
}

/// "+avx2,+fma,..." for this host.
std::string hostFeatures() {
  std::string r;
  for (const auto &f : sys::getHostCPUFeatures())
    r += (r.empty() ? "" : ",") + std::string(f.second ? "+" : "-") +
         f.first().str();
  return r;
}

CodeGenOptLevel codegenLevel(int opt) {
  switch (opt) {
  case 0:
    return CodeGenOptLevel::None;
  case 1:
    return CodeGenOptLevel::Less;
  case 3:
    return CodeGenOptLevel::Aggressive;
  }
  return CodeGenOptLevel::Default;
}

std::unique_ptr<TargetMachine> hostMachine(const CpuOptions &opts) {
  initLlvm();
  std::string triple = sys::getProcessTriple();
  std::string err;
  const Target *t = TargetRegistry::lookupTarget(triple, err);
  NN_ASSERT(t, "cpu backend: no LLVM target for " + triple + ": " + err);
  TargetOptions to;
  std::unique_ptr<TargetMachine> tm(t->createTargetMachine(
      triple, sys::getHostCPUName(), hostFeatures(), to, Reloc::PIC_,
      std::nullopt, codegenLevel(opts.optLevel)));
  NN_ASSERT(tm, "cpu backend: cannot create a target machine for " + triple);
  return tm;
}

/// Sets the module's triple and data layout for the host. The functions
/// carry no target-cpu/target-features attributes: the TargetMachine's
/// (host CPU name and features) apply, in the optimizer's cost model and in
/// code generation alike, and the IR text stays readable.
void setTarget(Module &m, TargetMachine &tm) {
  m.setTargetTriple(tm.getTargetTriple().str());
  m.setDataLayout(tm.createDataLayout());
}

void optimize(Module &m, TargetMachine &tm, int level) {
  if (level <= 0)
    return;
  LoopAnalysisManager lam;
  FunctionAnalysisManager fam;
  CGSCCAnalysisManager cgam;
  ModuleAnalysisManager mam;
  PassBuilder pb(&tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  OptimizationLevel ol = level == 1   ? OptimizationLevel::O1
                         : level == 3 ? OptimizationLevel::O3
                                      : OptimizationLevel::O2;
  ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(ol);
  mpm.run(m, mam);
}

std::string codegen(Module &m, TargetMachine &tm, CodeGenFileType kind) {
  SmallVector<char, 0> buf;
  raw_svector_ostream os(buf);
  legacy::PassManager pm;
  bool failed = tm.addPassesToEmitFile(pm, os, nullptr, kind);
  NN_ASSERT(!failed, "cpu backend: the target cannot emit this file type");
  pm.run(m);
  return std::string(buf.begin(), buf.end());
}

/// The module for `entries`, tagged for the host and optimized as asked.
std::unique_ptr<Module> buildModule(LLVMContext &ctx,
                                    const std::vector<CpuEntry> &entries,
                                    TargetMachine &tm, const CpuOptions &opts,
                                    bool optimized) {
  Clock::time_point t0 = Clock::now();
  std::unique_ptr<Module> m = cpu::emitModule(ctx, entries, opts);
  setTarget(*m, tm);
  double emitted = secondsSince(t0);
  if (optimized)
    optimize(*m, tm, opts.optLevel);
  if (opts.verbose)
    std::fprintf(stderr,
                 "nnc: cpu: emitted LLVM IR in %.3f s, optimized (O%d) in "
                 "%.3f s\n",
                 emitted, opts.optLevel, secondsSince(t0) - emitted);
  return m;
}

class JitProgram : public CpuProgram {
public:
  JitProgram(const Graph &g, const MemoryPlan &plan,
             std::unique_ptr<orc::LLJIT> jit)
      : jit(std::move(jit)) {
    leaves = cpuLeafOrder(g);
    memPlan = plan;
    symbol = cpuStepSymbol(g);
    main = lookup(symbol);
    NN_ASSERT(main, "cpu backend: the object has no entry point " + symbol);
    // Split kernels run on the thread pool.
    if (Expected<orc::ExecutorAddr> p = this->jit->lookup(kParallelForSymbol))
      *p->toPtr<ParallelForFn *>() = &nnc_parallel_for;
    else
      consumeError(p.takeError());
  }

  CpuEntryFn entry() const override { return main; }

  void *address(const std::string &name) const override {
    Expected<orc::ExecutorAddr> addr = jit->lookup(name);
    if (!addr) {
      consumeError(addr.takeError());
      return nullptr;
    }
    return addr->toPtr<void *>();
  }

  CpuEntryFn lookup(const std::string &name) const override {
    Expected<orc::ExecutorAddr> addr = jit->lookup(name);
    if (!addr) {
      consumeError(addr.takeError());
      return nullptr;
    }
    return addr->toPtr<CpuEntryFn>();
  }

private:
  std::unique_ptr<orc::LLJIT> jit;
  std::string symbol;
  CpuEntryFn main = nullptr;
};

} // namespace

std::vector<NodeId> cpuLeafOrder(const Graph &g) {
  std::vector<NodeId> r;
  for (NodeId id = 0; id < g.size(); ++id)
    if (hasTrait(g[id].op, kLeaf) && g[id].op != OpKind::Const)
      r.push_back(id);
  return r;
}

std::string cpuStepSymbol(const Graph &g) {
  std::string r;
  for (char c : g.name)
    r += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (r.empty() || std::isdigit(static_cast<unsigned char>(r[0])))
    r = "nn_" + r;
  return r + "_step";
}

std::string cpuTargetDescription(const CpuOptions &opts) {
  initLlvm();
  return std::string("llvm ") + LLVM_VERSION_STRING + "; " +
         sys::getProcessTriple() + "; " + sys::getHostCPUName().str() + "; " +
         hostFeatures() + "; O" + std::to_string(opts.optLevel) +
         (opts.profile ? "; profile" : "");
}

std::string compileCpuObject(const std::vector<CpuEntry> &entries,
                             const CpuOptions &opts) {
  std::unique_ptr<TargetMachine> tm = hostMachine(opts);
  LLVMContext ctx;
  std::unique_ptr<Module> m = buildModule(ctx, entries, *tm, opts, true);
  Clock::time_point t0 = Clock::now();
  std::string obj = codegen(*m, *tm, CodeGenFileType::ObjectFile);
  if (opts.verbose)
    std::fprintf(stderr, "nnc: cpu: generated %zu bytes of %s code in %.3f s\n",
                 obj.size(), tm->getTargetCPU().str().c_str(),
                 secondsSince(t0));
  return obj;
}

std::unique_ptr<CpuProgram> loadCpuObject(const Graph &g,
                                          const MemoryPlan &plan,
                                          const std::string &object) {
  initLlvm();
  Expected<std::unique_ptr<orc::LLJIT>> jit = orc::LLJITBuilder().create();
  if (!jit)
    NN_UNREACHABLE("cpu backend: cannot start the JIT: " +
                   errorText(jit.takeError()));
  std::unique_ptr<MemoryBuffer> buf = MemoryBuffer::getMemBufferCopy(
      object, cpuStepSymbol(g) + ".o");
  if (Error e = (*jit)->addObjectFile(std::move(buf)))
    NN_UNREACHABLE("cpu backend: cannot load the object into the JIT: " +
                   errorText(std::move(e)));
  return std::make_unique<JitProgram>(g, plan, std::move(*jit));
}

std::unique_ptr<CpuProgram> compileCpu(const Graph &g, const MemoryPlan &plan,
                                       const CpuOptions &opts) {
  Clock::time_point t0 = Clock::now();
  std::string obj =
      compileCpuObject({CpuEntry{&g, &plan, cpuStepSymbol(g)}}, opts);
  double compiled = secondsSince(t0);
  std::unique_ptr<CpuProgram> p = loadCpuObject(g, plan, obj);
  p->compileSeconds = compiled;
  p->loadSeconds = secondsSince(t0) - compiled;
  // Resolve the entry now, so that link errors show up here, not mid-run.
  NN_ASSERT(p->entry(), "cpu backend: no entry point");
  p->loadSeconds = secondsSince(t0) - compiled;
  if (opts.verbose)
    std::fprintf(stderr, "nnc: cpu: loaded into the JIT in %.3f s\n",
                 p->loadSeconds);
  return p;
}

std::string emitLlvmText(const Graph &g, const MemoryPlan &plan,
                         bool optimized, const CpuOptions &opts) {
  std::unique_ptr<TargetMachine> tm = hostMachine(opts);
  LLVMContext ctx;
  std::unique_ptr<Module> m = buildModule(
      ctx, {CpuEntry{&g, &plan, cpuStepSymbol(g)}}, *tm, opts, optimized);
  std::string s;
  raw_string_ostream os(s);
  m->print(os, nullptr);
  return os.str();
}

std::string emitAsmText(const Graph &g, const MemoryPlan &plan,
                        const CpuOptions &opts) {
  std::unique_ptr<TargetMachine> tm = hostMachine(opts);
  LLVMContext ctx;
  std::unique_ptr<Module> m = buildModule(
      ctx, {CpuEntry{&g, &plan, cpuStepSymbol(g)}}, *tm, opts, true);
  return codegen(*m, *tm, CodeGenFileType::AssemblyFile);
}

void emitObjectFile(const std::vector<CpuEntry> &entries,
                    const std::string &path, const CpuOptions &opts) {
  std::string obj = compileCpuObject(entries, opts);
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f)
      throw UserError(path + ": error: cannot write the object file");
    f.write(obj.data(), static_cast<std::streamsize>(obj.size()));
    if (!f)
      throw UserError(path + ": error: cannot write the object file");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw UserError(path + ": error: cannot write the object file");
  }
}

} // namespace nn

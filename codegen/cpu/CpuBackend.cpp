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
#include "codegen/cpu/Pipeline.h"

#include "ir/Diagnostics.h"
#include "ir/KernelNames.h"
#include "ir/Support.h"

#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Transforms/Utils/SplitModule.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <exception>
#include <mutex>
#include <thread>

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

bool isHostCpu(const std::string &cpu) { return cpu.empty() || cpu == "host"; }

/// The CPU name and feature string `opts` asks for: the host's, or a named
/// CPU whose features its name implies.
std::pair<std::string, std::string> cpuAndFeatures(const CpuOptions &opts) {
  if (isHostCpu(opts.cpu))
    return {sys::getHostCPUName().str(), hostFeatures()};
  return {opts.cpu, ""};
}

const Target &hostTarget() {
  initLlvm();
  std::string triple = sys::getProcessTriple();
  std::string err;
  const Target *t = TargetRegistry::lookupTarget(triple, err);
  NN_ASSERT(t, "cpu backend: no LLVM target for " + triple + ": " + err);
  return *t;
}

/// The TargetMachine for `opts.cpu` (the host's when empty).
std::unique_ptr<TargetMachine> targetMachine(const CpuOptions &opts) {
  const Target &t = hostTarget();
  std::string triple = sys::getProcessTriple();
  auto [cpu, features] = cpuAndFeatures(opts);
  TargetOptions to;
  std::unique_ptr<TargetMachine> tm(t.createTargetMachine(
      triple, cpu, features, to, Reloc::PIC_, std::nullopt,
      codegenLevel(opts.optLevel)));
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

void optimize(Module &m, TargetMachine &tm, const CpuOptions &opts) {
  cpu::optimizeModule(m, tm, opts.optLevel, opts.tieredPipeline);
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
    optimize(*m, tm, opts);
  if (opts.verbose && optimized)
    std::fprintf(stderr,
                 "nnc: cpu: emitted LLVM IR in %.3f s, optimized (O%d) in "
                 "%.3f s\n",
                 emitted, opts.optLevel, secondsSince(t0) - emitted);
  else if (opts.verbose)
    std::fprintf(stderr, "nnc: cpu: emitted LLVM IR in %.3f s\n", emitted);
  return m;
}

/// Several objects in one string: "NNCOBJS\n", u64 count, then each object
/// as u64 size and bytes (little-endian), for loadCpuObject.
constexpr char kBundleMagic[8] = {'N', 'N', 'C', 'O', 'B', 'J', 'S', '\n'};

std::string bundleObjects(const std::vector<std::string> &objects) {
  std::string out(kBundleMagic, sizeof kBundleMagic);
  auto putU64 = [&](uint64_t v) {
    for (int i = 0; i < 8; ++i)
      out += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  putU64(objects.size());
  for (const std::string &o : objects) {
    putU64(o.size());
    out += o;
  }
  return out;
}

/// The objects of `blob`: its parts when it is a bundle, else itself.
std::vector<std::string_view> unbundleObjects(std::string_view blob) {
  if (blob.substr(0, sizeof kBundleMagic) !=
      std::string_view(kBundleMagic, sizeof kBundleMagic))
    return {blob};
  size_t pos = sizeof kBundleMagic;
  auto getU64 = [&] {
    NN_ASSERT(pos + 8 <= blob.size(), "cpu backend: truncated object bundle");
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v |= static_cast<uint64_t>(static_cast<unsigned char>(blob[pos + i]))
           << (8 * i);
    pos += 8;
    return v;
  };
  uint64_t count = getU64();
  std::vector<std::string_view> parts;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t size = getU64();
    NN_ASSERT(size <= blob.size() - pos, "cpu backend: truncated object bundle");
    parts.push_back(blob.substr(pos, size));
    pos += size;
  }
  return parts;
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
  std::string r = cIdentifier(g.name);
  if (r.empty() || std::isdigit(static_cast<unsigned char>(r[0])))
    r = "nn_" + r;
  return r + "_step";
}

void checkCpuName(const std::string &cpu) {
  if (isHostCpu(cpu))
    return;
  std::unique_ptr<TargetMachine> tm = targetMachine(CpuOptions{});
  std::vector<std::string> names;
  for (const SubtargetSubTypeKV &kv :
       tm->getMCSubtargetInfo()->getAllProcessorDescriptions())
    names.push_back(kv.Key);
  if (std::find(names.begin(), names.end(), cpu) != names.end())
    return;
  std::string near = closestMatch(cpu, names);
  throw UserError("nnc: error: unknown cpu '" + cpu + "'" +
                  (near.empty() ? "" : "; did you mean '" + near + "'?") +
                  "\nnnc: note: give host (the default), or a name LLVM's x86 "
                  "target knows: x86-64-v2, x86-64-v3 (AVX2, FMA), x86-64-v4 "
                  "(AVX-512), skylake-avx512, znver3, znver4, ...");
}

std::string cpuTargetSummary(const CpuOptions &opts) {
  initLlvm();
  auto [cpu, features] = cpuAndFeatures(opts);
  return cpu + "; " + (features.empty() ? "(features implied by the name)"
                                        : features);
}

std::string cpuTargetDescription(const CpuOptions &opts) {
  initLlvm();
  return std::string("llvm ") + LLVM_VERSION_STRING + "; " +
         sys::getProcessTriple() + "; " + cpuTargetSummary(opts) + "; O" +
         std::to_string(opts.optLevel) + (opts.profile ? "; profile" : "") +
         (opts.updateChains ? "" : "; update loops apart") +
         (opts.sideBySide ? "" : "; kernels one at a time") +
         (opts.tieredPipeline ? "" : "; full pipeline everywhere");
}

std::string compileCpuObject(const std::vector<CpuEntry> &entries,
                             const CpuOptions &opts, int parts) {
  std::unique_ptr<TargetMachine> tm = targetMachine(opts);
  LLVMContext ctx;
  if (parts <= 1) {
    std::unique_ptr<Module> m = buildModule(ctx, entries, *tm, opts, true);
    Clock::time_point t0 = Clock::now();
    std::string obj = codegen(*m, *tm, CodeGenFileType::ObjectFile);
    if (opts.verbose)
      std::fprintf(stderr,
                   "nnc: cpu: generated %zu bytes of %s code in %.3f s\n",
                   obj.size(), tm->getTargetCPU().str().c_str(),
                   secondsSince(t0));
    return obj;
  }
  // Split the verified module, then optimize and generate each part on its
  // own thread, in its own context (a context is not shared across threads;
  // the parts travel as bitcode). Functions called across parts are made
  // hidden globals; the JIT links the objects.
  Clock::time_point t0 = Clock::now();
  std::unique_ptr<Module> m = buildModule(ctx, entries, *tm, opts, false);
  std::vector<SmallVector<char, 0>> bitcode;
  SplitModule(
      *m, static_cast<unsigned>(parts),
      [&](std::unique_ptr<Module> part) {
        bitcode.emplace_back();
        raw_svector_ostream os(bitcode.back());
        WriteBitcodeToFile(*part, os);
      },
      /*PreserveLocals=*/false, /*RoundRobin=*/true);
  std::vector<std::string> objects(bitcode.size());
  std::vector<std::exception_ptr> errors(bitcode.size());
  std::vector<double> optSeconds(bitcode.size()), genSeconds(bitcode.size());
  auto compilePart = [&](size_t i) {
    try {
      LLVMContext c;
      std::unique_ptr<TargetMachine> ptm = targetMachine(opts);
      Expected<std::unique_ptr<Module>> pm = parseBitcodeFile(
          MemoryBufferRef(StringRef(bitcode[i].data(), bitcode[i].size()),
                          "part"),
          c);
      if (!pm)
        NN_UNREACHABLE("cpu backend: cannot read back a module part: " +
                       errorText(pm.takeError()));
      Clock::time_point t1 = Clock::now();
      optimize(**pm, *ptm, opts);
      optSeconds[i] = secondsSince(t1);
      t1 = Clock::now();
      objects[i] = codegen(**pm, *ptm, CodeGenFileType::ObjectFile);
      genSeconds[i] = secondsSince(t1);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < bitcode.size(); ++i)
    threads.emplace_back(compilePart, i);
  compilePart(0);
  for (std::thread &t : threads)
    t.join();
  for (const std::exception_ptr &e : errors)
    if (e)
      std::rethrow_exception(e);
  std::string out = bundleObjects(objects);
  if (opts.verbose)
    std::fprintf(stderr,
                 "nnc: cpu: optimized and generated %zu bytes of %s code in "
                 "%zu parts on as many threads in %.3f s\n",
                 out.size(), tm->getTargetCPU().str().c_str(), objects.size(),
                 secondsSince(t0));
  for (size_t i = 0; opts.verbose && i < objects.size(); ++i)
    std::fprintf(stderr,
                 "nnc: cpu: part %zu: optimized in %.3f s, generated %zu "
                 "bytes in %.3f s\n",
                 i, optSeconds[i], objects[i].size(), genSeconds[i]);
  return out;
}

int cpuCompileParts() {
  // Twice the cores: parts differ in size, and more of them balance the
  // threads better (mnist_mlp's step on 2 cores: 0.76 s whole, 0.49 s in 2
  // parts, 0.43 s in 4).
  unsigned n = std::thread::hardware_concurrency();
  return n <= 1 ? 1 : static_cast<int>(std::min(2 * n, 8u));
}

std::unique_ptr<CpuProgram> loadCpuObject(const Graph &g,
                                          const MemoryPlan &plan,
                                          const std::string &object) {
  initLlvm();
  Expected<std::unique_ptr<orc::LLJIT>> jit = orc::LLJITBuilder().create();
  if (!jit)
    NN_UNREACHABLE("cpu backend: cannot start the JIT: " +
                   errorText(jit.takeError()));
  int n = 0;
  for (std::string_view part : unbundleObjects(object)) {
    std::unique_ptr<MemoryBuffer> buf = MemoryBuffer::getMemBufferCopy(
        StringRef(part.data(), part.size()),
        cpuStepSymbol(g) + "." + std::to_string(n++) + ".o");
    if (Error e = (*jit)->addObjectFile(std::move(buf)))
      NN_UNREACHABLE("cpu backend: cannot load the object into the JIT: " +
                     errorText(std::move(e)));
  }
  return std::make_unique<JitProgram>(g, plan, std::move(*jit));
}

std::unique_ptr<CpuProgram> compileCpu(const Graph &g, const MemoryPlan &plan,
                                       const CpuOptions &opts) {
  Clock::time_point t0 = Clock::now();
  std::string obj = compileCpuObject({CpuEntry{&g, &plan, cpuStepSymbol(g)}},
                                     opts, cpuCompileParts());
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
  std::unique_ptr<TargetMachine> tm = targetMachine(opts);
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
  std::unique_ptr<TargetMachine> tm = targetMachine(opts);
  LLVMContext ctx;
  std::unique_ptr<Module> m = buildModule(
      ctx, {CpuEntry{&g, &plan, cpuStepSymbol(g)}}, *tm, opts, true);
  return codegen(*m, *tm, CodeGenFileType::AssemblyFile);
}

} // namespace nn

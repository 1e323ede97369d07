//===- CpuBackend.h - Graphs compiled to native code by LLVM ---*- C++ -*-===//
///
/// \file
/// The CPU backend's public face, free of LLVM types: a graph and its memory
/// plan become one LLVM module (one kernel function per node, named after the
/// `.nn` line it came from, and one entry point that calls them in order),
/// optimized for the host CPU and run through ORC LLJIT, or written out as
/// LLVM IR text, assembly or an object file.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "passes/MemoryPlan.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nn {

struct CpuOptions {
  /// Bypass the on-disk JIT cache (used by the cache, not by this library).
  bool noCache = false;
  /// Print compile phases and times to stderr.
  bool verbose = false;
  /// LLVM's pipeline: 0 (none), 1, 2 or 3 (buildPerModuleDefaultPipeline).
  int optLevel = 2;
  /// The CPU to generate code for: empty (or "host") for this machine's name
  /// and features, else an LLVM x86 CPU name such as "x86-64-v3" (AVX2, FMA)
  /// or "x86-64-v4" (AVX-512), whose features are implied by the name. Golden
  /// tests pin one, so they check the same text on every host; an AOT object
  /// built for one runs on every machine that has its features. The JIT's
  /// callers leave it empty (code for another CPU may not run here). Check a
  /// name with checkCpuName.
  std::string cpu;
  /// Time every kernel call: the entry point stores the cycle counter before
  /// the first call and after each into `<symbol>_profile_ticks` (i64s), and
  /// `<symbol>_profile_names` holds the called kernels' names, one per line
  /// (for `nnc bench`).
  bool profile = false;
  /// Compute the updates of one parameter (a fused.adam with its
  /// fused.adam_moment and fused.adam_variance, a fused.sgd with its
  /// fused.sgd_momentum) in one loop of the optimizer kernel, reading each
  /// element of w, g, m, v once (codegen/cpu/EmitUpdates.cpp). Off: one
  /// loop per update op, the same bits, kept for side-by-side measurements
  /// (mnist_mlp, 2 threads, optimizer kernel: SGD 22 us vs 28 us, AdamW
  /// 46 us vs 75 us per step). Part of the JIT cache's key.
  bool updateChains = true;
  /// Run two split kernels that follow each other in a step and do not
  /// depend on each other as one job of the thread pool, their parts shared
  /// (codegen/cpu/EmitSideBySide.cpp); the same bits. Off: one job per
  /// kernel, for side-by-side measurements. Never with `profile`. Part of
  /// the JIT cache's key.
  bool sideBySide = true;
  /// At -O2/-O3, the full pipeline only for the GEMM micro-kernels
  /// (`nnc_gemm_*`); the other kernels skip its expensive optional
  /// passes (codegen/cpu/Pipeline.h), the same bits. Off: the full pipeline
  /// everywhere, kept for side-by-side measurements. Part of the JIT cache's
  /// key.
  bool tieredPipeline = true;
  /// For tests only: emit a deliberately broken instruction into the kernel
  /// of this node, so that the verifier check can be seen to work. -1: off.
  NodeId corruptKernelForTest = -1;
};

/// The signature of every entry point:
///   void <symbol>(const float *const *leaves, float *arena, int64_t batch)
/// `leaves` holds one pointer per leaf in leafOrder() (Input, Label, Param and
/// State nodes; class labels are float class ids); `arena` is
/// plan.arenaBytes bytes, 64-byte aligned; `batch` is the number of samples
/// (1..plan.maxBatch). The entry point computes every node, then copies each
/// update's value into its target leaf's buffer (so Param and State buffers
/// must be writable).
using CpuEntryFn = void (*)(const float *const *leaves, float *arena,
                            int64_t batch);

/// Every module holds a pointer to the parallel-for its split kernels call
/// (see codegen/cpu/ThreadPool.h for the signature), under this name, weak
/// and initialized to a serial loop. Programs loaded by compileCpu and
/// loadCpuObject point it at the thread pool; an AOT program may set it.
constexpr const char *kParallelForSymbol = "nnc_parallel_for_ptr";

/// The leaves an entry point of `g` takes, in order: every Input, Label,
/// Param and State node, in graph order (Const nodes are compiled in).
std::vector<NodeId> cpuLeafOrder(const Graph &g);

/// One graph to compile into a module, as the entry point `symbol`.
struct CpuEntry {
  const Graph *graph = nullptr;
  const MemoryPlan *plan = nullptr;
  /// The entry point's name, e.g. "mnist_mlp_step" (a C identifier).
  std::string symbol;
};

/// The name of node `id`'s kernel function, from its `.nn` binding and op:
/// "fc1_matmul" (ir/KernelNames.h; kernelNames names every node at once).
std::string cpuKernelName(const Graph &g, NodeId id);

/// "<graph name>_step" made a C identifier (the default entry symbol).
std::string cpuStepSymbol(const Graph &g);

/// One compiled graph, loaded into its own ORC LLJIT instance.
class CpuProgram {
public:
  virtual ~CpuProgram() = default;
  /// The entry point of the graph it was compiled from.
  virtual CpuEntryFn entry() const = 0;
  /// The entry point called `symbol` (for modules with several entries);
  /// nullptr when there is none.
  virtual CpuEntryFn lookup(const std::string &symbol) const = 0;
  /// The address of a data symbol of the module (e.g. the profile arrays),
  /// nullptr when there is none.
  virtual void *address(const std::string &symbol) const = 0;
  /// Leaves in the order the entry point takes them (cpuLeafOrder).
  const std::vector<NodeId> &leafOrder() const { return leaves; }
  /// The plan the code was compiled against.
  const MemoryPlan &plan() const { return memPlan; }
  /// Seconds spent in IR emission + optimization + code generation, and in
  /// loading into the JIT (0 for parts that did not run, e.g. when the
  /// object came from a cache).
  double compileSeconds = 0;
  double loadSeconds = 0;

protected:
  std::vector<NodeId> leaves;
  MemoryPlan memPlan;
};

/// Compiles `g` (types known) against `plan` into native code for this host
/// and loads it into an LLJIT. A module that fails LLVM's verifier is an
/// InternalError naming the kernel; it never runs.
std::unique_ptr<CpuProgram> compileCpu(const Graph &g, const MemoryPlan &plan,
                                       const CpuOptions &opts);

/// The pieces compileCpu is made of, for the JIT cache and AOT: an object file
/// (ELF, relocatable, PIC) for these entries, in memory. With `parts` > 1
/// the module is split into that many parts (llvm::SplitModule), optimized
/// and compiled on as many threads, and the result is a bundle of objects
/// that only loadCpuObject reads (AOT asks for one part) ...
std::string compileCpuObject(const std::vector<CpuEntry> &entries,
                             const CpuOptions &opts, int parts = 1);
/// ... the parts the JIT compiles in (twice the hardware threads, at most
/// 8; 1 on one core) ...
int cpuCompileParts();
/// ... and an object file or bundle (from compileCpuObject, perhaps via a
/// cache) loaded into an LLJIT, its entry point `cpuStepSymbol(g)`.
std::unique_ptr<CpuProgram> loadCpuObject(const Graph &g,
                                          const MemoryPlan &plan,
                                          const std::string &object);

/// Throws UserError unless `cpu` is empty, "host" or a CPU LLVM's x86
/// target knows ("unknown cpu 'x86-64-v5'; did you mean 'x86-64-v4'?").
void checkCpuName(const std::string &cpu);

/// The CPU name and the features code compiled with `opts` is generated for
/// ("znver4; +avx512f,+fma,...", or "x86-64-v3; (implied by the name)").
std::string cpuTargetSummary(const CpuOptions &opts);

/// What code compiled here depends on besides the IR, for cache keys: the
/// LLVM version, target triple, CPU name and features, and optLevel.
std::string cpuTargetDescription(const CpuOptions &opts);

/// The module as LLVM IR text, before (`optimized` false) or after the
/// optimization pipeline, for `nnc emit --stage=llvm|llvm-opt`.
std::string emitLlvmText(const Graph &g, const MemoryPlan &plan,
                         bool optimized, const CpuOptions &opts = {});
/// The host assembly of the optimized module, for `nnc emit --stage=asm`.
std::string emitAsmText(const Graph &g, const MemoryPlan &plan,
                        const CpuOptions &opts = {});

} // namespace nn

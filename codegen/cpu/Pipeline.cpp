//===- Pipeline.cpp - LLVM's optimizer, tiered by kernel ------------------===//
///
/// \file
/// One run of LLVM's default pipeline over the whole module, with a
/// ShouldRunOptionalPass callback that lets a light function through only
/// the passes of kLightPasses (see Pipeline.h). Measured on mnist_mlp's
/// fused step (batch 64, AVX-512 host, `nnc bench`, 5 interleaved rounds):
/// the light pipeline for everything but the micro-kernel halved the cold
/// compile and left every kernel's time within noise (0.87x-0.98x of the
/// full pipeline's, the GEMM drivers' packing loops included); the skipped
/// passes were mostly unrolling loops LoopVectorize had already interleaved
/// and rewriting their induction variables.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/Pipeline.h"

#include "llvm/Analysis/LoopInfo.h"
#include "llvm/IR/PassInstrumentation.h"
#include "llvm/Passes/PassBuilder.h"

#include <string_view>
#include <unordered_map>

namespace nn::cpu {

using namespace llvm;

namespace {

/// The optional passes a light function runs: enough for its loops to be
/// rotated, their invariants hoisted and vectorized, and the result cleaned
/// up. InstCombinePass is limited further (kLightCombines).
constexpr std::string_view kLightPasses[] = {
    "SROAPass",         "EarlyCSEPass",      "SimplifyCFGPass",
    "InstCombinePass",  "LoopSimplifyPass",  "LCSSAPass",
    "LoopRotatePass",   "LICMPass",          "LoopVectorizePass",
    "InferAlignmentPass",
};

/// InstCombine runs about eight times in the O2 pipeline, each time over the
/// whole function: a light function gets the first run before the loop
/// passes and the first after the vectorizer.
constexpr int kLightCombinesBefore = 1;

bool isLightPass(StringRef pass) {
  for (std::string_view p : kLightPasses)
    if (pass == StringRef(p.data(), p.size()))
      return true;
  return false;
}

/// The function an optional pass runs on, or null (a module or an SCC).
const Function *functionOf(Any ir) {
  if (const auto *f = llvm::any_cast<const Function *>(&ir))
    return *f;
  if (const auto *l = llvm::any_cast<const Loop *>(&ir))
    return (*l)->getHeader()->getParent();
  return nullptr;
}

/// What the callback knows of one light function.
struct LightState {
  int combinesBefore = 0;
  bool vectorized = false;
  bool combinedAfter = false;
};

/// Whether a light function runs optional pass `pass` now.
bool lightRuns(StringRef pass, LightState &s) {
  if (!isLightPass(pass))
    return false;
  if (pass == "LoopVectorizePass") {
    s.vectorized = true;
    return true;
  }
  if (pass != "InstCombinePass")
    return true;
  if (!s.vectorized)
    return s.combinesBefore++ < kLightCombinesBefore;
  bool first = !s.combinedAfter;
  s.combinedAfter = true;
  return first;
}

OptimizationLevel optimizationLevel(int level) {
  return level == 1   ? OptimizationLevel::O1
         : level == 3 ? OptimizationLevel::O3
                      : OptimizationLevel::O2;
}

} // namespace

bool fullPipeline(const Function &f) {
  return f.getName().starts_with("nnc_gemm");
}

void optimizeModule(Module &m, TargetMachine &tm, int level, bool tiered) {
  if (level <= 0)
    return;
  std::unordered_map<const Function *, LightState> light;
  if (tiered && level >= 2)
    for (const Function &f : m)
      if (!f.isDeclaration() && !fullPipeline(f))
        light.emplace(&f, LightState{});
  PassInstrumentationCallbacks pic;
  pic.registerShouldRunOptionalPassCallback([&](StringRef pass, Any ir) {
    const Function *f = functionOf(ir);
    auto it = f ? light.find(f) : light.end();
    return it == light.end() || lightRuns(pass, it->second);
  });
  LoopAnalysisManager lam;
  FunctionAnalysisManager fam;
  CGSCCAnalysisManager cgam;
  ModuleAnalysisManager mam;
  PassBuilder pb(&tm, PipelineTuningOptions(), std::nullopt, &pic);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  ModulePassManager mpm =
      pb.buildPerModuleDefaultPipeline(optimizationLevel(level));
  mpm.run(m, mam);
}

} // namespace nn::cpu

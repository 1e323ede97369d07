//===- CheckEmitCommand.cpp - nnc check, nnc emit -------------------------===//

#include "ir/Format.h"
#include "ir/IRParser.h"
#include "ir/Printer.h"
#include "ir/Support.h"
#include "passes/EvalForm.h"
#include "passes/MemoryPlan.h"
#include "tools/Driver.h"

#include "codegen/cuda/Nvrtc.h"

#ifdef NNC_HAVE_CPU_BACKEND
#include "codegen/cpu/CpuBackend.h"
#endif

#include <algorithm>
#include <iostream>

namespace nn {

namespace {

bool endsWith(const std::string &s, const std::string &tail) {
  return s.size() >= tail.size() &&
         s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

/// `nnc check --verify-diagnostics`: parse and infer shapes into one engine,
/// then compare what was reported with the file's expected-* comments.
int verifyFile(const std::string &path) {
  std::string text = readFile(path);
  DiagEngine diags;
  diags.maxErrors = 1000;
  diags.addSource(path, text);
  std::optional<Model> model = parseModel(path, text, diags);
  if (model && !diags.hasErrors()) {
    try {
      PipelineOptions opts;
      opts.checkModel = true;
      runPipeline(model->graph, model->recipe, Stage::Forward, opts, diags);
    } catch (const DiagnosedError &) {
    }
  }
  return verifyDiagnostics(path, text, diags, std::cerr) ? 0 : 1;
}

/// `nnc train` feeds exactly one input and one label (runtime/Trainer.cpp);
/// other commands (compile) take more, so check warns rather than fails.
void warnUntrainable(const LoadedModel &m, const Graph &g) {
  DiagEngine diags;
  diags.addSource(m.path, m.text);
  for (OpKind kind : {OpKind::Input, OpKind::Label}) {
    std::vector<NodeId> ids = g.leaves(kind);
    if (ids.size() == 1)
      continue;
    SrcLoc at = ids.empty() ? g[*g.output("loss")].loc : g[ids[1]].loc;
    diags.warning(at, "'nnc train' needs exactly one " +
                          std::string(mnemonic(kind)) +
                          " declaration; this model has " +
                          std::to_string(ids.size()));
  }
  if (!diags.diagnostics().empty())
    diags.print(std::cerr, useColor());
}

int runCheck(const Args &args) {
  if (args.has("verify-diagnostics")) {
    if (args.positional().size() != 1)
      throw UserError("nnc: error: give one model file");
    return verifyFile(args.positional()[0]);
  }
  LoadedModel m = loadModel(args);
  Graph g = compileTo(m, Stage::Forward);
  warnUntrainable(m, g);
  // Buffers (batch norm's running statistics) are counted apart, as
  // PyTorch's model.parameters() leaves them out.
  int64_t params = 0, buffers = 0;
  for (NodeId id : g.leaves(OpKind::Param))
    (g[id].buffer ? buffers : params) += g[id].type.numel();
  std::cout << m.path << ": ok: model '" << g.name << "', "
            << withCommas(static_cast<double>(params)) << " parameters";
  if (buffers)
    std::cout << " and " << withCommas(static_cast<double>(buffers))
              << " buffer values";
  std::cout << "\n";
  return 0;
}

/// Every --print-after names a pass.
void checkPrintAfter(const std::vector<std::string> &printAfter) {
  const std::vector<std::string> &names = passNames();
  for (const std::string &p : printAfter) {
    if (std::find(names.begin(), names.end(), p) != names.end())
      continue;
    std::string near = closestMatch(p, names);
    std::string all;
    for (const std::string &n : names)
      all += (all.empty() ? "" : ", ") + n;
    throw UserError("nnc: error: unknown pass '" + p + "' in --print-after" +
                    (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                    "; passes: " + all);
  }
}

/// The pipeline stage that --stage=`stage` prints from.
Stage stopFor(const std::string &stage) {
  if (stage == "grad")
    return Stage::Grad;
  if (stage == "fused")
    return Stage::Fused;
  if (stage == "ir" || stage == "tokens" || stage == "ast" || stage == "eval")
    return Stage::Forward;
  for (const char *s : {"opt", "memplan", "llvm", "llvm-opt", "asm", "cuda",
                        "ptx", "sass"})
    if (stage == s)
      return Stage::Opt;
  throw UserError("nnc: error: unknown stage '" + stage +
                  "' (stages: tokens, ast, ir, grad, opt, fused, eval, "
                  "memplan, llvm, llvm-opt, asm, cuda, ptx, sass)");
}

bool isCudaStage(const std::string &stage) {
  return stage == "cuda" || stage == "ptx" || stage == "sass";
}
bool isCpuStage(const std::string &stage) {
  return stage == "llvm" || stage == "llvm-opt" || stage == "asm";
}

/// Prints textual IR from `path` back, after the passes up to the stage.
int emitIrFile(const std::string &path, const std::string &stage, Stage stop,
               const PipelineOptions &opts, const FusionLog &fusionLog,
               const NvrtcOptions &nvrtc, const CudaPrintOptions &cudaPrint) {
  std::string text = readFile(path);
  DiagEngine diags;
  diags.addSource(path, text);
  Graph g;
  try {
    g = parseGraph(path, text, diags);
    if (stage != "ir")
      g = runPipeline(g, Recipe{}, stop, opts, diags);
  } catch (const DiagnosedError &) {
    diags.print(std::cerr, useColor());
    throw;
  }
  if (isCudaStage(stage)) {
    std::cout << emitCudaText(g, stage, nvrtc, cudaPrint);
    return 0;
  }
  std::cout << printGraph(g, opts.print);
  if (stage == "fused")
    std::cout << fusionLog.str();
  return 0;
}

/// --stage=tokens or ast: the frontend's own dumps.
int emitFrontendStage(const std::string &path, const std::string &stage) {
  std::string text = readFile(path);
  DiagEngine diags;
  diags.addSource(path, text);
  std::string out = stage == "tokens" ? dumpTokens(path, text, diags)
                                      : dumpAst(path, text, diags);
  std::cout << out;
  if (!diags.diagnostics().empty())
    diags.print(std::cerr, useColor());
  return diags.hasErrors() ? 1 : 0;
}

/// --stage=llvm, llvm-opt or asm of the compiled graph.
int emitCpuStage(const Args &args, const Graph &g, const LoadedModel &m,
                 const std::string &stage) {
#ifdef NNC_HAVE_CPU_BACKEND
  MemoryPlan plan = planMemory(g, m.model.recipe.batch);
  CpuOptions cpu;
  cpu.cpu = args.get("cpu").value_or("");
  checkCpuName(cpu.cpu);
  std::cout << (stage == "asm"
                    ? emitAsmText(g, plan, cpu)
                    : emitLlvmText(g, plan, stage == "llvm-opt", cpu));
  return 0;
#else
  throw UserError("nnc: error: --stage=" + stage +
                  " needs the cpu backend, which this build lacks (LLVM 19 "
                  "was not found at configure time)");
#endif
}

int runEmit(const Args &args) {
  std::string stage = args.get("stage").value_or("ir");
  if (args.positional().size() != 1)
    throw UserError("nnc: error: give one model file");
  const std::string &path = args.positional()[0];
  PipelineOptions opts;
  opts.log = &std::cout;
  opts.printAfter = args.getAll("print-after");
  opts.print.locations = !args.has("no-loc");
  opts.printAfterAll = args.has("print-after-all");
  checkPrintAfter(opts.printAfter);

  Stage stop = stopFor(stage);
  if (args.has("cpu") && !isCpuStage(stage))
    throw UserError("nnc: error: --cpu applies to --stage=llvm, llvm-opt and "
                    "asm, not --stage=" + stage);
  NvrtcOptions nvrtc;
  nvrtc.arch = args.get("arch").value_or("");
  CudaPrintOptions cudaPrint;
  cudaPrint.tf32 =
      tf32Flag(args, isCudaStage(stage) ? "cuda" : "--stage=" + stage);
  FusionLog fusionLog;
  opts.fusionLog = &fusionLog;
  if (auto f = args.get("fuse")) {
    opts.fusions = parseFusionList(*f);
    if (stop == Stage::Opt && stage != "opt")
      stop = Stage::Fused; // memplan, llvm, asm of the fused graph
  }
  if (endsWith(path, ".nnir") && stage == "eval")
    throw UserError("nnc: error: --stage=eval needs a .nn model (its "
                    "evaluation form comes from the model's batch norms "
                    "and dropout)");
  if (endsWith(path, ".nnir"))
    return emitIrFile(path, stage, stop, opts, fusionLog, nvrtc, cudaPrint);
  if (stage == "tokens" || stage == "ast")
    return emitFrontendStage(path, stage);

  LoadedModel m = loadModel(args);
  applyRecipeFlags(args, m.model.recipe);
  if (stage == "eval") { // what eval, predict and compile run
    Graph g = fuse(evalForm(compileTo(m, Stage::Forward)), opts.fusions,
                   fusionLog);
    std::cout << printGraph(g, opts.print) << fusionLog.str();
    return 0;
  }
  Graph g = compileTo(m, stop, opts);
  if (stage == "memplan")
    std::cout << printMemoryPlan(g, planMemory(g, m.model.recipe.batch));
  else if (isCudaStage(stage))
    std::cout << emitCudaText(g, stage, nvrtc, cudaPrint);
  else if (isCpuStage(stage))
    return emitCpuStage(args, g, m, stage);
  else
    std::cout << printGraph(g, opts.print) << (stage == "fused" ? fusionLog.str() : "");
  return 0;
}

} // namespace

const Command &checkCommand() {
  static const Command c{
      "check",
      "parse and type-check a model",
      {{"verify-diagnostics", "",
        "compare errors with the file's '# expected-error {{...}}' comments"}},
      runCheck};
  return c;
}

const Command &emitCommand() {
  static std::vector<FlagSpec> flags = [] {
    std::vector<FlagSpec> f = {
        {"stage", "STAGE",
         "tokens, ast, ir, grad, opt, fused (after fusion, with the fusion "
         "log as # comments), eval (the evaluation graph of eval, predict "
         "and compile, fused, with its log), memplan, llvm (the CPU backend's LLVM "
         "IR), llvm-opt (after O2), asm, cuda (the CUDA backend's "
         "source), ptx or sass (with register and spill counts) (default "
         "ir)"},
        {"arch", "SM",
         "GPU architecture for --stage=ptx|sass, e.g. sm_80 (default: the "
         "device's, or sm_90)"},
        precisionFlag(),
        cpuFlag(),
        {"fuse", "LIST",
         "fusions for --stage=fused (and memplan, llvm, asm, cuda, ptx, sass "
         "when given): all (default), none, or a comma list of " +
             fusionNameList()},
        {"print-after", "PASS", "also print the graph after PASS (repeatable)"},
        {"print-after-all", "", "print the graph after every pass"},
        {"no-loc", "", "leave source locations out of the IR"}};
    for (const FlagSpec &r : recipeFlags())
      f.push_back(r);
    return f;
  }();
  static const Command c{"emit", "print a stage of the compiler as text", flags,
                         runEmit};
  return c;
}

} // namespace nn

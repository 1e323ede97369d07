//===- CompileCommand.cpp - nnc compile -----------------------------------===//
///
/// \file
/// Ahead-of-time compilation: one object file with three entry points (the
/// parameters' first values, a whole training step, the forward pass to
/// "pred") and a C header that documents and wraps them, so that a plain C
/// program can train and run the model without nnc or LLVM.
///
//===----------------------------------------------------------------------===//

#include "ir/Format.h"
#include "ir/Support.h"
#include "passes/EvalForm.h"
#include "passes/Fuse.h"
#include "passes/GraphUtil.h"
#include "passes/MemoryPlan.h"
#include "runtime/AtomicFile.h"
#include "runtime/OutputPaths.h"
#include "runtime/ParamInit.h"
#include "tools/Driver.h"

#if NNC_HAVE_CPU_BACKEND
#include "codegen/cpu/CpuBackend.h"
#endif

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

namespace nn {

namespace {

/// A C identifier made of `s` ("fc1.weight" -> "fc1_weight").
std::string cIdent(const std::string &s) {
  std::string r;
  for (char c : s)
    r += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (r.empty() || std::isdigit(static_cast<unsigned char>(r[0])))
    r = "m_" + r;
  return r;
}

std::string upper(std::string s) {
  for (char &c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

/// The forward graph cut down to what output "pred" needs: no labels, no
/// loss.
Graph predictionGraph(const Graph &fwd) {
  std::optional<NodeId> pred = fwd.output("pred");
  if (!pred)
    throw UserError("nnc: error: model '" + fwd.name +
                    "' has no prediction to compile a forward entry for");
  std::vector<bool> keep(fwd.nodes.size(), false);
  keep[*pred] = true;
  for (NodeId i = *pred; i >= 0; --i)
    if (keep[i])
      for (NodeId in : fwd[i].inputs)
        keep[in] = true;
  Graph g = fwd;
  g.outputs = {{"pred", *pred}};
  g.updates.clear();
  return compactGraph(g, keep, std::vector<NodeId>(fwd.nodes.size(), -1));
}

/// A graph that sets every Param and State leaf of `step` to its first value
/// (`state`, from the recipe's seed): one Const per leaf, copied in by the
/// update at the end of the entry point.
Graph initGraph(const Graph &step, const TensorMap &state) {
  Graph g;
  g.name = step.name + "_init";
  for (NodeId id = 0; id < step.size(); ++id) {
    const Node &n = step[id];
    if (n.op != OpKind::Param && n.op != OpKind::State)
      continue;
    Node leaf = n;
    leaf.inputs.clear();
    NodeId target = g.add(leaf);
    Node c = makeNode(OpKind::Const, {}, n.loc);
    c.type = n.type;
    c.name = n.name + ".init";
    auto it = state.find(n.name);
    NN_ASSERT(it != state.end(), "no first value for " + n.name);
    c.values.assign(it->second.data.begin(), it->second.data.end());
    NN_ASSERT(static_cast<int64_t>(c.values.size()) == n.type.numel(),
              "first value of " + n.name + " has the wrong size");
    g.updates.push_back({target, g.add(c)});
  }
  return g;
}

/// Where a Param or State leaf lives in the state block, in floats.
struct Slot {
  std::string name;
  TensorType type;
  int64_t offset = 0;
};

/// The three graphs, their plans and the state layout.
struct AotModel {
  std::string prefix; // C identifier of the model
  int64_t maxBatch = 0;
  uint64_t seed = 0;
  Graph init, step, forward;
  MemoryPlan initPlan, stepPlan, forwardPlan;
  std::vector<Slot> slots;
  int64_t stateFloats = 0;
  int64_t arenaBytes = 0;
  /// The C identifier of each input, label and state tensor (assignCNames).
  std::map<std::string, std::string> cNames;
};

/// C and C++ keywords and the wrappers' own parameter names, upper-cased
/// (STATE and PRED also keep <P>_<NAME>_FLOATS apart from <P>_STATE_FLOATS
/// and <P>_PRED_FLOATS).
const std::set<std::string> &reservedCNames() {
  static const std::set<std::string> r = [] {
    std::set<std::string> out;
    for (const char *w :
         {"auto",      "break",    "case",     "char",      "const",
          "continue",  "default",  "do",       "double",    "else",
          "enum",      "extern",   "float",    "for",       "goto",
          "if",        "inline",   "int",      "long",      "register",
          "restrict",  "return",   "short",    "signed",    "sizeof",
          "static",    "struct",   "switch",   "typedef",   "union",
          "unsigned",  "void",     "volatile", "while",     "bool",
          "true",      "false",    "class",    "delete",    "new",
          "namespace", "template", "this",     "throw",     "try",
          "catch",     "private",  "public",   "protected", "virtual",
          "operator",  "friend",   "using",    "typename",  "mutable",
          "explicit",  "export",   "asm",      "nullptr",   "constexpr",
          "decltype",  "noexcept", "alignas",  "alignof",   "and",
          "or",        "not",      "xor",      "state",     "arena",
          "batch",     "loss",     "pred",     "leaves",    "memcpy",
          "size_t",    "int64_t",  "uint64_t", "int32_t",   "uint32_t",
          "NULL"})
      out.insert(upper(w));
    return out;
  }();
  return r;
}

/// Gives every tensor the wrappers name a C identifier that differs from all
/// the others even after upper-casing (the header's macros are upper case):
/// `w` and `W`, or a layer's `a.bias` and a `param a_bias`, must not share
/// a macro. The first of a clash keeps its plain name, the others get "_2",
/// "_3", ... in the order of the state block, then inputs, then labels.
void assignCNames(AotModel &a) {
  std::vector<std::string> names;
  for (const Slot &s : a.slots)
    names.push_back(s.name);
  for (OpKind k : {OpKind::Input, OpKind::Label})
    for (NodeId id : a.step.leaves(k))
      names.push_back(a.step[id].name);
  std::set<std::string> taken = reservedCNames();
  for (const std::string &n : names) {
    if (a.cNames.count(n))
      continue;
    std::string base = cIdent(n), c = base;
    for (int k = 2; taken.count(upper(c)); ++k)
      c = base + "_" + std::to_string(k);
    taken.insert(upper(c));
    a.cNames[n] = c;
  }
  NN_ASSERT(taken.size() == reservedCNames().size() + a.cNames.size(),
            "C names of the model's tensors are not distinct");
}

/// The C identifier of tensor `name` (see assignCNames).
const std::string &cName(const AotModel &a, const std::string &name) {
  auto it = a.cNames.find(name);
  NN_ASSERT(it != a.cNames.end(), "no C name for " + name);
  return it->second;
}

/// The macro name part of tensor `name`: "<P>_" + this + "_OFFSET".
std::string macroName(const AotModel &a, const std::string &name) {
  return upper(cName(a, name));
}

const Slot &slotOf(const AotModel &a, const std::string &name) {
  for (const Slot &s : a.slots)
    if (s.name == name)
      return s;
  NN_UNREACHABLE("no state slot for " + name);
}

/// One entry point's wrapper body: the leaves array, the call.
std::string leavesArray(const AotModel &a, const Graph &g, bool constState) {
  std::ostringstream os;
  std::vector<NodeId> order;
  for (NodeId id = 0; id < g.size(); ++id)
    if (hasTrait(g[id].op, kLeaf) && g[id].op != OpKind::Const)
      order.push_back(id);
  os << "  const float *const leaves[" << std::max<size_t>(order.size(), 1)
     << "] = {";
  for (size_t i = 0; i < order.size(); ++i) {
    const Node &n = g[order[i]];
    os << (i ? ",\n      " : "\n      ");
    if (n.op == OpKind::Input || n.op == OpKind::Label)
      os << cName(a, n.name);
    else
      os << (constState ? "" : "(const float *)") << "state + "
         << upper(a.prefix) << "_" << macroName(a, n.name) << "_OFFSET";
  }
  if (order.empty())
    os << "0";
  os << "};\n";
  return os.str();
}

std::string typeComment(const TensorType &t) {
  int64_t n = t.numelPerSample();
  return t.str() + " (" + std::to_string(n) + (n == 1 ? " float" : " floats") +
         (t.hasBatch() ? " per sample)" : ")");
}

/// The header's opening comment (the ABI), include guard, sizes.
std::string headerPreamble(const AotModel &a, const std::string &source) {
  const std::string P = upper(a.prefix), p = a.prefix;
  std::ostringstream h;
  h << "/* " << p << ".h: generated by `nnc compile` from " << source
    << "; do not edit.\n"
    << " *\n"
    << " * ABI of " << p << ".o (link with -lm):\n"
    << " *  - Every float is IEEE binary32; every buffer is row-major.\n"
    << " *  - `state` holds all parameters and optimizer state: " << P
    << "_STATE_FLOATS floats,\n"
    << " *    each tensor at its " << P << "_<NAME>_OFFSET (in floats). "
    << "Weights are stored [in, out]\n"
    << " *    (the transpose of PyTorch's nn.Linear.weight). " << p
    << "_init fills it.\n"
    << " *  - `arena` is scratch memory of " << P << "_ARENA_BYTES bytes, "
    << "64-byte aligned\n"
    << " *    (e.g. aligned_alloc(64, " << P << "_ARENA_BYTES)); "
    << "its contents need not survive between calls.\n"
    << " *  - `batch` is the number of samples, 1.." << P
    << "_MAX_BATCH; inputs, labels and\n"
    << " *    predictions hold `batch` rows. Labels are floats: 0/1 for "
    << "binary labels,\n"
    << " *    the class id for class labels, the target for real ones.\n"
    << " *  - The functions return 0, or -1 (doing nothing) when batch is "
    << "out of range.\n"
    << " *  - Calls sharing a state or an arena must not run concurrently.\n"
    << " *  - The code is built for the CPU that compiled it (its vector "
    << "features).\n"
    << " */\n"
    << "#ifndef NNC_" << P << "_H\n#define NNC_" << P << "_H\n\n"
    << "#include <stdint.h>\n#include <string.h>\n\n"
    << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
    << "#define " << P << "_MAX_BATCH " << a.maxBatch << "\n"
    << "#define " << P << "_ARENA_BYTES " << a.arenaBytes << "\n"
    << "#define " << P << "_STATE_FLOATS " << a.stateFloats << "\n";
  return h.str();
}

/// The sizes of the inputs, labels and prediction; the state block's
/// offsets and sizes.
std::string headerLayout(const AotModel &a) {
  const std::string P = upper(a.prefix);
  std::vector<NodeId> inputs = a.step.leaves(OpKind::Input);
  std::vector<NodeId> labels = a.step.leaves(OpKind::Label);
  NodeId pred = *a.forward.output("pred");
  std::ostringstream h;
  for (NodeId id : inputs)
    h << "#define " << P << "_" << macroName(a, a.step[id].name) << "_FLOATS "
      << a.step[id].type.numelPerSample() << " /* input " << a.step[id].name
      << ": " << typeComment(a.step[id].type) << " */\n";
  for (NodeId id : labels)
    h << "#define " << P << "_" << macroName(a, a.step[id].name) << "_FLOATS "
      << a.step[id].type.numelPerSample() << " /* label " << a.step[id].name
      << ": " << typeComment(a.step[id].type) << " */\n";
  h << "#define " << P << "_PRED_FLOATS "
    << a.forward[pred].type.numelPerSample()
    << " /* prediction: " << typeComment(a.forward[pred].type) << " */\n\n"
    << "/* The state block: offsets and sizes in floats. */\n";
  for (const Slot &s : a.slots)
    h << "#define " << P << "_" << macroName(a, s.name) << "_OFFSET "
      << s.offset << " /* " << s.name << ": " << s.type.str() << " */\n";
  for (const Slot &s : a.slots)
    h << "#define " << P << "_" << macroName(a, s.name) << "_SIZE "
      << s.type.numel() << "\n";

  return h.str();
}

/// The raw entry points of the object file and the parallel-for hook.
std::string headerEntryPoints(const AotModel &a) {
  const std::string p = a.prefix;
  std::ostringstream h;
  h << "\n/* The raw entry points in " << p << ".o:\n"
    << " *   void f(const float *const *leaves, float *arena, int64_t batch)\n"
    << " * with the leaves in the order the wrappers below build them. */\n"
    << "void nnc_" << p << "_init(const float *const *leaves, float *arena, "
    << "int64_t batch);\n"
    << "void nnc_" << p << "_train_step(const float *const *leaves, "
    << "float *arena, int64_t batch);\n"
    << "void nnc_" << p << "_forward(const float *const *leaves, "
    << "float *arena, int64_t batch);\n\n"
    << "/* The matrix products and large loops call through this pointer, set "
       "to a\n * serial loop: task(ctx, 0, 1). Point it at a function that "
       "runs\n * task(ctx, part, parts) for part = 0 .. parts-1 (parts <= "
       "max_parts) on\n * several threads and returns when all are done: "
       "the results are the\n * same bits for any `parts`. */\n"
    << "extern void (*nnc_parallel_for_ptr)(void (*task)(void *ctx, int64_t "
       "part,\n    int64_t parts), void *ctx, int64_t max_parts, int64_t "
       "work);\n\n";
  return h.str();
}

/// The inline C wrappers: init, train_step, forward.
std::string headerWrappers(const AotModel &a) {
  const std::string P = upper(a.prefix), p = a.prefix;
  std::vector<NodeId> inputs = a.step.leaves(OpKind::Input);
  std::vector<NodeId> labels = a.step.leaves(OpKind::Label);
  NodeId loss = *a.step.output("loss");
  NodeId pred = *a.forward.output("pred");
  std::string inArgs, labelArgs;
  for (NodeId id : inputs)
    inArgs += ", const float *" + cName(a, a.step[id].name);
  for (NodeId id : labels)
    labelArgs += ", const float *" + cName(a, a.step[id].name);

  std::ostringstream h;
  h << "/* Sets every parameter to its first value (the initializers of the "
       ".nn file,\n * drawn with seed "
    << a.seed
    << ", as `nnc train` draws them) and the optimizer state to "
       "zero. */\n"
    << "static inline void " << p << "_init(float *state, void *arena) {\n"
    << leavesArray(a, a.init, false) << "  nnc_" << p
    << "_init(leaves, (float *)arena, 1);\n}\n\n";

  h << "/* One optimizer step on a batch: forward, backward, update of "
       "`state`.\n * Stores the batch's loss (before the update) in *loss "
       "when loss is not NULL. */\n"
    << "static inline int " << p << "_train_step(float *state" << inArgs
    << labelArgs << ",\n    int64_t batch, void *arena, float *loss) {\n"
    << "  if (batch < 1 || batch > " << P << "_MAX_BATCH)\n    return -1;\n"
    << leavesArray(a, a.step, false) << "  nnc_" << p
    << "_train_step(leaves, (float *)arena, batch);\n"
    << "  if (loss)\n    memcpy(loss, (const char *)arena + "
    << a.stepPlan.offset[loss] << ", sizeof(float));\n"
    << "  return 0;\n}\n\n";

  h << "/* The model's prediction for a batch: `batch` rows of " << P
    << "_PRED_FLOATS floats\n * written to `pred`. `state` is not changed. */\n"
    << "static inline int " << p << "_forward(const float *state" << inArgs
    << ",\n    int64_t batch, void *arena, float *pred) {\n"
    << "  if (batch < 1 || batch > " << P << "_MAX_BATCH)\n    return -1;\n"
    << leavesArray(a, a.forward, true) << "  nnc_" << p
    << "_forward(leaves, (float *)arena, batch);\n"
    << "  memcpy(pred, (const char *)arena + " << a.forwardPlan.offset[pred]
    << ", (size_t)batch * " << P << "_PRED_FLOATS * sizeof(float));\n"
    << "  return 0;\n}\n\n"
    << "#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
  return h.str();
}


std::string headerText(const AotModel &a, const std::string &source) {
  return headerPreamble(a, source) + headerLayout(a) + headerEntryPoints(a) +
         headerWrappers(a);
}

AotModel buildAot(const LoadedModel &m, int64_t maxBatch,
                  const PipelineOptions &fuseOpts) {
  AotModel a;
  a.maxBatch = maxBatch;
  a.seed = m.model.recipe.seed;
  a.step = compileTo(m, Stage::Fused, fuseOpts);
  a.prefix = cIdent(a.step.name);
  if (!a.step.output("loss"))
    throw UserError("nnc: error: model '" + a.step.name + "' has no loss");
  FusionLog log;
  a.forward = fuse(predictionGraph(evalForm(compileTo(m, Stage::Forward))),
                   fuseOpts.fusions, log);
  a.init = initGraph(a.step, initState(a.step, m.model.recipe.seed));
  for (NodeId id = 0; id < a.step.size(); ++id) {
    const Node &n = a.step[id];
    if (n.op != OpKind::Param && n.op != OpKind::State)
      continue;
    a.slots.push_back({n.name, n.type, a.stateFloats});
    a.stateFloats += (n.type.numel() + 15) / 16 * 16; // 64-byte aligned
  }
  for (NodeId id = 0; id < a.forward.size(); ++id)
    if (a.forward[id].op == OpKind::Param)
      slotOf(a, a.forward[id].name); // every forward param is in the block
  assignCNames(a);
  a.initPlan = planMemory(a.init, 1);
  a.stepPlan = planMemory(a.step, maxBatch);
  a.forwardPlan = planMemory(a.forward, maxBatch);
  if (a.stepPlan.offset[*a.step.output("loss")] < 0 ||
      a.forwardPlan.offset[*a.forward.output("pred")] < 0)
    throw UserError("nnc: error: model '" + a.step.name +
                    "': the loss and the prediction must be computed values");
  a.arenaBytes = std::max({a.initPlan.arenaBytes, a.stepPlan.arenaBytes,
                           a.forwardPlan.arenaBytes, kArenaAlign});
  return a;
}

std::string replaceExtension(const std::string &path, const std::string &ext) {
  size_t slash = path.find_last_of('/');
  size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
    return path + ext;
  return path.substr(0, dot) + ext;
}

int runCompile(const Args &args) {
  LoadedModel m = loadModel(args);
  applyRecipeFlags(args, m.model.recipe);
  std::string out = args.get("output").value_or("");
  if (out.empty())
    out = replaceExtension(
        m.path.substr(m.path.find_last_of('/') == std::string::npos
                          ? 0
                          : m.path.find_last_of('/') + 1),
        ".o");
  std::string header = args.get("header").value_or(replaceExtension(out, ".h"));
  // --header is spelled as --header even when it defaults from -o.
  checkOutputPaths({{"the model", m.path}},
                   {{"--output", out, "the object file"},
                    {"--header", header, "the header"}});
  int64_t maxBatch = args.getInt("max-batch").value_or(m.model.recipe.batch);
  if (maxBatch < 1 || maxBatch > (int64_t(1) << 24))
    throw UserError("nnc: error: --max-batch must be between 1 and 16777216");
#if NNC_HAVE_CPU_BACKEND
  PipelineOptions fuseOpts;
  if (auto f = args.get("fuse"))
    fuseOpts.fusions = parseFusionList(*f);
  AotModel a = buildAot(m, maxBatch, fuseOpts);
  CpuOptions opts;
  opts.verbose = args.has("verbose");
  opts.cpu = args.get("cpu").value_or("");
  checkCpuName(opts.cpu);
  if (auto level = args.getInt("opt-level")) {
    if (*level < 0 || *level > 3)
      throw UserError("nnc: error: --opt-level must be 0, 1, 2 or 3");
    opts.optLevel = static_cast<int>(*level);
  }
  std::vector<CpuEntry> entries = {
      {&a.init, &a.initPlan, "nnc_" + a.prefix + "_init"},
      {&a.step, &a.stepPlan, "nnc_" + a.prefix + "_train_step"},
      {&a.forward, &a.forwardPlan, "nnc_" + a.prefix + "_forward"}};
  writeFileAtomic(out, compileCpuObject(entries, opts));
  writeFileAtomic(header, headerText(a, m.path));
  std::cout << "wrote " << out << " and " << header << ": " << a.prefix
            << "_init, " << a.prefix << "_train_step, " << a.prefix
            << "_forward; batch up to " << a.maxBatch << ", arena "
            << withCommas(static_cast<double>(a.arenaBytes)) << " bytes, state "
            << withCommas(static_cast<double>(a.stateFloats)) << " floats\n";
  return 0;
#else
  throw UserError("nnc: error: 'nnc compile' needs the cpu backend, and this "
                  "nnc was built without LLVM 19");
#endif
}

} // namespace

const Command &compileCommand() {
  static std::vector<FlagSpec> flags = [] {
    std::vector<FlagSpec> f = {
        {"output", "FILE", "the object file (default: MODEL.o here)", 'o'},
        {"header", "FILE", "the C header (default: the object's name, .h)"},
        {"max-batch", "N",
         "largest batch the entry points take (default: "
         "the recipe's batch)"},
        {"opt-level", "N", "LLVM optimization level, 0-3 (default 2)"},
        cpuFlag(),
        {"fuse", "LIST",
         "fusions: all (default), none, or a comma list of " +
             [] {
               std::string r;
               for (const std::string &n : fusionNames())
                 r += (r.empty() ? "" : ", ") + n;
               return r;
             }()},
        {"verbose", "", "print compile phases and times", 'v'}};
    for (const FlagSpec &r : recipeFlags())
      f.push_back(r);
    return f;
  }();
  static const Command c{"compile",
                         "compile a model to an object file and a C header",
                         flags, runCompile};
  return c;
}

} // namespace nn

//===- ReportCommand.cpp - nnc report -------------------------------------===//
///
/// \file
/// `nnc report model.nn -o report.html [--metrics FILE.csv] [--bench
/// FILE.json]`: one self-contained HTML page (inline CSS, inline SVG, one
/// small inline script; nothing fetched from the network) for a lecturer to
/// show: the summary table, the forward / backward / fused graphs (SVG from
/// Graphviz's dot, or the DOT text where dot is missing), the explain view
/// (and explain --scalar for a model small enough),
/// the generated code of each kernel (LLVM IR of the CPU backend, CUDA C of
/// the CUDA printer), the training curves of a run (the CSV of `nnc train
/// --metrics`) and the fused-vs-unfused table of `nnc bench --json`. A part
/// that cannot be shown says why and how to get it.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaPrinter.h"
#include "ir/Format.h"
#include "ir/KernelNames.h"
#include "ir/Printer.h"
#include "ir/Support.h"
#include "passes/MemoryPlan.h"
#include "runtime/AtomicFile.h"
#include "runtime/Json.h"
#include "runtime/OutputPaths.h"
#include "tools/Driver.h"
#include "tools/Explain.h"
#include "tools/Graphviz.h"
#include "tools/TrainingPlot.h"

#ifdef NNC_HAVE_CPU_BACKEND
#include "codegen/cpu/CpuBackend.h"
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace nn {

namespace {

std::string pre(const std::string &text, const std::string &cls = "") {
  return "<pre" + (cls.empty() ? "" : " class=\"" + cls + "\"") + ">" +
         htmlEscape(text) + "</pre>\n";
}

const char *kStyle = R"(
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 0 auto; max-width: 1200px; padding: 0 24px 48px; color: #222; }
h1 { margin-top: 24px; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: 4px; margin-top: 40px; }
nav a { margin-right: 14px; }
pre { background: #f6f8fa; padding: 10px; overflow-x: auto; font-size: 12px;
      line-height: 1.35; border-radius: 4px; }
.graph { overflow: auto; max-height: 900px; border: 1px solid #ddd;
         border-radius: 4px; margin-bottom: 16px; }
.graph svg { width: 100%; height: auto; cursor: zoom-in; }
.graph.natural svg { width: auto; cursor: zoom-out; }
.note { color: #555; font-style: italic; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 16px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f0f0f0; }
td.text { text-align: left; }
details { margin: 4px 0; }
summary { cursor: pointer; font-family: monospace; }
)";

/// Expand or collapse every <details>; marks the page ready when it ran.
const char *kScript = R"(
(function () {
  function setAll(open) {
    document.querySelectorAll('details').forEach(function (d) { d.open = open; });
  }
  document.getElementById('expand-all').addEventListener('click', function () { setAll(true); });
  document.getElementById('collapse-all').addEventListener('click', function () { setAll(false); });
  document.querySelectorAll('.graph').forEach(function (g) {
    g.addEventListener('click', function () { g.classList.toggle('natural'); });
  });
  document.body.setAttribute('data-ready', 'yes');
})();
)";

/// The SVG element of dot's output, without the XML prolog and doctype.
std::string inlineSvg(const std::string &svg) {
  size_t at = svg.find("<svg");
  return at == std::string::npos ? svg : svg.substr(at);
}

std::string graphSection(const LoadedModel &m, bool haveDot) {
  std::ostringstream os;
  os << "<section id=\"graphs\">\n<h2>Graphs</h2>\n";
  if (!haveDot)
    os << "<p class=\"note\">Graphviz's <code>dot</code> is not installed "
          "(Debian package graphviz): the graphs are shown as DOT text. "
          "Paste it into any Graphviz viewer, or install graphviz and run "
          "the report again.</p>\n";
  if (haveDot)
    os << "<p>Each graph is scaled to the page; click it for its natural "
          "size (scroll inside the frame), click again to fit.</p>\n";
  const std::pair<const char *, const char *> stages[] = {
      {"forward", "Forward: the model and its loss"},
      {"grad", "Backward: after autodiff (gradients in red), with the "
               "optimizer update"},
      {"fused", "Fused: the training step after CSE and DCE, each fused "
                "kernel a green cluster"}};
  for (const auto &[stage, title] : stages) {
    std::string dot = graphDot(m, stage, false);
    os << "<h3>" << htmlEscape(title)
       << "</h3>\n<div class=\"graph\" id=\"graph-" << stage << "\">";
    if (haveDot)
      os << inlineSvg(runDot(dot, "svg"));
    else
      os << pre(dot, "dot");
    os << "</div>\n";
  }
  os << "</section>\n";
  return os.str();
}

/// The LLVM IR functions of a module, by name.
std::map<std::string, std::string> llvmFunctions(const std::string &ir) {
  std::map<std::string, std::string> fns;
  std::istringstream is(ir);
  std::string line, name, body;
  while (std::getline(is, line)) {
    if (line.rfind("define ", 0) == 0) {
      size_t at = line.find('@');
      size_t paren = line.find('(', at);
      name = at == std::string::npos ? "" : line.substr(at + 1, paren - at - 1);
      body.clear();
    }
    if (!name.empty())
      body += line + "\n";
    if (!name.empty() && line == "}") {
      fns[name] = body;
      name.clear();
    }
  }
  return fns;
}

std::string codeSection(const LoadedModel &m) {
  Graph g = compileTo(m, Stage::Fused);
  std::ostringstream os;
  os << "<section id=\"code\">\n<h2>Generated code per kernel</h2>\n"
     << "<p>One kernel per node of the fused graph (<code>nnc emit "
        "--stage=fused</code>), for batch "
     << m.model.recipe.batch
     << ". <button id=\"expand-all\">expand all</button> <button "
        "id=\"collapse-all\">collapse all</button></p>\n";
  std::map<std::string, std::string> llvm;
#ifdef NNC_HAVE_CPU_BACKEND
  llvm = llvmFunctions(
      emitLlvmText(g, planMemory(g, m.model.recipe.batch), false));
  os << "<p>LLVM IR of the CPU backend before optimization (<code>nnc emit "
        "--stage=llvm</code>; the step function calls the kernels in "
        "order).</p>\n";
  if (auto it = llvm.find(g.name + "_step"); it != llvm.end())
    os << "<details><summary>@" << htmlEscape(it->first)
       << ": the training step</summary>\n"
       << pre(it->second, "llvm") << "</details>\n";
#else
  os << "<p class=\"note\">This nnc was built without the CPU backend (LLVM "
        "19 was not found at configure time): no LLVM IR.</p>\n";
#endif
  CudaSource cuda = printCuda(g);
  std::vector<std::string> cudaLines;
  {
    std::istringstream is(cuda.code);
    std::string line;
    while (std::getline(is, line))
      cudaLines.push_back(line);
  }
#ifdef NNC_HAVE_CUDA_BACKEND
  os << "<p>CUDA C++ of the CUDA backend (<code>nnc emit --stage=cuda</code>; "
        "compiled at run time by NVRTC).</p>\n";
#else
  os << "<p class=\"note\">This nnc was built without NVRTC: the CUDA C++ "
        "below is what the CUDA printer writes (<code>nnc emit "
        "--stage=cuda</code>), not compiled here.</p>\n";
#endif
  NodePrinter nodeText(g);
  std::vector<std::string> kernelName = kernelNames(g);
  for (NodeId id = 0; id < g.size(); ++id) {
    if (hasTrait(g[id].op, kLeaf))
      continue;
    std::string title = nodeText(id);
    os << "<details class=\"kernel\"><summary>" << htmlEscape(title)
       << "</summary>\n";
    // Its kernel, and the kernel group it leads (ir/KernelNames.h).
    const std::string &kernel = kernelName[static_cast<size_t>(id)];
    bool any = false;
    for (const std::string &name : {kernel, kernel + "_with_bias"})
      if (auto it = llvm.find(name); it != llvm.end()) {
        os << "<p>LLVM IR: @" << htmlEscape(name) << "</p>\n"
           << pre(it->second, "llvm");
        any = true;
      }
#ifdef NNC_HAVE_CPU_BACKEND
    if (!any)
      os << "<p class=\"note\">No LLVM function of its own: the CPU backend "
            "computes it inside another kernel (a kernel group) or the step "
            "function.</p>\n";
#endif
    if (const CudaKernel *k = cuda.kernelOf(id)) {
      std::string src;
      for (int l = k->firstLine; l <= k->lastLine &&
                                 l <= static_cast<int>(cudaLines.size());
           ++l)
        src += cudaLines[l - 1] + "\n";
      os << "<p>CUDA C++: " << htmlEscape(k->name) << "</p>\n"
         << pre(src, "cuda");
    }
    os << "</details>\n";
  }
  os << "</section>\n";
  return os.str();
}

std::string fmtNum(double v, int digits = 4) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string curvesSection(const LoadedModel &m,
                          const std::optional<std::string> &metrics) {
  std::ostringstream os;
  os << "<section id=\"training\">\n<h2>Training curves</h2>\n";
  if (!metrics) {
    os << "<p class=\"note\" id=\"no-curves\">No training run given. Train "
          "with <code>nnc train "
       << htmlEscape(m.path)
       << " --metrics run.csv</code> and make the report with "
          "<code>--metrics run.csv</code>.</p>\n</section>\n";
    return os.str();
  }
  TrainingCurves c = readMetricsCsv(*metrics);
  os << "<p>From <code>" << htmlEscape(*metrics) << "</code>, "
     << c.epoch.size() << (c.epoch.size() == 1 ? " epoch" : " epochs")
     << ".</p>\n"
     << "<div id=\"curves\">\n"
     << plotSvg(c, m.model.graph.name + ": loss and accuracy per epoch")
     << "</div>\n";
  if (!c.epoch.empty()) {
    size_t i = c.epoch.size() - 1;
    auto cell = [](double v, bool pct) {
      if (std::isnan(v))
        return std::string("-");
      return pct ? fmtNum(100 * v, 4) + "%" : fmtNum(v, 4);
    };
    os << "<table><tr><th>last epoch</th><th>train loss</th><th>train "
          "accuracy</th><th>validation loss</th><th>validation "
          "accuracy</th></tr>\n<tr><td>"
       << fmtNum(c.epoch[i], 6) << "</td><td>" << cell(c.trainLoss[i], false)
       << "</td><td>" << cell(c.trainAccuracy[i], true) << "</td><td>"
       << cell(c.valLoss[i], false) << "</td><td>"
       << cell(c.valAccuracy[i], true) << "</td></tr></table>\n";
  }
  os << "</section>\n";
  return os.str();
}

/// A JSON scalar as table text.
std::string jsonCell(const Json &v) {
  switch (v.kind) {
  case Json::Kind::Null:
    return "-";
  case Json::Kind::Bool:
    return v.boolean ? "true" : "false";
  case Json::Kind::Number: {
    double d = std::strtod(v.str.c_str(), nullptr);
    if (v.isUint)
      return withCommas(d);
    return fmtNum(d, 4);
  }
  case Json::Kind::String:
    return v.str;
  case Json::Kind::Array:
  case Json::Kind::Object:
    return "...";
  }
  return "";
}

const Json *field(const Json &obj, const std::string &key) {
  for (const JsonField &f : obj.fields)
    if (f.first == key)
      return &f.second;
  return nullptr;
}

/// An array of objects as a table: the given columns first (where present),
/// then any other keys in first-seen order.
std::string jsonTable(const Json &rows, std::vector<std::string> columns) {
  for (const Json &r : rows.items)
    for (const JsonField &f : r.fields)
      if (std::find(columns.begin(), columns.end(), f.first) == columns.end())
        columns.push_back(f.first);
  std::vector<std::string> used;
  for (const std::string &c : columns)
    for (const Json &r : rows.items)
      if (field(r, c)) {
        used.push_back(c);
        break;
      }
  std::ostringstream os;
  os << "<table><tr>";
  for (const std::string &c : used)
    os << "<th>" << htmlEscape(c) << "</th>";
  os << "</tr>\n";
  for (const Json &r : rows.items) {
    os << "<tr>";
    for (const std::string &c : used) {
      const Json *v = field(r, c);
      bool text = v && v->kind == Json::Kind::String;
      os << "<td" << (text ? " class=\"text\"" : "") << ">"
         << htmlEscape(v ? jsonCell(*v) : "") << "</td>";
    }
    os << "</tr>\n";
  }
  os << "</table>\n";
  return os.str();
}

std::string benchSection(const LoadedModel &m,
                         const std::optional<std::string> &bench) {
  std::ostringstream os;
  os << "<section id=\"bench\">\n<h2>Fused against unfused</h2>\n";
  if (!bench) {
    os << "<p class=\"note\" id=\"no-bench\">No benchmark given. Run "
          "<code>nnc bench "
       << htmlEscape(m.path)
       << " --json &gt; bench.json</code> and make the report with "
          "<code>--bench bench.json</code>.</p>\n</section>\n";
    return os.str();
  }
  std::string text = readFile(*bench);
  Json doc;
  try {
    doc = parseJsonFile(*bench, text);
  } catch (const UserError &e) {
    throw UserError(std::string(e.what()) + "\n" + *bench +
                    ": note: --bench takes the output of 'nnc bench MODEL "
                    "--json'");
  }
  if (doc.kind != Json::Kind::Object)
    throw UserError(*bench + ": error: expected a JSON object from nnc bench "
                             "--json, found " +
                    jsonKindName(doc.kind));
  const Json *results = field(doc, "results");
  if (!results || results->kind != Json::Kind::Array)
    throw UserError(*bench + ": error: no \"results\" array: not the output "
                             "of nnc bench --json");
  for (const Json &r : results->items)
    if (r.kind != Json::Kind::Object)
      throw UserError(*bench + ": error: \"results\" holds " +
                      jsonKindName(r.kind) + ", expected objects");
  os << "<p>From <code>" << htmlEscape(*bench) << "</code>:";
  for (const char *k : {"model", "backend", "threads", "cpu", "peak_gflops",
                        "repeats"})
    if (const Json *v = field(doc, k))
      os << " " << k << " <b>" << htmlEscape(jsonCell(*v)) << "</b>";
  os << ". Times are medians (min and max beside them); GFLOP/s and % of "
        "peak from the exact FLOP counts.</p>\n";
  const Json *ratios = field(doc, "ratios");
  if (ratios && ratios->kind == Json::Kind::Array &&
      !ratios->items.empty()) {
    os << "<h3>Unfused time / fused time</h3>\n"
       << jsonTable(*ratios, {"batch", "name", "unfused_over_fused"});
  }
  os << "<h3>Results</h3>\n"
     << jsonTable(*results,
                  {"batch", "fuse", "scope", "name", "median_s", "min_s",
                   "max_s", "flops", "gflops", "peak_pct", "bytes", "gbps"})
     << "</section>\n";
  return os.str();
}

/// explain --scalar for a model small enough, else why not.
std::string scalarSection(const LoadedModel &m) {
  std::ostringstream os;
  os << "<section id=\"scalar\">\n<h2>One training step, number by "
        "number</h2>\n";
  try {
    os << pre(explainScalar(m), "scalar");
  } catch (const UserError &e) {
    os << "<p class=\"note\">Not written out: " << htmlEscape(e.what())
       << "</p>\n";
  }
  os << "</section>\n";
  return os.str();
}

std::string reportHtml(const LoadedModel &m,
                       const std::optional<std::string> &metrics,
                       const std::optional<std::string> &bench) {
  // Read the inputs first: a bad file is an error before any work.
  std::string curves = curvesSection(m, metrics);
  std::string benchHtml = benchSection(m, bench);
  bool haveDot = findDot().has_value();
  std::string name = m.model.graph.name;
  std::ostringstream os;
  os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
        "charset=\"utf-8\">\n<title>nnc report: "
     << htmlEscape(name) << "</title>\n<style>" << kStyle
     << "</style>\n</head>\n<body>\n<h1>" << htmlEscape(name)
     << "</h1>\n<p>Made by <code>nnc report</code> from <code>"
     << htmlEscape(m.path)
     << "</code>. Self-contained: nothing on this page comes from the "
        "network.</p>\n<nav><a href=\"#summary\">summary</a><a "
        "href=\"#graphs\">graphs</a><a href=\"#explain\">explain</a><a "
        "href=\"#scalar\">one step</a><a href=\"#code\">code</a><a "
        "href=\"#training\">training</a><a "
        "href=\"#bench\">benchmark</a></nav>\n"
     << "<section id=\"source\">\n<h2>Model</h2>\n"
     << pre(m.text, "nn") << "</section>\n"
     << "<section id=\"summary\">\n<h2>Summary</h2>\n"
     << pre(summaryText(m), "summary") << "</section>\n"
     << graphSection(m, haveDot)
     << "<section id=\"explain\">\n<h2>Forward "
        "and backward, layer by layer</h2>\n"
     << pre(explainModel(m, -1), "explain") << "</section>\n"
     << scalarSection(m) << codeSection(m) << curves << benchHtml << "<script>"
     << kScript << "</script>\n</body>\n</html>\n";
  return os.str();
}

int runReport(const Args &args) {
  LoadedModel m = loadModel(args);
  applyRecipeFlags(args, m.model.recipe);
  auto out = args.get("output");
  if (!out)
    throw UserError("nnc: error: nnc report needs -o FILE.html");
  checkOutputPaths({{"the model", m.path},
                    {"--metrics", args.get("metrics").value_or("")},
                    {"--bench", args.get("bench").value_or("")}},
                   {{"--output", *out, "the report"}});
  std::string page = reportHtml(m, args.get("metrics"), args.get("bench"));
  writeFileAtomic(*out, page);
  std::cerr << "wrote " << *out << " (" << withCommas(page.size())
            << " bytes)\n";
  return 0;
}

} // namespace

const Command &reportCommand() {
  static const Command c = [] {
    std::vector<FlagSpec> flags = {
        {"output", "FILE", "the HTML page to write", 'o'},
        {"metrics", "FILE",
         "training curves: the CSV of nnc train --metrics"},
        {"bench", "FILE", "fused vs unfused timings: nnc bench --json"}};
    for (const FlagSpec &f : recipeFlags())
      flags.push_back(f);
    return Command{"report",
                   "one self-contained HTML page: summary, graphs, explain, "
                   "generated code, training curves, benchmark",
                   flags, runReport};
  }();
  return c;
}

} // namespace nn

//===- Report.cpp - The report page of a model ----------------------------===//
///
/// \file
/// The page and its text sections (model, summary, graphs, explain, one
/// step, training curves); the code and benchmark sections are in
/// ReportCode.cpp and ReportBench.cpp.
///
//===----------------------------------------------------------------------===//

#include "tools/teach/Report.h"
#include "tools/teach/Explain.h"
#include "tools/teach/Graphviz.h"
#include "tools/teach/ReportParts.h"
#include "tools/teach/Significant.h"
#include "tools/teach/TrainingPlot.h"

#include "ir/Format.h"
#include "ir/Support.h"

#include <fmt/format.h>

#include <cmath>
#include <sstream>

namespace nn {

std::string htmlPre(const std::string &text, const std::string &cls) {
  return "<pre" + (cls.empty() ? "" : " class=\"" + cls + "\"") + ">" +
         htmlEscape(text) + "</pre>\n";
}

namespace {

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
      os << htmlPre(dot, "dot");
    os << "</div>\n";
  }
  os << "</section>\n";
  return os.str();
}

/// Several runs' curves side by side (`--metrics a.csv --metrics b.csv`):
/// one plot, each run named by its file, and each run's last epoch.
std::string compareSection(const std::vector<std::string> &metrics) {
  std::vector<NamedCurves> runs;
  for (const std::string &path : metrics) {
    std::string name = path.substr(path.find_last_of('/') + 1);
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".csv") == 0)
      name.resize(name.size() - 4);
    runs.push_back({name, readMetricsCsv(path)});
  }
  std::ostringstream os;
  os << "<section id=\"training\">\n<h2>Training curves</h2>\n<p>"
     << runs.size() << " runs side by side, each in its colour: train "
        "solid, validation dashed.</p>\n<div id=\"curves\">\n"
     << plotCompareSvg(runs, "loss and accuracy per epoch") << "</div>\n"
     << "<table><tr><th>run</th><th>epochs</th><th>last train "
        "loss</th><th>last train accuracy</th></tr>\n";
  for (const NamedCurves &r : runs) {
    const TrainingCurves &c = r.curves;
    bool any = !c.epoch.empty();
    os << "<tr><td>" << htmlEscape(r.name) << "</td><td>" << c.epoch.size()
       << "</td><td>" << (any ? significant(c.trainLoss.back(), 4) : "-")
       << "</td><td>"
       << (any && !std::isnan(c.trainAccuracy.back())
               ? significant(100 * c.trainAccuracy.back(), 4) + "%"
               : "-")
       << "</td></tr>\n";
  }
  os << "</table>\n</section>\n";
  return os.str();
}

std::string curvesSection(const LoadedModel &m,
                          const std::vector<std::string> &metricsFiles) {
  if (metricsFiles.size() > 1)
    return compareSection(metricsFiles);
  std::optional<std::string> metrics;
  if (!metricsFiles.empty())
    metrics = metricsFiles[0];
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
      return pct ? significant(100 * v, 4) + "%" : significant(v, 4);
    };
    os << "<table><tr><th>last epoch</th><th>train loss</th><th>train "
          "accuracy</th><th>validation loss</th><th>validation "
          "accuracy</th></tr>\n<tr><td>"
       << significant(c.epoch[i], 6) << "</td><td>"
       << cell(c.trainLoss[i], false) << "</td><td>"
       << cell(c.trainAccuracy[i], true) << "</td><td>"
       << cell(c.valLoss[i], false) << "</td><td>"
       << cell(c.valAccuracy[i], true) << "</td></tr></table>\n";
  }
  os << "</section>\n";
  return os.str();
}

/// explain --scalar for a model small enough, else why not.
std::string scalarSection(const LoadedModel &m) {
  std::ostringstream os;
  os << "<section id=\"scalar\">\n<h2>One training step, number by "
        "number</h2>\n";
  try {
    os << htmlPre(explainScalar(m), "scalar");
  } catch (const UserError &e) {
    os << "<p class=\"note\">Not written out: " << htmlEscape(e.what())
       << "</p>\n";
  }
  os << "</section>\n";
  return os.str();
}

} // namespace

std::string reportHtml(const LoadedModel &m,
                       const std::vector<std::string> &metrics,
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
     << htmlPre(m.text, "nn") << "</section>\n"
     << "<section id=\"summary\">\n<h2>Summary</h2>\n"
     << htmlPre(summaryText(m), "summary") << "</section>\n"
     << graphSection(m, haveDot)
     << "<section id=\"explain\">\n<h2>Forward "
        "and backward, layer by layer</h2>\n"
     << htmlPre(explainModel(m, -1), "explain") << "</section>\n"
     << scalarSection(m) << codeSection(m) << curves << benchHtml << "<script>"
     << kScript << "</script>\n</body>\n</html>\n";
  return os.str();
}

} // namespace nn

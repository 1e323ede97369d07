//===- ReportBench.cpp - The report's fused-vs-unfused tables -------------===//

#include "tools/teach/ReportParts.h"
#include "tools/teach/Significant.h"

#include "ir/Format.h"
#include "ir/Support.h"
#include "runtime/Json.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace nn {

namespace {

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
    return significant(d, 4);
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

} // namespace

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
    throw UserError(*bench +
                    ": error: expected a JSON object from nnc bench "
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
  for (const char *k :
       {"model", "backend", "threads", "cpu", "peak_gflops", "repeats"})
    if (const Json *v = field(doc, k))
      os << " " << k << " <b>" << htmlEscape(jsonCell(*v)) << "</b>";
  os << ". Times are medians (min and max beside them); GFLOP/s and % of "
        "peak from the exact FLOP counts.</p>\n";
  const Json *ratios = field(doc, "ratios");
  if (ratios && ratios->kind == Json::Kind::Array && !ratios->items.empty()) {
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

} // namespace nn

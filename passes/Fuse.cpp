//===- Fuse.cpp - Running the fusion passes -------------------------------===//
///
/// \file
/// Algorithm: the enabled fusions run in a fixed order chosen so that each
/// sees the patterns it matches: conv first (its backward sweep takes the
/// activation gradients that feed convolution gradients, so dense-grad
/// neither sees nor logs them, and then its forward sweep fuses the
/// activations), dense-grad (it reads relu masks from the activation's
/// output, which frees the pre-activation for dense), then dense, the two
/// loss gradients, sgd, and elementwise last (it takes the elementwise ops
/// no other fusion claimed). Each pass rewrites in place;
/// one DCE at the end removes what they absorbed.
///
//===----------------------------------------------------------------------===//

#include "passes/Fuse.h"
#include "passes/DCE.h"

#include "ir/Support.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace nn {

/// The fusion table: every fusion, in the order the passes run.
const std::vector<FusionInfo> &fusionTable() {
  static const std::vector<FusionInfo> table = {
      {"conv", fuseConv},
      {"dense-grad", fuseDenseGrad},     {"dense", fuseDense},
      {"softmax-xent", fuseSoftmaxXent}, {"sigmoid-bce", fuseSigmoidBce},
      {"sgd", fuseSgd},                  {"elementwise", fuseElementwise}};
  return table;
}

const std::vector<std::string> &fusionNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const FusionInfo &f : fusionTable())
      out.push_back(f.name);
    return out;
  }();
  return names;
}

std::string fusionNameList() {
  return fmt::format("{}", fmt::join(fusionNames(), ", "));
}

namespace {

[[noreturn]] void badFusionList(const std::string &msg) {
  throw UserError("nnc: error: " + msg + "; fusions: all, none, " +
                  fusionNameList());
}

} // namespace

void checkFusionName(const std::string &name) {
  if (std::find(fusionNames().begin(), fusionNames().end(), name) !=
      fusionNames().end())
    return;
  std::string msg = "unknown fusion '" + name + "' in --fuse";
  std::string near = closestMatch(name, fusionNames());
  if (!near.empty())
    msg += " (did you mean '" + near + "'?)";
  badFusionList(msg);
}

std::set<std::string> parseFusionList(const std::string &spec) {
  if (spec == "all")
    return {fusionNames().begin(), fusionNames().end()};
  std::set<std::string> out;
  if (spec == "none")
    return out;
  if (spec.empty())
    badFusionList("empty --fuse");
  size_t start = 0;
  while (true) {
    size_t comma = spec.find(',', start);
    std::string name = spec.substr(start, comma == std::string::npos
                                              ? std::string::npos
                                              : comma - start);
    if (name.empty())
      badFusionList("empty fusion name in --fuse '" + spec + "'");
    if (name == "all" || name == "none")
      badFusionList("'" + name + "' cannot be part of a list in --fuse; give "
                    "it alone, or list the fusions");
    checkFusionName(name);
    out.insert(name);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return out;
}

std::string FusionLog::str() const {
  if (entries.empty())
    return "";
  std::string s = "# fusion log (%N numbers are node numbers of "
                  "--stage=opt):\n";
  for (const Entry &e : entries)
    s += "#   " + e.fusion + ": " + (e.fused ? "" : "[kept] ") + e.text +
         "\n";
  return s;
}

Graph fuse(const Graph &g, const std::set<std::string> &enabled,
           FusionLog &log) {
  Graph out = g;
  for (const FusionInfo &f : fusionTable())
    if (enabled.count(f.name))
      out = f.pass(out, log);
  return dce(out);
}

} // namespace nn

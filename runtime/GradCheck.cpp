//===- GradCheck.cpp - Gradient checks by central differences -------------===//
///
/// \file
/// Algorithm: differentiate the forward graph, run it once on the
/// interpreter for the analytic gradients, then for each checked parameter
/// element run the forward graph twice with the element moved by +eps and
/// -eps and take the central difference of the loss.
///
//===----------------------------------------------------------------------===//

#include "runtime/GradCheck.h"

#include "ir/Support.h"
#include "passes/Autodiff.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

namespace nn {

namespace {

/// The flat indices to check in a tensor of `n` elements: all, or `max`
/// spread evenly over [0, n-1] (first and last included).
std::vector<int64_t> chosenIndices(int64_t n, int max) {
  std::vector<int64_t> idx;
  if (max <= 0 || n <= max) {
    for (int64_t i = 0; i < n; ++i)
      idx.push_back(i);
    return idx;
  }
  if (max == 1)
    return {0};
  std::set<int64_t> seen;
  for (int64_t i = 0; i < max; ++i)
    seen.insert(i * (n - 1) / (max - 1));
  return {seen.begin(), seen.end()};
}

/// |x|, with NaN taken as +inf so that it is never "small".
double absOrInf(double x) {
  return std::isnan(x) ? std::numeric_limits<double>::infinity()
                       : std::fabs(x);
}

/// Whether `e` sits at a kink explained by one-sided differences `left` and
/// `right`: they disagree beyond the tolerance, and the analytic gradient
/// lies between them (within it). Records them in `e`.
bool isKink(GradCheckEntry &e, double left, double right, double atol,
            double rtol) {
  if (!std::isfinite(left) || !std::isfinite(right) ||
      !std::isfinite(e.analytic))
    return false;
  double tol = atol + rtol * std::max(std::fabs(left), std::fabs(right));
  if (std::fabs(left - right) <= tol)
    return false; // smooth here: a real mismatch
  e.left = left;
  e.right = right;
  return e.analytic >= std::min(left, right) - tol &&
         e.analytic <= std::max(left, right) + tol;
}

} // namespace

GradCheckReport gradCheck(const Graph &forward, const ValueMap &leaves,
                          int maxPerParam, double eps, double atol,
                          double rtol) {
  std::optional<NodeId> lossId = forward.output("loss");
  if (!lossId)
    throw UserError("error: gradient check needs an output 'loss'");
  Interpreter fwd(forward);
  Interpreter back(differentiate(forward, nullptr));
  Interpreter::Result grads = back.step(leaves);

  auto lossAt = [&](const ValueMap &l) { return fwd.run(l)[*lossId].data[0]; };
  const double at = lossAt(leaves);

  GradCheckReport rep;
  ValueMap moved = leaves;
  for (NodeId p : forward.leaves(OpKind::Param)) {
    if (forward[p].buffer)
      continue; // not differentiated (batch norm's running statistics)
    const std::string &name = forward[p].name;
    auto gradIt = grads.outputs.find("grad." + name);
    const Value *ana = gradIt == grads.outputs.end() ? nullptr
                                                     : &gradIt->second;
    auto leafIt = leaves.find(name);
    NN_ASSERT(leafIt != leaves.end(), "run() accepted a missing param");
    const Value &orig = leafIt->second;
    NN_ASSERT(!ana || ana->shape == orig.shape,
              "gradient of '" + name + "' has the wrong shape");
    Value &m = moved[name];
    for (int64_t i : chosenIndices(orig.numel(), maxPerParam)) {
      double x = orig.data[i];
      m.data[i] = x + eps;
      double up = lossAt(moved);
      m.data[i] = x - eps;
      double down = lossAt(moved);
      m.data[i] = x;
      GradCheckEntry e;
      e.param = name;
      e.index = i;
      e.numeric = (up - down) / (2 * eps);
      e.analytic = ana ? ana->data[i] : 0.0;
      double err = absOrInf(e.numeric - e.analytic);
      e.ok = err <= atol + rtol * std::fabs(e.numeric);
      if (!e.ok)
        e.kink = isKink(e, (at - down) / eps, (up - at) / eps, atol, rtol);
      e.ok |= e.kink;
      rep.kinks += e.kink ? 1 : 0;
      rep.failures += e.ok ? 0 : 1;
      if (e.kink) { // its central difference straddles the kink
        rep.entries.push_back(std::move(e));
        continue;
      }
      rep.maxAbsErr = std::max(rep.maxAbsErr, err);
      rep.maxRelErr =
          std::max(rep.maxRelErr, err / std::max(absOrInf(e.numeric), atol));
      rep.entries.push_back(std::move(e));
    }
  }
  return rep;
}

std::string formatGradCheck(const GradCheckReport &r, int maxLines) {
  std::string s;
  char buf[256];
  int shown = 0;
  std::set<std::string> params;
  for (const GradCheckEntry &e : r.entries) {
    params.insert(e.param);
    if (e.ok || shown >= maxLines)
      continue;
    ++shown;
    std::snprintf(buf, sizeof buf,
                  "FAIL %s[%lld]: analytic %.9g, numeric %.9g\n",
                  e.param.c_str(), static_cast<long long>(e.index), e.analytic,
                  e.numeric);
    s += buf;
  }
  if (r.failures > shown)
    s += "... and " + std::to_string(r.failures - shown) + " more\n";
  std::snprintf(
      buf, sizeof buf,
      "checked %zu elements of %zu params: %d failures%s, max abs "
      "err %.3g, max rel err %.3g\n",
      r.entries.size(), params.size(), r.failures,
      r.kinks ? (" (" + std::to_string(r.kinks) + " at kinks)").c_str() : "",
      r.maxAbsErr, r.maxRelErr);
  return s + buf;
}

} // namespace nn

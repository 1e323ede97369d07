//===- ScalarNormalize.cpp - The scalar view of layer_norm's rows ---------===//
///
/// \file
/// normalize and normalize_grad written element by element: each row's
/// mean and sqrt(var + eps) as the interpreter computes them
/// (interp::normalizeMoments), the element's formula with names and with
/// numbers, and the interpreter's value.
///
//===----------------------------------------------------------------------===//

#include "runtime/InterpKernels.h"
#include "runtime/ScalarWriter.h"

#include "ir/Printer.h"

namespace nn::scalar {

namespace {

/// "h[A,:]" for "h[A,3]": the element's row, its last index a colon.
std::string rowOf(const std::string &elem) {
  size_t cut = elem.find_last_of("[,");
  return cut == std::string::npos ? elem : elem.substr(0, cut + 1) + ":]";
}

} // namespace

void Writer::normalizeRows(NodeId id, bool grad) {
  const Node &n = g[id];
  NodeId x = n.inputs[grad ? 1 : 0];
  int64_t c = vals[x].shape.empty() ? 1 : vals[x].shape.back();
  int64_t rows = vals[x].numel() / std::max<int64_t>(c, 1);
  std::string eps = formatDouble(n.param);
  for (int64_t r = 0; r < rows; ++r) {
    auto [mean, s] = interp::normalizeMoments(vals[x], r, n.param);
    std::string xs = rowOf(elem(x, r * c));
    std::string sd = "sqrt(var(" + xs + ") + " + eps + ")";
    if (!grad) {
      for (int64_t j = 0; j < c; ++j)
        emit(id, r * c + j,
             {"(" + elem(x, r * c + j) + " - mean(" + xs + ")) / " + sd,
              "(" + num(at(x, r * c + j)) + " - " + num(mean) + ") / " +
                  num(s)});
      continue;
    }
    // dx = (dy - mean(dy) - xh * mean(dy * xh)) / s, xh = (x - mean) / s.
    NodeId dy = n.inputs[0];
    double meanDy = 0, meanDyXh = 0;
    for (int64_t j = 0; j < c; ++j) {
      meanDy += at(dy, r * c + j) / static_cast<double>(c);
      meanDyXh += at(dy, r * c + j) * ((at(x, r * c + j) - mean) / s) /
                  static_cast<double>(c);
    }
    std::string dys = rowOf(elem(dy, r * c));
    // normalize(h)[A,3]: x's element names with the op around the name.
    std::string name = nodeName(x);
    auto xh = [&](const std::string &e) {
      return "normalize(" + name + ")" + e.substr(name.size());
    };
    for (int64_t j = 0; j < c; ++j) {
      double xhj = (at(x, r * c + j) - mean) / s;
      emit(id, r * c + j,
           {"(" + elem(dy, r * c + j) + " - mean(" + dys + ") - " +
                xh(elem(x, r * c + j)) + " * mean(" + dys + " * " + xh(xs) +
                ")) / " + sd,
            "(" + num(at(dy, r * c + j)) + " - " + num(meanDy) + " - " +
                num(xhj) + " * " + num(meanDyXh) + ") / " + num(s)});
    }
  }
}

} // namespace nn::scalar

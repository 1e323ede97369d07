//===- ScalarRandom.cpp - The scalar view of dropout ----------------------===//
///
/// \file
/// Each element of a dropout written with its draw: "h[A,2] = h1[A,2] *
/// [u >= 0.2] / 0.8 = 0.53 * [0.734 >= 0.2] / 0.8 = 0.6625", u the uniform
/// number ir/Philox.h gives that element at this step, [.] 1 when it holds
/// (kept) and 0 when not (dropped). The value is the interpreter's, as for
/// every node; the gradient's dropout shows the same draws.
///
//===----------------------------------------------------------------------===//

#include "runtime/ScalarWriter.h"

#include "ir/Philox.h"
#include "ir/Printer.h"
#include "ir/Support.h"

namespace nn::scalar {

void Writer::random(NodeId id) {
  const Node &n = g[id];
  switch (member<RandomOp>(n.op)) {
  case RandomOp::Dropout: {
    NodeId x = n.inputs[0];
    uint32_t step = philox::stepWord(at(n.inputs[1], 0));
    double first = at(n.inputs[2], 0);
    int64_t width = philox::dropoutRowWidth(n.type);
    std::string p = formatDouble(n.param);
    std::string keepRate = formatDouble(1 - n.param);
    for (int64_t i = 0; i < vals[id].numel(); ++i) {
      double u = philox::uniform(
          philox::dropoutWord(n.seed, step, static_cast<uint32_t>(n.stream),
                              philox::globalIndex(first, width, i)));
      emit(id, i,
           {ref(x, i) + " * [u >= " + p + "] / " + keepRate,
            num(at(x, i)) + " * [" + scalarText(u) + " >= " + p + "] / " +
                keepRate});
    }
    return;
  }
  }
  NN_UNREACHABLE("bad RandomOp");
}

} // namespace nn::scalar

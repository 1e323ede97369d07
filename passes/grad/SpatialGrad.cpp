//===- SpatialGrad.cpp - Gradient rules of the spatial ops ----------------===//

#include "passes/grad/GradContext.h"

#include "ir/Support.h"

namespace nn {

void spatialGrad(GradContext &c, NodeId id, NodeId dy) {
  (void)dy;
  throw UserError(std::string("error: no gradient rule for '") +
                  mnemonic(c.g[id].op) + "' yet");
}

} // namespace nn

//===- ScalarSpatial.cpp - explain --scalar: convolution and pooling ------===//

#include "runtime/ScalarWriter.h"

#include "ir/Support.h"

namespace nn::scalar {

void Writer::spatial(NodeId id) {
  throw UserError(std::string("error: explain --scalar does not show '") +
                  mnemonic(g[id].op) + "' yet");
}

} // namespace nn::scalar

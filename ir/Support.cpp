//===- Support.cpp - Errors and assertions --------------------------------===//

#include "ir/Support.h"

namespace nn {

void reportInternalError(const char *file, int line, const std::string &msg) {
  throw InternalError(std::string(file) + ":" + std::to_string(line) + ": " +
                      msg);
}

} // namespace nn

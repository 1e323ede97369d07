//===- ParamInit.h - First values of parameters ----------------*- C++ -*-===//
///
/// \file
/// Initial values for every Param leaf (from its initializer, drawn from one
/// seeded stream in graph order) and, for every State leaf, its Node::values
/// when it has them (the learning rate "optimizer.lr"), else zeros.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Tensor.h"

#include <cstdint>

namespace nn {

/// He and Xavier are uniform: U(-sqrt(6/fan_in), +) and
/// U(-sqrt(6/(fan_in+fan_out)), +), with fan_in = dims[0] and fan_out =
/// dims[1] (1 for a vector) of the [in, out] weight; for a conv2d kernel
/// [out, in, kh, kw], fan_in = in*kh*kw and fan_out = out*kh*kw (PyTorch's
/// rule).
TensorMap initState(const Graph &g, uint64_t seed);

} // namespace nn

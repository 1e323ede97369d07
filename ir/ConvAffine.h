//===- ConvAffine.h - conv2d's operands and its folded batch norm -*- C++ -*-===//
///
/// \file
/// conv2d (ir/Ops.def) takes 2 to 5 operands:
///   [x, w]          y = act(conv(x, w))
///   [x, w, b]       y = act(b[o] + conv(x, w))
///   [x, w, s, t]    with a channel affine, batch norm in its evaluation
///   [x, w, b, s, t] form folded in by passes/FuseConv.cpp: per output
///                   channel o, a scale s[o] and a shift t[o], applied
///                   before the activation, y = act(z * s[o] + t[o]), or
///                   after it, y = act(z) * s[o] + t[o] (z = b[o] + conv).
/// Which of the two is the node's `affine` attribute ("before" or
/// "after", printed and parsed with the node). Until Node has a field of
/// its own for it, "after" is kept in Node::axis (kAffineAfterAct), which
/// conv2d does not otherwise use; only these helpers read or write it.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace nn {

/// Node::axis of a conv2d whose channel affine follows its activation.
constexpr int64_t kAffineAfterAct = 1;

/// The positions of conv2d's optional operands, -1 where absent.
struct ConvOperands {
  int bias = -1;
  int scale = -1;
  int shift = -1;
  bool hasAffine() const { return scale >= 0; }
};

/// The optional operands of conv2d `n` (by its operand count).
inline ConvOperands convOperands(const Node &n) {
  const int k = static_cast<int>(n.inputs.size());
  ConvOperands r;
  if (k == 3 || k == 5)
    r.bias = 2;
  if (k >= 4) {
    r.scale = k - 2;
    r.shift = k - 1;
  }
  return r;
}

/// Whether conv2d `n`'s channel affine follows its activation.
inline bool affineAfterAct(const Node &n) {
  return n.op == OpKind::Conv2d && n.axis == kAffineAfterAct;
}

/// Sets where conv2d `n`'s channel affine goes relative to its activation.
inline void setAffineAfterAct(Node &n, bool after) {
  n.axis = after ? kAffineAfterAct : -1;
}

} // namespace nn

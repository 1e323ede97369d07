//===- LayerText.h - Textbook equations of a layer -------------*- C++ -*-===//
///
/// \file
/// What `nnc explain` writes above a statement's equations when it
/// recognizes a dense layer, a layer_norm, a convolution, a pooling, a
/// batch norm or a loss: the equations as a textbook shows them (Z = X W +
/// b, dZ = dA * act'(Z), ...).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace nn {

/// The textbook equations of a dense layer among `ids` (the nodes of one
/// source line): matmul of a value by a weight Param, plus a bias Param,
/// optionally an activation; "" when there is none. `l2` > 0 adds the
/// penalty's gradient to dW.
std::string denseLayerText(const Graph &g, const std::vector<NodeId> &ids,
                           double l2);

/// The textbook equations of a layer_norm among `ids`: normalize of a
/// value, times a weight Param, plus a bias Param; "" when there is none
/// (NormText.cpp).
std::string layerNormText(const Graph &g, const std::vector<NodeId> &ids);

/// The forward and backward of a stable loss among `ids`, or "".
std::string lossText(const Graph &g, const std::vector<NodeId> &ids);

/// "kernel 3x3, stride 1, padding 1" (dilation and groups where they are
/// not 1, "act relu" where an activation is folded in) of a spatial op;
/// "" for an op with neither window nor activation (ConvText.cpp).
std::string windowText(const Node &n);

/// The input index that output index `i` reads at kernel tap `p` along
/// axis `a` (0 rows, 1 columns) of window `w`: "i+p-1" for padding 1,
/// "2i+p" for stride 2, "i+2p" for dilation 2 (ConvText.cpp).
std::string tapIndexText(const Window &w, int a, const char *i, const char *p);

/// The textbook equations of a conv2d layer among `ids` (the nodes of one
/// source line): conv2d of a value by a weight Param, optionally a bias
/// Param and an activation; its index form, output size, the gradients
/// (dW the correlation of X and dZ, db the sum of dZ, dX the transposed
/// convolution) and how often each weight is used; "" when there is none.
/// `l2` > 0 adds the penalty's gradient to dW (ConvText.cpp).
std::string convLayerText(const Graph &g, const std::vector<NodeId> &ids,
                          double l2);

/// The textbook equations of max or average pooling among `ids`, or ""
/// (PoolNormText.cpp).
std::string poolText(const Graph &g, const std::vector<NodeId> &ids);

/// The textbook equations of batch norm among `ids` (batch_normalize then
/// channel_affine by Params), training and evaluation forms, or ""
/// (PoolNormText.cpp).
std::string batchNormText(const Graph &g, const std::vector<NodeId> &ids);

/// The multiply-adds per sample of node `id` when it is a convolution or
/// one of its gradients (conv2d, conv2d_grad_input, conv2d_grad_weight),
/// else 0: C/groups * kh * kw per element of the forward op's output.
double convMultiplyAdds(const Graph &g, NodeId id);

/// How often a convolution uses each of its weights.
struct ConvReuse {
  std::string name;        ///< the weight Param's name
  int64_t weights = 0;     ///< its elements
  int64_t positions = 0;   ///< output positions per sample, Ho * Wo
  double multiplyAdds = 0; ///< per sample, forward: weights * positions
};

/// Every conv2d of `g` whose weight is a Param, in graph order.
std::vector<ConvReuse> convReuse(const Graph &g);

/// Lines (each indented by `indent`) saying that a convolution uses each
/// weight at every output position, with each conv layer's numbers, and
/// by what factor 6 x params undercounts its forward multiply-adds; "" for
/// a model without convolutions.
std::string convReuseText(const Graph &g, const std::string &indent);

} // namespace nn

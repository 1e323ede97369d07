//===- LayerNormModel.h - A model with layer_norm layers --------*- C++ -*-===//
///
/// \file
/// The text of a `.nn` model with two layer_norm layers, shared by the
/// interpreter, CPU and CUDA tests: rows 21 wide (two vectors of 8 and a
/// tail of 5) and 9 wide (one vector and a tail of 1), one with the default
/// eps and one with `eps = 0.01`, one after an activation expression; L2
/// on (it must leave the layer_norm params alone).
///
//===----------------------------------------------------------------------===//
#pragma once

#include <string>

namespace nn::test {

inline std::string layerNormModel() {
  return "model layer_norm_layers\n"
         "input x : f32[13]\n"
         "label y : class(4)\n"
         "h   = dense(x, 21, tanh)\n"
         "n1  = layer_norm(h)\n"
         "g   = dense(n1, 9)\n"
         "n2  = layer_norm(relu(g) * 2 - 1, eps = 0.01)\n"
         "out = dense(n2, 4)\n"
         "loss cross_entropy(softmax(out), y)\n"
         "train { data csv(\"d.csv\", label = \"y\") optimizer sgd(lr = 0.1, "
         "momentum = 0.9) batch 8 epochs 1 l2 0.01 }\n";
}

} // namespace nn::test

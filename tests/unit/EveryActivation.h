//===- EveryActivation.h - A model with every activation -------*- C++ -*-===//
///
/// \file
/// The text of a `.nn` model with one dense layer per activation of the op
/// table (the NN_ACTIVATION rows of ir/Ops.def), in table order, so the
/// backend tests check the fused forward and backward of every activation,
/// a new one included, without being edited. An activation with a slope
/// (leaky_relu) is written with 0.2, not its default, so a backend that
/// loses the slope fails.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Attributes.h"
#include "ir/Graph.h"

#include <string>

namespace nn::test {

inline std::string everyActivationModel() {
  static const int kWidths[] = {32, 16, 48, 24};
  std::string text = "model every_activation\ninput x : f32[20]\n"
                     "label y : class(7)\n";
  std::string prev = "x";
  int i = 0;
  for (Activation act : allActivations()) {
    std::string h = "h" + std::to_string(++i);
    text += h + " = dense(" + prev + ", " + std::to_string(kWidths[i % 4]) +
            ", " + activationName(act) +
            (hasSlope(opOf(activationOp(act))) ? "(0.2)" : "") + ")\n";
    prev = h;
  }
  text += "out = dense(" + prev + ", 7)\n"
          "loss cross_entropy(softmax(out), y)\n"
          "train { data csv(\"d.csv\", label = \"y\") optimizer sgd(lr = 0.1, "
          "momentum = 0.9) batch 13 epochs 1 l2 0.001 }\n";
  return text;
}

} // namespace nn::test

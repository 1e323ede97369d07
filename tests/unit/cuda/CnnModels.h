//===- CnnModels.h - Convolutional models for the CUDA tests ----*- C++ -*-===//
///
/// \file
/// The CNNs the CUDA tests train (emulated in CudaCnnTest, on a device in
/// CudaGpuTest): examples/fashion_cnn.nn with SGD, and a small net with
/// every layer kind of issue 16, each unfused and fused.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "CudaTestUtil.h"

namespace nn::cudatest {

/// Every layer kind of issue 16 at small odd sizes, trained by SGD.
inline const char *const kEveryLayer = R"(model every_layer
input x : f32[75]
label y : class(4)
r  = reshape(x, [3, 5, 5])
c1 = conv2d(r, 6, kernel = 3, stride = 2, padding = 1, relu)
b1 = batch_norm(c1)
c2 = conv2d(b1, 4, kernel = [3, 2], padding = [1, 0], groups = 2, sigmoid)
p1 = maxpool2d(c2, 2, stride = 1)
c3 = conv2d(r, 5, kernel = 5, padding = 2, tanh)
b3 = batch_norm(c3)
a3 = avgpool2d(b3, 3, stride = 2, padding = 1)
f1 = dense(flatten(p1), 7, relu)
f3 = dense(global_avgpool(a3), 7)
out = dense(f1 + f3, 4)
loss cross_entropy(softmax(out), y)
train { data csv("d.csv", label = "y") optimizer sgd(lr = 0.1, momentum = 0.9) batch 4 epochs 1 }
)";

/// examples/fashion_cnn.nn with SGD instead of Adam: Adam's first step is
/// lr * g / |g|, which turns float noise in a zero gradient into a whole
/// step; SGD keeps the comparison at float precision.
inline std::string fashionCnnSgd() {
  std::string t =
      readText(std::string(NNC_SOURCE_DIR) + "/examples/fashion_cnn.nn");
  const std::string adam = "adam(lr = 0.001)";
  size_t at = t.find(adam);
  EXPECT_NE(at, std::string::npos) << "fashion_cnn.nn changed its optimizer";
  if (at != std::string::npos)
    t.replace(at, adam.size(), "sgd(lr = 0.01, momentum = 0.9)");
  return t;
}

/// The CNN models, unfused and fused.
inline std::vector<Variant> cnnVariants() {
  std::vector<Variant> v;
  for (Stage stage : {Stage::Opt, Stage::Fused}) {
    std::string s = stage == Stage::Opt ? " unfused" : " fused";
    v.push_back({"every_layer" + s,
                 loadModelText("every.nn", kEveryLayer, stage)});
    v.push_back({"fashion_cnn" + s,
                 loadModelText("fashion_cnn.nn", fashionCnnSgd(), stage)});
  }
  return v;
}

} // namespace nn::cudatest

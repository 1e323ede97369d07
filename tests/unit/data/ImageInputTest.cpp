//===- ImageInputTest.cpp - Data for inputs of rank > 1 (images) ----------===//
///
/// \file
/// An input `f32[1, 28, 28]` takes IDX images (loaded as [n, 784]) and CSV
/// rows of 784 values: a batch is bound to the input as [b, 1, 28, 28],
/// the same values in the same row-major order (C, H, W), as PyTorch's
/// `x.view(-1, 1, 28, 28)`. Data of another sample size is an error naming
/// the file, the input and its shape.
///
//===----------------------------------------------------------------------===//

#include "DataTestUtil.h"

#include "frontend/Frontend.h"
#include "runtime/Batcher.h"
#include "runtime/Dataset.h"
#include "runtime/ParamInit.h"
#include "runtime/Trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace nn;
using namespace nn::testing;

namespace {

const char *kCnn = "input x : f32[1, 28, 28]\nlabel y : class(10)\n"
                   "c = conv2d(x, 2, kernel = 3)\n"
                   "out = dense(flatten(c), 10)\n"
                   "loss cross_entropy(softmax(out), y)\n";

Graph cnnGraph(const char *text = kCnn) {
  DiagEngine diags;
  std::optional<Model> m = parseModel("cnn.nn", text, diags);
  EXPECT_TRUE(m) << diags.str();
  return m ? m->graph : Graph{};
}

} // namespace

TEST(ImageInput, IdxImagesBindAsChannelsHeightWidth) {
  Dataset data = loadIdx(std::string(NNC_SOURCE_DIR) + "/tests/data/fashion-tiny");
  ASSERT_EQ(data.x.shape, (std::vector<int64_t>{256, 784}));
  Graph g = cnnGraph();
  Trainer(g, g, Recipe{}).checkData(data); // fits: 784 = 1 x 28 x 28
  Batcher batcher(data, {0, 1, 2, 3, 4}, 3, false, 0);
  Batch b = batcher.get(0, 1); // rows 3 and 4
  ASSERT_EQ(b.size, 2);
  TensorMap bound = bindBatch(g, b.x, b.y);
  const Tensor &x = bound.at("x");
  EXPECT_EQ(x.shape, (std::vector<int64_t>{2, 1, 28, 28}));
  for (int64_t i = 0; i < 2 * 784; ++i)
    ASSERT_EQ(x[i], data.x[3 * 784 + i]) << i;
  EXPECT_EQ(bound.at("y").shape, (std::vector<int64_t>{2}));
}

TEST(ImageInput, CsvRowsBindInTheInputsShape) {
  ScratchDir dir;
  std::string path = dir.path("img.csv");
  std::string text = "a,b,c,d,e,f,label\n";
  for (int r = 0; r < 2; ++r) {
    for (int i = 0; i < 6; ++i)
      text += std::to_string(r * 10 + i) + ",";
    text += std::to_string(r) + "\n";
  }
  writeBytes(path, text);
  Dataset data = loadCsv(path, "label");
  Graph g = cnnGraph("input x : f32[1, 2, 3]\nlabel y : class(2)\n"
                     "c = conv2d(x, 1, kernel = [2, 2])\n"
                     "out = dense(flatten(c), 2)\n"
                     "loss cross_entropy(softmax(out), y)\n");
  Trainer(g, g, Recipe{}).checkData(data);
  TensorMap bound = bindBatch(g, data.x, data.y);
  const Tensor &x = bound.at("x");
  EXPECT_EQ(x.shape, (std::vector<int64_t>{2, 1, 2, 3}));
  EXPECT_EQ(x[4], 4.0f);  // sample 0, row 1, column 1
  EXPECT_EQ(x[11], 15.0f); // sample 1, row 1, column 2
}

TEST(ImageInput, OtherSampleSizesAreAnErrorNamingTheFileAndShape) {
  ScratchDir dir;
  std::string path = dir.path("wide.csv");
  writeBytes(path, "a,b,c,label\n1,2,3,0\n");
  Dataset data = loadCsv(path, "label");
  Graph g = cnnGraph();
  EXPECT_USER_ERROR(Trainer(g, g, Recipe{}).checkData(data),
                    path + ": error: samples have 3 values, but input 'x' "
                           "(cnn.nn:1:7) takes 784 (1 x 28 x 28)");
}

// A conv2d layer's params draw nn.Conv2d's U(-1/sqrt(fan_in), +) with
// fan_in = C * kh * kw; a rank-4 param declared `he` or `xavier` takes its
// fans from [out, in, kh, kw] as PyTorch does (fan_in = in*kh*kw, fan_out =
// out*kh*kw), not from its first two dimensions.
TEST(ImageInput, ConvParamsDrawFromTheirFans) {
  Graph g = cnnGraph("input x : f32[4, 6, 6]\nlabel y : class(2)\n"
                     "param k : f32[2, 4, 3, 3] = he\n"
                     "param v : f32[2, 4, 3, 3] = xavier\n"
                     "c = conv2d(x, 2, kernel = 3)\n"
                     "out = dense(flatten(c), 2)\n"
                     "loss cross_entropy(softmax(out + sum(k) + sum(v)), y)\n");
  TensorMap init = initState(g, 7);
  auto range = [&](const std::string &name) {
    const Tensor &t = init.at(name);
    float lo = 0, hi = 0;
    for (float v : t.data)
      lo = std::min(lo, v), hi = std::max(hi, v);
    return std::pair(lo, hi);
  };
  struct Want {
    const char *name;
    double bound;
  } wants[] = {{"c.weight", 1 / std::sqrt(36.0)},
               {"c.bias", 1 / std::sqrt(36.0)},
               {"k", std::sqrt(6.0 / 36)},
               {"v", std::sqrt(6.0 / (36 + 18))}};
  for (const Want &w : wants) {
    auto [lo, hi] = range(w.name);
    EXPECT_GE(lo, -w.bound) << w.name;
    EXPECT_LE(hi, w.bound) << w.name;
    if (init.at(w.name).numel() > 10) // 72 draws reach past 3/4 of the bound
      EXPECT_GT(std::max(-lo, hi), 0.75 * w.bound) << w.name;
  }
}

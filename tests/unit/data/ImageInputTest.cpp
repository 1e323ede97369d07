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
#include "runtime/Trainer.h"

#include <gtest/gtest.h>

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

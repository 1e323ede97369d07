//===- ConvErrorsTest.cpp - CNN layers and functions: located errors ------===//
///
/// \file
/// Every misuse of conv2d, batch_norm, the pooling functions, flatten and
/// reshape is one error at the exact span that is wrong: a kernel larger
/// than the padded input, groups that do not divide the channels, conv2d
/// or maxpool2d on a non-image, a dense layer on an image (flatten it
/// first), bad window values, conv2d and batch_norm not bound to a name.
///
//===----------------------------------------------------------------------===//

#include "FrontendTestUtil.h"

#include <gtest/gtest.h>

using namespace nn;
using namespace nn::test;

namespace {

/// A model whose input is an image [N,3,6,6] (line 1) and whose line 3 is
/// `line`; `out` must be defined by it or after it.
std::string model(const std::string &line,
                  const std::string &rest = "out = dense(flatten(c), 2)\n") {
  return "input x : f32[3, 6, 6]\nlabel y : class(2)\n" + line + "\n" + rest +
         "loss cross_entropy(softmax(out), y)\n";
}

struct Located {
  std::string message;
  int line = 0, col = 0, len = 0;
};

/// The single error of `text`; an empty one (and a failure) otherwise.
Located onlyError(const std::string &text) {
  auto p = parseText(text);
  EXPECT_FALSE(p->model);
  std::vector<Diagnostic> errs = p->errors();
  EXPECT_EQ(errs.size(), 1u) << p->diags.str();
  if (errs.empty())
    return {};
  return {errs[0].message, errs[0].loc.line, errs[0].loc.col,
          errs[0].loc.len};
}

void expectError(const std::string &text, const std::string &msg, int line,
                 int col, int len) {
  Located e = onlyError(text);
  EXPECT_EQ(e.message, msg);
  EXPECT_EQ(e.line, line) << msg;
  EXPECT_EQ(e.col, col) << msg;
  EXPECT_EQ(e.len, len) << msg;
}

} // namespace

TEST(ConvErrors, KernelLargerThanPaddedInput) {
  expectError(model("c = conv2d(x, 4, kernel = 9, padding = 1)"),
              "'conv2d' kernel 9 x 9 is larger than its padded input 8 x 8", 3,
              27, 1);
  expectError(model("c = conv2d(x, 4, kernel = [3, 5], dilation = 2)"),
              "'conv2d' kernel 3 x 5 (dilation 2 x 2) is larger than its "
              "padded input 6 x 6",
              3, 27, 6);
  expectError(model("c = maxpool2d(x, 7)"),
              "'maxpool2d' kernel 7 x 7 is larger than its padded input "
              "6 x 6",
              3, 18, 1);
}

TEST(ConvErrors, GroupsMustDivideTheChannels) {
  expectError(model("c = conv2d(x, 4, kernel = 3, groups = 2)"),
              "'conv2d' groups 2 do not divide its 3 input and 4 output "
              "channels",
              3, 39, 1);
  expectError(model("c = conv2d(x, 3, kernel = 3, groups = 0)"),
              "groups must be a positive integer", 3, 39, 1);
}

TEST(ConvErrors, Conv2dNeedsAnImage) {
  std::string text = "input x : f32[12]\nlabel y : class(2)\n"
                     "c = conv2d(x, 4, kernel = 3)\n"
                     "out = dense(flatten(c), 2)\n"
                     "loss cross_entropy(softmax(out), y)\n";
  expectError(text,
              "'conv2d' expects a batch of images f32[N,C,H,W], but its "
              "input has type f32[N,12]",
              3, 12, 1);
  auto p = parseText(text);
  EXPECT_EQ(p->help(), "give the input its channels, height and width, as in "
                       "'input x : f32[1, 28, 28]', or reshape it, as in "
                       "'reshape(x, [1, 28, 28])'");
}

TEST(ConvErrors, MaxpoolOnAVector) {
  expectError("input x : f32[12]\nlabel y : class(2)\n"
              "h = dense(x, 4)\n"
              "p = maxpool2d(h, 2)\n"
              "out = dense(p, 2)\n"
              "loss cross_entropy(softmax(out), y)\n",
              "'maxpool2d' expects a batch of images f32[N,C,H,W], but its "
              "input has type f32[N,4]",
              4, 15, 1);
}

TEST(ConvErrors, DenseOnAnImageSaysFlattenItFirst) {
  auto p = parseText(model("c = conv2d(x, 4, kernel = 3)",
                           "out = dense(c, 2)\n"));
  std::vector<Diagnostic> errs = p->errors();
  ASSERT_EQ(errs.size(), 1u) << p->diags.str();
  EXPECT_EQ(errs[0].message, "'dense' expects a batch of vectors f32[N,k], "
                             "but its input has type f32[N,4,4,4]: flatten it "
                             "first");
  EXPECT_EQ(errs[0].loc.line, 4);
  EXPECT_EQ(errs[0].loc.col, 13);
  EXPECT_EQ(p->help(), "as in 'g = flatten(c)', then 'dense(g, 2)'");
}

TEST(ConvErrors, BadWindowValues) {
  std::string kernelMsg = "kernel must be a positive integer or a list [h, w] "
                          "of them, as in 'kernel = 3' or 'kernel = [3, 5]'";
  expectError(model("c = conv2d(x, 4, kernel = 0)"), kernelMsg, 3, 27, 1);
  expectError(model("c = conv2d(x, 4, kernel = [3, 0])"), kernelMsg, 3, 31, 1);
  expectError(model("c = conv2d(x, 4, kernel = [3, 3, 3])"), kernelMsg, 3, 27,
              9);
  expectError(model("c = conv2d(x, 4, kernel = 1.5)"), kernelMsg, 3, 27, 3);
  expectError(model("c = conv2d(x, 4, kernel = 3, padding = -1)"),
              "padding must be an integer >= 0 or a list [h, w] of them, as "
              "in 'padding = 3' or 'padding = [3, 5]'",
              3, 40, 2);
  expectError(model("c = conv2d(x, 4, kernel = 3, stride = 0)"),
              "stride must be a positive integer or a list [h, w] of them, "
              "as in 'stride = 3' or 'stride = [3, 5]'",
              3, 39, 1);
  expectError(model("c = conv2d(x, 0, kernel = 3)"),
              "the number of output channels must be a positive integer", 3,
              15, 1);
  expectError(model("c = conv2d(x, 4)"),
              "'conv2d' needs its kernel size, as in 'conv2d(x, 32, kernel = "
              "3)'",
              3, 5, 6);
  expectError(model("c = conv2d(x, 4, kernel = 3, bias = 0)"),
              "'bias' takes true or false", 3, 37, 1);
  expectError(model("c = conv2d(x, 4, kernel = 3, pad = 1)"),
              "unknown argument 'pad' for 'conv2d'", 3, 30, 3);
  expectError(model("c = conv2d(x, 4, kernel = 3, rleu)"),
              "unknown activation 'rleu'", 3, 30, 4);
  expectError(model("c = maxpool2d(x, 2, padding = 2)"),
              "'maxpool2d' padding must be at most half its kernel, and it "
              "has no groups",
              3, 18, 1);
  expectError(model("c = avgpool2d(x)"),
              "'avgpool2d' takes an input and a kernel size, as in "
              "'avgpool2d(x, 2)' or 'avgpool2d(x, [2, 3])'",
              3, 5, 9);
}

TEST(ConvErrors, LayersMustBeBoundToAName) {
  expectError(model("c = relu(conv2d(x, 4, kernel = 3))"),
              "'conv2d' creates a layer and must be bound to a name, as in "
              "'c1 = conv2d(x, 32, kernel = 3, relu)'",
              3, 10, 6);
  expectError(model("c = relu(batch_norm(x))"),
              "'batch_norm' creates a layer and must be bound to a name, as "
              "in 'b1 = batch_norm(c1)'",
              3, 10, 10);
}

TEST(ConvErrors, BatchNormArguments) {
  expectError(model("c = batch_norm(x, momentum = 2)"),
              "momentum must be a number in [0, 1], as in 'batch_norm(c1, "
              "momentum = 0.1)'",
              3, 30, 1);
  expectError(model("c = batch_norm(x, eps = 0)"),
              "eps must be a positive number, as in 'batch_norm(c1, eps = "
              "1e-5)'",
              3, 25, 1);
  expectError("input x : f32[3]\nlabel y : class(2)\n"
              "c = batch_norm(sum(x))\nout = dense(x, 2)\n"
              "loss cross_entropy(softmax(out), y)\n",
              "'batch_norm' normalizes each channel of a batch f32[N,C,H,W] "
              "or f32[N,C], but its input has type f32",
              3, 16, 3);
}

TEST(ConvErrors, FlattenAndReshape) {
  expectError(model("c = reshape(x, [3, 5, 6])"),
              "cannot reshape f32[N,3,6,6] to f32[N,3,5,6]: a sample holds "
              "108 values, not 90",
              3, 16, 9);
  expectError(model("c = reshape(x, 108)"),
              "'reshape' takes the shape of one sample as a list, as in "
              "'reshape(x, [1, 28, 28])'",
              3, 16, 3);
  expectError(model("c = reshape(x, [108, 0])"),
              "dimension must be a positive integer", 3, 22, 1);
  expectError("input x : f32[3]\nlabel y : class(2)\n"
              "c = flatten(sum(x))\nout = dense(x, 2)\n"
              "loss cross_entropy(softmax(out), y)\n",
              "'flatten' keeps the batch axis and flattens the others, so it "
              "needs f32[N,...] with at least one axis after N, but its input "
              "has type f32",
              3, 13, 3);
}

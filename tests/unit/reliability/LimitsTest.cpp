//===- LimitsTest.cpp - Explicit input limits, found by fuzzing -----------===//
///
/// \file
/// Each test is an input that crashed (stack overflow, signed overflow) or
/// stalled a reader before the limit existed; now each gets one clear error.
///
//===----------------------------------------------------------------------===//
#include "frontend/Frontend.h"
#include "ir/Diagnostics.h"
#include "ir/IRParser.h"
#include "ir/Support.h"
#include "ir/TensorLimits.h"
#include "passes/Pipeline.h"
#include "runtime/Idx.h"
#include "runtime/Safetensors.h"

#include <gtest/gtest.h>

#include <string>

namespace nn {
namespace {

std::string repeat(const std::string &s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out += s;
  return out;
}

/// A model whose prediction is `expr` (over input x : f32[2]).
std::string modelWith(const std::string &expr) {
  return "model m\ninput x : f32[2]\nlabel y : binary\n"
         "param v : f32[2] = zeros\np = " +
         expr + "\nloss bce(sigmoid(p @ v), y)\n";
}

/// The diagnostics of parsing and shape-checking `text`; "" when it is fine.
std::string diagnose(const std::string &text) {
  DiagEngine diags;
  diags.addSource("t.nn", text);
  try {
    std::optional<Model> m = parseModel("t.nn", text, diags);
    if (m)
      runPipeline(m->graph, m->recipe, Stage::Forward, {}, diags);
  } catch (const DiagnosedError &) {
  }
  return diags.hasErrors() ? diags.str() : "";
}

TEST(Limits, DeepParenthesesAreAnErrorNotAStackOverflow) {
  // 100,000 levels overflowed the parser's stack; 30,000 fit in a line.
  std::string d = diagnose(modelWith(repeat("(", 30000) + "x" +
                                     repeat(")", 30000)));
  EXPECT_NE(d.find("t.nn:5:"), std::string::npos) << d;
  EXPECT_NE(d.find("error: expression is nested too deeply (more than 256 "
                   "levels); split it into named steps"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("1 error generated"), std::string::npos) << d;
}

TEST(Limits, DeepCallsListsAndMinusSigns) {
  for (std::string expr :
       {repeat("relu(", 10000) + "x" + repeat(")", 10000),
        repeat("-", 60000) + "x",
        repeat("[", 30000) + "1" + repeat("]", 30000)}) {
    std::string d = diagnose(modelWith(expr));
    EXPECT_NE(d.find("nested too deeply"), std::string::npos) << d;
  }
}

TEST(Limits, LongOperatorChainsAreBounded) {
  // x + x + ... builds a left-leaning tree: 200,000 terms overflowed the
  // stack in the lowering and in the tree's destructor.
  std::string d = diagnose(modelWith("x" + repeat(" +\n x", 200000)));
  EXPECT_NE(d.find("nested too deeply"), std::string::npos) << d;
  // Reasonable expressions are untouched.
  EXPECT_EQ(diagnose(modelWith("x" + repeat(" + x", 100))), "");
  EXPECT_EQ(diagnose(modelWith(repeat("(", 60) + "x" + repeat(")", 60))), "");
}

TEST(Limits, OverlongLineIsOneError) {
  std::string d = diagnose(modelWith("x") + "# " + std::string(70000, 'a') +
                           "\n");
  EXPECT_NE(d.find("t.nn:7:65537: error: line is too long (70002 bytes; at "
                   "most 65536)"),
            std::string::npos)
      << d.substr(0, 300);
  EXPECT_NE(d.find("1 error generated"), std::string::npos);
}

TEST(Limits, TooManyStatements) {
  std::string text = "model m\ninput x : f32[2]\nlabel y : binary\nh0 = x\n";
  for (int i = 0; i < 10100; ++i)
    text += "h" + std::to_string(i + 1) + " = relu(h" + std::to_string(i) +
            ")\n";
  std::string d = diagnose(text);
  EXPECT_NE(d.find("t.nn:10001:1: error: too many statements (at most 10000 "
                   "in a file)"),
            std::string::npos)
      << d.substr(0, 400);
  // The loss after the limit was never read: not a second error.
  EXPECT_EQ(d.find("no 'loss' statement"), std::string::npos) << d.substr(0, 400);
  EXPECT_NE(d.find("1 error generated"), std::string::npos) << d.substr(0, 400);
}

TEST(Limits, HugeShapesAreRejectedBeforeAnyArithmetic) {
  // f32[2^32, 2^32] overflowed int64 when the initializer's size was
  // computed (UBSan: signed integer overflow in TensorType::numel).
  std::string d = diagnose("model m\ninput x : f32[2]\nlabel y : binary\n"
                           "param w : f32[4294967296, 4294967296] = [1]\n"
                           "p = sigmoid(x @ w)\nloss bce(p, y)\n");
  EXPECT_NE(d.find("t.nn:4:11: error: tensor f32[4294967296,4294967296] is "
                   "too large (more than 1 TiB of float32 data)"),
            std::string::npos)
      << d;
  // Exactly at the limit is fine; one element more is not.
  EXPECT_EQ(tensorBytes({int64_t(1) << 38}), kMaxTensorBytes);
  EXPECT_EQ(tensorBytes({(int64_t(1) << 38) + 1}), -1);
  EXPECT_EQ(tensorBytes({kBatch, 0, INT64_MAX}), 0);
  EXPECT_EQ(tensorBytes({INT64_MAX, INT64_MAX}), -1);
}

TEST(Limits, BroadcastingCannotBuildAHugeTensor) {
  // Each operand is small; their broadcast product is not.
  std::string d = diagnose(
      "model m\ninput x : f32[2]\nlabel y : binary\n"
      "param a : f32[1048576, 1] = zeros\nparam b : f32[1048576] = zeros\n"
      "param v : f32[2] = zeros\n"
      "c = a * b\np = sigmoid(x @ v + sum(c))\nloss bce(p, y)\n");
  EXPECT_NE(d.find("error: tensor f32[1048576,1048576] is too large"),
            std::string::npos)
      << d;
}

TEST(Limits, IRTextHugeShape) {
  DiagEngine diags;
  std::string text = "graph g {\n  %x = input \"x\" : "
                     "f32[N,4294967296,4294967296]\n}\n";
  diags.addSource("t.nnir", text);
  EXPECT_THROW(parseGraph("t.nnir", text, diags), DiagnosedError);
  EXPECT_NE(diags.str().find("t.nnir:2:"), std::string::npos) << diags.str();
  EXPECT_NE(diags.str().find("is too large (more than 1 TiB"),
            std::string::npos)
      << diags.str();
}

TEST(Limits, IdxHeaderClaimingHugeDataAllocatesNothing) {
  // 3 dimensions of 2^31-1: the header alone claims ~10^28 bytes.
  const uint8_t bytes[] = {0, 0, 0x08, 3, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff,
                           0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3};
  try {
    parseIdx("big.idx", bytes, sizeof bytes);
    FAIL() << "expected an error";
  } catch (const UserError &e) {
    EXPECT_NE(std::string(e.what()).find("big.idx: error: "),
              std::string::npos)
        << e.what();
  }
}

TEST(Limits, SafetensorsShapeWhoseByteCountOverflows) {
  // shape [2^62, 4] of F32: 2^66 bytes, which wraps to 0 in uint64; the data
  // offsets [0, 0] would match a wrapped size.
  std::string json = R"({"t":{"dtype":"F32","shape":[4611686018427387904,4],)"
                     R"("data_offsets":[0,0]}})";
  while (json.size() % 8)
    json += ' ';
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i)
    file[i] = static_cast<char>((json.size() >> (8 * i)) & 0xff);
  file += json;
  EXPECT_THROW(parseSafetensors("big.safetensors",
                                reinterpret_cast<const uint8_t *>(file.data()),
                                file.size()),
               UserError);
}

} // namespace
} // namespace nn

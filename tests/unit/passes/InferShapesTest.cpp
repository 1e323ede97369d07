//===- InferShapesTest.cpp - The shape rule of every op -------------------===//

#include "TestGraphs.h"

#include "ir/Support.h"
#include "passes/InferShapes.h"

#include <gtest/gtest.h>

using namespace nn;
using namespace nn::test;

namespace {

TensorType f32(std::vector<int64_t> d) { return TensorType::of(std::move(d)); }
TensorType i32(std::vector<int64_t> d) {
  return TensorType::of(std::move(d), DType::I32);
}

/// The type of `k(a, b...)` on leaves of these types (Params, so any type).
TensorType typeOf(OpKind k, std::vector<TensorType> operands,
                  int64_t axis = -1, int64_t classes = 0) {
  Graph g;
  std::vector<NodeId> ins;
  for (size_t i = 0; i < operands.size(); ++i)
    ins.push_back(leaf(g, OpKind::Param, "p" + std::to_string(i), operands[i]));
  Node n = makeNode(k, ins);
  n.axis = axis;
  n.classes = classes;
  g.add(n);
  DiagEngine d;
  return inferShapes(g, d).nodes.back().type;
}

/// The error message for `k(a, b...)`.
std::string errorOf(OpKind k, std::vector<TensorType> operands,
                    int64_t axis = -1, int64_t classes = 0) {
  Graph g;
  std::vector<NodeId> ins;
  for (size_t i = 0; i < operands.size(); ++i)
    ins.push_back(leaf(g, OpKind::Param, "p" + std::to_string(i), operands[i]));
  Node n = makeNode(k, ins, at(9, 4, 3));
  n.axis = axis;
  n.classes = classes;
  g.add(n);
  DiagEngine d;
  EXPECT_THROW(inferShapes(g, d), DiagnosedError) << mnemonic(k);
  return d.diagnostics().empty() ? "" : d.diagnostics()[0].message;
}

} // namespace

TEST(InferShapes, Broadcasting) {
  EXPECT_EQ(broadcastDims({kBatch, 3}, {3}), (std::vector<int64_t>{kBatch, 3}));
  EXPECT_EQ(broadcastDims({}, {kBatch, 3}), (std::vector<int64_t>{kBatch, 3}));
  EXPECT_EQ(broadcastDims({kBatch, 1}, {1, 5}),
            (std::vector<int64_t>{kBatch, 5}));
  EXPECT_EQ(broadcastDims({kBatch}, {kBatch}), (std::vector<int64_t>{kBatch}));
  EXPECT_FALSE(broadcastDims({kBatch, 3}, {4}));
  EXPECT_FALSE(broadcastDims({kBatch}, {5})); // N is not 5
  EXPECT_FALSE(broadcastDims({kBatch, 3}, {kBatch})); // [N] aligns with 3
}

TEST(InferShapes, ElementwiseOps) {
  for (OpKind k : {OpKind::Neg, OpKind::Exp, OpKind::Log, OpKind::Sigmoid,
                   OpKind::Relu, OpKind::Tanh, OpKind::Step})
    EXPECT_EQ(typeOf(k, {f32({kBatch, 7})}), f32({kBatch, 7})) << mnemonic(k);
  for (OpKind k : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div}) {
    EXPECT_EQ(typeOf(k, {f32({kBatch, 7}), f32({7})}), f32({kBatch, 7}));
    EXPECT_EQ(typeOf(k, {TensorType::scalar(), f32({kBatch})}), f32({kBatch}));
    EXPECT_EQ(errorOf(k, {f32({kBatch, 7}), f32({6})}),
              std::string("cannot broadcast f32[N,7] and f32[6] in '") +
                  mnemonic(k) + "'");
  }
  EXPECT_EQ(errorOf(OpKind::Exp, {i32({kBatch})}),
            "'exp' needs f32 operands, got i32[N]");
  EXPECT_EQ(errorOf(OpKind::Add, {f32({2}), i32({2})}),
            "'add' needs f32 operands, got i32[2]");
}

TEST(InferShapes, LinearAlgebra) {
  EXPECT_EQ(typeOf(OpKind::MatMul, {f32({kBatch, 784}), f32({784, 128})}),
            f32({kBatch, 128}));
  EXPECT_EQ(typeOf(OpKind::MatMul, {f32({kBatch, 2}), f32({2})}),
            f32({kBatch}));
  EXPECT_EQ(typeOf(OpKind::MatMul, {f32({4, kBatch}), f32({kBatch, 3})}),
            f32({4, 3}));
  EXPECT_EQ(errorOf(OpKind::MatMul, {f32({kBatch, 784}), f32({100, 10})}),
            "matmul shapes do not match: f32[N,784] @ f32[100,10]");
  EXPECT_EQ(errorOf(OpKind::MatMul, {f32({3}), f32({3, 2})}),
            "matmul shapes do not match: f32[3] @ f32[3,2]");
  EXPECT_EQ(typeOf(OpKind::Transpose, {f32({kBatch, 3})}), f32({3, kBatch}));
  EXPECT_EQ(errorOf(OpKind::Transpose, {f32({3})}),
            "transpose needs a matrix, got f32[3]");
  EXPECT_EQ(typeOf(OpKind::Expand, {f32({3}), f32({kBatch, 3})}),
            f32({kBatch, 3}));
  EXPECT_EQ(typeOf(OpKind::Expand, {TensorType::scalar(), f32({2, 3})}),
            f32({2, 3}));
  EXPECT_EQ(errorOf(OpKind::Expand, {f32({kBatch, 3}), f32({3})}),
            "cannot expand f32[N,3] to f32[3]");
}

TEST(InferShapes, Reductions) {
  for (OpKind k : {OpKind::Sum, OpKind::Mean, OpKind::Count}) {
    EXPECT_EQ(typeOf(k, {f32({kBatch, 5})}), TensorType::scalar());
    EXPECT_EQ(typeOf(k, {f32({kBatch, 5})}, 0), f32({5}));
    EXPECT_EQ(typeOf(k, {f32({kBatch, 5})}, 1), f32({kBatch}));
    EXPECT_EQ(errorOf(k, {f32({kBatch, 5})}, 2),
              std::string("'") + mnemonic(k) +
                  "' axis 2 is out of range for f32[N,5]");
  }
  EXPECT_EQ(typeOf(OpKind::Count, {i32({kBatch})}), TensorType::scalar());
}

TEST(InferShapes, RowsAndClasses) {
  EXPECT_EQ(typeOf(OpKind::Softmax, {f32({kBatch, 10})}), f32({kBatch, 10}));
  EXPECT_EQ(errorOf(OpKind::Softmax, {TensorType::scalar()}),
            "softmax needs an f32 tensor of rank 1 or more, got f32");
  EXPECT_EQ(errorOf(OpKind::Softmax, {f32({kBatch, 10})}, 0),
            "softmax is over the last axis only");
  EXPECT_EQ(typeOf(OpKind::OneHot, {i32({kBatch})}, -1, 10),
            f32({kBatch, 10}));
  EXPECT_EQ(errorOf(OpKind::OneHot, {f32({kBatch})}, -1, 10),
            "onehot needs class ids i32[N], got f32[N]");
  EXPECT_EQ(errorOf(OpKind::OneHot, {i32({kBatch})}, -1, 0),
            "onehot needs a positive number of classes");
}

TEST(InferShapes, Losses) {
  for (OpKind k : {OpKind::Bce, OpKind::BceLogits, OpKind::Mse}) {
    EXPECT_EQ(typeOf(k, {f32({kBatch, 1}), f32({kBatch})}),
              TensorType::scalar());
    EXPECT_EQ(typeOf(k, {f32({kBatch, 3}), f32({kBatch, 3})}),
              TensorType::scalar());
    EXPECT_EQ(errorOf(k, {f32({kBatch, 2}), f32({kBatch})}),
              std::string("'") + mnemonic(k) +
                  "' operands do not match: f32[N,2] and f32[N]");
    EXPECT_EQ(errorOf(k, {f32({2}), f32({kBatch, 2})}),
              std::string("'") + mnemonic(k) +
                  "' operands do not match: f32[2] and f32[N,2]");
  }
  for (OpKind k : {OpKind::CrossEntropy, OpKind::SoftmaxCrossEntropy}) {
    std::string m = std::string("'") + mnemonic(k) + "' ";
    EXPECT_EQ(typeOf(k, {f32({kBatch, 10}), i32({kBatch})}),
              TensorType::scalar());
    EXPECT_EQ(errorOf(k, {f32({kBatch}), i32({kBatch})}),
              m + "needs f32 scores [N,classes], got f32[N]");
    EXPECT_EQ(errorOf(k, {f32({kBatch, 10}), f32({kBatch})}),
              m + "needs class labels i32[N] for scores f32[N,10], got "
                  "f32[N]");
  }
}

TEST(InferShapes, ClassCountMustMatchTheLabel) {
  Graph g = mlpGraph();
  g[1].classes = 5; // the label says 5 classes, the scores have 3
  DiagEngine d;
  EXPECT_THROW(inferShapes(g, d), DiagnosedError);
  EXPECT_EQ(d.diagnostics()[0].message,
            "'cross_entropy' has 3 classes but label 'y' has 5");
}

TEST(InferShapes, ErrorPointsAtTheNodeWithNotesAtOperands) {
  Graph g = mlpGraph();
  // fc2's weight claims 9 inputs where fc1 gives 8.
  NodeId w = *g.findLeaf(OpKind::Param, "fc2.weight");
  g[w].type = TensorType::of({9, 3});
  DiagEngine d;
  d.addSource("t.nn",
              "\n\n\n\n\nfc1 = dense(x, 8, relu)\nfc2 = dense(fc1, 3)\n");
  EXPECT_THROW(inferShapes(g, d), DiagnosedError);
  EXPECT_EQ(d.str(),
            "t.nn:7:7: error: matmul shapes do not match: f32[N,8] @ "
            "f32[9,3]\n"
            "  fc2 = dense(fc1, 3)\n"
            "        ^~~~~\n"
            "t.nn:6:7: note: left operand has type f32[N,8]\n"
            "  fc1 = dense(x, 8, relu)\n"
            "        ^~~~~\n"
            "t.nn:7:1: note: right operand has type f32[9,3]\n"
            "  fc2 = dense(fc1, 3)\n"
            "  ^\n"
            "1 error generated.\n");
}

TEST(InferShapes, OneErrorPerMistake) {
  Graph g = mlpGraph();
  g[*g.findLeaf(OpKind::Param, "fc1.weight")].type = TensorType::of({5, 8});
  DiagEngine d;
  EXPECT_THROW(inferShapes(g, d), DiagnosedError);
  EXPECT_EQ(d.errorCount(), 1); // users of the bad matmul stay quiet
}

TEST(InferShapes, LeavesAndConsts) {
  Graph g;
  Node c = makeNode(OpKind::Const, {});
  c.values = {1, 2, 3};
  g.add(c);
  Node s = makeNode(OpKind::Const, {});
  s.values = {4};
  g.add(s);
  DiagEngine d;
  Graph out = inferShapes(g, d);
  EXPECT_EQ(out[0].type, TensorType::of({3}));
  EXPECT_EQ(out[1].type, TensorType::scalar());

  Graph bad;
  Node x = makeNode(OpKind::Input, {}, at(1, 7));
  x.name = "x"; // no type
  bad.add(x);
  EXPECT_THROW(inferShapes(bad, d), DiagnosedError);
  EXPECT_EQ(d.diagnostics()[0].message, "input 'x' has no declared type");
}

//===- OpsTest.cpp - Every op on the CPU backend, hand-built graphs -------===//
///
/// \file
/// Small graphs built by hand so that each op meets the shapes the examples
/// do not give it: broadcasting in every direction (flat and strided loops),
/// 3-D tensors, the batch dimension in the middle of a shape, matmul of
/// vectors, each form of expand, reductions over every axis, count, softmax
/// of a vector, every loss with class ids and with dense targets, constant
/// vectors; and IEEE special values (NaN through relu, log 0, sigmoid of
/// +-100). Each node is compared with the interpreter (1e-4 relative).
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"

#include "ir/Attributes.h"
#include "ir/Support.h"
#include "passes/InferShapes.h"

using namespace nn;
using namespace nn::test;

namespace {

/// A graph under construction, with values for its leaves.
struct Builder {
  Graph g;
  ValueMap leaves;
  int64_t batch = 5;
  uint64_t seed = 1;

  /// A leaf of kind `op` (Input or Param) with dims (kBatch allowed),
  /// filled with values in [lo, hi).
  NodeId leaf(OpKind op, const std::string &name, std::vector<int64_t> dims,
              double lo = -2, double hi = 2) {
    return addRandomLeaf(g, leaves, op, name, dims, batch, lo, hi, seed++);
  }
  NodeId input(const std::string &name, std::vector<int64_t> dims,
               double lo = -2, double hi = 2) {
    return leaf(OpKind::Input, name, std::move(dims), lo, hi);
  }
  NodeId param(const std::string &name, std::vector<int64_t> dims,
               double lo = -2, double hi = 2) {
    return leaf(OpKind::Param, name, std::move(dims), lo, hi);
  }
  /// A class label i32[N] with ids in [0, classes).
  NodeId classes(const std::string &name, int64_t classes) {
    Node n = makeNode(OpKind::Label, {});
    n.name = name;
    n.type = TensorType::of({kBatch}, DType::I32);
    n.labelKind = LabelKind::Class;
    n.classes = classes;
    NodeId id = g.add(n);
    Value v{{batch}, {}};
    for (int64_t i = 0; i < batch; ++i)
      v.data.push_back(static_cast<double>((i * 7 + 3) % classes));
    leaves[name] = v;
    return id;
  }
  NodeId constant(std::vector<double> values, std::vector<int64_t> dims = {}) {
    Node n = makeNode(OpKind::Const, {});
    n.values = std::move(values);
    n.type = TensorType::of(std::move(dims));
    return g.add(n);
  }
  NodeId op(OpKind k, std::vector<NodeId> in, int64_t axis = -1) {
    Node n = makeNode(k, std::move(in));
    n.axis = axis;
    return g.add(n);
  }
  /// A node typed by hand: for forms the interpreter evaluates but shape
  /// inference does not produce ([4] @ [4,3], dense class targets, ...).
  NodeId typed(OpKind k, std::vector<NodeId> in, std::vector<int64_t> dims,
               int64_t axis = -1) {
    Node n = makeNode(k, std::move(in));
    n.axis = axis;
    n.type = TensorType::of(std::move(dims));
    return g.add(n);
  }
  /// Makes `id` an output (so nothing is dead) and returns it.
  NodeId out(NodeId id) {
    g.outputs.push_back({"o" + std::to_string(g.outputs.size()), id});
    return id;
  }
  /// Infers types and checks every node on the CPU against the interpreter.
  /// With `infer` false every node must have been typed by hand.
  void check(const std::string &what, bool infer = true) {
    const double rtol = 1e-4;
    g.name = "ops";
    DiagEngine diags;
    Graph typed = g;
    try {
      if (infer)
        typed = inferShapes(g, diags);
    } catch (const DiagnosedError &) {
      FAIL() << what << ": " << diags.str();
    }
    checkAgainstInterpreter(typed, leaves, batch, batch + 3, rtol, what);
    checkAgainstInterpreter(typed, leaves, batch, batch, rtol, what + " -O0",
                            0);
  }
};

TEST(CpuOps, UnaryElementwise) {
  Builder b;
  NodeId x = b.input("x", {kBatch, 3}, -3, 3);
  NodeId pos = b.input("pos", {kBatch, 3}, 0.1, 4);
  // Every unary op of the table, a new one included: on mixed signs (NaN
  // where its domain ends, as the interpreter gives it) and on positives.
  int unary = 0;
  for (OpKind k : allOps())
    if (family(k) == OpFamily::Elementwise && opInfo(k).arity == 1) {
      // leaky_relu with slope 0.2 (Node::param), not the default 0.
      for (NodeId in : {x, pos}) {
        NodeId y = b.op(k, {in});
        b.g[y].param = hasSlope(k) ? 0.2 : 0.0;
        b.out(y);
      }
      ++unary;
    }
  EXPECT_GE(unary, 7);
  b.check("unary");
}

TEST(CpuOps, BroadcastingEveryWay) {
  Builder b;
  NodeId x = b.input("x", {kBatch, 3});
  NodeId row = b.param("row", {3});
  NodeId s = b.param("s", {});
  NodeId col = b.input("col", {kBatch, 1});
  NodeId cube = b.param("cube", {2, 1, 3});
  NodeId mat = b.param("mat", {4, 1});
  NodeId pos = b.param("pos", {3}, 0.5, 2);
  b.out(b.op(OpKind::Add, {x, row}));          // trailing: flat? no, strided
  b.out(b.op(OpKind::Mul, {s, x}));            // scalar: flat loop
  b.out(b.op(OpKind::Sub, {col, x}));          // [N,1] against [N,3]
  b.out(b.op(OpKind::Div, {x, pos}));          // [N,3] / [3]
  b.out(b.op(OpKind::Add, {cube, mat}));       // [2,1,3] + [4,1] -> [2,4,3]
  b.out(b.op(OpKind::Mul, {x, b.constant({0.5, -1, 2}, {3})})); // const row
  b.out(b.op(OpKind::Sub, {b.constant({1.5}), x}));              // inlined
  b.check("broadcast");
}

TEST(CpuOps, MatMulOfMatricesAndVectors) {
  Builder b;
  NodeId x = b.input("x", {kBatch, 4});
  NodeId w = b.param("w", {4, 3});
  NodeId v = b.param("v", {4});
  NodeId u = b.param("u", {kBatch});
  b.out(b.typed(OpKind::MatMul, {x, w}, {kBatch, 3}));
  b.out(b.typed(OpKind::MatMul, {x, v}, {kBatch}));   // [N,4] @ [4]
  b.out(b.typed(OpKind::MatMul, {v, w}, {3}));        // [4] @ [4,3]
  b.out(b.typed(OpKind::MatMul, {v, v}, {}));         // [4] @ [4]
  NodeId xt = b.out(b.typed(OpKind::Transpose, {x}, {4, kBatch}));
  b.out(b.typed(OpKind::MatMul, {xt, x}, {4, 4}));    // sums over N
  b.out(b.typed(OpKind::MatMul, {xt, u}, {4}));       // [4,N] @ [N]
  b.out(b.typed(OpKind::Transpose, {v}, {4}));        // 1-D: unchanged
  b.check("matmul", /*infer=*/false);
}

TEST(CpuOps, MatrixProductsAcrossBlocksAndLayouts) {
  // Shapes that cross the GEMM's blocks (depth 300 > 256 and 600: a
  // transposed a is then packed; rows 100 > 96 and the batch; 35 columns:
  // two whole 16-column panels and a partial one), in the three layouts of
  // training (A B, A^T B, A B^T, transposes read in place), split between
  // the pool's threads.
  Builder b;
  b.batch = 270; // x^T y sums over 270 (and 273) samples: two depth blocks
  NodeId a = b.param("a", {100, 300});
  NodeId at = b.param("at", {300, 100});
  NodeId w = b.param("w", {300, 35});
  NodeId wt = b.param("wt", {35, 300});
  NodeId x = b.input("x", {kBatch, 600});
  NodeId y = b.input("y", {kBatch, 35});
  b.out(b.typed(OpKind::MatMul, {a, w}, {100, 35}));
  NodeId ta = b.out(b.typed(OpKind::FusedMatMul, {at, w}, {100, 35}));
  b.g.nodes[static_cast<size_t>(ta)].transA = true;
  NodeId tb = b.out(b.typed(OpKind::FusedMatMul, {a, wt}, {100, 35}));
  b.g.nodes[static_cast<size_t>(tb)].transB = true;
  NodeId xy = b.out(b.typed(OpKind::FusedMatMul, {x, y}, {600, 35}));
  b.g.nodes[static_cast<size_t>(xy)].transA = true; // x^T y: depth = batch
  b.check("gemm blocks", /*infer=*/false);
}

TEST(CpuOps, ExpandEveryForm) {
  Builder b;
  NodeId x = b.input("x", {kBatch, 3});
  NodeId s = b.param("s", {});
  NodeId row = b.param("row", {3});
  NodeId rowSums = b.typed(OpKind::Sum, {x}, {kBatch}, 1);
  NodeId colSums = b.typed(OpKind::Sum, {x}, {3}, 0);
  std::vector<int64_t> nx = {kBatch, 3};
  b.out(b.typed(OpKind::Expand, {s, x}, nx));            // scalar
  b.out(b.typed(OpKind::Expand, {row, x}, nx));          // trailing
  b.out(b.typed(OpKind::Expand, {rowSums, x}, nx, 1));   // re-insert axis 1
  b.out(b.typed(OpKind::Expand, {colSums, x}, nx, 0));   // re-insert axis 0
  b.out(b.typed(OpKind::Expand, {rowSums, x}, nx));      // unmarked: axis 1
  b.out(b.typed(OpKind::Expand, {b.constant({2}), x}, nx));
  b.check("expand", /*infer=*/false);
}

TEST(CpuOps, ReductionsOverEveryAxis) {
  Builder b;
  NodeId x = b.input("x", {kBatch, 3});
  NodeId t = b.param("t", {2, 3, 4});
  NodeId mid = b.input("mid", {2, kBatch, 3});
  for (OpKind k : {OpKind::Sum, OpKind::Mean, OpKind::Count}) {
    b.out(b.op(k, {x}, -1));
    b.out(b.op(k, {x}, 0));
    b.out(b.op(k, {x}, 1));
    b.out(b.op(k, {t}, 1));
    b.out(b.op(k, {t}, 2));
    b.out(b.op(k, {mid}, 1)); // the batch in the middle of the shape
  }
  b.check("reductions");
}

TEST(CpuOps, SoftmaxAndOneHot) {
  Builder b;
  NodeId z = b.input("z", {kBatch, 5}, -20, 20);
  NodeId v = b.param("v", {5}, -3, 3);
  NodeId y = b.classes("y", 5);
  b.out(b.op(OpKind::Softmax, {z}));
  b.out(b.op(OpKind::Softmax, {v}));
  Node hot = makeNode(OpKind::OneHot, {y});
  hot.classes = 5;
  b.out(b.g.add(hot));
  b.check("softmax");
}

TEST(CpuOps, EveryLoss) {
  Builder b;
  NodeId p = b.input("p", {kBatch, 1}, 0.01, 0.99);
  NodeId pv = b.input("pv", {kBatch}, 0.01, 0.99);
  NodeId z = b.input("z", {kBatch, 1}, -30, 30);
  NodeId ybin = b.input("ybin", {kBatch}, 0, 1);
  std::vector<int64_t> n4 = {kBatch, 4};
  NodeId probs = b.typed(OpKind::Softmax, {b.input("logits", n4)}, n4);
  NodeId logits = b.input("z4", n4, -10, 10);
  NodeId ids = b.classes("ids", 4);
  NodeId dense = b.typed(OpKind::Softmax, {b.input("t", n4)}, n4);
  b.out(b.typed(OpKind::Bce, {p, ybin}, {}));       // [N,1] against [N]
  b.out(b.typed(OpKind::Bce, {pv, pv}, {}));
  b.out(b.typed(OpKind::BceLogits, {z, ybin}, {}));
  b.out(b.typed(OpKind::Mse, {p, pv}, {}));
  b.out(b.typed(OpKind::CrossEntropy, {probs, ids}, {}));
  b.out(b.typed(OpKind::CrossEntropy, {probs, dense}, {}));   // dense targets
  b.out(b.typed(OpKind::SoftmaxCrossEntropy, {logits, ids}, {}));
  b.out(b.typed(OpKind::SoftmaxCrossEntropy, {logits, dense}, {}));
  b.check("losses", /*infer=*/false);
}

TEST(CpuOps, SpecialValuesFollowTheInterpreter) {
  Builder b;
  b.batch = 6;
  NodeId x = b.input("x", {kBatch});
  b.leaves["x"].data = {std::nan(""), 0.0, -0.0, 100.0, -100.0, 1e-30};
  for (OpKind k : {OpKind::Relu, OpKind::Step, OpKind::Sigmoid, OpKind::Tanh,
                   OpKind::Log, OpKind::Neg})
    b.out(b.op(k, {x}));
  // bce on probabilities 0 and 1 with matching labels is 0 (0 log 0 = 0);
  // with the wrong label it is an honest +inf.
  NodeId p = b.input("p", {kBatch});
  b.leaves["p"].data = {0, 1, 0, 1, 0.5, 0.25};
  NodeId y = b.input("y", {kBatch});
  b.leaves["y"].data = {0, 1, 0, 1, 1, 0};
  NodeId yBad = b.input("ybad", {kBatch});
  b.leaves["ybad"].data = {1, 1, 0, 1, 1, 0};
  b.out(b.op(OpKind::Bce, {p, y}));
  b.out(b.op(OpKind::Bce, {p, yBad}));
  b.check("special values");
}

} // namespace

#endif // NNC_HAVE_CPU_BACKEND

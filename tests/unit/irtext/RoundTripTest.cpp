//===- RoundTripTest.cpp - print -> parse -> print ------------------------===//
///
/// \file
/// The IR text keeps every field of every node: graphs covering every op and
/// every Node field, odd names and numbers, print back identically and parse
/// to equal graphs.
///
//===----------------------------------------------------------------------===//

#include "../passes/TestGraphs.h"

#include "ir/Attributes.h"
#include "ir/IRParser.h"
#include "ir/Printer.h"
#include "ir/Support.h"
#include "ir/Verifier.h"
#include "passes/Autodiff.h"
#include "passes/InferShapes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

using namespace nn;
using namespace nn::test;

namespace {

bool sameDouble(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

bool sameValues(const std::vector<double> &a, const std::vector<double> &b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!sameDouble(a[i], b[i]))
      return false;
  return true;
}

void expectSameGraph(const Graph &a, const Graph &b) {
  EXPECT_EQ(a.name, b.name);
  ASSERT_EQ(a.size(), b.size());
  for (NodeId i = 0; i < a.size(); ++i) {
    const Node &x = a[i], &y = b[i];
    SCOPED_TRACE("node " + std::to_string(i));
    EXPECT_EQ(x.op, y.op);
    EXPECT_EQ(x.inputs, y.inputs);
    EXPECT_EQ(x.type, y.type);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.axis, y.axis);
    EXPECT_EQ(x.classes, y.classes);
    EXPECT_EQ(x.labelKind, y.labelKind);
    EXPECT_TRUE(sameValues(x.values, y.values));
    EXPECT_EQ(x.init.kind, y.init.kind);
    EXPECT_TRUE(sameDouble(x.init.a, y.init.a));
    EXPECT_TRUE(sameDouble(x.init.b, y.init.b));
    EXPECT_EQ(x.isWeight, y.isWeight);
    EXPECT_EQ(x.storedTransposed, y.storedTransposed);
    EXPECT_EQ(x.loc, y.loc);
    EXPECT_EQ(x.act, y.act);
    EXPECT_EQ(x.transA, y.transA);
    EXPECT_EQ(x.transB, y.transB);
    EXPECT_EQ(x.body, y.body);
    EXPECT_TRUE(sameDouble(x.param, y.param));
  }
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    EXPECT_EQ(a.outputs[i].name, b.outputs[i].name);
    EXPECT_EQ(a.outputs[i].node, b.outputs[i].node);
  }
  ASSERT_EQ(a.updates.size(), b.updates.size());
  for (size_t i = 0; i < a.updates.size(); ++i) {
    EXPECT_EQ(a.updates[i].target, b.updates[i].target);
    EXPECT_EQ(a.updates[i].value, b.updates[i].value);
  }
}

/// Prints, parses, prints again: the texts and graphs must agree.
void expectRoundTrip(const Graph &g) {
  std::string text = printGraph(g);
  DiagEngine diags;
  Graph back;
  try {
    back = parseGraph("rt.nnir", text, diags);
  } catch (const DiagnosedError &) {
    FAIL() << diags.str() << "\n" << text;
  }
  EXPECT_EQ(printGraph(back), text);
  expectSameGraph(g, back);
}

/// A graph with every op of Ops.def and every Node field set somewhere.
Graph everyOpGraph() {
  Graph g;
  g.name = "every_op";
  NodeId x = leaf(g, OpKind::Input, "x", TensorType::of({kBatch, 3}), at(1, 1));
  Node yl = makeNode(OpKind::Label, {}, at(2, 1, 4));
  yl.name = "y";
  yl.type = TensorType::of({kBatch}, DType::I32);
  yl.labelKind = LabelKind::Class;
  yl.classes = 3;
  NodeId y = g.add(yl);
  Node yb = makeNode(OpKind::Label, {}, at(3, 1));
  yb.name = "yb";
  yb.type = TensorType::of({kBatch, 3});
  yb.labelKind = LabelKind::Binary;
  NodeId ybin = g.add(yb);
  Node w = makeNode(OpKind::Param, {}, at(4, 2, 0));
  w.name = "w";
  w.type = TensorType::of({3, 3});
  w.init = {InitKind::Uniform, -0.25, 0.25};
  w.isWeight = true;
  w.storedTransposed = true;
  NodeId wid = g.add(w);
  Node v = makeNode(OpKind::Param, {}, at(5, 3, 7));
  v.name = "v";
  v.type = TensorType::of({3});
  v.init = {InitKind::Values, 0, 0};
  v.values = {0.1, -2.5e-300, 1e300};
  NodeId vid = g.add(v);
  Node s = makeNode(OpKind::State, {}, {});
  s.name = "optimizer.w.momentum";
  s.type = TensorType::of({3, 3});
  NodeId sid = g.add(s);
  for (InitKind k : {InitKind::Zeros, InitKind::Constant, InitKind::Normal,
                     InitKind::Xavier, InitKind::He}) {
    Node p = makeNode(OpKind::Param, {}, {});
    p.name = std::string("p_") + initName(k);
    p.type = TensorType::scalar();
    p.init = {k, k == InitKind::Zeros ? 0.0 : 0.5,
              k == InitKind::Normal ? 0.01 : 0.0};
    g.add(p);
  }
  NodeId c = constant(g, 0.1, at(6, 1));
  Node cv = makeNode(OpKind::Const, {}, {});
  cv.values = {1, 2, 3};
  cv.type = TensorType::of({3});
  NodeId cvec = g.add(cv);

  NodeId mm = op(g, OpKind::MatMul, {x, wid}, "", at(7, 5, 3));
  NodeId mv = op(g, OpKind::MatMul, {x, vid});
  NodeId a = op(g, OpKind::Add, {mm, vid});
  NodeId sb = op(g, OpKind::Sub, {a, c});
  NodeId mu = op(g, OpKind::Mul, {sb, cvec});
  NodeId dv = op(g, OpKind::Div, {mu, c});
  NodeId ng = op(g, OpKind::Neg, {dv});
  NodeId ex = op(g, OpKind::Exp, {ng});
  NodeId lg = op(g, OpKind::Log, {ex});
  NodeId sg = op(g, OpKind::Sigmoid, {lg}, "probs");
  NodeId rl = op(g, OpKind::Relu, {lg});
  NodeId th = op(g, OpKind::Tanh, {rl});
  NodeId st = op(g, OpKind::Step, {th});
  // Every unary elementwise op of the table, a new one included.
  for (OpKind k : allOps())
    if (family(k) == OpFamily::Elementwise && opInfo(k).arity == 1) {
      NodeId u = op(g, k, {th});
      if (hasSlope(k))
        g[u].param = 0.2; // leaky_relu's slope
    }
  NodeId tr = op(g, OpKind::Transpose, {st});
  NodeId en = op(g, OpKind::Expand, {vid, x});
  Node sum = makeNode(OpKind::Sum, {en});
  sum.axis = 0;
  NodeId su = g.add(sum);
  NodeId me = op(g, OpKind::Mean, {tr});
  Node cnt = makeNode(OpKind::Count, {x});
  cnt.axis = 1;
  NodeId co = g.add(cnt);
  NodeId sm = op(g, OpKind::Softmax, {mm});
  Node oh = makeNode(OpKind::OneHot, {y});
  oh.classes = 3;
  g.add(oh);
  // layer_norm's rows, each with its eps (Node::param).
  Node nz = makeNode(OpKind::Normalize, {mm});
  nz.param = 1e-5;
  NodeId nzid = g.add(nz);
  Node ngr = makeNode(OpKind::NormalizeGrad, {nzid, mm});
  ngr.param = 0.25;
  g.add(ngr);
  Node step = makeNode(OpKind::State, {}, {});
  step.name = "optimizer.step";
  step.type = TensorType::scalar();
  Node first = step;
  first.name = "optimizer.first_row";
  first.values = {0};
  NodeId stepId = g.add(step);
  Node drop =
      makeNode(OpKind::Dropout, {th, stepId, g.add(first)}, at(9, 5, 14));
  drop.param = 0.2;
  drop.seed = 42;
  drop.stream = 1;
  g.add(drop);
  NodeId l1 = op(g, OpKind::Bce, {sg, ybin});
  NodeId l2 = op(g, OpKind::BceLogits, {lg, ybin});
  NodeId l3 = op(g, OpKind::CrossEntropy, {sm, y});
  NodeId l4 = op(g, OpKind::SoftmaxCrossEntropy, {mm, y});
  NodeId l5 = op(g, OpKind::Mse, {mv, co});
  // The fused ops (Ops.def), with every activation and both transposes.
  auto fused = [&](OpKind k, std::vector<NodeId> ins, Activation act) {
    Node n = makeNode(k, std::move(ins), at(8, 2, 5));
    n.act = act;
    return g.add(n);
  };
  NodeId d1 = fused(OpKind::Dense, {x, wid, vid}, Activation::Relu);
  fused(OpKind::Dense, {x, vid, c}, Activation::None);
  Node ta = makeNode(OpKind::FusedMatMul, {x, mm});
  ta.transA = true;
  g.add(ta);
  Node tb = makeNode(OpKind::FusedMatMul, {mm, wid});
  tb.transB = true;
  g.add(tb);
  fused(OpKind::DenseGradInput, {mm, d1, wid}, Activation::Tanh);
  fused(OpKind::DenseGradWeight, {x, mm, d1}, Activation::Sigmoid);
  fused(OpKind::DenseGradBias, {mm, d1}, Activation::Relu);
  // leaky_relu's slope on a fused dense op and its gradient.
  NodeId d2 = fused(OpKind::Dense, {x, wid, vid}, Activation::LeakyRelu);
  g[d2].param = 0.05;
  NodeId d3 = fused(OpKind::DenseGradBias, {mm, d2}, Activation::LeakyRelu);
  g[d3].param = 0.05;
  fused(OpKind::DenseGradInput, {mm, mm, wid}, Activation::Gelu);
  fused(OpKind::SoftmaxXentGrad, {mm, y, c}, Activation::None);
  fused(OpKind::SigmoidBceGrad, {lg, ybin, c}, Activation::None);
  NodeId vel = fused(OpKind::SgdMomentum, {sid, wid, c}, Activation::None);
  fused(OpKind::Sgd, {wid, vel, c}, Activation::None);
  // Adam's three updates: moments of w, then the step with four scalars.
  NodeId m1 = fused(OpKind::AdamMoment, {wid, vel, c}, Activation::None);
  NodeId m2 = fused(OpKind::AdamVariance, {wid, vel, c}, Activation::None);
  fused(OpKind::Adam, {wid, m1, m2, c, c, c, c}, Activation::None);
  // sub(%0, mul(-0.5, exp(%1))) / step(%0), in post-order.
  Node ew = makeNode(OpKind::Elementwise, {x, vid});
  ew.body = {{OpKind::Const, {}, -0.5},  {OpKind::Exp, {1}, 0},
             {OpKind::Mul, {-1, -2}, 0}, {OpKind::Sub, {0, -3}, 0},
             {OpKind::Step, {0}, 0},     {OpKind::Div, {-4, -5}, 0}};
  g.add(ew);
  // leaky_relu(%0, slope = 0.3) * %1: a slope inside a body.
  Node lk = makeNode(OpKind::Elementwise, {x, vid});
  lk.body = {{OpKind::LeakyRelu, {0}, 0.3}, {OpKind::Mul, {-1, 1}, 0}};
  g.add(lk);

  // The spatial ops on an image [N,2,5,5], each window attribute set, and
  // reshape; batch norm's running statistics are buffers.
  NodeId img = leaf(g, OpKind::Input, "img", TensorType::of({kBatch, 2, 5, 5}));
  Node kw = makeNode(OpKind::Param, {}, {});
  kw.name = "c.weight";
  kw.type = TensorType::of({4, 1, 3, 2});
  NodeId kwid = g.add(kw);
  Node rm = makeNode(OpKind::Param, {}, {});
  rm.name = "b.running_mean";
  rm.type = TensorType::of({2});
  rm.buffer = true;
  NodeId rmid = g.add(rm);
  auto spatial = [&](OpKind k, std::vector<NodeId> ins, Window win,
                     std::vector<int64_t> shape = {}) {
    Node n = makeNode(k, std::move(ins));
    n.win = win;
    n.shape = std::move(shape);
    return g.add(n);
  };
  Window cw;
  cw.kernel[0] = 3, cw.kernel[1] = 2, cw.stride[0] = 2, cw.padding[1] = 1;
  cw.dilation[0] = 2, cw.groups = 2;
  NodeId cv2 = spatial(OpKind::Conv2d, {img, kwid}, cw);
  g[cv2].act = Activation::Relu;
  spatial(OpKind::Conv2dGradInput, {cv2, kwid, cv2}, cw, {kBatch, 2, 5, 5});
  spatial(OpKind::Conv2dGradWeight, {img, cv2}, cw);
  op(g, OpKind::ChannelSum, {cv2});
  op(g, OpKind::ChannelMean, {img});
  op(g, OpKind::ChannelVar, {img});
  op(g, OpKind::ChannelAffine, {img, rmid, rmid});
  Node bn = makeNode(OpKind::BatchNormalize, {img, rmid, rmid});
  bn.param = 1e-5;
  NodeId bnid = g.add(bn);
  Node bng = makeNode(OpKind::BatchNormalizeGrad, {bnid, img});
  bng.param = 1e-3;
  g.add(bng);
  Window pw;
  pw.kernel[0] = pw.kernel[1] = pw.stride[0] = pw.stride[1] = 2;
  NodeId mp = spatial(OpKind::MaxPool2d, {img}, pw);
  spatial(OpKind::MaxPool2dGrad, {mp, img}, pw);
  pw.padding[0] = 1;
  NodeId ap = spatial(OpKind::AvgPool2d, {img}, pw);
  spatial(OpKind::AvgPool2dGrad, {ap}, pw, {kBatch, 2, 5, 5});
  spatial(OpKind::Reshape, {img}, {}, {kBatch, 50});

  NodeId t = op(g, OpKind::Add, {l1, l2});
  t = op(g, OpKind::Add, {t, l3});
  t = op(g, OpKind::Add, {t, l4});
  t = op(g, OpKind::Add, {t, l5});
  t = op(g, OpKind::Add, {t, me});
  NodeId loss = op(g, OpKind::Add, {t, op(g, OpKind::Sum, {su})}, "loss");
  g.outputs.push_back({"loss", loss});
  g.outputs.push_back({"pred", sg});
  g.updates.push_back({sid, wid});
  g.updates.push_back({wid, sid});
  return g;
}

} // namespace

TEST(RoundTrip, EveryOpAndField) {
  Graph g = everyOpGraph();
  std::vector<bool> seen(allOps().size(), false);
  for (const Node &n : g.nodes)
    seen[static_cast<size_t>(n.op)] = true;
  for (OpKind k : allOps())
    EXPECT_TRUE(seen[static_cast<size_t>(k)]) << mnemonic(k);
  expectRoundTrip(g); // types unknown: printed as `?`
  DiagEngine d;
  Graph typed = inferShapes(g, d);
  EXPECT_TRUE(verifyGraph(typed).empty());
  expectRoundTrip(typed);
}

TEST(RoundTrip, ForwardAndBackwardGraphs) {
  DiagEngine d;
  for (Graph g : {mlpGraph(), churnGraph()}) {
    Graph typed = inferShapes(g, d);
    expectRoundTrip(typed);
    expectRoundTrip(differentiate(typed));
    OptimizerSpec opt;
    opt.lr = 0.05;
    opt.momentum = 0.9;
    expectRoundTrip(differentiate(typed, &opt));
  }
}

TEST(RoundTrip, OddNamesAndNumbers) {
  Graph g;
  g.name = "a graph \"with\" quotes";
  leaf(g, OpKind::Input, "x y", TensorType::of({kBatch, 2}));
  leaf(g, OpKind::Input, "", TensorType::of({2}));
  leaf(g, OpKind::Label, "tab\there\nnl\\", TensorType::of({kBatch}));
  leaf(g, OpKind::Param, "caf\xc3\xa9\x01", TensorType::scalar());
  NodeId a = op(g, OpKind::Neg, {0}, "3"); // a name that looks like an index
  NodeId b = op(g, OpKind::Neg, {a}, "dup");
  NodeId c = op(g, OpKind::Neg, {b}, "dup");
  NodeId d = op(g, OpKind::Neg, {c}, "x y");
  NodeId e = op(g, OpKind::Neg, {d}, "%weird");
  NodeId f = op(g, OpKind::Neg, {e}, "x"); // same as no leaf, unique
  NodeId h = op(g, OpKind::Neg, {f}, "_under.score9");
  const double kInf = std::numeric_limits<double>::infinity();
  for (double v : {0.0, -0.0, 0.1, 1.0 / 3, -1e-310, 1e308, 5e-324, kInf,
                   -kInf, std::numeric_limits<double>::quiet_NaN(),
                   123456789012345678.0})
    g.add([&] {
      Node n = makeNode(OpKind::Const, {});
      n.values = {v};
      return n;
    }());
  Node multi = makeNode(OpKind::Const, {});
  multi.values = {};
  g.add(multi);
  g.outputs.push_back({"weird output", h});
  g.outputs.push_back({"", a});
  SrcLoc odd{"dir/with \"quote\".nn", 12, 3, 0};
  g[b].loc = odd;
  g[c].loc = {"", 0, 0, 5};
  g[d].loc = {"f.nn", 1, 1, 1000};
  expectRoundTrip(g);
}

TEST(RoundTrip, LocationsCanBeLeftOut) {
  DiagEngine d;
  Graph g = inferShapes(churnGraph(), d);
  PrintOptions noLoc;
  noLoc.locations = false;
  std::string text = printGraph(g, noLoc);
  EXPECT_EQ(text.find("loc("), std::string::npos);
  EXPECT_NE(printGraph(g).find("loc(\"t.nn\":10:5-13)"), std::string::npos);
  Graph back = parseGraph("x.nnir", text, d);
  EXPECT_EQ(printGraph(back, noLoc), text);
  EXPECT_FALSE(back[0].loc.valid());
}

TEST(RoundTrip, ReadableForm) {
  DiagEngine d;
  Graph g = inferShapes(mlpGraph(), d);
  PrintOptions noLoc;
  noLoc.locations = false;
  std::string text = printGraph(g, noLoc);
  EXPECT_NE(text.find("graph mlp {\n  %x = input \"x\" : f32[N,4]\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  %fc1.weight = param \"fc1.weight\" {init = he, "
                      "weight, transposed} : f32[4,8]\n"),
            std::string::npos);
  EXPECT_NE(text.find("  %4 = matmul %x, %fc1.weight : f32[N,8]\n"),
            std::string::npos);
  EXPECT_NE(text.find("  %y = label \"y\" {classes = 3, kind = class} : "
                      "i32[N]\n"),
            std::string::npos);
  EXPECT_NE(text.find("  output loss = %loss\n  output pred = %11\n}\n"),
            std::string::npos);
}

TEST(RoundTrip, CommentsAndSpacing) {
  DiagEngine d;
  Graph g = parseGraph("c.nnir",
                       "# RUN: something\n"
                       "graph g{   # a comment\n"
                       "%a=param \"a\"{init=constant(2)}:f32[2,3]#x\n"
                       "  %b = sum %a {axis = 1} : ?\n"
                       "output loss=%b update %a <- %a }\n",
                       d);
  ASSERT_EQ(g.size(), 2);
  EXPECT_EQ(g[0].init.kind, InitKind::Constant);
  EXPECT_EQ(g[0].init.a, 2.0);
  EXPECT_EQ(g[1].axis, 1);
  EXPECT_EQ(g[1].name, "b");
  EXPECT_FALSE(g[1].type.known);
  EXPECT_EQ(g.updates.size(), 1u);
}

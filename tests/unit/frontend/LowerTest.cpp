//===- LowerTest.cpp - .nn files to graph and recipe ----------------------===//

#include "FrontendTestUtil.h"

#include <gtest/gtest.h>

using namespace nn;
using namespace nn::test;

namespace {

std::unique_ptr<Parsed> parseExample(const std::string &name) {
  std::string path = "examples/" + name;
  return parseText(readSource(path), path);
}

} // namespace

TEST(Lower, ChurnNeuron) {
  auto p = parseExample("churn.nn");
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = p->model->graph;
  EXPECT_EQ(g.name, "churn");

  NodeId x = *g.findLeaf(OpKind::Input, "x");
  EXPECT_EQ(g[x].type, TensorType::of({kBatch, 2}));
  EXPECT_EQ(g[x].loc.line, 5);
  EXPECT_EQ(g[x].loc.col, 7);

  NodeId y = *g.findLeaf(OpKind::Label, "y");
  EXPECT_EQ(g[y].type, TensorType::of({kBatch}));
  EXPECT_EQ(g[y].labelKind, LabelKind::Binary);

  NodeId w = *g.findLeaf(OpKind::Param, "w");
  EXPECT_EQ(g[w].type, TensorType::of({2}));
  EXPECT_EQ(g[w].init.kind, InitKind::Values);
  EXPECT_EQ(g[w].values, (std::vector<double>{0.1, 0.5}));
  EXPECT_TRUE(g[w].isWeight); // right operand of @
  EXPECT_FALSE(g[w].storedTransposed);

  NodeId b = *g.findLeaf(OpKind::Param, "b");
  EXPECT_EQ(g[b].type, TensorType::scalar());
  EXPECT_EQ(g[b].values, (std::vector<double>{0.4}));
  EXPECT_FALSE(g[b].isWeight);

  // z = x @ w + b: the Add is named z, located at '+', the MatMul at '@'.
  NodeId z = nodeNamed(g, "z");
  ASSERT_GE(z, 0);
  EXPECT_EQ(g[z].op, OpKind::Add);
  EXPECT_EQ(g[z].loc, (SrcLoc{"examples/churn.nn", 11, 11, 1}));
  NodeId mm = g[z].inputs[0];
  EXPECT_EQ(g[mm].op, OpKind::MatMul);
  EXPECT_EQ(g[mm].inputs, (std::vector<NodeId>{x, w}));
  EXPECT_EQ(g[mm].loc, (SrcLoc{"examples/churn.nn", 11, 7, 1}));
  EXPECT_EQ(g[z].inputs[1], b);

  NodeId pn = nodeNamed(g, "p");
  EXPECT_EQ(g[pn].op, OpKind::Sigmoid);
  EXPECT_EQ(g[pn].loc, (SrcLoc{"examples/churn.nn", 12, 5, 7}));

  NodeId loss = *g.output("loss");
  EXPECT_EQ(g[loss].op, OpKind::Bce);
  EXPECT_EQ(g[loss].inputs, (std::vector<NodeId>{pn, y}));
  EXPECT_EQ(*g.output("pred"), pn);
  EXPECT_EQ(g.outputs.size(), 2u);

  const Recipe &r = p->model->recipe;
  EXPECT_EQ(r.data.format, DataSource::Format::Csv);
  EXPECT_EQ(r.data.path, "data/churn.csv"); // kept relative
  EXPECT_EQ(r.data.labelColumns, std::vector<std::string>{"keep"});
  EXPECT_EQ(r.data.loc.line, 16);
  EXPECT_EQ(r.test.format, DataSource::Format::None);
  EXPECT_DOUBLE_EQ(r.optimizer.lr, 0.02);
  EXPECT_DOUBLE_EQ(r.optimizer.momentum, 0.0);
  EXPECT_EQ(r.batch, 5);
  EXPECT_EQ(r.epochs, 100);
  EXPECT_EQ(r.loc.line, 15);
}

TEST(Lower, MnistMlp) {
  auto p = parseExample("mnist_mlp.nn");
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = p->model->graph;
  EXPECT_EQ(g.name, "mnist_mlp");
  NodeId y = *g.findLeaf(OpKind::Label, "y");
  EXPECT_EQ(g[y].type, TensorType::of({kBatch}, DType::I32));
  EXPECT_EQ(g[y].labelKind, LabelKind::Class);
  EXPECT_EQ(g[y].classes, 10);

  struct Layer {
    const char *name;
    int64_t in, out;
    InitKind init;
    OpKind act;
  };
  const Layer layers[] = {{"fc1", 784, 128, InitKind::He, OpKind::Relu},
                          {"fc2", 128, 64, InitKind::He, OpKind::Relu},
                          {"fc3", 64, 10, InitKind::Xavier, OpKind::Add}};
  int64_t params = 0;
  NodeId prev = *g.findLeaf(OpKind::Input, "x");
  for (const Layer &l : layers) {
    SCOPED_TRACE(l.name);
    std::string n = l.name;
    NodeId w = *g.findLeaf(OpKind::Param, n + ".weight");
    NodeId b = *g.findLeaf(OpKind::Param, n + ".bias");
    EXPECT_EQ(g[w].type, TensorType::of({l.in, l.out}));
    EXPECT_EQ(g[w].init.kind, l.init);
    EXPECT_TRUE(g[w].isWeight);
    EXPECT_TRUE(g[w].storedTransposed);
    EXPECT_EQ(g[b].type, TensorType::of({l.out}));
    EXPECT_EQ(g[b].init.kind, InitKind::Zeros);
    EXPECT_FALSE(g[b].isWeight);
    EXPECT_FALSE(g[b].storedTransposed);
    params += l.in * l.out + l.out;

    NodeId out = nodeNamed(g, n);
    EXPECT_EQ(g[out].op, l.act);
    EXPECT_EQ(g[out].type, TensorType::of({kBatch, l.out}));
    NodeId add = l.act == OpKind::Add ? out : g[out].inputs[0];
    EXPECT_EQ(g[add].op, OpKind::Add);
    EXPECT_EQ(g[add].inputs[1], b);
    NodeId mm = g[add].inputs[0];
    EXPECT_EQ(g[mm].op, OpKind::MatMul);
    EXPECT_EQ(g[mm].name, n + ".matmul");
    EXPECT_EQ(g[mm].inputs, (std::vector<NodeId>{prev, w}));
    // Every node of the layer points at its `dense` call.
    EXPECT_EQ(g[mm].loc.col, 7);
    EXPECT_EQ(g[mm].loc.len, 5);
    prev = out;
  }
  EXPECT_EQ(params, 109386); // the lecture's count

  NodeId loss = *g.output("loss");
  EXPECT_EQ(g[loss].op, OpKind::CrossEntropy);
  NodeId pred = *g.output("pred");
  EXPECT_EQ(g[pred].op, OpKind::Softmax);
  EXPECT_EQ(g[pred].inputs[0], prev);
  EXPECT_EQ(g[loss].inputs, (std::vector<NodeId>{pred, y}));

  const Recipe &r = p->model->recipe;
  EXPECT_EQ(r.data.format, DataSource::Format::Idx);
  EXPECT_EQ(r.data.path, "/usr/share/datasets/fashion-mnist/train");
  EXPECT_EQ(r.test.path, "/usr/share/datasets/fashion-mnist/t10k");
  EXPECT_EQ(r.test.loc.line, 14);
  EXPECT_DOUBLE_EQ(r.optimizer.lr, 0.05);
  EXPECT_DOUBLE_EQ(r.optimizer.momentum, 0.9);
  EXPECT_EQ(r.batch, 64);
  EXPECT_EQ(r.epochs, 10);
  EXPECT_DOUBLE_EQ(r.l2, 1e-4);
  EXPECT_DOUBLE_EQ(r.validation, 0.1);
  EXPECT_EQ(r.seed, 42u);
  EXPECT_TRUE(r.shuffle);
  EXPECT_TRUE(r.earlyStop.enabled);
  EXPECT_EQ(r.earlyStop.patience, 3);
  EXPECT_DOUBLE_EQ(r.earlyStop.minDelta, 0.001);
  EXPECT_TRUE(r.earlyStop.restoreBest);
}

TEST(Lower, XorExamples) {
  for (const char *name : {"xor.nn", "xor_neuron.nn"}) {
    SCOPED_TRACE(name);
    auto p = parseExample(name);
    ASSERT_TRUE(p->model) << p->diags.str();
    const Graph &g = p->model->graph;
    NodeId out = nodeNamed(g, "out");
    EXPECT_EQ(g[out].op, OpKind::Add); // no activation
    NodeId pred = *g.output("pred");
    EXPECT_EQ(g[pred].op, OpKind::Sigmoid);
    EXPECT_EQ(g[pred].inputs[0], out);
    EXPECT_EQ(g[*g.output("loss")].op, OpKind::Bce); // no rewrite here
    EXPECT_EQ(p->model->recipe.data.labelColumns,
              std::vector<std::string>{"y"});
    EXPECT_EQ(p->model->recipe.seed, 1u);
  }
  auto p = parseExample("xor.nn");
  const Graph &g = p->model->graph;
  NodeId w = *g.findLeaf(OpKind::Param, "hidden.weight");
  EXPECT_EQ(g[w].type, TensorType::of({2, 4}));
  EXPECT_EQ(g[w].init.kind, InitKind::Xavier); // tanh
  EXPECT_EQ(g[nodeNamed(g, "hidden")].op, OpKind::Tanh);
}

TEST(Lower, DefaultModelNameIsTheFileStem) {
  auto p = parseText("input x : f32\nlabel y : real\nloss mse(x, y)\n",
                     "dir/my_model.nn");
  ASSERT_TRUE(p->model) << p->diags.str();
  EXPECT_EQ(p->model->graph.name, "my_model");
  const Graph &g = p->model->graph;
  EXPECT_EQ(g[*g.findLeaf(OpKind::Input, "x")].type, TensorType::of({kBatch}));
  // No train block: the Recipe's defaults.
  EXPECT_EQ(p->model->recipe.batch, Recipe().batch);
  EXPECT_EQ(*g.output("pred"), *g.findLeaf(OpKind::Input, "x"));
}

TEST(Lower, LabelKinds) {
  auto p = parseText("input x : f32[3]\nlabel a : real[3]\nlabel b : real\n"
                     "label c : class(4)\nloss mse(x, a)\n");
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = p->model->graph;
  NodeId a = *g.findLeaf(OpKind::Label, "a");
  EXPECT_EQ(g[a].type, TensorType::of({kBatch, 3}));
  EXPECT_EQ(g[a].labelKind, LabelKind::Real);
  EXPECT_EQ(g[*g.findLeaf(OpKind::Label, "b")].type, TensorType::of({kBatch}));
  NodeId c = *g.findLeaf(OpKind::Label, "c");
  EXPECT_EQ(g[c].classes, 4);
  EXPECT_EQ(g[c].type.dtype, DType::I32);
}

TEST(Lower, ParamInitializers) {
  auto p = parseText(R"(input x : f32[2]
label y : real[3]
param a : f32[2, 3] = [[1, 2, 3], [4, 5, 6]]
param b : f32[2, 3] = [1, 2, 3, 4, 5, -6]
param c : f32[3] = zeros
param d : f32[3] = constant(0.1)
param e : f32[2, 3] = uniform(-0.1, 0.1)
param f : f32[2, 3] = normal(0, 0.01)
param g : f32[2, 3] = xavier
param h : f32[2, 3] = he
param i : f32[2, 3]
param j : f32[3]
param k : f32 = -2
loss mse(x @ a + c, y)
)");
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = p->model->graph;
  auto param = [&](const char *n) -> const Node & {
    return g[*g.findLeaf(OpKind::Param, n)];
  };
  EXPECT_EQ(param("a").values, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(param("a").init.kind, InitKind::Values);
  EXPECT_EQ(param("b").values, (std::vector<double>{1, 2, 3, 4, 5, -6}));
  EXPECT_EQ(param("c").init.kind, InitKind::Zeros);
  EXPECT_EQ(param("d").init.kind, InitKind::Constant);
  EXPECT_DOUBLE_EQ(param("d").init.a, 0.1);
  EXPECT_EQ(param("e").init.kind, InitKind::Uniform);
  EXPECT_DOUBLE_EQ(param("e").init.a, -0.1);
  EXPECT_DOUBLE_EQ(param("e").init.b, 0.1);
  EXPECT_EQ(param("f").init.kind, InitKind::Normal);
  EXPECT_DOUBLE_EQ(param("f").init.a, 0);
  EXPECT_DOUBLE_EQ(param("f").init.b, 0.01);
  EXPECT_EQ(param("g").init.kind, InitKind::Xavier);
  EXPECT_EQ(param("h").init.kind, InitKind::He);
  EXPECT_EQ(param("i").init.kind, InitKind::Xavier); // default, rank 2
  EXPECT_EQ(param("j").init.kind, InitKind::Zeros);  // default, rank 1
  EXPECT_EQ(param("k").values, (std::vector<double>{-2}));
  EXPECT_EQ(param("k").type, TensorType::scalar());
  EXPECT_TRUE(param("a").isWeight);
  EXPECT_FALSE(param("c").isWeight);
}

TEST(Lower, ExpressionsPrecedenceAndCalls) {
  auto p = parseText(R"(input x : f32[2]
label y : real
param w : f32[2]
s = sum(x * x, axis = 1) / 2 - mean(exp(-x)) + -0.5
q = tanh(relu(log(x)))
loss mse(s, y) + 0.5 * mse(sum(q, axis = 1), y)
)");
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = p->model->graph;
  // s = ((sum(x*x)/2) - mean(exp(-x))) + (-0.5)
  NodeId s = nodeNamed(g, "s");
  ASSERT_EQ(g[s].op, OpKind::Add);
  EXPECT_EQ(g[g[s].inputs[1]].op, OpKind::Const);
  EXPECT_EQ(g[g[s].inputs[1]].values, (std::vector<double>{-0.5}));
  EXPECT_EQ(g[g[s].inputs[1]].loc.len, 4); // "-0.5"
  NodeId sub = g[s].inputs[0];
  ASSERT_EQ(g[sub].op, OpKind::Sub);
  NodeId div = g[sub].inputs[0];
  ASSERT_EQ(g[div].op, OpKind::Div);
  NodeId sum = g[div].inputs[0];
  EXPECT_EQ(g[sum].op, OpKind::Sum);
  EXPECT_EQ(g[sum].axis, 1);
  EXPECT_EQ(g[g[sum].inputs[0]].op, OpKind::Mul);
  NodeId mean = g[sub].inputs[1];
  EXPECT_EQ(g[mean].op, OpKind::Mean);
  EXPECT_EQ(g[mean].axis, -1);
  NodeId ex = g[mean].inputs[0];
  EXPECT_EQ(g[ex].op, OpKind::Exp);
  EXPECT_EQ(g[g[ex].inputs[0]].op, OpKind::Neg);
  EXPECT_FALSE(g[*g.findLeaf(OpKind::Param, "w")].isWeight); // unused

  NodeId q = nodeNamed(g, "q");
  EXPECT_EQ(g[q].op, OpKind::Tanh);
  EXPECT_EQ(g[g[q].inputs[0]].op, OpKind::Relu);

  // loss = mse(s, y) + 0.5 * mse(...); pred = s.
  NodeId loss = *g.output("loss");
  EXPECT_EQ(g[loss].op, OpKind::Add);
  EXPECT_EQ(g[loss].name, "loss");
  EXPECT_EQ(g[g[loss].inputs[0]].op, OpKind::Mse);
  EXPECT_EQ(g[g[loss].inputs[1]].op, OpKind::Mul);
  EXPECT_EQ(*g.output("pred"), s);
}

TEST(Lower, MatMulBindsLikeMultiplication) {
  auto p = parseText("input x : f32[2]\nlabel y : real\nparam w : f32[2]\n"
                     "param v : f32\nloss mse(2 * x @ w * v, y)\n");
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = p->model->graph;
  // ((2 * x) @ w) * v, left to right.
  NodeId mse = *g.output("loss");
  NodeId mul = g[mse].inputs[0];
  ASSERT_EQ(g[mul].op, OpKind::Mul);
  NodeId mm = g[mul].inputs[0];
  ASSERT_EQ(g[mm].op, OpKind::MatMul);
  EXPECT_EQ(g[g[mm].inputs[0]].op, OpKind::Mul);
}

TEST(Lower, LogitLossesPredictProbabilities) {
  auto p = parseText("input x : f32[4]\nlabel y : class(4)\n"
                     "z = dense(x, 4)\nloss softmax_cross_entropy(z, y)\n");
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = p->model->graph;
  NodeId pred = *g.output("pred");
  EXPECT_EQ(g[pred].op, OpKind::Softmax);
  EXPECT_EQ(g[pred].inputs[0], nodeNamed(g, "z"));
  EXPECT_EQ(g[*g.output("loss")].op, OpKind::SoftmaxCrossEntropy);

  p = parseText("input x : f32[2]\nlabel y : binary\n"
                "z = dense(x, 1)\nloss bce_logits(z, y)\n");
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g2 = p->model->graph;
  EXPECT_EQ(g2[*g2.output("pred")].op, OpKind::Sigmoid);
  EXPECT_EQ(g2[*g2.output("loss")].op, OpKind::BceLogits);
}

TEST(Lower, DenseOfDenseAndOfExpressions) {
  auto p = parseText("input x : f32[3]\nlabel y : real\n"
                     "h = dense(x * 2, 5, sigmoid)\nk = h\n"
                     "o = dense(k, 1)\nloss mse(o, y)\n");
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = p->model->graph;
  EXPECT_EQ(g[*g.findLeaf(OpKind::Param, "h.weight")].type,
            TensorType::of({3, 5}));
  EXPECT_EQ(g[*g.findLeaf(OpKind::Param, "o.weight")].type,
            TensorType::of({5, 1}));
  EXPECT_EQ(g[nodeNamed(g, "h")].op, OpKind::Sigmoid);
}

TEST(Lower, TrainItemsShareALine) {
  auto p = parseText(R"(input x : f32
label y : real
loss mse(x, y)
train { data csv("d.csv")  optimizer sgd(lr = 0.5)  batch 7  epochs 3
  shuffle false  early_stop  l2 0 }
)");
  ASSERT_TRUE(p->model) << p->diags.str();
  const Recipe &r = p->model->recipe;
  EXPECT_EQ(r.data.path, "d.csv");
  EXPECT_TRUE(r.data.labelColumns.empty()); // the last column
  EXPECT_DOUBLE_EQ(r.optimizer.lr, 0.5);
  EXPECT_EQ(r.batch, 7);
  EXPECT_EQ(r.epochs, 3);
  EXPECT_FALSE(r.shuffle);
  EXPECT_TRUE(r.earlyStop.enabled);
  EXPECT_EQ(r.earlyStop.patience, EarlyStop().patience);
}

TEST(Lower, MultiLineArgumentsAndContinuations) {
  auto p = parseText("input x : f32[2]\nlabel y : real\n"
                     "param w : f32[2, 2] = [\n  [1, 2],\n  [3, 4],\n]\n"
                     "s = sum(x @ w +\n  x, axis = 1\n)\nloss mse(s, y)\n");
  ASSERT_TRUE(p->model) << p->diags.str();
  const Graph &g = p->model->graph;
  EXPECT_EQ(g[*g.findLeaf(OpKind::Param, "w")].values,
            (std::vector<double>{1, 2, 3, 4}));
}

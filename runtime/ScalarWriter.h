//===- ScalarWriter.h - The scalar view's writer (internal) -----*- C++ -*-===//
///
/// \file
/// The class behind scalarStep (runtime/ScalarStep.h), shared by its
/// source files: ScalarStep.cpp (naming, output, the dispatch by family,
/// elementwise ops and updates), ScalarProducts.cpp (matrix products, dense
/// layers and their gradients, sums), ScalarLoss.cpp (softmax, the losses
/// and their gradients) and ScalarSpatial.cpp (convolutions, pooling, batch
/// norm and their gradients).
///
/// The writer computes no node's value: every value is the reference
/// interpreter's (runtime/Interpreter.h), evaluated once up front. It only
/// writes each element's formula, with names and with numbers; the few
/// numbers a formula shows that are no node's element (a pre-activation
/// sum, a per-sample loss term, a softmax inside a gradient) come from the
/// same math templates (ir/ElementwiseMath.h, ir/FusedMath.h).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/ScalarStep.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace nn::scalar {

/// A number as an operand: negative numbers in parentheses.
std::string num(double v);

/// A symbolic and a numeric text written side by side.
struct Texts {
  std::string sym, nums;
};

class Writer {
public:
  Writer(const Graph &g, const ValueMap &leaves, const ScalarLimits &limits);
  std::vector<ScalarLine> run();

private:
  using Section = ScalarLine::Section;

  // --- naming and output (ScalarStep.cpp) ---------------------------------
  std::string nodeName(NodeId id) const;
  /// "x[A,2]", "w[1]", "b": element `flat` of node `id`, 1-based indices,
  /// the batch dimension lettered.
  std::string elem(NodeId id, int64_t flat) const;
  /// A scalar seed constant prints as its value, anything else by name.
  std::string ref(NodeId id, int64_t flat) const;
  double at(NodeId id, int64_t flat) const { return vals[id].data[flat]; }
  /// The flat index of `in` (numpy broadcasting of trailing dimensions)
  /// that element `flat` of node `out` reads.
  int64_t bcast(NodeId in, NodeId out, int64_t flat) const;
  Section sectionOf(NodeId id) const;
  /// Writes "elem = sym = nums = value" for element `flat` of node `id`,
  /// the value being the interpreter's.
  void emit(NodeId id, int64_t flat, const Texts &t);
  /// A per-sample loss term (not a node's element), `text` complete.
  void lossTerm(int64_t i, const std::string &text, double v);
  void checkLineLimit(const char *more) const;
  [[noreturn]] void unsupported(const Node &n) const;

  // --- dispatch (ScalarStep.cpp) ------------------------------------------
  void node(NodeId id);
  void elementwise(NodeId id);
  void fusedElementwise(NodeId id);
  void update(NodeId id);
  /// dropout, with each element's draw (ScalarRandom.cpp).
  void random(NodeId id);
  /// conv2d, pooling, batch norm (runtime/ScalarSpatial.cpp).
  void spatial(NodeId id);
  /// The texts of element `i` of an Adam update op.
  Texts adamText(const Node &n, int64_t i) const;

  // --- images (ScalarSpatial.cpp) -----------------------------------------
  /// One written sum: its terms' texts, side by side, and their count.
  struct Sum {
    Texts t;
    int64_t terms = 0;
    void add(const Texts &term);
  };
  /// Throws when a sum of node `id` would have more terms than the view
  /// writes out.
  void checkTerms(NodeId id, int64_t terms) const;
  void conv2d(NodeId id);
  void conv2dGradInput(NodeId id);
  void conv2dGradWeight(NodeId id);
  /// channel_sum, channel_mean, channel_var.
  void channelReduce(NodeId id, SpatialOp op);
  void channelAffine(NodeId id);
  /// batch_normalize, or (with `grad`) batch_normalize_grad.
  void batchNormalize(NodeId id, bool grad);
  void pool(NodeId id, bool isMax);
  void poolGrad(NodeId id, bool isMax);
  /// "x[:,2,:,:]": channel `c` of node `id` over every other axis.
  std::string channelOf(NodeId id, int64_t c) const;
  /// A line that is no node's element (a channel's mean and variance
  /// before batch_normalize uses them), in the section of node `id`.
  void noteLine(NodeId id, const std::string &text, double v);

  // --- products (ScalarProducts.cpp) --------------------------------------
  /// The element of a matrix operand read as op(m)[r, c].
  struct Operand {
    NodeId id;
    bool trans;
    int64_t rows, cols;
  };
  Operand operand(NodeId id, bool trans) const;
  int64_t flatOf(const Operand &o, int64_t r, int64_t c) const;
  /// term(i, k, j): one product's texts and value.
  using Term = std::function<double(int64_t i, int64_t k, int64_t j, Texts &)>;
  /// finish(acc, i, j, texts): completes result[i,j] from the sum `acc`.
  using Finish = std::function<void(double acc, int64_t i, int64_t j, Texts &)>;
  void products(NodeId id, int64_t m, int64_t kk, int64_t n, const Term &term,
                const Finish &finish = {});
  void linalg(NodeId id);
  void reduction(NodeId id);
  void dense(NodeId id);
  void matmulLike(NodeId id, bool transA, bool transB, Activation act,
                  NodeId bias);
  void denseGrad(NodeId id, DenseOp op);
  /// da * act'(a) at row r, column c of da (columns `cols`).
  double masked(const Node &n, NodeId da, NodeId a, int64_t f, Texts &t) const;

  // --- rows and losses (ScalarLoss.cpp) -----------------------------------
  void rows(NodeId id);
  void loss(NodeId id);
  void lossGrad(NodeId id);
  void softmaxRows(NodeId id, bool grad);
  /// normalize per row, or (with `grad`) normalize_grad (ScalarNormalize.cpp).
  void normalizeRows(NodeId id, bool grad);
  void bceLogits(NodeId id);
  void softmaxCrossEntropy(NodeId id);
  void mse(NodeId id);
  void sigmoidBceGrad(NodeId id);
  /// The mean of the per-sample terms written as "(loss[A] + ...) / n".
  void meanLine(NodeId id, const Texts &terms, int64_t count);
  /// The max of row r of `z` (rows of c) and the sum of exp(z - max), in
  /// the interpreter's order.
  std::pair<double, double> rowMaxAndSum(NodeId z, int64_t r, int64_t c) const;
  /// The class id of row r, checked against c classes.
  int64_t classOf(NodeId y, int64_t r, int64_t c) const;

  const Graph &g;
  ScalarLimits limits;
  std::vector<Value> vals;
  std::vector<bool> seeded;
  std::vector<bool> updateValue;
  int64_t batch = 1;
  std::vector<ScalarLine> lines;
};

} // namespace nn::scalar

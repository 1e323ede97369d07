//===- ScalarProducts.cpp - The scalar view of products and sums ----------===//
///
/// \file
/// Matrix products, dense layers (forward and the fused gradients) and sums,
/// written term by term as result[i,j] = sum_k a(i,k) * b(k,j), in the
/// order the kernels add them. act' is written from its template
/// (runtime/ElementwiseText.h, activationPrimeText).
///
//===----------------------------------------------------------------------===//

#include "runtime/ScalarWriter.h"
#include "runtime/ElementwiseText.h"

#include "ir/Attributes.h"
#include "ir/ElementwiseMath.h"
#include "ir/FusedMath.h"
#include "ir/Support.h"

#include <algorithm>

namespace nn::scalar {

Writer::Operand Writer::operand(NodeId id, bool trans) const {
  const std::vector<int64_t> &s = vals[id].shape;
  int64_t r = s.size() >= 1 ? s[0] : 1, c = s.size() >= 2 ? s[1] : 1;
  if (s.size() > 2)
    unsupported(g[id]);
  return trans ? Operand{id, true, c, r} : Operand{id, false, r, c};
}

int64_t Writer::flatOf(const Operand &o, int64_t r, int64_t c) const {
  const std::vector<int64_t> &s = vals[o.id].shape;
  int64_t cols = s.size() >= 2 ? s[1] : 1;
  return o.trans ? c * cols + r : r * cols + c;
}

void Writer::products(NodeId id, int64_t m, int64_t kk, int64_t n,
                      const Term &term, const Finish &finish) {
  if (kk > 16)
    throw UserError("nnc: error: explain --scalar writes sums of at most "
                    "16 products; " +
                    nodeName(id) + " sums " + std::to_string(kk));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      Texts t;
      double acc = 0;
      for (int64_t k = 0; k < kk; ++k) {
        Texts tk;
        acc += term(i, k, j, tk);
        t.sym += (k ? " + " : "") + tk.sym;
        t.nums += (k ? " + " : "") + tk.nums;
      }
      if (finish)
        finish(acc, i, j, t);
      emit(id, i * n + j, t);
    }
}

void Writer::linalg(NodeId id) {
  switch (member<LinalgOp>(g[id].op)) {
  case LinalgOp::MatMul:
    return matmulLike(id, false, false, Activation::None, -1);
  case LinalgOp::Transpose:
  case LinalgOp::Expand:
  case LinalgOp::Reshape:
    return; // they move numbers, compute none: no line
  }
}

void Writer::reduction(NodeId id) {
  const Node &n = g[id];
  switch (member<ReduceOp>(n.op)) {
  case ReduceOp::Sum: {
    NodeId a = n.inputs[0];
    const std::vector<int64_t> &s = vals[a].shape;
    int64_t rows = n.axis == 0 && s.size() >= 1 ? s[0] : vals[a].numel();
    int64_t cols =
        n.axis == 0 ? vals[a].numel() / std::max<int64_t>(rows, 1) : 1;
    if (n.axis > 0)
      unsupported(n);
    products(id, 1, rows, cols, [&](int64_t, int64_t k, int64_t j, Texts &t) {
      double v = at(a, k * cols + j);
      t = {ref(a, k * cols + j), num(v)};
      return v;
    });
    return;
  }
  case ReduceOp::Count:
    return; // counts elements: no line
  case ReduceOp::Mean:
    unsupported(n);
  }
}

void Writer::dense(NodeId id) {
  const Node &n = g[id];
  switch (member<DenseOp>(n.op)) {
  case DenseOp::Dense:
    return matmulLike(id, false, false, n.act, n.inputs[2]);
  case DenseOp::FusedMatMul:
    return matmulLike(id, n.transA, n.transB, Activation::None, -1);
  case DenseOp::DenseGradInput:
  case DenseOp::DenseGradWeight:
  case DenseOp::DenseGradBias:
    return denseGrad(id, member<DenseOp>(n.op));
  }
}

/// act(op(a) @ op(b) + bias), the bias and act optional (bias -1, None).
void Writer::matmulLike(NodeId id, bool ta, bool tb, Activation act,
                        NodeId bias) {
  const Node &n = g[id];
  Operand A = operand(n.inputs[0], ta), B = operand(n.inputs[1], tb);
  if (vals[n.inputs[1]].shape.size() == 1 && !tb)
    B = {n.inputs[1], false, vals[n.inputs[1]].shape[0], 1};
  auto term = [&](int64_t i, int64_t k, int64_t j, Texts &t) {
    int64_t fa = flatOf(A, i, k), fb = flatOf(B, k, j);
    double va = at(A.id, fa), vb = at(B.id, fb);
    t = {ref(A.id, fa) + " * " + ref(B.id, fb), num(va) + " * " + num(vb)};
    return va * vb;
  };
  auto finish = [&](double acc, int64_t i, int64_t j, Texts &t) {
    DoubleEmitter e;
    double v = acc;
    if (bias >= 0) {
      int64_t bi = bcast(bias, id, i * B.cols + j);
      t.sym += " + " + ref(bias, bi);
      t.nums += " + " + num(at(bias, bi));
      v = e.add(acc, at(bias, bi));
    }
    if (act != Activation::None) {
      std::string f = activationName(act);
      std::string slope = hasSlope(opOf(activationOp(act)))
                              ? ", " + scalarText(n.param)
                              : std::string();
      t.sym = f + "(" + t.sym + slope + ")";
      t.nums = f + "(" + t.nums + slope + ") = " + f + "(" + scalarText(v) +
               slope + ")";
    }
  };
  products(id, A.rows, A.cols, B.cols, term, finish);
}

double Writer::masked(const Node &n, NodeId da, NodeId a, int64_t f,
                      Texts &t) const {
  if (n.act == Activation::None)
    unsupported(n);
  t = {ref(da, f) + " * " + activationPrimeText(n.act, ref(a, f), n.param),
       num(at(da, f)) + " * " +
           activationPrimeText(n.act, num(at(a, f)), n.param)};
  DoubleEmitter e;
  return e.mul(at(da, f), emitActivationGrad(e, n.act, at(a, f), n.param));
}

/// The fused dense gradients: bias (column sums), weight (x^T @ ...) and
/// input (... @ w^T) of da * act'(a).
void Writer::denseGrad(NodeId id, DenseOp op) {
  const Node &n = g[id];
  bool weight = op == DenseOp::DenseGradWeight;
  NodeId da = weight ? n.inputs[1] : n.inputs[0];
  NodeId a = weight ? n.inputs[2] : n.inputs[1];
  int64_t cols = vals[da].shape.size() >= 2 ? vals[da].shape[1] : 1;
  int64_t rows = vals[da].shape.empty() ? 1 : vals[da].shape[0];
  if (op == DenseOp::DenseGradBias)
    return products(id, 1, rows, cols,
                    [&](int64_t, int64_t k, int64_t j, Texts &t) {
                      return masked(n, da, a, k * cols + j, t);
                    });
  if (weight) {
    NodeId x = n.inputs[0];
    int64_t xc = vals[x].shape[1];
    return products(id, xc, rows, cols,
                    [&](int64_t i, int64_t k, int64_t j, Texts &t) {
                      double m = masked(n, da, a, k * cols + j, t);
                      double xv = at(x, k * xc + i);
                      t = {ref(x, k * xc + i) + " * " + t.sym,
                           num(xv) + " * " + t.nums};
                      return xv * m;
                    });
  }
  NodeId w = n.inputs[2];
  int64_t wk = vals[w].shape[0];
  products(id, rows, cols, wk, [&](int64_t i, int64_t k, int64_t j, Texts &t) {
    double m = masked(n, da, a, i * cols + k, t);
    double wv = at(w, j * cols + k);
    t = {"(" + t.sym + ") * " + ref(w, j * cols + k),
         "(" + t.nums + ") * " + num(wv)};
    return m * wv;
  });
}

} // namespace nn::scalar

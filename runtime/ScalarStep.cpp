//===- ScalarStep.cpp - One training step as scalar arithmetic ------------===//
///
/// \file
/// Algorithm: walk the fused graph in order; for each node that computes
/// something, compute every element in double with the same formulas the
/// interpreter uses (ir/ElementwiseMath.h, ir/FusedMath.h), and write the
/// formula twice, once with names and once with the numbers. Sums are
/// written term by term in the order the kernels add them (the reduction
/// index innermost). Leaves, constants, counts, transposes and broadcasts
/// print nothing: they move numbers or count them, and the op that reads
/// them names the element it reads.
///
//===----------------------------------------------------------------------===//

#include "runtime/ScalarStep.h"
#include "runtime/ElementwiseText.h"

#include "ir/ElementwiseMath.h"
#include "ir/FusedMath.h"
#include "ir/Support.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <span>
#include <utility>

namespace nn {

std::string scalarText(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

namespace {

using Section = ScalarLine::Section;

/// A number as an operand: negative numbers in parentheses.
std::string num(double v) {
  std::string s = scalarText(v);
  return v < 0 ? "(" + s + ")" : s;
}

class Writer {
public:
  Writer(const Graph &g, const ValueMap &leaves, const ScalarLimits &limits)
      : g(g), limits(limits), vals(g.size()) {
    for (NodeId id = 0; id < g.size(); ++id) {
      const Node &n = g[id];
      if (n.op == OpKind::Const) {
        std::vector<int64_t> shape = n.type.dims;
        vals[id] = {shape, n.values};
      } else if (hasTrait(n.op, kLeaf)) {
        auto it = leaves.find(n.name);
        if (it == leaves.end())
          throw UserError("nnc: error: no value for '" + n.name + "'");
        vals[id] = it->second;
        if (n.type.hasBatch() && !vals[id].shape.empty())
          batch = vals[id].shape[0];
      }
    }
    if (batch > limits.maxBatch)
      throw UserError("nnc: error: explain --scalar writes out at most " +
                      std::to_string(limits.maxBatch) +
                      " samples per step; this batch has " +
                      std::to_string(batch) + " (use --batch)");
    seeded.assign(g.size(), false);
    for (NodeId id = 0; id < g.size(); ++id) {
      const Node &n = g[id];
      seeded[id] = n.op == OpKind::Const && n.name.rfind("d.", 0) == 0;
      for (NodeId in : n.inputs)
        seeded[id] = seeded[id] || seeded[in];
    }
    updateValue.assign(g.size(), false);
    for (const Update &u : g.updates)
      updateValue[u.value] = true;
  }

  std::vector<ScalarLine> run() {
    for (NodeId id = 0; id < g.size(); ++id)
      if (!hasTrait(g[id].op, kLeaf))
        node(id);
    return std::move(lines);
  }

private:
  // --- naming -------------------------------------------------------------

  std::string nodeName(NodeId id) const {
    return g[id].name.empty() ? "%" + std::to_string(id) : g[id].name;
  }

  /// "x[A,2]", "w[1]", "b": element `flat` of node `id`, 1-based indices,
  /// the batch dimension lettered.
  std::string elem(NodeId id, int64_t flat) const {
    const std::vector<int64_t> &shape = vals[id].shape;
    if (shape.empty())
      return nodeName(id);
    std::vector<int64_t> idx(shape.size());
    for (size_t d = shape.size(); d-- > 0;) {
      idx[d] = flat % shape[d];
      flat /= shape[d];
    }
    std::string s = nodeName(id) + "[";
    for (size_t d = 0; d < idx.size(); ++d) {
      if (d)
        s += ",";
      if (d == 0 && g[id].type.hasBatch())
        s += static_cast<char>('A' + idx[d]);
      else
        s += std::to_string(idx[d] + 1);
    }
    return s + "]";
  }

  /// A scalar Const prints as its value, anything else by element name.
  std::string ref(NodeId id, int64_t flat) const {
    if (g[id].op == OpKind::Const && vals[id].data.size() == 1 &&
        g[id].name.rfind("d.", 0) == 0)
      return scalarText(vals[id].data[0]);
    return elem(id, flat);
  }

  double at(NodeId id, int64_t flat) const { return vals[id].data[flat]; }

  /// The flat index in `in` (numpy broadcasting of trailing dimensions) that
  /// element `flat` of a result shaped `out` reads.
  int64_t bcast(NodeId in, const std::vector<int64_t> &out,
                int64_t flat) const {
    const std::vector<int64_t> &s = vals[in].shape;
    std::vector<int64_t> idx(out.size());
    for (size_t d = out.size(); d-- > 0;) {
      idx[d] = flat % out[d];
      flat /= out[d];
    }
    int64_t r = 0;
    size_t off = out.size() - s.size();
    for (size_t d = 0; d < s.size(); ++d)
      r = r * s[d] + (s[d] == 1 ? 0 : idx[off + d]);
    return r;
  }

  // --- output -------------------------------------------------------------

  Section sectionOf(NodeId id) const {
    const Node &n = g[id];
    if (hasTrait(n.op, kLoss))
      return Section::Loss;
    if (updateValue[id] || n.op == OpKind::Sgd || n.op == OpKind::SgdMomentum)
      return Section::Update;
    return seeded[id] ? Section::Backward : Section::Forward;
  }

  void emit(NodeId id, int64_t flat, const std::string &symbolic,
            const std::string &numeric, double v) {
    if (static_cast<int64_t>(lines.size()) >= limits.maxLines)
      throw UserError("nnc: error: explain --scalar writes out at most " +
                      std::to_string(limits.maxLines) +
                      " scalars per step; this model needs more (use a "
                      "smaller model or --batch)");
    ScalarLine l;
    l.section = id >= 0 ? sectionOf(id) : Section::Loss;
    l.node = id;
    l.index = flat;
    l.value = v;
    std::string lhs = id >= 0 ? elem(id, flat) : "";
    l.text = (lhs.empty() ? "" : lhs + " = ") + symbolic + " = " + numeric +
             " = " + scalarText(v);
    lines.push_back(l);
    if (id >= 0)
      vals[id].data[flat] = v;
  }

  /// Makes the value of `id` (shape from the graph's type, batch filled in).
  void alloc(NodeId id) {
    std::vector<int64_t> shape = g[id].type.dims;
    int64_t n = 1;
    for (int64_t &d : shape) {
      if (d == kBatch)
        d = batch;
      n *= d;
    }
    vals[id] = {shape, std::vector<double>(static_cast<size_t>(n), 0.0)};
  }

  [[noreturn]] void unsupported(const Node &n) const {
    throw UserError("nnc: error: explain --scalar does not write out '" +
                    std::string(mnemonic(n.op)) +
                    "' yet (node " + nodeName(static_cast<NodeId>(&n - &g.nodes[0])) +
                    "); it covers dense layers, elementwise ops, sums, "
                    "softmax, the stable losses (bce from logits, softmax "
                    "cross-entropy on class ids, mse) and SGD");
  }

  /// The element of a matrix operand read as op(m)[r, c].
  struct Operand {
    NodeId id;
    bool trans;
    int64_t rows, cols;
  };
  Operand operand(NodeId id, bool trans) const {
    const std::vector<int64_t> &s = vals[id].shape;
    int64_t r = s.size() >= 1 ? s[0] : 1, c = s.size() >= 2 ? s[1] : 1;
    if (s.size() > 2)
      unsupported(g[id]);
    return trans ? Operand{id, true, c, r} : Operand{id, false, r, c};
  }
  int64_t flatOf(const Operand &o, int64_t r, int64_t c) const {
    const std::vector<int64_t> &s = vals[o.id].shape;
    int64_t cols = s.size() >= 2 ? s[1] : 1;
    return o.trans ? c * cols + r : r * cols + c;
  }

  /// result[i,j] = pre + sum_k a(i,k) * b(k,j) [+ post]: the shared body of
  /// every matrix product. `term(i,k,j)` gives the symbolic factor pair and
  /// its two values.
  using Term = std::function<void(int64_t i, int64_t k, int64_t j,
                                  std::string &s, std::string &nv, double &v)>;
  void products(NodeId id, int64_t m, int64_t kk, int64_t n, const Term &term,
                const std::function<std::string(double, int64_t, int64_t,
                                                std::string &, std::string &,
                                                double &)> &finish) {
    if (kk > 16)
      throw UserError("nnc: error: explain --scalar writes sums of at most "
                      "16 products; " + nodeName(id) + " sums " +
                      std::to_string(kk));
    alloc(id);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        std::string s, nv;
        double acc = 0;
        for (int64_t k = 0; k < kk; ++k) {
          std::string ts, tn;
          double tv = 0;
          term(i, k, j, ts, tn, tv);
          s += (k ? " + " : "") + ts;
          nv += (k ? " + " : "") + tn;
          acc += tv;
        }
        double v = acc;
        finish(acc, i, j, s, nv, v);
        emit(id, i * n + j, s, nv, v);
      }
  }

  /// The max of row r of `z` (rows of c) and the sum of exp(z - max), in
  /// the interpreter's order.
  std::pair<double, double> rowMaxAndSum(NodeId z, int64_t r, int64_t c) {
    DoubleEmitter e;
    double m = at(z, r * c);
    for (int64_t j = 1; j < c; ++j)
      m = emitMax(e, at(z, r * c + j), m);
    double sum = 0;
    for (int64_t j = 0; j < c; ++j)
      sum += emitExpShifted(e, at(z, r * c + j), m);
    return {m, sum};
  }

  /// The class id of row r, checked against c classes.
  int64_t classOf(NodeId y, int64_t r, int64_t c) const {
    double v = at(y, r);
    if (!(v >= 0 && v < static_cast<double>(c)) || v != std::floor(v))
      throw UserError("nnc: error: class id " + scalarText(v) + " of sample " +
                      std::string(1, static_cast<char>('A' + r)) +
                      " is not in 0.." + std::to_string(c - 1));
    return static_cast<int64_t>(v);
  }

  /// A per-sample loss term (not a node's element).
  void lossTerm(int64_t i, const std::string &text, double v) {
    if (static_cast<int64_t>(lines.size()) >= limits.maxLines)
      throw UserError("nnc: error: explain --scalar writes out at most " +
                      std::to_string(limits.maxLines) +
                      " scalars per step; this model needs more");
    ScalarLine l;
    l.section = Section::Loss;
    l.node = -1;
    l.index = i;
    l.value = v;
    l.text = text;
    lines.push_back(l);
  }

  // --- ops ----------------------------------------------------------------

  void node(NodeId id) {
    const Node &n = g[id];
    DoubleEmitter e;
    switch (n.op) {
    case OpKind::Input:
    case OpKind::Label:
    case OpKind::Param:
    case OpKind::State:
    case OpKind::Const:
      return;
    case OpKind::Count: {
      alloc(id);
      const Value &x = vals[n.inputs[0]];
      double c = n.axis < 0 || n.type.isScalar()
                     ? static_cast<double>(x.numel())
                     : static_cast<double>(x.shape[n.axis]);
      for (double &d : vals[id].data)
        d = c;
      return;
    }
    case OpKind::Neg:
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Sigmoid:
    case OpKind::Relu:
    case OpKind::Tanh:
    case OpKind::Step: {
      alloc(id);
      NodeId a = n.inputs[0];
      for (int64_t i = 0; i < vals[id].numel(); ++i) {
        int64_t ai = bcast(a, vals[id].shape, i);
        std::array<double, 1> args{at(a, ai)};
        double v = emitElementwise<DoubleEmitter>(e, n.op, args);
        std::string f = mnemonic(n.op);
        emit(id, i, f + "(" + ref(a, ai) + ")",
             f + "(" + scalarText(args[0]) + ")", v);
      }
      return;
    }
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div: {
      alloc(id);
      NodeId a = n.inputs[0], b = n.inputs[1];
      const char *sym = n.op == OpKind::Add   ? " + "
                        : n.op == OpKind::Sub ? " - "
                        : n.op == OpKind::Mul ? " * "
                                              : " / ";
      for (int64_t i = 0; i < vals[id].numel(); ++i) {
        int64_t ai = bcast(a, vals[id].shape, i),
                bi = bcast(b, vals[id].shape, i);
        std::array<double, 2> args{at(a, ai), at(b, bi)};
        double v = emitElementwise<DoubleEmitter>(e, n.op, args);
        emit(id, i, ref(a, ai) + sym + ref(b, bi),
             num(args[0]) + sym + num(args[1]), v);
      }
      return;
    }
    case OpKind::Sum: {
      alloc(id);
      NodeId a = n.inputs[0];
      const std::vector<int64_t> &s = vals[a].shape;
      int64_t rows = n.axis == 0 && s.size() >= 1 ? s[0] : vals[a].numel();
      int64_t cols = n.axis == 0 ? vals[a].numel() / std::max<int64_t>(rows, 1)
                                 : 1;
      if (n.axis > 0)
        unsupported(n);
      products(
          id, 1, rows, cols,
          [&](int64_t, int64_t k, int64_t j, std::string &ts, std::string &tn,
              double &tv) {
            tv = at(a, k * cols + j);
            ts = ref(a, k * cols + j);
            tn = num(tv);
          },
          [](double, int64_t, int64_t, std::string &, std::string &,
             double &) { return std::string(); });
      return;
    }
    case OpKind::Dense:
    case OpKind::MatMul:
    case OpKind::FusedMatMul: {
      bool ta = n.op == OpKind::FusedMatMul && n.transA;
      bool tb = n.op == OpKind::FusedMatMul && n.transB;
      Operand A = operand(n.inputs[0], ta), B = operand(n.inputs[1], tb);
      bool vecB = vals[n.inputs[1]].shape.size() == 1 && !tb;
      if (vecB)
        B = {n.inputs[1], false, vals[n.inputs[1]].shape[0], 1};
      Activation act = n.op == OpKind::Dense ? n.act : Activation::None;
      NodeId bias = n.op == OpKind::Dense ? n.inputs[2] : -1;
      alloc(id);
      std::vector<int64_t> outShape = vals[id].shape;
      products(
          id, A.rows, A.cols, B.cols,
          [&](int64_t i, int64_t k, int64_t j, std::string &ts,
              std::string &tn, double &tv) {
            int64_t fa = flatOf(A, i, k), fb = flatOf(B, k, j);
            double va = at(A.id, fa), vb = at(B.id, fb);
            ts = ref(A.id, fa) + " * " + ref(B.id, fb);
            tn = num(va) + " * " + num(vb);
            tv = va * vb;
          },
          [&](double acc, int64_t i, int64_t j, std::string &s,
              std::string &nv, double &v) {
            v = acc;
            if (bias >= 0) {
              int64_t bi = bcast(bias, outShape, i * B.cols + j);
              s += " + " + ref(bias, bi);
              nv += " + " + num(at(bias, bi));
              v = acc + at(bias, bi);
            }
            if (act != Activation::None) {
              std::string f = activationName(act);
              s = f + "(" + s + ")";
              nv = f + "(" + nv + ") = " + f + "(" + scalarText(v) + ")";
              v = emitActivation(e, act, v);
            }
            return std::string();
          });
      return;
    }
    case OpKind::DenseGradBias:
    case OpKind::DenseGradWeight:
    case OpKind::DenseGradInput: {
      // The masked gradient da * act'(a), read where the product needs it.
      bool bias = n.op == OpKind::DenseGradBias;
      bool weight = n.op == OpKind::DenseGradWeight;
      NodeId da = weight ? n.inputs[1] : n.inputs[0];
      NodeId a = weight ? n.inputs[2] : n.inputs[1];
      int64_t cols = vals[da].shape.size() >= 2 ? vals[da].shape[1] : 1;
      auto masked = [&](int64_t r, int64_t c, std::string &ts,
                        std::string &tn) {
        int64_t f = r * cols + c;
        // act'(z) written with the output a = act(z), as ir/FusedMath.h.
        auto prime = [&](const std::string &av) {
          switch (n.act) {
          case Activation::Relu:
            return "step(" + av + ")";
          case Activation::Sigmoid:
            return av + " * (1 - " + av + ")";
          case Activation::Tanh:
            return "(1 - " + av + " * " + av + ")";
          case Activation::None:
            break;
          }
          unsupported(n);
        };
        ts = ref(da, f) + " * " + prime(ref(a, f));
        tn = num(at(da, f)) + " * " + prime(num(at(a, f)));
        return emitMaskedGrad(e, n.act, at(da, f), at(a, f));
      };
      int64_t rows = vals[da].shape.empty() ? 1 : vals[da].shape[0];
      auto none = [](double, int64_t, int64_t, std::string &, std::string &,
                     double &) { return std::string(); };
      if (bias) {
        products(
            id, 1, rows, cols,
            [&](int64_t, int64_t k, int64_t j, std::string &ts,
                std::string &tn, double &tv) { tv = masked(k, j, ts, tn); },
            none);
      } else if (weight) {
        NodeId x = n.inputs[0];
        int64_t xc = vals[x].shape[1];
        products(
            id, xc, rows, cols,
            [&](int64_t i, int64_t k, int64_t j, std::string &ts,
                std::string &tn, double &tv) {
              double m = masked(k, j, ts, tn);
              double xv = at(x, k * xc + i);
              ts = ref(x, k * xc + i) + " * " + ts;
              tn = num(xv) + " * " + tn;
              tv = xv * m;
            },
            none);
      } else {
        NodeId w = n.inputs[2];
        int64_t wk = vals[w].shape[0];
        products(
            id, rows, cols, wk,
            [&](int64_t i, int64_t k, int64_t j, std::string &ts,
                std::string &tn, double &tv) {
              double m = masked(i, k, ts, tn);
              double wv = at(w, j * cols + k);
              ts = "(" + ts + ") * " + ref(w, j * cols + k);
              tn = "(" + tn + ") * " + num(wv);
              tv = m * wv;
            },
            none);
      }
      return;
    }
    case OpKind::BceLogits: {
      NodeId z = n.inputs[0], y = n.inputs[1];
      int64_t cnt = vals[z].numel();
      std::string s, nv;
      double total = 0;
      for (int64_t i = 0; i < cnt; ++i) {
        double zv = at(z, i), yv = at(y, i);
        double t = emitBceLogitsTerm(e, zv, yv);
        ScalarLine l;
        l.section = Section::Loss;
        l.node = -1;
        l.index = i;
        l.value = t;
        std::string who = elem(z, i);
        size_t open = who.find('[');
        std::string sample = open == std::string::npos ? "" : who.substr(open);
        l.text = "loss" + sample + " = -(" + ref(y, i) + " log p" + sample +
                 " + (1 - " + ref(y, i) + ") log(1 - p" + sample +
                 ")), p = sigmoid(" + who + "), from the logit: max(" + who +
                 ", 0) - " + who + " * " + ref(y, i) + " + log(1 + exp(-|" +
                 who + "|)) = max(" + scalarText(zv) + ", 0) - " + num(zv) +
                 " * " + num(yv) + " + log(1 + exp(-" +
                 scalarText(std::fabs(zv)) + ")) = " + scalarText(t);
        lines.push_back(l);
        s += (i ? " + " : "") + std::string("loss") + sample;
        nv += (i ? " + " : "") + num(t);
        total += t;
      }
      vals[id] = Value::scalar(0);
      emit(id, 0, "(" + s + ") / " + std::to_string(cnt),
           "(" + nv + ") / " + std::to_string(cnt),
           total / static_cast<double>(cnt));
      return;
    }
    case OpKind::SigmoidBceGrad: {
      alloc(id);
      NodeId z = n.inputs[0], y = n.inputs[1], gr = n.inputs[2];
      int64_t cnt = vals[z].numel();
      double scale = at(gr, 0) / static_cast<double>(cnt);
      for (int64_t i = 0; i < cnt; ++i) {
        double p = emitSigmoid(e, at(z, i));
        double v = e.mul(e.sub(p, at(y, i)), scale);
        emit(id, i,
             "(sigmoid(" + elem(z, i) + ") - " + ref(y, i) + ") * " +
                 ref(gr, 0) + " / " + std::to_string(cnt),
             "(" + scalarText(p) + " - " + num(at(y, i)) + ") * " +
                 num(at(gr, 0)) + " / " + std::to_string(cnt),
             v);
      }
      return;
    }
    case OpKind::SgdMomentum: {
      alloc(id);
      NodeId v0 = n.inputs[0], gr = n.inputs[1], mu = n.inputs[2];
      for (int64_t i = 0; i < vals[id].numel(); ++i) {
        double v = e.add(e.mul(at(mu, 0), at(v0, i)), at(gr, i));
        emit(id, i,
             nodeName(mu) + " * " + ref(v0, i) + " + " + ref(gr, i),
             num(at(mu, 0)) + " * " + num(at(v0, i)) + " + " +
                 num(at(gr, i)),
             v);
      }
      return;
    }
    case OpKind::Sgd: {
      alloc(id);
      NodeId w = n.inputs[0], s = n.inputs[1], lr = n.inputs[2];
      for (int64_t i = 0; i < vals[id].numel(); ++i) {
        double v = e.sub(at(w, i), e.mul(at(lr, 0), at(s, i)));
        emit(id, i, ref(w, i) + " - " + nodeName(lr) + " * " + ref(s, i),
             num(at(w, i)) + " - " + num(at(lr, 0)) + " * (" +
                 scalarText(at(s, i)) + ")",
             v);
      }
      return;
    }
    case OpKind::Softmax:
    case OpKind::SoftmaxXentGrad: {
      alloc(id);
      NodeId z = n.inputs[0];
      int64_t c = vals[z].shape.empty() ? 1 : vals[z].shape.back();
      int64_t rows = vals[z].numel() / std::max<int64_t>(c, 1);
      bool grad = n.op == OpKind::SoftmaxXentGrad;
      double scale = grad ? at(n.inputs[2], 0) / static_cast<double>(rows) : 1;
      for (int64_t r = 0; r < rows; ++r) {
        auto [m, sum] = rowMaxAndSum(z, r, c);
        std::string den, denNum;
        for (int64_t j = 0; j < c; ++j) {
          den += (j ? " + " : "") + ("exp(" + ref(z, r * c + j) + ")");
          denNum += (j ? " + " : "") + ("exp(" + scalarText(at(z, r * c + j)) + ")");
        }
        int64_t cls = grad ? classOf(n.inputs[1], r, c) : -1;
        for (int64_t j = 0; j < c; ++j) {
          double p = e.exp(e.sub(at(z, r * c + j), m)) / sum;
          std::string sym = "exp(" + ref(z, r * c + j) + ") / (" + den + ")";
          std::string nv = "exp(" + scalarText(at(z, r * c + j)) + ") / (" +
                           denNum + ")";
          if (!grad) {
            emit(id, r * c + j, sym, nv, p);
            continue;
          }
          double hot = j == cls ? 1.0 : 0.0;
          emit(id, r * c + j,
               "(" + sym + " - [" + ref(n.inputs[1], r) + " = " +
                   std::to_string(j) + "]) * " + ref(n.inputs[2], 0) + " / " +
                   std::to_string(rows),
               "(" + scalarText(p) + " - " + scalarText(hot) + ") * " +
                   num(at(n.inputs[2], 0)) + " / " + std::to_string(rows),
               (p - hot) * scale);
        }
      }
      return;
    }
    case OpKind::SoftmaxCrossEntropy: {
      NodeId z = n.inputs[0], y = n.inputs[1];
      int64_t c = vals[z].shape.empty() ? 1 : vals[z].shape.back();
      int64_t rows = vals[z].numel() / std::max<int64_t>(c, 1);
      if (vals[y].numel() != rows)
        unsupported(n); // dense targets
      std::string s, nv;
      double total = 0;
      for (int64_t r = 0; r < rows; ++r) {
        auto [m, sum] = rowMaxAndSum(z, r, c);
        int64_t k = classOf(y, r, c);
        double t = emitLogSumExp(e, m, sum) - at(z, r * c + k);
        std::string lse, lseNum;
        for (int64_t j = 0; j < c; ++j) {
          lse += (j ? " + " : "") + ("exp(" + ref(z, r * c + j) + ")");
          lseNum += (j ? " + " : "") + ("exp(" + scalarText(at(z, r * c + j)) + ")");
        }
        std::string who = elem(z, r * c);
        std::string sample = who.substr(who.find('['), 2) + "]";
        lossTerm(r, "loss" + sample + " = -log softmax(" + nodeName(z) +
                        sample + ")[" + ref(y, r) + "] = log(" + lse +
                        ") - " + ref(z, r * c + k) + " = log(" + lseNum +
                        ") - " + num(at(z, r * c + k)) + " = " + scalarText(t),
                 t);
        s += (r ? " + " : "") + ("loss" + sample);
        nv += (r ? " + " : "") + num(t);
        total += t;
      }
      vals[id] = Value::scalar(0);
      emit(id, 0, "(" + s + ") / " + std::to_string(rows),
           "(" + nv + ") / " + std::to_string(rows),
           total / static_cast<double>(rows));
      return;
    }
    case OpKind::Mse: {
      NodeId p = n.inputs[0], y = n.inputs[1];
      int64_t cnt = vals[p].numel();
      std::string s, nv;
      double total = 0;
      for (int64_t i = 0; i < cnt; ++i) {
        double t = emitSquaredError(e, at(p, i), at(y, i));
        std::string who = elem(p, i);
        size_t open = who.find('[');
        std::string sample = open == std::string::npos ? "" : who.substr(open);
        lossTerm(i, "loss" + sample + " = (" + who + " - " + ref(y, i) +
                        ")^2 = (" + scalarText(at(p, i)) + " - " +
                        num(at(y, i)) + ")^2 = " + scalarText(t),
                 t);
        s += (i ? " + " : "") + ("loss" + sample);
        nv += (i ? " + " : "") + num(t);
        total += t;
      }
      vals[id] = Value::scalar(0);
      emit(id, 0, "(" + s + ") / " + std::to_string(cnt),
           "(" + nv + ") / " + std::to_string(cnt),
           total / static_cast<double>(cnt));
      return;
    }
    case OpKind::Elementwise: {
      alloc(id);
      for (int64_t i = 0; i < vals[id].numel(); ++i) {
        std::vector<double> operands;
        std::vector<std::string> syms, nums;
        for (NodeId in : n.inputs) {
          int64_t k = bcast(in, vals[id].shape, i);
          operands.push_back(at(in, k));
          syms.push_back(ref(in, k));
          nums.push_back(num(at(in, k)));
        }
        double v = emitFusedBody<DoubleEmitter>(
            e, n.body, std::span<const double>(operands.data(), operands.size()));
        emit(id, i, elementwiseText(n.body, syms), elementwiseText(n.body, nums),
             v);
      }
      return;
    }
    case OpKind::Transpose: {
      // Moves numbers, computes none: no line.
      alloc(id);
      NodeId a = n.inputs[0];
      const std::vector<int64_t> &sh = vals[a].shape;
      if (sh.size() != 2) {
        vals[id].data = vals[a].data;
        return;
      }
      for (int64_t r = 0; r < sh[0]; ++r)
        for (int64_t c = 0; c < sh[1]; ++c)
          vals[id].data[c * sh[0] + r] = at(a, r * sh[1] + c);
      return;
    }
    case OpKind::Expand: {
      // A broadcast: no line.
      alloc(id);
      NodeId a = n.inputs[0];
      const std::vector<int64_t> &out = vals[id].shape;
      const std::vector<int64_t> &in = vals[a].shape;
      if (n.axis >= 0 && in.size() + 1 == out.size()) {
        for (int64_t i = 0; i < vals[id].numel(); ++i) {
          // Drop dimension `axis` of the result's index.
          int64_t rest = i, src = 0, mul = 1;
          for (size_t d = out.size(); d-- > 0;) {
            int64_t k = rest % out[d];
            rest /= out[d];
            if (static_cast<int64_t>(d) == n.axis)
              continue;
            src += k * mul;
            mul *= out[d];
          }
          vals[id].data[i] = at(a, src);
        }
        return;
      }
      if (in.size() > out.size())
        unsupported(n);
      for (size_t d = 0; d < in.size(); ++d)
        if (in[d] != 1 && in[d] != out[out.size() - in.size() + d])
          unsupported(n);
      for (int64_t i = 0; i < vals[id].numel(); ++i)
        vals[id].data[i] = at(a, bcast(a, out, i));
      return;
    }
    case OpKind::Mean:
    case OpKind::OneHot:
    case OpKind::Bce:
    case OpKind::CrossEntropy:
      unsupported(n);
    }
    NN_UNREACHABLE("unknown op");
  }

  const Graph &g;
  ScalarLimits limits;
  std::vector<Value> vals;
  std::vector<bool> seeded;
  std::vector<bool> updateValue;
  int64_t batch = 1;
  std::vector<ScalarLine> lines;
};

} // namespace

std::vector<ScalarLine> scalarStep(const Graph &g, const ValueMap &leaves,
                                   const ScalarLimits &limits) {
  return Writer(g, leaves, limits).run();
}

} // namespace nn

//===- ExplainCommand.cpp - nnc explain -----------------------------------===//
///
/// \file
/// Backprop as the compiler derived it, statement by statement. The
/// equations are read off the graph after autodiff, CSE and DCE (the nodes
/// of `nnc emit --stage=opt`): a node becomes an equation when it has a
/// name, several uses, or is an output or update; single-use helpers
/// (transposes, broadcasts, counts, constants) are written inline. Each
/// equation lists the IR nodes it covers, the fused kernel(s) they ended up
/// in (the fusion passes run without their final DCE, so node ids still
/// match), and FLOPs per sample from passes/FlopCount.
///
/// Phases: forward (does not depend on the loss seed dL/dL = 1), update
/// (the new value of a parameter or optimizer state), backward (the rest).
///
/// `--scalar` writes one step of a small model out number by number
/// (runtime/ScalarStep) on the first batch of its data, in file order.
///
//===----------------------------------------------------------------------===//

#include "tools/Explain.h"
#include "tools/KernelMap.h"

#include "ir/Format.h"
#include "ir/Printer.h"
#include "ir/Support.h"
#include "passes/FlopCount.h"
#include "passes/Fuse.h"
#include "runtime/Dataset.h"
#include "runtime/ParamInit.h"
#include "runtime/ScalarStep.h"
#include "runtime/Trainer.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

namespace nn {

namespace {

enum class Phase { Forward, Backward, Update };

double perSample(const Graph &g, NodeId id) {
  return nodeFlops(g, id, 2) - nodeFlops(g, id, 1);
}
double perStep(const Graph &g, NodeId id) {
  return nodeFlops(g, id, 1) - perSample(g, id);
}

/// "N", "N*2", "10": the number of elements a count node counts.
std::string countText(const Graph &g, const Node &n) {
  const std::vector<int64_t> &d = g[n.inputs[0]].type.dims;
  std::vector<int64_t> counted;
  if (n.axis < 0 || n.type.isScalar())
    counted = d;
  else if (n.axis < static_cast<int64_t>(d.size()))
    counted = {d[n.axis]};
  std::string s;
  int64_t fixedPart = 1;
  for (int64_t v : counted) {
    if (v == kBatch)
      s += s.empty() ? "N" : "*N";
    else
      fixedPart *= v;
  }
  if (s.empty())
    return std::to_string(fixedPart);
  return fixedPart == 1 ? s : s + "*" + std::to_string(fixedPart);
}

/// The opt graph written as equations.
class Equations {
public:
  explicit Equations(const Graph &g) : g(g), uses(g.useCounts()) {
    std::vector<bool> external(g.size(), false);
    for (const Output &o : g.outputs)
      external[o.node] = true;
    for (const Update &u : g.updates)
      external[u.value] = true;
    root.assign(g.size(), false);
    for (NodeId id = 0; id < g.size(); ++id) {
      const Node &n = g[id];
      if (hasTrait(n.op, kLeaf))
        continue;
      root[id] = !n.name.empty() || uses[id] != 1 || external[id];
    }
    // Phases: forward unless the node depends on the loss seed.
    std::vector<bool> seeded(g.size(), false);
    for (NodeId id = 0; id < g.size(); ++id) {
      const Node &n = g[id];
      if (n.op == OpKind::Const && n.name.rfind("d.", 0) == 0)
        seeded[id] = true;
      for (NodeId in : n.inputs)
        seeded[id] = seeded[id] || seeded[in];
    }
    phase.assign(g.size(), Phase::Forward);
    for (NodeId id = 0; id < g.size(); ++id)
      phase[id] = seeded[id] ? Phase::Backward : Phase::Forward;
    for (const Update &u : g.updates)
      phase[u.value] = Phase::Update;
  }

  bool isRoot(NodeId id) const { return root[id]; }
  Phase phaseOf(NodeId id) const { return phase[id]; }

  /// How an equation's result is called: its name or %id.
  std::string ref(NodeId id) const {
    const Node &n = g[id];
    if (n.op == OpKind::Const)
      return constText(n);
    return n.name.empty() ? "%" + std::to_string(id) : n.name;
  }

  /// The right-hand side of the equation of `id`.
  std::string rhs(NodeId id) const { return expr(id, 0, true); }

  /// `id` and the nodes written inline in its equation, in graph order.
  std::vector<NodeId> covered(NodeId id) const {
    std::set<NodeId> seen;
    std::function<void(NodeId)> walk = [&](NodeId n) {
      if (!seen.insert(n).second)
        return;
      for (NodeId in : g[n].inputs)
        if (!hasTrait(g[in].op, kLeaf) && !root[in])
          walk(in);
    };
    walk(id);
    return {seen.begin(), seen.end()};
  }

private:
  std::string constText(const Node &n) const {
    if (!n.name.empty() && n.name.rfind("d.", 0) != 0)
      return n.name; // lr, momentum, l2.lambda
    if (n.values.size() == 1)
      return formatDouble(n.values[0]);
    return "const" + n.type.str();
  }

  /// Precedence: 0 top, 1 + -, 2 * / @, 3 unary minus, 4 atoms and ^T.
  std::string expr(NodeId id, int prec, bool top = false) const {
    const Node &n = g[id];
    if (hasTrait(n.op, kLeaf) || (!top && root[id]))
      return ref(id);
    auto in = [&](int k, int p) { return expr(n.inputs[k], p); };
    auto wrap = [&](int mine, const std::string &s) {
      return mine < prec ? "(" + s + ")" : s;
    };
    auto call = [&](const std::string &f) {
      std::string s = f + "(";
      for (size_t k = 0; k < n.inputs.size(); ++k)
        s += (k ? ", " : "") + in(static_cast<int>(k), 0);
      return s + ")";
    };
    switch (n.op) {
    case OpKind::Input:
    case OpKind::Label:
    case OpKind::Param:
    case OpKind::State:
    case OpKind::Const:
      return ref(id);
    case OpKind::Neg:
      return wrap(3, "-" + in(0, 4));
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Sigmoid:
    case OpKind::Relu:
    case OpKind::Tanh:
    case OpKind::Step:
    case OpKind::Softmax:
    case OpKind::OneHot:
    case OpKind::Bce:
    case OpKind::BceLogits:
    case OpKind::CrossEntropy:
    case OpKind::SoftmaxCrossEntropy:
    case OpKind::Mse:
      return call(mnemonic(n.op));
    case OpKind::Add:
      return wrap(1, in(0, 1) + " + " + in(1, 2));
    case OpKind::Sub:
      return wrap(1, in(0, 1) + " - " + in(1, 2));
    case OpKind::Mul:
      // 1 * x is the chain rule's seed: leave it out inside a formula.
      if (!top && isOne(n.inputs[0]))
        return expr(n.inputs[1], prec);
      return wrap(2, in(0, 2) + " * " + in(1, 3));
    case OpKind::Div:
      return wrap(2, in(0, 2) + " / " + in(1, 3));
    case OpKind::MatMul:
      return wrap(2, in(0, 2) + " @ " + in(1, 3));
    case OpKind::Transpose:
      return in(0, 4) + "^T";
    case OpKind::Expand:
      return expr(n.inputs[0], prec); // broadcasting is implicit
    case OpKind::Sum:
    case OpKind::Mean: {
      std::string f = mnemonic(n.op);
      const TensorType &t = g[n.inputs[0]].type;
      if (n.axis == 0 && t.hasBatch())
        f += "_over_batch";
      else if (n.axis >= 0)
        f += "_axis" + std::to_string(n.axis);
      return f + "(" + in(0, 0) + ")";
    }
    case OpKind::Count:
      return countText(g, n);
    case OpKind::Dense:
    case OpKind::FusedMatMul:
    case OpKind::DenseGradInput:
    case OpKind::DenseGradWeight:
    case OpKind::DenseGradBias:
    case OpKind::SoftmaxXentGrad:
    case OpKind::SigmoidBceGrad:
    case OpKind::SgdMomentum:
    case OpKind::Sgd:
    case OpKind::Elementwise:
      return call(mnemonic(n.op)); // not in an unfused graph
    }
    NN_UNREACHABLE("unknown op");
  }

  bool isOne(NodeId id) const {
    const Node &n = g[id];
    return n.op == OpKind::Const && n.values.size() == 1 && n.values[0] == 1.0;
  }

  const Graph &g;
  std::vector<int> uses;
  std::vector<bool> root;
  std::vector<Phase> phase;
};

/// Line `line` (1-based) of `text`, trimmed.
std::string sourceLine(const std::string &text, int line) {
  std::istringstream is(text);
  std::string s;
  for (int i = 1; std::getline(is, s); ++i)
    if (i == line) {
      size_t b = s.find_first_not_of(" \t");
      size_t e = s.find_last_not_of(" \t\r");
      return b == std::string::npos ? "" : s.substr(b, e - b + 1);
    }
  return "";
}

/// The textbook equations of a dense layer found on one line: matmul of a
/// value by a weight Param, plus a bias Param, optionally an activation.
std::string denseTemplate(const Graph &g, const std::vector<NodeId> &ids,
                          double l2) {
  for (NodeId id : ids) {
    const Node &mm = g[id];
    if (mm.op != OpKind::MatMul || g[mm.inputs[1]].op != OpKind::Param)
      continue;
    NodeId add = -1, act = -1;
    for (NodeId u : ids)
      if (g[u].op == OpKind::Add && g[u].inputs[0] == id &&
          g[g[u].inputs[1]].op == OpKind::Param)
        add = u;
    if (add < 0)
      continue;
    for (NodeId u : ids)
      if ((g[u].op == OpKind::Relu || g[u].op == OpKind::Sigmoid ||
           g[u].op == OpKind::Tanh) &&
          g[u].inputs[0] == add)
        act = u;
    const Node &x = g[mm.inputs[0]];
    const Node &w = g[mm.inputs[1]];
    const Node &b = g[g[add].inputs[1]];
    std::string f = act >= 0 ? mnemonic(g[act].op) : "";
    NodeId out = act >= 0 ? act : add;
    std::ostringstream os;
    os << "  dense layer: X = " << x.name << " " << x.type.str() << " -> "
       << (act >= 0 ? "A" : "Z") << " " << g[out].type.str()
       << ";  W = " << w.name << " " << w.type.str() << ",  b = " << b.name
       << " " << b.type.str() << "\n";
    os << "    forward:   Z = X W + b" << (act >= 0 ? ",  A = " + f + "(Z)" : "")
       << "\n";
    os << "    backward:  ";
    if (act >= 0)
      os << "dZ = dA * " << f << "'(Z),  ";
    os << "dW = X^T dZ" << (l2 > 0 && w.isWeight ? " + 2 lambda W (L2)" : "")
       << ",  db = sum over the batch of dZ,\n               ";
    if (x.op == OpKind::Input)
      os << "dX = dZ W^T is not computed: X is the input, it needs no "
            "gradient\n";
    else
      os << "dX = dZ W^T (the gradient the layer before receives)\n";
    if (act >= 0) {
      const char *prime = g[act].op == OpKind::Relu      ? "step(Z): 1 where Z > 0, else 0"
                          : g[act].op == OpKind::Sigmoid ? "A * (1 - A)"
                                                         : "1 - A * A";
      os << "               " << f << "'(Z) = " << prime << "\n";
    }
    return os.str();
  }
  return "";
}

std::string lossTemplate(const Graph &g, const std::vector<NodeId> &ids) {
  for (NodeId id : ids)
    switch (g[id].op) {
    case OpKind::SoftmaxCrossEntropy:
      return "  softmax + cross-entropy: loss = mean over the batch of "
             "-log softmax(Z)[y]\n"
             "    backward:  dZ = (softmax(Z) - onehot(y)) / N  (one op on "
             "the logits, stable)\n";
    case OpKind::BceLogits:
      return "  sigmoid + binary cross-entropy: loss = mean of -y log(p) - "
             "(1 - y) log(1 - p), p = sigmoid(z)\n"
             "    backward:  dz = (sigmoid(z) - y) / N  (computed from the "
             "logits z, stable)\n";
    case OpKind::Mse:
      return "  mean squared error: loss = mean of (p - y)^2\n"
             "    backward:  dp = 2 (p - y) / numel\n";
    case OpKind::Input:
    case OpKind::Label:
    case OpKind::Param:
    case OpKind::State:
    case OpKind::Const:
    case OpKind::Neg:
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Sigmoid:
    case OpKind::Relu:
    case OpKind::Tanh:
    case OpKind::Step:
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::MatMul:
    case OpKind::Transpose:
    case OpKind::Expand:
    case OpKind::Sum:
    case OpKind::Mean:
    case OpKind::Count:
    case OpKind::Softmax:
    case OpKind::OneHot:
    case OpKind::Bce:
    case OpKind::CrossEntropy:
    case OpKind::Dense:
    case OpKind::FusedMatMul:
    case OpKind::DenseGradInput:
    case OpKind::DenseGradWeight:
    case OpKind::DenseGradBias:
    case OpKind::SoftmaxXentGrad:
    case OpKind::SigmoidBceGrad:
    case OpKind::SgdMomentum:
    case OpKind::Sgd:
    case OpKind::Elementwise:
      break;
    }
  return "";
}

const char *phaseName(Phase p) {
  switch (p) {
  case Phase::Forward:
    return "forward";
  case Phase::Backward:
    return "backward";
  case Phase::Update:
    return "update";
  }
  return "?";
}

std::string flopsText(double smp, double step) {
  auto flops = [](double v) { return v == 1 ? " FLOP" : " FLOPs"; };
  if (smp > 0)
    return withCommas(smp) + flops(smp) + "/sample";
  if (step > 0)
    return withCommas(step) + flops(step) + "/step";
  return "0 FLOPs";
}

/// Training samples per epoch from the recipe's data, or a reason.
int64_t trainingSamples(const LoadedModel &m, std::string &why) {
  const Recipe &r = m.model.recipe;
  if (r.data.path.empty()) {
    why = "the model names no training data";
    return -1;
  }
  try {
    Dataset d = loadData(r.data);
    auto [train, val] = splitValidation(d.size(), r.validation, r.seed);
    return static_cast<int64_t>(train.size());
  } catch (const UserError &e) {
    why = e.what();
    return -1;
  }
}

} // namespace

std::string explainModel(const LoadedModel &m, int64_t samples) {
  Graph opt = compileTo(m, Stage::Opt);
  FusionLog log;
  KernelMap kernels(opt, log);
  Equations eq(opt);
  const Recipe &r = m.model.recipe;

  std::ostringstream os;
  os << "model " << opt.name << "  (" << m.path << ")\n"
     << "N = batch size (" << r.batch
     << " in the recipe). Equations as autodiff derived them (nnc emit "
        "--stage=opt);\n"
     << "FLOPs: 2 per multiply-add, 1 per elementwise op, per sample unless "
        "marked per step.\n";

  // Equations by source line, then phase, in graph order.
  std::map<int, std::vector<NodeId>> lines;
  for (NodeId id = 0; id < opt.size(); ++id)
    if (!hasTrait(opt[id].op, kLeaf))
      lines[opt[id].loc.line].push_back(id);

  double macs[3] = {0, 0, 0}, flops[3] = {0, 0, 0}, stepFlops = 0;
  int64_t params = 0, weights = 0;
  for (NodeId id : opt.leaves(OpKind::Param)) {
    params += opt[id].type.numel();
    if (opt[id].isWeight)
      weights += opt[id].type.numel();
  }

  for (const auto &[line, ids] : lines) {
    std::string src = line ? sourceLine(m.text, line) : "";
    os << "\n"
       << (line ? "line " + std::to_string(line) + ": " + src
                : std::string("(no source line)"))
       << "\n";
    os << denseTemplate(opt, ids, r.l2) << lossTemplate(opt, ids);
    for (Phase ph : {Phase::Forward, Phase::Backward, Phase::Update}) {
      bool header = false;
      for (NodeId id : ids) {
        if (!eq.isRoot(id) || eq.phaseOf(id) != ph)
          continue;
        if (!header)
          os << "  " << phaseName(ph) << "\n";
        header = true;
        double smp = 0, step = 0;
        std::string irs;
        std::vector<std::string> ks;
        for (NodeId c : eq.covered(id)) {
          smp += perSample(opt, c);
          step += perStep(opt, c);
          if (opt[c].op == OpKind::MatMul)
            macs[static_cast<int>(ph)] += perSample(opt, c) / 2;
          irs += (irs.empty() ? "%" : ", %") +
                 (opt[c].name.empty() ? std::to_string(c) : opt[c].name) +
                 " (" + mnemonic(opt[c].op) + ")";
          for (const std::string &k : kernels.kernels(c))
            if (std::find(ks.begin(), ks.end(), k) == ks.end())
              ks.push_back(k);
        }
        flops[static_cast<int>(ph)] += smp;
        stepFlops += step;
        os << "    " << column(eq.ref(id) + " = " + eq.rhs(id), 46) << " "
           << column(opt[id].type.str(), 12) << " " << flopsText(smp, step)
           << "\n";
        os << "        IR: " << irs << "\n";
        std::string kt;
        for (const std::string &k : ks)
          kt += (kt.empty() ? "" : ", ") + k;
        os << "        kernel: " << (kt.empty() ? "(none)" : kt) << "\n";
      }
    }
  }

  double fwd = flops[0], bwd = flops[1] + flops[2];
  double fwdMacs = macs[0], bwdMacs = macs[1];
  os << "\ntotals per sample\n"
     << "  forward:   " << withCommas(fwd) << " FLOPs = 2 x "
     << withCommas(fwdMacs) << " multiply-adds + "
     << withCommas(fwd - 2 * fwdMacs)
     << " elementwise (biases, activations, loss)\n"
     << "  backward:  " << withCommas(bwd) << " FLOPs = 2 x "
     << withCommas(bwdMacs) << " multiply-adds + "
     << withCommas(bwd - 2 * bwdMacs) << " elementwise\n"
     << "  training:  " << withCommas(fwd + bwd) << " FLOPs per sample\n"
     << "  per step, any batch: " << withCommas(stepFlops)
     << " FLOPs (optimizer update and L2)\n";

  std::string why;
  if (samples < 0)
    samples = trainingSamples(m, why);
  double rule = 6.0 * static_cast<double>(params);
  if (samples >= 0) {
    int64_t steps = (samples + r.batch - 1) / r.batch;
    double exact = (fwd + bwd) * static_cast<double>(samples) +
                   stepFlops * static_cast<double>(steps);
    double ruleEpoch = rule * static_cast<double>(samples);
    os << "\nper epoch (" << withCommas(static_cast<double>(samples))
       << " training samples, batch " << r.batch << ": " << steps
       << (steps == 1 ? " step)\n" : " steps)\n")
       << "  exact:     " << withCommas(fwd + bwd) << " x "
       << withCommas(static_cast<double>(samples)) << " + "
       << withCommas(stepFlops) << " x " << steps << " = " << withCommas(exact)
       << " FLOPs\n"
       << "  6 x params x samples: 6 x "
       << withCommas(static_cast<double>(params)) << " x "
       << withCommas(static_cast<double>(samples)) << " = "
       << withCommas(ruleEpoch) << " FLOPs";
    if (ruleEpoch > 0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3f", exact / ruleEpoch);
      os << " (exact / rule = " << buf << ")";
    }
    os << "\n";
  } else {
    os << "\nper epoch: unknown (" << why << ")\n";
  }

  // Why the rule differs: 2 MACs per weight forward, 4 backward (dW and dX).
  double ruleBwdMacs = 2 * fwdMacs;
  os << "\nwhy the exact count differs from 6 x params:\n"
     << "  the rule counts one multiply-add per weight forward (2 FLOPs) and "
        "two backward (dW and dX: 4 FLOPs).\n"
     << "  forward multiply-adds: " << withCommas(fwdMacs) << " per sample"
     << (fwdMacs == static_cast<double>(weights) ? ", one per weight" : "")
     << ".\n"
     << "  backward multiply-adds: " << withCommas(bwdMacs) << ", not 2 x "
     << withCommas(fwdMacs) << " = " << withCommas(ruleBwdMacs) << ": ";
  if (bwdMacs < ruleBwdMacs)
    os << withCommas(ruleBwdMacs - bwdMacs)
       << " fewer, because the gradient of an input (dX of the first layer) "
          "is never computed.\n";
  else
    os << "no input gradient is left out.\n";
  os << "  the rule also leaves out the elementwise work (biases, "
        "activations, loss, update), and counts\n"
     << "  biases as if they were multiplied.\n";
  return os.str();
}

ValueMap firstStepLeaves(const LoadedModel &m, const Graph &g,
                         int64_t maxRows, std::vector<int64_t> *rowsOut) {
  const Recipe &r = m.model.recipe;
  if (r.data.path.empty())
    throw UserError("nnc: error: one step needs training data: the model "
                    "names none (use --data)");
  Dataset data = loadData(r.data);
  Trainer(g, compileTo(m, Stage::Forward), r).checkData(data);
  auto [train, val] = splitValidation(data.size(), r.validation, r.seed);
  if (train.empty())
    throw UserError("nnc: error: no training samples left for one step");
  std::vector<int64_t> rows(
      train.begin(),
      train.begin() + std::min<int64_t>(r.batch,
                                        static_cast<int64_t>(train.size())));
  if (maxRows >= 0 && static_cast<int64_t>(rows.size()) > maxRows)
    throw UserError("nnc: error: explain --scalar writes out at most " +
                    std::to_string(maxRows) +
                    " samples per step; the batch is " +
                    std::to_string(rows.size()) + " (use --batch)");
  Dataset batch = selectRows(data, rows);
  TensorMap state = initState(g, r.seed);
  ValueMap leaves;
  for (const auto &[name, t] : state)
    leaves[name] = toValue(t);
  for (const auto &[name, t] : bindBatch(g, batch.x, batch.y))
    leaves[name] = toValue(t);
  if (rowsOut)
    *rowsOut = rows;
  return leaves;
}

std::string explainScalar(const LoadedModel &m) {
  const Recipe &r = m.model.recipe;
  Graph g = compileTo(m, Stage::Fused);
  int64_t params = 0;
  for (NodeId id : g.leaves(OpKind::Param))
    params += g[id].type.numel();
  if (params > 64)
    throw UserError("nnc: error: explain --scalar is for small models (at "
                    "most 64 parameters); " + g.name + " has " +
                    withCommas(static_cast<double>(params)) +
                    ": try 'nnc explain' for the equations per layer");

  ScalarLimits limits;
  std::vector<int64_t> rows;
  ValueMap leaves = firstStepLeaves(m, g, limits.maxBatch, &rows);
  std::vector<ScalarLine> lines = scalarStep(g, leaves, limits);

  std::ostringstream os;
  os << "model " << g.name << "  (" << m.path
     << "): one training step as scalar arithmetic\n"
     << "in the order of the fused graph (nnc emit --stage=fused), computed "
        "in double.\n"
     << "batch: the first " << rows.size() << " training rows of "
     << r.data.path << " in file order (samples A";
  if (rows.size() > 1)
    os << "-" << static_cast<char>('A' + rows.size() - 1);
  os << "); indices are 1-based.\n\ninputs\n";
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    if (n.op != OpKind::Input && n.op != OpKind::Label)
      continue;
    const Value &v = leaves.at(n.name);
    int64_t per = v.numel() / static_cast<int64_t>(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      os << "  " << n.name << "[" << static_cast<char>('A' + i) << "] = ";
      if (per > 1)
        os << "[";
      for (int64_t k = 0; k < per; ++k)
        os << (k ? ", " : "") << scalarText(v.data[i * per + k]);
      os << (per > 1 ? "]" : "") << "\n";
    }
  }
  os << "parameters before the step\n";
  for (NodeId id : g.leaves(OpKind::Param)) {
    const Value &v = leaves.at(g[id].name);
    os << "  " << g[id].name << " = ";
    if (!v.shape.empty())
      os << "[";
    for (int64_t k = 0; k < v.numel(); ++k)
      os << (k ? ", " : "") << scalarText(v.data[k]);
    os << (v.shape.empty() ? "" : "]") << "\n";
  }
  const char *names[] = {"forward", "loss", "backward",
                         "update (w_new = w_old - lr * gradient)"};
  int last = -1;
  for (const ScalarLine &l : lines) {
    int sec = static_cast<int>(l.section);
    if (sec != last)
      os << "\n" << names[sec] << "\n";
    last = sec;
    os << "  " << l.text << "\n";
  }
  return os.str();
}

namespace {

int runExplain(const Args &args) {
  LoadedModel m = loadModel(args);
  applyRecipeFlags(args, m.model.recipe);
  if (args.has("scalar")) {
    std::cout << explainScalar(m);
    return 0;
  }
  int64_t samples = -1;
  if (auto s = args.getInt("samples")) {
    if (*s < 0)
      throw UserError("nnc: error: --samples must be 0 or more");
    samples = *s;
  }
  std::cout << explainModel(m, samples);
  return 0;
}

} // namespace

const Command &explainCommand() {
  static const Command c = [] {
    std::vector<FlagSpec> flags = {
        {"scalar", "",
         "one training step of a small model as scalar multiply-adds with "
         "the actual numbers"},
        {"samples", "N",
         "training samples per epoch for the totals (default: read the "
         "recipe's data, after the validation split)"}};
    for (const FlagSpec &f : recipeFlags())
      flags.push_back(f);
    return Command{"explain",
                   "forward and backward equations per layer, with shapes, "
                   "IR nodes, kernels and FLOPs",
                   flags, runExplain};
  }();
  return c;
}

} // namespace nn

//===- Attributes.cpp - The node attribute table --------------------------===//
///
/// \file
/// Algorithm: a table of rows, each three small functions over one Node
/// field (carried, print, parse); attributeTexts walks the table in order.
/// The defaults a row compares with are Node's member initialisers.
///
//===----------------------------------------------------------------------===//

#include "ir/Attributes.h"
#include "ir/ConvAffine.h"
#include "ir/IRText.h"
#include "ir/Printer.h"

#include "ir/Support.h"

#include <algorithm>
#include <limits>

namespace nn {

std::string valuesText(const std::vector<double> &vs) {
  std::string s = "[";
  for (size_t i = 0; i < vs.size(); ++i)
    s += (i ? ", " : "") + formatDouble(vs[i]);
  return s + "]";
}

std::string activationChoices(const char *last, bool withNone) {
  std::vector<std::string> names;
  for (Activation a : allActivations())
    names.push_back(activationName(a));
  std::sort(names.begin(), names.end());
  if (withNone)
    names.insert(names.begin(), activationName(Activation::None));
  std::string s;
  for (size_t i = 0; i < names.size(); ++i)
    s += (i == 0                  ? ""
          : i + 1 == names.size() ? std::string(" ") + last + " "
                                  : ", ") +
         names[i];
  return s;
}

bool carriesActivation(OpKind op) {
  if (family(op) != OpFamily::Dense)
    return false;
  switch (member<DenseOp>(op)) {
  case DenseOp::Dense:
  case DenseOp::DenseGradInput:
  case DenseOp::DenseGradWeight:
  case DenseOp::DenseGradBias:
    return true;
  case DenseOp::FusedMatMul:
    return false;
  }
  NN_UNREACHABLE("bad DenseOp");
}

bool hasSlope(OpKind op) { return op == OpKind::LeakyRelu; }

bool takesActivation(OpKind op) {
  return carriesActivation(op) || op == OpKind::Conv2d ||
         op == OpKind::Conv2dGradInput || op == OpKind::Conv2dGradWeight ||
         op == OpKind::ChannelSum;
}

bool hasWindow(OpKind op) {
  if (family(op) != OpFamily::Spatial)
    return false;
  switch (member<SpatialOp>(op)) {
  case SpatialOp::Conv2d:
  case SpatialOp::Conv2dGradInput:
  case SpatialOp::Conv2dGradWeight:
  case SpatialOp::MaxPool2d:
  case SpatialOp::MaxPool2dGrad:
  case SpatialOp::AvgPool2d:
  case SpatialOp::AvgPool2dGrad:
    return true;
  case SpatialOp::ChannelSum:
  case SpatialOp::ChannelMean:
  case SpatialOp::ChannelVar:
  case SpatialOp::ChannelAffine:
  case SpatialOp::BatchNormalize:
  case SpatialOp::BatchNormalizeGrad:
    return false;
  }
  NN_UNREACHABLE("bad SpatialOp");
}

bool carriesSlope(const Node &n) {
  return hasSlope(n.op) ||
         (n.act != Activation::None && hasSlope(opOf(activationOp(n.act))));
}

namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();

/// `he`, `constant(0.5)`, `uniform(-0.1, 0.1)`: the arguments the kind
/// needs, and any other non-zero ones.
std::string initStr(const Init &init) {
  int needed = init.kind == InitKind::Constant ? 1
               : init.kind == InitKind::Uniform || init.kind == InitKind::Normal
                   ? 2
                   : 0;
  int n = std::max(needed, init.b != 0 ? 2 : init.a != 0 ? 1 : 0);
  std::string s = initName(init.kind);
  if (n == 0)
    return s;
  s += "(" + formatDouble(init.a);
  if (n == 2)
    s += ", " + formatDouble(init.b);
  return s + ")";
}

/// Step `i` of a fused.elementwise body as a nested expression:
/// `sub(%0, mul(0.05, %1))`. The fusion passes and the parser store bodies
/// as trees in this order (post-order, arguments left to right), so the
/// text parses back to the same steps.
std::string bodyExpr(const std::vector<ExprStep> &body, size_t i) {
  const ExprStep &s = body[i];
  if (s.op == OpKind::Const)
    return formatDouble(s.value);
  std::string r = std::string(mnemonic(s.op)) + "(";
  std::string slope =
      hasSlope(s.op) ? ", slope = " + formatDouble(s.value) : std::string();
  for (size_t k = 0; k < s.args.size(); ++k) {
    int a = s.args[k];
    r += k ? ", " : "";
    if (a >= 0)
      r += "%" + std::to_string(a);
    else if (static_cast<size_t>(-1 - static_cast<int64_t>(a)) < i)
      r += bodyExpr(body, static_cast<size_t>(-1 - static_cast<int64_t>(a)));
    else
      r += "?"; // malformed; the verifier says why
  }
  return r + slope + ")";
}

LabelKind readLabelKind(AttrReader &r) {
  std::optional<std::string> w = r.takeWord();
  for (LabelKind k : {LabelKind::Binary, LabelKind::Class, LabelKind::Real})
    if (w && *w == labelKindName(k))
      return k;
  r.failAtTaken("expected a label kind (binary, class or real)");
  NN_UNREACHABLE("failAtTaken returned");
}

Activation readActivation(AttrReader &r) {
  std::optional<std::string> w = r.takeWord();
  if (w && *w == activationName(Activation::None))
    return Activation::None;
  for (Activation a : allActivations())
    if (w && *w == activationName(a))
      return a;
  r.failAtTaken("expected an activation (" + activationChoices("or", true) +
                ")");
  NN_UNREACHABLE("failAtTaken returned");
}

/// The normalizing ops, whose Node::param is eps: always printed.
bool takesEps(OpKind op) {
  return op == OpKind::Normalize || op == OpKind::NormalizeGrad ||
         op == OpKind::BatchNormalize || op == OpKind::BatchNormalizeGrad;
}

/// `[3, 3]`: a window's pair.
std::string pairText(const int64_t (&v)[2]) {
  return "[" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + "]";
}

/// Reads `[a, b]` into `v`, each a whole number in [lo, 2^31).
void readPair(AttrReader &r, int64_t (&v)[2], int64_t lo) {
  std::vector<double> vs = r.readValues();
  for (size_t a = 0; a < 2; ++a) {
    if (vs.size() != 2 ||
        !(vs[a] >= static_cast<double>(lo) && vs[a] < 2147483648.0) ||
        vs[a] != static_cast<double>(static_cast<int64_t>(vs[a])))
      throw UserError("error: a window's kernel, stride, padding and "
                      "dilation are two whole numbers, [height, width], of "
                      "at least " +
                      std::to_string(lo));
    v[a] = static_cast<int64_t>(vs[a]);
  }
}

/// A window pair's row, on the ops with a window: always printed when
/// `Always`, else when it is not [1, 1] (dilation).
template <int64_t (Window::*Field)[2], bool Always>
AttrSpec windowRow(const char *name) {
  return {name, false,
          [](const Node &n) {
            const int64_t(&v)[2] = n.win.*Field;
            return hasWindow(n.op) && (Always || v[0] != 1 || v[1] != 1);
          },
          [](const Node &n) { return pairText(n.win.*Field); },
          [](AttrReader &r, Node &n) {
            readPair(r, n.win.*Field, Field == &Window::padding ? 0 : 1);
          }};
}

/// A flag attribute's row: `field` of Node, false by default.
template <bool Node::*Field> AttrSpec flagRow(const char *name) {
  return {name, true, [](const Node &n) { return n.*Field; },
          [](const Node &) { return std::string(); },
          [](AttrReader &, Node &n) { n.*Field = true; }};
}

/// The rows of the spatial ops (their window, reshape's shape) and of
/// buffers, after the others.
std::vector<AttrSpec> spatialRows() {
  return {
      windowRow<&Window::kernel, true>("kernel"),
      windowRow<&Window::stride, true>("stride"),
      windowRow<&Window::padding, true>("padding"),
      windowRow<&Window::dilation, false>("dilation"),
      {"groups", false, [](const Node &n) { return n.win.groups != 1; },
       [](const Node &n) { return std::to_string(n.win.groups); },
       [](AttrReader &r, Node &n) {
         n.win.groups = r.readInt(1, std::numeric_limits<int32_t>::max(),
                                  "a number of groups");
       }},
      {"shape", false, [](const Node &n) { return !n.shape.empty(); },
       [](const Node &n) { return TensorType::of(n.shape).str(); },
       [](AttrReader &r, Node &n) {
         TensorType t = r.readType();
         if (t.dims.empty())
           throw UserError("error: a shape needs its dimensions, as in "
                           "'shape = f32[N,1,28,28]'");
         n.shape = t.dims;
       }},
      flagRow<&Node::buffer>("buffer"),
      // conv2d with a folded channel affine (ir/ConvAffine.h): where it
      // goes, relative to the activation.
      {"affine", false,
       [](const Node &n) {
         return n.op == OpKind::Conv2d && convOperands(n).hasAffine();
       },
       [](const Node &n) {
         return std::string(affineAfterAct(n) ? "after" : "before");
       },
       [](AttrReader &r, Node &n) {
         std::optional<std::string> w = r.takeWord();
         if (w && (*w == "before" || *w == "after")) {
           n.axis = *w == "after" ? kAffineAfterAct : -1;
           return;
         }
         r.failAtTaken("expected 'before' or 'after' (the activation)");
       }},
  };
}

std::vector<AttrSpec> makeTable() {
  return {
      // conv2d keeps its `affine` in axis (ir/ConvAffine.h): printed below.
      {"axis", false,
       [](const Node &n) { return n.axis != -1 && n.op != OpKind::Conv2d; },
       [](const Node &n) { return std::to_string(n.axis); },
       [](AttrReader &r, Node &n) {
         n.axis = r.readInt(-kMaxInt, kMaxInt, "an axis");
       }},
      {"classes", false, [](const Node &n) { return n.classes != 0; },
       [](const Node &n) { return std::to_string(n.classes); },
       [](AttrReader &r, Node &n) {
         n.classes = r.readInt(-kMaxInt, kMaxInt, "a number of classes");
       }},
      {"kind", false,
       [](const Node &n) {
         return n.op == OpKind::Label || n.labelKind != LabelKind::Real;
       },
       [](const Node &n) { return std::string(labelKindName(n.labelKind)); },
       [](AttrReader &r, Node &n) { n.labelKind = readLabelKind(r); }},
      {"init", false,
       [](const Node &n) {
         return n.op == OpKind::Param || n.init.kind != InitKind::Zeros ||
                n.init.a != 0 || n.init.b != 0;
       },
       [](const Node &n) { return initStr(n.init); },
       [](AttrReader &r, Node &n) { n.init = r.readInit(); }},
      flagRow<&Node::isWeight>("weight"),
      flagRow<&Node::storedTransposed>("transposed"),
      {"values", false,
       [](const Node &n) { return n.op != OpKind::Const && !n.values.empty(); },
       [](const Node &n) { return valuesText(n.values); },
       [](AttrReader &r, Node &n) { n.values = r.readValues(); }},
      {"act", false,
       [](const Node &n) {
         return carriesActivation(n.op) || n.act != Activation::None;
       },
       [](const Node &n) { return std::string(activationName(n.act)); },
       [](AttrReader &r, Node &n) { n.act = readActivation(r); }},
      {"slope", false, carriesSlope,
       [](const Node &n) { return formatDouble(n.param); },
       [](AttrReader &r, Node &n) { n.param = r.readNumber(); }},
      flagRow<&Node::transA>("transA"),
      flagRow<&Node::transB>("transB"),
      // Dropout's key and probability (ir/Philox.h): always printed on it.
      {"p", false, [](const Node &n) { return n.op == OpKind::Dropout; },
       [](const Node &n) { return formatDouble(n.param); },
       [](AttrReader &r, Node &n) { n.param = r.readNumber(); }},
      {"seed", false,
       [](const Node &n) { return n.op == OpKind::Dropout || n.seed != 0; },
       [](const Node &n) { return std::to_string(n.seed); },
       [](AttrReader &r, Node &n) {
         n.seed = static_cast<uint64_t>(r.readInt(0, kMaxInt, "a seed"));
       }},
      {"stream", false,
       [](const Node &n) { return n.op == OpKind::Dropout || n.stream != 0; },
       [](const Node &n) { return std::to_string(n.stream); },
       [](AttrReader &r, Node &n) {
         n.stream = r.readInt(0, std::numeric_limits<uint32_t>::max(),
                              "a stream number");
       }},
      {"body", false, [](const Node &n) { return !n.body.empty(); },
       [](const Node &n) { return bodyExpr(n.body, n.body.size() - 1); },
       [](AttrReader &r, Node &n) { r.readBody(n.body); }},
      {"eps", false, [](const Node &n) { return takesEps(n.op); },
       [](const Node &n) { return formatDouble(n.param); },
       [](AttrReader &r, Node &n) { n.param = r.readNumber(); }},
  };
}

} // namespace

const std::vector<AttrSpec> &attributeTable() {
  static const std::vector<AttrSpec> table = [] {
    std::vector<AttrSpec> t = makeTable();
    for (AttrSpec &r : spatialRows())
      t.push_back(r);
    return t;
  }();
  return table;
}

const AttrSpec *findAttribute(std::string_view name) {
  for (const AttrSpec &a : attributeTable())
    if (name == a.name)
      return &a;
  return nullptr;
}

std::vector<std::string> attributeTexts(const Node &n) {
  std::vector<std::string> attrs;
  for (const AttrSpec &a : attributeTable())
    if (a.carried(n))
      attrs.push_back(a.flag ? std::string(a.name)
                             : std::string(a.name) + " = " + a.print(n));
  return attrs;
}

} // namespace nn

//===- FuseDense.cpp - Forward dense layers -------------------------------===//
///
/// \file
/// Algorithm: each live matmul `p = matmul(x, w)` with a 2-D x is a
/// candidate. It fuses when p's only use is `s = add(p, b)` (either order)
/// and b broadcasts to p's shape without widening it; when s's only use is
/// an activation (an NN_ACTIVATION op), it joins too. The last node of the
/// group is rewritten in place as `fused.dense x, w, b {act = ...}` (keeping
/// its name), so its users need no change; the matmul and add die. The log
/// names the reason for each candidate left alone (another user of an
/// intermediate, no bias add, a shape), and why an activation stayed out
/// (for gelu and silu in a training graph: their gradient reads the
/// pre-activation, which then has two users).
///
//===----------------------------------------------------------------------===//

#include "passes/Fuse.h"
#include "passes/FuseUtil.h"
#include "passes/InferShapes.h"

namespace nn {

namespace {

/// Why the activation reading pre-activation `s` stays out of the fused
/// dense op ("" when no activation reads it): s has other users. Where the
/// activation's derivative is written in its input (gelu, silu), its own
/// gradient is such a user, so a training graph keeps it separate.
std::string activationLeftOut(const FuseContext &c, NodeId s) {
  for (NodeId u : c.users[s]) {
    std::optional<Activation> act = activationOf(c.g[u].op);
    if (!act)
      continue;
    std::string why = "; activation not fused: the pre-activation " + c.who(s) +
                      " has " + c.usersStr(s);
    if (gradFromInput(*act))
      why += " (" + std::string(activationName(*act)) +
             "'s gradient is computed from its input, so the input is kept)";
    return why;
  }
  return "";
}

} // namespace

Graph fuseDense(const Graph &g, FusionLog &log) {
  Graph out = g;
  FuseContext c(g);
  const char *kName = "dense";
  for (NodeId p = 0; p < g.size(); ++p) {
    if (!c.live[p] || g[p].op != OpKind::MatMul)
      continue;
    NodeId x = g[p].inputs[0], w = g[p].inputs[1];
    std::string what = c.who(p);
    if (c.type(x).rank() != 2) {
      log.add(kName, false,
              what + ": not fused: shape: the left operand " + c.who(x) +
                  " is " + c.type(x).str() + ", not a matrix");
      continue;
    }
    if (c.uses[p] != 1 || c.users[p].size() != 1 ||
        !c.is(c.users[p][0], OpKind::Add)) {
      log.add(kName, false,
              what + ": not fused: " +
                  (c.uses[p] == 1 ? "no bias add follows (" + c.usersStr(p) +
                                        ")"
                                  : "the product has " + c.usersStr(p)));
      continue;
    }
    NodeId s = c.users[p][0];
    NodeId b = g[s].inputs[0] == p ? g[s].inputs[1] : g[s].inputs[0];
    if (b == p) {
      log.add(kName, false, what + ": not fused: " + c.who(s) +
                                " adds the product to itself");
      continue;
    }
    auto dims = broadcastDims(c.type(p).dims, c.type(b).dims);
    if (!dims || *dims != c.type(p).dims) {
      log.add(kName, false,
              what + ": not fused: shape: the bias " + c.who(b) + " " +
                  c.type(b).str() + " widens the product " +
                  c.type(p).str());
      continue;
    }
    NodeId root = s;
    Activation act = Activation::None;
    std::string note;
    if (c.uses[s] == 1 && c.users[s].size() == 1 &&
        activationOf(g[c.users[s][0]].op)) {
      root = c.users[s][0];
      act = *activationOf(g[root].op);
    } else {
      note = activationLeftOut(c, s);
    }
    rewriteAs(out[root], OpKind::Dense, {x, w, b});
    out[root].act = act;
    out[root].param = act == Activation::None ? 0.0 : g[root].param;
    std::string group = what + " + " + c.who(s);
    if (act != Activation::None)
      group += " + " + c.who(root);
    log.add(kName, true,
            group + " -> " + c.who(root) + " = fused.dense {act = " +
                activationName(act) + "}" + note);
  }
  return out;
}

} // namespace nn

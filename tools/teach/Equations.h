//===- Equations.h - A graph written as equations --------------*- C++ -*-===//
///
/// \file
/// The opt graph (after autodiff, CSE and DCE) as the equations `nnc
/// explain` prints: a node becomes an equation when it has a name, several
/// uses, or is an output or update; single-use helpers (transposes,
/// broadcasts, counts, constants) are written inline. Each equation has a
/// phase: forward (does not depend on the loss seed dL/dL = 1), update (the
/// new value of a parameter or optimizer state), backward (the rest).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "tools/teach/FormulaText.h"

#include <string>
#include <vector>

namespace nn {

enum class Phase { Forward, Backward, Update };

/// "forward", "backward", "update".
const char *phaseName(Phase p);

class Equations {
public:
  explicit Equations(const Graph &g);

  /// Whether `id` has an equation of its own.
  bool isRoot(NodeId id) const { return root[id]; }
  Phase phaseOf(NodeId id) const { return phase[id]; }

  /// How an equation's result is called: its name, %id, or a constant.
  std::string ref(NodeId id) const;

  /// The right-hand side of the equation of `id`.
  std::string rhs(NodeId id) const { return expr(id, true).text; }

  /// `id` and the nodes written inline in its equation, in graph order.
  std::vector<NodeId> covered(NodeId id) const;

private:
  std::string constText(const Node &n) const;
  FormulaText expr(NodeId id, bool top = false) const;
  FormulaText operand(const Node &n, size_t k) const;
  std::vector<FormulaText> operands(const Node &n) const;
  FormulaText elementwise(const Node &n, bool top) const;
  FormulaText linalg(const Node &n) const;
  FormulaText reduce(const Node &n) const;
  FormulaText random(const Node &n) const;
  FormulaText spatial(const Node &n) const;
  bool isOne(NodeId id) const;

  const Graph &g;
  std::vector<int> uses;
  std::vector<bool> root;
  std::vector<Phase> phase;
};

} // namespace nn

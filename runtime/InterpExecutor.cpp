//===- InterpExecutor.cpp - The reference interpreter as a backend --------===//
///
/// \file
/// Runs graphs on runtime/Interpreter: double precision inside, float32 state
/// between steps (as every compiled backend keeps it).
///
//===----------------------------------------------------------------------===//

#include "ir/Support.h"
#include "runtime/Executor.h"
#include "runtime/Interpreter.h"
#include "runtime/LeafChecks.h"

namespace nn {

namespace {

class InterpExecutor : public Executor {
public:
  explicit InterpExecutor(const Graph &g) : interp(g), graph(g) {}

  void setState(const TensorMap &s) override {
    checkStateLeaves(graph, s);
    held = s;
  }

  const TensorMap &state() const override { return held; }

  void setScalar(const std::string &name, double value) override {
    scalarStateLeaf(graph, name);
    held.at(name).data.at(0) = static_cast<float>(value);
  }

  TensorMap run(const TensorMap &batch) override {
    ValueMap leaves;
    for (const auto &[name, t] : held)
      leaves[name] = toValue(t);
    for (const auto &[name, t] : batch)
      leaves[name] = toValue(t);
    Interpreter::Result r = interp.step(leaves);
    for (auto &[name, v] : r.updates)
      held[name] = toTensor(v);
    TensorMap out;
    for (auto &[name, v] : r.outputs)
      out[name] = toTensor(v);
    return out;
  }

private:
  Interpreter interp;
  Graph graph;
  TensorMap held;
};

} // namespace

std::unique_ptr<Executor> makeInterpExecutor(const Graph &g) {
  return std::make_unique<InterpExecutor>(g);
}

} // namespace nn

//===- EmulatedStep.h - A step on the emulator vs the interp -*- C++ -*-===//
///
/// \file
/// What the emulator tests share: NEED_FIBERS() skips a test under
/// AddressSanitizer (the emulator's threads are ucontext fibers, which ASan
/// does not follow), and expectEmulatedStep runs one training step of a
/// graph's CUDA kernels on the emulator against the interpreter;
/// chainedSteps runs several, carrying the state of both.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "CudaEmulator.h"
#include "CudaTestUtil.h"

#include "codegen/cuda/CudaPrinter.h"

#if defined(__SANITIZE_ADDRESS__)
#define NEED_FIBERS()                                                          \
  GTEST_SKIP() << "AddressSanitizer does not follow ucontext fibers"
#else
#define NEED_FIBERS()
#endif

namespace nn::cudatest {

/// One step of `g` at `batch` on the emulator: every output and update
/// within 1e-4 of the interpreter's. Returns how many updates it compared.
inline size_t expectEmulatedStep(const Graph &g, int64_t batch,
                                 const std::string &what) {
  ValueMap leaves = randomLeaves(g, batch, 11);
  Interpreter::Result want = Interpreter(g).step(leaves);
  CudaSource src = printCuda(g);
  CudaEmulator emu(src);
  TensorMap state = toTensors(leaves, g, true);
  TensorMap out = emu.runStep(g, state, toTensors(leaves, g, false));
  for (const auto &[name, v] : want.outputs)
    expectClose(out.at(name), v, 1e-4, what + ": output " + name);
  for (const auto &[name, v] : want.updates)
    expectClose(state.at(name), v, 1e-4, what + ": update of " + name);
  return want.updates.size();
}

/// The outputs of `g` (an evaluation graph: nothing updated) on `leaves`,
/// run by `src`'s kernels on the emulator: each within 1e-4 of the
/// interpreter's.
inline void expectEmulatedOutputs(const Graph &g, const CudaSource &src,
                                  const ValueMap &leaves,
                                  const std::string &what) {
  Interpreter::Result want = Interpreter(g).step(leaves);
  CudaEmulator emu(src);
  TensorMap state = toTensors(leaves, g, true);
  TensorMap out = emu.runStep(g, state, toTensors(leaves, g, false));
  ASSERT_FALSE(want.outputs.empty()) << what;
  for (const auto &[name, v] : want.outputs)
    expectClose(out.at(name), v, 1e-4, what + ": output " + name);
}

/// `steps` training steps of `g` at `batch` on new batches, on the emulator
/// and on the interpreter, each carrying its own weights, momenta and
/// running statistics from the same start.
struct ChainedSteps {
  TensorMap emulated; ///< the emulator's state after the steps
  ValueMap want;      ///< the interpreter's leaves after the steps
};
inline ChainedSteps chainedSteps(const Graph &g, int64_t batch, int steps) {
  CudaSource src = printCuda(g);
  CudaEmulator emu(src);
  ValueMap init = randomLeaves(g, batch, 7);
  ChainedSteps r{toTensors(init, g, true), init};
  for (int step = 0; step < steps; ++step) {
    ValueMap b = randomLeaves(g, batch, 100 + static_cast<uint64_t>(step));
    for (const Node &n : g.nodes)
      if (n.op == OpKind::Input || n.op == OpKind::Label)
        r.want[n.name] = b.at(n.name);
    emu.runStep(g, r.emulated, toTensors(b, g, false));
    Interpreter::Result i = Interpreter(g).step(r.want);
    for (const auto &[name, v] : i.updates)
      r.want[name] = v;
  }
  return r;
}

} // namespace nn::cudatest

//===- EmulatedStep.h - A step on the emulator vs the interp -*- C++ -*-===//
///
/// \file
/// What the emulator tests share: NEED_FIBERS() skips a test under
/// AddressSanitizer (the emulator's threads are ucontext fibers, which ASan
/// does not follow), and expectEmulatedStep runs one training step of a
/// graph's CUDA kernels on the emulator against the interpreter.
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

} // namespace nn::cudatest

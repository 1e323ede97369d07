//===- CudaEmulator.cpp - Generated CUDA kernels run on the host ----------===//

// Fibers switch stacks with _longjmp, which _FORTIFY_SOURCE's checked
// longjmp would take for a jump into an unwound frame.
#undef _FORTIFY_SOURCE

#include "CudaEmulator.h"

#include "ir/Support.h"
#include "codegen/cuda/CudaStep.h"
#include "passes/MemoryPlan.h"
#include "runtime/LeafChecks.h"

#include <dlfcn.h>
#include <setjmp.h>
#include <ucontext.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <stdexcept>
#include <utility>

namespace nn::cudatest {

namespace {

struct Dim3 {
  unsigned x = 0, y = 0, z = 0;
};

/// The variables CudaEmu.h defines in the loaded module.
struct ModuleGlobals {
  Dim3 *threadIdx = nullptr, *blockIdx = nullptr, *blockDim = nullptr,
       *gridDim = nullptr;
  void (**syncthreads)() = nullptr;
};

enum class FiberState { Ready, AtBarrier, Done };

struct Fiber {
  ucontext_t start;      // where the fiber begins (makecontext)
  jmp_buf resume;        // where it waits at a barrier
  std::vector<char> stack;
  FiberState state = FiberState::Ready;
  bool started = false;
};

constexpr size_t kStackBytes = 64 * 1024;

// The scheduler's state (one launch at a time). Fibers start with
// setcontext and switch with _setjmp/_longjmp, which (unlike swapcontext)
// leave the signal mask alone: no system call per switch.
jmp_buf scheduler;
Fiber *current = nullptr;
const std::function<void()> *threadBody = nullptr;

void fiberMain() {
  (*threadBody)();
  current->state = FiberState::Done;
  _longjmp(scheduler, 1);
}

void syncthreads() {
  current->state = FiberState::AtBarrier;
  if (!_setjmp(current->resume))
    _longjmp(scheduler, 1);
}

/// Runs fiber `f` until it waits at a barrier or returns. (Alone in its
/// frame: no local of the scheduler's loop is live across the _setjmp.)
__attribute__((noinline)) void resume(Fiber *f) {
  current = f;
  if (!_setjmp(scheduler)) {
    if (!current->started) {
      current->started = true;
      setcontext(&current->start);
    }
    _longjmp(current->resume, 1);
  }
}

/// Runs `body` once per thread of one block, as fibers that meet at each
/// __syncthreads; throws on a barrier that only some threads reach.
void runBlock(std::vector<Fiber> &fibers, Dim3 *threadIdx,
              const std::function<void()> &body) {
  threadBody = &body;
  for (Fiber &f : fibers) {
    if (f.stack.empty()) {
      f.stack.resize(kStackBytes);
      getcontext(&f.start);
    }
    f.start.uc_stack.ss_sp = f.stack.data();
    f.start.uc_stack.ss_size = f.stack.size();
    f.start.uc_link = nullptr; // fiberMain jumps back instead
    makecontext(&f.start, fiberMain, 0);
    f.state = FiberState::Ready;
    f.started = false;
  }
  for (;;) {
    for (size_t t = 0; t < fibers.size(); ++t) {
      if (fibers[t].state != FiberState::Ready)
        continue;
      threadIdx->x = static_cast<unsigned>(t);
      resume(&fibers[t]);
    }
    size_t done = 0, waiting = 0;
    for (const Fiber &f : fibers) {
      done += f.state == FiberState::Done;
      waiting += f.state == FiberState::AtBarrier;
    }
    if (done == fibers.size())
      return;
    if (done > 0)
      throw std::runtime_error(
          std::to_string(waiting) + " threads wait at __syncthreads after " +
          std::to_string(done) + " threads of the block returned");
    for (Fiber &f : fibers)
      f.state = FiberState::Ready;
  }
}

template <size_t... I>
void callKernel(void *fn, float *const *p, long long batch,
                std::index_sequence<I...>) {
  using Fn = void (*)(decltype((void)I, static_cast<float *>(nullptr))...,
                      long long);
  reinterpret_cast<Fn>(fn)(p[I]..., batch);
}

template <size_t N>
void callKernelN(void *fn, float *const *p, long long batch) {
  callKernel(fn, p, batch, std::make_index_sequence<N>{});
}

size_t bytesOf(const TensorType &t, int64_t batch) {
  return static_cast<size_t>(Tensor::numelOf(concreteDims(t, batch))) *
         sizeof(float);
}

} // namespace

CudaEmulator::CudaEmulator(const CudaSource &s) : src(s) {
  char tmpl[] = "/tmp/nnc-cudaemu-XXXXXX";
  NN_ASSERT(mkdtemp(tmpl), "cannot make a temp folder");
  dir = tmpl;
  std::string cu = dir + "/module.cpp", so = dir + "/module.so",
              log = dir + "/compile.log";
  std::ofstream(cu) << src.code;
  std::string cmd = std::string(NNC_CXX) +
                    " -std=c++17 -O1 -ffp-contract=off -fPIC -shared "
                    "-include " NNC_SOURCE_DIR "/tests/unit/cuda/CudaEmu.h " +
                    cu + " -o " + so + " > " + log + " 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    throw std::runtime_error("the host compiler rejected the generated "
                             "module (" + cu + "):\n" + text);
  }
  lib = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    throw std::runtime_error(std::string("dlopen: ") + dlerror());
}

CudaEmulator::~CudaEmulator() {
  if (lib)
    dlclose(lib);
  std::string cmd = "rm -rf '" + dir + "'";
  if (std::system(cmd.c_str()) != 0)
    std::fprintf(stderr, "cannot remove %s\n", dir.c_str());
}

void CudaEmulator::launch(const CudaKernel &k, const std::vector<float *> &ptrs,
                          long long batch) {
  ModuleGlobals m;
  m.threadIdx = static_cast<Dim3 *>(dlsym(lib, "threadIdx"));
  m.blockIdx = static_cast<Dim3 *>(dlsym(lib, "blockIdx"));
  m.blockDim = static_cast<Dim3 *>(dlsym(lib, "blockDim"));
  m.gridDim = static_cast<Dim3 *>(dlsym(lib, "gridDim"));
  m.syncthreads = reinterpret_cast<void (**)()>(dlsym(lib, "nn_emu_syncthreads"));
  CudaLaunchDims d = cudaLaunchDims(k, batch);
  const std::string &name = cudaLaunchName(k, d);
  void *fn = dlsym(lib, name.c_str());
  if (!m.threadIdx || !m.blockIdx || !m.blockDim || !m.gridDim ||
      !m.syncthreads || !fn)
    throw std::runtime_error("the module lacks " + name +
                             " or the emulator's globals");
  *m.syncthreads = syncthreads;
  *m.blockDim = {d.block, 1, 1};
  *m.gridDim = {d.grid, 1, 1};
  std::function<void()> body;
  switch (ptrs.size()) {
#define NN_ARITY(n)                                                            \
  case n:                                                                      \
    body = [&] { callKernelN<n>(fn, ptrs.data(), batch); };                    \
    break;
    NN_ARITY(1)
    NN_ARITY(2)
    NN_ARITY(3)
    NN_ARITY(4)
    NN_ARITY(5)
    NN_ARITY(6)
    NN_ARITY(7)
    NN_ARITY(8)
    // The L2 sum of a deep model reads every weight (EveryActivation.h).
    NN_ARITY(9)
    NN_ARITY(10)
    NN_ARITY(11)
    NN_ARITY(12)
    NN_ARITY(13)
    NN_ARITY(14)
    // An Adam chain kernel: (out, in...) of its three members.
    NN_ARITY(15)
    NN_ARITY(16)
    // With its folded gradient (passes/UpdateChains.h): 4 or 5 more.
    NN_ARITY(17)
    NN_ARITY(18)
    NN_ARITY(19)
    NN_ARITY(20)
    NN_ARITY(21)
#undef NN_ARITY
  default:
    throw std::runtime_error(name + ": too many arguments to emulate");
  }
  static std::vector<Fiber> fibers; // reused: stacks outlive launches
  fibers.resize(d.block);
  for (unsigned b = 0; b < d.grid; ++b) {
    *m.blockIdx = {b, 0, 0};
    try {
      runBlock(fibers, m.threadIdx, body);
    } catch (const std::runtime_error &e) {
      throw std::runtime_error(name + ", block " + std::to_string(b) +
                               ": " + e.what());
    }
  }
}

TensorMap CudaEmulator::runStep(const Graph &g, TensorMap &state,
                                const TensorMap &batch) {
  int64_t n0 = batchRows(g, batch);
  MemoryPlan plan = planMemory(g, n0);
  // Poisoned, as device memory may hold anything: a kernel that reads what
  // it never wrote sees NaN.
  std::vector<float> arena(static_cast<size_t>(plan.arenaBytes) / 4 + 1,
                           std::numeric_limits<float>::quiet_NaN());
  std::map<NodeId, std::vector<float>> leaf;
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    if (n.op == OpKind::Param || n.op == OpKind::State)
      leaf[id] = state.at(n.name).data;
    else if (n.op == OpKind::Input || n.op == OpKind::Label)
      leaf[id] = batch.at(n.name).data;
    else if (n.op == OpKind::Const && n.values.size() > 1)
      leaf[id].assign(n.values.begin(), n.values.end());
  }
  auto ptrOf = [&](NodeId id) -> float * {
    CudaPlace p = cudaPlaceOf(g, src, plan, id);
    switch (p.kind) {
    case CudaPlace::Leaf:
      return leaf.at(p.leaf).data();
    case CudaPlace::Inlined:
      return nullptr;
    case CudaPlace::Arena:
      return arena.data() + p.offset / 4;
    }
    NN_UNREACHABLE("bad CudaPlace");
  };
  for (size_t i : cudaLaunchList(g, src, plan)) {
    const CudaKernel &k = src.kernels[i];
    std::vector<float *> ptrs;
    for (NodeId id : cudaKernelArgs(g, k))
      ptrs.push_back(ptrOf(id));
    launch(k, ptrs, n0);
  }
  TensorMap out;
  for (const Output &o : g.outputs) {
    const Node &n = g[o.node];
    Tensor t(concreteDims(n.type, n0));
    if (n.op == OpKind::Const && n.values.size() == 1)
      std::fill(t.data.begin(), t.data.end(), static_cast<float>(n.values[0]));
    else
      std::memcpy(t.data.data(), ptrOf(o.node), bytesOf(n.type, n0));
    out[o.name] = std::move(t);
  }
  for (const Update &u : g.updates) {
    Tensor &target = state.at(g[u.target].name);
    switch (cudaUpdateCopy(g, src, u)) {
    case CudaUpdateCopy::Fill:
      std::fill(target.data.begin(), target.data.end(),
                static_cast<float>(g[u.value].values[0]));
      break;
    case CudaUpdateCopy::None:
      target.data = leaf.at(u.target); // computed in place
      break;
    case CudaUpdateCopy::Copy:
      std::memcpy(target.data.data(), ptrOf(u.value),
                  target.data.size() * sizeof(float));
      break;
    }
  }
  return out;
}

} // namespace nn::cudatest

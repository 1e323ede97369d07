//===- KillDuringWriteTest.cpp - SIGKILL at random points of a save -------===//
///
/// \file
/// A child process writes checkpoints (saveCheckpoint: FILE.prev kept, then
/// an atomic replace) in a loop; the parent kills it with SIGKILL after a
/// random delay, many times. Every time, the checkpoint must load (its CRC
/// checks) and hold one whole version, never a torn mix; FILE.prev too.
///
//===----------------------------------------------------------------------===//
#include "FaultTestUtil.h"

#include "runtime/Rng.h"
#include "runtime/Safetensors.h"

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace nn {
namespace {

/// Every value of every tensor is `version` (1 MiB of data in all, so a
/// write takes long enough to be hit mid-way).
TensorMap versionState(const Graph &g, float version) {
  TensorMap m;
  for (OpKind k : {OpKind::Param, OpKind::State})
    for (NodeId id : g.leaves(k)) {
      Tensor t(g[id].type.dims);
      std::fill(t.data.begin(), t.data.end(), version);
      m[g[id].name] = std::move(t);
    }
  return m;
}

/// The version a checkpoint holds; fails the test on a torn file.
float checkWhole(const std::string &path) {
  SafetensorsFile f = readSafetensors(path); // throws on a CRC mismatch
  float v = f.tensors.begin()->second.data.at(0);
  for (const auto &[name, t] : f.tensors)
    for (float x : t.data)
      if (x != v)
        ADD_FAILURE() << path << ": torn: " << name << " mixes " << v
                      << " and " << x;
  EXPECT_EQ(f.metadata.at("version"), std::to_string(static_cast<int>(v)));
  return v;
}

TEST(KillDuringWrite, PreviousCheckpointAlwaysLoads) {
  test::Compiled c = test::compileModel(R"(model wide
input x : f32[256]
label y : class(10)
h = dense(x, 512, relu)
o = dense(h, 10)
loss cross_entropy(softmax(o), y)
)",
                                        [](Recipe &r) { r.optimizer.momentum = 0.9; });
  test::ScratchDir tmp;
  std::string ck = tmp.path("ck.safetensors");
  // How long one checkpoint write takes here (fsync included): kills are
  // spread over about four writes' time, so they land before, inside and
  // after writes whether the machine is fast, loaded, or under ASan.
  auto t0 = std::chrono::steady_clock::now();
  saveCheckpoint(ck, c.step, versionState(c.step, 0), {{"version", "0"}}, {});
  int64_t writeMicros = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - t0)
                            .count();
  uint64_t killWindow = static_cast<uint64_t>(std::max<int64_t>(1000, 4 * writeMicros));

  Rng rng(12345);
  const int kKills = 150;
  int lastSeen = 0, advanced = 0;
  for (int i = 0; i < kKills; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // The child: save new versions as fast as it can until killed.
      try {
        for (int v = lastSeen + 1;; ++v)
          saveCheckpoint(ck, c.step, versionState(c.step, float(v)),
                         {{"version", std::to_string(v)}}, {});
      } catch (...) {
      }
      ::_exit(1); // never back into the test framework
    }
    // Kill somewhere in the first few writes.
    std::this_thread::sleep_for(
        std::chrono::microseconds(rng.below(killWindow)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    int v = static_cast<int>(checkWhole(ck));
    EXPECT_GE(v, lastSeen) << "went back to an older checkpoint";
    advanced += v > lastSeen;
    lastSeen = v;
    if (std::filesystem::exists(ck + ".prev")) {
      EXPECT_LE(static_cast<int>(checkWhole(ck + ".prev")), v);
    }
    // Temp files of killed writers stay behind (nothing can remove them at
    // SIGKILL); they never replace the checkpoint. Clear them here.
    for (const std::string &f : tmp.filesWith(".tmp."))
      std::filesystem::remove(tmp.path(f));
  }
  // The kills landed at many different points, not always before the first
  // write finished.
  EXPECT_GT(advanced, kKills / 4);
  RecordProperty("kills", kKills);
  RecordProperty("checkpoints_written_before_kills", lastSeen);
}

} // namespace
} // namespace nn

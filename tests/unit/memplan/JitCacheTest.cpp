//===- JitCacheTest.cpp - The on-disk cache of compiled objects -----------===//
///
/// \file
/// Miss then hit (same object bytes, same results when run), a separate
/// entry per graph, plan and opt level, --no-cache, and every kind of bad
/// entry (garbage, truncated, flipped byte, another key) ignored and rebuilt.
/// Only where the CPU backend is built.
///
//===----------------------------------------------------------------------===//

#if NNC_HAVE_CPU_BACKEND

#include "codegen/cpu/JitCache.h"
#include "frontend/Frontend.h"
#include "passes/MemoryPlan.h"
#include "passes/Pipeline.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace nn;
namespace fs = std::filesystem;

namespace {

Graph loadStep(const std::string &name) {
  std::string path = std::string(NNC_SOURCE_DIR) + "/examples/" + name;
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  DiagEngine diags;
  diags.addSource(path, ss.str());
  std::optional<Model> m = parseModel(path, ss.str(), diags);
  if (!m) {
    ADD_FAILURE() << diags.str();
    return {};
  }
  return runPipeline(m->graph, m->recipe, Stage::Opt, {}, diags);
}

/// A fresh, empty folder under the test's temp dir.
class JitCache : public ::testing::Test {
protected:
  void SetUp() override {
    dir = (fs::temp_directory_path() /
           ("nnc-jitcache-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    fs::remove_all(dir);
    g = loadStep("xor.nn");
    plan = planMemory(g, 4);
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string compile(CacheReport &r, const CpuOptions &opts = {}) {
    return cachedCpuObject({CpuEntry{&g, &plan, cpuStepSymbol(g)}}, opts, &r,
                           dir);
  }
  std::string entryPath(const CpuOptions &opts = {}) {
    return jitCachePath(
        dir, jitCacheKeyText({CpuEntry{&g, &plan, cpuStepSymbol(g)}}, opts));
  }

  std::string dir;
  Graph g;
  MemoryPlan plan;
};

std::string readBytes(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Runs one step of `p` on fixed leaf values; returns every leaf's values
/// after the step (updates applied) followed by the arena's bytes of the
/// outputs.
std::vector<float> runStep(const Graph &g, CpuProgram &p, int64_t batch) {
  std::vector<std::vector<float>> leaves;
  std::vector<const float *> ptrs;
  for (NodeId id : p.leafOrder()) {
    std::vector<float> v(static_cast<size_t>(g[id].type.numel(batch)));
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = g[id].op == OpKind::Label
                 ? static_cast<float>((i + id) % 2)
                 : 0.25f * static_cast<float>((i * 7 + id) % 5) - 0.5f;
    leaves.push_back(std::move(v));
  }
  for (auto &v : leaves)
    ptrs.push_back(v.data());
  std::vector<float> arena(static_cast<size_t>(p.plan().arenaBytes / 4 + 16));
  float *base = arena.data();
  while (reinterpret_cast<uintptr_t>(base) % kArenaAlign)
    ++base;
  p.entry()(ptrs.data(), base, batch);
  std::vector<float> r;
  for (auto &v : leaves)
    r.insert(r.end(), v.begin(), v.end());
  for (const Output &o : g.outputs) {
    int64_t off = p.plan().offset[o.node];
    if (off >= 0)
      r.insert(r.end(), base + off / 4,
               base + off / 4 + g[o.node].type.numel(batch));
  }
  return r;
}

TEST_F(JitCache, MissThenHitGivesTheSameCode) {
  CacheReport r1, r2;
  std::string a = compile(r1);
  EXPECT_EQ(r1.outcome, CacheOutcome::Miss) << r1.note;
  EXPECT_TRUE(fs::exists(r1.path));
  EXPECT_EQ(r1.path, entryPath());
  EXPECT_GT(r1.compileSeconds, 0);
  std::string b = compile(r2);
  EXPECT_EQ(r2.outcome, CacheOutcome::Hit) << r2.note;
  EXPECT_EQ(r2.compileSeconds, 0);
  EXPECT_EQ(r2.path, r1.path);
  EXPECT_EQ(a, b);
  // No temp files are left behind.
  int files = 0;
  for (const auto &e : fs::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(JitCache, CachedProgramRunsLikeAFreshOne) {
  CacheReport r1, r2;
  std::unique_ptr<CpuProgram> fresh = compileCpu(g, plan, {});
  std::unique_ptr<CpuProgram> miss = compileCpuCached(g, plan, {}, &r1, dir);
  std::unique_ptr<CpuProgram> hit = compileCpuCached(g, plan, {}, &r2, dir);
  EXPECT_EQ(r1.outcome, CacheOutcome::Miss);
  EXPECT_EQ(r2.outcome, CacheOutcome::Hit);
  EXPECT_EQ(hit->compileSeconds, 0);
  std::vector<float> want = runStep(g, *fresh, 4);
  EXPECT_EQ(runStep(g, *miss, 4), want);
  EXPECT_EQ(runStep(g, *hit, 4), want);
}

TEST_F(JitCache, KeyCoversGraphPlanAndOptions) {
  std::string base = entryPath();
  CpuOptions o3;
  o3.optLevel = 3;
  EXPECT_NE(entryPath(o3), base);
  // The optimizer's loops differ with and without update chains.
  CpuOptions separate;
  separate.updateChains = !CpuOptions{}.updateChains;
  EXPECT_NE(entryPath(separate), base);
  MemoryPlan bigger = planMemory(g, 8);
  std::string key =
      jitCacheKeyText({CpuEntry{&g, &bigger, cpuStepSymbol(g)}}, {});
  EXPECT_NE(jitCachePath(dir, key), base);
  Graph other = loadStep("churn.nn");
  MemoryPlan op = planMemory(other, 4);
  EXPECT_NE(
      jitCachePath(dir, jitCacheKeyText(
                            {CpuEntry{&other, &op, cpuStepSymbol(other)}}, {})),
      base);
  std::string text = jitCacheKeyText({CpuEntry{&g, &plan, "xor_step"}}, {});
  EXPECT_NE(text.find("llvm 19"), std::string::npos) << text;
  EXPECT_NE(text.find("O2"), std::string::npos);
  EXPECT_NE(text.find("graph xor"), std::string::npos);
}

TEST_F(JitCache, NoCacheWritesNothing) {
  CpuOptions opts;
  opts.noCache = true;
  CacheReport r;
  std::string obj = compile(r, opts);
  EXPECT_EQ(r.outcome, CacheOutcome::Bypassed);
  EXPECT_FALSE(obj.empty());
  EXPECT_FALSE(fs::exists(dir));
}

TEST_F(JitCache, BadEntriesAreRebuiltNeverTrusted) {
  CacheReport r;
  std::string good = compile(r);
  ASSERT_EQ(r.outcome, CacheOutcome::Miss);
  std::string entry = readBytes(r.path);
  ASSERT_GT(entry.size(), good.size());

  struct Case {
    const char *what;
    std::string bytes;
    const char *note;
  };
  std::string flipped = entry;
  flipped[flipped.size() - good.size() / 2] ^= 0x20;
  std::string otherKey = entry;
  otherKey[20] ^= 1; // inside the key text
  std::vector<Case> cases = {
      {"empty file", "", "bad magic"},
      {"garbage", "hello, this is not an object file", "bad magic"},
      {"truncated header", entry.substr(0, 12), "truncated"},
      {"truncated object", entry.substr(0, entry.size() - 100), "truncated"},
      {"one flipped bit in the object", flipped, "checksum"},
      {"another key", otherKey, "key differs"},
      {"extra bytes", entry + "x", "truncated"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.what);
    writeBytes(r.path, c.bytes);
    CacheReport again;
    std::string obj = compile(again);
    EXPECT_EQ(again.outcome, CacheOutcome::Rejected);
    EXPECT_NE(again.note.find(c.note), std::string::npos) << again.note;
    EXPECT_EQ(obj, good);
    // The entry was replaced by a good one.
    EXPECT_EQ(readBytes(r.path), entry);
    CacheReport hit;
    compile(hit);
    EXPECT_EQ(hit.outcome, CacheOutcome::Hit);
  }
}

TEST_F(JitCache, UnwritableFolderStillCompiles) {
  fs::create_directories(dir);
  writeBytes(dir + "/file", "x");
  CacheReport r;
  std::string obj = cachedCpuObject({CpuEntry{&g, &plan, cpuStepSymbol(g)}}, {},
                                    &r, dir + "/file/sub");
  EXPECT_FALSE(obj.empty());
  EXPECT_EQ(r.outcome, CacheOutcome::Miss);
  EXPECT_NE(r.note.find("cannot create"), std::string::npos) << r.note;
}

TEST_F(JitCache, PruneDropsTheOldestEntriesAndDeadTempFiles) {
  fs::create_directories(dir);
  auto now = fs::file_time_type::clock::now();
  std::vector<std::string> names = {"a.o.cache", "b.o.cache", "c.o.cache"};
  for (size_t i = 0; i < names.size(); ++i) {
    writeBytes(dir + "/" + names[i], std::string(1000, 'x'));
    // a is the oldest, c the newest.
    fs::last_write_time(dir + "/" + names[i],
                        now - std::chrono::minutes(30 - 10 * i));
  }
  writeBytes(dir + "/d.o.cache.tmp.1.0", "dead writer");
  fs::last_write_time(dir + "/d.o.cache.tmp.1.0", now - std::chrono::hours(2));
  writeBytes(dir + "/e.o.cache.tmp.2.0", "live writer");
  writeBytes(dir + "/notes.txt", std::string(5000, 'y')); // not ours
  EXPECT_EQ(pruneJitCache(dir, 2500), 2); // a and the dead temp file
  EXPECT_FALSE(fs::exists(dir + "/a.o.cache"));
  EXPECT_TRUE(fs::exists(dir + "/b.o.cache"));
  EXPECT_TRUE(fs::exists(dir + "/c.o.cache"));
  EXPECT_FALSE(fs::exists(dir + "/d.o.cache.tmp.1.0"));
  EXPECT_TRUE(fs::exists(dir + "/e.o.cache.tmp.2.0"));
  EXPECT_TRUE(fs::exists(dir + "/notes.txt"));
  EXPECT_EQ(pruneJitCache(dir, 2500), 0);
  EXPECT_EQ(pruneJitCache(dir + "/missing"), 0);
}

TEST_F(JitCache, AHitMakesAnEntryTheNewest) {
  CacheReport r;
  compile(r);
  auto old = fs::file_time_type::clock::now() - std::chrono::hours(5);
  fs::last_write_time(r.path, old);
  compile(r);
  ASSERT_EQ(r.outcome, CacheOutcome::Hit);
  EXPECT_GT(fs::last_write_time(r.path), old + std::chrono::hours(4));
}

TEST(JitCacheDir, FollowsXdgThenHome) {
  std::string oldXdg =
      std::getenv("XDG_CACHE_HOME") ? std::getenv("XDG_CACHE_HOME") : "";
  std::string oldHome = std::getenv("HOME") ? std::getenv("HOME") : "";
  ::setenv("XDG_CACHE_HOME", "/tmp/xdg", 1);
  ::setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(jitCacheDir(), "/tmp/xdg/nnc");
  ::setenv("XDG_CACHE_HOME", "relative/path", 1); // not absolute: ignored
  EXPECT_EQ(jitCacheDir(), "/home/someone/.cache/nnc");
  ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(jitCacheDir(), "/home/someone/.cache/nnc");
  ::unsetenv("HOME");
  EXPECT_EQ(jitCacheDir(), "");
  if (!oldXdg.empty())
    ::setenv("XDG_CACHE_HOME", oldXdg.c_str(), 1);
  if (!oldHome.empty())
    ::setenv("HOME", oldHome.c_str(), 1);
}

} // namespace

#endif // NNC_HAVE_CPU_BACKEND

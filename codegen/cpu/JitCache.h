//===- JitCache.h - Compiled objects cached on disk ------------*- C++ -*-===//
///
/// \file
/// compileCpu through an on-disk cache of object files, so that a model
/// compiled once loads in milliseconds the next time. Entries are keyed by
/// the printed IR, the memory plan, the entry symbols, the target (LLVM
/// version, triple, CPU, features, opt level) and the nnc build itself.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/cpu/CpuBackend.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nn {

/// What the cache did for one compile.
enum class CacheOutcome {
  Hit,      ///< a valid entry was loaded; nothing was compiled
  Miss,     ///< no entry: compiled, then stored
  Rejected, ///< an entry was corrupt, truncated or stale: compiled, replaced
  Bypassed, ///< --no-cache (or a test-only option): compiled, not stored
};

/// "hit", "miss", "rejected", "bypassed".
const char *cacheOutcomeName(CacheOutcome o);

struct CacheReport {
  CacheOutcome outcome = CacheOutcome::Bypassed;
  /// The entry's file ("" when bypassed).
  std::string path;
  /// Why an entry was rejected, or why storing failed ("" when neither).
  std::string note;
  /// Seconds spent compiling (0 on a hit) and reading or writing the cache.
  double compileSeconds = 0;
  double cacheSeconds = 0;
};

/// The cache folder: $XDG_CACHE_HOME/nnc when XDG_CACHE_HOME is an absolute
/// path, else $HOME/.cache/nnc; "" when neither can be found.
std::string jitCacheDir();

/// The full text an entry is keyed by (its hash names the file, and the text
/// itself is stored in the entry and compared on load, so a hash collision
/// can never load the wrong code).
std::string jitCacheKeyText(const std::vector<CpuEntry> &entries,
                            const CpuOptions &opts);

/// The file an entry with this key lives in, inside `dir`.
std::string jitCachePath(const std::string &dir, const std::string &keyText);

/// The cache keeps at most this many bytes of entries.
constexpr int64_t kJitCacheMaxBytes = int64_t(256) << 20;

/// Removes the least recently modified entries of `dir` until the rest take
/// at most `maxBytes`, and temp files left by writers that died (older than
/// an hour). Never throws; returns how many files it removed.
int pruneJitCache(const std::string &dir, int64_t maxBytes = kJitCacheMaxBytes);

/// compileCpuObject(entries, opts) through the cache in `dir` (jitCacheDir()
/// when empty). A missing, unreadable, truncated, corrupt (checksum) or
/// mismatched (key) entry is never trusted: the object is compiled again and
/// the entry replaced atomically (temp file + rename). Failing to store is
/// not an error (the note says why). opts.noCache compiles and stores
/// nothing.
std::string cachedCpuObject(const std::vector<CpuEntry> &entries,
                            const CpuOptions &opts,
                            CacheReport *report = nullptr,
                            const std::string &dir = "");

/// compileCpu(g, plan, opts) through the cache (see cachedCpuObject). With
/// opts.verbose prints to stderr whether the cache hit and the times. The
/// CPU executor calls this instead of compileCpu.
std::unique_ptr<CpuProgram>
compileCpuCached(const Graph &g, const MemoryPlan &plan, const CpuOptions &opts,
                 CacheReport *report = nullptr, const std::string &dir = "");

} // namespace nn

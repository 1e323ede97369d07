//===- JitCache.cpp - Compiled objects cached on disk ---------------------===//
///
/// \file
/// An entry is one file named by a 128-bit hash of its key text:
///   "NNCJIT1\n", u64 key length, key text, u64 object length,
///   u64 checksum (FNV-1a over key and object), the object
/// (integers little-endian; the object may be a bundle of the parts the JIT
/// compiled on several threads, see compileCpuObject). Everything is checked
/// on load; any mismatch means "compile again and replace". Writes go to a
/// temp file in the same folder, then renamed over the entry, so readers see
/// the old entry or the new one, never a torn mix. Not fsynced: after a
/// crash an entry may be short or zeroed, and the checks on load reject it
/// (fsync took 30-170 ms per entry here, more than the rest of a compile's
/// cache work and a fifth of the mnist step's cold compile). Uses no LLVM
/// header: compiling and loading objects is CpuBackend's job.
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/JitCache.h"
#include "codegen/cpu/GemmTarget.h"

#include "ir/Printer.h"
#include "ir/Support.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

namespace nn {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

constexpr char kMagic[8] = {'N', 'N', 'C', 'J', 'I', 'T', '1', '\n'};

uint64_t fnv1a(std::string_view s, uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

void putU64(std::string &out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out += static_cast<char>((v >> (8 * i)) & 0xff);
}

/// Reads a u64 at `pos`, advancing it; false when fewer than 8 bytes remain.
bool getU64(std::string_view in, size_t &pos, uint64_t &v) {
  if (in.size() - pos < 8)
    return false;
  v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(in[pos + i]))
         << (8 * i);
  pos += 8;
  return true;
}

uint64_t checksum(std::string_view key, std::string_view obj) {
  return fnv1a(obj, fnv1a(key));
}

/// What identifies this build of nnc: code compiled by another build may
/// differ even for the same IR, so it is part of the key.
std::string buildIdentity() {
  struct stat st;
  if (::stat("/proc/self/exe", &st) != 0)
    return "unknown build";
  char target[4096];
  ssize_t n = ::readlink("/proc/self/exe", target, sizeof target - 1);
  std::string path = n > 0 ? std::string(target, static_cast<size_t>(n)) : "";
  return path + " " + std::to_string(st.st_size) + " " +
         std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

std::string planText(const MemoryPlan &p) {
  std::string s = "plan maxBatch=" + std::to_string(p.maxBatch) +
                  " arena=" + std::to_string(p.arenaBytes) + "\n";
  for (size_t i = 0; i < p.offset.size(); ++i)
    s += std::to_string(i) + ":" + std::to_string(p.offset[i]) + "+" +
         std::to_string(i < p.bytes.size() ? p.bytes[i] : 0) + "\n";
  return s;
}

/// The entry's object, or "" with `why` set when it cannot be trusted.
std::string readEntry(const std::string &path, const std::string &key,
                      bool &exists, std::string &why) {
  std::ifstream f(path, std::ios::binary);
  exists = static_cast<bool>(f);
  if (!f)
    return "";
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) {
    why = "cannot read the entry";
    return "";
  }
  std::string data = ss.str();
  std::string_view in(data);
  size_t pos = sizeof kMagic;
  uint64_t keyLen = 0, objLen = 0, sum = 0;
  if (in.size() < sizeof kMagic ||
      std::memcmp(in.data(), kMagic, sizeof kMagic) != 0) {
    why = "not a cache entry (bad magic)";
    return "";
  }
  if (!getU64(in, pos, keyLen) || keyLen > in.size() - pos) {
    why = "truncated entry (key)";
    return "";
  }
  std::string_view storedKey = in.substr(pos, keyLen);
  pos += keyLen;
  if (storedKey != key) {
    why = "the entry's key differs (hash collision or stale entry)";
    return "";
  }
  if (!getU64(in, pos, objLen) || !getU64(in, pos, sum)) {
    why = "truncated entry (header)";
    return "";
  }
  if (objLen != in.size() - pos) {
    why = "truncated entry (object is " + std::to_string(in.size() - pos) +
          " bytes, header says " + std::to_string(objLen) + ")";
    return "";
  }
  std::string_view obj = in.substr(pos);
  if (obj.empty() || checksum(storedKey, obj) != sum) {
    why = "corrupt entry (checksum mismatch)";
    return "";
  }
  return std::string(obj);
}

/// Writes `bytes` to `path` through a temp file and rename; "" or why not.
std::string writeAtomic(const std::string &path, const std::string &bytes) {
  static std::atomic<unsigned> counter{0};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
                    std::to_string(counter++);
  std::FILE *f = std::fopen(tmp.c_str(), "wb");
  if (!f)
    return std::string("cannot create ") + tmp + ": " + std::strerror(errno);
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = std::fflush(f) == 0 && ok;
  int err = errno;
  ok = std::fclose(f) == 0 && ok;
  if (ok && std::rename(tmp.c_str(), path.c_str()) == 0)
    return "";
  err = err ? err : errno;
  std::remove(tmp.c_str());
  return "cannot write " + path + ": " + std::strerror(err);
}

} // namespace

const char *cacheOutcomeName(CacheOutcome o) {
  switch (o) {
  case CacheOutcome::Hit:
    return "hit";
  case CacheOutcome::Miss:
    return "miss";
  case CacheOutcome::Rejected:
    return "rejected";
  case CacheOutcome::Bypassed:
    return "bypassed";
  }
  NN_UNREACHABLE("bad CacheOutcome");
}

std::string jitCacheDir() {
  const char *xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && xdg[0] == '/')
    return std::string(xdg) + "/nnc";
  const char *home = std::getenv("HOME");
  if (home && home[0])
    return std::string(home) + "/.cache/nnc";
  return "";
}

std::string jitCacheKeyText(const std::vector<CpuEntry> &entries,
                            const CpuOptions &opts) {
  std::string key = "nnc jit cache v2\nbuild: " + buildIdentity() +
                    "\ntarget: " + cpuTargetDescription(opts) +
                    "\ngemm: " + cpu::gemmTargetFor(opts).describe() + "\n";
  for (const CpuEntry &e : entries) {
    NN_ASSERT(e.graph && e.plan, "a cache entry needs a graph and a plan");
    key +=
        "entry " + e.symbol + "\n" + printGraph(*e.graph) + planText(*e.plan);
  }
  return key;
}

std::string jitCachePath(const std::string &dir, const std::string &keyText) {
  return dir + "/" + hex64(fnv1a(keyText)) +
         hex64(fnv1a(keyText, 0x84222325cbf29ce4ull)) + ".o.cache";
}

int pruneJitCache(const std::string &dir, int64_t maxBytes) {
  namespace fs = std::filesystem;
  struct Entry {
    fs::path path;
    fs::file_time_type time;
    int64_t bytes;
  };
  std::vector<Entry> entries;
  int removed = 0;
  std::error_code ec;
  fs::file_time_type now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code e1, e2;
    fs::file_time_type t = fs::last_write_time(it->path(), e1);
    uintmax_t size = fs::file_size(it->path(), e2);
    if (e1 || e2)
      continue;
    if (name.find(".o.cache.tmp.") != std::string::npos) {
      if (now - t > std::chrono::hours(1) && fs::remove(it->path(), e1))
        ++removed;
      continue;
    }
    if (name.size() > 8 && name.compare(name.size() - 8, 8, ".o.cache") == 0)
      entries.push_back({it->path(), t, static_cast<int64_t>(size)});
  }
  int64_t total = 0;
  for (const Entry &e : entries)
    total += e.bytes;
  std::sort(entries.begin(), entries.end(),
            [](const Entry &a, const Entry &b) { return a.time < b.time; });
  for (const Entry &e : entries) {
    if (total <= maxBytes)
      break;
    std::error_code e1;
    if (fs::remove(e.path, e1)) {
      total -= e.bytes;
      ++removed;
    }
  }
  return removed;
}

std::string cachedCpuObject(const std::vector<CpuEntry> &entries,
                            const CpuOptions &opts, CacheReport *report,
                            const std::string &dirIn) {
  CacheReport local;
  CacheReport &r = report ? *report : local;
  r = CacheReport{};
  auto compile = [&] {
    Clock::time_point t0 = Clock::now();
    std::string obj = compileCpuObject(entries, opts, cpuCompileParts());
    r.compileSeconds = secondsSince(t0);
    return obj;
  };
  std::string dir = dirIn.empty() ? jitCacheDir() : dirIn;
  if (opts.noCache || opts.corruptKernelForTest >= 0 || dir.empty()) {
    r.outcome = CacheOutcome::Bypassed;
    if (dir.empty() && !opts.noCache)
      r.note = "no cache folder (neither XDG_CACHE_HOME nor HOME is set)";
    return compile();
  }

  Clock::time_point t0 = Clock::now();
  std::string key = jitCacheKeyText(entries, opts);
  r.path = jitCachePath(dir, key);
  bool exists = false;
  std::string obj = readEntry(r.path, key, exists, r.note);
  r.cacheSeconds = secondsSince(t0);
  if (!obj.empty()) {
    r.outcome = CacheOutcome::Hit;
    std::error_code ec; // recently used: kept longest by pruneJitCache
    std::filesystem::last_write_time(
        r.path, std::filesystem::file_time_type::clock::now(), ec);
    return obj;
  }
  r.outcome = exists ? CacheOutcome::Rejected : CacheOutcome::Miss;
  obj = compile();

  t0 = Clock::now();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string entry(kMagic, sizeof kMagic);
  putU64(entry, key.size());
  entry += key;
  putU64(entry, obj.size());
  putU64(entry, checksum(key, obj));
  entry += obj;
  std::string failed = ec ? "cannot create " + dir + ": " + ec.message()
                          : writeAtomic(r.path, entry);
  if (!failed.empty())
    r.note += (r.note.empty() ? "" : "; ") + failed;
  else
    pruneJitCache(dir);
  r.cacheSeconds += secondsSince(t0);
  return obj;
}

std::unique_ptr<CpuProgram>
compileCpuCached(const Graph &g, const MemoryPlan &plan, const CpuOptions &opts,
                 CacheReport *report, const std::string &dir) {
  CacheReport local;
  CacheReport &r = report ? *report : local;
  std::string obj =
      cachedCpuObject({CpuEntry{&g, &plan, cpuStepSymbol(g)}}, opts, &r, dir);
  Clock::time_point t0 = Clock::now();
  std::unique_ptr<CpuProgram> p = loadCpuObject(g, plan, obj);
  NN_ASSERT(p->entry(), "cpu backend: no entry point");
  p->compileSeconds = r.compileSeconds;
  p->loadSeconds = secondsSince(t0);
  if (opts.verbose) {
    if (r.outcome == CacheOutcome::Hit)
      std::fprintf(stderr,
                   "nnc: cpu: jit cache hit, nothing compiled: read in %.3f s, "
                   "loaded in %.3f s (%s)\n",
                   r.cacheSeconds, p->loadSeconds, r.path.c_str());
    else
      std::fprintf(stderr,
                   "nnc: cpu: jit cache %s: compiled in %.3f s, cache I/O "
                   "%.3f s, loaded in %.3f s%s%s%s\n",
                   cacheOutcomeName(r.outcome), r.compileSeconds,
                   r.cacheSeconds, p->loadSeconds, r.path.empty() ? "" : " (",
                   r.path.c_str(), r.path.empty() ? "" : ")");
    if (!r.note.empty())
      std::fprintf(stderr, "nnc: cpu: jit cache: %s\n", r.note.c_str());
  }
  return p;
}

} // namespace nn

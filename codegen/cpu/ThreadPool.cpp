//===- ThreadPool.cpp - The threads generated code runs on ----------------===//
///
/// \file
/// A fixed set of worker threads (the caller is one more) that take the
/// parts of one job at a time. Workers spin briefly between jobs (a step's
/// kernels follow each other within microseconds) and then sleep on a
/// condition variable. A part index is claimed with a compare-and-swap on
/// one word holding the job's generation, its part count and the next index:
/// a worker still leaving one job reads that job's count from the word it
/// claims from, never the next job's (it once read a shared `parts` field
/// the caller had already set for the next job, and ran a part twice).
///
//===----------------------------------------------------------------------===//

#include "codegen/cpu/ThreadPool.h"

#include "ir/Support.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NNC_PAUSE() _mm_pause()
#else
#define NNC_PAUSE() std::this_thread::yield()
#endif

namespace nn {
namespace {

constexpr int kSpins = 4000; ///< pause loops (~0.1 ms) before a worker sleeps
constexpr int kMaxThreads = 256;
static_assert(kPartsPerThread * kMaxThreads < (1 << 16),
              "a job's part count and index are 16-bit fields");

class Pool {
public:
  explicit Pool(int threads) {
    for (int i = 1; i < threads; ++i)
      workers.emplace_back([this] { work(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> l(m);
      stop = true;
    }
    cv.notify_all();
    for (std::thread &t : workers)
      t.join();
  }
  int threads() const { return static_cast<int>(workers.size()) + 1; }

  void run(ParallelTask t, void *c, int64_t n) {
    task = t;
    ctx = c;
    remaining.store(n, std::memory_order_relaxed);
    uint64_t gen = (generation.load(std::memory_order_relaxed) + 1) & 0xffffffffu;
    next.store(gen << 32 | uint64_t(n) << 16, std::memory_order_release);
    generation.store(gen, std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> l(m);
      cv.notify_all();
    }
    runParts(gen);
    // Only parts a worker has claimed are left. Yield now and then: on a
    // loaded machine that worker may be waiting for this very core.
    for (int spins = 0; remaining.load(std::memory_order_acquire) > 0; ++spins)
      if (spins < 2000)
        NNC_PAUSE();
      else
        std::this_thread::yield();
  }

private:
  /// Claims and runs parts of job `gen` until none is left.
  void runParts(uint64_t gen) {
    for (;;) {
      uint64_t v = next.load(std::memory_order_acquire);
      do {
        if ((v >> 32) != gen || (v & 0xffff) >= ((v >> 16) & 0xffff))
          return;
      } while (!next.compare_exchange_weak(v, v + 1,
                                           std::memory_order_acq_rel));
      // The claimed part is not done, so the caller is still in this job
      // and `task` and `ctx` are still its own.
      task(ctx, static_cast<int64_t>(v & 0xffff),
           static_cast<int64_t>((v >> 16) & 0xffff));
      remaining.fetch_sub(1, std::memory_order_release);
    }
  }

  void work() {
    uint64_t seen = 0;
    for (;;) {
      uint64_t gen = generation.load(std::memory_order_acquire);
      for (int i = 0; i < kSpins && gen == seen; ++i) {
        NNC_PAUSE();
        gen = generation.load(std::memory_order_acquire);
      }
      if (gen == seen) {
        std::unique_lock<std::mutex> l(m);
        sleepers.fetch_add(1, std::memory_order_seq_cst);
        cv.wait(l, [&] {
          return stop || generation.load(std::memory_order_seq_cst) != seen;
        });
        sleepers.fetch_sub(1, std::memory_order_relaxed);
        if (stop)
          return;
        gen = generation.load(std::memory_order_acquire);
      }
      seen = gen;
      runParts(gen);
    }
  }

  std::vector<std::thread> workers;
  std::mutex m;
  std::condition_variable cv;
  bool stop = false;
  std::atomic<uint64_t> generation{0};
  /// generation << 32 | parts << 16 | next part index (parts < 2^16)
  std::atomic<uint64_t> next{0};
  std::atomic<int64_t> remaining{0};
  std::atomic<int> sleepers{0};
  ParallelTask task = nullptr;
  void *ctx = nullptr;
};

/// NNC_THREADS as a thread count, or 0 when it is unset or not one.
int threadsFromEnvironment() {
  const char *env = std::getenv("NNC_THREADS");
  if (!env || !*env)
    return 0;
  errno = 0;
  char *end = nullptr;
  long n = std::strtol(env, &end, 10);
  if (*end != '\0' || errno == ERANGE || n < 1 || n > kMaxThreads)
    return 0;
  return static_cast<int>(n);
}

int defaultThreads() {
  if (int n = threadsFromEnvironment())
    return n;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

std::mutex poolMutex;
Pool *pool = nullptr; // never deleted: workers may outlive static destructors
/// `pool` once made, read without the mutex by every parallel loop.
std::atomic<Pool *> current{nullptr};

Pool &thePool() {
  if (Pool *p = current.load(std::memory_order_acquire))
    return *p;
  std::lock_guard<std::mutex> l(poolMutex);
  if (!pool) {
    pool = new Pool(defaultThreads());
    current.store(pool, std::memory_order_release);
  }
  return *pool;
}

} // namespace

int cpuThreads() { return thePool().threads(); }

void checkThreadsEnvironment() {
  const char *env = std::getenv("NNC_THREADS");
  if (env && threadsFromEnvironment() == 0)
    throw UserError("nnc: error: invalid value '" + std::string(env) +
                    "' for NNC_THREADS: expected an integer from 1 to " +
                    std::to_string(kMaxThreads) +
                    "\nnnc: help: unset NNC_THREADS to use every core");
}

void setCpuThreads(int threads) {
  threads = std::max(1, std::min(threads, kMaxThreads));
  std::lock_guard<std::mutex> l(poolMutex);
  if (pool && pool->threads() == threads)
    return;
  current.store(nullptr, std::memory_order_release);
  delete pool;
  pool = new Pool(threads);
  current.store(pool, std::memory_order_release);
}

extern "C" void nnc_parallel_for(ParallelTask task, void *ctx,
                                 int64_t maxParts, int64_t work) {
  // Small work first: on the caller, touching nothing shared.
  if (work < kMinParallelWork || maxParts <= 1) {
    task(ctx, 0, 1);
    return;
  }
  Pool &p = thePool();
  // More parts than threads, claimed one at a time: a thread that the OS
  // runs late takes fewer of them.
  int64_t parts = p.threads() == 1
                      ? 1
                      : std::min<int64_t>(maxParts,
                                          int64_t(kPartsPerThread) * p.threads());
  // One job at a time: a second caller (another thread's program, or a
  // task that itself loops in parallel) runs its loop alone.
  static std::mutex busy;
  std::unique_lock<std::mutex> l(busy, std::try_to_lock);
  if (parts <= 1 || work < kMinParallelWork || !l.owns_lock()) {
    task(ctx, 0, 1);
    return;
  }
  p.run(task, ctx, parts);
}

} // namespace nn

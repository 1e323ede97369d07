//===- GemmTarget.cpp - The GEMM micro-kernel and blocks for a target -----===//

#include "codegen/cpu/GemmTarget.h"

#include "ir/Support.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Metadata.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <mutex>
#include <unistd.h>

namespace nn::cpu {

namespace {

/// "32K", "1024K", "32M" as bytes; 0 when unreadable.
int64_t parseSize(const std::string &s) {
  char *end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (end == s.c_str() || v <= 0)
    return 0;
  if (*end == 'K')
    v <<= 10;
  else if (*end == 'M')
    v <<= 20;
  return static_cast<int64_t>(v);
}

std::string readLine(const std::string &path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

int64_t roundDown(int64_t v, int64_t unit) { return v / unit * unit; }

bool hasAvx512(const CpuOptions &opts) {
  if (opts.cpu.empty() || opts.cpu == "host") {
    llvm::StringMap<bool> f = llvm::sys::getHostCPUFeatures();
    auto it = f.find("avx512f");
    return it != f.end() && it->second;
  }
  llvm::InitializeNativeTarget();
  std::string triple = llvm::sys::getProcessTriple(), err;
  const llvm::Target *t = llvm::TargetRegistry::lookupTarget(triple, err);
  NN_ASSERT(t, "cpu backend: no LLVM target for " + triple + ": " + err);
  std::unique_ptr<llvm::MCSubtargetInfo> sti(
      t->createMCSubtargetInfo(triple, opts.cpu, ""));
  return sti && sti->checkFeatures("+avx512f");
}

} // namespace

CacheSizes hostCacheSizes() {
  static std::once_flag once;
  static CacheSizes c;
  std::call_once(once, [] {
    for (int i = 0; i < 8; ++i) {
      std::string dir =
          "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
      std::string level = readLine(dir + "level"), type = readLine(dir + "type");
      int64_t size = parseSize(readLine(dir + "size"));
      if (type == "Instruction")
        continue;
      if (level == "1")
        c.l1d = size;
      else if (level == "2")
        c.l2 = size;
      else if (level == "3")
        c.l3 = size;
    }
#ifdef _SC_LEVEL1_DCACHE_SIZE
    if (c.l1d <= 0)
      c.l1d = std::max<long>(0, sysconf(_SC_LEVEL1_DCACHE_SIZE));
    if (c.l2 <= 0)
      c.l2 = std::max<long>(0, sysconf(_SC_LEVEL2_CACHE_SIZE));
    if (c.l3 <= 0)
      c.l3 = std::max<long>(0, sysconf(_SC_LEVEL3_CACHE_SIZE));
#endif
  });
  return c;
}

std::string GemmTarget::describe() const {
  return std::string(lanes == 16 ? "avx512 " : "avx2 ") + std::to_string(mr) +
         "x" + std::to_string(nr) + " kc " + std::to_string(kc) + " mc " +
         std::to_string(mc) + " nc " + std::to_string(nc) +
         (fromCaches ? " (from the host's caches)" : " (defaults)");
}

std::string GemmTarget::kernelName() const {
  return "nnc_gemm_" + std::to_string(mr) + "x" + std::to_string(nr);
}

GemmTarget GemmTarget::forColumns(int64_t n) const {
  GemmTarget t = *this;
  if (lanes == 16 && nr > 16 && n >= 0 && n <= 16)
    t.nr = 16;
  return t;
}

GemmTarget gemmTargetFor(bool avx512, const CacheSizes *caches) {
  GemmTarget t;
  if (avx512) {
    t.lanes = 16, t.mr = 8, t.nr = 32;
    t.kc = 128, t.mc = 112, t.nc = 512;
  }
  if (!caches || caches->l1d <= 0 || caches->l2 <= 0 || caches->l3 <= 0)
    return t;
  t.fromCaches = true;
  // b's kc x nr micro-panel: half of L1d (the rest for a's rows and c).
  t.kc = std::clamp<int64_t>(roundDown(caches->l1d / 2 / (t.nr * 4), 16), 128,
                             512);
  // a's mc x kc block: half of L2; at most 256 KiB on the stack.
  int64_t mcBytes = std::min<int64_t>(caches->l2 / 2, 256 << 10);
  t.mc = std::max(t.mr, roundDown(mcBytes / (t.kc * 4), t.mr));
  // b's kc x nc block: a quarter of L3 (shared); at most 512 KiB.
  int64_t ncBytes = std::min<int64_t>(caches->l3 / 4, 512 << 10);
  t.nc = std::max(t.nr, roundDown(ncBytes / (t.kc * 4), t.nr));
  return t;
}

GemmTarget gemmTargetFor(const CpuOptions &opts) {
  bool host = opts.cpu.empty() || opts.cpu == "host";
  CacheSizes c = host ? hostCacheSizes() : CacheSizes{};
  return gemmTargetFor(hasAvx512(opts), host ? &c : nullptr);
}

void setModuleGemmTarget(llvm::Module &m, const GemmTarget &t) {
  llvm::LLVMContext &ctx = m.getContext();
  auto i64 = [&](int64_t v) -> llvm::Metadata * {
    return llvm::ConstantAsMetadata::get(
        llvm::ConstantInt::get(llvm::Type::getInt64Ty(ctx), v));
  };
  llvm::NamedMDNode *md = m.getOrInsertNamedMetadata("nnc.gemm");
  md->clearOperands();
  md->addOperand(llvm::MDNode::get(
      ctx, {llvm::MDString::get(ctx, t.describe()), i64(t.lanes), i64(t.mr),
            i64(t.nr), i64(t.kc), i64(t.mc), i64(t.nc)}));
}

GemmTarget moduleGemmTarget(const llvm::Module &m) {
  GemmTarget t;
  const llvm::NamedMDNode *md = m.getNamedMetadata("nnc.gemm");
  if (!md || md->getNumOperands() != 1)
    return t;
  const llvm::MDNode *n = md->getOperand(0);
  NN_ASSERT(n->getNumOperands() == 7, "malformed nnc.gemm metadata");
  auto at = [&](unsigned i) {
    return llvm::mdconst::extract<llvm::ConstantInt>(n->getOperand(i))
        ->getSExtValue();
  };
  t.lanes = at(1), t.mr = at(2), t.nr = at(3);
  t.kc = at(4), t.mc = at(5), t.nc = at(6);
  t.fromCaches = llvm::cast<llvm::MDString>(n->getOperand(0))
                     ->getString()
                     .ends_with("caches)");
  return t;
}

} // namespace nn::cpu

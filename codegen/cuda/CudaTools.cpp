//===- CudaTools.cpp - Resource reports, SASS, the cache folder -----------===//
///
/// \file
/// The parts of Nvrtc.h that need no CUDA library: reading ptxas's `-v`
/// report, printing it per kernel, running cuobjdump or nvdisasm on a cubin
/// when they are installed, and finding the cache folder.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/Nvrtc.h"

#include "codegen/cuda/CudaDriver.h"

#include "ir/Support.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <unistd.h>

namespace nn {

std::vector<KernelResources> parsePtxasLog(const std::string &log) {
  static const std::regex props(R"(Function properties for ([A-Za-z0-9_$]+))");
  static const std::regex frame(
      R"((\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads)");
  static const std::regex used(R"(Used (\d+) registers)");
  static const std::regex smem(R"((\d+) bytes smem)");
  std::vector<KernelResources> out;
  std::istringstream in(log);
  std::string line, current;
  auto entry = [&]() -> KernelResources & {
    if (out.empty() || out.back().kernel != current)
      out.push_back(KernelResources{current});
    return out.back();
  };
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, props)) {
      current = m[1];
      entry();
      continue;
    }
    if (current.empty())
      continue;
    if (std::regex_search(line, m, frame)) {
      KernelResources &r = entry();
      r.stackBytes = std::stoi(m[1]);
      r.spillStoreBytes = std::stoi(m[2]);
      r.spillLoadBytes = std::stoi(m[3]);
    }
    if (std::regex_search(line, m, used))
      entry().registers = std::stoi(m[1]);
    if (std::regex_search(line, m, smem))
      entry().sharedBytes = std::stoi(m[1]);
  }
  return out;
}

std::string printResources(const CudaSource &src, const CudaBinary &bin) {
  std::string s = "// " + src.graph + " for " + bin.arch + ": " +
                  std::to_string(src.kernels.size()) + " kernels";
  size_t big = 0;
  for (const CudaKernel &k : src.kernels)
    big += !k.bigName.empty();
  s += big ? " (and " + std::to_string(big) + " on big tiles)\n" : "\n";
  int spilling = 0;
  auto report = [&](const CudaKernel &k, const std::string &name) {
    const KernelResources *r = nullptr;
    for (const KernelResources &x : bin.resources)
      if (x.kernel == name)
        r = &x;
    s += "// " + name + ": ";
    if (!r) {
      s += "no ptxas report\n";
      return;
    }
    spilling += r->spillStoreBytes + r->spillLoadBytes > 0;
    s += std::to_string(r->registers) + " registers, " +
         std::to_string(r->spillStoreBytes) + " bytes spill stores, " +
         std::to_string(r->spillLoadBytes) + " bytes spill loads, " +
         std::to_string(r->stackBytes) + " bytes stack, " +
         std::to_string(r->sharedBytes) + " bytes smem";
    if (k.loc.valid())
      s += " (" + k.loc.str() + ")";
    s += "\n";
  };
  for (const CudaKernel &k : src.kernels) {
    report(k, k.name);
    if (!k.bigName.empty())
      report(k, k.bigName);
  }
  s += "// " + std::to_string(spilling) + " kernels spill\n";
  return s;
}

namespace {

/// The first executable called `name` in the CUDA toolkit's bin folder or
/// on PATH; "" when there is none.
std::string findTool(const std::string &name) {
  std::vector<std::string> dirs;
#ifdef NNC_CUDA_BIN_DIR
  dirs.push_back(NNC_CUDA_BIN_DIR);
#endif
  dirs.push_back("/usr/local/cuda/bin");
  if (const char *path = std::getenv("PATH")) {
    std::string p = path;
    size_t start = 0;
    while (start <= p.size()) {
      size_t end = p.find(':', start);
      if (end == std::string::npos)
        end = p.size();
      if (end > start)
        dirs.push_back(p.substr(start, end - start));
      start = end + 1;
    }
  }
  for (const std::string &d : dirs) {
    std::string f = d + "/" + name;
    if (access(f.c_str(), X_OK) == 0)
      return f;
  }
  return "";
}

/// Runs `cmd` through the shell; its standard output, or nullopt when it
/// fails.
std::optional<std::string> runCapture(const std::string &cmd) {
  FILE *p = popen(cmd.c_str(), "r");
  if (!p)
    return std::nullopt;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    out.append(buf, n);
  if (pclose(p) != 0)
    return std::nullopt;
  return out;
}

} // namespace

std::optional<std::string> disassembleCubin(const std::string &cubin,
                                            std::string &why) {
  std::string cuobjdump = findTool("cuobjdump"),
              nvdisasm = findTool("nvdisasm");
  if (cuobjdump.empty() && nvdisasm.empty()) {
    why = "neither cuobjdump nor nvdisasm is installed (looked in the CUDA "
          "toolkit's bin folder and on PATH)";
    return std::nullopt;
  }
  char path[] = "/tmp/nnc-sass-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) {
    why = "cannot create a temporary file for the cubin";
    return std::nullopt;
  }
  bool ok = write(fd, cubin.data(), cubin.size()) ==
            static_cast<ssize_t>(cubin.size());
  close(fd);
  std::optional<std::string> out;
  if (ok) {
    std::string cmd = cuobjdump.empty()
                          ? "'" + nvdisasm + "' -c '" + path + "'"
                          : "'" + cuobjdump + "' -sass '" + path + "'";
    out = runCapture(cmd + " 2>/dev/null");
    if (!out)
      why = "the disassembler failed: " + cmd;
  } else {
    why = "cannot write the cubin to " + std::string(path);
  }
  unlink(path);
  return out;
}

std::string emitCudaText(const Graph &g, const std::string &stage,
                         const NvrtcOptions &opts,
                         const CudaPrintOptions &print) {
  CudaSource src = printCuda(g, print);
  if (stage == "cuda")
    return src.code;
  if (print.tf32)
    checkTf32Arch(opts.arch.empty() ? cudaDefaultArch() : opts.arch);
  if (stage == "ptx")
    return compileCudaPtx(src, opts);
  NN_ASSERT(stage == "sass", "unknown CUDA stage '" + stage + "'");
  CudaBinary bin = compileCuda(src, opts);
  std::string out = printResources(src, bin);
  std::string why;
  if (std::optional<std::string> sass = disassembleCubin(bin.cubin, why))
    return out + "\n" + *sass;
  return out + "// no SASS listing: " + why + "\n";
}

std::string cudaCacheDir(const NvrtcOptions &opts) {
  if (!opts.cacheDir.empty())
    return opts.cacheDir;
  const char *xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && xdg[0] == '/')
    return std::string(xdg) + "/nnc/cuda";
  const char *home = std::getenv("HOME");
  if (home && home[0])
    return std::string(home) + "/.cache/nnc/cuda";
  return "";
}

} // namespace nn

//===- Nvrtc.cpp - CUDA C++ to cubin with NVRTC, cached on disk -----------===//
///
/// \file
/// The one file that includes nvrtc.h. A cache entry is a file named by a
/// hash of its key (source, architecture, options, NVRTC version) that
/// stores the key itself, the ptxas report and the cubin; the key is
/// compared on load, so a hash collision or a damaged file never loads the
/// wrong code (it is compiled again and replaced, atomically).
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/Nvrtc.h"
#include "codegen/cuda/CudaDriver.h"

#include "ir/Support.h"

#include <nvrtc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace nn {

namespace {

/// The options every compile uses (besides the architecture): IEEE float
/// (no contraction: the printed code asks for fmaf where it wants one).
const std::vector<std::string> &baseOptions() {
  static const std::vector<std::string> o = {"-std=c++17", "--fmad=false",
                                             "-Xptxas", "-v"};
  return o;
}

void checkNvrtc(nvrtcResult r, const char *what) {
  if (r != NVRTC_SUCCESS)
    throw InternalError(std::string("cuda backend: ") + what +
                        " failed: " + nvrtcGetErrorString(r));
}

uint64_t fnv1a(const std::string &s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

/// 128 bits of hash of `s`, as hex.
std::string hashOf(const std::string &s) {
  return hex(fnv1a(s, 14695981039346656037ull)) +
         hex(fnv1a(s, 0x9e3779b97f4a7c15ull));
}

void mkdirs(const std::string &dir) {
  for (size_t i = 1; i <= dir.size(); ++i)
    if (i == dir.size() || dir[i] == '/')
      ::mkdir(dir.substr(0, i).c_str(), 0755);
}

/// Writes `data` to `path` through a temporary file and a rename; false on
/// failure.
bool writeAtomic(const std::string &path, const std::string &data) {
  std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f || !f.write(data.data(), static_cast<std::streamsize>(data.size())))
      return false;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

bool readAll(const std::string &path, std::string &out) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return true;
}

const char kMagic[] = "nnc cubin cache v1\n";

/// Entry layout: magic, then three length-prefixed fields (decimal length,
/// newline, bytes): key, ptxas log, cubin.
std::string encodeEntry(const std::string &key, const CudaBinary &b) {
  std::string s = kMagic;
  for (const std::string *f : {&key, &b.ptxasLog, &b.cubin})
    s += std::to_string(f->size()) + "\n" + *f;
  return s;
}

bool decodeEntry(const std::string &data, const std::string &key,
                 CudaBinary &b) {
  size_t pos = sizeof kMagic - 1;
  if (data.compare(0, pos, kMagic) != 0)
    return false;
  std::string fields[3];
  for (std::string &f : fields) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string::npos || nl == pos || nl - pos > 12 ||
        data.find_first_not_of("0123456789", pos) != nl)
      return false;
    size_t len = std::stoull(data.substr(pos, nl - pos));
    pos = nl + 1;
    if (len > data.size() - pos)
      return false;
    f = data.substr(pos, len);
    pos += len;
  }
  if (pos != data.size() || fields[0] != key || fields[2].size() < 4 ||
      fields[2].compare(0, 4,
                        "\x7f"
                        "ELF") != 0)
    return false;
  b.ptxasLog = fields[1];
  b.cubin = fields[2];
  return true;
}

/// ptxas's report without the lines that change from run to run.
std::string stableLog(const std::string &log) {
  std::istringstream in(log);
  std::string line, out;
  while (std::getline(in, line))
    if (line.find("Compile time") == std::string::npos && !line.empty())
      out += line + "\n";
  return out;
}

/// NVRTC's log with, after each message about a line of the source, the
/// kernel that line belongs to.
std::string annotateLog(const CudaSource &src, const std::string &log,
                        const std::string &progName) {
  std::regex at("^" +
                std::regex_replace(progName, std::regex(R"([.])"), R"(\.)") +
                R"(\((\d+)\):)");
  std::istringstream in(log);
  std::string line, out;
  std::smatch m;
  while (std::getline(in, line)) {
    out += line + "\n";
    if (!std::regex_search(line, m, at))
      continue;
    if (const CudaKernel *k = src.kernelAtLine(std::stoi(m[1]))) {
      out += "  in kernel " + k->name;
      out += k->loc.valid() ? " from " + k->loc.str() : std::string();
      out += ": " + k->nodeText + "\n";
    }
  }
  return out;
}

struct Compiled {
  std::string cubin, ptx, log;
};

/// Compiles `src` for `arch`, returning cubin, PTX and ptxas's report.
Compiled compile(const CudaSource &src, const std::string &arch,
                 const NvrtcOptions &opts) {
  std::string progName = (src.graph.empty() ? "graph" : src.graph) + ".cu";
  nvrtcProgram prog;
  checkNvrtc(nvrtcCreateProgram(&prog, src.code.c_str(), progName.c_str(), 0,
                                nullptr, nullptr),
             "nvrtcCreateProgram");
  std::vector<std::string> o = baseOptions();
  o.push_back("--gpu-architecture=" + arch);
  std::vector<const char *> argv;
  for (const std::string &s : o)
    argv.push_back(s.c_str());
  nvrtcResult r =
      nvrtcCompileProgram(prog, static_cast<int>(argv.size()), argv.data());
  size_t n = 0;
  nvrtcGetProgramLogSize(prog, &n);
  std::string log(n, '\0');
  if (n)
    nvrtcGetProgramLog(prog, log.data());
  while (!log.empty() && log.back() == '\0')
    log.pop_back();
  if (r != NVRTC_SUCCESS) {
    nvrtcDestroyProgram(&prog);
    std::string dir = cudaCacheDir(opts);
    dir = dir.empty() ? "/tmp" : dir + "/failed";
    mkdirs(dir);
    std::string kept = dir + "/" + (src.graph.empty() ? "graph" : src.graph) +
                       "-" + hashOf(src.code).substr(0, 12) + ".cu";
    std::string where = writeAtomic(kept, src.code)
                            ? "the source is kept in " + kept
                            : "the source could not be kept (" + kept + ")";
    throw InternalError("cuda backend: NVRTC " + nvrtcVersion() +
                        " could not compile the generated CUDA source of '" +
                        src.graph + "' for " + arch + " (" +
                        nvrtcGetErrorString(r) + "); " + where + "\n" +
                        annotateLog(src, log, progName));
  }
  Compiled c;
  c.log = stableLog(log);
  size_t size = 0;
  checkNvrtc(nvrtcGetCUBINSize(prog, &size), "nvrtcGetCUBINSize");
  c.cubin.resize(size);
  checkNvrtc(nvrtcGetCUBIN(prog, c.cubin.data()), "nvrtcGetCUBIN");
  checkNvrtc(nvrtcGetPTXSize(prog, &size), "nvrtcGetPTXSize");
  c.ptx.resize(size);
  checkNvrtc(nvrtcGetPTX(prog, c.ptx.data()), "nvrtcGetPTX");
  while (!c.ptx.empty() && c.ptx.back() == '\0')
    c.ptx.pop_back();
  nvrtcDestroyProgram(&prog);
  return c;
}

std::string archOf(const NvrtcOptions &opts) {
  std::string arch = opts.arch.empty() ? cudaDefaultArch() : opts.arch;
  checkCudaArch(arch);
  return arch;
}

double secondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
      .count();
}

} // namespace

bool nvrtcAvailable() { return true; }

std::string nvrtcVersion() {
  int major = 0, minor = 0;
  if (::nvrtcVersion(&major, &minor) != NVRTC_SUCCESS)
    return "?";
  return std::to_string(major) + "." + std::to_string(minor);
}

std::vector<std::string> nvrtcArchs() {
  int n = 0;
  std::vector<std::string> out;
  if (nvrtcGetNumSupportedArchs(&n) != NVRTC_SUCCESS || n <= 0)
    return out;
  std::vector<int> archs(static_cast<size_t>(n));
  if (nvrtcGetSupportedArchs(archs.data()) != NVRTC_SUCCESS)
    return out;
  for (int a : archs)
    out.push_back("sm_" + std::to_string(a));
  return out;
}

void checkCudaArch(const std::string &arch) {
  std::vector<std::string> all = nvrtcArchs();
  for (const std::string &a : all)
    if (a == arch)
      return;
  std::string list;
  for (const std::string &a : all)
    list += (list.empty() ? "" : ", ") + a;
  throw UserError("nnc: error: NVRTC " + nvrtcVersion() +
                  " cannot compile for '" + arch + "' (supported: " + list +
                  ")");
}

CudaBinary compileCuda(const CudaSource &src, const NvrtcOptions &opts) {
  auto start = std::chrono::steady_clock::now();
  CudaBinary b;
  b.arch = archOf(opts);
  std::string key = "nvrtc " + nvrtcVersion() + "\narch " + b.arch + "\n";
  for (const std::string &o : baseOptions())
    key += "option " + o + "\n";
  key += "source\n" + src.code;
  std::string dir = opts.noCache ? "" : cudaCacheDir(opts);
  std::string path = dir.empty() ? "" : dir + "/" + hashOf(key) + ".cubin";
  std::string data;
  if (!path.empty() && readAll(path, data) && decodeEntry(data, key, b)) {
    b.fromCache = true;
    b.cachePath = path;
  } else {
    Compiled c = compile(src, b.arch, opts);
    b.cubin = std::move(c.cubin);
    b.ptxasLog = std::move(c.log);
    if (!path.empty()) {
      mkdirs(dir);
      if (writeAtomic(path, encodeEntry(key, b)))
        b.cachePath = path;
    }
  }
  b.resources = parsePtxasLog(b.ptxasLog);
  b.compileSeconds = secondsSince(start);
  if (opts.verbose)
    std::cerr << "nnc: cuda: " << src.graph << ": " << src.kernels.size()
              << " kernels for " << b.arch << " "
              << (b.fromCache ? "loaded from the cache"
                              : "compiled by NVRTC " + nvrtcVersion())
              << " in " << b.compileSeconds << " s"
              << (b.cachePath.empty() ? "" : " (" + b.cachePath + ")") << "\n";
  return b;
}

std::string compileCudaPtx(const CudaSource &src, const NvrtcOptions &opts) {
  return compile(src, archOf(opts), opts).ptx;
}

} // namespace nn

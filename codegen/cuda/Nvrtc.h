//===- Nvrtc.h - CUDA C++ to cubin at run time -----------------*- C++ -*-===//
///
/// \file
/// Compiles a printed graph (CudaPrinter.h) with NVRTC to a cubin for one
/// GPU architecture, through an on-disk cache keyed by the source, the
/// architecture, the options and the NVRTC version; reports register and
/// spill counts per kernel; prints PTX and (where cuobjdump or nvdisasm is
/// installed) SASS. Free of CUDA types: nvrtc.h stays inside Nvrtc.cpp.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/cuda/CudaPrinter.h"

#include <optional>
#include <string>
#include <vector>

namespace nn {

struct NvrtcOptions {
  /// "sm_90"; empty: cudaDefaultArch() (the device's, or sm_90).
  std::string arch;
  /// Compile even when the cache has the cubin, and store nothing.
  bool noCache = false;
  /// Print what was compiled or found in the cache, and the time, to stderr.
  bool verbose = false;
  /// The cache folder; empty: $XDG_CACHE_HOME/nnc/cuda (absolute
  /// XDG_CACHE_HOME), else $HOME/.cache/nnc/cuda. Sources that fail to
  /// compile are kept in its `failed` subfolder (or the temp folder).
  std::string cacheDir;
};

/// Whether this build has NVRTC (found at configure time).
bool nvrtcAvailable();
/// NVRTC's version, "13.0"; "" without NVRTC.
std::string nvrtcVersion();
/// The architectures NVRTC can compile for, as "sm_90" strings.
std::vector<std::string> nvrtcArchs();
/// Throws UserError unless `arch` is "sm_<digits>" and NVRTC supports it.
void checkCudaArch(const std::string &arch);

/// What ptxas reports for one kernel (`-Xptxas -v`).
struct KernelResources {
  std::string kernel;
  int registers = 0;
  int spillStoreBytes = 0;
  int spillLoadBytes = 0;
  int stackBytes = 0;
  int sharedBytes = 0;
};

/// Per-kernel resources from a ptxas `-v` log, in the log's order.
std::vector<KernelResources> parsePtxasLog(const std::string &log);

struct CudaBinary {
  std::string arch;
  /// The cubin (an ELF image), ready for cuModuleLoadData.
  std::string cubin;
  /// ptxas's `-v` report (stable lines only: no compile times).
  std::string ptxasLog;
  std::vector<KernelResources> resources;
  bool fromCache = false;
  /// The cache entry ("" when the cache was bypassed or unavailable).
  std::string cachePath;
  double compileSeconds = 0;
};

/// Compiles `src` to a cubin. A source NVRTC rejects is an nnc bug: throws
/// InternalError with NVRTC's log, each message followed by the kernel it is
/// in (name, `.nn` location, IR line), and the path where the source was
/// kept for inspection. Throws UserError for an unsupported architecture.
CudaBinary compileCuda(const CudaSource &src, const NvrtcOptions &opts = {});

/// The PTX of `src` (for `nnc emit --stage=ptx`); errors as compileCuda.
std::string compileCudaPtx(const CudaSource &src,
                           const NvrtcOptions &opts = {});

/// One line per kernel: registers, spills, stack and shared memory, and the
/// `.nn` location ("// k7_mnist_mlp_nn_7_matmul: 40 registers, ...").
std::string printResources(const CudaSource &src, const CudaBinary &bin);

/// The SASS listing of `cubin` from cuobjdump -sass (or nvdisasm), or
/// nullopt with `why` set when neither tool is installed or it fails.
std::optional<std::string> disassembleCubin(const std::string &cubin,
                                            std::string &why);

/// The text `nnc emit --stage=<stage>` prints for `g` (types known):
/// "cuda" (the CUDA C++ source), "ptx" (NVRTC's PTX) or "sass" (register
/// and spill counts per kernel, then the SASS listing where cuobjdump or
/// nvdisasm is installed, else a comment saying why it is missing).
/// `print` picks the GEMMs' precision (TF32 needs an sm_80+ architecture).
std::string emitCudaText(const Graph &g, const std::string &stage,
                         const NvrtcOptions &opts = {},
                         const CudaPrintOptions &print = {});

/// The folder of the cubin cache (see NvrtcOptions::cacheDir); "" when no
/// folder can be found.
std::string cudaCacheDir(const NvrtcOptions &opts);

} // namespace nn

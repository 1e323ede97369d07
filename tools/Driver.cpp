//===- Driver.cpp - Shared pieces of the nnc commands ---------------------===//

#include "tools/Driver.h"
#include "passes/SeedDropout.h"

#include "ir/Format.h"
#include "ir/Support.h"
#include "passes/optim/Optimizer.h"
#include "runtime/Distributed.h"
#include "runtime/Sharding.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace nn {

std::string readFile(const std::string &path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw UserError(path + ": error: is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw UserError(path + ": error: cannot open file");
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

ExecutorOptions executorOptionsFromEnvironment() {
  auto on = [](const char *name) {
    const char *v = std::getenv(name);
    return v && v[0] && std::string(v) != "0";
  };
  ExecutorOptions o;
  CudaExecOptions &c = o.cuda;
  c.sync = on("NNC_CUDA_SYNC");
  c.noGraph = on("NNC_CUDA_NO_GRAPH");
  c.verbose = on("NNC_CUDA_VERBOSE");
  if (const char *v = std::getenv("NNC_CUDA_BIG_TILES_FROM"))
    c.bigTileMin = std::max(0LL, std::atoll(v));
  if (const char *v = std::getenv("NNC_CUDA_SPLIT_K"))
    c.splitK = std::string(v) != "0";
  if (const char *v = std::getenv("NNC_CUDA_BIG_MIN_BLOCKS"))
    c.bigMinBlocks = std::clamp(std::atoi(v), 0, 8);
  // Hidden: the trainer's step-by-step loop on every backend (to compare
  // with the cpu backend's compiled runs of steps, runtime/TrainChunks.cpp).
  o.epochProgram = !on("NNC_STEP_BY_STEP");
  return o;
}

bool useColor() {
  return std::getenv("NO_COLOR") == nullptr && isatty(STDERR_FILENO);
}

namespace {

/// The reason of the first failed write to standard output, 0 if none.
int stdoutErrno = 0;

void noteStdoutError() {
  if (stdoutErrno == 0)
    stdoutErrno = errno ? errno : EIO;
}

/// std::cout's buffer: like libstdc++'s stdio_sync_filebuf (each write goes
/// straight into stdio's stdout, so std::printf output stays in order), but
/// it keeps errno of a failed write, which is long gone by exit.
class CheckedStdoutBuf : public std::streambuf {
protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof()))
      return traits_type::not_eof(c);
    errno = 0;
    if (std::fputc(c, stdout) == EOF) {
      noteStdoutError();
      return traits_type::eof();
    }
    return c;
  }
  std::streamsize xsputn(const char *s, std::streamsize n) override {
    errno = 0;
    size_t done = std::fwrite(s, 1, static_cast<size_t>(n), stdout);
    if (done != static_cast<size_t>(n))
      noteStdoutError();
    return static_cast<std::streamsize>(done);
  }
  int sync() override {
    errno = 0;
    if (std::fflush(stdout) != 0) {
      noteStdoutError();
      return -1;
    }
    return 0;
  }
};

[[noreturn]] void stdoutFailed(int err) {
  std::clearerr(stdout); // reported once, not again at exit
  std::cout.clear();
  throw UserError(std::string("nnc: error: cannot write to standard output: ") +
                  std::strerror(err));
}

} // namespace

void checkStdoutWrites() {
  // Never destroyed: std::cout is flushed after every static object is
  // gone (ios_base::Init's destructor, at exit), and a static buffer would
  // be destroyed before that flush (AddressSanitizer: SEGV in flush()).
  static CheckedStdoutBuf *buf = new CheckedStdoutBuf;
  std::cout.rdbuf(buf);
}

void checkStdout() {
  std::cout.flush();
  errno = 0;
  if (std::fflush(stdout) != 0)
    noteStdoutError();
  if (!std::ferror(stdout) && std::cout.good() && stdoutErrno == 0)
    return;
  noteStdoutError();
  stdoutFailed(stdoutErrno);
}

void writeStdout(const std::string &text) {
  std::cout.flush(); // what came before goes first
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() ||
      std::fflush(stdout) != 0)
    noteStdoutError();
  if (stdoutErrno != 0)
    stdoutFailed(stdoutErrno);
}

namespace {

void resolvePath(DataSource &src, const std::string &modelPath) {
  if (src.format == DataSource::Format::None || src.path.empty())
    return;
  std::filesystem::path p(src.path);
  if (p.is_absolute())
    return;
  std::filesystem::path dir = std::filesystem::path(modelPath).parent_path();
  src.path = (dir / p).lexically_normal().string();
}

} // namespace

LoadedModel loadModel(const Args &args) {
  if (args.positional().empty())
    throw UserError("nnc: error: no model file given");
  if (args.positional().size() > 1)
    throw UserError("nnc: error: unexpected argument '" +
                    args.positional()[1] + "'");
  LoadedModel m;
  m.path = args.positional()[0];
  m.text = readFile(m.path);
  DiagEngine diags;
  diags.addSource(m.path, m.text);
  std::optional<Model> model = parseModel(m.path, m.text, diags);
  if (!model || diags.hasErrors()) {
    diags.print(std::cerr, useColor());
    throw DiagnosedError();
  }
  if (!diags.diagnostics().empty())
    diags.print(std::cerr, useColor());
  m.model = std::move(*model);
  resolvePath(m.model.recipe.data, m.path);
  resolvePath(m.model.recipe.test, m.path);
  return m;
}

std::vector<FlagSpec> recipeFlags() {
  return {
      {"data", "PATH", "training data: an IDX prefix or a .csv file"},
      {"test", "PATH", "test data, as --data"},
      {"epochs", "N", "epochs to train"},
      {"batch", "N", "mini-batch size"},
      {"optimizer", "NAME", "optimizer: sgd, adam or adamw"},
      {"lr", "X", "learning rate"},
      {"momentum", "X", "SGD momentum (0 = plain SGD)"},
      {"weight-decay", "X", "weight decay (adamw: decoupled)"},
      {"l2", "X", "L2 penalty: lambda x sum of squared weights"},
      {"validation", "F", "fraction of the training data held out"},
      {"seed", "N", "seed for initialisation and shuffling"},
      {"no-shuffle", "", "batches are consecutive rows from the start"},
  };
}

namespace {

/// --optimizer NAME (the file's settings when it names the same optimizer,
/// else NAME's defaults), then --lr, --momentum and --weight-decay, each
/// checked against its table row and against the optimizer.
void applyOptimizerFlags(const Args &args, OptimizerSpec &o) {
  auto fail = [](const std::string &msg) {
    throw UserError("nnc: error: " + msg);
  };
  if (auto name = args.get("optimizer")) {
    const OptimizerInfo *info = findOptimizer(*name);
    if (!info)
      fail(fmt::format("unknown optimizer '{}' in --optimizer\nnnc: help: "
                       "the optimizers are {}",
                       *name, fmt::join(optimizerNames(), ", ")));
    if (info->kind != o.kind) {
      double clip = o.clipGradNorm;
      o = defaultSpec(*info);
      o.clipGradNorm = clip;
    }
  }
  const OptimizerInfo &info = optimizerInfo(o.kind);
  for (const char *flag : {"lr", "momentum", "weight-decay"}) {
    std::string key =
        flag == std::string("weight-decay") ? "weight_decay" : flag;
    auto v = args.getDouble(flag);
    const HyperParam *p = findHyperParam(key);
    if (!v || !p)
      continue;
    if (!takes(info, *p))
      fail(fmt::format("--{} is not a setting of optimizer '{}'\nnnc: help: "
                       "'{}' takes {}",
                       flag, info.name, info.name,
                       fmt::join(optimizerSettings(info), ", ")));
    if (!inRange(p->range, *v) || !std::isfinite(*v))
      fail(fmt::format("--{} must be {}", flag,
                       p->range == HyperRange::Positive ? "a positive number"
                                                        : rangeText(p->range)));
    o.*(p->field) = *v;
  }
  if (o.nesterov != 0 && o.momentum == 0)
    fail("nesterov needs a momentum: the file sets nesterov = true and the "
         "momentum is 0");
}

} // namespace

void applyRecipeFlags(const Args &args, Recipe &r) {
  auto fail = [](const std::string &msg) {
    throw UserError("nnc: error: " + msg);
  };
  if (auto v = args.get("data"))
    r.data = dataSourceFromFlag(*v, r.data);
  if (auto v = args.get("test"))
    r.test = dataSourceFromFlag(*v, r.test);
  if (auto v = args.getInt("epochs")) {
    if (*v < 1)
      fail("--epochs must be at least 1");
    r.epochs = *v;
  }
  if (auto v = args.getInt("batch")) {
    if (*v < 1)
      fail("--batch must be at least 1");
    r.batch = *v;
  }
  applyOptimizerFlags(args, r.optimizer);
  if (auto v = args.getDouble("l2")) {
    if (!(*v >= 0) || !std::isfinite(*v))
      fail("--l2 must be zero or positive");
    r.l2 = *v;
  }
  if (auto v = args.getDouble("validation")) {
    if (!(*v >= 0 && *v < 1))
      fail("--validation must be in [0, 1)");
    r.validation = *v;
    r.validationLoc = {};
  }
  if (auto v = args.getInt("seed")) {
    if (*v < 0)
      fail("--seed must not be negative");
    r.seed = static_cast<uint64_t>(*v);
  }
  if (args.has("no-shuffle"))
    r.shuffle = false;
}

Graph compileTo(const LoadedModel &m, Stage stop, const PipelineOptions &opts) {
  DiagEngine diags;
  diags.addSource(m.path, m.text);
  try {
    PipelineOptions checked = opts;
    checked.checkModel = true;
    // The run's seed (after --seed) keys the dropout masks.
    return runPipeline(seedDropout(m.model.graph, m.model.recipe.seed),
                       m.model.recipe, stop, checked, diags);
  } catch (const DiagnosedError &) {
    diags.print(std::cerr, useColor());
    throw;
  }
}

DataSource dataSourceFromFlag(const std::string &path, const DataSource &like) {
  DataSource src;
  src.path = path;
  bool csv = looksLikeCsv(path);
  src.format = csv ? DataSource::Format::Csv : DataSource::Format::Idx;
  if (csv && like.format == DataSource::Format::Csv)
    src.labelColumns = like.labelColumns;
  return src;
}

namespace {

[[noreturn]] void noData() {
  throw UserError("nnc: error: no data: give the model a 'data' line in "
                  "its train block, or pass --data PATH");
}

/// NNC_DEBUG_DATA=1: "nnc: data: rank 1 of 2 read rows [5000, 10000) of
/// 10000 of 'PATH' (15.7 MB as float) in 12.3 ms", for the tests of
/// per-process loading and for measuring it.
void debugLoad(const Dataset &d, double seconds) {
  const char *v = std::getenv("NNC_DEBUG_DATA");
  if (!v || !v[0] || std::string(v) == "0")
    return;
  double bytes = static_cast<double>(d.x.numel() + d.y.numel()) * 4;
  std::cerr << fmt::format("nnc: data: rank {} of {} read rows [{}, {}) of {} "
                           "of '{}' ({:.1f} MB as float) in {:.1f} ms\n",
                           world().rank, world().size, d.firstRow,
                           d.firstRow + d.size(), d.fileRows, d.source,
                           bytes / 1e6, seconds * 1e3);
}

} // namespace

Dataset loadData(const DataSource &src, int64_t featuresOnly, RowRange rows) {
  auto t0 = std::chrono::steady_clock::now();
  Dataset d;
  switch (src.format) {
  case DataSource::Format::None:
    noData();
  case DataSource::Format::Idx:
    d = loadIdx(src.path, rows);
    break;
  case DataSource::Format::Csv:
    d = loadCsv(src.path, CsvColumns{src.labelColumns, featuresOnly}, rows);
    break;
  }
  debugLoad(d, std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             t0)
                   .count());
  return d;
}

int64_t countRows(const DataSource &src) {
  switch (src.format) {
  case DataSource::Format::None:
    noData();
  case DataSource::Format::Idx:
    return idxRows(src.path);
  case DataSource::Format::Csv:
    return csvRows(src.path, CsvColumns{src.labelColumns, -1});
  }
  NN_UNREACHABLE("bad DataSource::Format");
}

Dataset loadShard(const DataSource &src) {
  const World &w = world();
  if (w.size == 1)
    return loadData(src);
  auto [begin, end] = shardRange(countRows(src), w.size, w.rank);
  return loadData(src, -1, {begin, end});
}

bool tf32Flag(const Args &args, const std::string &backend) {
  std::string p = args.get("precision").value_or("fp32");
  if (p != "fp32" && p != "tf32")
    throw UserError("nnc: error: invalid value '" + p +
                    "' for --precision: expected fp32 or tf32");
  if (p == "tf32" && backend != "cuda")
    throw UserError("nnc: error: --precision=tf32 is for the cuda backend "
                    "(this run uses " + backend + ")");
  return p == "tf32";
}

FlagSpec cpuFlag() {
  return {"cpu", "NAME",
          "the CPU to generate code for: host (default), or an LLVM CPU name "
          "such as x86-64-v3 (AVX2) or x86-64-v4 (AVX-512)"};
}

FlagSpec precisionFlag() {
  return {"precision", "P",
          "fp32 (default), or tf32: cuda GEMMs on tensor cores (operands "
          "rounded to a 10-bit mantissa)"};
}

} // namespace nn

//===- Driver.h - Shared pieces of the nnc commands ------------*- C++ -*-===//
///
/// \file
/// Loading a model (file -> diagnostics -> Model with the command line's
/// recipe overrides), running the pass pipeline to a stage, loading data.
/// Each command lives in its own *Command.cpp and is listed in nnc.cpp.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Frontend.h"
#include "passes/Pipeline.h"
#include "runtime/Dataset.h"
#include "runtime/ExecutorOptions.h"
#include "tools/Args.h"

#include <iosfwd>
#include <string>
#include <vector>

namespace nn {

/// A command: its name, one line of help, its flags, its entry point.
struct Command {
  const char *name;
  const char *summary;
  std::vector<FlagSpec> flags;
  int (*run)(const Args &args);
  /// What follows the command's name in its --help usage line.
  const char *usage = "model.nn [options]";
};

const Command &checkCommand();
const Command &emitCommand();
const Command &summaryCommand();
const Command &trainCommand();
const Command &evalCommand();
const Command &predictCommand();
const Command &gradcheckCommand();
const Command &compileCommand();
const Command &benchCommand();
const Command &explainCommand();
const Command &graphCommand();
const Command &reportCommand();
const Command &exportCommand();
const Command &importCommand();
const Command &dataCommand();
const Command &playCommand();

/// The whole text of `path`; throws UserError when it cannot be read.
std::string readFile(const std::string &path);

/// True when stderr is a terminal and NO_COLOR is unset.
bool useColor();

/// Makes std::cout remember why a write to standard output failed (for
/// checkStdout); main calls it first.
void checkStdoutWrites();

/// Flushes standard output and throws a UserError ("nnc: error: cannot
/// write to standard output: No space left on device") when any write to it
/// failed: output that stops short is never a success.
void checkStdout();

/// Writes `text` to standard output and flushes it; throws as checkStdout
/// does, with the reason of the write that failed.
void writeStdout(const std::string &text);

/// A parsed model with its source path.
struct LoadedModel {
  std::string path;
  std::string text;
  Model model;
};

/// Reads and parses the model named by the first positional argument,
/// printing diagnostics to stderr (throws DiagnosedError after errors).
/// Relative data paths of the recipe become relative to the model's folder.
LoadedModel loadModel(const Args &args);

/// The flags that override the recipe (shared by train, eval, gradcheck).
std::vector<FlagSpec> recipeFlags();
/// Applies --epochs, --batch, --lr, ... to `r`, checking their ranges.
void applyRecipeFlags(const Args &args, Recipe &r);

/// Runs the pass pipeline to `stop`, printing diagnostics on failure.
Graph compileTo(const LoadedModel &m, Stage stop,
                const PipelineOptions &opts = {});

/// The data set a DataSource names, all of it or the rows `rows`; throws
/// UserError when it cannot be read. `featuresOnly` >= 0 (prediction): a
/// CSV file of exactly that many columns and without the named label
/// columns is read as features only. With NNC_DEBUG_DATA=1 in the
/// environment, each process says on stderr which rows it read.
Dataset loadData(const DataSource &src, int64_t featuresOnly = -1,
                 RowRange rows = {});
/// The number of samples of the data a DataSource names: IDX from the
/// headers, CSV by a scan of the file that converts no number.
int64_t countRows(const DataSource &src);
/// This process's rows of the data: in a data-parallel run of N processes
/// rank r's contiguous shard, shardRange(rows, N, r) (runtime/Sharding.h),
/// which may be empty; in one process every row.
Dataset loadShard(const DataSource &src);
/// A DataSource for a path given on the command line: CSV when it ends in
/// ".csv" (label column from `like` when that was CSV too), IDX otherwise.
DataSource dataSourceFromFlag(const std::string &path, const DataSource &like);

/// The --precision flag (train, bench, emit): `--precision tf32` (GEMMs on
/// tensor cores) gives true, fp32 or none false. Throws UserError for
/// another value, or for tf32 when `backend` is not "cuda".
bool tf32Flag(const Args &args, const std::string &backend);
/// Its FlagSpec.
FlagSpec precisionFlag();
/// The executor options the environment sets, read once by each command
/// that makes executors: NNC_CUDA_SYNC=1 (kernel by kernel, naming a failing
/// kernel), NNC_CUDA_NO_GRAPH=1, NNC_CUDA_VERBOSE=1, NNC_CUDA_BIG_TILES_FROM=N
/// (GEMM results of N elements or more on big tiles; 1: all of them, to test
/// those kernels on small models), NNC_CUDA_BIG_MIN_BLOCKS=N (the big tiles
/// compiled for N blocks per multiprocessor: fewer registers; to compare on
/// a GPU), NNC_CUDA_SPLIT_K=0 (no split-K). The rest are defaults.
ExecutorOptions executorOptionsFromEnvironment();

/// --cpu NAME (emit's llvm/asm stages, compile): codegen/cpu's CpuOptions::cpu.
FlagSpec cpuFlag();

} // namespace nn

//===- Pipeline.h - The pass pipeline --------------------------*- C++ -*-===//
///
/// \file
/// The flat list of passes from a lowered forward graph to the training
/// step, verifying after each and printing what changed on request.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "ir/Printer.h"
#include "ir/Recipe.h"
#include "passes/Fuse.h"

#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace nn {

/// Where the pipeline stops: "ir", "grad", "opt", "fused" in
/// `nnc emit --stage=`.
enum class Stage { Forward, Grad, Opt, Fused };

struct PipelineOptions {
  /// Print the graph after these passes (names from passNames()).
  std::vector<std::string> printAfter;
  bool printAfterAll = false;
  /// Where printed graphs go; nothing is printed when null.
  std::ostream *log = nullptr;
  /// How they are printed (--no-loc).
  PrintOptions print;
  /// Stage::Fused: the fusions that run (names from fusionNames(); see
  /// parseFusionList for --fuse=). All of them by default.
  std::set<std::string> fusions = {fusionNames().begin(),
                                   fusionNames().end()};
  /// Stage::Fused: where the fusion passes say what they fused and why not;
  /// not kept when null.
  FusionLog *fusionLog = nullptr;
  /// A model from a .nn file: after the first infer-shapes, checkModel
  /// reports values that mix the samples of a batch and what training
  /// cannot differentiate (passes/CheckModel.h). Off for .nnir graphs.
  bool checkModel = false;
  /// Stage::Grad and after: differentiate without the optimizer, leaving
  /// an output "grad.<param>" per trained parameter (data-parallel training
  /// sums them across processes before its own update, runtime/DataParallel.h).
  bool gradientsOnly = false;
};

/// Runs infer-shapes, stable-losses (Forward), then add-l2 (recipe.l2),
/// differentiate (with recipe.optimizer: the update), infer-shapes (Grad),
/// then cse, dce (Opt), then the enabled fusions in the fusion table's order
/// (fusionTable(): fuse-conv, ..., fuse-elementwise) and a dce
/// (Fused), stopping after `stop`. Verifies after each pass
/// (a failure is an InternalError naming the pass); prints the graph after
/// the requested passes to *opts.log, only when the pass changed it. User
/// errors are reported to `diags` and thrown as DiagnosedError.
Graph runPipeline(const Graph &lowered, const Recipe &recipe, Stage stop,
                  const PipelineOptions &opts, DiagEngine &diags);

/// Names of the passes, in pipeline order, for --print-after validation and
/// --help.
const std::vector<std::string> &passNames();

} // namespace nn

//===- DataCommand.cpp - nnc data -----------------------------------------===//
///
/// \file
/// `nnc data circles|spirals|gaussians|xor --samples N --noise X --seed S
/// -o file.csv`: checks the flags, makes the points (runtime/Synthetic) and
/// writes them atomically as CSV with the header x1,x2,y, which a model
/// with `input x : f32[2]` reads with `csv("file.csv", label = "y")`.
///
//===----------------------------------------------------------------------===//

#include "ir/Diagnostics.h"
#include "ir/Format.h"
#include "ir/Support.h"
#include "runtime/AtomicFile.h"
#include "runtime/OutputPaths.h"
#include "runtime/Synthetic.h"
#include "tools/Driver.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <iostream>

namespace nn {

namespace {

constexpr int64_t kMaxSamples = 1000000;
constexpr double kMaxNoise = 100;

[[noreturn]] void fail(const std::string &msg) {
  throw UserError("nnc: error: " + msg);
}

SyntheticKind kindArg(const Args &args) {
  std::vector<std::string> names = syntheticKindNames();
  std::string list = fmt::format("{}", fmt::join(names, ", "));
  if (args.positional().empty())
    fail("nnc data needs the kind of data set: " + list);
  if (args.positional().size() > 1)
    fail("unexpected argument '" + args.positional()[1] + "'");
  const std::string &name = args.positional()[0];
  if (auto kind = syntheticKindNamed(name))
    return *kind;
  std::string near = closestMatch(name, names);
  fail("unknown data set '" + name + "'" +
       (near.empty() ? "" : "; did you mean '" + near + "'?") +
       "\nnnc: help: the data sets are " + list);
}

SyntheticOptions optionsArg(const Args &args) {
  SyntheticOptions o;
  if (auto v = args.getInt("samples")) {
    if (*v < 2 || *v > kMaxSamples)
      fail(fmt::format("--samples must be from 2 (one point of each label) "
                       "to {}, not {}",
                       withCommas(kMaxSamples), *v));
    o.samples = *v;
  }
  if (auto v = args.getDouble("noise")) {
    if (!(*v >= 0 && *v <= kMaxNoise))
      fail(fmt::format("--noise must be from 0 to {} (plane units; the "
                       "points lie within about 6 of the origin), not {}",
                       kMaxNoise, *args.get("noise")));
    o.noise = *v;
  }
  if (auto v = args.getInt("seed")) {
    if (*v < 0)
      fail("--seed must not be negative");
    o.seed = static_cast<uint64_t>(*v);
  }
  return o;
}

int runData(const Args &args) {
  SyntheticKind kind = kindArg(args);
  SyntheticOptions o = optionsArg(args);
  auto out = args.get("output");
  if (!out)
    fail("nnc data needs -o FILE.csv");
  checkOutputPaths({}, {{"--output", *out, "the data"}});
  std::vector<SyntheticPoint> points = makeSynthetic(kind, o);
  std::string text = syntheticCsv(points);
  writeFileAtomic(*out, text);
  std::cerr << "wrote " << *out << " (" << withCommas(o.samples)
            << " samples: " << withCommas((o.samples + 1) / 2)
            << " of label 1, " << withCommas(o.samples / 2) << " of label 0; "
            << withCommas(text.size()) << " bytes)\n";
  return 0;
}

} // namespace

const Command &dataCommand() {
  static const Command c{
      "data",
      "a 2-D data set of TensorFlow Playground's as CSV (x1,x2,y)",
      {{"samples", "N", "points, half of each label (default 400)"},
       {"noise", "X",
        "move each coordinate by a uniform amount in [-X, X] (default 0; "
        "the points lie within about 6 of the origin)"},
       {"seed", "S", "the random seed (default 1): same seed, same bytes"},
       {"output", "FILE", "the CSV file to write", 'o'}},
      runData,
      "circles|spirals|gaussians|xor [options] -o FILE.csv"};
  return c;
}

} // namespace nn

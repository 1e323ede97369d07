//===- BenchReport.cpp - What nnc bench measures and prints ---------------===//
///
/// \file
/// See BenchReport.h. Free of backend headers: both benches share it.
///
//===----------------------------------------------------------------------===//

#include "tools/BenchReport.h"

#include "ir/Support.h"
#include "passes/Fuse.h"
#include "runtime/Json.h"
#include "runtime/LeafChecks.h"
#include "runtime/Rng.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace nn {

Timing summarize(std::vector<double> v) {
  NN_ASSERT(!v.empty(), "no samples");
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  double med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return {med, v.front(), v.back()};
}

double nodeBytes(const Graph &g, NodeId id, int64_t batch) {
  auto bytes = [&](NodeId v) {
    const Node &n = g[v];
    if (n.op == OpKind::Const && n.values.size() == 1) // inlined
      return 0.0;
    return 4.0 * static_cast<double>(n.type.numelPerSample()) *
           (n.type.hasBatch() ? static_cast<double>(batch) : 1.0);
  };
  double total = bytes(id);
  for (NodeId in : g[id].inputs)
    total += bytes(in);
  return total;
}

std::vector<int64_t> parseBatches(const std::string &spec) {
  std::vector<int64_t> out;
  std::stringstream ss(spec);
  for (std::string item; std::getline(ss, item, ',');) {
    char *end = nullptr;
    long long b = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || b < 1 || b > (1 << 20))
      throw UserError("nnc: error: invalid value '" + spec +
                      "' for --batch: expected batch sizes from 1 to "
                      "1048576, separated by commas");
    out.push_back(b);
  }
  if (out.empty())
    throw UserError("nnc: error: --batch needs at least one batch size");
  return out;
}

std::vector<std::string> parseFuseSets(const std::string &spec) {
  std::vector<std::string> fuses;
  // "--fuse=all,none" means the two sets, not a list of fusions.
  std::stringstream ss(spec == "all,none" ? "all;none" : spec);
  for (std::string f; std::getline(ss, f, ';');)
    if (!f.empty()) {
      parseFusionList(f); // checks the names
      fuses.push_back(f);
    }
  if (fuses.empty())
    throw UserError("nnc: error: --fuse needs at least one fusion set");
  return fuses;
}

TensorMap benchBatch(const Graph &g, uint64_t seed, int64_t batch) {
  TensorMap out;
  Rng rng(seed + 1);
  for (const Node &n : g.nodes) {
    if (n.op != OpKind::Input && n.op != OpKind::Label)
      continue;
    Tensor t(concreteDims(n.type, batch));
    for (float &x : t.data)
      if (n.op == OpKind::Label && n.labelKind == LabelKind::Class)
        x = static_cast<float>(rng.below(static_cast<uint64_t>(n.classes)));
      else if (n.op == OpKind::Label && n.labelKind == LabelKind::Binary)
        x = static_cast<float>(rng.below(2));
      else
        x = static_cast<float>(rng.uniform());
    out[n.name] = std::move(t);
  }
  return out;
}

std::string disagreement(const TensorMap &a, const TensorMap &b) {
  for (const auto &[name, ta] : a) {
    auto it = b.find(name);
    if (it == b.end() || it->second.data.size() != ta.data.size())
      return "'" + name + "' is missing or has another shape";
    for (size_t i = 0; i < ta.data.size(); ++i) {
      double x = ta.data[i], y = it->second.data[i];
      bool same = x == y || (std::isnan(x) && std::isnan(y)); // inf == inf
      if (!same && !(std::fabs(x - y) <=
                     1e-5 + 1e-4 * std::max(std::fabs(x), std::fabs(y))))
        return "'" + name + "'[" + std::to_string(i) + "]: " +
               std::to_string(x) + " vs " + std::to_string(y);
    }
  }
  return "";
}

void checkVariantsAgree(const std::vector<BenchResult> &rs,
                        const std::vector<TensorMap> &results) {
  // A loss that is not finite makes every comparison moot (inf equals inf)
  // and the timings those of non-finite arithmetic: say so first.
  for (size_t i = 0; i < rs.size(); ++i) {
    auto it = results[i].find("loss");
    if (it == results[i].end() || it->second.data.empty() ||
        std::isfinite(it->second.data[0]))
      continue;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", it->second.data[0]);
    throw UserError("nnc: error: the loss of a step is not finite (" +
                    std::string(buf) + " with --fuse=" + rs[i].fuse +
                    " at batch " + std::to_string(rs[i].batch) +
                    "); not timing non-finite arithmetic\nnnc: help: find "
                    "the op that produces it with 'nnc train "
                    "--check-numerics'");
  }
  for (size_t i = 0; i < rs.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (rs[i].batch == rs[j].batch) {
        std::string d = disagreement(results[j], results[i]);
        if (!d.empty())
          throw UserError("nnc: error: --fuse=" + rs[j].fuse + " and --fuse=" +
                          rs[i].fuse + " disagree at batch " +
                          std::to_string(rs[i].batch) + " (" + d +
                          "); not reporting timings of wrong code");
      }
}

namespace {

std::string fmt(const char *f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

double gflops(double flops, double s) { return s > 0 ? flops / s / 1e9 : 0; }

void printJson(const BenchSetup &setup, const std::vector<BenchResult> &rs) {
  auto pct = [&](double gf) {
    return setup.peakGflops > 0 ? 100 * gf / setup.peakGflops : 0;
  };
  std::ostringstream o;
  o << "{\"model\": " << jsonString(setup.model)
    << ", \"backend\": " << jsonString(setup.backend);
  if (setup.threads > 0)
    o << ", \"threads\": " << setup.threads
      << ", \"cpu\": " << jsonString(setup.device);
  else
    o << ", \"device\": " << jsonString(setup.device);
  o << ", \"precision\": " << jsonString(setup.precision)
    << ", \"peak_gflops\": " << fmt("%.1f", setup.peakGflops)
    << ", \"timed_by\": " << jsonString(setup.timedBy)
    << ", \"repeats\": " << setup.repeats << ", \"warmup\": " << setup.warmup
    << ", \"results\": [";
  bool first = true;
  auto row = [&](const BenchResult &v, const char *scope,
                 const std::string &name, const Timing &t, double flops,
                 double bytes) {
    o << (first ? "" : ",") << "\n  {\"batch\": " << v.batch
      << ", \"fuse\": " << jsonString(v.fuse) << ", \"scope\": \"" << scope
      << "\", \"name\": " << jsonString(name) << ", \"median_s\": "
      << fmt("%.9f", t.median) << ", \"min_s\": " << fmt("%.9f", t.min)
      << ", \"max_s\": " << fmt("%.9f", t.max) << ", \"flops\": "
      << fmt("%.0f", flops) << ", \"gflops\": "
      << fmt("%.3f", gflops(flops, t.median)) << ", \"peak_pct\": "
      << fmt("%.2f", pct(gflops(flops, t.median))) << ", \"bytes\": "
      << fmt("%.0f", bytes) << ", \"gbps\": "
      << fmt("%.3f", t.median > 0 ? bytes / t.median / 1e9 : 0);
    if (std::string(scope) == "step")
      o << ", \"kernels\": " << v.kernels.size() << ", \"arena_bytes\": "
        << v.arenaBytes << ", \"compile_cold_s\": "
        << fmt("%.4f", v.compileCold) << ", \"compile_cached_s\": "
        << fmt("%.4f", v.compileCached);
    o << "}";
    first = false;
  };
  for (const BenchResult &v : rs) {
    row(v, "step", "step", v.step, v.flops, v.bytes);
    for (const KernelInfo &k : v.kernels)
      row(v, "kernel", k.name, k.time, k.flops, k.bytes);
  }
  o << "\n], \"ratios\": [";
  first = true;
  for (const BenchResult &f : rs)
    for (const BenchResult &u : rs)
      if (f.batch == u.batch && f.fuse == "all" && u.fuse == "none") {
        o << (first ? "" : ",") << "\n  {\"batch\": " << f.batch
          << ", \"name\": \"step\", \"unfused_over_fused\": "
          << fmt("%.3f", u.step.median / f.step.median) << "}";
        first = false;
      }
  o << "\n]}\n";
  std::cout << o.str();
}

} // namespace

void printBench(const BenchSetup &setup, const std::vector<BenchResult> &rs,
                bool json) {
  if (json)
    return printJson(setup, rs);
  auto pct = [&](double gf) {
    return setup.peakGflops > 0 ? 100 * gf / setup.peakGflops : 0;
  };
  std::cout << "nnc bench " << setup.model << ": training step on "
            << setup.backend;
  if (setup.threads > 0)
    std::cout << ", " << setup.threads << " thread"
              << (setup.threads == 1 ? "" : "s");
  std::cout << "; " << setup.device << ", peak "
            << fmt("%.1f", setup.peakGflops) << " GFLOP/s " << setup.precision
            << " ("
            << setup.peakNote << ")\nmedian (min-max) of " << setup.repeats
            << " runs after " << setup.warmup
            << " warm-up, variants interleaved, timed by " << setup.timedBy
            << "\n\n";
  std::printf("%6s  %-5s %24s %9s %7s %9s %7s %8s %10s %10s\n", "batch",
              "fuse", "step ms (min-max)", "GFLOP/s", "%peak", "MB moved",
              "GB/s", "kernels", "arena KiB", "compile s");
  for (const BenchResult &v : rs) {
    double gf = gflops(v.flops, v.step.median);
    std::string range = fmt("%.3f", v.step.median * 1e3) + " (" +
                        fmt("%.3f", v.step.min * 1e3) + "-" +
                        fmt("%.3f", v.step.max * 1e3) + ")";
    std::printf("%6lld  %-5s %24s %9.1f %6.1f%% %9.2f %7.1f %8zu %10.0f "
                "%5.3f/%.3f\n",
                static_cast<long long>(v.batch), v.fuse.c_str(), range.c_str(),
                gf, pct(gf), v.bytes / 1e6, v.bytes / v.step.median / 1e9,
                v.kernels.size(), static_cast<double>(v.arenaBytes) / 1024,
                v.compileCold, v.compileCached);
  }
  std::cout << "(compile s: cold / from the cache)\n";
  for (const BenchResult &f : rs)
    for (const BenchResult &u : rs)
      if (f.batch == u.batch && f.fuse == "all" && u.fuse == "none")
        std::printf("batch %lld: unfused/fused step time %.2fx\n",
                    static_cast<long long>(f.batch),
                    u.step.median / f.step.median);
  for (const BenchResult &v : rs) {
    std::printf("\nkernels at batch %lld, --fuse=%s (median us; GFLOP/s; "
                "GB/s; share of the step)\n",
                static_cast<long long>(v.batch), v.fuse.c_str());
    double total = 0;
    for (const KernelInfo &k : v.kernels)
      total += k.time.median;
    for (const KernelInfo &k : v.kernels)
      std::printf("  %-52s %9.1f %8.1f %7.1f %6.1f%%\n", k.name.c_str(),
                  k.time.median * 1e6, gflops(k.flops, k.time.median),
                  k.time.median > 0 ? k.bytes / k.time.median / 1e9 : 0,
                  total > 0 ? 100 * k.time.median / total : 0);
  }
}

} // namespace nn

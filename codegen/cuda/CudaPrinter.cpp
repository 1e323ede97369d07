//===- CudaPrinter.cpp - A graph as one CUDA C++ translation unit ---------===//
///
/// \file
/// The prelude (CudaPrelude.cpp), constant arrays, and one
/// `extern "C" __global__` kernel per non-leaf node, each under a comment
/// with its `.nn` location and IR line; also the KernelWriter helpers the
/// kernel printers use, and the launch shapes.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaEmit.h"

#include "ir/KernelNames.h"
#include "ir/Printer.h"
#include "ir/Support.h"
#include "passes/InPlaceUpdates.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace nn {

int64_t CudaExtent::at(int64_t batch) const {
  int64_t v = fixed;
  for (int i = 0; i < batchPow; ++i)
    v *= batch;
  return v;
}

std::string CudaExtent::str() const {
  std::string s = batchPow == 0 || fixed != 1 ? std::to_string(fixed) : "";
  for (int i = 0; i < batchPow; ++i)
    s += s.empty() ? "N" : "*N";
  return s;
}

const CudaKernel *CudaSource::kernelAtLine(int line) const {
  for (const CudaKernel &k : kernels)
    if (line >= k.firstLine && line <= k.lastLine)
      return &k;
  return nullptr;
}

const CudaKernel *CudaSource::kernelOf(NodeId id) const {
  for (const CudaKernel &k : kernels)
    if (k.node == id)
      return &k;
  return nullptr;
}

CudaLaunchDims cudaLaunchDims(const CudaKernel &k, int64_t batch) {
  CudaLaunchDims d;
  auto blocks = [](int64_t items, int64_t per) {
    return items <= 0 ? int64_t(0) : (items + per - 1) / per;
  };
  int64_t grid = 1;
  switch (k.launch) {
  case CudaLaunchKind::Elements:
    // Grid-stride loops: a capped grid still covers every item.
    grid = std::min<int64_t>(blocks(k.count.at(batch), kCudaBlock), 1 << 20);
    break;
  case CudaLaunchKind::Single:
    grid = 1;
    break;
  case CudaLaunchKind::Rows:
    grid = std::min<int64_t>(k.count.at(batch), kCudaMaxRowBlocks);
    break;
  case CudaLaunchKind::Columns:
    grid = blocks(k.count.at(batch), kCudaColumns);
    NN_ASSERT(grid < (int64_t(1) << 31), "column-sum grid too large");
    break;
  case CudaLaunchKind::Gemm: {
    const int64_t rows = k.rows.at(batch), cols = k.cols.at(batch);
    d.big = !k.bigName.empty() && rows * cols >= k.bigTileMin;
    const int64_t tile = d.big ? kCudaBigTile : kCudaTile;
    grid = blocks(rows, tile) * blocks(cols, tile);
    // Split-K (the prelude's nn_split_of reads the splits off the grid).
    const int64_t slices = blocks(k.depth.at(batch), kCudaSliceDepth);
    if (!d.big && k.splitK && grid > 0 && grid <= kCudaSplitTiles) {
      int64_t want = std::min<int64_t>(
          {kCudaMaxSplits, slices / kCudaSplitMinSlices,
           std::max<int64_t>(1, kCudaSplitBlocks / grid)});
      if (want >= 2) {
        // As even as slices allow, none empty.
        d.splits = static_cast<unsigned>(blocks(slices, blocks(slices, want)));
        grid *= d.splits;
      }
    }
    NN_ASSERT(grid < (int64_t(1) << 31), "GEMM grid too large");
    break;
  }
  }
  d.grid = static_cast<unsigned>(grid);
  return d;
}

namespace cuda {

std::string floatLit(double v) {
  float f = static_cast<float>(v);
  if (std::isnan(f))
    return "__uint_as_float(0x7fffffffu)";
  if (std::isinf(f))
    return f > 0 ? "__uint_as_float(0x7f800000u)"
                 : "__uint_as_float(0xff800000u)";
  char buf[64];
  for (int prec = 1; prec <= 9; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, static_cast<double>(f));
    if (std::strtof(buf, nullptr) == f)
      break;
  }
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  s += "f";
  return s[0] == '-' ? "(" + s + ")" : s;
}

KernelWriter::KernelWriter(const Graph &g, NodeId id, std::string name,
                           const CudaPrintOptions &opts)
    : g(g), node(g[id]), opts(opts) {
  meta.node = id;
  meta.name = std::move(name);
  meta.loc = node.loc; // meta.nodeText: set by the caller (a NodePrinter)
}

void KernelWriter::line(const std::string &s) {
  text += std::string(static_cast<size_t>(depth) * 2, ' ') + s + "\n";
}

std::string KernelWriter::fresh(const char *prefix) {
  return prefix + std::to_string(temps++);
}

std::string KernelWriter::dim(int64_t d) const {
  return d == kBatch ? "batch" : std::to_string(d) + "LL";
}

std::string KernelWriter::product(const std::vector<int64_t> &dims, size_t from,
                                  size_t to) const {
  CudaExtent e = extent(dims, from, to);
  std::string s =
      e.batchPow == 0 || e.fixed != 1 ? std::to_string(e.fixed) + "LL" : "";
  for (int i = 0; i < e.batchPow; ++i)
    s += s.empty() ? "batch" : " * batch";
  return e.batchPow > 0 && e.fixed != 1 ? "(" + s + ")" : s;
}

CudaExtent KernelWriter::extent(const std::vector<int64_t> &dims, size_t from,
                                size_t to) {
  CudaExtent e;
  for (size_t i = from; i < to; ++i) {
    if (dims[i] == kBatch)
      ++e.batchPow;
    else
      e.fixed *= dims[i];
  }
  return e;
}

bool KernelWriter::isConst(size_t i) const {
  const Node &n = inNode(i);
  return n.op == OpKind::Const && n.values.size() == 1;
}

bool KernelWriter::isSingle(size_t i) const {
  if (isConst(i))
    return true;
  for (int64_t d : inType(i).dims)
    if (d != 1)
      return false;
  return true;
}

std::string KernelWriter::at(size_t i, const std::string &index) const {
  const Node &n = inNode(i);
  if (isConst(i))
    return floatLit(n.values[0]);
  if (n.op == OpKind::Const)
    return "nn_c" + std::to_string(node.inputs[i]) + "[" + index + "]";
  return "in" + std::to_string(i) + "[" + index + "]";
}

void KernelWriter::gridLoop(const std::string &var,
                            const std::vector<int64_t> &dims, size_t from,
                            size_t to) {
  meta.launch = CudaLaunchKind::Elements;
  meta.count = extent(dims, from, to);
  open("for (long long " + var +
       " = (long long)blockIdx.x * blockDim.x + threadIdx.x; " + var + " < " +
       product(dims, from, to) + "; " + var +
       " += (long long)gridDim.x * blockDim.x)");
}

void KernelWriter::rowLoop(const std::string &var,
                           const std::vector<int64_t> &dims, size_t from,
                           size_t to) {
  meta.launch = CudaLaunchKind::Rows;
  meta.count = extent(dims, from, to);
  open("for (long long " + var + " = blockIdx.x; " + var + " < " +
       product(dims, from, to) + "; " + var + " += gridDim.x)");
}

CudaMath::Value CudaMath::let(const std::string &expr) {
  std::string t = k.fresh();
  k.line("const float " + t + " = " + expr + ";");
  return t;
}

std::vector<std::string> broadcastStrides(const KernelWriter &k,
                                          const std::vector<int64_t> &a,
                                          const std::vector<int64_t> &out) {
  NN_ASSERT(fitsBroadcast(a, out),
            "cannot broadcast " + dimsStr(a) + " to " + dimsStr(out));
  std::vector<std::string> s(out.size());
  size_t off = out.size() - a.size();
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != 1)
      s[off + i] = k.product(a, i + 1, a.size());
  return s;
}

void printUnflatten(KernelWriter &k, const std::string &flat,
                    const std::string &var, const std::vector<int64_t> &dims) {
  if (dims.empty())
    return;
  std::string rem = k.fresh("rem");
  k.line("long long " + rem + " = " + flat + ";");
  for (size_t d = dims.size(); d-- > 0;) {
    std::string n = k.dim(dims[d]);
    if (d == 0) {
      k.line("const long long " + var + "0 = " + rem + ";");
      break;
    }
    k.line("const long long " + var + std::to_string(d) + " = " + rem + " % " +
           n + ";");
    k.line(rem + " /= " + n + ";");
  }
}

std::string offsetExpr(const std::string &var,
                       const std::vector<std::string> &strides) {
  std::string s;
  for (size_t d = 0; d < strides.size(); ++d) {
    if (strides[d].empty())
      continue;
    std::string term = var + std::to_string(d);
    if (strides[d] != "1LL")
      term += " * " + strides[d];
    s += (s.empty() ? "" : " + ") + term;
  }
  return s.empty() ? "0LL" : s;
}

} // namespace cuda

namespace {

int countLines(const std::string &s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

} // namespace

std::string cudaKernelName(const Graph &g, NodeId id) {
  return kernelNames(g)[static_cast<size_t>(id)];
}

void checkTf32Arch(const std::string &arch) {
  int sm = 0;
  if (arch.rfind("sm_", 0) == 0)
    sm = std::atoi(arch.c_str() + 3);
  if (sm < 80)
    throw UserError("nnc: error: --precision=tf32 needs tensor cores with "
                    "TF32: sm_80 or newer (this is " + arch + ")");
}

CudaSource printCuda(const Graph &g, const CudaPrintOptions &opts) {
  CudaSource src;
  src.graph = g.name;
  src.inPlace = inPlaceUpdates(g);
  std::string &code = src.code;
  code = "// The training step of graph '" + g.name +
         "', one kernel per node, generated by nnc" +
         (opts.tf32 ? " (GEMMs in TF32 on tensor cores)" : "") + ".\n" +
         cuda::prelude(opts);

  // Constant tensors (single constants are inlined into the kernels).
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    if (n.op != OpKind::Const || n.values.size() <= 1)
      continue;
    code += "\n__device__ const float nn_c" + std::to_string(id) + "[" +
            std::to_string(n.values.size()) + "] = {";
    for (size_t i = 0; i < n.values.size(); ++i)
      code += (i ? ", " : "") + cuda::floatLit(n.values[i]);
    code += "};\n";
  }

  NodePrinter nodeText(g, PrintOptions{false});
  std::vector<std::string> names = kernelNames(g);
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node &n = g[id];
    if (hasTrait(n.op, kLeaf))
      continue;
    NN_ASSERT(n.type.known, "cuda printer: node %" + std::to_string(id) +
                                " has no known type");
    cuda::KernelWriter k(g, id, names[static_cast<size_t>(id)], opts);
    k.meta.nodeText = nodeText(id);
    cuda::printKernelBody(k);
    std::string head = "\n// ";
    if (n.loc.valid())
      head += n.loc.str() + ": ";
    head += k.meta.nodeText;
    std::replace(head.begin() + 1, head.end(), '\n', ' ');
    head += "\n";
    auto signature = [&](const std::string &name, int minBlocks = 1) {
      std::string bounds = minBlocks > 1
                               ? "NN_BLOCK, " + std::to_string(minBlocks)
                               : "NN_BLOCK";
      // An update computed in place reads and writes its leaf's buffer.
      std::string noalias = src.inPlace[id] < 0 ? "__restrict__ " : "";
      std::string sig = "extern \"C\" __global__ void __launch_bounds__(" +
                        bounds + ")\n" + name + "(float *" + noalias + "out";
      for (size_t i = 0; i < n.inputs.size(); ++i)
        sig += ", const float *" + noalias + "in" + std::to_string(i);
      return sig + ", const long long batch) {\n";
    };
    code += head;
    k.meta.firstLine = countLines(code) + 1;
    code += signature(k.meta.name) + k.body() + "}\n";
    const CudaKernel &m = k.meta;
    if (m.launch == CudaLaunchKind::Gemm &&
        (m.rows.batchPow + m.cols.batchPow > 0 ||
         m.rows.fixed * m.cols.fixed >= opts.bigTileMin)) {
      cuda::KernelWriter big(g, id, m.name, opts);
      big.bigTile = true;
      cuda::printKernelBody(big);
      k.meta.bigName = m.name + "_big";
      code += "// The same on 128 x 128 tiles, launched for results of " +
              std::to_string(opts.bigTileMin) + " elements or more.\n" +
              signature(k.meta.bigName, opts.bigMinBlocks) + big.body() +
              "}\n";
    }
    k.meta.lastLine = countLines(code);
    src.kernels.push_back(k.meta);
  }
  cuda::printUpdateChains(g, names, opts, src);
  return src;
}

} // namespace nn

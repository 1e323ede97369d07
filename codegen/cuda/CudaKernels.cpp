//===- CudaKernels.cpp - The CUDA kernel of every op ----------------------===//
///
/// \file
/// One complete switch over the op families, then over each family's enum:
/// each case prints one node's kernel body. The semantics are runtime/Interpreter.cpp's (see its header comment),
/// computed in float with sums accumulated in double; elementwise math and
/// loss terms come from ir/ElementwiseMath.h through the CudaMath emitter.
/// Element-parallel ops are grid-stride loops; full reductions and losses
/// run in one block (nn_block_sum); matmuls use the prelude's tiled GEMMs.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaEmit.h"

#include "ir/ElementwiseMath.h"
#include "ir/Support.h"

namespace nn::cuda {

using Dims = std::vector<int64_t>;

void printBroadcastLoop(
    KernelWriter &k,
    const std::function<std::string(const std::vector<std::string> &)>
        &compute) {
  const Dims &out = k.node.type.dims;
  bool flat = true;
  for (size_t i = 0; i < k.numInputs(); ++i)
    flat &= k.isSingle(i) || k.inType(i).dims == out;
  k.gridLoop("i", out, 0, out.size());
  std::vector<std::string> args;
  if (flat) {
    for (size_t j = 0; j < k.numInputs(); ++j)
      args.push_back(k.at(j, k.isSingle(j) ? "0" : "i"));
  } else {
    printUnflatten(k, "i", "d", out);
    for (size_t j = 0; j < k.numInputs(); ++j)
      args.push_back(
          k.isSingle(j)
              ? k.at(j, "0")
              : k.at(j, offsetExpr(
                            "d", broadcastStrides(k, k.inType(j).dims, out))));
  }
  k.line("out[i] = " + compute(args) + ";");
  k.close();
}

void printRowMaxAndSum(KernelWriter &k, const std::string &row,
                       const std::string &c, const std::string &max,
                       const std::string &sum) {
  CudaMath math{k};
  std::string base = k.fresh("base");
  k.line("const long long " + base + " = " + row + " * " + c + ";");
  k.line("float " + max + " = " + k.at(0, base) + ";");
  k.open("for (long long q = 1; q < " + c + "; ++q)");
  k.line(max + " = " + emitMax(math, k.at(0, base + " + q"), max) + ";");
  k.close();
  std::string acc = k.fresh("acc");
  k.line("double " + acc + " = 0.0;");
  k.open("for (long long q = 0; q < " + c + "; ++q)");
  k.line(acc + " += (double)" +
         emitExpShifted(math, k.at(0, base + " + q"), max) + ";");
  k.close();
  k.line("const float " + sum + " = (float)" + acc + ";");
}

void printClassIndex(KernelWriter &k, const std::string &v,
                     const std::string &classes, const std::string &id,
                     const std::string &ok) {
  std::string f = k.fresh("cls");
  k.line("const float " + f + " = " + v + ";");
  // NaN fails both comparisons; the executor rejects bad ids before a
  // launch, this keeps the kernel memory-safe regardless.
  k.line("const bool " + ok + " = " + f + " >= 0.0f && " + f + " < (float)" +
         classes + ";");
  k.line("const long long " + id + " = " + ok + " ? (long long)" + f +
         " : 0LL;");
}

void printColumnSums(KernelWriter &k, const std::vector<int64_t> &outDims,
                     const std::string &len, bool mean,
                     const std::function<std::string()> &element) {
  k.meta.launch = CudaLaunchKind::Columns;
  k.meta.count = KernelWriter::extent(outDims, 0, outDims.size());
  k.open("auto v = [&](long long i, long long r) -> float");
  k.line("return " + element() + ";");
  k.close(";");
  k.line("nn_column_sums(out, " + k.product(outDims, 0, outDims.size()) +
         ", " + len + ", " + (mean ? "true" : "false") + ", v);");
}

void printGemm(KernelWriter &k, const GemmSpec &s) {
  k.meta.launch = CudaLaunchKind::Gemm;
  k.meta.bigTileMin = k.opts.bigTileMin;
  k.meta.splitK = k.opts.splitK;
  k.meta.rows = KernelWriter::extent(s.mDims, 0, s.mDims.size());
  k.meta.cols = KernelWriter::extent(s.nDims, 0, s.nDims.size());
  k.meta.depth = KernelWriter::extent(s.kDims, 0, s.kDims.size());
  k.line("const long long M = " + k.product(s.mDims, 0, s.mDims.size()) +
         ", N = " + k.product(s.nDims, 0, s.nDims.size()) +
         ", K = " + k.product(s.kDims, 0, s.kDims.size()) + ";");
  k.open("auto la = [&](long long i, long long p) -> float");
  k.line("return " + s.a() + ";");
  k.close(";");
  k.open("auto lb = [&](long long p, long long j) -> float");
  k.line("return " + s.b() + ";");
  k.close(";");
  k.open("auto ep = [&](long long i, long long j, float acc)");
  s.epilogue();
  k.close(";");
  k.line(std::string(k.bigTile ? "nn_gemm128" : "nn_gemm64") +
         (k.opts.tf32 ? "_tf32<" : "<") +
         (s.aRowMajor ? "true" : "false") + ", " +
         (s.bRowMajor ? "true" : "false") + ">(M, N, K, la, lb, ep);");
}

namespace {

void printElementwise(KernelWriter &k) {
  CudaMath math{k};
  printBroadcastLoop(k, [&](const std::vector<std::string> &args) {
    return emitElementwise(math, k.node.op, std::span<const std::string>(args),
                           k.node.param);
  });
}

/// out = operand 0 read along `strides` (one per output dimension).
void printStridedCopy(KernelWriter &k,
                      const std::vector<std::string> &strides) {
  const Dims &out = k.node.type.dims;
  k.gridLoop("i", out, 0, out.size());
  printUnflatten(k, "i", "d", out);
  k.line("out[i] = " + k.at(0, offsetExpr("d", strides)) + ";");
  k.close();
}

void printMatMul(KernelWriter &k) {
  const Dims &a = k.inType(0).dims, &b = k.inType(1).dims;
  NN_ASSERT(!a.empty() && a.size() <= 2 && !b.empty() && b.size() <= 2,
            "matmul of " + dimsStr(a) + " and " + dimsStr(b));
  GemmSpec s;
  if (a.size() == 2)
    s.mDims = {a[0]};
  s.kDims = {a.back()};
  if (b.size() == 2)
    s.nDims = {b[1]};
  s.a = [&] { return k.at(0, "i * K + p"); };
  s.b = [&] { return k.at(1, "p * N + j"); };
  s.epilogue = [&] { k.line("out[i * N + j] = acc;"); };
  printGemm(k, s);
}

void printTranspose(KernelWriter &k) {
  const Dims &a = k.inType(0).dims;
  if (a.size() < 2) {
    std::vector<std::string> dense;
    for (size_t d = 0; d < a.size(); ++d)
      dense.push_back(k.product(a, d + 1, a.size()));
    return printStridedCopy(k, dense);
  }
  NN_ASSERT(a.size() == 2, "transpose of " + dimsStr(a));
  // out [n, m]; out[j][i] = a[i][j] = a[i * n + j].
  printStridedCopy(k, {"1LL", k.dim(a[1])});
}

void printExpand(KernelWriter &k) {
  const Dims &a = k.inType(0).dims;
  const Dims &like = k.node.type.dims;
  auto viaAxis = [&](size_t axis) {
    Dims aligned = a;
    aligned.insert(aligned.begin() + static_cast<std::ptrdiff_t>(axis), 1);
    printStridedCopy(k, broadcastStrides(k, aligned, like));
  };
  if (k.isConst(0))
    return printStridedCopy(k, std::vector<std::string>(like.size()));
  int64_t axis = k.node.axis;
  if (axis >= 0 && a.size() + 1 == like.size() &&
      static_cast<size_t>(axis) < like.size())
    return viaAxis(static_cast<size_t>(axis));
  if (fitsBroadcast(a, like))
    return printStridedCopy(k, broadcastStrides(k, a, like));
  for (size_t d = 0; a.size() + 1 == like.size() && d < like.size(); ++d) {
    Dims without = like;
    without.erase(without.begin() + static_cast<std::ptrdiff_t>(d));
    if (without == a)
      return viaAxis(d);
  }
  NN_UNREACHABLE("expand: cannot broadcast " + dimsStr(a) + " to " +
                 dimsStr(like));
}

/// Sum (or Mean) over `axis`; -1 reduces everything in one block.
void printReduce(KernelWriter &k, bool mean) {
  const Dims &a = k.inType(0).dims;
  if (k.node.axis == -1) {
    k.singleBlock();
    k.line("const long long n = " + k.numel(k.inType(0)) + ";");
    k.line("double acc = 0.0;");
    k.open("for (long long i = threadIdx.x; i < n; i += NN_BLOCK)");
    k.line("acc += (double)" + k.at(0, "i") + ";");
    k.close();
    k.line("acc = nn_block_sum(acc);");
    k.line(std::string("if (threadIdx.x == 0) out[0] = (float)") +
           (mean ? "(acc / (double)n);" : "acc;"));
    return;
  }
  size_t axis = static_cast<size_t>(k.node.axis);
  NN_ASSERT(axis < a.size(), "reduction axis out of range");
  // out[o * inner + t] sums a[(o * len + r) * inner + t] over r.
  Dims outDims = a;
  outDims.erase(outDims.begin() + static_cast<std::ptrdiff_t>(axis));
  k.line("const long long len = " + k.dim(a[axis]) +
         ", inner = " + k.product(a, axis + 1, a.size()) + ";");
  printColumnSums(k, outDims, "len", mean, [&] {
    k.line("const long long o = i / inner, t = i % inner;");
    return k.at(0, "(o * len + r) * inner + t");
  });
}

void printCount(KernelWriter &k) {
  const TensorType &a = k.inType(0);
  std::string c =
      k.node.axis == -1 ? k.numel(a) : k.dim(a.dims.at(k.node.axis));
  const Dims &out = k.node.type.dims;
  k.gridLoop("i", out, 0, out.size());
  k.line("out[i] = (float)" + c + ";");
  k.close();
}

void printSoftmax(KernelWriter &k) {
  CudaMath math{k};
  const Dims &d = k.node.type.dims;
  std::string c = d.empty() ? "1LL" : k.dim(d.back());
  k.line("const long long c = " + c + ";");
  k.gridLoop("r", d, 0, d.empty() ? 0 : d.size() - 1);
  printRowMaxAndSum(k, "r", "c", "mx", "s");
  k.open("for (long long j = 0; j < c; ++j)");
  k.line("out[r * c + j] = " +
         math.div(emitExpShifted(math, k.at(0, "r * c + j"), "mx"), "s") + ";");
  k.close();
  k.close();
}

void printOneHot(KernelWriter &k) {
  const Dims &out = k.node.type.dims;
  k.line("const long long c = " + std::to_string(k.node.classes) + "LL;");
  k.gridLoop("i", out, 0, out.size());
  k.line("const long long r = i / c, j = i % c;");
  printClassIndex(k, k.at(0, "r"), "c", "id", "ok");
  k.line("out[i] = (ok && id == j) ? 1.0f : 0.0f;");
  k.close();
}

/// Bce, BceLogits, Mse: the mean over elements of term(a, b), one block.
template <class Term> void printElementLoss(KernelWriter &k, Term term) {
  CudaMath math{k};
  NN_ASSERT(k.inType(0).numelPerSample() == k.inType(1).numelPerSample() &&
                k.inType(0).hasBatch() == k.inType(1).hasBatch(),
            std::string(mnemonic(k.node.op)) + ": operands differ in size");
  k.singleBlock();
  k.line("const long long n = " + k.numel(k.inType(0)) + ";");
  k.line("double acc = 0.0;");
  k.open("for (long long i = threadIdx.x; i < n; i += NN_BLOCK)");
  k.line("acc += (double)" + term(math, k.at(0, "i"), k.at(1, "i")) + ";");
  k.close();
  k.line("acc = nn_block_sum(acc);");
  k.line("if (threadIdx.x == 0) out[0] = (float)(acc / (double)n);");
}

/// CrossEntropy (on probabilities) and SoftmaxCrossEntropy (on logits): the
/// mean over rows of -log q[row, target], one block; targets are class ids
/// (one per row) or dense rows of the same shape.
void printClassLoss(KernelWriter &k, bool logits) {
  CudaMath math{k};
  const Dims &p = k.inType(0).dims;
  bool dense = k.inType(1).dims == p;
  int64_t labelClasses = k.inNode(1).classes;
  k.singleBlock();
  k.line("const long long c = " + (p.empty() ? "1LL" : k.dim(p.back())) +
         ", rows = " + (p.empty() ? "1LL" : k.product(p, 0, p.size() - 1)) +
         ";");
  k.line("double acc = 0.0;");
  k.open("for (long long r = threadIdx.x; r < rows; r += NN_BLOCK)");
  std::string lse;
  if (logits) {
    printRowMaxAndSum(k, "r", "c", "mx", "s");
    lse = emitLogSumExp(math, "mx", "s");
  }
  auto negLogQ = [&](const std::string &j) {
    std::string q = k.at(0, "r * c + " + j);
    return logits ? math.sub(lse, q) : math.neg(math.log(q));
  };
  if (!dense) {
    printClassIndex(k, k.at(1, "r"),
                    labelClasses > 0 ? std::to_string(labelClasses) + "LL"
                                     : "c",
                    "id", "ok0");
    k.line("const bool ok = ok0 && id < c;");
    std::string term = negLogQ("(ok ? id : 0LL)");
    k.line("acc += ok ? (double)" + term + " : (double)" +
           floatLit(std::nan("")) + ";");
  } else {
    k.open("for (long long j = 0; j < c; ++j)");
    std::string t = k.at(1, "r * c + j");
    std::string term = logits ? math.mul(t, negLogQ("j"))
                              : emitNegXLogY(math, t, k.at(0, "r * c + j"));
    k.line("acc += (double)" + term + ";");
    k.close();
  }
  k.close();
  k.line("acc = nn_block_sum(acc);");
  k.line("if (threadIdx.x == 0) out[0] = (float)(acc / (double)rows);");
}

} // namespace

/// The kernel of a linear-algebra or shape op.
static void printLinalgKernel(KernelWriter &k) {
  switch (member<LinalgOp>(k.node.op)) {
  case LinalgOp::MatMul:
    return printMatMul(k);
  case LinalgOp::Transpose:
    return printTranspose(k);
  case LinalgOp::Expand:
    return printExpand(k);
  case LinalgOp::Reshape:
    return printReshape(k);
  }
  NN_UNREACHABLE("bad LinalgOp");
}

/// The kernel of a reduction.
static void printReduceKernel(KernelWriter &k) {
  switch (member<ReduceOp>(k.node.op)) {
  case ReduceOp::Sum:
    return printReduce(k, /*mean=*/false);
  case ReduceOp::Mean:
    return printReduce(k, /*mean=*/true);
  case ReduceOp::Count:
    return printCount(k);
  }
  NN_UNREACHABLE("bad ReduceOp");
}

/// The kernel of a per-row op.
static void printRowsKernel(KernelWriter &k) {
  switch (member<RowsOp>(k.node.op)) {
  case RowsOp::Softmax:
    return printSoftmax(k);
  case RowsOp::OneHot:
    return printOneHot(k);
  case RowsOp::Normalize:
    return printNormalize(k);
  case RowsOp::NormalizeGrad:
    return printNormalizeGrad(k);
  }
  NN_UNREACHABLE("bad RowsOp");
}

/// The kernel of a loss: a mean of per-element or per-row terms.
static void printLossKernel(KernelWriter &k) {
  switch (member<LossOp>(k.node.op)) {
  case LossOp::Bce:
    return printElementLoss(k, [](CudaMath &e, std::string p, std::string y) {
      return emitBceTerm(e, p, y);
    });
  case LossOp::BceLogits:
    return printElementLoss(k, [](CudaMath &e, std::string z, std::string y) {
      return emitBceLogitsTerm(e, z, y);
    });
  case LossOp::Mse:
    return printElementLoss(k, [](CudaMath &e, std::string p, std::string y) {
      return emitSquaredError(e, p, y);
    });
  case LossOp::CrossEntropy:
    return printClassLoss(k, /*logits=*/false);
  case LossOp::SoftmaxCrossEntropy:
    return printClassLoss(k, /*logits=*/true);
  }
  NN_UNREACHABLE("bad LossOp");
}

void printKernelBody(KernelWriter &k) {
  switch (family(k.node.op)) {
  case OpFamily::Leaf:
    NN_UNREACHABLE(std::string("no kernel for a leaf: ") + mnemonic(k.node.op));
  case OpFamily::Elementwise:
    return printElementwise(k);
  case OpFamily::Linalg:
    return printLinalgKernel(k);
  case OpFamily::Reduce:
    return printReduceKernel(k);
  case OpFamily::Rows:
    return printRowsKernel(k);
  case OpFamily::Random:
    return printRandomKernel(k);
  case OpFamily::Spatial:
    return printSpatialKernel(k);
  case OpFamily::Loss:
    return printLossKernel(k);
  case OpFamily::Dense:
  case OpFamily::LossGrad:
  case OpFamily::Update:
  case OpFamily::FusedElementwise:
    return printFusedKernel(k);
  }
  NN_UNREACHABLE("unknown op family");
}

} // namespace nn::cuda

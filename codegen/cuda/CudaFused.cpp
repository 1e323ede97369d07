//===- CudaFused.cpp - CUDA kernels of the fused ops ----------------------===//
///
/// \file
/// Kernels for the fused ops of ir/Ops.def, with the semantics written there
/// (and evaluated by runtime/Interpreter.cpp): dense layers as one tiled GEMM
/// whose epilogue adds the bias and applies the activation, gradient GEMMs
/// that read transposed operands in place and fold the activation gradient
/// into their tile loads, the bias gradient as column sums, the loss
/// gradients, the SGD updates, and elementwise chains in one loop.
/// Per-element math: ir/FusedMath.h through CudaMath.
///
//===----------------------------------------------------------------------===//

#include "codegen/cuda/CudaEmit.h"

#include "ir/FusedMath.h"
#include "ir/Support.h"

namespace nn::cuda {

using Dims = std::vector<int64_t>;

namespace {

/// act(x @ w + b): the bias added and the activation applied in the GEMM's
/// epilogue, as each result leaves its register.
void printDense(KernelWriter &k) {
  CudaMath math{k};
  const Dims &x = k.inType(0).dims, &w = k.inType(1).dims;
  NN_ASSERT(x.size() >= 1 && x.size() <= 2 && w.size() >= 1 && w.size() <= 2,
            "fused.dense of " + dimsStr(x) + " and " + dimsStr(w));
  const Dims &out = k.node.type.dims;
  // The bias's strides along the product's rows (i) and columns (j).
  std::vector<std::string> s = k.isConst(2)
                                   ? std::vector<std::string>(out.size())
                                   : broadcastStrides(k, k.inType(2).dims, out);
  std::string si, sj;
  if (out.size() == 2) {
    si = s[0];
    sj = s[1];
  } else if (out.size() == 1) {
    (x.size() == 2 ? si : sj) = s[0];
  }
  auto term = [](const char *var, const std::string &stride) {
    return stride == "1LL" ? std::string(var) : var + (" * " + stride);
  };
  std::string biasIdx;
  if (!si.empty())
    biasIdx = term("i", si);
  if (!sj.empty())
    biasIdx += (biasIdx.empty() ? "" : " + ") + term("j", sj);
  GemmSpec g;
  if (x.size() == 2)
    g.mDims = {x[0]};
  g.kDims = {x.back()};
  if (w.size() == 2)
    g.nDims = {w[1]};
  g.a = [&] { return k.at(0, "i * K + p"); };
  g.b = [&] { return k.at(1, "p * N + j"); };
  g.epilogue = [&] {
    std::string z = math.add("acc", k.at(2, biasIdx.empty() ? "0" : biasIdx));
    k.line("out[i * N + j] = " +
           emitActivation(math, k.node.act, z, k.node.param) + ";");
  };
  printGemm(k, g);
}

/// op(a) @ op(b), transposes read in place.
void printFusedMatMul(KernelWriter &k) {
  const Dims &a = k.inType(0).dims, &b = k.inType(1).dims;
  bool ta = k.node.transA, tb = k.node.transB;
  NN_ASSERT((a.size() == 2 || (a.size() == 1 && !ta)) &&
                (b.size() == 2 || (b.size() == 1 && !tb)),
            "fused.matmul of " + dimsStr(a) + " and " + dimsStr(b));
  // op(a) is [M, K], op(b) is [K, N].
  GemmSpec g;
  if (a.size() == 2)
    g.mDims = {ta ? a[1] : a[0]};
  g.kDims = {ta ? a[0] : a.back()};
  if (b.size() == 2)
    g.nDims = {tb ? b[0] : b[1]};
  g.a = [&] { return k.at(0, ta ? "p * M + i" : "i * K + p"); };
  g.b = [&] { return k.at(1, tb ? "j * K + p" : "p * N + j"); };
  g.aRowMajor = !ta;
  g.bRowMajor = !tb;
  g.epilogue = [&] { k.line("out[i * N + j] = acc;"); };
  printGemm(k, g);
}

/// da * act'(a) at flat index `idx` of operands `daOp`, `aOp` (`a` is z
/// for an activation whose derivative is written in its input).
std::string maskedAt(KernelWriter &k, size_t daOp, size_t aOp,
                     const std::string &idx) {
  CudaMath math{k};
  return math.mul(
      k.at(daOp, idx),
      emitActivationGrad(math, k.node.act, k.at(aOp, idx), k.node.param));
}

/// (da * act'(a)) @ w^T: da, a [m,n], w [kout,n] -> [m,kout].
void printDenseGradInput(KernelWriter &k) {
  const Dims &da = k.inType(0).dims, &w = k.inType(2).dims;
  NN_ASSERT(da.size() == 2 && w.size() == 2,
            "fused.dense_grad_input of " + dimsStr(da) + " and " + dimsStr(w));
  GemmSpec g;
  g.mDims = {da[0]};
  g.kDims = {da[1]};
  g.nDims = {w[0]};
  g.a = [&] { return maskedAt(k, 0, 1, "i * K + p"); };
  g.b = [&] { return k.at(2, "j * K + p"); };
  g.bRowMajor = false;
  g.epilogue = [&] { k.line("out[i * N + j] = acc;"); };
  printGemm(k, g);
}

/// x^T @ (da * act'(a)): x [m,kin], da, a [m,n] or [m] -> [kin,n] or [kin].
void printDenseGradWeight(KernelWriter &k) {
  const Dims &x = k.inType(0).dims, &da = k.inType(1).dims;
  NN_ASSERT(x.size() == 2 && (da.size() == 1 || da.size() == 2),
            "fused.dense_grad_weight of " + dimsStr(x) + " and " + dimsStr(da));
  GemmSpec g;
  g.mDims = {x[1]};
  g.kDims = {x[0]};
  if (da.size() == 2)
    g.nDims = {da[1]};
  g.a = [&] { return k.at(0, "p * M + i"); };
  g.aRowMajor = false;
  g.b = [&] { return maskedAt(k, 1, 2, "p * N + j"); };
  g.epilogue = [&] { k.line("out[i * N + j] = acc;"); };
  printGemm(k, g);
}

/// Column sums of da * act'(a): [m,n] -> [n] (nn_column_sums).
void printDenseGradBias(KernelWriter &k) {
  const Dims &da = k.inType(0).dims;
  NN_ASSERT(da.size() == 2, "fused.dense_grad_bias of " + dimsStr(da));
  k.line("const long long m = " + k.dim(da[0]) + ", n = " + k.dim(da[1]) + ";");
  printColumnSums(k, {da[1]}, "m", /*mean=*/false,
                  [&] { return maskedAt(k, 0, 1, "r * n + i"); });
}

/// The upstream gradient (operand `op`, a scalar) divided by `count`, in
/// double as the interpreter does, rounded to float: prints `scale`.
void printScale(KernelWriter &k, size_t op, const std::string &count) {
  k.line("const float scale = (float)((double)" + k.at(op, "0") +
         " / (double)" + count + ");");
}

/// (softmax(z) - onehot(y)) * (g / rows), one thread per row.
void printSoftmaxXentGrad(KernelWriter &k) {
  CudaMath math{k};
  const Dims &z = k.inType(0).dims;
  NN_ASSERT(!z.empty(), "fused.softmax_xent_grad of a scalar");
  k.line("const long long c = " + k.dim(z.back()) +
         ", rows = " + k.product(z, 0, z.size() - 1) + ";");
  printScale(k, 2, "rows");
  k.gridLoop("r", z, 0, z.size() - 1);
  printRowMaxAndSum(k, "r", "c", "mx", "s");
  printClassIndex(k, k.at(1, "r"), "c", "id", "ok");
  k.open("for (long long j = 0; j < c; ++j)");
  std::string sm =
      math.div(emitExpShifted(math, k.at(0, "r * c + j"), "mx"), "s");
  std::string d = math.sub(sm, "((ok && id == j) ? 1.0f : 0.0f)");
  k.line("out[r * c + j] = " + math.mul(d, "scale") + ";");
  k.close();
  k.close();
}

/// (sigmoid(z) - y) * (g / numel(z)).
void printSigmoidBceGrad(KernelWriter &k) {
  CudaMath math{k};
  const TensorType &z = k.inType(0);
  printScale(k, 2, k.numel(z));
  k.gridLoop("i", z.dims, 0, z.dims.size());
  std::string d = math.sub(emitSigmoid(math, k.at(0, "i")), k.at(1, "i"));
  k.line("out[i] = " + math.mul(d, "scale") + ";");
  k.close();
}

/// A fused optimizer update, generic over the update family: each element of
/// the tensor operands with the scalar hyperparameters (`c3`, ... read once
/// before the loop) through emitUpdate (ir/FusedMath.h).
void printUpdate(KernelWriter &k) {
  CudaMath math{k};
  const Dims &out = k.node.type.dims;
  // The last operand, and every scalar one of a tensor's update. A scalar
  // parameter reads its other operands at i = 0.
  std::vector<std::string> scalars(k.numInputs());
  size_t last = k.numInputs() - 1, hoisted = 0;
  for (size_t t = 0; t <= last; ++t)
    if (t == last || (k.inType(t).isScalar() && !k.node.type.isScalar()))
      scalars[t] = "c" + std::to_string(t), ++hoisted;
  for (size_t t = 0; t <= last; ++t)
    if (!scalars[t].empty()) {
      if (hoisted == 1)
        scalars[t] = "c";
      k.line("const float " + scalars[t] + " = " + k.at(t, "0") + ";");
    }
  k.gridLoop("i", out, 0, out.size());
  std::vector<std::string> args;
  for (size_t t = 0; t < k.numInputs(); ++t)
    args.push_back(scalars[t].empty() ? k.at(t, "i") : scalars[t]);
  k.line("out[i] = " +
         emitUpdate(math, member<UpdateOp>(k.node.op),
                    std::span<const std::string>(args)) +
         ";");
  k.close();
}

/// The kernel of a dense-layer op.
void printDenseKernel(KernelWriter &k) {
  switch (member<DenseOp>(k.node.op)) {
  case DenseOp::Dense:
    return printDense(k);
  case DenseOp::FusedMatMul:
    return printFusedMatMul(k);
  case DenseOp::DenseGradInput:
    return printDenseGradInput(k);
  case DenseOp::DenseGradWeight:
    return printDenseGradWeight(k);
  case DenseOp::DenseGradBias:
    return printDenseGradBias(k);
  }
  NN_UNREACHABLE("bad DenseOp");
}

/// The kernel of a fused loss gradient.
void printLossGradKernel(KernelWriter &k) {
  switch (member<LossGradOp>(k.node.op)) {
  case LossGradOp::SoftmaxXentGrad:
    return printSoftmaxXentGrad(k);
  case LossGradOp::SigmoidBceGrad:
    return printSigmoidBceGrad(k);
  }
  NN_UNREACHABLE("bad LossGradOp");
}

} // namespace

void printFusedKernel(KernelWriter &k) {
  switch (family(k.node.op)) {
  case OpFamily::Dense:
    return printDenseKernel(k);
  case OpFamily::LossGrad:
    return printLossGradKernel(k);
  case OpFamily::Update:
    return printUpdate(k);
  case OpFamily::FusedElementwise: {
    CudaMath math{k};
    return printBroadcastLoop(k, [&](const std::vector<std::string> &args) {
      return emitFusedBody(math, k.node.body,
                           std::span<const std::string>(args));
    });
  }
  case OpFamily::Leaf:
  case OpFamily::Elementwise:
  case OpFamily::Linalg:
  case OpFamily::Reduce:
  case OpFamily::Rows:
  case OpFamily::Random:
  case OpFamily::Spatial:
  case OpFamily::Loss:
    break;
  }
  NN_UNREACHABLE(std::string("not a fused op: ") + mnemonic(k.node.op));
}

} // namespace nn::cuda

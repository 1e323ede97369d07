//===- CudaEmit.h - Kernel printing helpers (codegen/cuda only) -*- C++ -*-===//
///
/// \file
/// A KernelWriter collects the body of one kernel as CUDA C++ statements,
/// with helpers for dimensions (literals, or `batch`), operand reads and
/// grid-stride loops; CudaMath is the string emitter of ir/ElementwiseMath.h
/// (each operation one `const float tN = ...;` statement, so shared
/// subexpressions are printed once).
///
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/cuda/CudaPrinter.h"
#include "ir/Broadcast.h"

#include <functional>
#include <string>
#include <vector>

namespace nn::cuda {

/// `v` as a CUDA float literal that rounds to the same float as the
/// interpreter's double would ("0.05f", "-0.0f"; infinities and NaN through
/// __int_as_float).
std::string floatLit(double v);
/// `v` as a CUDA double literal ("1e-05", "0.5", "1.0"); CudaNormalize.cpp.
std::string doubleLit(double v);

/// Builds the body of the kernel of one node.
class KernelWriter {
public:
  /// `name`: the kernel's name (cudaKernelName, or kernelNames at once).
  KernelWriter(const Graph &g, NodeId id, std::string name,
               const CudaPrintOptions &opts = {});

  const Graph &g;
  const Node &node;
  const CudaPrintOptions opts;
  /// The launch facts, filled by the op's printer.
  CudaKernel meta;
  /// Print GEMMs on 128 x 128 tiles (the kernel's big variant).
  bool bigTile = false;

  /// Appends one statement (or brace) at the current indentation.
  void line(const std::string &s);
  void open(const std::string &s) {
    line(s + " {");
    ++depth;
  }
  void close(const std::string &tail = "") {
    --depth;
    line("}" + tail);
  }
  /// A new temporary name: "t0", "t1", ...
  std::string fresh(const char *prefix = "t");
  /// The statements printed so far.
  const std::string &body() const { return text; }

  /// A dimension: "784LL", or "batch" for the batch dimension.
  std::string dim(int64_t d) const;
  /// The product of dims[from, to) as an expression ("1LL" when empty).
  std::string product(const std::vector<int64_t> &dims, size_t from,
                      size_t to) const;
  std::string numel(const TensorType &t) const {
    return product(t.dims, 0, t.dims.size());
  }
  /// The extent of dims[from, to).
  static CudaExtent extent(const std::vector<int64_t> &dims, size_t from,
                           size_t to);

  /// The type of operand `i`'s node.
  const TensorType &inType(size_t i) const { return g[node.inputs[i]].type; }
  const Node &inNode(size_t i) const { return g[node.inputs[i]]; }
  size_t numInputs() const { return node.inputs.size(); }
  /// Operand `i` is one constant for every element (a Const with one value,
  /// inlined into the kernel).
  bool isConst(size_t i) const;
  /// Every element of operand `i` is at index 0 (a constant or one element).
  bool isSingle(size_t i) const;
  /// Element `index` (an expression) of operand `i`, as a float expression:
  /// "in0[i]", a literal, or "nn_c12[i]" for a constant array.
  std::string at(size_t i, const std::string &index) const;

  /// Opens `for (long long var = <global thread>; var < count; var += <grid>)`
  /// and records an Elements launch over `count` work items.
  void gridLoop(const std::string &var, const std::vector<int64_t> &dims,
                size_t from, size_t to);
  /// Opens `for (long long var = blockIdx.x; var < count; var +=
  /// gridDim.x)` and records a Rows launch over `count` rows: every thread
  /// of a block takes the same rows, so the body may call nn_block_sum.
  void rowLoop(const std::string &var, const std::vector<int64_t> &dims,
               size_t from, size_t to);
  /// Records a Single launch (one block; the body reduces with
  /// nn_block_sum).
  void singleBlock() { meta.launch = CudaLaunchKind::Single; }

private:
  std::string text;
  int depth = 1;
  int temps = 0;
};

/// The string emitter of ir/ElementwiseMath.h: float arithmetic in CUDA C++,
/// IEEE (the module is compiled without fast math or contraction).
struct CudaMath {
  using Value = std::string;
  KernelWriter &k;

  Value let(const std::string &expr);
  Value constant(double c) { return floatLit(c); }
  Value neg(Value a) { return let("-" + a); }
  Value add(Value a, Value b) { return let(a + " + " + b); }
  Value sub(Value a, Value b) { return let(a + " - " + b); }
  Value mul(Value a, Value b) { return let(a + " * " + b); }
  Value div(Value a, Value b) { return let(a + " / " + b); }
  Value exp(Value a) { return let("expf(" + a + ")"); }
  Value log(Value a) { return let("logf(" + a + ")"); }
  Value log1p(Value a) { return let("log1pf(" + a + ")"); }
  Value tanh(Value a) { return let("tanhf(" + a + ")"); }
  Value sqrt(Value a) { return let("sqrtf(" + a + ")"); }
  Value erf(Value a) { return let("erff(" + a + ")"); }
  /// `>` on floats is ordered: false when either side is NaN.
  Value selectGt(Value a, Value b, Value t, Value f) {
    return let("(" + a + " > " + b + ") ? " + t + " : " + f);
  }
};

/// Strides of an operand with dims `a` broadcast (numpy, trailing dims
/// aligned) to `out`, one expression per output dimension ("" along
/// broadcast dimensions). Internal error when it does not fit (shape
/// inference checked it).
std::vector<std::string> broadcastStrides(const KernelWriter &k,
                                          const std::vector<int64_t> &a,
                                          const std::vector<int64_t> &out);
/// Prints `const long long <var>0 = ..., <var>1 = ...;`: the multi-index of
/// flat index `flat` into `dims` (row-major).
void printUnflatten(KernelWriter &k, const std::string &flat,
                    const std::string &var, const std::vector<int64_t> &dims);
/// sum_d <var>d * strides[d] ("0LL" when every stride is "").
std::string offsetExpr(const std::string &var,
                       const std::vector<std::string> &strides);

/// The code every module starts with: the block reduction and the GEMMs
/// (CudaPrelude.cpp).
std::string prelude(const CudaPrintOptions &opts);

/// Prints the body of `k.node`'s kernel (any non-leaf op); CudaKernels.cpp.
void printKernelBody(KernelWriter &k);
/// The same for the fused ops of Ops.def; CudaFused.cpp.
void printFusedKernel(KernelWriter &k);
/// Appends to `src` one kernel per chain of a parameter's updates (with
/// its folded gradient, and without it), and one per sum with its folded
/// operand (passes/UpdateChains.h; CudaChains.cpp); `names`:
/// kernelNames(g).
void printUpdateChains(const Graph &g, const std::vector<std::string> &names,
                       const CudaPrintOptions &opts, CudaSource &src);
/// The same for the random ops (CudaRandom.cpp).
void printRandomKernel(KernelWriter &k);
/// conv2d, pooling, the channel ops (codegen/cuda/CudaSpatial.cpp).
void printSpatialKernel(KernelWriter &k);
/// reshape: a copy of the elements (codegen/cuda/CudaSpatial.cpp).
void printReshape(KernelWriter &k);

// Shared pieces (CudaKernels.cpp).

/// A loop over the node's elements that stores compute(operand values) to
/// out[i], each operand broadcast to the node's shape.
void printBroadcastLoop(
    KernelWriter &k,
    const std::function<std::string(const std::vector<std::string> &)>
        &compute);
/// Prints `max` and `sum` (float) of row `row` (length `c`) of operand 0:
/// the row max and sum exp(z - max) accumulated in double.
void printRowMaxAndSum(KernelWriter &k, const std::string &row,
                       const std::string &c, const std::string &max,
                       const std::string &sum);
/// Prints `const long long id = ...; const bool ok = ...;` for the class id
/// held in float expression `v`, valid when in [0, classes).
void printClassIndex(KernelWriter &k, const std::string &v,
                     const std::string &classes, const std::string &id,
                     const std::string &ok);

/// layer_norm's row ops, one block per row (CudaNormalize.cpp).
void printNormalize(KernelWriter &k);
void printNormalizeGrad(KernelWriter &k);

/// A Columns launch through the prelude's nn_column_sums: out(i) = the sum
/// over r < len (an expression) of element() (divided by len when mean),
/// for every i of outDims; `element` prints its statements and returns the
/// value of row r of result i (variables `i`, `r`).
void printColumnSums(KernelWriter &k, const std::vector<int64_t> &outDims,
                     const std::string &len, bool mean,
                     const std::function<std::string()> &element);

/// A GEMM through the prelude's nn_gemm64 (nn_gemm128 when k.bigTile;
/// the _tf32 versions for --precision=tf32): out(i, j) = epilogue(i, j,
/// sum_p A(i, p) * B(p, j)) for an [M, N] result with K terms, where M, N
/// and K are the products of mDims, nDims, kDims (printed as constants `M`,
/// `N`, `K`). `a` and `b` print the loader bodies and return the value of
/// element (i, p) of A and (p, j) of B (variables `i`, `p`, `j`);
/// `epilogue` prints the store of result (i, j) from float `acc`.
/// `aRowMajor`: A is contiguous along p; `bRowMajor`: B is contiguous along
/// j (which way threads walk memory when they load tiles).
struct GemmSpec {
  std::vector<int64_t> mDims, nDims, kDims;
  std::function<std::string()> a, b;
  std::function<void()> epilogue;
  bool aRowMajor = true, bRowMajor = true;
};
void printGemm(KernelWriter &k, const GemmSpec &s);

} // namespace nn::cuda

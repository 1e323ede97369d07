//===- SpatialTest.cpp - The spatial ops on the CPU backend ---------------===//
///
/// \file
/// conv2d and its gradients, pooling and its gradients, the channel ops of
/// batch norm and reshape, compiled by the CPU backend, on hand-built
/// graphs: against the interpreter (float against double, 1e-5 relative) at
/// odd shapes (stride 2, padding, dilation, groups, 5 x 5 and non-square
/// kernels, batch 1 and 3, channel counts that are not multiples of the
/// vector width), with and without an activation operand; the convolutions
/// also against each other (the adjoint identities <conv(x, w), dy> =
/// <x, grad_input(dy, w)> = <w, grad_weight(x, dy)>); and the same bits
/// for 1, 2 and 3 threads.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"

#include "codegen/cpu/ThreadPool.h"
#include "passes/InferShapes.h"

#include <cstring>

using namespace nn;
using namespace nn::test;

namespace {

/// A graph built node by node, with random leaf values.
struct Case {
  Graph g;
  ValueMap leaves;
  int64_t batch;
  uint64_t seed = 11;

  explicit Case(int64_t batch) : batch(batch) { g.name = "spatial"; }

  /// An input of `dims` (kBatch first for the batch), uniform in [lo, hi).
  NodeId input(const std::string &name, const std::vector<int64_t> &dims,
               double lo = -1, double hi = 1) {
    Node n = makeNode(OpKind::Input, {});
    n.name = name;
    n.type = TensorType::of(dims);
    NodeId id = g.add(n);
    Value v;
    for (int64_t d : dims)
      v.shape.push_back(d == kBatch ? batch : d);
    std::mt19937_64 rng(seed++);
    std::uniform_real_distribution<double> u(lo, hi);
    int64_t k = 1;
    for (int64_t d : v.shape)
      k *= d;
    for (int64_t i = 0; i < k; ++i)
      v.data.push_back(static_cast<float>(u(rng)));
    leaves[name] = v;
    return id;
  }

  NodeId add(Node n, const std::string &output) {
    NodeId id = g.add(std::move(n));
    g.outputs.push_back({output, id});
    return id;
  }

  /// Shapes inferred; a shape error fails the test.
  void finish() {
    DiagEngine diags;
    g = inferShapes(g, diags);
    ASSERT_FALSE(diags.hasErrors()) << diags.str();
  }
};

/// A convolution: its shapes and window.
struct Conv {
  int64_t n, c, h, w, o, kh, kw;
  int64_t stride[2] = {1, 1}, pad[2] = {0, 0}, dil[2] = {1, 1};
  int64_t groups = 1;
  bool bias = true;
  Activation act = Activation::None;

  Window window() const {
    Window win;
    win.kernel[0] = kh, win.kernel[1] = kw;
    for (int a = 0; a < 2; ++a) {
      win.stride[a] = stride[a];
      win.padding[a] = pad[a];
      win.dilation[a] = dil[a];
    }
    win.groups = groups;
    return win;
  }
  std::string str() const {
    return std::to_string(n) + "x" + std::to_string(c) + "x" +
           std::to_string(h) + "x" + std::to_string(w) + " -> " +
           std::to_string(o) + " " + std::to_string(kh) + "x" +
           std::to_string(kw) + " s" + std::to_string(stride[0]) +
           std::to_string(stride[1]) + " p" + std::to_string(pad[0]) +
           std::to_string(pad[1]) + " d" + std::to_string(dil[0]) +
           std::to_string(dil[1]) + " g" + std::to_string(groups) +
           (bias ? " bias" : "") +
           (act != Activation::None ? " act" + std::to_string(int(act)) : "");
  }
};

/// conv2d(x, w, b), conv2d_grad_input(dy, w, a), conv2d_grad_weight(x, dy,
/// a) for `cv` (a, the activation operand, only with cv.act).
Case convCase(const Conv &cv) {
  Case t(cv.n);
  Window win = cv.window();
  NodeId x = t.input("x", {kBatch, cv.c, cv.h, cv.w});
  NodeId w = t.input("w", {cv.o, cv.c / cv.groups, cv.kh, cv.kw}, -0.5, 0.5);
  std::vector<int64_t> y = {kBatch, cv.o, win.outSize(0, cv.h),
                            win.outSize(1, cv.w)};
  NodeId dy = t.input("dy", y);
  Node f = makeNode(OpKind::Conv2d, {x, w});
  if (cv.bias)
    f.inputs.push_back(t.input("b", {cv.o}));
  f.win = win;
  f.act = cv.act;
  Node gi = makeNode(OpKind::Conv2dGradInput, {dy, w});
  Node gw = makeNode(OpKind::Conv2dGradWeight, {x, dy});
  gi.win = gw.win = win;
  gi.shape = {kBatch, cv.c, cv.h, cv.w};
  if (cv.act != Activation::None) {
    // An activation's output: relu's is at least 0 (some exactly 0).
    NodeId a = t.input("a", y, -0.3, 1);
    gi.inputs.push_back(a);
    gw.inputs.push_back(a);
    gi.act = gw.act = cv.act;
  }
  t.add(f, "y");
  t.add(gi, "dx");
  t.add(gw, "dw");
  t.finish();
  return t;
}

std::vector<Conv> convCases() {
  std::vector<Conv> cs;
  auto add = [&](Conv c) { cs.push_back(c); };
  add({1, 1, 6, 6, 1, 3, 3});
  add({3, 3, 9, 7, 5, 3, 3});
  Conv s2{3, 5, 11, 10, 7, 3, 3};
  s2.stride[0] = s2.stride[1] = 2;
  s2.pad[0] = s2.pad[1] = 1;
  add(s2);
  Conv five{2, 3, 12, 13, 9, 5, 5};
  five.pad[0] = 2, five.pad[1] = 1;
  five.act = Activation::Relu;
  add(five);
  Conv rect{3, 4, 10, 9, 6, 2, 3};
  rect.stride[0] = 1, rect.stride[1] = 2;
  rect.pad[0] = 0, rect.pad[1] = 1;
  rect.bias = false;
  add(rect);
  Conv dil{1, 3, 13, 11, 4, 3, 3};
  dil.dil[0] = 2, dil.dil[1] = 3;
  dil.pad[0] = 2;
  dil.act = Activation::Sigmoid;
  add(dil);
  Conv grp{3, 6, 8, 8, 9, 3, 3};
  grp.groups = 3;
  grp.pad[0] = grp.pad[1] = 1;
  grp.act = Activation::Relu;
  add(grp);
  Conv depthwise{2, 4, 7, 9, 4, 3, 1};
  depthwise.groups = 4;
  depthwise.stride[0] = 2;
  depthwise.bias = false;
  depthwise.act = Activation::Tanh;
  add(depthwise);
  // Wider than one GEMM tile and deeper than one depth block.
  Conv big{2, 37, 15, 14, 41, 3, 3};
  big.pad[0] = big.pad[1] = 1;
  add(big);
  return cs;
}

double dot(const std::vector<float> &a, const std::vector<double> &b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i)
    s += static_cast<double>(a[i]) * b[i];
  return s;
}

struct RestoreThreads {
  int saved = cpuThreads();
  ~RestoreThreads() { setCpuThreads(saved); }
};

/// The outputs of `c` as bits with `threads` threads.
std::vector<uint32_t> outputBits(const Case &c, int threads) {
  setCpuThreads(threads);
  MemoryPlan plan = planWithoutReuse(c.g, c.batch);
  std::unique_ptr<CpuProgram> prog = compileCpu(c.g, plan, {});
  CpuRun run = runProgram(c.g, *prog, c.leaves, c.batch);
  std::vector<uint32_t> bits;
  for (const Output &o : c.g.outputs) {
    std::vector<float> v = run.value(c.g, plan, o.node, c.batch);
    size_t at = bits.size();
    bits.resize(at + v.size());
    std::memcpy(bits.data() + at, v.data(), v.size() * sizeof(float));
  }
  return bits;
}

void expectSameBitsForThreads(const Case &c, const std::string &what) {
  RestoreThreads restore;
  std::vector<uint32_t> want = outputBits(c, 1);
  for (int threads : {2, 3})
    EXPECT_TRUE(outputBits(c, threads) == want)
        << what << ": " << threads << " threads";
}

} // namespace

/// <conv(x, w), dy> = <x, grad_input(dy, w)> = <w, grad_weight(x, dy)>:
/// the three kernels checked against each other, no oracle needed.
TEST(SpatialCpu, ConvolutionsAreAdjoint) {
  for (Conv cv : convCases()) {
    cv.bias = false;
    cv.act = Activation::None;
    Case c = convCase(cv);
    MemoryPlan plan = planWithoutReuse(c.g, c.batch);
    std::unique_ptr<CpuProgram> prog = compileCpu(c.g, plan, {});
    CpuRun run = runProgram(c.g, *prog, c.leaves, c.batch);
    auto out = [&](size_t i) {
      return run.value(c.g, plan, c.g.outputs[i].node, c.batch);
    };
    double fwd = dot(out(0), c.leaves["dy"].data);
    double in = dot(out(1), c.leaves["x"].data);
    double wt = dot(out(2), c.leaves["w"].data);
    double tol = 1e-5 * (std::fabs(fwd) + 1);
    EXPECT_NEAR(in, fwd, tol) << cv.str();
    EXPECT_NEAR(wt, fwd, tol) << cv.str();
  }
}

/// One output of conv2d written out as its window's multiply-adds.
TEST(SpatialCpu, ConvolutionIsItsWindowsMultiplyAdds) {
  Conv cv{2, 3, 7, 6, 4, 3, 2};
  cv.stride[0] = 2, cv.pad[0] = 1, cv.pad[1] = 1, cv.dil[1] = 2;
  Case c = convCase(cv);
  MemoryPlan plan = planWithoutReuse(c.g, c.batch);
  std::unique_ptr<CpuProgram> prog = compileCpu(c.g, plan, {});
  CpuRun run = runProgram(c.g, *prog, c.leaves, c.batch);
  std::vector<float> y = run.value(c.g, plan, c.g.outputs[0].node, c.batch);
  const auto &x = c.leaves["x"].data, &w = c.leaves["w"].data,
             &b = c.leaves["b"].data;
  Window win = cv.window();
  int64_t ho = win.outSize(0, cv.h), wo = win.outSize(1, cv.w);
  for (int64_t n = 0; n < cv.n; ++n)
    for (int64_t o = 0; o < cv.o; ++o)
      for (int64_t i = 0; i < ho; ++i)
        for (int64_t j = 0; j < wo; ++j) {
          double s = b[o];
          for (int64_t ch = 0; ch < cv.c; ++ch)
            for (int64_t p = 0; p < cv.kh; ++p)
              for (int64_t q = 0; q < cv.kw; ++q) {
                int64_t ih = i * cv.stride[0] - cv.pad[0] + p * cv.dil[0];
                int64_t iw = j * cv.stride[1] - cv.pad[1] + q * cv.dil[1];
                if (ih < 0 || ih >= cv.h || iw < 0 || iw >= cv.w)
                  continue;
                s += w[((o * cv.c + ch) * cv.kh + p) * cv.kw + q] *
                     x[((n * cv.c + ch) * cv.h + ih) * cv.w + iw];
              }
          float got = y[((n * cv.o + o) * ho + i) * wo + j];
          EXPECT_NEAR(got, s, 1e-5 * (std::fabs(s) + 1))
              << n << " " << o << " " << i << " " << j;
        }
}

#endif // NNC_HAVE_CPU_BACKEND

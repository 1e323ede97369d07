//===- SpatialTest.cpp - The spatial ops on the CPU backend ---------------===//
///
/// \file
/// conv2d and its gradients, pooling and its gradients, the channel ops of
/// batch norm and reshape, compiled by the CPU backend, on hand-built
/// graphs: against the interpreter (float against double: 1e-4 relative
/// for the convolutions' float sums, 1e-5 for the rest) at
/// odd shapes (stride 2, padding, dilation, groups, 5 x 5 and non-square
/// kernels, batch 1 and 3, channel counts that are not multiples of the
/// vector width), with and without an activation operand; the convolutions
/// also against each other (the adjoint identities <conv(x, w), dy> =
/// <x, grad_input(dy, w)> = <w, grad_weight(x, dy)>); whole training steps
/// of examples/fashion_cnn.nn and conv_tiny.nn, unfused and fused, against
/// the interpreter; and the same bits for 1, 2 and 3 threads, op by op and
/// for a whole fused fashion_cnn step.
///
//===----------------------------------------------------------------------===//

#ifdef NNC_HAVE_CPU_BACKEND

#include "CpuTestUtil.h"

#include "codegen/cpu/ThreadPool.h"
#include "passes/Fuse.h"
#include "passes/InferShapes.h"

#include <cstring>

using namespace nn;
using namespace nn::test;

namespace {

/// The convolutions sum hundreds of float products in float (one FMA per
/// term, as the dense GEMM does): 1e-4 relative, as tests/unit/cpu/
/// OpsTest.cpp compares every op. Pooling and the channel ops sum in double:
/// 1e-5.
constexpr double kConvRtol = 1e-4;

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
    return addRandomLeaf(g, leaves, OpKind::Input, name, dims, batch, lo, hi,
                         seed++);
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
  // A weight past kMaxTransposedWeight (EmitConv.cpp): the data gradient
  // packs w^T per image instead of reading a transposed copy.
  Conv wide{1, 64, 5, 4, 128, 3, 3};
  wide.pad[0] = wide.pad[1] = 1;
  add(wide);
  // Few columns (Cg*kh*kw < 16, Og larger): the weight gradient by output
  // channel (EmitConvGradWeight.cpp), with an activation and with groups;
  // rows of more than 16 outputs, stride 2 across (gathered).
  Conv wideRow{2, 1, 5, 37, 12, 3, 3};
  wideRow.pad[0] = wideRow.pad[1] = 1;
  wideRow.stride[1] = 2;
  wideRow.act = Activation::Relu;
  add(wideRow);
  Conv one{2, 1, 9, 8, 20, 3, 3};
  one.pad[0] = one.pad[1] = 1;
  one.act = Activation::Relu;
  add(one);
  Conv fewGrp{3, 4, 7, 7, 16, 1, 3};
  fewGrp.groups = 2;
  fewGrp.pad[1] = 1;
  fewGrp.stride[0] = 2;
  add(fewGrp);
  return cs;
}

/// A pooling window: kernel, stride, padding, dilation per axis.
Window poolWindow(int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                  int64_t pw, int64_t dh = 1, int64_t dw = 1) {
  Window win;
  win.kernel[0] = kh, win.kernel[1] = kw;
  win.stride[0] = sh, win.stride[1] = sw;
  win.padding[0] = ph, win.padding[1] = pw;
  win.dilation[0] = dh, win.dilation[1] = dw;
  return win;
}

/// maxpool2d, maxpool2d_grad, avgpool2d and avgpool2d_grad of x [n, c, h,
/// w] (outputs in that order).
Case poolCase(int64_t n, int64_t c, int64_t h, int64_t w, const Window &win) {
  Case t(n);
  NodeId x = t.input("x", {kBatch, c, h, w});
  NodeId dy =
      t.input("dy", {kBatch, c, win.outSize(0, h), win.outSize(1, w)});
  Node mp = makeNode(OpKind::MaxPool2d, {x});
  Node mg = makeNode(OpKind::MaxPool2dGrad, {dy, x});
  Node ap = makeNode(OpKind::AvgPool2d, {x});
  Node ag = makeNode(OpKind::AvgPool2dGrad, {dy});
  mp.win = mg.win = ap.win = ag.win = win;
  ag.shape = {kBatch, c, h, w};
  t.add(mp, "max");
  t.add(mg, "max_grad");
  t.add(ap, "avg");
  t.add(ag, "avg_grad");
  t.finish();
  return t;
}

std::vector<std::pair<std::vector<int64_t>, Window>> poolCases() {
  return {{{1, 1, 6, 6}, poolWindow(2, 2, 2, 2, 0, 0)},
          {{3, 5, 7, 9}, poolWindow(2, 2, 2, 2, 0, 0)},
          {{2, 3, 9, 8}, poolWindow(3, 3, 2, 2, 1, 1)},
          {{3, 2, 8, 11}, poolWindow(3, 2, 1, 2, 1, 0)},
          {{2, 3, 10, 10}, poolWindow(3, 3, 3, 2, 0, 1, 2, 1)},
          {{1, 4, 5, 5}, poolWindow(5, 5, 1, 1, 2, 2)},
          // Rows of more than 16 outputs (two vector chunks, the second
          // partial): disjoint windows, and stride 1 (masked loads).
          {{2, 3, 6, 41}, poolWindow(2, 2, 2, 2, 0, 0)},
          {{2, 2, 5, 37}, poolWindow(3, 3, 1, 1, 1, 1)}};
}

/// Every channel op of `dims` (kBatch first): channel_sum with and without
/// act'(a), channel_mean, channel_var, channel_affine with and without its
/// shift, batch_normalize, batch_normalize_grad.
Case channelCase(const std::vector<int64_t> &dims, int64_t batch) {
  Case t(batch);
  int64_t c = dims[1];
  NodeId x = t.input("x", dims, -1, 3);
  NodeId dy = t.input("dy", dims);
  NodeId a = t.input("a", dims, -0.3, 1);
  NodeId s = t.input("s", {c}), sh = t.input("t", {c});
  NodeId rm = t.input("rm", {c}), rv = t.input("rv", {c}, 0.5, 1.5);
  t.add(makeNode(OpKind::ChannelSum, {dy}), "sum");
  Node ms = makeNode(OpKind::ChannelSum, {dy, a});
  ms.act = Activation::Relu;
  t.add(ms, "masked_sum");
  Node ls = makeNode(OpKind::ChannelSum, {dy, a});
  ls.act = Activation::Sigmoid;
  t.add(ls, "sigmoid_sum");
  t.add(makeNode(OpKind::ChannelMean, {x}), "mean");
  t.add(makeNode(OpKind::ChannelVar, {x}), "var");
  t.add(makeNode(OpKind::ChannelAffine, {x, s, sh}), "affine");
  t.add(makeNode(OpKind::ChannelAffine, {x, s}), "scale");
  Node bn = makeNode(OpKind::BatchNormalize, {x, rm, rv});
  bn.param = 1e-5;
  t.add(bn, "bn");
  Node bg = makeNode(OpKind::BatchNormalizeGrad, {dy, x});
  bg.param = 1e-3;
  t.add(bg, "bn_grad");
  t.finish();
  return t;
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

TEST(SpatialCpu, PoolingIsAdjointToItsGradients) {
  for (const auto &[d, win] : poolCases()) {
    Case c = poolCase(d[0], d[1], d[2], d[3], win);
    MemoryPlan plan = planWithoutReuse(c.g, c.batch);
    std::unique_ptr<CpuProgram> prog = compileCpu(c.g, plan, {});
    CpuRun run = runProgram(c.g, *prog, c.leaves, c.batch);
    auto out = [&](size_t i) {
      return run.value(c.g, plan, c.g.outputs[i].node, c.batch);
    };
    const std::vector<double> &x = c.leaves["x"].data, &dy = c.leaves["dy"].data;
    std::string what = dimsStr(d) + " kernel " + std::to_string(win.kernel[0]) +
                       "x" + std::to_string(win.kernel[1]);
    double mx = dot(out(0), dy), avg = dot(out(2), dy);
    EXPECT_NEAR(dot(out(1), x), mx, 1e-5 * (std::fabs(mx) + 1)) << what;
    EXPECT_NEAR(dot(out(3), x), avg, 1e-5 * (std::fabs(avg) + 1)) << what;
  }
}

TEST(SpatialCpu, ConvolutionsMatchTheInterpreter) {
  for (const Conv &cv : convCases()) {
    Case c = convCase(cv);
    checkAgainstInterpreter(c.g, c.leaves, c.batch, c.batch, kConvRtol,
                            cv.str());
  }
  // Batch 3 compiled for a larger batch (the batch a run-time value), and
  // at -O0 (the masked gathers and loads unoptimized).
  Conv cv{3, 2, 6, 5, 3, 3, 3};
  cv.pad[0] = cv.pad[1] = 1;
  cv.act = Activation::Relu;
  Case c = convCase(cv);
  checkAgainstInterpreter(c.g, c.leaves, 3, 8, kConvRtol, "batch 3 of 8");
  checkAgainstInterpreter(c.g, c.leaves, 3, 3, kConvRtol, "-O0", 0);
}

TEST(SpatialCpu, PoolingMatchesTheInterpreter) {
  for (const auto &[d, win] : poolCases()) {
    Case c = poolCase(d[0], d[1], d[2], d[3], win);
    checkAgainstInterpreter(c.g, c.leaves, c.batch, c.batch, 1e-5,
                            "pool " + dimsStr(d));
  }
  auto [d, win] = poolCases()[2];
  Case c = poolCase(d[0], d[1], d[2], d[3], win);
  checkAgainstInterpreter(c.g, c.leaves, c.batch, c.batch, 1e-5, "pool -O0", 0);
}

TEST(SpatialCpu, ChannelOpsMatchTheInterpreter) {
  for (const auto &[dims, batch] :
       std::vector<std::pair<std::vector<int64_t>, int64_t>>{
           {{kBatch, 5, 3, 7}, 3},
           {{kBatch, 13}, 6},
           {{kBatch, 3, 4, 4}, 1},
           {{kBatch, 2, 9, 8}, 2}}) {
    Case c = channelCase(dims, batch);
    checkAgainstInterpreter(c.g, c.leaves, batch, batch, 1e-5,
                            "channels " + dimsStr(dims));
  }
  Case c = channelCase({kBatch, 5, 3, 7}, 3);
  checkAgainstInterpreter(c.g, c.leaves, 3, 3, 1e-5, "channels -O0", 0);
}

TEST(SpatialCpu, ReshapeCopiesTheElements) {
  Case c(3);
  NodeId x = c.input("x", {kBatch, 2, 3, 5});
  Node r = makeNode(OpKind::Reshape, {x});
  r.shape = {kBatch, 30};
  c.add(r, "flat");
  Node back = makeNode(OpKind::Reshape, {c.g.outputs[0].node});
  back.shape = {kBatch, 5, 6};
  c.add(back, "again");
  c.finish();
  MemoryPlan plan = planWithoutReuse(c.g, 3);
  std::unique_ptr<CpuProgram> prog = compileCpu(c.g, plan, {});
  CpuRun run = runProgram(c.g, *prog, c.leaves, 3);
  for (const Output &o : c.g.outputs) {
    std::vector<float> v = run.value(c.g, plan, o.node, 3);
    ASSERT_EQ(v.size(), c.leaves["x"].data.size());
    for (size_t i = 0; i < v.size(); ++i)
      EXPECT_EQ(v[i], static_cast<float>(c.leaves["x"].data[i])) << o.name;
  }
}

/// Whole training steps of the CNN examples (conv, batch norm, pooling,
/// flatten, dense), unfused and with every fusion set (conv + bias +
/// activation, the activation gradient folded into the convolution
/// gradients), every node against the interpreter.
TEST(SpatialCpu, CnnExamplesMatchTheInterpreter) {
  for (const char *file : {"fashion_cnn.nn", "conv_tiny.nn"}) {
    std::string path = std::string(NNC_SOURCE_DIR) + "/examples/" + file;
    // SGD with momentum rather than the example's Adam: Adam's first step
    // divides each gradient by its own magnitude, so a gradient that sums
    // to near zero (float against double: 1e-3 relative there) moves its
    // weight by a full step either way; the layers are what is checked.
    std::string text = std::regex_replace(
        readText(path), std::regex(R"(optimizer adam\([^)]*\))"),
        "optimizer sgd(lr = 0.01, momentum = 0.9)");
    Model lowered = parseText(path, text);
    std::vector<std::optional<std::set<std::string>>> sets = {
        std::nullopt, parseFusionList("all")};
    for (const auto &fs : sets) {
      Model m = throughPipeline(lowered, fs ? Stage::Fused : Stage::Opt, fs);
      ASSERT_GT(m.graph.size(), 0);
      ValueMap l = randomLeaves(m.graph, 3, 29);
      checkAgainstInterpreter(m.graph, l, 3, 3, kConvRtol,
                              std::string(file) + (fs ? " fused" : " unfused"));
    }
  }
}

TEST(SpatialCpu, SameBitsForOneTwoAndThreeThreads) {
  // Big enough to be split (kMinParallelWork).
  Conv fwd{5, 6, 17, 15, 10, 3, 3};
  fwd.pad[0] = fwd.pad[1] = 1;
  fwd.act = Activation::Relu;
  expectSameBitsForThreads(convCase(fwd), fwd.str());
  Conv one{1, 8, 30, 30, 16, 3, 3};
  one.stride[0] = one.stride[1] = 2;
  expectSameBitsForThreads(convCase(one), "batch 1: " + one.str());
  Conv grp{4, 6, 20, 20, 12, 5, 5};
  grp.groups = 2;
  grp.pad[0] = grp.pad[1] = 2;
  expectSameBitsForThreads(convCase(grp), grp.str());
  // One input channel: the weight gradient split by output channel.
  Conv first{6, 1, 28, 28, 16, 3, 3};
  first.pad[0] = first.pad[1] = 1;
  first.act = Activation::Relu;
  expectSameBitsForThreads(convCase(first), "by channel: " + first.str());
  expectSameBitsForThreads(poolCase(6, 16, 32, 32, poolWindow(3, 3, 2, 2, 1, 1)),
                           "pooling");
  expectSameBitsForThreads(poolCase(4, 8, 28, 28, poolWindow(2, 2, 2, 2, 0, 0)),
                           "pooling, disjoint windows");
  expectSameBitsForThreads(channelCase({kBatch, 13, 25, 25}, 9), "channels");
}

/// A whole fused training step of fashion_cnn (batch 8): the same bits,
/// updates included, for 1, 2 and 3 threads.
TEST(SpatialCpu, CnnStepSameBitsForOneTwoAndThreeThreads) {
  RestoreThreads restore;
  Model m = loadExample("fashion_cnn.nn", Stage::Fused, parseFusionList("all"));
  ASSERT_GT(m.graph.size(), 0);
  ValueMap l = randomLeaves(m.graph, 8, 31);
  MemoryPlan plan = planMemory(m.graph, 8);
  std::unique_ptr<CpuProgram> prog = compileCpu(m.graph, plan, {});
  setCpuThreads(1);
  Bits want = resultBits(m.graph, *prog, l, 8);
  for (int threads : {2, 3}) {
    setCpuThreads(threads);
    EXPECT_TRUE(resultBits(m.graph, *prog, l, 8) == want)
        << threads << " threads";
  }
}

#endif // NNC_HAVE_CPU_BACKEND

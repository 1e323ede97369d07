//===- ShardingTest.cpp - Data-parallel arithmetic ------------------------===//
///
/// \file
/// The arithmetic of data-parallel training (runtime/Sharding.h,
/// runtime/DataParallel.h) without MPI: shards cover a batch once, the sum
/// runs in rank order with the rows' weights, the shards' weighted
/// gradients add up to the whole batch's (l2 included), and the split step
/// (gradients, then the update program) equals the fused step in a world of
/// one process.
///
//===----------------------------------------------------------------------===//

#include "../reliability/FaultTestUtil.h"

#include "runtime/DataParallel.h"
#include "runtime/Distributed.h"
#include "runtime/Executor.h"
#include "runtime/Sharding.h"

#include <gtest/gtest.h>

#include <cmath>

namespace nn {
namespace {

using Range = std::pair<int64_t, int64_t>;

TEST(Sharding, RangesCoverEveryRowOnceInRankOrder) {
  for (int64_t rows = 0; rows <= 40; ++rows)
    for (int ranks = 1; ranks <= 7; ++ranks) {
      int64_t next = 0, lo = rows, hi = 0;
      for (int r = 0; r < ranks; ++r) {
        auto [b, e] = shardRange(rows, ranks, r);
        EXPECT_EQ(b, next) << rows << " rows, rank " << r << " of " << ranks;
        next = e;
        lo = std::min(lo, e - b);
        hi = std::max(hi, e - b);
      }
      EXPECT_EQ(next, rows);
      EXPECT_LE(hi - lo, 1) << rows << " rows over " << ranks;
    }
  // 64 rows over 3: the first rank takes the extra row.
  EXPECT_EQ(shardRange(64, 3, 0), Range(0, 22));
  EXPECT_EQ(shardRange(64, 3, 1), Range(22, 43));
  EXPECT_EQ(shardRange(64, 3, 2), Range(43, 64));
  // Fewer rows than ranks: the last ranks get none.
  EXPECT_EQ(shardRange(2, 3, 2), Range(2, 2));
}

TEST(Sharding, SumRunsInRankOrderInDoubleWithWeights) {
  // In float, (1e8 + 1) - 1e8 is 0; the sum in double rounded once is 1,
  // whatever the grouping MPI would have chosen.
  std::vector<float> blocks = {1e8f, 2.0f, 1.0f, 4.0f, -1e8f, 8.0f};
  std::vector<float> sum = sumInRankOrder(blocks, 3, 2);
  EXPECT_EQ(sum, (std::vector<float>{1.0f, 14.0f}));
  EXPECT_EQ(sumInRankOrder(blocks, 3, 2), sum); // the same bits again
  std::vector<float> w = sumInRankOrder(std::vector<float>{2.0f, 4.0f, 6.0f}, 3, 1,
                                        {0.5, 0.25, 0.25});
  EXPECT_EQ(w, std::vector<float>{3.5f}); // 2/2 + 4/4 + 6/4
  std::vector<double> d = sumInRankOrder(std::vector<double>{1, 2, 3, 4}, 2, 2);
  EXPECT_EQ(d, (std::vector<double>{4, 6}));
}

/// The xor model with l2 and `optimizer`, as the full step and as the
/// gradients-only graph data-parallel training runs on each shard.
struct Split {
  test::Compiled full;
  Graph grads;
};

Split splitModel(OptimizerSpec::Kind optimizer) {
  auto tweak = [&](Recipe &r) {
    r.l2 = 0.01;
    r.seed = 3;
    r.optimizer.kind = optimizer;
    r.optimizer.lr = 0.1;
    r.optimizer.momentum = optimizer == OptimizerSpec::Kind::Sgd ? 0.9 : 0;
  };
  Split s{test::compileModel(test::kXor, tweak), {}};
  DiagEngine diags;
  diags.addSource("m.nn", test::kXor);
  std::optional<Model> m = parseModel("m.nn", test::kXor, diags);
  tweak(m->recipe);
  PipelineOptions o;
  o.gradientsOnly = true;
  s.grads = runPipeline(m->graph, m->recipe, Stage::Fused, o, diags);
  return s;
}

TEST(Sharding, WeightedShardGradientsAddUpToTheBatchGradient) {
  Split s = splitModel(OptimizerSpec::Kind::Sgd);
  TensorMap state = initState(s.full.step, 3);
  Dataset d = test::xorData();
  auto gradsOf = [&](int64_t b, int64_t e) {
    std::unique_ptr<Executor> x = makeInterpExecutor(s.grads);
    TensorMap mine;
    for (NodeId id : s.grads.leaves(OpKind::Param))
      mine[s.grads[id].name] = state.at(s.grads[id].name);
    x->setState(mine);
    std::vector<int64_t> rows;
    for (int64_t i = b; i < e; ++i)
      rows.push_back(i);
    Dataset part = selectRows(d, rows);
    return x->run(bindBatch(s.grads, part.x, part.y));
  };
  TensorMap whole = gradsOf(0, 4);
  for (int ranks : {2, 3}) {
    std::map<std::string, std::vector<double>> sum;
    for (int r = 0; r < ranks; ++r) {
      auto [b, e] = shardRange(4, ranks, r);
      for (auto &[name, t] : gradsOf(b, e)) {
        if (name.rfind("grad.", 0) != 0)
          continue;
        sum[name].resize(t.data.size());
        for (size_t i = 0; i < t.data.size(); ++i)
          sum[name][i] += (e - b) / 4.0 * t.data[i];
      }
    }
    ASSERT_FALSE(sum.empty());
    for (auto &[name, v] : sum)
      for (size_t i = 0; i < v.size(); ++i)
        EXPECT_NEAR(v[i], whole.at(name).data[i], 1e-6)
            << name << "[" << i << "] over " << ranks << " shards";
  }
}

TEST(Sharding, SplitStepEqualsTheFusedStepInOneProcess) {
  ASSERT_EQ(world().size, 1);
  for (auto kind : {OptimizerSpec::Kind::Sgd, OptimizerSpec::Kind::Adam}) {
    Split s = splitModel(kind);
    TensorMap state = initState(s.full.step, 3);
    std::unique_ptr<Executor> full = makeInterpExecutor(s.full.step);
    DataParallelExecutor split(s.grads, s.full.recipe.optimizer, "interp", {});
    full->setState(state);
    split.setState(state);
    Dataset d = test::xorData();
    for (int step = 0; step < 3; ++step) {
      TensorMap a = full->run(bindBatch(s.full.step, d.x, d.y));
      TensorMap b = split.run(bindBatch(s.grads, d.x, d.y));
      EXPECT_NEAR(a.at("loss")[0], b.at("loss")[0], 1e-6);
      EXPECT_EQ(a.at("pred").data.size(), b.at("pred").data.size());
    }
    ASSERT_EQ(full->state().size(), split.state().size());
    for (const auto &[name, t] : full->state())
      for (size_t i = 0; i < t.data.size(); ++i)
        EXPECT_NEAR(t.data[i], split.state().at(name).data[i], 1e-6)
            << name << "[" << i << "]";
  }
}

} // namespace
} // namespace nn

//===- ScheduleLowerTest.cpp - schedule and clip_grad_norm into a Recipe --===//
///
/// \file
/// What the `schedule` and `clip_grad_norm` train settings lower to; their
/// errors are golden tests (tests/golden/frontend/errors-schedule*.nn).
///
//===----------------------------------------------------------------------===//

#include "FrontendTestUtil.h"

#include <gtest/gtest.h>

using namespace nn;
using namespace nn::test;

namespace {

std::unique_ptr<Parsed> train(const std::string &items) {
  return parseText("input x : f32[2]\nlabel y : binary\n"
                   "loss bce(sigmoid(x @ x), y)\ntrain {\n" +
                   items + "\n}\n");
}

TEST(ScheduleLower, NoScheduleIsAConstantLr) {
  auto p = train("  optimizer sgd(lr = 0.5)");
  ASSERT_TRUE(p->model) << p->diags.str();
  EXPECT_EQ(p->model->recipe.schedule.kind, Schedule::Kind::Constant);
  EXPECT_EQ(p->model->recipe.schedule.warmupSteps, 0);
  EXPECT_EQ(p->model->recipe.optimizer.clipGradNorm, 0);
}

TEST(ScheduleLower, StepWithItsDefaultGamma) {
  auto p = train("  optimizer sgd(lr = 0.5)\n  schedule step(every = 3)");
  ASSERT_TRUE(p->model) << p->diags.str();
  const Schedule &s = p->model->recipe.schedule;
  EXPECT_EQ(s.kind, Schedule::Kind::Step);
  EXPECT_EQ(s.every, 3);
  EXPECT_EQ(s.gamma, 0.1); // StepLR's default
  EXPECT_EQ(s.warmupSteps, 0);
  EXPECT_EQ(s.loc.line, 6);
}

TEST(ScheduleLower, CosineTakesTheBlocksEpochsWhenNotGiven) {
  // epochs comes after the schedule: the default is resolved at the end.
  auto p = train("  schedule warmup(steps = 10) + cosine(min_lr = 0.001)\n"
                 "  optimizer sgd(lr = 0.5)  epochs 7");
  ASSERT_TRUE(p->model) << p->diags.str();
  const Schedule &s = p->model->recipe.schedule;
  EXPECT_EQ(s.kind, Schedule::Kind::Cosine);
  EXPECT_EQ(s.epochs, 7);
  EXPECT_EQ(s.minLr, 0.001);
  EXPECT_EQ(s.warmupSteps, 10);
}

TEST(ScheduleLower, WarmupEitherSideOfTheDecay) {
  auto p = train("  optimizer sgd(lr = 0.5)\n"
                 "  schedule cosine(epochs = 4) + warmup(steps = 2)");
  ASSERT_TRUE(p->model) << p->diags.str();
  const Schedule &s = p->model->recipe.schedule;
  EXPECT_EQ(s.kind, Schedule::Kind::Cosine);
  EXPECT_EQ(s.epochs, 4);
  EXPECT_EQ(s.minLr, 0);
  EXPECT_EQ(s.warmupSteps, 2);
}

TEST(ScheduleLower, ClipGradNormBeforeOrAfterTheOptimizerLine) {
  for (const char *items :
       {"  clip_grad_norm 2.5\n  optimizer sgd(lr = 0.5)",
        "  optimizer sgd(lr = 0.5)\n  clip_grad_norm 2.5"}) {
    auto p = train(items);
    ASSERT_TRUE(p->model) << p->diags.str();
    EXPECT_EQ(p->model->recipe.optimizer.clipGradNorm, 2.5) << items;
    EXPECT_EQ(p->model->recipe.optimizer.lr, 0.5) << items;
  }
}

TEST(ScheduleLower, ErrorsAreLocatedWithoutCascades) {
  // A bad schedule is one error: no "needs the learning rate" after it.
  auto p = train("  schedule warmup(steps = 0)");
  EXPECT_FALSE(p->model);
  auto errs = p->errors();
  ASSERT_EQ(errs.size(), 1u) << p->diags.str();
  EXPECT_EQ(errs[0].message, "steps must be a whole number of at least 1");
  EXPECT_EQ(errs[0].loc, (SrcLoc{"m.nn", 5, 27, 1}));
  // 'schedule' with no value, or a number.
  for (const char *items : {"  schedule", "  schedule 0.5"}) {
    auto q = train(items);
    ASSERT_EQ(q->errors().size(), 1u) << q->diags.str();
    EXPECT_EQ(q->errors()[0].message.rfind("'schedule' takes step(", 0), 0u)
        << q->errors()[0].message;
  }
  auto q = train("  optimizer sgd(lr = 0.1)\n  schedule warmup(steps = 1.5)");
  ASSERT_EQ(q->errors().size(), 1u) << q->diags.str();
  EXPECT_EQ(q->errors()[0].message,
            "steps must be a whole number of at least 1");
  auto r = train("  optimizer sgd(lr = 0.1)\n  schedule step(gamma = 0.5)");
  ASSERT_EQ(r->errors().size(), 1u) << r->diags.str();
  EXPECT_EQ(r->errors()[0].message,
            "'step' needs 'every', as in 'step(every = 5, gamma = 0.5)'");
  auto s = train("  optimizer sgd(lr = 0.1)\n  schedule step(evry = 2)");
  ASSERT_GE(s->errors().size(), 1u) << s->diags.str();
  EXPECT_EQ(s->errors()[0].message, "unknown argument 'evry' for 'step'");
  EXPECT_EQ(s->help(), "did you mean 'every'?");
  auto w = train("  optimizer sgd(lr = 0.1)\n"
                 "  schedule warmup(steps = 2) + warmup(steps = 3)");
  ASSERT_EQ(w->errors().size(), 1u) << w->diags.str();
  EXPECT_EQ(w->errors()[0].message, "two warm-ups in one schedule");
  EXPECT_EQ(w->errors()[0].loc.col, 30); // the '+'
  EXPECT_EQ(w->help(), "only a warm-up combines with another schedule, as in "
                       "'warmup(steps = 100) + cosine(epochs = 20)'");
  auto t = train("  optimizer sgd(lr = 0.1)\n  clip_grad_norm(1)");
  ASSERT_EQ(t->errors().size(), 1u) << t->diags.str();
  EXPECT_EQ(t->errors()[0].message,
            "'clip_grad_norm' takes a number, as in 'clip_grad_norm 1.0'");
}

} // namespace

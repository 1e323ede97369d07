//===- LowerSchedule.cpp - The schedule and clip_grad_norm settings -------===//
///
/// \file
/// Algorithm: a schedule is one call or a sum of two (`warmup(...) +
/// cosine(...)`); each call is looked up among the schedule forms, its named
/// arguments checked against the form's, each number against its range.
/// The sum takes one warm-up and one decay (step or cosine). After the whole
/// block, finishSchedule checks that the `optimizer` line gives the lr the
/// schedule scales.
///
//===----------------------------------------------------------------------===//

#include "frontend/LowerSchedule.h"

#include "frontend/Lower.h"
#include "frontend/Suggest.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace nn {

namespace {

/// A schedule form: its name, its arguments and an example.
struct ScheduleForm {
  const char *name;
  std::vector<std::string> args;
  const char *example;
};

const std::vector<ScheduleForm> &scheduleForms() {
  static const std::vector<ScheduleForm> forms = {
      {"step", {"every", "gamma"}, "step(every = 5, gamma = 0.5)"},
      {"cosine", {"epochs", "min_lr"}, "cosine(epochs = 20, min_lr = 0)"},
      {"warmup", {"steps"}, "warmup(steps = 100)"},
  };
  return forms;
}

const ScheduleForm *findForm(const std::string &name) {
  for (const ScheduleForm &f : scheduleForms())
    if (name == f.name)
      return &f;
  return nullptr;
}

constexpr const char *kUsage =
    "'schedule' takes step(every = 5, gamma = 0.5), "
    "cosine(epochs = 20, min_lr = 0), warmup(steps = 100), "
    "or warmup(steps = 100) + either";

class ScheduleLowerer {
public:
  ScheduleLowerer(Schedule &s, DiagEngine &diags) : s(s), diags(diags) {}

  /// The schedule `e` (a call or a sum of two); false after an error.
  bool schedule(const Expr &e) {
    if (e.kind == Expr::Kind::Binary && e.op == '+')
      return sum(e);
    if (e.kind != Expr::Kind::Call && e.kind != Expr::Kind::Name) {
      diags.error(spanOf(e), kUsage);
      return false;
    }
    return call(e);
  }

private:
  /// warmup(...) + step(...) or + cosine(...), either way round.
  bool sum(const Expr &e) {
    const Expr &a = *e.args[0], &b = *e.args[1];
    for (const Expr *part : {&a, &b})
      if (part->kind != Expr::Kind::Call && part->kind != Expr::Kind::Name) {
        diags.error(spanOf(*part), kUsage);
        return false;
      }
    bool okA = call(a), okB = call(b); // both reported
    if (!okA || !okB)
      return false;
    bool warmA = a.text == "warmup", warmB = b.text == "warmup";
    if (warmA != warmB)
      return true;
    diags.error(e.loc, warmA ? "two warm-ups in one schedule"
                             : "'" + a.text + "' and '" + b.text +
                                   "' are two schedules; one decays the lr");
    diags.help(e.loc, "only a warm-up combines with another schedule, as "
                      "in 'warmup(steps = 100) + cosine(epochs = 20)'");
    return false;
  }

  bool call(const Expr &c) {
    const ScheduleForm *form = findForm(c.text);
    if (!form) {
      diags.error(c.loc, "unknown schedule '" + c.text + "'");
      std::vector<std::string> names;
      for (const ScheduleForm &f : scheduleForms())
        names.push_back(f.name);
      std::string guess = suggest(c.text, names);
      diags.help(c.loc, guess.empty() ? std::string(kUsage)
                                      : "did you mean '" + guess + "'?");
      return false;
    }
    if (!kwargsOk(c, *form))
      return false;
    std::string name = form->name;
    if (name == "step")
      return stepDecay(c, *form);
    if (name == "cosine")
      return cosine(c);
    return warmup(c, *form);
  }

  bool kwargsOk(const Expr &c, const ScheduleForm &form) {
    bool ok = true;
    if (!c.args.empty()) {
      diags.error(spanOf(*c.args[0]), "'" + c.text +
                                          "' takes named arguments, as in '" +
                                          form.example + "'");
      ok = false;
    }
    for (const KwArg &k : c.kwargs) {
      if (std::find(form.args.begin(), form.args.end(), k.name) !=
          form.args.end())
        continue;
      diags.error(k.loc,
                  "unknown argument '" + k.name + "' for '" + c.text + "'");
      std::string guess = suggest(k.name, form.args);
      if (!guess.empty())
        diags.help(k.loc, "did you mean '" + guess + "'?");
      ok = false;
    }
    return ok;
  }

  /// The required whole-number argument `name` (at least 1).
  std::optional<int64_t> count(const Expr &c, const char *name,
                               const char *example, bool required) {
    const KwArg *k = c.kwarg(name);
    if (!k) {
      if (required)
        diags.error(c.loc, "'" + c.text + "' needs '" + name + "', as in '" +
                               example + "'");
      return std::nullopt;
    }
    std::optional<int64_t> v = integerValue(*k->value);
    if (!v || *v < 1) {
      diags.error(spanOf(*k->value),
                  std::string(name) + " must be a whole number of at least 1");
      return std::nullopt;
    }
    return v;
  }

  /// The number argument `name`, when given.
  std::optional<double> number(const Expr &c, const char *name) {
    const KwArg *k = c.kwarg(name);
    if (!k)
      return std::nullopt;
    double v;
    if (k->value->constant(v))
      return v;
    diags.error(spanOf(*k->value), "'" + k->name + "' takes a number");
    return std::nullopt;
  }

  bool stepDecay(const Expr &c, const ScheduleForm &form) {
    s.kind = Schedule::Kind::Step;
    std::optional<int64_t> every = count(c, "every", form.example, true);
    if (every)
      s.every = *every;
    bool ok = every.has_value();
    if (std::optional<double> g = number(c, "gamma")) {
      if (*g > 0)
        s.gamma = *g;
      else {
        diags.error(spanOf(*c.kwarg("gamma")->value), "gamma must be positive");
        ok = false;
      }
    }
    return ok;
  }

  bool cosine(const Expr &c) {
    s.kind = Schedule::Kind::Cosine;
    s.epochs = 0; // the block's epochs, unless given (finishSchedule)
    bool ok = true;
    if (c.kwarg("epochs")) {
      std::optional<int64_t> e = count(c, "epochs", "", false);
      ok = e.has_value();
      if (e)
        s.epochs = *e;
    }
    if (std::optional<double> m = number(c, "min_lr")) {
      if (*m >= 0)
        s.minLr = *m;
      else {
        diags.error(spanOf(*c.kwarg("min_lr")->value),
                    "min_lr must not be negative");
        ok = false;
      }
    }
    return ok;
  }

  bool warmup(const Expr &c, const ScheduleForm &form) {
    std::optional<int64_t> n = count(c, "steps", form.example, true);
    if (n)
      s.warmupSteps = *n;
    return n.has_value();
  }

  Schedule &s;
  DiagEngine &diags;
};

void lowerClipGradNorm(const TrainItem &item, Recipe &r, DiagEngine &diags) {
  double v;
  if (!item.value || !item.value->constant(v)) {
    diags.error(item.value ? spanOf(*item.value) : item.loc,
                "'clip_grad_norm' takes a number, as in 'clip_grad_norm 1.0'");
    return;
  }
  if (!(v > 0)) {
    diags.error(spanOf(*item.value), "clip_grad_norm must be positive");
    diags.help(spanOf(*item.value),
               "leave 'clip_grad_norm' out to train without clipping");
    return;
  }
  r.optimizer.clipGradNorm = v;
}

} // namespace

bool isScheduleSetting(const std::string &key) {
  return key == "schedule" || key == "clip_grad_norm";
}

void lowerScheduleSetting(const TrainItem &item, Recipe &r, DiagEngine &diags) {
  if (item.key == "clip_grad_norm")
    return lowerClipGradNorm(item, r, diags);
  if (!item.value) {
    diags.error(item.loc, kUsage);
    return;
  }
  Schedule s;
  s.loc = item.loc; // the keyword: the schedule's errors point at it
  if (ScheduleLowerer(s, diags).schedule(*item.value))
    r.schedule = s;
}

void finishSchedule(const Stmt &train, Recipe &r, DiagEngine &diags) {
  Schedule &s = r.schedule;
  if (s.kind == Schedule::Kind::Cosine && s.epochs == 0)
    s.epochs = r.epochs;
  if (s.kind == Schedule::Kind::Constant && s.warmupSteps == 0)
    return;
  const TrainItem *opt = nullptr;
  for (const TrainItem &item : train.items)
    if (item.key == "optimizer" && !opt)
      opt = &item;
  const Expr *call = opt ? opt->value.get() : nullptr;
  if (call && call->kind == Expr::Kind::Call && call->kwarg("lr"))
    return;
  diags.error(s.loc, "a schedule needs the learning rate of an 'optimizer' "
                     "line");
  if (opt)
    diags.note(opt->loc, "this optimizer line gives no 'lr'");
  diags.help(s.loc, "give the lr the schedule starts from, as in 'optimizer "
                    "sgd(lr = 0.1)'");
}

} // namespace nn

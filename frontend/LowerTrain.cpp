//===- LowerTrain.cpp - The train block to a Recipe -----------------------===//
///
/// \file
/// Algorithm: one pass over the items of `train { ... }`; each key has a
/// handler that checks its value and fills the Recipe. A key given twice is
/// an error with a note at the first one. Relative data paths are kept as
/// written: the driver resolves them against the .nn file's directory.
///
//===----------------------------------------------------------------------===//

#include "frontend/Lower.h"
#include "frontend/LowerSchedule.h"
#include "frontend/Parser.h"
#include "frontend/Suggest.h"
#include "passes/optim/Optimizer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace nn {

const std::vector<std::string> &trainSettings() {
  static const std::vector<std::string> names = {
      "data",    "test",       "optimizer",  "batch",
      "epochs",  "l2",         "validation", "seed",
      "shuffle", "early_stop", "schedule",   "clip_grad_norm"};
  return names;
}

namespace {

class TrainLowerer {
public:
  TrainLowerer(Recipe &r, DiagEngine &diags) : r(r), diags(diags) {}

  void run(const Stmt &s) {
    r.loc = s.loc;
    std::map<std::string, SrcLoc> seen;
    for (const TrainItem &item : s.items) {
      const std::vector<std::string> &names = trainSettings();
      if (std::find(names.begin(), names.end(), item.key) == names.end()) {
        diags.error(item.loc, "unknown train setting '" + item.key + "'");
        std::string guess = suggest(item.key, names);
        diags.help(item.loc,
                   guess.empty()
                       ? "the settings are data, test, optimizer, batch, "
                         "epochs, l2, validation, seed, shuffle, "
                         "early_stop, schedule and clip_grad_norm"
                       : "did you mean '" + guess + "'?");
        continue;
      }
      auto [it, fresh] = seen.emplace(item.key, item.loc);
      if (!fresh) {
        diags.error(item.loc, "'" + item.key + "' is set twice");
        diags.note(it->second, "first set here");
        continue;
      }
      lowerItem(item);
    }
    finishSchedule(s, r, diags);
  }

private:
  void lowerItem(const TrainItem &item) {
    const std::string &k = item.key;
    if (k == "data" || k == "test") {
      lowerSource(item, k == "data" ? r.data : r.test);
    } else if (isScheduleSetting(k)) {
      lowerScheduleSetting(item, r, diags);
    } else if (k == "optimizer") {
      lowerOptimizer(item);
    } else if (k == "batch") {
      auto v = integer(item, "batch size", "batch 64", 1);
      if (v && check(*v >= 1, item, "batch size must be at least 1"))
        r.batch = *v;
    } else if (k == "epochs") {
      auto v = integer(item, "number of epochs", "epochs 10", 1);
      if (v && check(*v >= 1, item, "number of epochs must be at least 1"))
        r.epochs = *v;
    } else if (k == "seed") {
      auto v = integer(item, "seed", "seed 42", 0);
      if (v && check(*v >= 0, item, "seed must not be negative"))
        r.seed = static_cast<uint64_t>(*v);
    } else if (k == "l2") {
      auto v = number(item, "l2 1e-4");
      if (v && check(*v >= 0, item, "l2 must not be negative"))
        r.l2 = *v;
    } else if (k == "validation") {
      auto v = number(item, "validation 0.1");
      if (v && check(*v >= 0 && *v < 1, item,
                     "validation fraction must be in [0, 1)")) {
        r.validation = *v;
        r.validationLoc = spanOf(*item.value);
      }
    } else if (k == "shuffle") {
      if (!item.value) {
        r.shuffle = true;
      } else if (auto b = boolean(*item.value)) {
        r.shuffle = *b;
      } else {
        diags.error(spanOf(*item.value), "'shuffle' takes true or false");
      }
    } else {
      lowerEarlyStop(item);
    }
  }

  /// False after reporting `msg` under the item's value.
  bool check(bool ok, const TrainItem &item, const std::string &msg) {
    if (!ok)
      diags.error(item.value ? spanOf(*item.value) : item.loc, msg);
    return ok;
  }

  std::optional<double> number(const TrainItem &item, const char *example) {
    double v;
    if (item.value && item.value->constant(v))
      return v;
    diags.error(item.value ? spanOf(*item.value) : item.loc,
                "'" + item.key + "' takes a number, as in '" + example + "'");
    return std::nullopt;
  }

  /// A whole number; `min` is the smallest the setting takes (for the
  /// message when the value is too large; the caller checks it).
  std::optional<int64_t> integer(const TrainItem &item, const char *what,
                                 const char *example, int64_t min) {
    std::optional<double> d = number(item, example);
    if (!d)
      return std::nullopt;
    std::optional<int64_t> v = integerValue(*item.value);
    if (!v && *d == std::floor(*d))
      diags.error(spanOf(*item.value), std::string(what) +
                                           " must be a whole number from " +
                                           std::to_string(min) + " to " +
                                           std::to_string(kMaxWholeNumber));
    else if (!v)
      diags.error(spanOf(*item.value),
                  std::string(what) + " must be a whole number");
    return v;
  }

  static std::optional<bool> boolean(const Expr &e) {
    if (e.kind == Expr::Kind::Name && (e.text == "true" || e.text == "false"))
      return e.text == "true";
    return std::nullopt;
  }

  /// Reports keyword arguments of `call` not in `allowed`, and positional
  /// ones; false if there were any.
  bool onlyKwargs(const Expr &call, const std::vector<std::string> &allowed) {
    bool ok = true;
    if (!call.args.empty()) {
      diags.error(spanOf(*call.args[0]),
                  "'" + call.text + "' takes named arguments, as in '" +
                      call.text + "(" + allowed[0] + " = ...)'");
      ok = false;
    }
    for (const KwArg &k : call.kwargs) {
      if (std::find(allowed.begin(), allowed.end(), k.name) != allowed.end())
        continue;
      diags.error(k.loc,
                  "unknown argument '" + k.name + "' for '" + call.text + "'");
      std::string guess = suggest(k.name, allowed);
      if (!guess.empty())
        diags.help(k.loc, "did you mean '" + guess + "'?");
      ok = false;
    }
    return ok;
  }

  std::optional<double> kwNumber(const KwArg &k) {
    double v;
    if (k.value->constant(v))
      return v;
    diags.error(spanOf(*k.value), "'" + k.name + "' takes a number");
    return std::nullopt;
  }

  void lowerSource(const TrainItem &item, DataSource &src) {
    const std::string usage = "'" + item.key +
                              "' takes a data source: idx(\"prefix\") or "
                              "csv(\"file.csv\", label = \"column\")";
    const Expr *call = item.value.get();
    if (!call || call->kind != Expr::Kind::Call) {
      diags.error(call ? spanOf(*call) : item.loc, usage);
      return;
    }
    bool csv = call->text == "csv";
    if (!csv && call->text != "idx") {
      diags.error(call->loc, "unknown data format '" + call->text + "'");
      std::string guess = suggest(call->text, {"idx", "csv"});
      diags.help(call->loc, guess.empty() ? usage.substr(usage.find("idx"))
                                          : "did you mean '" + guess + "'?");
      return;
    }
    bool ok = true;
    if (call->args.size() != 1 || call->args[0]->kind != Expr::Kind::String) {
      diags.error(
          call->args.empty() ? call->loc : spanOf(*call->args[0]),
          "expected a file path in quotes, as in " +
              std::string(csv ? "csv(\"data.csv\")" : "idx(\"data/train\")"));
      ok = false;
    } else if (call->args[0]->text.empty()) {
      diags.error(call->args[0]->loc, "empty file path");
      ok = false;
    }
    std::vector<std::string> labels;
    for (const KwArg &k : call->kwargs) {
      if (csv && k.name == "label") {
        if (labelColumns(*k.value, labels))
          continue;
        diags.error(spanOf(*k.value),
                    "'label' takes a column name in quotes, or a list of "
                    "them, as in label = [\"y0\", \"y1\"]");
      } else {
        diags.error(k.loc, "unknown argument '" + k.name + "' for '" +
                               call->text + "'");
        if (!csv && k.name == "label")
          diags.help(k.loc, "idx files hold their labels in a separate file");
      }
      ok = false;
    }
    if (!ok)
      return;
    src.format = csv ? DataSource::Format::Csv : DataSource::Format::Idx;
    src.path = call->args[0]->text;
    src.labelColumns = labels;
    src.loc = call->args[0]->loc;
  }

  /// The column names of csv(..., label = "y") or label = ["y0", "y1"];
  /// false when `v` is neither (a non-empty list of strings).
  static bool labelColumns(const Expr &v, std::vector<std::string> &out) {
    if (v.kind == Expr::Kind::String) {
      out = {v.text};
      return true;
    }
    if (v.kind != Expr::Kind::List || v.args.empty())
      return false;
    out.clear();
    for (const ExprPtr &e : v.args) {
      if (e->kind != Expr::Kind::String)
        return false;
      out.push_back(e->text);
    }
    return true;
  }

  /// An optimizer of ir/Optimizers.def with its hyperparameters at this
  /// optimizer's defaults, then each one given checked against the table's
  /// range; nesterov needs a momentum (as torch.optim.SGD says).
  void lowerOptimizer(const TrainItem &item) {
    const Expr *call = item.value.get();
    if (!call ||
        (call->kind != Expr::Kind::Call && call->kind != Expr::Kind::Name)) {
      diags.error(call ? spanOf(*call) : item.loc,
                  "'optimizer' takes an optimizer, as in '" +
                      std::string(optimizers()[0].example) + "'");
      return;
    }
    const OptimizerInfo *info = findOptimizer(call->text);
    if (!info) {
      unknownOptimizer(*call);
      return;
    }
    const double clip = r.optimizer.clipGradNorm; // may come first
    r.optimizer = defaultSpec(*info);
    r.optimizer.clipGradNorm = clip;
    settingsTaken(*call, *info); // the values are checked all the same
    for (const HyperParam *p : info->params)
      if (const KwArg *k = call->kwarg(p->name))
        if (auto v = hyperValue(*k, *p)) {
          if (inRange(p->range, *v))
            r.optimizer.*(p->field) = *v;
          else
            diags.error(spanOf(*k->value), std::string(p->what) +
                                               " must be " +
                                               rangeText(p->range));
        }
    if (const KwArg *k = call->kwarg("nesterov"))
      if (r.optimizer.nesterov != 0 && r.optimizer.momentum == 0) {
        diags.error(spanOf(*k->value), "nesterov needs a momentum");
        diags.help(k->loc, "add a momentum, as in 'sgd(lr = 0.1, momentum = "
                           "0.9, nesterov = true)'");
      }
  }

  /// Reports a hyperparameter of another optimizer ("'momentum' is not a
  /// setting of optimizer 'adam'"), then what onlyKwargs reports.
  void settingsTaken(const Expr &call, const OptimizerInfo &info) {
    std::vector<std::string> allowed = optimizerSettings(info);
    for (const KwArg &k : call.kwargs) {
      const HyperParam *p = findHyperParam(k.name);
      if (!p || takes(info, *p))
        continue;
      diags.error(k.loc, "'" + k.name + "' is not a setting of optimizer '" +
                             info.name + "'");
      diags.help(k.loc, fmt::format("'{}' takes {}", info.name,
                                    fmt::join(allowed, ", ")));
    }
    // The others' settings were reported above.
    for (const HyperParam &p : hyperParams())
      if (!takes(info, p))
        allowed.push_back(p.name);
    onlyKwargs(call, allowed);
  }

  /// The value of hyperparameter `p` given as `k`: a number, or true/false
  /// for a Bool one.
  std::optional<double> hyperValue(const KwArg &k, const HyperParam &p) {
    if (p.range != HyperRange::Bool)
      return kwNumber(k);
    if (auto b = boolean(*k.value))
      return *b ? 1.0 : 0.0;
    diags.error(spanOf(*k.value), "'" + k.name + "' takes true or false");
    return std::nullopt;
  }

  /// "unknown optimizer", with a guess or the list of optimizers.
  void unknownOptimizer(const Expr &call) {
    diags.error(call.loc, "unknown optimizer '" + call.text + "'");
    std::string guess = suggest(call.text, optimizerNames());
    if (!guess.empty()) {
      diags.help(call.loc, "did you mean '" + guess + "'?");
      return;
    }
    std::vector<std::string> forms;
    for (const OptimizerInfo &o : optimizers()) {
      std::vector<std::string> args;
      for (const HyperParam *p : o.params)
        args.push_back(std::string(p->name) + " = ...");
      forms.push_back(fmt::format("{}({})", o.name, fmt::join(args, ", ")));
    }
    diags.help(call.loc, fmt::format("the optimizer is {}",
                                     fmt::join(forms, " or ")));
  }

  void lowerEarlyStop(const TrainItem &item) {
    r.earlyStop.enabled = true;
    const Expr *call = item.value.get();
    if (!call)
      return;
    if (call->kind != Expr::Kind::Call || call->text != "early_stop") {
      diags.error(spanOf(*call), "write 'early_stop(patience = 3, min_delta "
                                 "= 0.001, restore_best = true)'");
      return;
    }
    if (!onlyKwargs(*call, {"patience", "min_delta", "restore_best"}))
      return;
    if (const KwArg *k = call->kwarg("patience")) {
      std::optional<int64_t> v = integerValue(*k->value);
      if (v && *v >= 1)
        r.earlyStop.patience = static_cast<int>(std::min<int64_t>(*v, 1 << 30));
      else
        diags.error(spanOf(*k->value),
                    "patience must be a whole number of at least 1");
    }
    if (const KwArg *k = call->kwarg("min_delta"))
      if (auto v = kwNumber(*k)) {
        if (*v >= 0)
          r.earlyStop.minDelta = *v;
        else
          diags.error(spanOf(*k->value), "min_delta must not be negative");
      }
    if (const KwArg *k = call->kwarg("restore_best")) {
      if (auto b = boolean(*k->value))
        r.earlyStop.restoreBest = *b;
      else
        diags.error(spanOf(*k->value), "'restore_best' takes true or false");
    }
  }

  Recipe &r;
  DiagEngine &diags;
};

} // namespace

void lowerTrain(const Stmt &train, Recipe &recipe, DiagEngine &diags) {
  TrainLowerer(recipe, diags).run(train);
}

} // namespace nn

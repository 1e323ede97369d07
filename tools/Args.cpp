//===- Args.cpp - Command-line flags of the driver ------------------------===//

#include "tools/Args.h"

#include "ir/Diagnostics.h"
#include "ir/Support.h"

#include <cerrno>
#include <cstdlib>
#include <limits>
#include <string>

namespace nn {

/// The value of option `given` (spelled as on the command line) taken from
/// the next argument, advancing `i`. A next argument that starts with "--"
/// is another option, not a value: "--save --quiet" is a missing value and
/// "--save=--quiet" the way to give such a value.
static std::string nextValue(const std::vector<std::string> &argv, size_t &i,
                             const std::string &given, const std::string &name,
                             const std::string &placeholder) {
  if (i + 1 >= argv.size())
    throw UserError("nnc: error: option '" + given + "' needs a value (" +
                    placeholder + ")");
  const std::string &next = argv[i + 1];
  if (next.size() > 2 && next.rfind("--", 0) == 0)
    throw UserError("nnc: error: option '" + given + "' needs a value (" +
                    placeholder + "), but the next argument '" + next +
                    "' is an option\nnnc: help: to give a value that starts "
                    "with '--', write '--" +
                    name + "=" + next + "'");
  return argv[++i];
}

Args::Args(const std::vector<std::string> &argv,
           const std::vector<FlagSpec> &specs) {
  auto find = [&](const std::string &name) -> const FlagSpec * {
    for (const FlagSpec &s : specs)
      if (s.name == name)
        return &s;
    return nullptr;
  };
  bool onlyPositional = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string &a = argv[i];
    if (onlyPositional || a.size() < 2 || a.rfind("--", 0) != 0) {
      if (!onlyPositional && a.size() >= 2 && a[0] == '-' && a != "-") {
        const FlagSpec *alias = nullptr;
        for (const FlagSpec &s : specs)
          if (a.size() == 2 && s.shortName == a[1])
            alias = &s;
        if (!alias)
          throw UserError("nnc: error: unknown option '" + a +
                          "' (options start with '--')");
        if (alias->value.empty()) {
          flags.emplace(alias->name, "");
          continue;
        }
        flags.emplace(alias->name,
                      nextValue(argv, i, a, alias->name, alias->value));
        continue;
      }
      pos.push_back(a);
      continue;
    }
    if (a == "--") {
      onlyPositional = true;
      continue;
    }
    std::string name = a.substr(2), value;
    size_t eq = name.find('=');
    bool hasValue = eq != std::string::npos;
    if (hasValue) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const FlagSpec *spec = find(name);
    if (!spec) {
      std::vector<std::string> names;
      for (const FlagSpec &s : specs)
        names.push_back(s.name);
      std::string msg = "nnc: error: unknown option '--" + name + "'";
      std::string near = closestMatch(name, names);
      if (!near.empty())
        msg += "; did you mean '--" + near + "'?";
      throw UserError(msg);
    }
    if (spec->value.empty()) {
      if (hasValue)
        throw UserError("nnc: error: option '--" + name +
                        "' takes no value");
      flags.emplace(name, "");
      continue;
    }
    if (!hasValue)
      value = nextValue(argv, i, a, name, spec->value);
    flags.emplace(name, value);
  }
}

bool Args::has(const std::string &name) const { return flags.count(name) > 0; }

std::optional<std::string> Args::get(const std::string &name) const {
  auto range = flags.equal_range(name);
  if (range.first == range.second)
    return std::nullopt;
  return std::prev(range.second)->second; // the last one wins
}

std::vector<std::string> Args::getAll(const std::string &name) const {
  std::vector<std::string> out;
  auto range = flags.equal_range(name);
  for (auto it = range.first; it != range.second; ++it)
    out.push_back(it->second);
  return out;
}

std::optional<int64_t> Args::getInt(const std::string &name) const {
  std::optional<std::string> v = get(name);
  if (!v)
    return std::nullopt;
  errno = 0;
  char *end = nullptr;
  long long n = std::strtoll(v->c_str(), &end, 10);
  if (!v->empty() && *end == '\0' && errno == ERANGE)
    throw UserError("nnc: error: invalid value '" + *v + "' for --" + name +
                    ": out of range (an integer from " +
                    std::to_string(std::numeric_limits<long long>::min()) +
                    " to " +
                    std::to_string(std::numeric_limits<long long>::max()) +
                    ")");
  if (v->empty() || *end != '\0' || errno == ERANGE)
    throw UserError("nnc: error: invalid value '" + *v + "' for --" + name +
                    ": expected an integer");
  return n;
}

std::optional<double> Args::getDouble(const std::string &name) const {
  std::optional<std::string> v = get(name);
  if (!v)
    return std::nullopt;
  errno = 0;
  char *end = nullptr;
  double d = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0' || errno == ERANGE || d != d)
    throw UserError("nnc: error: invalid value '" + *v + "' for --" + name +
                    ": expected a number");
  return d;
}

std::string formatFlags(const std::vector<FlagSpec> &specs) {
  std::string out;
  for (const FlagSpec &s : specs) {
    std::string left = std::string(s.shortName ? "  -" : "  ") +
                       (s.shortName ? std::string(1, s.shortName) + ", " : "") +
                       "--" + s.name + (s.value.empty() ? "" : " " + s.value);
    if (left.size() < 26)
      left.resize(26, ' ');
    else
      left += "  ";
    out += left + s.help + "\n";
  }
  return out;
}

} // namespace nn

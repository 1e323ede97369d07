//===- Args.h - Command-line flags of the driver ---------------*- C++ -*-===//
///
/// \file
/// A small flag parser: `--name=value`, `--name value`, boolean `--name`,
/// short aliases (`-o FILE`, `-v`) where a flag declares one, positional
/// arguments. Every command declares its flags; an unknown flag
/// is a user error with a "did you mean" suggestion.
///
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nn {

/// One flag a command accepts.
struct FlagSpec {
  std::string name;  // without the dashes: "epochs"
  std::string value; // "" for a boolean flag, else a placeholder: "N"
  std::string help;
  char shortName = 0; // 'o' accepts "-o FILE" for "--output FILE"
};

class Args {
public:
  /// Parses `argv` against `specs`; throws UserError on an unknown flag, a
  /// missing value or a value given to a boolean flag.
  Args(const std::vector<std::string> &argv, const std::vector<FlagSpec> &specs);

  const std::vector<std::string> &positional() const { return pos; }
  bool has(const std::string &name) const;
  std::optional<std::string> get(const std::string &name) const;
  /// Values of a flag given several times, in order.
  std::vector<std::string> getAll(const std::string &name) const;
  /// Typed getters: throw UserError "invalid value 'x' for --epochs: expected
  /// an integer" when the text does not parse.
  std::optional<int64_t> getInt(const std::string &name) const;
  std::optional<double> getDouble(const std::string &name) const;

private:
  std::vector<std::string> pos;
  std::multimap<std::string, std::string> flags;
};

/// "  --epochs N     epochs to train\n..." for --help.
std::string formatFlags(const std::vector<FlagSpec> &specs);

} // namespace nn

//===- KernelNames.cpp - Stable names of generated kernels ----------------===//

#include "ir/KernelNames.h"

#include <cctype>
#include <unordered_map>
#include <unordered_set>

namespace nn {

std::string cIdentifier(const std::string &s) {
  std::string r;
  for (char c : s)
    r += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return r;
}

namespace {

bool startsWith(const std::string &s, const std::string &prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The binding each node's kernel is named after (see the header): its
/// own, its output's, its first user's, its first operand's, or "".
std::vector<std::string> bindings(const Graph &g) {
  std::vector<std::string> base(g.nodes.size());
  for (NodeId id = 0; id < g.size(); ++id)
    base[id] = cIdentifier(g[id].name);
  for (const Output &o : g.outputs)
    if (base[o.node].empty())
      base[o.node] = cIdentifier(o.name);
  // Users come after their operands. From the back, a user's binding is
  // final when it is read, and the earliest user is the last to write.
  std::vector<bool> fromUser(g.nodes.size());
  for (NodeId id = 0; id < g.size(); ++id)
    fromUser[id] = base[id].empty();
  for (NodeId id = g.size(); id-- > 0;)
    for (NodeId in : g[id].inputs)
      if (fromUser[in] && !base[id].empty())
        base[in] = base[id];
  for (NodeId id = 0; id < g.size(); ++id)
    for (size_t i = 0; base[id].empty() && i < g[id].inputs.size(); ++i)
      base[id] = base[g[id].inputs[i]];
  return base;
}

/// Whether `name` could be taken for a name a backend makes itself.
bool reserved(const std::string &name, const std::string &entry) {
  return !std::isalpha(static_cast<unsigned char>(name[0])) ||
         startsWith(name, entry) || startsWith(name, "task_") ||
         startsWith(name, "nnc_") || startsWith(name, "nn_") ||
         startsWith(name, "const");
}

/// The name of a kernel of op `mnemonic` on `binding`, before duplicates
/// are counted.
std::string candidate(const std::string &binding, const char *mnemonic,
                      const std::string &entry) {
  std::string op = cIdentifier(mnemonic);
  std::string name = binding.empty() ? "k" : binding;
  // Not repeated after a binding that ends in it, never bare ("exp" is
  // libm's and CUDA's).
  if (!endsWith(name, "_" + op))
    name += "_" + op;
  return reserved(name, entry) ? "k_" + name : name;
}

} // namespace

std::vector<std::string> kernelNames(const Graph &g) {
  std::vector<std::string> base = bindings(g);
  std::string entry = cIdentifier(g.name) + "_step";
  // Nodes named in the source (or outputs) claim their names before the
  // nodes that borrow one, so "l2_mul" is the node named l2, not a piece of
  // it that comes first.
  std::vector<bool> own(g.nodes.size());
  for (NodeId id = 0; id < g.size(); ++id)
    own[id] = !g[id].name.empty();
  for (const Output &o : g.outputs)
    own[o.node] = true;
  std::vector<std::string> names(g.nodes.size());
  std::unordered_map<std::string, int> count; // the last suffix given
  std::unordered_set<std::string> used;
  for (bool owners : {true, false})
    for (NodeId id = 0; id < g.size(); ++id) {
      if (own[id] != owners)
        continue;
      std::string name = candidate(base[id], mnemonic(g[id].op), entry);
      int &n = count[name];
      std::string unique = n == 0 ? name : name + "_" + std::to_string(n + 1);
      for (++n; !used.insert(unique).second; ++n)
        unique = name + "_" + std::to_string(n + 1);
      names[id] = unique;
    }
  return names;
}

} // namespace nn

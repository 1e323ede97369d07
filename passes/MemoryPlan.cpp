//===- MemoryPlan.cpp - One arena for every intermediate ------------------===//
///
/// \file
/// Algorithm: number the steps by the topological order; a value is live
/// from its definition to its last use, both included (outputs and update
/// values to step g.size()). Walk the steps in order; at step i first return
/// to a free list the blocks of values whose last use was before i (merging
/// neighbours), then place node i's buffer, rounded up to kArenaAlign, in the
/// smallest free block that fits (lowest offset on ties), else in a free
/// block that ends at the top of the arena (growing it), else at the top.
///
//===----------------------------------------------------------------------===//

#include "passes/MemoryPlan.h"
#include "ir/Format.h"
#include "ir/Printer.h"
#include "ir/Support.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <sstream>

namespace nn {

std::vector<LiveRange> liveRanges(const Graph &g) {
  std::vector<LiveRange> r(g.nodes.size());
  for (NodeId i = 0; i < g.size(); ++i) {
    r[i] = {i, i};
    for (NodeId in : g[i].inputs) {
      NN_ASSERT(in >= 0 && in < i, "operand after its user");
      r[in].last = std::max(r[in].last, i);
    }
  }
  for (const Output &o : g.outputs)
    r[o.node].last = g.size();
  for (const Update &u : g.updates)
    r[u.value].last = g.size();
  return r;
}

bool inArena(const Graph &g, NodeId id) { return !hasTrait(g[id].op, kLeaf); }

namespace {

int64_t alignUp(int64_t v) {
  return (v + kArenaAlign - 1) / kArenaAlign * kArenaAlign;
}

/// Free blocks of the arena by offset, and its high-water mark.
class Arena {
public:
  int64_t allocate(int64_t size) {
    auto best = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it)
      if (it->second >= size &&
          (best == free_.end() || it->second < best->second))
        best = it;
    if (best != free_.end()) {
      int64_t off = best->first, left = best->second - size;
      free_.erase(best);
      if (left > 0)
        free_[off + size] = left;
      return off;
    }
    // Nothing fits: grow the top block if it is free, else start at the top.
    int64_t off = top_;
    if (!free_.empty()) {
      auto last = std::prev(free_.end());
      if (last->first + last->second == top_) {
        off = last->first;
        free_.erase(last);
      }
    }
    top_ = off + size;
    return off;
  }

  void release(int64_t off, int64_t size) {
    auto next = free_.lower_bound(off);
    if (next != free_.end() && off + size == next->first) {
      size += next->second;
      next = free_.erase(next);
    }
    if (next != free_.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second == off) {
        prev->second += size;
        return;
      }
    }
    free_[off] = size;
  }

  int64_t top() const { return top_; }

private:
  std::map<int64_t, int64_t> free_;
  int64_t top_ = 0;
};

} // namespace

MemoryPlan planMemory(const Graph &g, int64_t maxBatch) {
  NN_ASSERT(maxBatch >= 1, "planMemory needs a batch size of at least 1");
  MemoryPlan plan;
  plan.maxBatch = maxBatch;
  plan.offset.assign(g.nodes.size(), -1);
  plan.bytes.assign(g.nodes.size(), 0);
  std::vector<LiveRange> live = liveRanges(g);

  // Values to release, by the step after their last use.
  std::vector<std::vector<NodeId>> dies(g.nodes.size() + 1);
  Arena arena;
  for (NodeId i = 0; i < g.size(); ++i) {
    for (NodeId d : dies[i])
      arena.release(plan.offset[d],
                    alignUp(std::max<int64_t>(plan.bytes[d], 1)));
    if (!inArena(g, i))
      continue;
    const TensorType &t = g[i].type;
    NN_ASSERT(t.known, "planMemory needs known types");
    plan.bytes[i] = t.numel(maxBatch) * 4; // f32 and i32 alike
    plan.offset[i] =
        arena.allocate(alignUp(std::max<int64_t>(plan.bytes[i], 1)));
    if (live[i].last < g.size())
      dies[live[i].last + 1].push_back(i);
  }
  plan.arenaBytes = alignUp(arena.top());
  return plan;
}

namespace {

const char *whereLeafLives(OpKind op) {
  return op == OpKind::Const ? "inlined" : "bound by the executor";
}

} // namespace

std::string printMemoryPlan(const Graph &g, const MemoryPlan &plan) {
  std::vector<LiveRange> live = liveRanges(g);
  std::vector<std::string> labels;
  size_t width = 0;
  NodePrinter printer(g);
  for (NodeId i = 0; i < g.size(); ++i) {
    labels.push_back("%" + printer.label(i));
    width = std::max(width, labels.back().size());
  }
  int64_t total = 0, buffers = 0;
  std::ostringstream os;
  os << "memplan " << g.name << " (max batch " << plan.maxBatch << "): arena "
     << withCommas(static_cast<double>(plan.arenaBytes)) << " bytes\n";
  for (NodeId i = 0; i < g.size(); ++i) {
    const Node &n = g[i];
    os << "  " << padRight(labels[i], width) << "  ";
    std::string range =
        "[" + std::to_string(live[i].first) + ", " +
        (live[i].last == g.size() ? std::string("end")
                                  : std::to_string(live[i].last)) +
        "]";
    if (plan.offset[i] < 0) {
      os << padRight(std::string("-"), 11) << "  " << padRight("", 11) << "  "
         << padRight(range, 12) << "  " << n.type.str() << "  ("
         << mnemonic(n.op) << ", " << whereLeafLives(n.op) << ")\n";
      continue;
    }
    total += plan.bytes[i];
    ++buffers;
    os << padRight("@" + std::to_string(plan.offset[i]), 11) << "  "
       << padRight(std::to_string(plan.bytes[i]) + " B", 11) << "  "
       << padRight(range, 12) << "  " << n.type.str() << "  (" << mnemonic(n.op)
       << ")\n";
  }
  os << buffers << " buffers, " << withCommas(static_cast<double>(total))
     << " bytes in all; the arena is "
     << withCommas(static_cast<double>(plan.arenaBytes)) << " bytes";
  if (total > 0)
    os << " (" << (100 * plan.arenaBytes + total / 2) / total << "% of all)";
  os << "\n";
  return os.str();
}

} // namespace nn

//===- KernelReuse.h - One function for identical kernels ------*- C++ -*-===//
///
/// \file
/// A deep stack of equal layers asks for the same kernels again and again
/// (the same op on the same shapes): a 200-layer stack of width-3 dense
/// layers made 200 copies of each, and LLVM optimized every copy. Kernels
/// take their buffers as arguments, so one function serves every node whose
/// kernel has the same instructions. Private to codegen/cpu.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "llvm/IR/Function.h"

#include <string>
#include <unordered_map>

namespace nn::cpu {

/// Algorithm: a kernel's key is its signature, its split attribute and its
/// instructions printed in order (operand names, constants and callees
/// included; the "nnc-node"/"nnc-loc" notes left out). A kernel whose key
/// was seen before is erased and the earlier function returned: the two are
/// the same code, so every caller may call either. Cost: one printing of
/// each kernel, against an O2 run of each copy saved.
class KernelReuse {
public:
  /// `k`, or the earlier kernel with the same instructions (then `k` is
  /// erased from its module). `k` must not be called yet.
  llvm::Function *reuse(llvm::Function *k);
  /// Kernels erased as copies so far.
  int reused() const { return copies; }

private:
  std::unordered_map<std::string, llvm::Function *> seen;
  int copies = 0;
};

} // namespace nn::cpu

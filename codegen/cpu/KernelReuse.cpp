//===- KernelReuse.cpp - One function for identical kernels ---------------===//

#include "codegen/cpu/KernelReuse.h"
#include "codegen/cpu/Emit.h"

#include "llvm/IR/Instructions.h"
#include "llvm/IR/ModuleSlotTracker.h"
#include "llvm/Support/raw_ostream.h"

namespace nn::cpu {

namespace {

/// The kernel's code as text, without its name and notes.
std::string keyOf(llvm::Function &k) {
  std::string key;
  llvm::raw_string_ostream os(key);
  k.getFunctionType()->print(os);
  os << (k.hasFnAttribute(kSplitAttr) ? " split\n" : "\n");
  for (unsigned a = 0; a < k.arg_size(); ++a)
    os << k.getAttributes().getParamAttrs(a).getAsString() << ";";
  os << "\n";
  // Numbers this function only (all of the module's metadata would make
  // every key cost as much as the whole module so far).
  llvm::ModuleSlotTracker slots(k.getParent(), /*ShouldInitializeAllMetadata=*/false);
  slots.incorporateFunction(k);
  for (llvm::BasicBlock &bb : k) {
    bb.printAsOperand(os, false, slots);
    os << ":\n";
    for (llvm::Instruction &i : bb) {
      i.print(os, slots);
      os << "\n";
    }
  }
  return key;
}

} // namespace

llvm::Function *KernelReuse::reuse(llvm::Function *k) {
  auto [it, fresh] = seen.try_emplace(keyOf(*k), k);
  if (fresh)
    return k;
  k->eraseFromParent();
  ++copies;
  return it->second;
}

} // namespace nn::cpu

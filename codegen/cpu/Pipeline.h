//===- Pipeline.h - LLVM's optimizer, tiered by kernel ---------*- C++ -*-===//
///
/// \file
/// The optimization pipeline of the CPU backend (CpuBackend.cpp). At -O2
/// and -O3 only the kernels where the full pipeline pays get all of it: the
/// GEMM micro-kernels. Every other function (the products' drivers with
/// their packing and edge loops, elementwise, reduction, rows and update
/// kernels, the entry point and its tasks) gets a short subset: the same
/// run of LLVM's pipeline with the expensive optional passes skipped for it
/// (unrolling, induction-variable rewriting, GVN, jump threading, ...),
/// keeping what its loops need to be vectorized. The results are the same
/// bits (no pass here reorders floating-point arithmetic). Private to
/// codegen/cpu.
///
//===----------------------------------------------------------------------===//
#pragma once

#include "llvm/IR/Module.h"
#include "llvm/Target/TargetMachine.h"

namespace nn::cpu {

/// Whether `f` gets the full pipeline: a GEMM micro-kernel (named
/// nnc_gemm*).
bool fullPipeline(const llvm::Function &f);

/// Optimizes `m` at -O`level` (0: nothing; 1, 2, 3: LLVM's default module
/// pipeline). With `tiered` (and level >= 2) the functions that do not get
/// fullPipeline() skip the expensive optional passes.
void optimizeModule(llvm::Module &m, llvm::TargetMachine &tm, int level,
                    bool tiered);

} // namespace nn::cpu

//===- AvailabilityTest.cpp - Whether this build has the CPU backend ------===//
///
/// \file
/// The CPU backend tests need LLVM 19; without it this binary says so (a
/// skipped test) instead of passing silently with nothing run.
///
//===----------------------------------------------------------------------===//

#include "runtime/Executor.h"

#include <gtest/gtest.h>

#include <algorithm>

TEST(CpuBackend, IsBuilt) {
  std::vector<std::string> names = nn::backendNames();
  bool cpu = std::find(names.begin(), names.end(), "cpu") != names.end();
#ifdef NNC_HAVE_CPU_BACKEND
  EXPECT_TRUE(cpu);
#else
  EXPECT_FALSE(cpu);
  GTEST_SKIP() << "the CPU backend is not built (LLVM 19 not found at "
                  "configure time): its tests are skipped";
#endif
}

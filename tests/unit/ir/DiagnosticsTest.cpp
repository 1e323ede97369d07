//===- DiagnosticsTest.cpp ------------------------------------------------===//

#include "ir/Diagnostics.h"

#include <gtest/gtest.h>

using namespace nn;

TEST(Diagnostics, RendersClangStyleWithCaret) {
  DiagEngine diags;
  diags.addSource("m.nn", "input x : f32[2]\nfc1 = dense(x, 4, rellu)\n");
  diags.error({"m.nn", 2, 19, 5}, "unknown activation 'rellu'");
  diags.help({}, "did you mean 'relu'?");
  EXPECT_EQ(diags.str(), "m.nn:2:19: error: unknown activation 'rellu'\n"
                         "  fc1 = dense(x, 4, rellu)\n"
                         "                    ^~~~~\n"
                         "help: did you mean 'relu'?\n"
                         "1 error generated.\n");
}

TEST(Diagnostics, CapsErrors) {
  DiagEngine diags;
  diags.maxErrors = 2;
  for (int i = 0; i < 5; ++i)
    diags.error({"f", i + 1, 1, 1}, "bad");
  EXPECT_EQ(diags.errorCount(), 5);
  EXPECT_EQ(diags.diagnostics().size(), 2u);
}

TEST(Diagnostics, ClosestMatch) {
  EXPECT_EQ(closestMatch("rellu", {"relu", "sigmoid", "tanh"}), "relu");
  EXPECT_EQ(closestMatch("banana", {"relu", "sigmoid", "tanh"}), "");
}

TEST(Diagnostics, ClosestMatchCountsASwapAsOneEdit) {
  EXPECT_EQ(closestMatch("trian", {"check", "train", "eval"}), "train");
  EXPECT_EQ(closestMatch("sigmiod", {"sigmoid", "relu"}), "sigmoid");
}

//===- ProgressNoticeTest.cpp - "compiling... 3.2s" on a terminal ---------===//
///
/// \file
/// The notice a slow compile shows: nothing when the work ends before the
/// delay, else the message with its clock, erased at the end; and a
/// NodePrinter (how the backends print the nodes of a large graph) prints
/// every node as printNode does.
///
//===----------------------------------------------------------------------===//

#include "ir/Printer.h"
#include "runtime/ProgressNotice.h"

#include "frontend/Frontend.h"
#include "ir/Diagnostics.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

using namespace nn;

TEST(ProgressNotice, SilentWhenTheWorkEndsBeforeTheDelay) {
  std::ostringstream os;
  { ProgressNotice n(&os, "compiling m for cpu", 10); }
  EXPECT_EQ(os.str(), "");
}

TEST(ProgressNotice, ShowsTheClockAfterTheDelayAndErasesItself) {
  std::ostringstream os;
  {
    ProgressNotice n(&os, "compiling m for cpu", 0.05);
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  }
  std::string s = os.str();
  EXPECT_NE(s.find("\rcompiling m for cpu... "), std::string::npos) << s;
  EXPECT_NE(s.find("s\x1b[K\r"), std::string::npos) << "a clock: " << s;
  EXPECT_EQ(s.substr(s.size() - 4), "\r\x1b[K") << "erased at the end";
}

TEST(ProgressNotice, NoStreamNoThread) {
  ProgressNotice n(nullptr, "compiling", 0);
  SUCCEED();
}

TEST(NodePrinter, PrintsEveryNodeAsPrintNode) {
  std::string path = std::string(NNC_SOURCE_DIR) + "/examples/mnist_mlp.nn";
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  DiagEngine diags;
  diags.addSource(path, text.str());
  std::optional<Model> m = parseModel(path, text.str(), diags);
  ASSERT_TRUE(m) << diags.str();
  for (bool loc : {true, false}) {
    PrintOptions po{loc};
    NodePrinter printer(m->graph, po);
    for (NodeId id = 0; id < m->graph.size(); ++id)
      EXPECT_EQ(printer(id), printNode(m->graph, id, po));
  }
}

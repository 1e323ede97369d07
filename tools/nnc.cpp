//===- nnc.cpp - The nnc driver -------------------------------------------===//
///
/// \file
/// `nnc <command> model.nn [options]`. Parses the command line, runs the
/// command, and maps failures to exit codes: 0 ok, 1 an error in the input
/// or the flags, 2 no command (usage printed), 3 an internal error.
///
//===----------------------------------------------------------------------===//

#include "ir/Diagnostics.h"
#include "ir/Support.h"
#include "runtime/Distributed.h"
#include "runtime/Signals.h"
#include "tools/Driver.h"
#include "tools/RankOutput.h"

#ifdef NNC_HAVE_CPU_BACKEND
#include "codegen/cpu/ThreadPool.h"
#endif

#include <csignal>
#include <iostream>

#ifdef __GLIBC__
#include <malloc.h>
#endif

using namespace nn;

namespace {

const std::vector<const Command *> &commands() {
  static const std::vector<const Command *> all = {
      &checkCommand(),   &emitCommand(), &summaryCommand(),
      &trainCommand(),   &evalCommand(), &predictCommand(),
      &gradcheckCommand(), &compileCommand(), &explainCommand(),
      &graphCommand(), &reportCommand(), &exportCommand(),
      &importCommand(), &dataCommand(), &playCommand()
#ifdef NNC_HAVE_CPU_BACKEND
      , &benchCommand()
#endif
  };
  return all;
}

void printUsage(std::ostream &os) {
  os << "usage: nnc <command> model.nn [options]\n\ncommands:\n";
  for (const Command *c : commands()) {
    std::string name = c->name;
    name.resize(12, ' ');
    os << "  " << name << c->summary << "\n";
  }
  os << "\n'nnc <command> --help' lists a command's options.\n";
}

int runCommand(const Command &cmd, const std::vector<std::string> &rest) {
  std::vector<FlagSpec> flags = cmd.flags;
  flags.push_back({"help", "", "show this help"});
  Args args(rest, flags);
  int rc = 0;
  if (args.has("help"))
    std::cout << "usage: nnc " << cmd.name << " " << cmd.usage << "\n\n"
              << cmd.summary << "\n\noptions:\n"
              << formatFlags(flags);
  else
    rc = cmd.run(args);
  checkStdout(); // what a command printed must have been written
  return rc;
}

} // namespace

static int runNnc(int argc, char **argv) {
#ifdef __GLIBC__
  // Training allocates and frees batch-sized buffers (a few hundred KB)
  // every step: keep them in the heap, not in fresh mmapped pages that the
  // kernel must zero each time (page faults were 7% of an epoch).
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
  // Past a file size limit (ulimit -f), a write fails with EFBIG and is
  // reported like a full disk, instead of the process dying of SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  checkStdoutWrites();
  std::vector<std::string> argList(argv + 1, argv + argc);
  if (argList.empty()) {
    printUsage(std::cerr);
    return 2;
  }
  const std::string &name = argList[0];
  try {
    if (name == "--help" || name == "-h" || name == "help") {
      printUsage(std::cout);
      checkStdout();
      return 0;
    }
#ifdef NNC_HAVE_CPU_BACKEND
    checkThreadsEnvironment(); // as --threads is checked: not ignored
#endif
    for (const Command *c : commands())
      if (name == c->name)
        return runCommand(*c, {argList.begin() + 1, argList.end()});
    std::vector<std::string> names;
    for (const Command *c : commands())
      names.push_back(c->name);
    std::string near = closestMatch(name, names);
    std::cerr << "nnc: error: unknown command '" << name << "'"
              << (near.empty() ? "" : "; did you mean '" + near + "'?")
              << "\n";
    printUsage(std::cerr);
    return 1;
  } catch (const DiagnosedError &) {
    return 1;
  } catch (const UserError &e) {
    std::cerr << e.what() << "\n";
    return 1;
  } catch (const InternalError &e) {
    std::cerr << "nnc: internal error: " << e.what()
              << "\nplease report this bug with the model that caused it\n";
    return 3;
  } catch (const std::bad_alloc &) {
    std::cerr << "nnc: error: out of memory\n";
    return 1;
  } catch (const std::exception &e) {
    std::cerr << "nnc: internal error: " << e.what() << "\n";
    return 3;
  }
}

int main(int argc, char **argv) {
  if (nn::launcherRank() > 0)
    nn::holdRankOutput(); // one message when every rank fails alike
  int rc = runNnc(argc, argv);
  // A data-parallel run (runtime/Distributed.h): every rank ends together
  // (0, or 130 after the interrupt they agreed on); a rank that fails ends
  // the whole job, so that the others do not wait for it.
  bool failed = rc != 0 && rc != nn::kExitInterrupted;
  nn::releaseRankOutput(failed);
  if (nn::distributed() && failed)
    nn::abortWorld(rc);
  nn::endWorld();
  return rc;
}

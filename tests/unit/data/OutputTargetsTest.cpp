//===- OutputTargetsTest.cpp - What an output path may lead to ------------===//
///
/// \file
/// writeFileAtomic never replaces what is not a regular file: a symbolic
/// link is written through to its target (in the target's directory), a
/// device or a pipe is written in place, a directory or a socket is refused;
/// no temp file is left. checkOutputPaths finds, before any work, an output
/// that cannot be written or that is an input or another output.
///
//===----------------------------------------------------------------------===//
#include "DataTestUtil.h"

#include "runtime/AtomicFile.h"
#include "runtime/OutputPaths.h"

#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

using namespace nn;
using namespace nn::testing;

namespace {

mode_t typeOf(const std::string &path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0)
    return 0;
  return st.st_mode & S_IFMT;
}

std::vector<std::string> listOf(const std::string &dir) {
  std::vector<std::string> out;
  for (const auto &e : std::filesystem::directory_iterator(dir))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

/// Makes a character device node like /dev/null (1,3) or /dev/full (1,7);
/// false where the test may not (no CAP_MKNOD, a nodev mount).
bool makeCharDevice(const std::string &path, unsigned minor) {
  if (::mknod(path.c_str(), S_IFCHR | 0666, makedev(1, minor)) != 0)
    return false;
  int fd = ::open(path.c_str(), O_WRONLY);
  if (fd < 0) {
    ::unlink(path.c_str());
    return false;
  }
  ::close(fd);
  return true;
}

} // namespace

TEST(OutputTargets, SymlinkIsWrittenThroughToItsTarget) {
  ScratchDir dir;
  std::filesystem::create_directory(dir.path("real"));
  writeBytes(dir.path("real/target.st"), "old");
  ASSERT_EQ(::symlink("real/target.st", dir.path("link.st").c_str()), 0);
  writeFileAtomic(dir.path("link.st"), std::string_view("new"));
  EXPECT_EQ(typeOf(dir.path("link.st")), S_IFLNK);
  EXPECT_EQ(readBytes(dir.path("real/target.st")), "new");
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"link.st", "real"}));
  EXPECT_EQ(listOf(dir.path("real")), (std::vector<std::string>{"target.st"}));

  // A chain of links, the last one dangling: the final target is created.
  ASSERT_EQ(::symlink(dir.path("real/later.st").c_str(),
                      dir.path("b").c_str()),
            0);
  ASSERT_EQ(::symlink("b", dir.path("a").c_str()), 0);
  writeFileAtomic(dir.path("a"), std::string_view("x"));
  EXPECT_EQ(typeOf(dir.path("a")), S_IFLNK);
  EXPECT_EQ(typeOf(dir.path("b")), S_IFLNK);
  EXPECT_EQ(readBytes(dir.path("real/later.st")), "x");

  // A loop is an error, not a hang.
  ASSERT_EQ(::symlink("loop2", dir.path("loop1").c_str()), 0);
  ASSERT_EQ(::symlink("loop1", dir.path("loop2").c_str()), 0);
  EXPECT_USER_ERROR(writeFileAtomic(dir.path("loop1"), std::string_view("x")),
                    "Too many levels of symbolic links");
}

TEST(OutputTargets, CharacterDeviceIsWrittenInPlace) {
  ScratchDir dir;
  if (!makeCharDevice(dir.path("null"), 3) ||
      !makeCharDevice(dir.path("full"), 7))
    GTEST_SKIP() << "cannot make device nodes here (mknod needs root and a "
                    "mount without nodev)";
  writeFileAtomic(dir.path("null"), std::string_view("weights"));
  EXPECT_EQ(typeOf(dir.path("null")), S_IFCHR);
  // /dev/full: the write fails with ENOSPC, and the node stays a device.
  EXPECT_EQ(userErrorOf([&] {
              writeFileAtomic(dir.path("full"), std::string_view("weights"));
            }),
            dir.path("full") + ": error: cannot write file: No space left on "
                               "device");
  EXPECT_EQ(typeOf(dir.path("full")), S_IFCHR);
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"full", "null"}));
}

TEST(OutputTargets, PipeIsWrittenInPlace) {
  ScratchDir dir;
  std::string fifo = dir.path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] { got = readBytes(fifo); });
  writeFileAtomic(fifo, std::string_view("through the pipe"));
  reader.join();
  EXPECT_EQ(got, "through the pipe");
  EXPECT_EQ(typeOf(fifo), S_IFIFO);
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"fifo"}));
}

TEST(OutputTargets, DirectoryAndSocketAreRefused) {
  ScratchDir dir;
  std::filesystem::create_directory(dir.path("d"));
  EXPECT_EQ(userErrorOf([&] {
              writeFileAtomic(dir.path("d"), std::string_view("x"));
            }),
            dir.path("d") + ": error: cannot write file: it is a directory; "
                            "nnc writes regular files, character devices and "
                            "pipes");
  std::string sock = dir.path("s");
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(sock.size(), sizeof addr.sun_path);
  std::strcpy(addr.sun_path, sock.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
  EXPECT_USER_ERROR(writeFileAtomic(sock, std::string_view("x")),
                    "it is a socket");
  ::close(fd);
  EXPECT_EQ(typeOf(sock), S_IFSOCK);
  EXPECT_EQ(typeOf(dir.path("d")), S_IFDIR);
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"d", "s"}));
}

TEST(OutputTargets, ReplacementKeepsThePermissions) {
  ScratchDir dir;
  std::string p = dir.path("w.st");
  writeBytes(p, "old");
  ASSERT_EQ(::chmod(p.c_str(), 0640), 0);
  writeFileAtomic(p, std::string_view("new"));
  struct stat st;
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST(OutputPaths, AnOutputThatIsAnInputIsRefused) {
  ScratchDir dir;
  std::string model = dir.path("m.nn");
  writeBytes(model, "model");
  // Another spelling of the same file, and a hard link to it.
  std::string other = dir.dir + "/./m.nn";
  ASSERT_EQ(::link(model.c_str(), dir.path("hard.nn").c_str()), 0);
  EXPECT_EQ(userErrorOf([&] {
              checkOutputPaths({{"the model", model}},
                               {{"--output", other, "the object file"}});
            }),
            "nnc: error: --output and the model are the same file ('" + other +
                "' and '" + model + "')\nnnc: help: give --output another "
                                    "file name");
  EXPECT_USER_ERROR(checkOutputPaths({{"--init", model}},
                                     {{"--save", dir.path("hard.nn")}}),
                    "--save and --init are the same file");
  // Two outputs onto one file that does not exist yet.
  EXPECT_USER_ERROR(checkOutputPaths({}, {{"--metrics", dir.path("o.x")},
                                          {"--plot", dir.path("o.x")}}),
                    "--plot and --metrics are the same file");
  // The allowed pair: a checkpoint written where --resume read it.
  checkOutputPaths({{"--resume", model}}, {{"--checkpoint", model}},
                   {{"--checkpoint", "--resume"}});
  EXPECT_USER_ERROR(checkOutputPaths({{"--resume", model}},
                                     {{"--save", model}},
                                     {{"--checkpoint", "--resume"}}),
                    "--save and --resume are the same file");
  // Devices written in place may take several outputs.
  checkOutputPaths({}, {{"--metrics", "/dev/null"}, {"--plot", "/dev/null"}});
  EXPECT_EQ(readBytes(model), "model");
}

TEST(OutputPaths, DirectoriesAreCheckedUpFront) {
  ScratchDir dir;
  EXPECT_EQ(userErrorOf([&] {
              checkOutputPaths({}, {{"--plot", dir.path("nodir/c.svg"),
                                     "the plot"}});
            }),
            dir.path("nodir/c.svg") + ": error: cannot write the plot "
                                      "(--plot): no such directory '" +
                dir.path("nodir") + "'");
  writeBytes(dir.path("file"), "");
  EXPECT_USER_ERROR(
      checkOutputPaths({}, {{"--save", dir.path("file/w.st"), "the weights"}}),
      "cannot write the weights (--save): '" + dir.path("file") +
          "' is not a directory");
  EXPECT_USER_ERROR(
      checkOutputPaths({}, {{"--save", dir.dir, "the weights"}}),
      "cannot write the weights (--save): it is a directory");
  EXPECT_TRUE(dir.list() == std::vector<std::string>{"file"});
}

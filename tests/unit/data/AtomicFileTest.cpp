//===- AtomicFileTest.cpp - Atomic file replacement tests -----------------===//
///
/// \file
/// The new contents appear whole, failures leave the old file and no temp
/// file behind, and errors name the path.
///
//===----------------------------------------------------------------------===//
#include "DataTestUtil.h"

#include "runtime/AtomicFile.h"

#include <sys/stat.h>
#include <system_error>

using namespace nn;
using namespace nn::testing;

TEST(AtomicFile, CreatesAndReplaces) {
  ScratchDir dir;
  std::string p = dir.path("out.bin");
  writeFileAtomic(p, std::string_view("first"));
  EXPECT_EQ(readBytes(p), "first");
  writeFileAtomic(p, std::string_view("second, longer"));
  EXPECT_EQ(readBytes(p), "second, longer");
  writeFileAtomic(p, std::string_view(""));
  EXPECT_EQ(readBytes(p), "");
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"out.bin"}));
}

TEST(AtomicFile, RelativePathInCurrentDirectory) {
  ScratchDir dir;
  std::filesystem::path old = std::filesystem::current_path();
  std::filesystem::current_path(dir.dir);
  writeFileAtomic("rel.txt", std::string_view("x"));
  std::filesystem::current_path(old);
  EXPECT_EQ(readBytes(dir.path("rel.txt")), "x");
}

TEST(AtomicFile, FailingWriterKeepsOldFile) {
  ScratchDir dir;
  std::string p = dir.path("keep.bin");
  writeFileAtomic(p, std::string_view("old contents"));
  EXPECT_EQ(userErrorOf([&] {
              writeFileAtomic(p, [](std::FILE *f) {
                writeAll(f, "partial", 7);
                throw std::system_error(ENOSPC, std::generic_category());
              });
            }),
            p + ": error: cannot write file: No space left on device");
  EXPECT_EQ(readBytes(p), "old contents");
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"keep.bin"}));

  // A UserError from the writer passes through unchanged.
  EXPECT_EQ(userErrorOf([&] {
              writeFileAtomic(
                  p, [](std::FILE *) { throw UserError("w: error: custom"); });
            }),
            "w: error: custom");
  // Any other exception is reported with the path.
  EXPECT_EQ(userErrorOf([&] {
              writeFileAtomic(
                  p, [](std::FILE *) { throw std::runtime_error("boom"); });
            }),
            p + ": error: cannot write file: boom");
  EXPECT_EQ(readBytes(p), "old contents");
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"keep.bin"}));
}

TEST(AtomicFile, NewFileNotCreatedOnFailure) {
  ScratchDir dir;
  std::string p = dir.path("new.bin");
  EXPECT_NE(userErrorOf([&] {
              writeFileAtomic(p, [](std::FILE *) {
                throw std::system_error(EIO, std::generic_category());
              });
            }),
            "<no error>");
  EXPECT_TRUE(dir.list().empty());
}

TEST(AtomicFile, RealDeviceFull) {
  // /dev/full fails every write with ENOSPC: writeAll must report it as a
  // system_error, and the atomic writer turn that into a clean UserError.
  std::FILE *probe = std::fopen("/dev/full", "wb");
  if (!probe)
    GTEST_SKIP() << "/dev/full is not available";
  std::fclose(probe);
  ScratchDir dir;
  std::string p = dir.path("f.bin");
  writeFileAtomic(p, std::string_view("old"));
  std::string msg = userErrorOf([&] {
    writeFileAtomic(p, [](std::FILE *) {
      std::FILE *dev = std::fopen("/dev/full", "wb");
      std::setvbuf(dev, nullptr, _IONBF, 0);
      try {
        writeAll(dev, "abc", 3);
      } catch (...) {
        std::fclose(dev);
        throw;
      }
      std::fclose(dev);
    });
  });
  EXPECT_EQ(msg, p + ": error: cannot write file: No space left on device");
  EXPECT_EQ(readBytes(p), "old");
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"f.bin"}));
}

TEST(AtomicFile, Errors) {
  ScratchDir dir;
  EXPECT_USER_ERROR(writeFileAtomic("", std::string_view("x")),
                    "error: empty output file name");
  EXPECT_USER_ERROR(
      writeFileAtomic(dir.path("missing/x"), std::string_view("x")),
      dir.path("missing/x") + ": error: cannot create a temporary file in '" +
          dir.path("missing") + "': No such file or directory");
  std::filesystem::create_directory(dir.path("d"));
  EXPECT_USER_ERROR(writeFileAtomic(dir.path("d"), std::string_view("x")),
                    dir.path("d") + ": error: cannot write file: it is a "
                                    "directory");
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"d"}));
}

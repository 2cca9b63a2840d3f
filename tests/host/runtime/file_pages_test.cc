// DropCleanFilePages (runtime/file_pages.h): the pages of read-only file mappings leave the
// process's RSS, their contents stay what the file holds, and a mapping holding a private copy of
// a page keeps it.
#include "runtime/file_pages.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "runtime/proc_files.h"

namespace petit::host {
namespace {

using internal::IsCleanFileMapping;

constexpr size_t kFileBytes = 1 << 20;

// The "Rss:" of the mapping that starts at `address`, in KiB; -1 when there is none.
long MappingRssKb(const void* address) {
  char start[32];
  std::snprintf(start, sizeof start, "%lx-", reinterpret_cast<unsigned long>(address));
  const std::string smaps = ReadProcFile("/proc/self/smaps").value_or("");
  size_t at = smaps.find(std::string("\n") + start);
  if (at == std::string::npos && !smaps.starts_with(start)) return -1;
  at = smaps.find("\nRss:", at == std::string::npos ? 0 : at + 1);
  if (at == std::string::npos) return -1;
  const size_t digits = smaps.find_first_of("0123456789", at);
  long kb = -1;
  std::from_chars(smaps.data() + digits, smaps.data() + smaps.size(), kb);
  return kb;
}

class FilePagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ =
        std::filesystem::temp_directory_path() / ("petit-file-pages-" + std::to_string(getpid()));
    std::ofstream out(path_, std::ios::binary);
    for (size_t i = 0; i < kFileBytes; ++i) out.put(static_cast<char>('a' + i % 26));
    out.close();
    fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
    std::filesystem::remove(path_);
  }

  // Every byte of `mapping` read (volatile: the reads are what matters), and their sum.
  static uint64_t ReadAll(const volatile char* mapping) {
    uint64_t sum = 0;
    for (size_t i = 0; i < kFileBytes; ++i) sum += static_cast<unsigned char>(mapping[i]);
    return sum;
  }

  std::filesystem::path path_;
  int fd_ = -1;
};

TEST_F(FilePagesTest, AReadOnlyFileMappingLeavesTheRssAndReadsTheSameAfterwards) {
  void* mapped = mmap(nullptr, kFileBytes, PROT_READ, MAP_PRIVATE, fd_, 0);
  ASSERT_NE(mapped, MAP_FAILED);
  const auto* bytes = static_cast<const char*>(mapped);
  const uint64_t sum = ReadAll(bytes);
  ASSERT_GE(MappingRssKb(mapped), static_cast<long>(kFileBytes / 1024));

  EXPECT_GE(DropCleanFilePages(), kFileBytes);
  EXPECT_EQ(MappingRssKb(mapped), 0);
  EXPECT_EQ(ReadAll(bytes), sum);
  munmap(mapped, kFileBytes);
}

// A private mapping that was written, then made read-only (as the dynamic loader does to a
// library's relocated data), holds copies that differ from the file: dropping them would bring
// the file's bytes back.
TEST_F(FilePagesTest, AMappingWithAPrivateCopyIsKept) {
  void* mapped = mmap(nullptr, kFileBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd_, 0);
  ASSERT_NE(mapped, MAP_FAILED);
  auto* bytes = static_cast<char*>(mapped);
  ReadAll(bytes);
  bytes[4096] = 'Z';
  ASSERT_EQ(mprotect(mapped, kFileBytes, PROT_READ), 0);
  ASSERT_GE(MappingRssKb(mapped), static_cast<long>(kFileBytes / 1024));

  DropCleanFilePages();
  EXPECT_EQ(bytes[4096], 'Z');
  EXPECT_GE(MappingRssKb(mapped), static_cast<long>(kFileBytes / 1024));
  munmap(mapped, kFileBytes);
}

TEST_F(FilePagesTest, AWritableSharedMappingIsKept) {
  const int rw = open(path_.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(rw, 0);
  void* mapped = mmap(nullptr, kFileBytes, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
  close(rw);
  ASSERT_NE(mapped, MAP_FAILED);
  ReadAll(static_cast<const char*>(mapped));
  ASSERT_GE(MappingRssKb(mapped), static_cast<long>(kFileBytes / 1024));

  DropCleanFilePages();
  EXPECT_GE(MappingRssKb(mapped), static_cast<long>(kFileBytes / 1024));
  munmap(mapped, kFileBytes);
}

TEST(IsCleanFileMappingTest, ReadOnlyFileMappingsWithoutPrivateCopiesOnly) {
  const char* const code =
      "7f10a2a28000-7f10a2b7d000 r-xp 00028000 08:01 1311   /usr/lib/x86_64-linux-gnu/libc.so.6";
  EXPECT_TRUE(IsCleanFileMapping(code, 0));
  EXPECT_FALSE(IsCleanFileMapping(code, 4)) << "a private copy (a text relocation)";
  EXPECT_TRUE(IsCleanFileMapping(
      "7f10a2a00000-7f10a2a28000 r--p 00000000 08:01 1311   /usr/lib/libc.so.6", 0));
  EXPECT_TRUE(IsCleanFileMapping(
      "7f10a2a00000-7f10a2a28000 r--s 00000000 00:01 77   /memfd:x (deleted)", 0));
  EXPECT_FALSE(IsCleanFileMapping(
      "7f10a2bd5000-7f10a2bd7000 rw-p 001ac000 08:01 1311   /usr/lib/libc.so.6", 0));
  EXPECT_FALSE(
      IsCleanFileMapping("7f10a2bd5000-7f10a2bd7000 rw-s 00000000 08:01 99   /tmp/db-shm", 0));
  EXPECT_FALSE(IsCleanFileMapping(
      "7f10a2bd5000-7f10a2bd7000 ---p 001ac000 08:01 1311   /usr/lib/libc.so.6", 0));
  EXPECT_FALSE(IsCleanFileMapping("7ffd5c9f0000-7ffd5c9f4000 r--p 00000000 00:00 0   [vvar]", 0));
  EXPECT_FALSE(IsCleanFileMapping("55d4c2a00000-55d4c2a21000 r--p 00000000 00:00 0", 0));
  EXPECT_FALSE(IsCleanFileMapping("garbage", 0));
}

}  // namespace
}  // namespace petit::host

// DropCleanFilePages (runtime/file_pages.h): the pages of a loaded object's code leave the
// process's RSS and come back as they were, a mapping holding a private copy of a page keeps it,
// and files mapped by hand are left alone.
#include "runtime/file_pages.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "runtime/proc_files.h"

namespace petit::host {
namespace {

using internal::IsCleanFileMapping;

// A small library this test loads and never runs: once its pages are dropped nothing brings them
// back.
const std::string kFixture = std::string(PETIT_FIXTURE_PLUGIN_DIR) + "/extra/misbehaves.so";

// The value of `field` ("Rss", "Anonymous") of the mapping that holds `address`, in KiB; -1 when
// there is none.
long MappingFieldKb(const volatile void* address, std::string_view field) {
  const auto at = reinterpret_cast<uintptr_t>(address);
  const std::string smaps = ReadProcFile("/proc/self/smaps").value_or("");
  bool inside = false;
  size_t pos = 0;
  while (pos < smaps.size()) {
    size_t end = smaps.find('\n', pos);
    if (end == std::string::npos) end = smaps.size();
    const std::string_view line(smaps.data() + pos, end - pos);
    pos = end + 1;
    uintptr_t start = 0;
    uintptr_t stop = 0;
    auto [dash, error] = std::from_chars(line.data(), line.data() + line.size(), start, 16);
    if (error == std::errc() && dash != line.data() + line.size() && *dash == '-') {
      std::from_chars(dash + 1, line.data() + line.size(), stop, 16);
      inside = start <= at && at < stop;
    } else if (inside && line.starts_with(field) && line.size() > field.size() &&
               line[field.size()] == ':') {
      const size_t digits = line.find_first_of("0123456789");
      long kb = -1;
      std::from_chars(line.data() + digits, line.data() + line.size(), kb);
      return kb;
    }
  }
  return -1;
}

struct Segment {
  volatile char* start = nullptr;
  size_t size = 0;
};

// The loaded segment of the object loaded from `path` whose flags are exactly `flags` (PF_R,
// PF_R | PF_X, ...).
Segment SegmentOf(const std::string& path, uint32_t flags) {
  struct Search {
    const std::string& path;
    uint32_t flags;
    Segment found;
  } search{path, flags, {}};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto& wanted = *static_cast<Search*>(data);
        if (info->dlpi_name == nullptr || wanted.path != info->dlpi_name) return 0;
        for (size_t i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& segment = info->dlpi_phdr[i];
          if (segment.p_type == PT_LOAD && segment.p_flags == wanted.flags) {
            wanted.found = {reinterpret_cast<char*>(info->dlpi_addr + segment.p_vaddr),
                            segment.p_memsz};
            return 1;
          }
        }
        return 1;
      },
      &search);
  return search.found;
}

class DropCleanFilePagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    handle_ = dlopen(kFixture.c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << dlerror();
  }
  void TearDown() override {
    if (handle_ != nullptr) dlclose(handle_);
  }

  // Every page of `segment` read once; the sum of the bytes read.
  static uint64_t ReadAll(const Segment& segment) {
    uint64_t sum = 0;
    for (size_t i = 0; i < segment.size; i += 512)
      sum += static_cast<unsigned char>(segment.start[i]);
    return sum;
  }

  void* handle_ = nullptr;
};

TEST_F(DropCleanFilePagesTest, ALoadedObjectsCodeLeavesTheRss) {
  const Segment code = SegmentOf(kFixture, PF_R | PF_X);
  ASSERT_NE(code.start, nullptr);
  const uint64_t sum = ReadAll(code);
  ASSERT_GT(MappingFieldKb(code.start, "Rss"), 0);

  EXPECT_GT(DropCleanFilePages(), 0u);
  EXPECT_EQ(MappingFieldKb(code.start, "Rss"), 0);
  EXPECT_EQ(ReadAll(code), sum) << "the pages come back as they were";
}

// A page of an object's read-only part that was written (as a debugger does to code, or the
// dynamic loader to a text relocation) is a private copy that differs from the file: dropping it
// would bring the file's bytes back.
TEST_F(DropCleanFilePagesTest, APrivateCopyOfAPageIsKept) {
  // The first segment starts with the ELF header; byte 9 is padding of its identification.
  const Segment headers = SegmentOf(kFixture, PF_R);
  ASSERT_NE(headers.start, nullptr);
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* first = const_cast<char*>(headers.start);
  ASSERT_EQ(mprotect(first, page, PROT_READ | PROT_WRITE), 0);
  headers.start[9] = 'Z';
  ASSERT_EQ(mprotect(first, page, PROT_READ), 0);
  ASSERT_GT(MappingFieldKb(headers.start, "Anonymous"), 0);

  DropCleanFilePages();
  EXPECT_EQ(headers.start[9], 'Z');
  EXPECT_GT(MappingFieldKb(headers.start, "Anonymous"), 0);
}

TEST_F(DropCleanFilePagesTest, AFileMappedByHandIsLeftAlone) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("petit-file-pages-" + std::to_string(getpid()));
  constexpr size_t kBytes = 256 * 1024;
  std::ofstream(path, std::ios::binary) << std::string(kBytes, 'x');
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  void* mapped = mmap(nullptr, kBytes, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  std::filesystem::remove(path);
  ASSERT_NE(mapped, MAP_FAILED);
  const auto* bytes = static_cast<const volatile char*>(mapped);
  for (size_t i = 0; i < kBytes; i += 4096) ASSERT_EQ(bytes[i], 'x');
  const long before = MappingFieldKb(mapped, "Rss");
  ASSERT_EQ(before, static_cast<long>(kBytes / 1024));

  DropCleanFilePages();
  EXPECT_EQ(MappingFieldKb(mapped, "Rss"), before);
  munmap(mapped, kBytes);
}

TEST(IsCleanFileMappingTest, ReadOnlyFileMappingsWithoutPrivateCopiesOnly) {
  const char* const code =
      "7f10a2a28000-7f10a2b7d000 r-xp 00028000 08:01 1311   /usr/lib/x86_64-linux-gnu/libc.so.6";
  EXPECT_TRUE(IsCleanFileMapping(code, 0));
  EXPECT_FALSE(IsCleanFileMapping(code, 4)) << "a private copy (a text relocation)";
  EXPECT_TRUE(
      IsCleanFileMapping("7f10a2a00000-7f10a2a28000 r--p 00000000 08:01 1311   /lib/c.so", 0));
  EXPECT_FALSE(
      IsCleanFileMapping("7f10a2bd5000-7f10a2bd7000 rw-p 001ac000 08:01 1311   /lib/c.so", 0));
  EXPECT_FALSE(
      IsCleanFileMapping("7f10a2bd5000-7f10a2bd7000 rw-s 00000000 08:01 99   /tmp/db-shm", 0));
  EXPECT_FALSE(
      IsCleanFileMapping("7f10a2bd5000-7f10a2bd7000 ---p 001ac000 08:01 1311   /lib/c.so", 0));
  EXPECT_FALSE(IsCleanFileMapping("7ffd5c9f0000-7ffd5c9f4000 r--p 00000000 00:00 0   [vvar]", 0));
  EXPECT_FALSE(IsCleanFileMapping("55d4c2a00000-55d4c2a21000 r--p 00000000 00:00 0", 0));
  EXPECT_FALSE(IsCleanFileMapping("garbage", 0));
}

}  // namespace
}  // namespace petit::host

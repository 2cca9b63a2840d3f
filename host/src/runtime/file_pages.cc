#include "runtime/file_pages.h"

#include <sys/mman.h>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/proc_files.h"

namespace petit::host {
namespace internal {

bool IsCleanFileMapping(std::string_view header, size_t anonymous_kb) {
  if (anonymous_kb != 0) return false;
  // "START-END PERMS OFFSET DEV INODE   PATH"; the path is absolute for a file.
  const size_t perms = header.find(' ');
  if (perms == std::string_view::npos || header.size() < perms + 5) return false;
  if (header[perms + 1] != 'r' || header[perms + 2] == 'w') return false;
  const size_t path = header.find('/', perms);
  return path != std::string_view::npos;
}

}  // namespace internal

namespace {

struct Range {
  uintptr_t start = 0;
  uintptr_t end = 0;
  size_t resident_kb = 0;
};

size_t FieldKb(std::string_view line) {
  const size_t digits = line.find_first_of("0123456789");
  size_t value = 0;
  if (digits != std::string_view::npos) {
    std::from_chars(line.data() + digits, line.data() + line.size(), value);
  }
  return value;
}

std::optional<Range> Addresses(std::string_view header) {
  Range range;
  const char* const end = header.data() + header.size();
  auto [dash, error] = std::from_chars(header.data(), end, range.start, 16);
  if (error != std::errc() || dash == end || *dash != '-') return std::nullopt;
  auto [after, error2] = std::from_chars(dash + 1, end, range.end, 16);
  if (error2 != std::errc() || range.end <= range.start) return std::nullopt;
  return range;
}

}  // namespace

size_t DropCleanFilePages() {
  const std::optional<std::string> smaps = ReadProcFile("/proc/self/smaps");
  if (!smaps) return 0;
  // Collected first: the file describes the mappings as they were when it was read, and dropping
  // pages changes no mapping.
  std::vector<Range> clean;
  std::string_view header;
  std::optional<Range> current;
  size_t rss_kb = 0;
  auto finish = [&](size_t anonymous_kb) {
    if (current && rss_kb > 0 && internal::IsCleanFileMapping(header, anonymous_kb)) {
      current->resident_kb = rss_kb;
      clean.push_back(*current);
    }
    current.reset();
  };
  std::string_view rest = *smaps;
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    // A mapping's first line starts with its address range (lower-case hexadecimal), its fields
    // with a capitalised name.
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) &&
        !std::isupper(static_cast<unsigned char>(line[0]))) {
      current = Addresses(line);
      header = line;
      rss_kb = 0;
    } else if (line.starts_with("Rss:")) {
      rss_kb = FieldKb(line);
    } else if (line.starts_with("Anonymous:")) {
      finish(FieldKb(line));
    }
  }
  size_t dropped = 0;
  for (const Range& range : clean) {
    if (madvise(reinterpret_cast<void*>(range.start), range.end - range.start, MADV_DONTNEED) ==
        0) {
      dropped += range.resident_kb * 1024;
    }
  }
  return dropped;
}

}  // namespace petit::host

#include "runtime/file_pages.h"

#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
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

// The mappings /proc/self/smaps shows as clean file mappings, with their resident size.
std::vector<Range> CleanFileMappings() {
  std::vector<Range> clean;
  const std::optional<std::string> smaps = ReadProcFile("/proc/self/smaps");
  if (!smaps) return clean;
  std::string_view header;
  std::optional<Range> current;
  size_t rss_kb = 0;
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
      if (current && rss_kb > 0 && internal::IsCleanFileMapping(header, FieldKb(line))) {
        current->resident_kb = rss_kb;
        clean.push_back(*current);
      }
      current.reset();
    }
  }
  return clean;
}

// The segments of the loaded objects that are never writable (code, read-only data), page-aligned.
int AddReadOnlySegments(dl_phdr_info* info, size_t, void* data) {
  auto& segments = *static_cast<std::vector<Range>*>(data);
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  for (size_t i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_LOAD || (segment.p_flags & PF_W) != 0) continue;
    const uintptr_t start = (info->dlpi_addr + segment.p_vaddr) & ~(page - 1);
    const uintptr_t end =
        (info->dlpi_addr + segment.p_vaddr + segment.p_memsz + page - 1) & ~(page - 1);
    if (end > start) segments.push_back({start, end, 0});
  }
  return 0;
}

// Run by dl_iterate_phdr, which holds the dynamic loader's lock on the list of loaded objects for
// as long as this runs, and dlclose unmaps an object only under that lock: the objects seen here
// stay mapped until it returns. (The lock is recursive, so the inner iteration may take it.)
int DropWhileObjectsStayMapped(dl_phdr_info*, size_t, void* data) {
  std::vector<Range> segments;
  dl_iterate_phdr(AddReadOnlySegments, &segments);
  std::sort(segments.begin(), segments.end(),
            [](const Range& a, const Range& b) { return a.start < b.start; });
  size_t& dropped = *static_cast<size_t*>(data);
  for (const Range& mapping : CleanFileMappings()) {
    // Only a mapping inside one object's read-only segment: that object cannot be unloaded (and
    // the range then reused by another mapping) before the madvise below.
    auto after = std::upper_bound(
        segments.begin(), segments.end(), mapping.start,
        [](uintptr_t address, const Range& segment) { return address < segment.start; });
    if (after == segments.begin()) continue;
    const Range& segment = *std::prev(after);
    if (mapping.end > segment.end) continue;
    if (madvise(reinterpret_cast<void*>(mapping.start), mapping.end - mapping.start,
                MADV_DONTNEED) == 0) {
      dropped += mapping.resident_kb * 1024;
    }
  }
  return 1;  // done: the outer iteration stops at its first object
}

}  // namespace

size_t DropCleanFilePages() {
  size_t dropped = 0;
  dl_iterate_phdr(DropWhileObjectsStayMapped, &dropped);
  return dropped;
}

}  // namespace petit::host

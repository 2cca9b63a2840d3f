#include "cgroup_base.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdlib>

namespace petit::cgroups {
namespace {

// The lines of `text`, the last one with or without its newline.
template <typename Fn>
void ForEachLine(std::string_view text, Fn&& fn) {
  while (!text.empty()) {
    const size_t end = text.find('\n');
    fn(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
}

// The next space-separated field of `rest`, which loses it.
std::string_view NextField(std::string_view& rest) {
  const size_t end = rest.find(' ');
  const std::string_view field = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
  return field;
}

// Whether the cgroup directory `dir` lists this process: a process is in one v2 cgroup only, so
// the directory that lists it is its cgroup's, however the hierarchy is mounted.
bool ListsThisProcess(const std::string& dir) {
  const std::string pid = std::to_string(getpid());
  bool listed = false;
  ForEachLine(ReadProcFile(dir + "/cgroup.procs").value_or(""),
              [&](std::string_view line) { listed = listed || line == pid; });
  return listed;
}

// This process's cgroup where systemd mounts the v2 hierarchy whole; empty elsewhere.
std::string CgroupAtUsualMount(const std::string& own) {
  for (const char* point : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    struct statfs fs {};
    if (statfs(point, &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC) continue;
    std::string dir = point + (own == "/" ? std::string() : own);
    if (ListsThisProcess(dir)) return dir;
  }
  return {};
}

}  // namespace

std::optional<std::string> ReadProcFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      text.append(buffer, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fd);
  return text;
}

std::string CgroupDirFromMountinfo(std::string_view mountinfo, std::string_view own) {
  std::optional<std::string> found;
  ForEachLine(mountinfo, [&](std::string_view line) {
    if (found.has_value()) return;
    const size_t separator = line.find(" - ");
    if (separator == std::string_view::npos) return;
    std::string_view tail = line.substr(separator + 3);
    if (NextField(tail) != "cgroup2") return;
    std::string_view head = line.substr(0, separator);
    for (int skipped = 0; skipped < 3; ++skipped) NextField(head);  // id, parent, device
    const std::string_view root = NextField(head);
    const std::string_view point = NextField(head);
    if (root.empty() || point.empty()) return;
    std::string_view path = own;
    if (root != "/") {
      // "/a/b" is under "/a", "/ab" is not.
      if (!path.starts_with(root) || (path.size() > root.size() && path[root.size()] != '/')) {
        found = std::string();
        return;
      }
      path.remove_prefix(root.size());
    }
    found = std::string(point) + (path == "/" ? std::string() : std::string(path));
  });
  return found.value_or(std::string());
}

std::optional<std::string> DetectCgroupBase() {
  const char* setting = std::getenv("PETIT_TASK_CGROUPS");
  if (setting != nullptr && std::string_view(setting) == "off") return std::nullopt;
  std::optional<std::string> own;
  ForEachLine(ReadProcFile("/proc/self/cgroup").value_or(""), [&](std::string_view line) {
    if (line.starts_with("0::")) own = std::string(line.substr(3));
  });
  if (!own.has_value()) return std::nullopt;
  std::string dir = CgroupAtUsualMount(*own);
  if (dir.empty())
    dir = CgroupDirFromMountinfo(ReadProcFile("/proc/self/mountinfo").value_or(""), *own);
  if (dir.empty()) return std::nullopt;
  if (access(dir.c_str(), W_OK | X_OK) != 0) return std::nullopt;
  if (access((dir + "/cgroup.procs").c_str(), W_OK) != 0) return std::nullopt;
  return dir;
}

}  // namespace petit::cgroups

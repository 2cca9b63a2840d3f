#include "runtime/task_cgroups.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/proc_files.h"

namespace petit::host {
namespace {

// Detection as plugins/command/src/task_cgroup.cc does it, step for step, so that both find the
// same base.

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

// Whether the cgroup directory `dir` lists this process (a process is in one v2 cgroup only).
bool ListsThisProcess(const std::string& dir) {
  const std::string pid = std::to_string(getpid());
  bool listed = false;
  ForEachLine(ReadProcFile(dir + "/cgroup.procs").value_or(""),
              [&](std::string_view line) { listed = listed || line == pid; });
  return listed;
}

// This process's cgroup where systemd mounts the v2 hierarchy whole, checked by its listing this
// process; empty elsewhere (mountinfo decides then).
std::string CgroupAtUsualMount(const std::string& own) {
  for (const char* point : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    struct statfs fs {};
    if (statfs(point, &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC) continue;
    std::string dir = point + (own == "/" ? std::string() : own);
    if (ListsThisProcess(dir)) return dir;
  }
  return {};
}

std::optional<std::string> DetectBase() {
  const char* setting = std::getenv("PETIT_TASK_CGROUPS");
  if (setting != nullptr && std::string_view(setting) == "off") return std::nullopt;
  std::optional<std::string> own;
  ForEachLine(ReadProcFile("/proc/self/cgroup").value_or(""), [&](std::string_view line) {
    if (line.starts_with("0::")) own = std::string(line.substr(3));
  });
  if (!own.has_value()) return std::nullopt;
  std::string dir = CgroupAtUsualMount(*own);
  if (dir.empty()) {
    dir = CgroupDirFromMountinfo(ReadProcFile("/proc/self/mountinfo").value_or(""), *own);
  }
  if (dir.empty()) return std::nullopt;
  if (access(dir.c_str(), W_OK | X_OK) != 0) return std::nullopt;
  if (access((dir + "/cgroup.procs").c_str(), W_OK) != 0) return std::nullopt;
  return dir;
}

// "petit-<pid>-<start ticks>-<n>": "<pid>-<start ticks>"; nullopt for other names.
std::optional<std::string> HostOf(std::string_view name) {
  constexpr std::string_view kPrefix = "petit-";
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  name.remove_prefix(kPrefix.size());
  const size_t last = name.rfind('-');
  if (last == std::string_view::npos || last == 0) return std::nullopt;
  const std::string_view host = name.substr(0, last);
  const size_t dash = host.find('-');
  if (dash == 0 || dash == std::string_view::npos || dash + 1 == host.size() ||
      host.find_first_not_of("0123456789-") != std::string_view::npos ||
      name.substr(last + 1).find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(host);
}

bool WaitUntilEmpty(const std::string& dir, std::chrono::milliseconds limit) {
  const int fd = open((dir + "/cgroup.events").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  bool empty = false;
  for (;;) {
    char buffer[256];
    const ssize_t n = pread(fd, buffer, sizeof buffer - 1, 0);
    if (n < 0) break;
    buffer[n] = '\0';
    if (std::string_view(buffer).find("populated 0") != std::string_view::npos) {
      empty = true;
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    // The kernel reports a change of cgroup.events as POLLPRI.
    pollfd pfd{fd, POLLPRI, 0};
    if (poll(&pfd, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
  }
  close(fd);
  return empty;
}

}  // namespace

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

const std::optional<std::string>& TaskCgroupsBase() {
  static const std::optional<std::string> base = DetectBase();
  return base;
}

std::vector<std::string> FindHostCgroups(const std::string& base,
                                         const std::set<std::string>& hosts) {
  std::vector<std::string> found;
  if (hosts.empty()) return found;
  DIR* dir = opendir(base.c_str());
  if (dir == nullptr) return found;
  while (const dirent* entry = readdir(dir)) {
    const std::optional<std::string> host = HostOf(entry->d_name);
    if (host.has_value() && hosts.contains(*host)) found.push_back(base + "/" + entry->d_name);
  }
  closedir(dir);
  return found;
}

void RemoveEmptyCgroupsOfDeadHosts(const std::string& base) {
  DIR* dir = opendir(base.c_str());
  if (dir == nullptr) return;
  while (const dirent* entry = readdir(dir)) {
    const std::optional<std::string> host = HostOf(entry->d_name);
    // rmdir fails, harmlessly, on a populated cgroup.
    if (host.has_value() && !PidAndStartAlive(*host)) rmdir((base + "/" + entry->d_name).c_str());
  }
  closedir(dir);
}

std::vector<int64_t> CgroupMembers(const std::string& dir) {
  std::vector<int64_t> pids;
  std::istringstream in(ReadProcFile(dir + "/cgroup.procs").value_or(""));
  int64_t pid = 0;
  while (in >> pid) pids.push_back(pid);
  return pids;
}

bool KillAndRemoveCgroup(const std::string& dir, std::chrono::milliseconds limit) {
  if (!WriteProcFile(dir + "/cgroup.kill", "1")) {
    for (const int64_t pid : CgroupMembers(dir)) kill(static_cast<pid_t>(pid), SIGKILL);
  }
  WaitUntilEmpty(dir, limit);
  return rmdir(dir.c_str()) == 0 || errno == ENOENT;
}

}  // namespace petit::host

#include "runtime/task_cgroups.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cgroup_base.h"
#include "runtime/proc_files.h"

namespace petit::host {
namespace {

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

const std::optional<std::string>& TaskCgroupsBase() {
  static const std::optional<std::string> base = cgroups::DetectCgroupBase();
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

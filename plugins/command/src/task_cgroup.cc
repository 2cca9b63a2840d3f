#include "task_cgroup.h"

#include "subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The host's recovery (host/src/runtime/task_cgroups.cc) finds these cgroups by the same base and
// names; the two are kept in step.
namespace petit::command {
namespace {

// Processes of a normally ended task may fork while they are moved out; each pass moves what the
// previous one missed.
constexpr int kMovePasses = 4;

// A whole small file, read through a close-on-exec descriptor: other threads spawn children at any
// moment, and none may inherit it (an ifstream's descriptor is inheritable).
std::string ReadSmall(const std::string& path) {
  std::string text;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
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

// The path of this process's cgroup in the v2 hierarchy ("0::<path>" in /proc/self/cgroup).
std::optional<std::string> OwnCgroupPath() {
  const std::string text = ReadSmall("/proc/self/cgroup");
  std::optional<std::string> own;
  ForEachLine(text, [&](std::string_view line) {
    if (line.starts_with("0::")) own = std::string(line.substr(3));
  });
  return own;
}

// Whether the cgroup directory `dir` lists this process: a process is in one v2 cgroup only, so
// the directory that lists it is its cgroup's, however the hierarchy is mounted.
bool ListsThisProcess(const std::string& dir) {
  const std::string pid = std::to_string(getpid());
  const std::string text = ReadSmall(dir + "/cgroup.procs");
  bool listed = false;
  ForEachLine(text, [&](std::string_view line) { listed = listed || line == pid; });
  return listed;
}

// This process's cgroup where systemd mounts the v2 hierarchy whole (/sys/fs/cgroup, or
// /sys/fs/cgroup/unified beside v1's), checked by its listing this process; empty elsewhere (a
// container's mount of a sub-tree, another mount point). Two small reads instead of
// /proc/self/mountinfo, which the kernel writes out mount by mount (100 us cold here).
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
  const std::optional<std::string> own = OwnCgroupPath();
  if (!own.has_value()) return std::nullopt;
  std::string dir = CgroupAtUsualMount(*own);
  if (dir.empty()) dir = CgroupDirFromMountinfo(ReadSmall("/proc/self/mountinfo"), *own);
  if (dir.empty()) return std::nullopt;
  if (access(dir.c_str(), W_OK | X_OK) != 0) return std::nullopt;
  if (access((dir + "/cgroup.procs").c_str(), W_OK) != 0) return std::nullopt;
  return dir;
}

bool WriteSmall(const std::string& path, std::string_view text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return written;
}

std::vector<pid_t> Members(const std::string& dir) {
  std::vector<pid_t> pids;
  ForEachLine(ReadSmall(dir + "/cgroup.procs"), [&](std::string_view line) {
    pid_t pid = 0;
    if (std::from_chars(line.data(), line.data() + line.size(), pid).ec == std::errc()) {
      pids.push_back(pid);
    }
  });
  return pids;
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

const std::optional<std::string>& TaskCgroupBase() {
  static const std::optional<std::string> base = DetectBase();
  return base;
}

namespace {

// Empty cgroups for attempts to run in, kept for reuse: creating and removing a cgroup costs about
// as much as spawning a process, joining one far less. Named petit-<pid>-<start ticks>-<n> after
// this process, so that the next start's recovery knows them for a dead host's (recovery.h); the
// free ones are removed at a normal exit.
class CgroupPool {
 public:
  struct Entry {
    std::string dir;  // empty: none could be made
    TaskCgroup::Files files;
  };

  static CgroupPool& Instance() {
    static CgroupPool pool;
    return pool;
  }

  Entry Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        Entry entry = std::move(free_.back());
        free_.pop_back();
        return entry;
      }
    }
    Entry entry;
    const std::string dir = prefix_ + std::to_string(next_.fetch_add(1) + 1);
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return entry;
    entry.dir = dir;
    // Kept open while the cgroup is pooled: every attempt in it saves opening them.
    entry.files.procs = open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    entry.files.events = open((dir + "/cgroup.events").c_str(), O_RDONLY | O_CLOEXEC);
    entry.files.dir = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    return entry;
  }

  // Only an empty cgroup comes back; one that cannot be emptied is removed when it can be, by
  // the recovery after this process.
  void Release(Entry entry) {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(entry));
  }

  static void Close(TaskCgroup::Files& files) {
    if (files.procs >= 0) close(files.procs);
    if (files.events >= 0) close(files.events);
    if (files.dir >= 0) close(files.dir);
    files = {};
  }

  ~CgroupPool() {
    for (Entry& entry : free_) {
      Close(entry.files);
      rmdir(entry.dir.c_str());
    }
  }

 private:
  CgroupPool()
      : prefix_(TaskCgroupBase().value_or("") + "/petit-" + std::to_string(getpid()) + "-" +
                std::to_string(ProcessStartTicks(getpid()).value_or(0)) + "-") {}

  const std::string prefix_;
  std::atomic<uint64_t> next_{0};
  std::mutex mu_;
  std::vector<Entry> free_;  // GUARDED_BY(mu_)
};

}  // namespace

TaskCgroup::TaskCgroup(std::string dir, Files files)
    : dir_(std::move(dir)), procs_(dir_ + "/cgroup.procs"), files_(files) {}

TaskCgroup::TaskCgroup(TaskCgroup&& other) noexcept
    : dir_(std::exchange(other.dir_, std::string())),
      procs_(std::exchange(other.procs_, std::string())),
      files_(std::exchange(other.files_, Files())),
      killed_(std::exchange(other.killed_, false)) {}

TaskCgroup TaskCgroup::Create() {
  if (!TaskCgroupBase().has_value()) return TaskCgroup();
  CgroupPool::Entry entry = CgroupPool::Instance().Acquire();
  if (entry.dir.empty()) return TaskCgroup();
  return TaskCgroup(std::move(entry.dir), entry.files);
}

bool TaskCgroup::Populated() const {
  if (files_.events < 0) {
    return ReadSmall(dir_ + "/cgroup.events").find("populated 1") != std::string::npos;
  }
  char buffer[256];
  ssize_t n;
  do {
    n = pread(files_.events, buffer, sizeof buffer - 1, 0);
  } while (n < 0 && errno == EINTR);
  // Unreadable: taken as populated, so the cgroup is not handed to another attempt.
  if (n < 0) return true;
  buffer[n] = '\0';
  return std::string_view(buffer).find("populated 1") != std::string_view::npos;
}

TaskCgroup::~TaskCgroup() {
  if (!enabled()) return;
  // Background processes of a task that ended normally are left alone, as the process group's
  // are: they go back to the host's cgroup, untracked, and the attempt's cgroup is free again.
  bool populated = Populated();
  if (populated) {
    const std::string base_procs = dir_.substr(0, dir_.rfind('/')) + "/cgroup.procs";
    for (int pass = 0; pass < kMovePasses && populated; ++pass) {
      for (const pid_t pid : Members(dir_)) WriteSmall(base_procs, std::to_string(pid));
      populated = Populated();
    }
  }
  if (populated) {
    CgroupPool::Close(files_);
    return;
  }
  if (killed_) {
    // Removed, not reused (see Signal); a failed rmdir leaves it to the recovery after this
    // process, as for one that could not be emptied.
    CgroupPool::Close(files_);
    rmdir(dir_.c_str());
    return;
  }
  CgroupPool::Instance().Release({std::move(dir_), files_});
}

void TaskCgroup::Signal(int signal_number) const {
  if (!enabled()) return;
  if (signal_number == SIGKILL && WriteSmall(dir_ + "/cgroup.kill", "1")) {
    killed_ = true;
    return;
  }
  // SIGTERM, or SIGKILL before Linux 5.14: a listed process could exit and its pid be reused
  // between the read and the kill, the same narrow window as for any pid read from /proc.
  for (const pid_t pid : Members(dir_)) kill(pid, signal_number);
}

bool TaskCgroup::WaitUntilEmpty(std::chrono::milliseconds limit) const {
  if (!enabled()) return true;
  const int fd = open((dir_ + "/cgroup.events").c_str(), O_RDONLY | O_CLOEXEC);
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

}  // namespace petit::command

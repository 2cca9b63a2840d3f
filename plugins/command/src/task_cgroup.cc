#include "task_cgroup.h"

#include "cgroup_base.h"
#include "subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
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

// The host's recovery (host/src/runtime/task_cgroups.cc) finds these cgroups by the same base
// (cgroup_base.h, compiled into both) and names, kept in step.
namespace petit::command {
namespace {

// Processes of a normally ended task may fork while they are moved out; each pass moves what the
// previous one missed.
constexpr int kMovePasses = 4;

bool WriteSmall(const std::string& path, std::string_view text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return written;
}

std::vector<pid_t> Members(const std::string& dir) {
  std::vector<pid_t> pids;
  const std::string text = cgroups::ReadProcFile(dir + "/cgroup.procs").value_or("");
  const char* at = text.data();
  const char* const end = text.data() + text.size();
  while (at < end) {
    pid_t pid = 0;
    const auto [next, error] = std::from_chars(at, end, pid);
    if (error == std::errc()) pids.push_back(pid);
    at = next + 1;  // past the newline, or past a character that is no digit
  }
  return pids;
}

}  // namespace

const std::optional<std::string>& TaskCgroupBase() {
  static const std::optional<std::string> base = cgroups::DetectCgroupBase();
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
    return cgroups::ReadProcFile(dir_ + "/cgroup.events").value_or("").find("populated 1") !=
           std::string::npos;
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

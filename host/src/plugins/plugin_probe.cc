#include "plugins/plugin_probe.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plugins/plugin_loader.h"
#include "runtime/thread_priority.h"

#ifndef PETIT_VERSION
#define PETIT_VERSION "0.0.0"
#endif

extern char** environ;

namespace petit::host {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kProbeFd = 3;  // the child's end of the report pipe
// The child's whole report: the success marker, or the refusal prefix, a status code and the
// loader's one-line message. Nothing the plugin could print by accident looks like either.
constexpr std::string_view kLoadedMarker = "petit-plugin-probe: loaded\n";
constexpr std::string_view kRefusedPrefix = "petit-plugin-probe: refused ";
constexpr size_t kMaxReport = 4096;
constexpr int kProbeUsage = 64;     // started by hand
constexpr int kProbeOrphaned = 65;  // the parent was gone before the probe began

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

std::string SignalName(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  return abbrev != nullptr ? "SIG" + std::string(abbrev) : "signal " + std::to_string(signal);
}

std::string Duration(std::chrono::milliseconds limit) {
  if (limit.count() % 1000 == 0) return std::to_string(limit.count() / 1000) + " s";
  return std::to_string(limit.count()) + " ms";
}

// Spawned like a plugin worker: stdin /dev/null, `pipe` as fd 3 and nothing else but stdout and
// stderr, default and unblocked signals, a process group of its own.
Result<pid_t> SpawnProbe(const std::string& executable, const std::string& file, int pipe) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe, kProbeFd);
  posix_spawn_file_actions_addclosefrom_np(&actions, kProbeFd + 1);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigfillset(&defaults);
  sigdelset(&defaults, SIGKILL);
  sigdelset(&defaults, SIGSTOP);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_USEVFORK);
  const std::string parent = std::to_string(::getpid());
  std::vector<char*> argv = {
      const_cast<char*>(executable.c_str()), const_cast<char*>(kProbeCommand.data()),
      const_cast<char*>(file.c_str()), const_cast<char*>(parent.c_str()), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, executable.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return Unavailable("cannot start a probe process (" + executable + ") for plugin " + file +
                       ": " + std::strerror(rc));
  }
  return pid;
}

// Appends what the pipe holds now; false once it is at its end (or broken).
bool Drain(int fd, std::string& report) {
  char chunk[512];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n > 0) {
      report.append(chunk, std::min<size_t>(static_cast<size_t>(n), kMaxReport - report.size()));
      if (report.size() >= kMaxReport) return false;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

// The loader's refusal as the child wrote it: "<code> <message>\n".
std::optional<Status> ParseRefusal(std::string_view report) {
  if (report.substr(0, kRefusedPrefix.size()) != kRefusedPrefix || report.back() != '\n') {
    return std::nullopt;
  }
  report.remove_prefix(kRefusedPrefix.size());
  report.remove_suffix(1);
  const size_t space = report.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const int code = std::atoi(std::string(report.substr(0, space)).c_str());
  if (code <= 0 || code > static_cast<int>(StatusCode::kDataLoss)) return std::nullopt;
  return Status(static_cast<StatusCode>(code), std::string(report.substr(space + 1)));
}

}  // namespace

Status ProbePlugin(const std::string& executable, const std::string& file,
                   std::chrono::milliseconds time_limit) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Unavailable("cannot probe plugin " + file + ": pipe: " + std::strerror(errno));
  }
  Fd read_end(fds[0]);
  Fd write_end(fds[1]);
  Result<pid_t> spawned = SpawnProbe(executable, file, write_end.get());
  write_end.Reset();  // the child's copy is the only writer: its end means the child is done
  if (!spawned.ok()) return spawned.status();
  const pid_t pid = *spawned;
  // -1 (a kernel before 5.3) leaves only the pipe's end as the sign the child is done.
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);

  const Clock::time_point deadline = Clock::now() + time_limit;
  std::string report;
  bool pipe_open = true;
  bool exited = false;
  bool timed_out = false;
  while ((pipe_open || pidfd.get() >= 0) && !exited) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd polled[2] = {{pipe_open ? read_end.get() : -1, POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    const int ready = ::poll(polled, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    if (polled[0].revents != 0) pipe_open = Drain(read_end.get(), report);
    if (polled[1].revents != 0) exited = true;
    // Without a pidfd, the pipe's end is the sign.
    if (!pipe_open && pidfd.get() < 0) break;
  }
  // The child is a zombie at most here (or still running), so its group id cannot have been
  // reused; whatever it left running in its group goes with it.
  ::kill(-pid, SIGKILL);
  int wait_status = 0;
  while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (pipe_open) Drain(read_end.get(), report);

  if (timed_out) {
    return Unavailable("plugin " + file + " did not finish loading within " + Duration(time_limit));
  }
  if (WIFSIGNALED(wait_status)) {
    return Unavailable("plugin " + file +
                       " crashed while loading: " + SignalName(WTERMSIG(wait_status)));
  }
  const int code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  if (code == 0 && report == kLoadedMarker) return Status::Ok();
  if (code == 0) {
    if (std::optional<Status> refusal = ParseRefusal(report)) return *refusal;
  }
  return Unavailable("plugin " + file + " exited with status " + std::to_string(code) +
                     " while loading");
}

int RunPluginProbe(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "petit: %s is started by petit itself, not by hand\n", argv[1]);
    return kProbeUsage;
  }
  const std::string file = argv[2];
  const auto parent = static_cast<pid_t>(std::strtol(argv[3], nullptr, 10));
  // Die with the host; the check closes the window in which it died before the request held.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(kProbeOrphaned);
  ForbidRealtime();
  // Processes the plugin starts while it loads must not hold the report pipe open.
  fcntl(kProbeFd, F_SETFD, FD_CLOEXEC);

  PluginLoader loader(PETIT_VERSION);
  loader.LoadFile(file);
  std::string report;
  if (!loader.result().errors.empty()) {
    const Status& refusal = loader.result().errors.front();
    std::string message = refusal.message();
    std::replace(message.begin(), message.end(), '\n', ' ');
    report = std::string(kRefusedPrefix) + std::to_string(static_cast<int>(refusal.code())) + " " +
             message + "\n";
  } else {
    report = std::string(kLoadedMarker);
  }
  size_t sent = 0;
  while (sent < report.size()) {
    const ssize_t n = ::write(kProbeFd, report.data() + sent, report.size() - sent);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(kProbeOrphaned);
    sent += static_cast<size_t>(n);
  }
  // The plugin's shutdown hook and unload are the host's to run, on the copy it loads next; _exit
  // skips the exit-time work of a process that has nothing left to do.
  _exit(0);
}

}  // namespace petit::host

#include "plugins/process_task_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plugins/worker_protocol.h"

extern char** environ;

namespace petit::host {
namespace {

using internal::FrameType;
using Clock = std::chrono::steady_clock;

// A child that died abnormally after its resident memory grew by this share of its limit is
// reported as having exceeded it: whatever killed it (SIGSEGV on a NULL from malloc, a
// sanitizer's out-of-memory abort, SIGKILL from the kernel), running out is what happened.
constexpr uint64_t kLimitShareNumerator = 3;
constexpr uint64_t kLimitShareDenominator = 4;
constexpr size_t kReadChunk = 64 * 1024;
// What is read from a child's socket once the child has ended: what it wrote and nobody read yet
// is at most a socket buffer (the child blocks on a full one), so this bounds only a descendant
// that goes on writing.
constexpr size_t kDrainAfterExitBytes = 16 << 20;

std::string SignalName(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  return abbrev != nullptr ? "SIG" + std::string(abbrev) : "signal " + std::to_string(signal);
}

// A file descriptor closed when it goes out of scope.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// The cancel hook's way into Run()'s poll loop: a byte in a pipe. Shared with the hook, which
// AttemptControl may still hold (and run) after Run() returned.
struct CancelPipe {
  Fd read_end;
  Fd write_end;
  void Signal() const {
    const char byte = 1;
    (void)!::write(write_end.get(), &byte, 1);
  }
};

std::shared_ptr<CancelPipe> MakeCancelPipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return nullptr;
  auto pipe = std::make_shared<CancelPipe>();
  pipe->read_end = Fd(fds[0]);
  pipe->write_end = Fd(fds[1]);
  return pipe;
}

// Starts `petit __plugin-worker` with `socket` as its fd 3 and nothing else but stdout and
// stderr: stdin is /dev/null, every other descriptor is closed, signals are at their defaults
// and unblocked, and it leads a process group of its own.
Result<pid_t> SpawnWorker(const ProcessIsolationOptions& options, int socket) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, socket, internal::kWorkerSocketFd);
  posix_spawn_file_actions_addclosefrom_np(&actions, internal::kWorkerSocketFd + 1);
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
  const std::string limit = std::to_string(options.memory_limit_mb);
  std::vector<char*> argv = {const_cast<char*>(options.worker_executable.c_str()),
                             const_cast<char*>(internal::kWorkerCommand.data()),
                             const_cast<char*>(options.plugin_file.c_str()),
                             const_cast<char*>(options.type_name.c_str()),
                             const_cast<char*>(parent.c_str()),
                             const_cast<char*>(limit.c_str()),
                             nullptr};
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, options.worker_executable.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return Unavailable("cannot start a worker process (" + options.worker_executable +
                       ") for plugin '" + options.plugin_name + "': " + std::strerror(rc));
  }
  return pid;
}

// One attempt's child, from spawn to reap.
class WorkerSession {
 public:
  WorkerSession(const ProcessIsolationOptions& options, const AttemptRequest& request,
                AttemptControl& control)
      : options_(options), request_(request), control_(control) {}

  AttemptResult Run() {
    std::shared_ptr<CancelPipe> cancel = MakeCancelPipe();
    int pair[2];
    if (cancel == nullptr || ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return Failure(std::string("cannot set up a worker process: ") + std::strerror(errno));
    }
    socket_ = Fd(pair[0]);
    Fd child_end(pair[1]);
    Result<pid_t> pid = SpawnWorker(options_, child_end.get());
    child_end.Reset();
    if (!pid.ok()) return Failure(pid.status().message());
    pid_ = *pid;
    // -1 (a kernel before 5.3) only loses the early notice of a child that died first.
    pidfd_ = Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));

    // The attempt goes first; a child that dies before reading it is reported like any other.
    (void)internal::SendAll(socket_.get(), internal::EncodeAttempt(request_));
    control_.OnCancel([cancel] { cancel->Signal(); });
    Loop(*cancel);
    // The socket is closed: a child that does not end within the grace (it closed its end itself)
    // can tell nothing more, and nothing else would ever end it.
    if (!killed_ && !ExitsWithin(options_.cancel_grace)) {
      hung_up_ = true;
      Kill();
    }
    return Reap();
  }

 private:
  // Reads the child's frames until its socket closes, sending the cancel when it comes and
  // killing the child when it outlives the cancel by the grace.
  void Loop(const CancelPipe& cancel) {
    internal::FrameBuffer frames;
    std::vector<char> chunk(kReadChunk);
    bool socket_open = true;
    while (socket_open) {
      // The attempt is over; a worker that does not exit within the grace (stuck in the plugin's
      // shutdown hook) is killed, its result stands.
      if ((result_ || fatal_) && !kill_at_ && !killed_) {
        kill_at_ = Clock::now() + options_.cancel_grace;
      }
      // A negative descriptor is skipped by poll: the cancel is read once; the child's end is
      // watched throughout, killed or not.
      pollfd fds[3] = {{socket_.get(), POLLIN, 0},
                       {cancel_sent_ ? -1 : cancel.read_end.get(), POLLIN, 0},
                       {pidfd_.get(), POLLIN, 0}};
      int timeout_ms = -1;
      if (kill_at_) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(*kill_at_ - Clock::now());
        timeout_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
      }
      const int ready = ::poll(fds, 3, timeout_ms);
      if (ready < 0 && errno != EINTR) {
        Broken(std::string("poll: ") + std::strerror(errno));
        break;
      }
      if (kill_at_ && Clock::now() >= *kill_at_) {
        if (!killed_) Kill();
        kill_at_.reset();
      }
      if (ready <= 0) continue;
      if ((fds[1].revents & POLLIN) != 0 && !cancel_sent_) {
        cancel_sent_ = true;
        char drain[16];
        (void)!::read(cancel.read_end.get(), drain, sizeof drain);
        (void)internal::SendAll(socket_.get(), internal::FrameWriter(FrameType::kCancel).Finish());
        if (!killed_) kill_at_ = Clock::now() + options_.cancel_grace;
      }
      if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        socket_open = ReadFrames(frames, chunk);
      }
      if ((fds[2].revents & POLLIN) != 0 && socket_open) {
        // The child is gone but something it started still holds the socket: nothing more can
        // come from the plugin, so its group goes too. What the child wrote before it ended is
        // read; then the socket is left, since a descendant in a session of its own (setsid),
        // which the group's SIGKILL does not reach, might hold it for ever and must not keep
        // the attempt from ending.
        if (!killed_) Kill();
        for (size_t drained = 0; socket_open && drained < kDrainAfterExitBytes;
             drained += chunk.size()) {
          pollfd fd{socket_.get(), POLLIN, 0};
          if (::poll(&fd, 1, 0) <= 0) break;
          socket_open = ReadFrames(frames, chunk);
        }
        socket_open = false;
      }
    }
  }

  // One read from the child's socket and the frames it completes; false at its end or on an
  // error (a closed socket).
  bool ReadFrames(internal::FrameBuffer& frames, std::vector<char>& chunk) {
    ssize_t n;
    do {
      n = ::read(socket_.get(), chunk.data(), chunk.size());
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    frames.Append({chunk.data(), static_cast<size_t>(n)});
    Status error;
    while (auto frame = frames.Next(&error)) Handle(frame->first, frame->second);
    if (!error.ok()) Broken(error.message());
    return true;
  }

  void Handle(FrameType type, std::string_view payload) {
    internal::FrameReader in(payload);
    switch (type) {
      case FrameType::kHello:
        baseline_rss_kb_ = static_cast<uint64_t>(in.I64());
        return;
      case FrameType::kOutput: {
        const uint8_t stream = in.U8();
        const std::string_view bytes = in.Str();
        if (in.ok()) {
          control_.AppendOutput(stream == static_cast<uint8_t>(OutputStream::kStdout)
                                    ? OutputStream::kStdout
                                    : OutputStream::kStderr,
                                bytes);
        }
        return;
      }
      case FrameType::kLog: {
        const uint8_t level = in.U8();
        const std::string_view message = in.Str();
        if (in.ok()) control_.Log(static_cast<LogLevel>(std::min<uint8_t>(level, 3)), message);
        return;
      }
      case FrameType::kProgress: {
        const double fraction = in.F64();
        const std::string_view message = in.Str();
        if (in.ok()) control_.ReportProgress(fraction, message);
        return;
      }
      case FrameType::kSetOutput: {
        const std::string_view key = in.Str();
        const std::string_view value = in.Str();
        if (in.ok()) (void)control_.SetOutput(key, value);
        return;
      }
      case FrameType::kDone: {
        Result<AttemptResult> result = internal::DecodeDone(payload);
        if (!result.ok()) {
          Broken(result.status().message());
          return;
        }
        result_ = std::move(result).value();
        return;
      }
      case FrameType::kFatal:
        fatal_ = std::string(in.Str());
        return;
      default:
        Broken("unexpected frame " + std::to_string(static_cast<int>(type)));
        return;
    }
  }

  // Without a pidfd (a kernel before 5.3) the reap that follows simply waits.
  bool ExitsWithin(std::chrono::milliseconds grace) const {
    if (pidfd_.get() < 0) return true;
    pollfd fd{pidfd_.get(), POLLIN, 0};
    int ready;
    do {
      ready = ::poll(&fd, 1, static_cast<int>(grace.count()));
    } while (ready < 0 && errno == EINTR);
    return ready != 0;
  }

  // The child sent something that is not the protocol: it is no longer trusted to say anything.
  void Broken(const std::string& why) {
    if (!protocol_error_) protocol_error_ = why;
    if (!killed_) Kill();
  }

  void Kill() {
    killed_ = true;
    // The whole group: whatever the plugin started goes with it.
    ::kill(-pid_, SIGKILL);
  }

  AttemptResult Reap() {
    // Descendants the plugin left in the group die with it (they cannot report to anyone), once
    // the child has ended and before it is reaped, so its pid, the group's id, is still taken.
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) < 0 &&
           errno == EINTR) {
    }
    ::kill(-pid_, SIGKILL);
    int status = 0;
    rusage usage{};
    pid_t reaped;
    do {
      reaped = ::wait4(pid_, &status, 0, &usage);
    } while (reaped < 0 && errno == EINTR);

    if (result_) {
      // The result stands; what the worker did after it (the plugin's shutdown hook) is noted.
      const bool clean = reaped == pid_ && WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (!clean) {
        control_.Log(LogLevel::kWarn,
                     "plugin '" + options_.plugin_name +
                         "' worker ended badly after the attempt (" +
                         (killed_               ? std::string("killed after the grace")
                          : WIFSIGNALED(status) ? SignalName(WTERMSIG(status))
                                                : "status " + std::to_string(WEXITSTATUS(status))) +
                         ")");
      }
      return std::move(*result_);
    }
    if (fatal_) return Failure(*fatal_);
    const std::string during = " during task " + request_.task.str();
    const std::string plugin = "plugin '" + options_.plugin_name + "'";
    if (protocol_error_)
      return Failure(plugin + " broke the worker protocol" + during + ": " + *protocol_error_);
    if (hung_up_) {
      return Failure(plugin + " closed its connection to the host" + during +
                     "; its process was killed");
    }
    if (cancel_sent_ && killed_) {
      return Failure(plugin + " ignored cancel for " +
                     std::to_string(options_.cancel_grace.count()) + " ms" + during +
                     "; its process was killed");
    }
    if (reaped < 0) return Failure(plugin + " worker vanished" + during);
    const auto peak_kb = static_cast<uint64_t>(usage.ru_maxrss);
    const uint64_t limit_kb = options_.memory_limit_mb << 10;
    if (limit_kb > 0 && peak_kb > baseline_rss_kb_ &&
        (peak_kb - baseline_rss_kb_) * kLimitShareDenominator >= limit_kb * kLimitShareNumerator) {
      return Failure(plugin + " exceeded its memory limit of " +
                     std::to_string(options_.memory_limit_mb) + " MB" + during);
    }
    if (WIFSIGNALED(status)) {
      return Failure(plugin + " crashed: " + SignalName(WTERMSIG(status)) + during);
    }
    if (WIFEXITED(status)) {
      return Failure(plugin + " exited with status " + std::to_string(WEXITSTATUS(status)) +
                     during);
    }
    return Failure(plugin + " worker ended" + during);
  }

  static AttemptResult Failure(std::string error) {
    AttemptResult result;
    result.outcome = AttemptOutcome::kFailed;
    result.error = std::move(error);
    return result;
  }

  const ProcessIsolationOptions& options_;
  const AttemptRequest& request_;
  AttemptControl& control_;
  Fd socket_;
  Fd pidfd_;
  pid_t pid_ = -1;
  uint64_t baseline_rss_kb_ = 0;
  std::optional<Clock::time_point> kill_at_;
  bool cancel_sent_ = false;
  bool killed_ = false;
  bool hung_up_ = false;  // the child closed its socket and lived on
  std::optional<AttemptResult> result_;
  std::optional<std::string> fatal_;
  std::optional<std::string> protocol_error_;
};

}  // namespace

AttemptResult ProcessTaskRunner::Run(const AttemptRequest& request, AttemptControl& control) {
  WorkerSession session(options_, request, control);
  return session.Run();
}

}  // namespace petit::host

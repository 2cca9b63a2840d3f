#include "subprocess.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cgroup_base.h"

namespace petit::command {
namespace {

using Clock = std::chrono::steady_clock;
using sdk::Result;
using sdk::Status;

// Without pidfd_open (Linux < 5.3) the loop cannot sleep until the child exits, so it checks
// this often instead.
constexpr std::chrono::milliseconds kExitCheckWithoutPidfd{10};
// Most children end by exiting, which closes their pipes: the loop sees the end of both and then
// finds the child exited, with no pidfd (making one costs about as much as the pipes). A child
// still running this long after its spawn gets one, so that its exit is seen even while a
// background descendant holds its pipes; so does one whose pipes closed before it exited.
constexpr std::chrono::milliseconds kPidfdAfter{5};
// A marked descendant may fork while it is being killed; each pass kills what the previous one
// missed, and a process that forks faster than this is vanishingly unlikely.
constexpr int kMarkedKillPasses = 4;
// In /proc/<pid>/stat: the start time is field 22 overall, 19 fields after the state (field 3).
constexpr int kStartTimeAfterState = 19;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&&) = delete;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A descriptor numbered 0-2 would be clobbered by the child's own dup2 onto 0-2 (or not get its
// close-on-exec flag cleared when dup2'd onto itself); this happens when the host runs with a
// standard stream closed.
bool MoveAboveStdio(Fd& fd) {
  if (fd.get() > STDERR_FILENO) return true;
  const int moved = fcntl(fd.get(), F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  if (moved < 0) return false;
  fd.Reset(moved);
  return true;
}

bool MakePipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end.Reset(fds[0]);
  write_end.Reset(fds[1]);
  return MoveAboveStdio(read_end) && MoveAboveStdio(write_end);
}

int PidfdOpen(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

using cgroups::ReadProcFile;

// True when the NUL-separated `environment` holds `entry` as one whole entry.
bool HasEntry(std::string_view environment, std::string_view entry) {
  size_t at = 0;
  while (at < environment.size()) {
    size_t end = environment.find('\0', at);
    if (end == std::string_view::npos) end = environment.size();
    if (environment.substr(at, end - at) == entry) return true;
    at = end + 1;
  }
  return false;
}

// /dev/null for the children's stdin, opened once per process (close-on-exec, above stdio, so a
// child's dup2 onto 0 makes the one copy it keeps); -1 if it cannot be opened, and the child then
// opens it itself.
int DevNull() {
  static const int fd = [] {
    const int opened = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (opened < 0 || opened > STDERR_FILENO) return opened;
    const int moved = fcntl(opened, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    close(opened);
    return moved;
  }();
  return fd;
}

// Clock ticks (as field 22 of /proc/<pid>/stat counts them) at the CLOCK_BOOTTIME time `at`: the
// kernel stamps a new process with CLOCK_BOOTTIME and /proc shows that divided down to USER_HZ.
uint64_t TicksAt(const timespec& at) {
  static const uint64_t ns_per_tick = [] {
    const long hz = sysconf(_SC_CLK_TCK);
    return static_cast<uint64_t>(1'000'000'000 / (hz > 0 ? hz : 100));
  }();
  const uint64_t ns =
      static_cast<uint64_t>(at.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(at.tv_nsec);
  return ns / ns_per_tick;
}

bool IsResourceError(int error_number) {
  return error_number == EAGAIN || error_number == ENOMEM || error_number == EMFILE ||
         error_number == ENFILE;
}

// The child's side of Spawn, between vfork (or clone3, CloneIntoCgroup) and exec. It runs on the
// parent's stack (or a buffer in the parent's frame) and shares its memory while the parent's
// thread is suspended, so it makes system calls only: no allocation, no locks. Returns only on
// failure, with the errno value. `in_cgroup`: the child was made in the attempt's cgroup.
[[gnu::noinline]] int PrepareAndExec(const Invocation& invocation, int stdout_fd, int stderr_fd,
                                     int null_fd, pid_t parent, bool in_cgroup) {
  // A host commonly ignores SIGPIPE or SIGHUP and blocks termination signals in worker threads;
  // both would survive exec and break the child (and our SIGTERM), so the child starts with every
  // disposition at its default (handlers are reset by exec anyway) and an empty mask.
  struct sigaction defaults = {};
  defaults.sa_handler = SIG_DFL;
  sigemptyset(&defaults.sa_mask);
  for (int signal_number = 1; signal_number < NSIG; ++signal_number) {
    // The C library's own signals refuse with EINVAL, harmlessly.
    if (signal_number != SIGKILL && signal_number != SIGSTOP) {
      sigaction(signal_number, &defaults, nullptr);
    }
  }
  if (setpgid(0, 0) != 0) return errno;
  if (!in_cgroup && invocation.cgroup != nullptr && invocation.cgroup->procs_path() != nullptr) {
    // "0" moves the writing process. Without the cgroup the group and the marker still apply, so
    // a refusal (a cgroup removed meanwhile) does not stop the task. The pool keeps the file
    // open (task_cgroup.h), which spares the child a path walk through the cgroup file system.
    const int kept_fd = invocation.cgroup->procs_fd();
    const int cgroup_fd =
        kept_fd >= 0 ? kept_fd : open(invocation.cgroup->procs_path(), O_WRONLY | O_CLOEXEC);
    if (cgroup_fd >= 0) {
      [[maybe_unused]] const ssize_t joined = write(cgroup_fd, "0", 1);
      if (cgroup_fd != kept_fd) close(cgroup_fd);
    }
  }
  // The host may make its scheduler thread real-time (RLIMIT_RTPRIO 1: the packaged unit's
  // LimitRTPRIO=1); a task that made itself real-time too would hold a processor from it, so the
  // task gets no such right. Lowering a limit never fails for want of privilege.
  const rlimit no_realtime{0, 0};
  setrlimit(RLIMIT_RTPRIO, &no_realtime);
  // Learns of the host's death at once (see subprocess.h), unless the host died already.
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) return errno;
  if (getppid() != parent) return ESRCH;
  if (null_fd >= 0) {
    // Above stdio and close-on-exec (DevNull): the copy on 0 is the only one exec keeps.
    if (dup2(null_fd, STDIN_FILENO) < 0) return errno;
  } else {
    const int opened = open("/dev/null", O_RDONLY);
    if (opened < 0) return errno;
    if (opened != STDIN_FILENO) {
      if (dup2(opened, STDIN_FILENO) < 0) return errno;
      close(opened);
    }
  }
  // The pipe ends are above 2 (MoveAboveStdio), so dup2 always makes a new descriptor, without
  // close-on-exec.
  if (dup2(stdout_fd, STDOUT_FILENO) < 0 || dup2(stderr_fd, STDERR_FILENO) < 0) return errno;
  if (invocation.working_dir != nullptr && chdir(invocation.working_dir) != 0) return errno;
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  execve(invocation.path, invocation.argv, invocation.envp);
  return errno;
}

// A child made straight into the attempt's cgroup, where the kernel has clone3 and allows it: a
// process that joins a cgroup by writing cgroup.procs waits for an RCU grace period (the cgroup
// core's percpu rwsem taken for writing), a few milliseconds on an idle machine and 10 to 40 under
// load, which dominated a one-task `petit trigger`; one made there by CLONE_INTO_CGROUP does not.
// x86-64 only, for the trampoline below; elsewhere, and where clone3 is refused (an old kernel or
// a seccomp filter), the child joins by writing cgroup.procs as before.
#if defined(__x86_64__)
#define PETIT_CLONE_INTO_CGROUP 1

// What the child made by clone3 needs, on the parent's stack (the memory is shared until exec).
struct ChildStart {
  const Invocation* invocation;
  int stdout_fd;
  int stderr_fd;
  int null_fd;
  pid_t parent;
  volatile int* error;     // PrepareAndExec's errno value when it fails
  volatile bool* started;  // set first: the child ran
};

int ChildMain(void* raw) {
  const ChildStart& start = *static_cast<const ChildStart*>(raw);
  *start.started = true;
  *start.error = PrepareAndExec(*start.invocation, start.stdout_fd, start.stderr_fd, start.null_fd,
                                start.parent, /*in_cgroup=*/true);
  return 127;
}

// clone3(`args`), the child running `child(argument)` on the stack `args` names and exiting with
// its result, as vfork's child calls _exit; no C library call is made on the way. The parent gets
// the child's pid or -errno. (glibc 2.36 exports no clone3; its own clone() has no room for
// CLONE_INTO_CGROUP, a flag above bit 31.)
[[gnu::noinline]] long Clone3Run(clone_args* args, int (*child)(void*), void* argument) {
  long result = SYS_clone3;
  register int (*function)(void*) asm("r12") = child;
  register void* function_argument asm("r13") = argument;
  asm volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      // The child, on its own stack, 16-byte aligned at the call as the ABI wants.
      "xor %%ebp, %%ebp\n\t"
      "mov %%r13, %%rdi\n\t"
      "call *%%r12\n\t"
      "mov %%eax, %%edi\n\t"
      "mov %[exit_group], %%eax\n\t"
      "syscall\n\t"
      "hlt\n\t"
      "1:\n\t"
      : "+a"(result)
      : "D"(args), "S"(sizeof(clone_args)), "r"(function),
        "r"(function_argument), [exit_group] "i"(SYS_exit_group)
      : "rcx", "r11", "memory");
  return result;
}

// Whether clone3 was refused as unknown, or a child it made was killed before it ran, once; then
// it is not tried again.
std::atomic<bool> g_no_clone3{false};

// The child's stack: enough for PrepareAndExec's system calls, under the sanitizers too.
constexpr size_t kChildStackBytes = 32 * 1024;

// clone3 into `cgroup_fd` with vfork's semantics (the child shares the memory and this thread
// waits until it execs or exits). True when it made the child, or failed for want of resources
// (`clone_error`), as vfork would; false when clone3 is not available or the kernel refused the
// cgroup: the caller then vforks.
bool CloneIntoCgroup(const Invocation& invocation, int cgroup_fd, int stdout_fd, int stderr_fd,
                     int null_fd, pid_t parent, volatile int& child_error, pid_t& child,
                     int& clone_error) {
  if (g_no_clone3.load(std::memory_order_relaxed)) return false;
  alignas(16) char stack[kChildStackBytes];
  volatile bool started = false;
  ChildStart start{&invocation, stdout_fd, stderr_fd, null_fd, parent, &child_error, &started};
  clone_args args{};
  args.flags = CLONE_VM | CLONE_VFORK | CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.stack = reinterpret_cast<uintptr_t>(stack);
  args.stack_size = sizeof stack;
  args.cgroup = static_cast<uint64_t>(cgroup_fd);
  const long result = Clone3Run(&args, ChildMain, &start);
#if defined(__SANITIZE_ADDRESS__)
  // The child's frames poisoned their redzones in the shadow of `stack` and never returned to
  // unpoison them (exec ended them); this frame's own use of the memory must not trip on that.
  __asan_unpoison_memory_region(stack, sizeof stack);
#endif
  if (result >= 0 && !started) {
    // Killed before its first instruction: what some kernels do to a child made in a cgroup
    // whose kill count (cgroup.kill) is not its parent's (Linux 6.18 here, when the host's own
    // cgroup was once killed, as a service's can be by its manager). The child joins by writing
    // cgroup.procs from now on.
    while (waitpid(static_cast<pid_t>(result), nullptr, 0) < 0 && errno == EINTR) {
    }
    g_no_clone3.store(true, std::memory_order_relaxed);
    return false;
  }
  if (result >= 0) {
    child = static_cast<pid_t>(result);
    return true;
  }
  clone_error = static_cast<int>(-result);
  // No clone3 (ENOSYS; EPERM from some seccomp filters) or no CLONE_INTO_CGROUP (EINVAL, Linux
  // 5.3 to 5.6): the same answer every time, so it is not asked again.
  if (clone_error == ENOSYS || clone_error == EPERM || clone_error == EINVAL) {
    g_no_clone3.store(true, std::memory_order_relaxed);
  }
  // A resource error is vfork's too, which reports it; anything else (a cgroup the kernel will
  // not start a process in) leaves the joining to the child, which may be refused harmlessly.
  return IsResourceError(clone_error);
}
#endif

// What posix_spawn did here before, plus PR_SET_PDEATHSIG, which posix_spawn cannot set: vfork
// (or clone3 into the attempt's cgroup, above), PrepareAndExec in the child. Returns 0 (and the
// pid) or an errno value; a child that failed before exec is reaped here. `start_ticks` is the
// child's start time (as ProcessStartTicks reads it) when the clock shows it without reading /proc,
// else 0.
int Spawn(const Invocation& invocation, int stdout_fd, int stderr_fd, pid_t& pid,
          uint64_t& start_ticks) {
  // No host signal handler may run in the child, on the parent's stack, before the child resets
  // the dispositions; the child unblocks once they are at their defaults.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  const pid_t parent = getpid();
  const int null_fd = DevNull();
  volatile int child_error = 0;
  // The kernel stamps the child between these two readings; when both fall in the same tick, so
  // does the child, and its /proc/<pid>/stat need not be read (it is, when they do not).
  timespec before{};
  timespec after{};
  clock_gettime(CLOCK_BOOTTIME, &before);
  pid_t child = -1;
  int vfork_error = 0;
  bool cloned = false;  // or failed for want of resources, which vfork would too
#ifdef PETIT_CLONE_INTO_CGROUP
  if (invocation.cgroup != nullptr && invocation.cgroup->dir_fd() >= 0) {
    cloned = CloneIntoCgroup(invocation, invocation.cgroup->dir_fd(), stdout_fd, stderr_fd, null_fd,
                             parent, child_error, child, vfork_error);
  }
#endif
  if (!cloned) {
    child = vfork();
    if (child == 0) {
      child_error =
          PrepareAndExec(invocation, stdout_fd, stderr_fd, null_fd, parent, /*in_cgroup=*/false);
      _exit(127);
    }
    vfork_error = errno;
  }
  clock_gettime(CLOCK_BOOTTIME, &after);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  const uint64_t first_tick = TicksAt(before);
  start_ticks = first_tick == TicksAt(after) ? first_tick : 0;
  if (child < 0) return vfork_error;
  if (child_error != 0) {
    while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    return child_error;
  }
  pid = child;
  return 0;
}

Status SpawnError(int error_number, const Invocation& invocation) {
  const std::string name(invocation.display_name);
  if (error_number == ENOENT && invocation.working_dir != nullptr) {
    // chdir in the child fails with ENOENT too; tell the two apart.
    struct stat info;
    if (stat(invocation.working_dir, &info) != 0) {
      return Status::Error("working directory does not exist: " +
                           std::string(invocation.working_dir));
    }
  }
  if (error_number == ENOENT) return Status::Error("command not found: " + name);
  if (error_number == EACCES) return Status::Error("permission denied: " + name);
  std::string message = "cannot run " + name + ": " + ErrnoText(error_number);
  if (IsResourceError(error_number)) return Status::Transient(std::move(message));
  return Status::Error(std::move(message));
}

// Waits for one process and everything in its group. The child stays a zombie (WNOWAIT) until
// Finish, so its pid, which is also the group id, cannot be reused while signals go to the group.
class Supervisor {
 public:
  Supervisor(pid_t pid, uint64_t start_ticks, std::string_view marker, const TaskCgroup* cgroup,
             Fd stdout_fd, Fd stderr_fd, const Limits& limits, const CancelSignal& cancel,
             OutputSink& sink)
      : pid_(pid),
        marker_(marker),
        cgroup_(cgroup),
        // The child is not reaped before Finish, so its /proc entry is there to read.
        start_ticks_(start_ticks != 0 ? start_ticks : ProcessStartTicks(pid).value_or(0)),
        stdout_(std::move(stdout_fd)),
        stderr_(std::move(stderr_fd)),
        limits_(limits),
        cancel_(cancel),
        sink_(sink) {}

  uint64_t start_ticks() const { return start_ticks_; }

  ProcessOutcome Run() {
    const Clock::time_point start = Clock::now();
    if (limits_.timeout.count() > 0) timeout_at_ = start + limits_.timeout;
    pidfd_at_ = start + kPidfdAfter;
    while (!(exited_ && !stdout_.valid() && !stderr_.valid())) {
      if (!WaitOnce()) break;
    }
    return Finish();
  }

 private:
  // One poll() and whatever it reported. Returns false when the loop should stop reading.
  bool WaitOnce() {
    std::array<pollfd, 4> fds{};
    nfds_t count = 0;
    int stdout_index = -1;
    int stderr_index = -1;
    int exit_index = -1;
    int cancel_index = -1;
    const auto add = [&](int fd, int& index) {
      index = static_cast<int>(count);
      fds[count++] = pollfd{fd, POLLIN, 0};
    };
    if (stdout_.valid()) add(stdout_.get(), stdout_index);
    if (stderr_.valid()) add(stderr_.get(), stderr_index);
    if (!exited_ && pidfd_.valid()) add(pidfd_.get(), exit_index);
    if (!terminating() && cancel_.fd() >= 0) add(cancel_.fd(), cancel_index);

    const int ready = poll(fds.data(), count, PollTimeoutMs());
    if (ready < 0 && errno != EINTR) {
      // poll only fails for lack of memory here; the group cannot be supervised any more.
      SendToGroup(SIGKILL);
      sigkill_sent_ = true;
      WaitForExit(/*block=*/true);
      return false;
    }
    if (ready > 0) {
      if (cancel_index >= 0 && fds[cancel_index].revents != 0) {
        if (cancel_.raised()) {
          Stop(StopReason::kCancel);
        } else {
          // A pooled eventfd a late Raise of an earlier owner wrote to: not this attempt's cancel.
          uint64_t ignored = 0;
          [[maybe_unused]] const ssize_t drained = read(cancel_.fd(), &ignored, sizeof ignored);
        }
      }
      if (stdout_index >= 0 && fds[stdout_index].revents != 0) Drain(stdout_, PETIT_STREAM_STDOUT);
      if (stderr_index >= 0 && fds[stderr_index].revents != 0) Drain(stderr_, PETIT_STREAM_STDERR);
      if (exit_index >= 0 && fds[exit_index].revents != 0) {
        if (stdout_.valid() || stderr_.valid() || terminating()) {
          WaitForExit(/*block=*/true);
        } else {
          // The common case: the child is gone and so are its pipes, and nothing more will be
          // signalled, so Finish may reap it straight away.
          exited_ = true;
        }
      }
    }
    const Clock::time_point now = Clock::now();
    if (!pidfd_.valid() && !exited_) {
      WaitForExit(/*block=*/false);
      const bool pipes_open = stdout_.valid() || stderr_.valid();
      if (!exited_ && !pidfd_tried_ && (!pipes_open || now >= pidfd_at_)) {
        pidfd_tried_ = true;
        pidfd_.Reset(PidfdOpen(pid_));
      }
    }
    return CheckDeadlines(now);
  }

  bool terminating() const { return stopped_ != StopReason::kNone; }

  int PollTimeoutMs() const {
    std::optional<Clock::time_point> next;
    const auto consider = [&next](std::optional<Clock::time_point> at) {
      if (at && (!next || *at < *next)) next = at;
    };
    if (!terminating()) consider(timeout_at_);
    if (terminating() && !sigkill_sent_) consider(grace_at_);
    if (exited_ && DrainLimitApplies()) consider(drain_at_);
    if (!exited_ && !pidfd_.valid()) {
      consider(pidfd_tried_ ? Clock::now() + kExitCheckWithoutPidfd : pidfd_at_);
    }
    if (!next) return -1;
    const auto remaining = *next - Clock::now();
    if (remaining <= Clock::duration::zero()) return 0;
    // Rounded up, so the loop never wakes just before a deadline and spins.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(remaining).count();
    return static_cast<int>(std::min<int64_t>(ms, INT_MAX));
  }

  // While the group has its grace period, descendants still holding the pipes are waited for.
  bool DrainLimitApplies() const { return !terminating() || sigkill_sent_; }

  bool CheckDeadlines(Clock::time_point now) {
    const bool pipes_open = stdout_.valid() || stderr_.valid();
    // Everything is over; a deadline passing at the same moment changes nothing.
    if (exited_ && !pipes_open) return true;
    if (!terminating() && timeout_at_ && now >= *timeout_at_) Stop(StopReason::kTimeout);
    if (terminating() && !sigkill_sent_ && grace_at_ && now >= *grace_at_) {
      SendToGroup(SIGKILL);
      sigkill_sent_ = true;
      if (exited_) drain_at_ = std::max(drain_at_.value_or(now), now + limits_.drain_after_exit);
    }
    if (exited_ && pipes_open && DrainLimitApplies() && drain_at_ && now >= *drain_at_) {
      output_abandoned_ = true;
      return false;
    }
    return true;
  }

  void Stop(StopReason reason) {
    if (terminating()) return;
    stopped_ = reason;
    if (limits_.kill_grace.count() == 0) {
      SendToGroup(SIGKILL);
      sigkill_sent_ = true;
      return;
    }
    SendToGroup(SIGTERM);
    grace_at_ = Clock::now() + limits_.kill_grace;
  }

  // The group, the attempt's cgroup, and the marked descendants that left the group. Descendants
  // start after the child, so nothing older than it is ever signalled.
  void SendToGroup(int signal_number) const {
    kill(-pid_, signal_number);
    if (cgroup_ != nullptr) cgroup_->Signal(signal_number);
    if (marker_.empty()) return;
    for (int pass = 0; pass < kMarkedKillPasses; ++pass) {
      const std::vector<pid_t> marked = FindMarkedProcesses(marker_, start_ticks_);
      for (const pid_t pid : marked) kill(pid, signal_number);
      // SIGTERM'd processes stay listed until they exit; only SIGKILL is worth repeating.
      if (marked.empty() || signal_number != SIGKILL) break;
    }
  }

  // One read per readiness report keeps the two streams fair to each other.
  void Drain(Fd& fd, int32_t stream) {
    char buffer[kChunkBytes];
    const ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n > 0) {
      sink_.Write(stream, std::string_view(buffer, static_cast<size_t>(n)));
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
      fd.Reset();
    }
  }

  void WaitForExit(bool block) {
    siginfo_t info{};
    const int flags = WEXITED | WNOWAIT | (block ? 0 : WNOHANG);
    int rc;
    do {
      rc = waitid(P_PID, static_cast<id_t>(pid_), &info, flags);
    } while (rc != 0 && errno == EINTR);
    // ECHILD: the host ignores SIGCHLD, so the kernel reaped the child already (and Finish
    // reports its status as lost).
    const bool gone = rc == 0 ? info.si_pid == pid_ : errno == ECHILD;
    if (!gone) return;
    exited_ = true;
    drain_at_ = Clock::now() + limits_.drain_after_exit;
  }

  ProcessOutcome Finish() {
    // Anything of the group that outlived the child after a timeout or cancel goes now, while the
    // unreaped child still pins the group id.
    if (terminating()) {
      SendToGroup(SIGKILL);
      // A SIGKILL'd cgroup empties a moment later; its directory can only be removed then.
      if (cgroup_ != nullptr) cgroup_->WaitUntilEmpty(limits_.drain_after_exit);
    }
    int status = 0;
    pid_t reaped;
    do {
      reaped = waitpid(pid_, &status, 0);
    } while (reaped < 0 && errno == EINTR);

    ProcessOutcome outcome;
    outcome.stopped = stopped_;
    outcome.sigkill_sent = sigkill_sent_;
    outcome.output_abandoned = output_abandoned_;
    if (reaped == pid_ && WIFEXITED(status)) {
      outcome.exited = true;
      outcome.exit_code = WEXITSTATUS(status);
    } else if (reaped == pid_ && WIFSIGNALED(status)) {
      outcome.term_signal = WTERMSIG(status);
      outcome.core_dumped = WCOREDUMP(status);
    } else {
      // Only a host that reaps children it does not own (SIGCHLD ignored, or waitpid(-1)) gets
      // here.
      outcome.status_lost = true;
    }
    return outcome;
  }

  const pid_t pid_;
  const std::string_view marker_;
  const TaskCgroup* const cgroup_;
  const uint64_t start_ticks_;
  Fd pidfd_;  // opened when kPidfdAfter has passed, or the pipes closed first
  bool pidfd_tried_ = false;
  Clock::time_point pidfd_at_;
  Fd stdout_;
  Fd stderr_;
  const Limits& limits_;
  const CancelSignal& cancel_;
  OutputSink& sink_;

  bool exited_ = false;
  StopReason stopped_ = StopReason::kNone;
  bool sigkill_sent_ = false;
  bool output_abandoned_ = false;
  std::optional<Clock::time_point> timeout_at_;
  std::optional<Clock::time_point> grace_at_;
  std::optional<Clock::time_point> drain_at_;
};

// The eventfds of CancelSignals that are gone, for the next ones: making an eventfd costs more
// than all else a CancelSignal does, and one lives per attempt. A pooled eventfd's counter is 0.
// THREADS: thread-safe (mu_). Holds as many as ever ran at once; closes them at exit or unload.
class EventFdPool {
 public:
  static EventFdPool& Instance() {
    static EventFdPool pool;
    return pool;
  }
  EventFdPool(const EventFdPool&) = delete;
  EventFdPool& operator=(const EventFdPool&) = delete;
  ~EventFdPool() {
    for (const int fd : free_) close(fd);
  }

  // A zeroed eventfd, or -1 (errno set).
  int Take() {
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        const int fd = free_.back();
        free_.pop_back();
        return fd;
      }
    }
    return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  }

  void Give(int fd) {
    std::lock_guard lock(mu_);
    free_.push_back(fd);
  }

 private:
  EventFdPool() = default;

  std::mutex mu_;
  std::vector<int> free_;  // GUARDED_BY(mu_)
};

// strerror_r is the GNU variant (returns the text) or the XSI one (fills the buffer).
[[maybe_unused]] const char* StrerrorText(const char* text, const char* /*buffer*/) { return text; }
[[maybe_unused]] const char* StrerrorText(int rc, const char* buffer) {
  return rc == 0 ? buffer : "unknown error";
}

}  // namespace

CancelSignal::CancelSignal() noexcept : fd_(EventFdPool::Instance().Take()) {
  if (fd_ < 0) creation_errno_ = errno;
}

CancelSignal::~CancelSignal() {
  if (fd_ < 0) return;
  // No Raise runs any more (the owner's contract), so once read the counter stays 0.
  if (raised()) {
    uint64_t count = 0;
    [[maybe_unused]] const ssize_t drained = read(fd_, &count, sizeof count);
  }
  EventFdPool::Instance().Give(fd_);
}

void CancelSignal::Raise() noexcept {
  if (raised_.exchange(true, std::memory_order_acq_rel)) return;
  if (fd_ < 0) return;
  const uint64_t one = 1;
  // Non-blocking, and the counter cannot overflow with one write: the result needs no handling.
  [[maybe_unused]] const ssize_t written = write(fd_, &one, sizeof one);
}

Result<ProcessOutcome> RunProcess(const Invocation& invocation, const Limits& limits,
                                  const CancelSignal& cancel, OutputSink& sink) {
  Fd stdout_read, stdout_write, stderr_read, stderr_write;
  if (!MakePipe(stdout_read, stdout_write) || !MakePipe(stderr_read, stderr_write)) {
    return Status::Transient("cannot create pipes for " + std::string(invocation.display_name) +
                             ": " + ErrnoText(errno));
  }
  pid_t pid = -1;
  uint64_t start_ticks = 0;
  const int rc = Spawn(invocation, stdout_write.get(), stderr_write.get(), pid, start_ticks);
  // The child has its copies; holding ours would keep the pipes from ever reporting EOF.
  stdout_write.Reset();
  stderr_write.Reset();
  if (rc != 0) return SpawnError(rc, invocation);
  Supervisor supervisor(pid, start_ticks, invocation.marker, invocation.cgroup,
                        std::move(stdout_read), std::move(stderr_read), limits, cancel, sink);
  sink.Started(pid, supervisor.start_ticks());
  return supervisor.Run();
}

std::optional<uint64_t> ProcessStartTicks(pid_t pid) {
  const std::optional<std::string> line = ReadProcFile("/proc/" + std::to_string(pid) + "/stat");
  if (!line.has_value()) return std::nullopt;
  // The command name, in parentheses, may hold spaces and parentheses itself.
  const size_t name_end = line->rfind(')');
  if (name_end == std::string::npos) return std::nullopt;
  const char* cursor = line->c_str() + name_end + 1;
  // Field 0 here is the state; skip it and the fields up to the start time.
  for (int field = 0; field <= kStartTimeAfterState; ++field) {
    while (*cursor == ' ') ++cursor;
    if (*cursor == '\0') return std::nullopt;
    if (field == kStartTimeAfterState) break;
    while (*cursor != ' ' && *cursor != '\0') ++cursor;
  }
  char* end = nullptr;
  errno = 0;
  const unsigned long long ticks = std::strtoull(cursor, &end, 10);
  if (end == cursor || errno != 0) return std::nullopt;
  return static_cast<uint64_t>(ticks);
}

std::vector<pid_t> FindMarkedProcesses(std::string_view marker, uint64_t not_before) {
  std::vector<pid_t> found;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return found;
  const pid_t self = getpid();
  while (const dirent* entry = readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid <= 0 || pid == self) continue;
    const std::optional<uint64_t> started = ProcessStartTicks(static_cast<pid_t>(pid));
    if (!started.has_value() || *started < not_before) continue;
    // Another user's environment is unreadable, so only this user's processes are ever listed.
    const std::optional<std::string> environment =
        ReadProcFile("/proc/" + std::to_string(pid) + "/environ");
    if (environment.has_value() && HasEntry(*environment, marker)) {
      found.push_back(static_cast<pid_t>(pid));
    }
  }
  closedir(proc);
  return found;
}

std::string SignalName(int signal_number) {
  struct Named {
    int number;
    const char* name;
  };
  static constexpr Named kNames[] = {
      {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},       {SIGQUIT, "SIGQUIT"},   {SIGILL, "SIGILL"},
      {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"},     {SIGBUS, "SIGBUS"},     {SIGFPE, "SIGFPE"},
      {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"},     {SIGSEGV, "SIGSEGV"},   {SIGUSR2, "SIGUSR2"},
      {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"},     {SIGTERM, "SIGTERM"},   {SIGCHLD, "SIGCHLD"},
      {SIGCONT, "SIGCONT"}, {SIGSTOP, "SIGSTOP"},     {SIGTSTP, "SIGTSTP"},   {SIGTTIN, "SIGTTIN"},
      {SIGTTOU, "SIGTTOU"}, {SIGURG, "SIGURG"},       {SIGXCPU, "SIGXCPU"},   {SIGXFSZ, "SIGXFSZ"},
      {SIGPROF, "SIGPROF"}, {SIGVTALRM, "SIGVTALRM"}, {SIGWINCH, "SIGWINCH"}, {SIGIO, "SIGIO"},
      {SIGSYS, "SIGSYS"},
  };
  for (const Named& named : kNames) {
    if (named.number == signal_number) return named.name;
  }
  return "SIG" + std::to_string(signal_number);
}

std::string ErrnoText(int error_number) {
  char buffer[256] = {};
  return StrerrorText(strerror_r(error_number, buffer, sizeof buffer), buffer);
}

}  // namespace petit::command

// TaskCgroup: a cgroup v2 of its own for one attempt's processes, when the host may create one.
//
// A process group and an environment marker can both be left (setsid, env -i); a cgroup cannot be
// left by an unprivileged process, so every descendant of the attempt's child stays in it, however
// it daemonizes. That needs a cgroup the host may write: the one it runs in when systemd delegates
// it (dist/petit.service, Delegate=yes), or any when it runs as root. The attempt's cgroup is
// one of a pool of cgroups inside the host's own, named
//   petit-<host pid>-<host start ticks>-<n>
// so that the next start's recovery finds what a dead host left (host/src/runtime/
// task_cgroups.h); an attempt takes a free one and gives it back empty, since creating and
// removing a cgroup per attempt would cost as much as the spawn. The host's own cgroup keeps no
// controller enabled for its children, so the host may stay in it (cgroup v2 forbids processes
// only in inner cgroups that distribute controllers).
//
// Where no such cgroup is available, TaskCgroup is disabled and every member function does
// nothing: the process group and the PETIT_* marker remain (subprocess.h).
//
// Threads: TaskCgroupBase may be called from any thread (computed once). A TaskCgroup is used by
// the one thread that runs its attempt.
#ifndef PETIT_PLUGINS_COMMAND_TASK_CGROUP_H_
#define PETIT_PLUGINS_COMMAND_TASK_CGROUP_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace petit::command {

// The directory of this process's own cgroup v2 when this process may create cgroups in it and
// move processes there; nullopt otherwise (no cgroup v2 mounted, or not delegated to this user).
// PETIT_TASK_CGROUPS=off in the environment turns it off.
const std::optional<std::string>& TaskCgroupBase();

class TaskCgroup {
 public:
  // A free cgroup for the attempt; disabled when there is no base or mkdir fails.
  static TaskCgroup Create();
  TaskCgroup() = default;
  TaskCgroup(TaskCgroup&& other) noexcept;
  TaskCgroup& operator=(TaskCgroup&&) = delete;
  TaskCgroup(const TaskCgroup&) = delete;
  TaskCgroup& operator=(const TaskCgroup&) = delete;
  // Gives the cgroup back to the pool, empty: processes still in it (background processes of a
  // task that ended normally, which are left alone like the process group's) move back to the
  // host's cgroup.
  ~TaskCgroup();

  bool enabled() const { return !dir_.empty(); }
  const std::string& dir() const { return dir_; }
  // The cgroup's directory, kept open (O_PATH, close-on-exec) while the cgroup is in the pool: the
  // child is made in the cgroup with clone3's CLONE_INTO_CGROUP (subprocess.cc); -1 if disabled or
  // it could not be opened.
  int dir_fd() const { return files_.dir; }
  // "<dir>/cgroup.procs": where the child writes "0" to join before it execs when it could not be
  // made in the cgroup (no clone3, as under some seccomp filters); nullptr if disabled.
  const char* procs_path() const { return enabled() ? procs_.c_str() : nullptr; }
  // That file, kept open (write-only, close-on-exec) while the cgroup is in the pool, so the child
  // need not open it; -1 if it could not be opened (the child then opens procs_path()).
  int procs_fd() const { return files_.procs; }

  // Sends `signal_number` to every process in the cgroup; SIGKILL through cgroup.kill, which no
  // fork can outrun (Linux 5.14; older kernels get each listed process). A cgroup killed that way
  // is removed afterwards instead of going back to the pool: some kernels (6.18 here) SIGKILL a
  // child made by CLONE_INTO_CGROUP into a cgroup whose kill count differs from its parent's.
  void Signal(int signal_number) const;

  // Waits up to `limit` for the cgroup to empty (after a SIGKILL); true when it did.
  bool WaitUntilEmpty(std::chrono::milliseconds limit) const;

  // The cgroup's files an attempt uses, opened once per pooled cgroup; -1 when not open.
  struct Files {
    int procs = -1;   // cgroup.procs, write-only
    int events = -1;  // cgroup.events, read-only
    int dir = -1;     // the directory, O_PATH
  };

 private:
  TaskCgroup(std::string dir, Files files);
  // Whether a process is in the cgroup (cgroup.events).
  bool Populated() const;

  std::string dir_;
  std::string procs_;
  Files files_;
  mutable bool killed_ = false;  // through cgroup.kill: not to be reused
};

}  // namespace petit::command

#endif  // PETIT_PLUGINS_COMMAND_TASK_CGROUP_H_

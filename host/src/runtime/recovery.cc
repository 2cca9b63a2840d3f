#include "runtime/recovery.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include "petit/core/clock.h"
#include "runtime/proc_files.h"
#include "runtime/process_registry.h"
#include "runtime/task_cgroups.h"

namespace petit::host {
namespace {

// Room for any hostname (POSIX: HOST_NAME_MAX, 64 on Linux) and its terminating NUL.
constexpr size_t kHostnameBuffer = 256;
// In /proc/<pid>/stat: the state is the first field after the command name, the start time is
// field 22 overall, 19 fields after the state.
constexpr size_t kStartTimeAfterState = 19;

struct Owner {
  std::string_view hostname;
  int64_t pid = 0;
  std::string_view start_time;
};

// Splits "<hostname>/<pid>/<start time>" from the right: hostnames have no '/', and the pid must
// be a positive pid_t, so that kill() below never addresses a process group.
std::optional<Owner> ParseOwner(std::string_view text) {
  const size_t last = text.rfind('/');
  if (last == std::string_view::npos || last == 0) return std::nullopt;
  const size_t middle = text.rfind('/', last - 1);
  if (middle == std::string_view::npos || middle == 0) return std::nullopt;
  Owner owner;
  owner.hostname = text.substr(0, middle);
  owner.start_time = text.substr(last + 1);
  const std::string_view pid = text.substr(middle + 1, last - middle - 1);
  auto [end, error] = std::from_chars(pid.data(), pid.data() + pid.size(), owner.pid);
  if (error != std::errc() || end != pid.data() + pid.size() || owner.pid <= 0 ||
      owner.pid > std::numeric_limits<pid_t>::max() || owner.start_time.empty()) {
    return std::nullopt;
  }
  return owner;
}

Result<std::string> Hostname() {
  char name[kHostnameBuffer] = {};
  if (gethostname(name, sizeof name - 1) != 0) {
    return Unavailable(std::string("cannot read this host's name: ") + std::strerror(errno));
  }
  return std::string(name);
}

struct ProcessStat {
  char state = '?';
  int64_t process_group = 0;
  std::string start_time;
};

// nullopt when /proc has no readable entry for `pid`.
std::optional<ProcessStat> ReadStat(int64_t pid) {
  const std::optional<std::string> text = ReadProcFile("/proc/" + std::to_string(pid) + "/stat");
  if (!text.has_value() || text->empty()) return std::nullopt;
  const std::string& line = *text;
  // The command name, in parentheses, may hold spaces and parentheses itself.
  const size_t name_end = line.rfind(')');
  if (name_end == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(name_end + 1));
  ProcessStat stat;
  std::string skipped;
  int64_t parent = 0;
  // The state, the parent's pid, the process group.
  if (!(fields >> stat.state >> parent >> stat.process_group)) return std::nullopt;
  for (size_t i = 3; i < kStartTimeAfterState; ++i) {
    if (!(fields >> skipped)) return std::nullopt;
  }
  if (!(fields >> stat.start_time)) return std::nullopt;
  return stat;
}

bool IsZombie(char state) { return state == 'Z' || state == 'X'; }

constexpr std::string_view kRunIdVariable = "PETIT_RUN_ID=";
// How often TerminateLeftovers looks whether SIGTERM'd processes are gone.
constexpr std::chrono::milliseconds kLeftoverPoll{20};

// The value of PETIT_RUN_ID in `pid`'s environment; empty when it has none or cannot be read
// (another user's process, a zombie, a process gone).
std::string RunIdOf(int64_t pid) {
  const std::optional<std::string> environment =
      ReadProcFile("/proc/" + std::to_string(pid) + "/environ");
  if (!environment.has_value()) return "";
  std::istringstream in(*environment);
  std::string entry;
  while (std::getline(in, entry, '\0')) {
    if (std::string_view(entry).substr(0, kRunIdVariable.size()) == kRunIdVariable) {
      return entry.substr(kRunIdVariable.size());
    }
  }
  return "";
}

std::optional<uint64_t> ParseTicks(std::string_view text) {
  uint64_t ticks = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), ticks);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return ticks;
}

// A found leftover with the start time that names it, so that it is never confused with a
// process that took its pid after it exited.
struct Found {
  Leftover leftover;
  std::string start_time;
};

bool StillRunning(const Found& found) {
  const std::optional<ProcessStat> stat = ReadStat(found.leftover.pid);
  return stat.has_value() && !IsZombie(stat->state) && stat->start_time == found.start_time;
}

void Signal(const std::vector<Found>& found, int signal_number) {
  for (const Found& process : found) {
    if (StillRunning(process)) kill(static_cast<pid_t>(process.leftover.pid), signal_number);
  }
}

// The processes in the attempt cgroups of the dead hosts that `found` does not list yet.
// Membership is proof enough: a process cannot leave a cgroup, and a dead host's cgroups hold
// only what its running attempts started. The run is the one in the process's PETIT_RUN_ID when
// it kept it, else unknown (empty).
void AddCgroupMembers(const std::vector<std::string>& cgroups, std::vector<Found>& found) {
  for (const std::string& cgroup : cgroups) {
    for (const int64_t pid : CgroupMembers(cgroup)) {
      bool listed = false;
      for (const Found& process : found) listed = listed || process.leftover.pid == pid;
      if (listed) continue;
      const std::optional<ProcessStat> stat = ReadStat(pid);
      if (!stat.has_value() || IsZombie(stat->state)) continue;
      found.push_back(Found{Leftover{pid, RunIdOf(pid)}, stat->start_time});
    }
  }
}

// The attempt cgroups of the dead owners of `dead_runs`.
std::vector<std::string> DeadHostCgroups(const std::vector<RunRecord>& dead_runs) {
  const std::optional<std::string>& base = TaskCgroupsBase();
  if (!base.has_value()) return {};
  std::set<std::string> hosts;
  for (const RunRecord& run : dead_runs) {
    const std::optional<Owner> owner = ParseOwner(run.owner);
    if (owner.has_value()) {
      hosts.insert(std::to_string(owner->pid) + "-" + std::string(owner->start_time));
    }
  }
  return FindHostCgroups(*base, hosts);
}

// A process group a dead host noted for one of its runs (process_registry.h).
struct NotedGroup {
  std::string run_id;
  uint64_t start_ticks = 0;
};

// Process group -> its note, for the groups the dead owners of `dead_runs` noted for those runs and
// that are still theirs. Only a group its noted process leads counts (a plugin that left its
// process in the host's own group must not get the host's group killed), and not when the
// leader's pid now names a process started at another time: the group emptied and the id was
// reused. (While any member lives, the kernel gives no new process that id.)
std::unordered_map<int64_t, NotedGroup> DeadRunGroups(const std::vector<RunRecord>& dead_runs) {
  std::set<std::string> ids;
  std::set<std::pair<int64_t, std::string>> owners;
  for (const RunRecord& run : dead_runs) {
    ids.insert(run.id.str());
    const std::optional<Owner> owner = ParseOwner(run.owner);
    if (owner.has_value()) owners.emplace(owner->pid, std::string(owner->start_time));
  }
  std::unordered_map<int64_t, NotedGroup> groups;
  const int64_t own_group = getpgrp();
  for (const auto& [pid, start] : owners) {
    for (const NotedProcess& note : ReadProcessNotes(pid, start)) {
      if (!ids.contains(note.run) || note.process_group != note.pid || note.process_group <= 1 ||
          note.process_group == own_group) {
        continue;
      }
      const std::optional<ProcessStat> leader = ReadStat(note.pid);
      if (leader.has_value() && leader->start_time != std::to_string(note.start_ticks)) continue;
      groups[note.process_group] = NotedGroup{note.run, note.start_ticks};
    }
  }
  return groups;
}

void RemoveDeadOwnersNotes(const std::vector<RunRecord>& dead_runs) {
  for (const RunRecord& run : dead_runs) {
    const std::optional<Owner> owner = ParseOwner(run.owner);
    if (owner.has_value()) RemoveProcessNotes(owner->pid, owner->start_time);
  }
}

// What the dead owners of `dead_runs` left: processes with one of those runs' PETIT_RUN_ID in
// their environment, members of the process groups they noted, and members of their attempts'
// cgroups.
std::vector<Found> FindLeftovers(const std::vector<RunRecord>& dead_runs,
                                 const std::unordered_map<int64_t, NotedGroup>& groups,
                                 const std::vector<std::string>& cgroups) {
  // Run id -> the start time of its dead owner; runs without a parsable owner are left alone.
  std::unordered_map<std::string, uint64_t> owner_start;
  for (const RunRecord& run : dead_runs) {
    const std::optional<Owner> owner = ParseOwner(run.owner);
    if (!owner.has_value()) continue;
    const std::optional<uint64_t> ticks = ParseTicks(owner->start_time);
    if (ticks.has_value()) owner_start.emplace(run.id.str(), *ticks);
  }
  std::vector<Found> found;
  DIR* proc = owner_start.empty() && groups.empty() ? nullptr : opendir("/proc");
  if (proc == nullptr) {
    AddCgroupMembers(cgroups, found);
    return found;
  }
  const int64_t self = getpid();
  while (const dirent* entry = readdir(proc)) {
    const std::string_view name = entry->d_name;
    int64_t pid = 0;
    auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (error != std::errc() || end != name.data() + name.size() || pid <= 0 || pid == self) {
      continue;
    }
    std::optional<ProcessStat> stat;
    if (!groups.empty()) {
      stat = ReadStat(pid);
      if (!stat.has_value() || IsZombie(stat->state)) continue;
      const auto group = groups.find(stat->process_group);
      const std::optional<uint64_t> started = ParseTicks(stat->start_time);
      // Members start no earlier than the leader the group was noted with.
      if (group != groups.end() && started.has_value() && *started >= group->second.start_ticks) {
        found.push_back(Found{Leftover{pid, group->second.run_id}, stat->start_time});
        continue;
      }
    }
    std::string run_id = RunIdOf(pid);
    if (run_id.empty()) continue;
    const auto owner = owner_start.find(run_id);
    if (owner == owner_start.end()) continue;
    if (!stat.has_value()) stat = ReadStat(pid);
    if (!stat.has_value() || IsZombie(stat->state)) continue;
    const std::optional<uint64_t> started = ParseTicks(stat->start_time);
    // Started before the owner: not its descendant, whatever its environment says.
    if (!started.has_value() || *started < owner->second) continue;
    found.push_back(Found{Leftover{pid, std::move(run_id)}, stat->start_time});
  }
  closedir(proc);
  AddCgroupMembers(cgroups, found);
  return found;
}

std::string Reason(const std::string& owner) {
  return "the host process " + (owner.empty() ? std::string("(not recorded)") : owner) + " died";
}

constexpr std::string_view kStrandedReason =
    "the run ended but this attempt's end was never recorded (its host lost the state store)";

// Attempts left queued or running in an ended run become interrupted; one line per run.
Status RepairStrandedAttempts(StateStore& store, int64_t now_us, std::ostream* log) {
  Result<std::vector<AttemptKey>> stranded =
      store.InterruptStrandedAttempts(kStrandedReason, now_us);
  if (!stranded.ok()) return stranded.status().WithContext("cannot recover runs");
  if (log == nullptr) return Status::Ok();
  for (size_t first = 0; first < stranded->size();) {
    size_t last = first;
    std::string tasks;
    for (; last < stranded->size() && (*stranded)[last].run == (*stranded)[first].run; ++last) {
      const AttemptKey& key = (*stranded)[last];
      tasks += (tasks.empty() ? "" : ", ") + key.task.str() + " (attempt " +
               std::to_string(key.attempt) + ")";
    }
    *log << "petit: run " << (*stranded)[first].run.str()
         << " had ended with attempts still marked running or queued, now interrupted: " << tasks
         << "\n";
    first = last;
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> ProcessOwner(int64_t pid) {
  Result<std::string> hostname = Hostname();
  if (!hostname.ok()) return hostname.status();
  std::optional<ProcessStat> stat = ReadStat(pid);
  if (!stat.has_value()) {
    return NotFound("process " + std::to_string(pid) + " does not run on this host");
  }
  return *hostname + "/" + std::to_string(pid) + "/" + stat->start_time;
}

Result<std::string> CurrentProcessOwner() { return ProcessOwner(getpid()); }

namespace {

// The pid `owner` names, if it is a process of this host that runs now under that owner string.
Result<int64_t> LiveOwnerPid(std::string_view owner) {
  const std::optional<Owner> parsed = ParseOwner(owner);
  if (!parsed.has_value()) return FailedPrecondition("'" + std::string(owner) + "' is no owner");
  Result<std::string> now = ProcessOwner(parsed->pid);
  if (!now.ok() || *now != owner) {
    return FailedPrecondition("the process " + std::string(owner) + " no longer runs");
  }
  return parsed->pid;
}

}  // namespace

Result<std::vector<std::string>> OwnerCommandLine(std::string_view owner) {
  Result<int64_t> pid = LiveOwnerPid(owner);
  if (!pid.ok()) return pid.status();
  const std::string text =
      ReadProcFile("/proc/" + std::to_string(*pid) + "/cmdline").value_or(std::string());
  // Checked again after the read: the command line read is the owner's only if the pid still
  // names the same process.
  PETIT_RETURN_IF_ERROR(LiveOwnerPid(owner).status());
  std::vector<std::string> argv;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    argv.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return argv;
}

Status SignalOwner(std::string_view owner, int signal_number) {
  const std::optional<Owner> parsed = ParseOwner(owner);
  if (!parsed.has_value()) return FailedPrecondition("'" + std::string(owner) + "' is no owner");
  const auto pid = static_cast<pid_t>(parsed->pid);
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_send_signal)
  // The pidfd pins the process found now: if it exits and its pid is reused after the check
  // below, the signal goes nowhere instead of to the newcomer.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    Status live = LiveOwnerPid(owner).status();
    int rc = 0;
    int error = 0;
    if (live.ok()) {
      rc = static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, signal_number, nullptr, 0));
      error = errno;
    }
    close(pidfd);
    if (!live.ok()) return live;
    if (rc == 0) return Status::Ok();
    if (error == ESRCH) return FailedPrecondition("the process " + std::string(owner) + " exited");
    return Internal("cannot signal " + std::string(owner) + ": " + std::strerror(error));
  }
  if (errno == ESRCH) return FailedPrecondition("the process " + std::string(owner) + " exited");
  if (errno != ENOSYS) {
    return Internal("cannot reach " + std::string(owner) + ": " + std::strerror(errno));
  }
#endif
  PETIT_RETURN_IF_ERROR(LiveOwnerPid(owner).status());
  if (kill(pid, signal_number) != 0) {
    if (errno == ESRCH) return FailedPrecondition("the process " + std::string(owner) + " exited");
    return Internal("cannot signal " + std::string(owner) + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

OwnerState CheckOwner(std::string_view owner, std::string_view this_owner) {
  if (owner.empty()) return OwnerState::kDead;
  const std::optional<Owner> parsed = ParseOwner(owner);
  const std::optional<Owner> self = ParseOwner(this_owner);
  if (!parsed.has_value() || !self.has_value()) return OwnerState::kUnknown;
  if (parsed->hostname != self->hostname) return OwnerState::kUnknown;
  // kill(pid, 0) sees processes that /proc may hide (mounted with hidepid): only "no such
  // process" is proof of death.
  if (kill(static_cast<pid_t>(parsed->pid), 0) != 0 && errno == ESRCH) return OwnerState::kDead;
  const std::optional<ProcessStat> stat = ReadStat(parsed->pid);
  if (!stat.has_value()) return OwnerState::kAlive;
  if (IsZombie(stat->state) || stat->start_time != parsed->start_time) return OwnerState::kDead;
  return OwnerState::kAlive;
}

std::vector<Leftover> TerminateLeftovers(const std::vector<RunRecord>& dead_runs,
                                         std::chrono::milliseconds grace) {
  const std::vector<std::string> cgroups = DeadHostCgroups(dead_runs);
  const std::unordered_map<int64_t, NotedGroup> groups = DeadRunGroups(dead_runs);
  const std::vector<Found> found = FindLeftovers(dead_runs, groups, cgroups);
  std::vector<Leftover> leftovers;
  // Empty cgroups of a dead host go too.
  if (found.empty()) {
    for (const std::string& cgroup : cgroups) KillAndRemoveCgroup(cgroup, grace);
    return leftovers;
  }
  Signal(found, SIGTERM);
  const auto give_up = std::chrono::steady_clock::now() + grace;
  const auto any_running = [&found] {
    for (const Found& process : found) {
      if (StillRunning(process)) return true;
    }
    return false;
  };
  // Bounded polling: these processes are not our children, so nothing else reports their exit.
  while (any_running() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(kLeftoverPoll);
  }
  Signal(found, SIGKILL);
  // What forked during the grace period carries the same run id.
  for (const Found& late : FindLeftovers(dead_runs, groups, cgroups)) {
    kill(static_cast<pid_t>(late.leftover.pid), SIGKILL);
  }
  for (const std::string& cgroup : cgroups) KillAndRemoveCgroup(cgroup, grace);
  leftovers.reserve(found.size());
  for (const Found& process : found) leftovers.push_back(process.leftover);
  return leftovers;
}

Result<RecoveredRuns> RecoverDeadRuns(StateStore& store, const std::string& this_owner,
                                      int64_t now_us, const ResumeFilter& resume, std::ostream* log,
                                      bool repair_stranded) {
  Result<std::vector<RunRecord>> incomplete = store.ListIncompleteRuns();
  if (!incomplete.ok()) return incomplete.status().WithContext("cannot recover runs");
  std::vector<RunRecord> dead;
  for (RunRecord& run : *incomplete) {
    if (CheckOwner(run.owner, this_owner) == OwnerState::kDead) dead.push_back(std::move(run));
  }
  // Before anything is marked (and so before anything could be retried).
  for (const Leftover& leftover : TerminateLeftovers(dead, kLeftoverGrace)) {
    if (log == nullptr) continue;
    *log << "petit: terminated process " << leftover.pid << ", left behind by "
         << (leftover.run_id.empty() ? "a task of a dead host (in its cgroup, without PETIT_RUN_ID)"
                                     : "run " + leftover.run_id)
         << "\n";
  }
  // Their processes are gone now; so are the notes that named them.
  RemoveDeadOwnersNotes(dead);
  RemoveEmptyNotesOfDeadHosts();
  if (TaskCgroupsBase().has_value()) RemoveEmptyCgroupsOfDeadHosts(*TaskCgroupsBase());
  RecoveredRuns recovered;
  for (RunRecord& run : dead) {
    const std::string reason = Reason(run.owner);
    if (resume && resume(run)) {
      // One step, so that no death of this process can leave the run interrupted for good: until
      // it is taken over it is the dead owner's, after that it is this process's, and if this one
      // dies too the next recovery takes it over again.
      Result<bool> taken = store.TakeOverRun(run.id, run.owner, this_owner, reason, now_us);
      if (!taken.ok() && taken.status().code() != StatusCode::kNotFound) {
        return taken.status().WithContext("cannot recover runs");
      }
      // Another petit starting at the same moment may have taken it or ended it first.
      if (!taken.ok() || !*taken) continue;
      run.status = RunStatus::kRunning;
      run.owner = this_owner;
      ++run.retries;
      run.retried_us = now_us;
      run.error = reason;  // what the caller says; the store keeps no error for a running run
      recovered.taken_over.push_back(std::move(run));
      continue;
    }
    Status marked = store.MarkInterrupted(run.id, reason, now_us);
    // Another petit starting at the same moment may have recovered it first.
    if (marked.code() == StatusCode::kFailedPrecondition ||
        marked.code() == StatusCode::kNotFound) {
      continue;
    }
    if (!marked.ok()) return marked.WithContext("cannot recover runs");
    run.status = RunStatus::kInterrupted;
    run.ended_us = now_us;
    run.error = reason;
    recovered.interrupted.push_back(std::move(run));
  }
  if (repair_stranded) PETIT_RETURN_IF_ERROR(RepairStrandedAttempts(store, now_us, log));
  return recovered;
}

Result<std::vector<RunRecord>> RecoverInterruptedRuns(StateStore& store,
                                                      const std::string& this_owner, int64_t now_us,
                                                      std::ostream* log) {
  Result<RecoveredRuns> recovered = RecoverDeadRuns(store, this_owner, now_us, nullptr, log);
  if (!recovered.ok()) return recovered.status();
  return std::move(recovered->interrupted);
}

std::string DescribeInterrupted(const RunRecord& run) {
  return "interrupted run " + run.id.str() + " of job " + run.job.str() + ": " + run.error;
}

Result<Recovery> RecoverHost(StateStore& store, std::ostream& err, const ResumeFilter& resume) {
  Result<std::string> owner = CurrentProcessOwner();
  if (!owner.ok()) return owner.status().WithContext("cannot tell which runs this host owns");
  Result<RecoveredRuns> recovered =
      RecoverDeadRuns(store, *owner, SystemClock::Instance().NowMicros(), resume, &err);
  if (!recovered.ok()) return recovered.status();
  for (const RunRecord& run : recovered->interrupted) {
    err << "petit: " << DescribeInterrupted(run) << "\n";
  }
  for (const RunRecord& run : recovered->taken_over) {
    err << "petit: " << DescribeInterrupted(run) << "; taken over to resume it\n";
  }
  return Recovery{std::move(owner).value(), std::move(recovered->interrupted),
                  std::move(recovered->taken_over)};
}

Result<std::string> RecoverOnStartup(StateStore& store, std::ostream& err) {
  Result<Recovery> recovery = RecoverHost(store, err);
  if (!recovery.ok()) return recovery.status();
  return std::move(recovery->owner);
}

}  // namespace petit::host

// What recovery needs of the command plugin's per-attempt cgroups (plugins/command/src/
// task_cgroup.h, kept in step with this file): each attempt's processes live in
//   <base>/petit-<host pid>-<run id>-<task id>-<attempt>
// where <base> is the cgroup v2 the host process runs in, when it may create cgroups there
// (systemd's Delegate=yes, or root). A host that restarts in the same cgroup (the same systemd
// service) finds what its dead predecessor left, whatever those processes did to their process
// group or environment.
//
// Threads: every function may be called from any thread; TaskCgroupsBase is computed once.
#ifndef PETIT_HOST_RUNTIME_TASK_CGROUPS_H_
#define PETIT_HOST_RUNTIME_TASK_CGROUPS_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace petit::host {

// The base directory, or nullopt when there is none (no cgroup v2, not writable, or
// PETIT_TASK_CGROUPS=off).
const std::optional<std::string>& TaskCgroupsBase();

struct RunCgroup {
  std::string dir;
  std::string run_id;
};

// The attempt cgroups under `base` that belong to one of `run_ids`.
std::vector<RunCgroup> FindRunCgroups(const std::string& base,
                                      const std::set<std::string>& run_ids);

// The pids in cgroup `dir`.
std::vector<int64_t> CgroupMembers(const std::string& dir);

// SIGKILLs everything in `dir` (cgroup.kill, or each member before Linux 5.14), waits up to
// `limit` for it to empty, and removes it. True when it is gone.
bool KillAndRemoveCgroup(const std::string& dir, std::chrono::milliseconds limit);

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_TASK_CGROUPS_H_

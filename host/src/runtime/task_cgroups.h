// What recovery needs of the command plugin's per-attempt cgroups (plugins/command/src/
// task_cgroup.h, kept in step with this file): each running attempt's processes live in one of
//   <base>/petit-<host pid>-<host start ticks>-<n>
// where <base> is the cgroup v2 the host process runs in, when it may create cgroups there
// (systemd's Delegate=yes, or root). A free one is empty, so whatever is in those of a dead host
// is what its running attempts left. A host that restarts in the same cgroup (the same systemd
// service) finds it, whatever those processes did to their process group or environment.
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
// PETIT_TASK_CGROUPS=off): plugins/command/src/cgroup_base.h's, the command plugin's own.
const std::optional<std::string>& TaskCgroupsBase();

// The attempt cgroups under `base` of the host processes `hosts`, each "<pid>-<start ticks>".
std::vector<std::string> FindHostCgroups(const std::string& base,
                                         const std::set<std::string>& hosts);

// Removes the empty attempt cgroups under `base` of host processes that are gone (one killed
// while idle leaves its free ones); populated ones may be another store's host's, and are left.
void RemoveEmptyCgroupsOfDeadHosts(const std::string& base);

// The pids in cgroup `dir`.
std::vector<int64_t> CgroupMembers(const std::string& dir);

// SIGKILLs everything in `dir` (cgroup.kill, or each member before Linux 5.14), waits up to
// `limit` for it to empty, and removes it. True when it is gone.
bool KillAndRemoveCgroup(const std::string& dir, std::chrono::milliseconds limit);

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_TASK_CGROUPS_H_

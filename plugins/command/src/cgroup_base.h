// Where a process's task cgroups go: the directory of its own cgroup v2, when it may create
// cgroups there. One source for the command plugin (task_cgroup.cc, which makes the attempts'
// cgroups there) and the host (host/src/runtime/task_cgroups.cc, whose recovery looks there for
// what a dead host left), so that both always find the same directory: the host compiles this
// file too, and reads /proc with its ReadProcFile. It uses the C and C++ standard libraries only.
//
// Threads: pure functions but for DetectCgroupBase, which reads /proc and may be called from any
// thread.
#ifndef PETIT_PLUGINS_COMMAND_CGROUP_BASE_H_
#define PETIT_PLUGINS_COMMAND_CGROUP_BASE_H_

#include <optional>
#include <string>
#include <string_view>

namespace petit::cgroups {

// This process's own cgroup v2 directory if it may create cgroups and move processes there;
// nullopt otherwise (no cgroup v2, not delegated to this user, or PETIT_TASK_CGROUPS=off). Where
// systemd mounts the hierarchy whole (/sys/fs/cgroup, or /sys/fs/cgroup/unified beside v1's) it
// is the directory of /proc/self/cgroup's path there if that lists this process (two small reads);
// elsewhere /proc/self/mountinfo decides (CgroupDirFromMountinfo), which the kernel writes out
// mount by mount (about 100 us cold here).
std::optional<std::string> DetectCgroupBase();

// The directory of cgroup `own` (a path of the v2 hierarchy, as /proc/self/cgroup gives it) under
// the first cgroup2 mount that `mountinfo` (/proc/<pid>/mountinfo's text) lists; empty when there
// is none or that mount shows another part of the hierarchy.
std::string CgroupDirFromMountinfo(std::string_view mountinfo, std::string_view own);

// A whole file of /proc or of the cgroup file system (they report size 0, so it is read until
// EOF), through a close-on-exec descriptor: other threads spawn children at any moment, and none
// may inherit it. nullopt when it cannot be opened. The command plugin's and the host's reader.
std::optional<std::string> ReadProcFile(const std::string& path);

}  // namespace petit::cgroups

#endif  // PETIT_PLUGINS_COMMAND_CGROUP_BASE_H_

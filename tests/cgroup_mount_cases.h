// The cases that both copies of the cgroup v2 directory lookup must answer alike: the host's
// (host/src/runtime/task_cgroups.h, for recovery) and the command plugin's (plugins/command/src/
// task_cgroup.h, for attempts), which are kept in step so that recovery finds what attempts made.
// Each is a /proc/self/mountinfo text, the process's cgroup as /proc/self/cgroup names it, and the
// directory expected (empty: none).
#ifndef PETIT_TESTS_CGROUP_MOUNT_CASES_H_
#define PETIT_TESTS_CGROUP_MOUNT_CASES_H_

namespace petit::testing_support {

struct CgroupMountCase {
  const char* name;
  const char* mountinfo;
  const char* own;
  const char* dir;
};

inline constexpr char kUnifiedMounts[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

inline constexpr char kHybridMounts[] =
    "25 21 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 "
    "cgroup2 rw,nsdelegate\n"
    "28 25 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup "
    "rw,memory";

// A container without a cgroup namespace: /sys/fs/cgroup shows only the container's sub-tree.
inline constexpr char kContainerMounts[] =
    "610 600 0:30 /docker/abc /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime master:9 - cgroup2 "
    "cgroup rw\n";

inline constexpr CgroupMountCase kCgroupMountCases[] = {
    {"a systemd service under the unified hierarchy", kUnifiedMounts, "/system.slice/petit.service",
     "/sys/fs/cgroup/system.slice/petit.service"},
    {"the root cgroup", kUnifiedMounts, "/", "/sys/fs/cgroup"},
    {"the hybrid layout's unified mount, its last line without a newline", kHybridMounts,
     "/user.slice/session-1.scope", "/sys/fs/cgroup/unified/user.slice/session-1.scope"},
    {"the container's own cgroup, its mount's root", kContainerMounts, "/docker/abc",
     "/sys/fs/cgroup"},
    {"a cgroup inside the container's", kContainerMounts, "/docker/abc/inner",
     "/sys/fs/cgroup/inner"},
    {"a cgroup outside the mounted sub-tree", kContainerMounts, "/system.slice/other.service", ""},
    {"a name that only starts like the mounted sub-tree", kContainerMounts, "/docker/abcdef", ""},
    {"cgroup v1 only", "28 25 0:25 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", "/",
     ""},
    {"no mount at all", "", "/", ""},
    {"a line cut short", "35 24 0:30 / - cgroup2 cgroup2 rw\n", "/", ""},
};

}  // namespace petit::testing_support

#endif  // PETIT_TESTS_CGROUP_MOUNT_CASES_H_

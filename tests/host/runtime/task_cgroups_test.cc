// TaskCgroupsBase and CgroupDirFromMountinfo: the host finds the cgroup its attempts' cgroups live
// in the way the command plugin does (tests/cgroup_mount_cases.h holds the cases both answer).
#include "runtime/task_cgroups.h"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "cgroup_mount_cases.h"

namespace petit::host {
namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(CgroupDirFromMountinfoTest, FindsTheCgroupUnderTheFirstCgroup2MountAsThePluginDoes) {
  for (const testing_support::CgroupMountCase& c : testing_support::kCgroupMountCases) {
    EXPECT_EQ(CgroupDirFromMountinfo(c.mountinfo, c.own), c.dir) << c.name;
  }
}

TEST(TaskCgroupsBaseTest, IsTheCgroupThatListsThisProcessWhereMountinfoPutsIt) {
  if (!TaskCgroupsBase().has_value()) {
    GTEST_SKIP() << "no cgroup v2 this process may write (run as root, or under systemd with "
                    "Delegate=yes)";
  }
  const std::string& base = *TaskCgroupsBase();
  std::istringstream procs(ReadText(base + "/cgroup.procs"));
  bool listed = false;
  for (pid_t pid = 0; procs >> pid;) listed = listed || pid == getpid();
  EXPECT_TRUE(listed) << base << "/cgroup.procs does not list this process";
  std::istringstream cgroups(ReadText("/proc/self/cgroup"));
  std::string own;
  for (std::string line; std::getline(cgroups, line);) {
    if (line.rfind("0::", 0) == 0) own = line.substr(3);
  }
  EXPECT_EQ(base, CgroupDirFromMountinfo(ReadText("/proc/self/mountinfo"), own));
}

}  // namespace
}  // namespace petit::host

#include "runtime/thread_priority.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <thread>

namespace petit::host {
namespace {

// The calling thread's policy as the kernel has it, without SCHED_RESET_ON_FORK.
int KernelPolicy() { return sched_getscheduler(0) & ~SCHED_RESET_ON_FORK; }

struct Seen {
  ThreadPriority priority = ThreadPriority::kUnchanged;
  std::string detail;
  int policy = -1;
  int rt_priority = -1;
  int nice_before = 0;
  int nice_after = 0;
};

// Calls RaiseThreadPriority on a fresh thread, niced to `nice` first, and reads back what the
// kernel says of that thread (the test's own thread is left alone).
Seen RaiseOnAThread(bool allow_realtime, int nice) {
  Seen seen;
  std::thread thread([&] {
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    setpriority(PRIO_PROCESS, tid, nice);
    seen.nice_before = getpriority(PRIO_PROCESS, tid);
    seen.priority = RaiseThreadPriority(allow_realtime, seen.detail);
    seen.policy = KernelPolicy();
    sched_param param{};
    sched_getparam(0, &param);
    seen.rt_priority = param.sched_priority;
    seen.nice_after = getpriority(PRIO_PROCESS, tid);
  });
  thread.join();
  return seen;
}

TEST(ThreadPriorityTest, WithoutRealtimeTheThreadGetsAShortSliceAndKeepsItsNiceness) {
  const Seen seen = RaiseOnAThread(/*allow_realtime=*/false, /*nice=*/3);
  EXPECT_NE(seen.priority, ThreadPriority::kRealtime) << seen.detail;
  EXPECT_EQ(seen.policy, SCHED_OTHER) << seen.detail;
  EXPECT_EQ(seen.nice_before, 3);
  EXPECT_EQ(seen.nice_after, 3) << seen.detail;
  if (seen.priority == ThreadPriority::kShortSlice) {
    EXPECT_EQ(seen.detail, "scheduler thread: 0.1 ms time slice");
  } else {
    EXPECT_NE(seen.detail.find("default priority"), std::string::npos) << seen.detail;
  }
}

TEST(ThreadPriorityTest, RealtimeWhereThisProcessMayUseIt) {
  rlimit limit{};
  getrlimit(RLIMIT_RTPRIO, &limit);
  const bool may = geteuid() == 0 || limit.rlim_cur >= 1;
  const Seen seen = RaiseOnAThread(/*allow_realtime=*/true, /*nice=*/0);
  if (seen.priority == ThreadPriority::kRealtime) {
    EXPECT_TRUE(may);
    EXPECT_EQ(seen.policy, SCHED_FIFO);
    EXPECT_EQ(seen.rt_priority, 1);
    EXPECT_EQ(seen.detail, "scheduler thread: SCHED_FIFO priority 1");
  } else {
    // Refused (a container without CAP_SYS_NICE, RestrictRealtime=): the slice, and the log says
    // why when real-time was tried.
    EXPECT_EQ(seen.policy, SCHED_OTHER) << seen.detail;
    if (may) {
      EXPECT_NE(seen.detail.find("SCHED_FIFO refused"), std::string::npos) << seen.detail;
    }
  }
}

TEST(ThreadPriorityTest, AThreadTheProcessStartsLaterIsNotRaised) {
  // Only the calling thread changes: a thread started afterwards by another thread (as the runs'
  // and the workers' are) keeps the default policy, so tasks never run real-time.
  const Seen raised = RaiseOnAThread(/*allow_realtime=*/true, /*nice=*/0);
  (void)raised;
  int policy = -1;
  std::thread other([&] {
    sched_param param{};
    pthread_getschedparam(pthread_self(), &policy, &param);
  });
  other.join();
  EXPECT_EQ(policy, SCHED_OTHER);
}

// The scheduler thread starts the run threads, which start the workers, which spawn the tasks:
// none of them may inherit its real-time policy or its short slice, whichever it has at the time.
TEST(ThreadPriorityTest, ThreadsTheRaisedThreadStartsBeginWithTheDefaultPolicyAndSlice) {
  struct Child {
    int policy = -1;
    uint64_t slice = 0;
    int nice = -1;
  };
  auto start_child = [] {
    Child child;
    std::thread([&] {
      child.policy = KernelPolicy();
      child.slice = ThreadSliceNs();
      child.nice = ThreadNiceness();
    }).join();
    return child;
  };
  const Child plain = start_child();  // what a thread gets from a thread nobody raised
  ThreadPriority priority = ThreadPriority::kUnchanged;
  uint64_t raised_slice = 0;
  Child while_raised;
  Child while_normal;
  std::thread thread([&] {
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 2);
    std::string detail;
    priority = RaiseThreadPriority(/*allow_realtime=*/true, detail);
    raised_slice = ThreadSliceNs();
    while_raised = start_child();
    ScopedNormalPriority normal;
    while_normal = start_child();
  });
  thread.join();
  if (priority == ThreadPriority::kUnchanged) GTEST_SKIP() << "the kernel refused both";
  if (priority == ThreadPriority::kShortSlice && raised_slice == plain.slice) {
    GTEST_SKIP() << "this kernel accepts and ignores custom slices (before Linux 6.12)";
  }
  for (const Child& child : {while_raised, while_normal}) {
    EXPECT_EQ(child.policy, SCHED_OTHER);
    EXPECT_EQ(child.slice, plain.slice) << "a thread inherited the scheduler thread's short slice";
  }
  // The kernel keeps a normal creator's niceness; a real-time one's children start at 0, which
  // ThreadRunLauncher corrects for its run threads.
  EXPECT_EQ(while_normal.nice, 2);
  if (priority == ThreadPriority::kShortSlice) {
    EXPECT_EQ(while_raised.nice, 2);
  }
}

TEST(ThreadPriorityTest, ARealtimeThreadRunsNormallyWhileAScopedNormalPriorityLives) {
  int during = -1;
  int after = -1;
  int after_priority = -1;
  bool realtime = false;
  std::thread thread([&] {
    std::string detail;
    realtime = RaiseThreadPriority(/*allow_realtime=*/true, detail) == ThreadPriority::kRealtime;
    // The kernel's answers (glibc's pthread_getschedparam answers from its own record).
    {
      ScopedNormalPriority normal;
      during = KernelPolicy();
    }
    after = KernelPolicy();
    sched_param param{};
    sched_getparam(0, &param);
    after_priority = param.sched_priority;
  });
  thread.join();
  if (!realtime) GTEST_SKIP() << "this process may not use real-time priorities";
  EXPECT_EQ(during, SCHED_OTHER);
  EXPECT_EQ(after, SCHED_FIFO);
  EXPECT_EQ(after_priority, 1);
}

TEST(ThreadPriorityTest, AScopedNormalPriorityLeavesANormalThreadAlone) {
  int policy = -1;
  int nice = -1;
  std::thread thread([&] {
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    setpriority(PRIO_PROCESS, tid, 4);
    { ScopedNormalPriority normal; }
    policy = sched_getscheduler(0);
    nice = getpriority(PRIO_PROCESS, tid);
  });
  thread.join();
  EXPECT_EQ(policy, SCHED_OTHER);
  EXPECT_EQ(nice, 4);
}

}  // namespace
}  // namespace petit::host

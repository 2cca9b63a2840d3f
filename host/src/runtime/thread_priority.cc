#include "runtime/thread_priority.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace petit::host {
namespace {

constexpr uint64_t kSliceNs = 100'000;  // the kernel's smallest custom slice
// sched_attr's SCHED_FLAG_RESET_ON_FORK (<linux/sched.h>, which clashes with glibc's <sched.h>).
constexpr uint64_t kResetOnFork = 0x01;

// The kernel's struct sched_attr (SCHED_ATTR_SIZE_VER0); <linux/sched/types.h> clashes with
// glibc's <sched.h>, and glibc 2.36 wraps no sched_setattr.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};
static_assert(sizeof(SchedAttr) == 48);

bool MayUseRealtime() {
  rlimit limit{};
  if (getrlimit(RLIMIT_RTPRIO, &limit) == 0 && limit.rlim_cur >= 1) return true;
  return geteuid() == 0;  // CAP_SYS_NICE, most likely; the kernel has the last word
}

// The calling thread becomes SCHED_OTHER with the kSliceNs time slice. sched_setattr sets the
// niceness too, so the thread keeps its own (a lower one would be refused). False (errno set)
// where the kernel refused.
bool SetShortSlice() {
  SchedAttr attr{};
  attr.size = sizeof attr;
  attr.sched_policy = SCHED_OTHER;
  attr.sched_nice = ThreadNiceness();
  attr.sched_runtime = kSliceNs;
  attr.sched_flags = kResetOnFork;
  return syscall(SYS_sched_setattr, 0, &attr, 0) == 0;
}

}  // namespace

int ThreadNiceness() {
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
  return errno == 0 ? nice : 0;
}

void RaiseThreadNiceness(int nice) {
  if (ThreadNiceness() < nice) {
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice);
  }
}

void ForbidRealtime() {
  const rlimit none{0, 0};
  setrlimit(RLIMIT_RTPRIO, &none);
}

uint64_t ThreadSliceNs() {
  SchedAttr attr{};
  if (syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0) return 0;
  return attr.sched_runtime;
}

ThreadPriority RaiseThreadPriority(bool allow_realtime, std::string& detail) {
  std::string refused;
  if (allow_realtime && MayUseRealtime()) {
    sched_param param{};
    param.sched_priority = 1;
    const int error =
        sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &param) == 0 ? 0 : errno;
    if (error == 0) {
      detail = "scheduler thread: SCHED_FIFO priority 1";
      return ThreadPriority::kRealtime;
    }
    refused = std::string("SCHED_FIFO refused (") + std::strerror(error) + "); ";
  }
  if (SetShortSlice()) {
    detail = refused + "scheduler thread: 0.1 ms time slice";
    return ThreadPriority::kShortSlice;
  }
  detail = refused + "scheduler thread: default priority (" + std::strerror(errno) + ")";
  return ThreadPriority::kUnchanged;
}

// sched_getscheduler and sched_setscheduler here, not pthread_*schedparam: glibc answers those
// from what pthread_setschedparam last set, which sched_setscheduler and sched_setattr do not
// update. The kernel's answer carries SCHED_RESET_ON_FORK, which every change here sets.
ScopedNormalPriority::ScopedNormalPriority() {
  sched_param param{};
  if ((sched_getscheduler(0) & ~SCHED_RESET_ON_FORK) != SCHED_FIFO ||
      sched_getparam(0, &param) != 0) {
    return;
  }
  if (SetShortSlice()) realtime_priority_ = param.sched_priority;
}

ScopedNormalPriority::~ScopedNormalPriority() {
  if (realtime_priority_ == 0) return;
  sched_param param{};
  param.sched_priority = realtime_priority_;
  sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &param);
}

}  // namespace petit::host

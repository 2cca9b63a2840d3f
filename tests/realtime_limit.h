// ScopedRealtimeLimit: gives the test process an RLIMIT_RTPRIO of 1 (soft and hard), as the
// packaged unit's LimitRTPRIO=1 gives `petit run`, and restores the previous limit when it goes.
// Raising the hard limit needs CAP_SYS_RESOURCE; where the process has not got it, granted() is
// false and the test skips.
//
// Threads: one at a time; the limit is the whole process's.
#ifndef PETIT_TESTS_REALTIME_LIMIT_H_
#define PETIT_TESTS_REALTIME_LIMIT_H_

#include <sys/resource.h>

namespace petit::testing_support {

class ScopedRealtimeLimit {
 public:
  ScopedRealtimeLimit() {
    if (getrlimit(RLIMIT_RTPRIO, &saved_) != 0) return;
    const rlimit one{1, 1};
    granted_ = setrlimit(RLIMIT_RTPRIO, &one) == 0;
  }
  ~ScopedRealtimeLimit() {
    if (granted_) setrlimit(RLIMIT_RTPRIO, &saved_);
  }
  ScopedRealtimeLimit(const ScopedRealtimeLimit&) = delete;
  ScopedRealtimeLimit& operator=(const ScopedRealtimeLimit&) = delete;

  bool granted() const { return granted_; }
  rlim_t previous_hard_limit() const { return saved_.rlim_max; }

 private:
  rlimit saved_{};
  bool granted_ = false;
};

}  // namespace petit::testing_support

#endif  // PETIT_TESTS_REALTIME_LIMIT_H_

// ClockWaiter: lets a thread wait on its own condition variable until a condition holds or a
// Clock reaches a time, without polling (the one way the scheduler and the executor wait for a
// time). On a clock that follows real time the wait has a system_clock deadline, which waits on
// CLOCK_REALTIME, so a step of the wall clock still wakes it on time. On a virtual clock the
// clock's wake-up notifies the condition variable once the clock reaches the deadline; moves
// short of it wake nobody.
//
// Waiting: the caller holds `mu`, checks its condition and calls WaitUntil until the condition
// holds or WaitUntil says the deadline came,
//
//   while (!done_) {
//     if (waiter.WaitUntil(mu_, deadline_us)) break;
//   }
//
// so that the thread-safety analysis sees the condition read under `mu` (mutex.h).
//
// Lifetime: `clock`, `mu` and `cv` outlive the waiter. The constructor registers the wake-up and
// the destructor removes it.
// Threads: WaitUntil is called by one thread at a time, holding `mu`. The wake-up runs on the
// thread that moves the clock and takes `mu`, so the lock order is the clock's lock, then `mu`:
// nobody may move the clock, or construct or destroy a ClockWaiter, while holding `mu`.
#ifndef PETIT_CORE_SRC_CLOCK_WAITER_H_
#define PETIT_CORE_SRC_CLOCK_WAITER_H_

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>

#include "petit/core/clock.h"
#include "petit/core/mutex.h"
#include "petit/core/thread_annotations.h"

namespace petit::internal {

// A deadline that never comes: WaitUntil then waits for its condition only.
inline constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

class ClockWaiter {
 public:
  // `cv` is bound to `mu`.
  ClockWaiter(Clock& clock, Mutex& mu, CondVar& cv) EXCLUDES(mu);
  ~ClockWaiter() EXCLUDES(mu_);
  ClockWaiter(const ClockWaiter&) = delete;
  ClockWaiter& operator=(const ClockWaiter&) = delete;

  // With `mu` held (the waiter's own mutex, named again so the analysis can check it): returns
  // true at once when the clock reads `deadline_us` or later; otherwise waits once, until `cv` is
  // signalled, the deadline comes or a spurious wake-up, and returns whether the deadline came.
  // Whoever changes the caller's condition does so under `mu` and then signals `cv`. On a real
  // clock whose deadline is centuries away it may return true early (the caller waits again).
  bool WaitUntil([[maybe_unused]] Mutex& mu, int64_t deadline_us) REQUIRES(mu) {
    assert(&mu == &mu_ && "ClockWaiter::WaitUntil with a mutex other than its own");
    mu_.AssertHeld();
    if (deadline_us == kNoDeadline) {
      cv_.Wait(mu_);
      return false;
    }
    if (clock_.NowMicros() >= deadline_us) return true;
    if (wakeup_.has_value()) {
      waiting_for_us_ = deadline_us;
      cv_.Wait(mu_);
      waiting_for_us_ = kNoDeadline;
      return clock_.NowMicros() >= deadline_us;
    }
    const int64_t remaining_us =
        std::clamp<int64_t>(deadline_us - clock_.NowMicros(), 0, kLongestRealWaitUs);
    return cv_.WaitUntil(
        mu_, std::chrono::system_clock::now() + std::chrono::microseconds(remaining_us));
  }

 private:
  // A system_clock time_point counts nanoseconds in 64 bits: a longer wait would overflow it.
  static constexpr int64_t kLongestRealWaitUs = int64_t{100} * 365 * 24 * 3600 * 1'000'000;

  void OnClockMoved(int64_t now_us) EXCLUDES(mu_);

  Clock& clock_;
  Mutex& mu_;
  CondVar& cv_;
  int64_t waiting_for_us_ GUARDED_BY(mu_) = kNoDeadline;  // the deadline of the wait under way
  std::optional<Clock::WakeupId> wakeup_;  // set by the constructor; nullopt on a real clock
};

}  // namespace petit::internal

#endif  // PETIT_CORE_SRC_CLOCK_WAITER_H_

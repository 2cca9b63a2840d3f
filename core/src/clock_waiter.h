// ClockWaiter: lets a thread wait on its own condition variable until a condition holds or a
// Clock reaches a time, without polling (the one way the scheduler and the executor wait for a
// time). On a clock that follows real time the wait has a system_clock deadline, which waits on
// CLOCK_REALTIME, so a step of the wall clock still wakes it on time. On a virtual clock the
// clock's wake-up notifies the condition variable once the clock reaches the deadline; moves
// short of it wake nobody.
//
// Lifetime: `clock`, `mu` and `cv` outlive the waiter. The constructor registers the wake-up and
// the destructor removes it.
// Threads: WaitUntil is called by one thread at a time, holding `mu`. The wake-up runs on the
// thread that moves the clock and takes `mu`, so the lock order is the clock's lock, then `mu`:
// nobody may move the clock, or construct or destroy a ClockWaiter, while holding `mu`.
#ifndef PETIT_CORE_SRC_CLOCK_WAITER_H_
#define PETIT_CORE_SRC_CLOCK_WAITER_H_

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>

#include "petit/core/clock.h"

namespace petit::internal {

// A deadline that never comes: WaitUntil then waits for its condition only.
inline constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

class ClockWaiter {
 public:
  ClockWaiter(Clock& clock, std::mutex& mu, std::condition_variable& cv);
  ~ClockWaiter();
  ClockWaiter(const ClockWaiter&) = delete;
  ClockWaiter& operator=(const ClockWaiter&) = delete;

  // With `lock` holding `mu`: blocks until `done()` holds or the clock reads `deadline_us` or
  // later. Whoever makes `done()` true does so under `mu` and then notifies `cv`. May return
  // early only on a real clock whose deadline is centuries away (the caller waits again).
  template <typename Done>
  void WaitUntil(std::unique_lock<std::mutex>& lock, int64_t deadline_us, Done done) {
    if (deadline_us == kNoDeadline) {
      cv_.wait(lock, done);
      return;
    }
    auto ready = [&] { return done() || clock_.NowMicros() >= deadline_us; };
    if (wakeup_.has_value()) {
      waiting_for_us_ = deadline_us;
      cv_.wait(lock, ready);
      waiting_for_us_ = kNoDeadline;
      return;
    }
    const int64_t remaining_us =
        std::clamp<int64_t>(deadline_us - clock_.NowMicros(), 0, kLongestRealWaitUs);
    cv_.wait_until(lock, std::chrono::system_clock::now() + std::chrono::microseconds(remaining_us),
                   ready);
  }

 private:
  // A system_clock time_point counts nanoseconds in 64 bits: a longer wait would overflow it.
  static constexpr int64_t kLongestRealWaitUs = int64_t{100} * 365 * 24 * 3600 * 1'000'000;

  void OnClockMoved(int64_t now_us);

  Clock& clock_;
  std::mutex& mu_;
  std::condition_variable& cv_;
  int64_t waiting_for_us_ = kNoDeadline;   // guarded by mu_: the deadline of the wait under way
  std::optional<Clock::WakeupId> wakeup_;  // set by the constructor; nullopt on a real clock
};

}  // namespace petit::internal

#endif  // PETIT_CORE_SRC_CLOCK_WAITER_H_

// ClockWaiter (core/src/clock_waiter.h): waits for a condition or a clock time, woken by a
// virtual clock's moves and by real deadlines, never by polling.
#include "clock_waiter.h"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "petit/core/clock.h"

namespace petit::internal {
namespace {

constexpr int64_t kHour = int64_t{3600} * 1'000'000;

TEST(ClockWaiterTest, AVirtualClockReachingTheDeadlineWakesTheWaiter) {
  ManualClock clock(0);
  std::mutex mu;
  std::condition_variable cv;
  ClockWaiter waiter(clock, mu, cv);
  int64_t woke_at = -1;
  std::thread waiting([&] {
    std::unique_lock lock(mu);
    waiter.WaitUntil(lock, kHour, [] { return false; });
    woke_at = clock.NowMicros();
  });
  clock.Advance(kHour / 2);
  clock.Advance(kHour / 2);
  waiting.join();
  EXPECT_EQ(woke_at, kHour);
}

TEST(ClockWaiterTest, TheConditionEndsTheWaitBeforeTheDeadline) {
  ManualClock clock(0);
  std::mutex mu;
  std::condition_variable cv;
  ClockWaiter waiter(clock, mu, cv);
  bool done = false;
  std::thread waiting([&] {
    std::unique_lock lock(mu);
    waiter.WaitUntil(lock, kHour, [&] { return done; });
  });
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_all();
  waiting.join();
  EXPECT_EQ(clock.NowMicros(), 0);
}

TEST(ClockWaiterTest, WithoutADeadlineOnlyTheConditionEndsTheWait) {
  ManualClock clock(0);
  std::mutex mu;
  std::condition_variable cv;
  ClockWaiter waiter(clock, mu, cv);
  bool done = false;
  bool returned = false;
  std::thread waiting([&] {
    std::unique_lock lock(mu);
    waiter.WaitUntil(lock, kNoDeadline, [&] { return done; });
    returned = true;
  });
  clock.Advance(1000 * kHour);
  {
    std::lock_guard lock(mu);
    EXPECT_FALSE(returned);
    done = true;
  }
  cv.notify_all();
  waiting.join();
  EXPECT_TRUE(returned);
}

TEST(ClockWaiterTest, APassedDeadlineReturnsAtOnce) {
  ManualClock clock(kHour);
  std::mutex mu;
  std::condition_variable cv;
  ClockWaiter waiter(clock, mu, cv);
  std::unique_lock lock(mu);
  waiter.WaitUntil(lock, kHour - 1, [] { return false; });
  SUCCEED();
}

TEST(ClockWaiterTest, ARealClockIsWaitedForWithADeadline) {
  Clock& clock = SystemClock::Instance();
  std::mutex mu;
  std::condition_variable cv;
  ClockWaiter waiter(clock, mu, cv);
  const int64_t deadline = clock.NowMicros() + 2000;
  std::unique_lock lock(mu);
  // Returns without a notification: nothing but the deadline can end this wait.
  while (clock.NowMicros() < deadline) waiter.WaitUntil(lock, deadline, [] { return false; });
  EXPECT_GE(clock.NowMicros(), deadline);
}

}  // namespace
}  // namespace petit::internal

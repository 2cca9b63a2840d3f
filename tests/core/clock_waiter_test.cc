// ClockWaiter (core/src/clock_waiter.h): waits for a condition or a clock time, woken by a
// virtual clock's moves and by real deadlines, never by polling.
#include "clock_waiter.h"

#include <cstdint>
#include <thread>

#include <gtest/gtest.h>

#include "petit/core/clock.h"
#include "petit/core/mutex.h"

namespace petit::internal {
namespace {

constexpr int64_t kHour = int64_t{3600} * 1'000'000;

TEST(ClockWaiterTest, AVirtualClockReachingTheDeadlineWakesTheWaiter) {
  ManualClock clock(0);
  Mutex mu;
  CondVar cv(mu);
  ClockWaiter waiter(clock, mu, cv);
  int64_t woke_at = -1;
  std::thread waiting([&] {
    MutexLock lock(mu);
    while (!waiter.WaitUntil(mu, kHour)) {
    }
    woke_at = clock.NowMicros();
  });
  clock.Advance(kHour / 2);
  clock.Advance(kHour / 2);
  waiting.join();
  EXPECT_EQ(woke_at, kHour);
}

TEST(ClockWaiterTest, TheConditionEndsTheWaitBeforeTheDeadline) {
  ManualClock clock(0);
  Mutex mu;
  CondVar cv(mu);
  ClockWaiter waiter(clock, mu, cv);
  bool done = false;
  std::thread waiting([&] {
    MutexLock lock(mu);
    while (!done) {
      if (waiter.WaitUntil(mu, kHour)) break;
    }
  });
  {
    MutexLock lock(mu);
    done = true;
  }
  cv.SignalAll();
  waiting.join();
  EXPECT_EQ(clock.NowMicros(), 0);
}

TEST(ClockWaiterTest, WithoutADeadlineOnlyTheConditionEndsTheWait) {
  ManualClock clock(0);
  Mutex mu;
  CondVar cv(mu);
  ClockWaiter waiter(clock, mu, cv);
  bool done = false;
  bool returned = false;
  std::thread waiting([&] {
    MutexLock lock(mu);
    while (!done) waiter.WaitUntil(mu, kNoDeadline);
    returned = true;
  });
  clock.Advance(1000 * kHour);
  {
    MutexLock lock(mu);
    EXPECT_FALSE(returned);
    done = true;
  }
  cv.SignalAll();
  waiting.join();
  EXPECT_TRUE(returned);
}

TEST(ClockWaiterTest, APassedDeadlineReturnsAtOnce) {
  ManualClock clock(kHour);
  Mutex mu;
  CondVar cv(mu);
  ClockWaiter waiter(clock, mu, cv);
  MutexLock lock(mu);
  EXPECT_TRUE(waiter.WaitUntil(mu, kHour - 1));
}

TEST(ClockWaiterTest, ARealClockIsWaitedForWithADeadline) {
  Clock& clock = SystemClock::Instance();
  Mutex mu;
  CondVar cv(mu);
  ClockWaiter waiter(clock, mu, cv);
  const int64_t deadline = clock.NowMicros() + 2000;
  MutexLock lock(mu);
  // Returns without a notification: nothing but the deadline can end this wait.
  while (clock.NowMicros() < deadline) waiter.WaitUntil(mu, deadline);
  EXPECT_GE(clock.NowMicros(), deadline);
}

}  // namespace
}  // namespace petit::internal

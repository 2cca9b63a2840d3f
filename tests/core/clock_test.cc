#include "petit/core/clock.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace petit {
namespace {

int64_t ChronoNowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(SystemClockTest, ReadsTheSystemTimeInMicroseconds) {
  const int64_t before = ChronoNowMicros();
  const int64_t now = SystemClock::Instance().NowMicros();
  const int64_t after = ChronoNowMicros();
  EXPECT_GE(now, before);
  EXPECT_LE(now, after);
}

TEST(SystemClockTest, InstanceIsOneObject) {
  EXPECT_EQ(&SystemClock::Instance(), &SystemClock::Instance());
}

TEST(SystemClockTest, FollowsRealTimeSoTakesNoWakeups) {
  bool called = false;
  EXPECT_EQ(SystemClock::Instance().AddWakeup([&called](int64_t) { called = true; }), std::nullopt);
  EXPECT_FALSE(called);
}

TEST(ManualClockTest, StartsWhereToldAndMovesOnlyWhenAsked) {
  ManualClock clock(1'000'000);
  EXPECT_EQ(clock.NowMicros(), 1'000'000);
  EXPECT_EQ(clock.NowMicros(), 1'000'000);
  clock.Advance(250);
  EXPECT_EQ(clock.NowMicros(), 1'000'250);
  clock.Set(42);
  EXPECT_EQ(clock.NowMicros(), 42);
}

TEST(ManualClockTest, IsUsableThroughTheClockInterface) {
  ManualClock manual(7);
  const Clock& clock = manual;
  manual.Advance(3);
  EXPECT_EQ(clock.NowMicros(), 10);
}

TEST(ManualClockTest, WakeupsHearEveryMoveWithTheNewTime) {
  ManualClock clock(100);
  std::vector<int64_t> heard;
  clock.AddWakeup([&heard](int64_t now) { heard.push_back(now); });
  clock.Advance(5);
  clock.Set(50);
  clock.Advance(-10);
  EXPECT_EQ(heard, (std::vector<int64_t>{105, 50, 40}));
}

TEST(ManualClockTest, RemovedWakeupIsNotCalledAgain) {
  ManualClock clock;
  int first_calls = 0;
  int second_calls = 0;
  const std::optional<Clock::WakeupId> first =
      clock.AddWakeup([&first_calls](int64_t) { ++first_calls; });
  clock.AddWakeup([&second_calls](int64_t) { ++second_calls; });
  ASSERT_TRUE(first.has_value()) << "a ManualClock is virtual: it takes wake-ups";
  clock.Advance(1);
  clock.RemoveWakeup(*first);
  clock.Advance(1);
  clock.RemoveWakeup(*first);  // removing twice is harmless
  EXPECT_EQ(first_calls, 1);
  EXPECT_EQ(second_calls, 2);
}

TEST(ManualClockTest, WakesAWaiterThroughAWakeup) {
  ManualClock clock;
  std::mutex mu;
  std::condition_variable moved;
  clock.AddWakeup([&](int64_t) {
    std::lock_guard lock(mu);
    moved.notify_all();
  });
  constexpr int64_t kDeadline = 5'000'000;
  int64_t woke_at = -1;
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    moved.wait(lock, [&] { return clock.NowMicros() >= kDeadline; });
    woke_at = clock.NowMicros();
  });
  clock.Advance(kDeadline / 2);
  clock.Advance(kDeadline / 2);
  waiter.join();
  EXPECT_EQ(woke_at, kDeadline);
}

TEST(ManualClockTest, ConcurrentAdvancesAllCountAndWakeupsSeeThemInOrder) {
  constexpr int kThreads = 4;
  constexpr int kStepsPerThread = 1000;
  ManualClock clock;
  std::vector<int64_t> heard;  // only touched by wake-ups, which the clock serialises
  clock.AddWakeup([&heard](int64_t now) { heard.push_back(now); });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < kStepsPerThread; ++i) clock.Advance(1);
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(clock.NowMicros(), kThreads * kStepsPerThread);
  ASSERT_EQ(heard.size(), static_cast<size_t>(kThreads * kStepsPerThread));
  for (size_t i = 0; i < heard.size(); ++i) ASSERT_EQ(heard[i], static_cast<int64_t>(i + 1));
}

}  // namespace
}  // namespace petit

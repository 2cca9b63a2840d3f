// Mutex, SharedMutex and CondVar (core/include/petit/core/mutex.h): the std primitives behind the
// thread-safety annotations, which must still lock, wait and wake as the std ones do.
#include "petit/core/mutex.h"

#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace petit {
namespace {

TEST(CondVarTest, SignalWakesTheWaiterOnceItsConditionHolds) {
  Mutex mu;
  CondVar cv(mu);
  bool ready = false;
  bool seen = false;
  std::thread waiter([&] {
    MutexLock lock(mu);
    while (!ready) cv.Wait(mu);
    seen = true;
  });
  {
    MutexLock lock(mu);
    ready = true;
  }
  cv.Signal();
  waiter.join();
  EXPECT_TRUE(seen);
}

TEST(CondVarTest, SignalAllWakesEveryWaiter) {
  Mutex mu;
  CondVar cv(mu);
  bool go = false;
  int woken = 0;
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([&] {
      MutexLock lock(mu);
      while (!go) cv.Wait(mu);
      ++woken;
    });
  }
  {
    MutexLock lock(mu);
    go = true;
  }
  cv.SignalAll();
  for (std::thread& waiter : waiters) waiter.join();
  EXPECT_EQ(woken, 3);
}

TEST(CondVarTest, WaitUntilSaysTheDeadlinePassed) {
  Mutex mu;
  CondVar cv(mu);
  MutexLock lock(mu);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
  // Nothing signals: only the deadline can end these waits (a spurious wake-up returns false).
  while (!cv.WaitUntil(mu, deadline)) {
  }
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
}

TEST(CondVarTest, WaitUntilAPassedDeadlineReturnsAtOnce) {
  Mutex mu;
  CondVar cv(mu);
  MutexLock lock(mu);
  EXPECT_TRUE(cv.WaitUntil(mu, std::chrono::system_clock::now() - std::chrono::seconds(1)));
}

TEST(CondVarTest, WaitForSaysTheTimeoutPassed) {
  Mutex mu;
  CondVar cv(mu);
  MutexLock lock(mu);
  const auto start = std::chrono::steady_clock::now();
  bool timed_out = false;
  while (!timed_out) timed_out = cv.WaitFor(mu, std::chrono::milliseconds(1));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1));
}

TEST(CondVarTest, TheMutexIsHeldAgainAfterAWait) {
  Mutex mu;
  CondVar cv(mu);
  int value = 0;
  std::thread other;
  {
    MutexLock lock(mu);
    other = std::thread([&] {
      MutexLock other_lock(mu);
      value = 1;
      cv.Signal();
    });
    while (value == 0) cv.Wait(mu);
    // Still held: the other thread's write came before the wait returned, none after.
    value = 2;
  }
  other.join();
  EXPECT_EQ(value, 2);
}

TEST(SharedMutexTest, ReadersHoldItTogether) {
  SharedMutex mu;
  ReaderMutexLock lock(mu);
  bool read = false;
  // Would block for ever if a reader excluded other readers.
  std::thread reader([&] {
    ReaderMutexLock other(mu);
    read = true;
  });
  reader.join();
  EXPECT_TRUE(read);
}

TEST(SharedMutexTest, AWriterWaitsForTheReaders) {
  SharedMutex mu;
  int value = 0;
  std::thread writer;
  {
    ReaderMutexLock lock(mu);
    writer = std::thread([&] {
      WriterMutexLock write(mu);
      value = 1;
    });
    // The writer cannot have written while this reader holds the mutex.
    EXPECT_EQ(value, 0);
  }
  writer.join();
  EXPECT_EQ(value, 1);
}

}  // namespace
}  // namespace petit

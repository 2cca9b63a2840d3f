// Mutex, MutexLock, SharedMutex and CondVar: std::mutex, std::shared_mutex and
// std::condition_variable carrying Clang's thread-safety annotations (thread_annotations.h), so
// that GUARDED_BY / REQUIRES on the state they protect are checked at compile time. They add
// nothing at run time: each holds the std type and forwards to it inline.
//
// Waiting: write the condition as a loop in the function that holds the lock,
//
//   MutexLock lock(mu_);
//   while (!ready_) cv_.Wait(mu_);
//
// so the analysis sees every read of guarded state under the lock. There are no predicate
// overloads: a lambda is analysed as a function of its own, which holds no lock.
//
// Threads: a Mutex or SharedMutex is used from any thread (that is its point); a CondVar's
// functions are called from any thread, Wait*() with its mutex held.
#ifndef PETIT_CORE_MUTEX_H_
#define PETIT_CORE_MUTEX_H_

#include <cassert>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#include "petit/core/thread_annotations.h"

namespace petit {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  // Tells the analysis the calling thread holds this mutex; checks nothing at run time. For code
  // that learns it holds the lock in a way the analysis cannot follow (an alias, a callback).
  void AssertHeld() ASSERT_CAPABILITY(this) {}

  // BasicLockable, for std::lock_guard and friends (which the analysis does not see into).
  void lock() ACQUIRE() { Lock(); }
  void unlock() RELEASE() { Unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `mu` from construction to destruction. `mu` may be unlocked and locked again in between
// (mu.Unlock() ... mu.Lock()), as long as it is held again when the scope ends.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// Many readers or one writer.
class CAPABILITY("shared_mutex") SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  void ReaderLock() ACQUIRE_SHARED() { mu_.lock_shared(); }
  void ReaderUnlock() RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

// Holds `mu` exclusively for its scope.
class SCOPED_CAPABILITY WriterMutexLock {
 public:
  explicit WriterMutexLock(SharedMutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~WriterMutexLock() RELEASE() { mu_.Unlock(); }
  WriterMutexLock(const WriterMutexLock&) = delete;
  WriterMutexLock& operator=(const WriterMutexLock&) = delete;

 private:
  SharedMutex& mu_;
};

// Holds `mu` shared for its scope.
class SCOPED_CAPABILITY ReaderMutexLock {
 public:
  explicit ReaderMutexLock(SharedMutex& mu) ACQUIRE_SHARED(mu) : mu_(mu) { mu_.ReaderLock(); }
  ~ReaderMutexLock() RELEASE() { mu_.ReaderUnlock(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  SharedMutex& mu_;
};

// A condition variable bound to one Mutex, which every waiter holds (std::condition_variable
// requires a single mutex for all concurrent waiters). The wait functions name the mutex again:
// the analysis cannot see through the binding, so that argument is how it checks the mutex is
// held; debug builds assert it is the bound one. Every wait may also end spuriously, hence the
// loop around it. Waiting is std::condition_variable's own wait on the wrapped std::mutex, taken
// over for the call and handed back (as LevelDB's port_stdcxx.h does).
class CondVar {
 public:
  // `mu` outlives the CondVar.
  explicit CondVar(Mutex& mu) : mu_(mu) {}
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases `mu`, blocks until signalled (or spuriously woken), and takes `mu` again.
  void Wait([[maybe_unused]] Mutex& mu) REQUIRES(mu) {
    assert(&mu == &mu_ && "CondVar::Wait with a mutex other than its own");
    std::unique_lock<std::mutex> lock(mu_.mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }

  // Wait() that also ends at `deadline`, measured on the deadline's clock (a system_clock
  // deadline follows steps of the wall clock). Returns true when it ended because the deadline
  // passed, false when signalled or woken spuriously.
  template <typename Clock, typename Duration>
  bool WaitUntil([[maybe_unused]] Mutex& mu,
                 const std::chrono::time_point<Clock, Duration>& deadline) REQUIRES(mu) {
    assert(&mu == &mu_ && "CondVar::WaitUntil with a mutex other than its own");
    std::unique_lock<std::mutex> lock(mu_.mu_, std::adopt_lock);
    const bool timed_out = cv_.wait_until(lock, deadline) == std::cv_status::timeout;
    lock.release();
    return timed_out;
  }

  // WaitUntil(mu, now + timeout) on the steady clock.
  template <typename Rep, typename Period>
  bool WaitFor([[maybe_unused]] Mutex& mu, const std::chrono::duration<Rep, Period>& timeout)
      REQUIRES(mu) {
    assert(&mu == &mu_ && "CondVar::WaitFor with a mutex other than its own");
    std::unique_lock<std::mutex> lock(mu_.mu_, std::adopt_lock);
    const bool timed_out = cv_.wait_for(lock, timeout) == std::cv_status::timeout;
    lock.release();
    return timed_out;
  }

  // Wakes one waiter / every waiter. May be called with or without the mutex held.
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
  Mutex& mu_;
};

}  // namespace petit

#endif  // PETIT_CORE_MUTEX_H_

// Clock: where the engine reads the time, so tests can run on a virtual clock.
//
// Times are int64 microseconds since the Unix epoch (the unit storage persists).
// Waiting for a time without polling: a clock that follows real time (SystemClock) is waited for
// with a deadline on std::chrono::system_clock (condition_variable::wait_until); a virtual clock
// (ManualClock) moves only when told, so a thread waiting for one of its times registers a
// wake-up with AddWakeup() and is called each time the clock moves. AddWakeup() says which of the
// two a clock is.
// SystemClock is stateless and thread-safe. ManualClock is thread-safe; it moves only when
// Advance() or Set() is called.
#ifndef PETIT_CORE_CLOCK_H_
#define PETIT_CORE_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>

#include "petit/core/mutex.h"
#include "petit/core/thread_annotations.h"

namespace petit {

class Clock {
 public:
  // Receives the clock's new time; runs on the thread that moved the clock.
  using Wakeup = std::function<void(int64_t now_micros)>;
  using WakeupId = uint64_t;

  virtual ~Clock() = default;
  virtual int64_t NowMicros() const = 0;

  // Registers `wake`, to be called with the new time each time the clock moves other than by
  // the passing of real time, and returns its id. Returns std::nullopt, and never calls `wake`,
  // when the clock follows real time (the default): wait for its times with deadlines instead.
  // Wake-ups run under the clock's lock: one may read the time but must not move the clock or add
  // or remove wake-ups. Once RemoveWakeup() returns, `id`'s wake-up is not running and never runs
  // again, so whatever it captured may then be destroyed; removing an unknown id does nothing.
  virtual std::optional<WakeupId> AddWakeup(Wakeup wake);
  virtual void RemoveWakeup(WakeupId id);
};

class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override;
  // The process-wide instance (never destroyed).
  static SystemClock& Instance();
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_micros = 0) : now_(start_micros) {}

  int64_t NowMicros() const override { return now_.load(std::memory_order_acquire); }
  // Moves the clock (backwards too, to test clock steps), then calls every wake-up. Concurrent
  // moves are serialised, so wake-ups see the times in the order the clock took them.
  void Set(int64_t micros) EXCLUDES(mu_);
  void Advance(int64_t micros) EXCLUDES(mu_);

  // Always returns an id: a ManualClock is virtual.
  std::optional<WakeupId> AddWakeup(Wakeup wake) override EXCLUDES(mu_);
  void RemoveWakeup(WakeupId id) override EXCLUDES(mu_);

 private:
  std::atomic<int64_t> now_;  // written only with mu_ held
  Mutex mu_;
  WakeupId next_wakeup_id_ GUARDED_BY(mu_) = 1;
  std::map<WakeupId, Wakeup> wakeups_ GUARDED_BY(mu_);
};

}  // namespace petit

#endif  // PETIT_CORE_CLOCK_H_

// Clock: where the engine reads the time, so tests can run on a virtual clock.
//
// Times are int64 microseconds since the Unix epoch (the unit storage persists). SystemClock is
// stateless and thread-safe. ManualClock is thread-safe; it moves only when Advance() or Set() is
// called, and wakes anything waiting on it through the listeners registered with AddListener().
#ifndef PETIT_CORE_CLOCK_H_
#define PETIT_CORE_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace petit {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMicros() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override;
  // The process-wide instance (never destroyed).
  static SystemClock& Instance();
};

class ManualClock final : public Clock {
 public:
  // Receives the clock's new time; runs on the thread that called Set() or Advance().
  using Listener = std::function<void(int64_t now_micros)>;
  using ListenerId = uint64_t;

  explicit ManualClock(int64_t start_micros = 0) : now_(start_micros) {}

  int64_t NowMicros() const override { return now_.load(std::memory_order_acquire); }
  // Moves the clock (backwards too, to test clock steps), then calls every listener. Concurrent
  // moves are serialised, so listeners see the times in the order the clock took them.
  void Set(int64_t micros);
  void Advance(int64_t micros);

  // Listeners run under the clock's listener lock: a listener may read the time but must not move
  // the clock or add or remove listeners. Once RemoveListener() returns, `id`'s listener is not
  // running and never runs again, so whatever it captured may then be destroyed.
  ListenerId AddListener(Listener listener);
  void RemoveListener(ListenerId id);

 private:
  std::atomic<int64_t> now_;  // written only with mu_ held
  std::mutex mu_;
  ListenerId next_listener_id_ = 1;           // guarded by mu_
  std::map<ListenerId, Listener> listeners_;  // guarded by mu_
};

}  // namespace petit

#endif  // PETIT_CORE_CLOCK_H_

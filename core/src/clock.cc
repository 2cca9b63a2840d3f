#include "petit/core/clock.h"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <utility>

namespace petit {

int64_t SystemClock::NowMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SystemClock& SystemClock::Instance() {
  // Leaked on purpose: threads still running during static destruction may read the time.
  static auto* instance = new SystemClock();
  return *instance;
}

void ManualClock::Set(int64_t micros) {
  std::lock_guard lock(mu_);
  now_.store(micros, std::memory_order_release);
  for (const auto& [id, listener] : listeners_) listener(micros);
}

void ManualClock::Advance(int64_t micros) {
  std::lock_guard lock(mu_);
  const int64_t now = now_.load(std::memory_order_relaxed) + micros;
  now_.store(now, std::memory_order_release);
  for (const auto& [id, listener] : listeners_) listener(now);
}

ManualClock::ListenerId ManualClock::AddListener(Listener listener) {
  std::lock_guard lock(mu_);
  const ListenerId id = next_listener_id_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void ManualClock::RemoveListener(ListenerId id) {
  std::lock_guard lock(mu_);
  listeners_.erase(id);
}

}  // namespace petit

#include "petit/core/clock.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>

namespace petit {

std::optional<Clock::WakeupId> Clock::AddWakeup(Wakeup /*wake*/) { return std::nullopt; }

void Clock::RemoveWakeup(WakeupId /*id*/) {}

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
  MutexLock lock(mu_);
  now_.store(micros, std::memory_order_release);
  for (const auto& [id, wake] : wakeups_) wake(micros);
}

void ManualClock::Advance(int64_t micros) {
  MutexLock lock(mu_);
  const int64_t now = now_.load(std::memory_order_relaxed) + micros;
  now_.store(now, std::memory_order_release);
  for (const auto& [id, wake] : wakeups_) wake(now);
}

std::optional<Clock::WakeupId> ManualClock::AddWakeup(Wakeup wake) {
  MutexLock lock(mu_);
  const WakeupId id = next_wakeup_id_++;
  wakeups_.emplace(id, std::move(wake));
  return id;
}

void ManualClock::RemoveWakeup(WakeupId id) {
  MutexLock lock(mu_);
  wakeups_.erase(id);
}

}  // namespace petit

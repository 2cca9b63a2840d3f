#include "clock_waiter.h"

#include <mutex>

namespace petit::internal {

ClockWaiter::ClockWaiter(Clock& clock, std::mutex& mu, std::condition_variable& cv)
    : clock_(clock), mu_(mu), cv_(cv) {
  wakeup_ = clock_.AddWakeup([this](int64_t now_us) { OnClockMoved(now_us); });
}

ClockWaiter::~ClockWaiter() {
  if (wakeup_) clock_.RemoveWakeup(*wakeup_);
}

void ClockWaiter::OnClockMoved(int64_t now_us) {
  std::lock_guard lock(mu_);
  if (now_us >= waiting_for_us_) cv_.notify_all();
}

}  // namespace petit::internal

#include "clock_waiter.h"

namespace petit::internal {

ClockWaiter::ClockWaiter(Clock& clock, Mutex& mu, CondVar& cv) : clock_(clock), mu_(mu), cv_(cv) {
  wakeup_ = clock_.AddWakeup([this](int64_t now_us) { OnClockMoved(now_us); });
}

ClockWaiter::~ClockWaiter() {
  if (wakeup_) clock_.RemoveWakeup(*wakeup_);
}

void ClockWaiter::OnClockMoved(int64_t now_us) {
  MutexLock lock(mu_);
  if (now_us >= waiting_for_us_) cv_.SignalAll();
}

}  // namespace petit::internal

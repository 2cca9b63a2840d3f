#include "petit/core/store_outage.h"

#include <algorithm>
#include <utility>

#include "clock_waiter.h"

namespace petit {
namespace {

// Past this many doublings the backoff is at its cap whatever the numbers.
constexpr uint32_t kMaxDoublings = 30;

}  // namespace

int64_t StoreOutagePolicy::BackoffUs(uint32_t failures) const {
  const int64_t first_us = std::max<int64_t>(1, first_backoff.count() * 1000);
  const int64_t max_us = std::max<int64_t>(first_us, max_backoff.count() * 1000);
  const uint32_t doublings = std::min(failures == 0 ? 0 : failures - 1, kMaxDoublings);
  const int64_t wait_us = first_us << doublings;
  return wait_us / first_us != (int64_t{1} << doublings) ? max_us : std::min(wait_us, max_us);
}

bool IsStoreOutage(const Status& status) {
  return status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kInternal;
}

Status StoreWrite::Apply(StateStore& store) const {
  if (const auto* attempts = std::get_if<std::vector<AttemptRecord>>(&what)) {
    return store.SaveAttempts(*attempts);
  }
  if (const auto* chunk = std::get_if<LogChunk>(&what)) {
    Status appended = store.AppendLog(*chunk);
    if (appended.code() == StatusCode::kAlreadyExists) return Status::Ok();
    return appended;
  }
  return store.UpdateRun(std::get<RunRecord>(what));
}

size_t StoreWrite::transitions() const {
  if (const auto* attempts = std::get_if<std::vector<AttemptRecord>>(&what)) {
    return attempts->size();
  }
  return 1;
}

void StoreHealth::ReportFailure(const Status& error, int64_t now_us) {
  MutexLock lock(mu_);
  state_.last_error = error;
  if (!state_.available) return;
  state_.available = false;
  state_.down_since_us = now_us;
  ++state_.outages;
  if (listener_) {
    listener_(StoreHealthChange{
        .available = false, .error = error, .down_for_us = 0, .pending_writes = 0});
  }
}

void StoreHealth::ReportSuccess(int64_t now_us) {
  MutexLock lock(mu_);
  if (state_.available) return;
  const int64_t down_for_us = std::max<int64_t>(0, now_us - state_.down_since_us);
  state_.available = true;
  state_.down_since_us = 0;
  if (listener_) {
    listener_(StoreHealthChange{.available = true,
                                .error = Status::Ok(),
                                .down_for_us = down_for_us,
                                .pending_writes = state_.pending_writes});
  }
}

void StoreHealth::AddPending(int64_t delta) {
  MutexLock lock(mu_);
  state_.pending_writes = std::max<int64_t>(0, state_.pending_writes + delta);
}

StoreHealth::Snapshot StoreHealth::snapshot() const {
  MutexLock lock(mu_);
  return state_;
}

struct StoreWriteBehind::Waiter {
  Waiter(Clock& clock, Mutex& mu, CondVar& cv) : waiter(clock, mu, cv) {}
  internal::ClockWaiter waiter;
};

StoreWriteBehind::StoreWriteBehind(StateStore& store, Clock& clock, StoreOutagePolicy policy,
                                   StoreHealth* health, Abandoned on_abandoned)
    : store_(store),
      clock_(clock),
      policy_(policy),
      health_(health),
      on_abandoned_(std::move(on_abandoned)),
      waiter_(std::make_unique<Waiter>(clock, mu_, cv_)) {
  thread_ = std::thread([this] { Loop(); });
}

StoreWriteBehind::~StoreWriteBehind() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  thread_.join();
  waiter_.reset();
}

void StoreWriteBehind::Submit(const RunId& run, std::vector<StoreWrite> writes) {
  size_t transitions = 0;
  {
    MutexLock lock(mu_);
    for (StoreWrite& write : writes) {
      transitions += write.transitions();
      queue_.push_back(Queued{run, std::move(write)});
    }
    pending_ += transitions;
  }
  if (health_ != nullptr) health_->AddPending(static_cast<int64_t>(transitions));
  cv_.SignalAll();
}

size_t StoreWriteBehind::pending() const {
  MutexLock lock(mu_);
  return pending_;
}

bool StoreWriteBehind::WaitUntilWritten(std::chrono::milliseconds timeout) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(mu_);
  while (pending_ != 0) {
    if (cv_.WaitUntil(mu_, give_up)) return pending_ == 0;
  }
  return true;
}

void StoreWriteBehind::Loop() {
  uint32_t failures = 0;
  MutexLock lock(mu_);
  for (;;) {
    while (!stopping_ && queue_.empty()) cv_.Wait(mu_);
    if (stopping_) break;
    // The front stays queued while it is written, so pending() never reads 0 too early; only
    // this thread pops.
    const Queued& front = queue_.front();
    mu_.Unlock();
    // Backoff counts from the start of the try.
    const int64_t tried_us = clock_.NowMicros();
    const Status written = front.write.Apply(store_);
    const int64_t now_us = clock_.NowMicros();
    mu_.Lock();
    const bool retry = !written.ok() && IsStoreOutage(written);
    if (retry) {
      if (health_ != nullptr) health_->ReportFailure(written, now_us);
      const int64_t retry_at_us = tried_us + policy_.BackoffUs(++failures);
      while (!stopping_) {
        if (waiter_->waiter.WaitUntil(mu_, retry_at_us)) break;
      }
      continue;
    }
    failures = 0;
    if (written.ok()) {
      if (health_ != nullptr) health_->ReportSuccess(now_us);
    } else if (on_abandoned_) {
      on_abandoned_("a write of run " + queue_.front().run.str() +
                    " was refused: " + written.message());
    }
    const size_t transitions = queue_.front().write.transitions();
    pending_ -= transitions;
    queue_.pop_front();
    if (health_ != nullptr) health_->AddPending(-static_cast<int64_t>(transitions));
    cv_.SignalAll();
  }
  if (!queue_.empty() && on_abandoned_) {
    std::string runs;
    for (const Queued& queued : queue_) {
      if (runs.find(queued.run.str()) == std::string::npos) {
        runs += (runs.empty() ? "" : ", ") + queued.run.str();
      }
    }
    on_abandoned_(std::to_string(pending_) + " transitions of run(s) " + runs +
                  " were never written; the next start's recovery repairs them");
  }
}

}  // namespace petit

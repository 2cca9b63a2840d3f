#include "executor/run_inbox.h"

#include <utility>

#include "executor/spin.h"

namespace petit::internal {

// Signals are sent with mu_ held: once it is released, the coordinator may end the run and free
// this inbox.

bool RunInbox::PostCompletion(Completion done, Mail& mail) {
  MutexLock lock(mu_);
  ++completions_posted_;
  if (over_) {
    // A straggler of a run that stopped (a refused write): nobody records it.
    if (--outstanding_ == 0) cv_.Signal();
    return false;
  }
  completions_.push_back(std::move(done));
  pending_.store(true, std::memory_order_release);
  ReportIdle(false, 0);
  if (workers_drive_ && !driving_) {
    driving_ = true;
    // Taken under this hold of mu_: the new driver's first Take would only lock it again.
    TakeLocked(mail);
    return true;
  }
  --outstanding_;
  if (!driving_) cv_.Signal();
  return false;
}

void RunInbox::PostGrant(Grant grant) {
  MutexLock lock(mu_);
  grants_.push_back(std::move(grant));
  pending_.store(true, std::memory_order_release);
  ReportIdle(false, 0);
  // Always: the coordinator may wait in Wait() while it holds the role (a store outage).
  cv_.Signal();
}

void RunInbox::PostCancelled() {
  MutexLock lock(mu_);
  cancelled_ = true;
  pending_.store(true, std::memory_order_release);
  ReportIdle(false, 0);
  // Always: the coordinator may wait in Wait() while it holds the role (a store outage).
  cv_.Signal();
}

void RunInbox::Take(Mail& mail) {
  MutexLock lock(mu_);
  TakeLocked(mail);
}

void RunInbox::TakeLocked(Mail& mail) {
  mail.completions.swap(completions_);
  mail.grants.swap(grants_);
  cancelled_ = false;
  pending_.store(false, std::memory_order_relaxed);
}

bool RunInbox::Release(int64_t next_timer_us, bool over, size_t handed_out, bool worker_done) {
  MutexLock lock(mu_);
  outstanding_ += handed_out;
  if (!over && HasMail()) return false;
  driving_ = false;
  over_ = over;
  next_timer_us_ = next_timer_us;
  if (worker_done) --outstanding_;
  if (over || wake_on_release_ || next_timer_us < sleeping_until_) cv_.Signal();
  wake_on_release_ = false;
  return true;
}

void RunInbox::Forget() {
  MutexLock lock(mu_);
  --outstanding_;
}

bool RunInbox::AwaitTurn(bool spin_first) {
  if (spin_first) SpinFor([this] { return pending_.load(std::memory_order_acquire); });
  MutexLock lock(mu_);
  for (;;) {
    if (over_ || driving_) {
      if (over_ && !driving_ && outstanding_ == 0) return false;
      wake_on_release_ = true;
      cv_.Wait(mu_);
      continue;
    }
    if (HasMail()) break;
    sleeping_until_ = next_timer_us_;
    bool due = false;
    if (!idle_hook_) {
      due = clock_waiter_.WaitUntil(mu_, next_timer_us_);
    } else {
      ReportIdle(true, next_timer_us_);
      due = clock_waiter_.WaitUntil(mu_, next_timer_us_);
      ReportIdle(false, 0);
    }
    sleeping_until_ = kNotSleeping;
    if (due && !driving_ && !over_) break;
  }
  driving_ = true;
  return true;
}

void RunInbox::Wait(int64_t deadline_us, Mail& mail) {
  MutexLock lock(mu_);
  while (!HasMail()) {
    if (!idle_hook_) {
      if (clock_waiter_.WaitUntil(mu_, deadline_us)) break;
      continue;
    }
    ReportIdle(true, deadline_us);
    const bool due = clock_waiter_.WaitUntil(mu_, deadline_us);
    ReportIdle(false, 0);
    if (due) break;
  }
  mail.completions.swap(completions_);
  mail.grants.swap(grants_);
  cancelled_ = false;
  pending_.store(false, std::memory_order_relaxed);
}

}  // namespace petit::internal

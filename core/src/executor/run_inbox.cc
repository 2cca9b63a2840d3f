#include "executor/run_inbox.h"

#include <utility>

#include "executor/spin.h"

namespace petit::internal {

void RunInbox::PostCompletion(Completion done) {
  {
    MutexLock lock(mu_);
    completions_.push_back(std::move(done));
    ++completions_posted_;
    pending_.store(true, std::memory_order_release);
    ReportIdle(false, 0);
  }
  cv_.Signal();
}

void RunInbox::PostGrant(Grant grant) {
  {
    MutexLock lock(mu_);
    grants_.push_back(std::move(grant));
    pending_.store(true, std::memory_order_release);
    ReportIdle(false, 0);
  }
  cv_.Signal();
}

void RunInbox::PostCancelled() {
  {
    MutexLock lock(mu_);
    cancelled_ = true;
    pending_.store(true, std::memory_order_release);
    ReportIdle(false, 0);
  }
  cv_.Signal();
}

void RunInbox::Wait(int64_t deadline_us, bool spin_first, Mail& mail) {
  if (spin_first) SpinFor([this] { return pending_.load(std::memory_order_acquire); });
  MutexLock lock(mu_);
  while (completions_.empty() && grants_.empty() && !cancelled_) {
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

#include "executor/run_inbox.h"

#include <utility>

#include "executor/spin.h"

namespace petit::internal {

void RunInbox::PostCompletion(Completion done) {
  {
    std::lock_guard lock(mu_);
    completions_.push_back(std::move(done));
    pending_.store(true, std::memory_order_release);
  }
  cv_.notify_one();
}

void RunInbox::PostGrant(Grant grant) {
  {
    std::lock_guard lock(mu_);
    grants_.push_back(std::move(grant));
    pending_.store(true, std::memory_order_release);
  }
  cv_.notify_one();
}

void RunInbox::PostCancelled() {
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    pending_.store(true, std::memory_order_release);
  }
  cv_.notify_one();
}

void RunInbox::Wait(int64_t deadline_us, bool spin_first, Mail& mail) {
  if (spin_first) SpinFor([this] { return pending_.load(std::memory_order_acquire); });
  std::unique_lock lock(mu_);
  clock_waiter_.WaitUntil(lock, deadline_us, [this] {
    return !completions_.empty() || !grants_.empty() || cancelled_;
  });
  mail.completions.swap(completions_);
  mail.grants.swap(grants_);
  cancelled_ = false;
  pending_.store(false, std::memory_order_relaxed);
}

}  // namespace petit::internal

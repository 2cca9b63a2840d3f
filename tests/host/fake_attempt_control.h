// FakeAttemptControl: an AttemptControl that records everything an attempt reports, for the
// plugin runner tests.
//
// Threads: every method is thread-safe. Like the engine's control, Cancel() runs the hook outside
// its lock. Unlike it, Cancel() may be called again and runs the hook again: that stands in for a
// hook the engine took just before Run() returned and ran just after, which TaskRunner allows.
#ifndef PETIT_TESTS_HOST_FAKE_ATTEMPT_CONTROL_H_
#define PETIT_TESTS_HOST_FAKE_ATTEMPT_CONTROL_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "petit/core/context.h"
#include "petit/core/task_runner.h"

namespace petit::host::fakes {

class FakeAttemptControl final : public AttemptControl {
 public:
  Status SetOutput(std::string_view key, std::string_view value) override {
    PETIT_RETURN_IF_ERROR(ValidateOutputKey(key));
    std::lock_guard lock(mu_);
    outputs_.insert_or_assign(std::string(key), std::string(value));
    return Status::Ok();
  }

  void AppendOutput(OutputStream stream, std::string_view bytes) override {
    std::lock_guard lock(mu_);
    (stream == OutputStream::kStdout ? stdout_ : stderr_).append(bytes);
  }

  void Log(LogLevel level, std::string_view message) override {
    std::lock_guard lock(mu_);
    logs_.emplace_back(level, std::string(message));
  }

  void ReportProgress(double fraction, std::string_view message) override {
    {
      std::lock_guard lock(mu_);
      progress_.emplace_back(fraction, std::string(message));
    }
    progress_cv_.notify_all();
  }

  bool cancelled() const override { return cancelled_.load(std::memory_order_acquire); }

  void OnCancel(std::function<void()> hook) override {
    std::unique_lock lock(hook_mu_);
    hook_ = hook;
    ++hooks_registered_;
    if (!cancelled_.load(std::memory_order_acquire)) return;
    lock.unlock();
    if (hook) hook();
  }

  // Cancels the attempt, as the engine does on a user's request or a timeout.
  void Cancel() {
    std::function<void()> hook;
    {
      std::lock_guard lock(hook_mu_);
      cancelled_.store(true, std::memory_order_release);
      hook = hook_;
    }
    if (hook) hook();
  }

  // Blocks until the attempt has reported progress at least once.
  void WaitForProgress() {
    std::unique_lock lock(mu_);
    progress_cv_.wait(lock, [&] { return !progress_.empty(); });
  }

  ValueMap outputs() const {
    std::lock_guard lock(mu_);
    return outputs_;
  }
  std::string stdout_text() const {
    std::lock_guard lock(mu_);
    return stdout_;
  }
  std::string stderr_text() const {
    std::lock_guard lock(mu_);
    return stderr_;
  }
  std::vector<std::pair<LogLevel, std::string>> logs() const {
    std::lock_guard lock(mu_);
    return logs_;
  }
  std::vector<std::pair<double, std::string>> progress() const {
    std::lock_guard lock(mu_);
    return progress_;
  }
  int hooks_registered() const {
    std::lock_guard lock(hook_mu_);
    return hooks_registered_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable progress_cv_;
  ValueMap outputs_;                                      // GUARDED_BY(mu_)
  std::string stdout_;                                    // GUARDED_BY(mu_)
  std::string stderr_;                                    // GUARDED_BY(mu_)
  std::vector<std::pair<LogLevel, std::string>> logs_;    // GUARDED_BY(mu_)
  std::vector<std::pair<double, std::string>> progress_;  // GUARDED_BY(mu_)

  mutable std::mutex hook_mu_;
  std::function<void()> hook_;  // GUARDED_BY(hook_mu_)
  int hooks_registered_ = 0;    // GUARDED_BY(hook_mu_)
  std::atomic<bool> cancelled_{false};
};

}  // namespace petit::host::fakes

#endif  // PETIT_TESTS_HOST_FAKE_ATTEMPT_CONTROL_H_

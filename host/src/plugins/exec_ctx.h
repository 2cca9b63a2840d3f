// petit_exec_ctx: the host's side of one plugin task attempt. plugin.h only forward-declares it;
// plugins hold a pointer and hand it back to host services, which reach the attempt's
// AttemptControl through it.
//
// Ownership: PluginTaskRunner::Run() owns it (on its stack) for the whole attempt; it borrows the
// request and the control, both of which outlive Run(). Nothing that may run after Run() returns
// (the cancel hook may) points at it.
// Threads: host services may use it from any thread between create and destroy.
#ifndef PETIT_HOST_PLUGINS_EXEC_CTX_H_
#define PETIT_HOST_PLUGINS_EXEC_CTX_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "petit/core/mutex.h"
#include "petit/core/task_runner.h"
#include "petit/core/thread_annotations.h"
#include "petit/plugin.h"
#include "runtime/process_registry.h"

// The name is fixed by the C header, hence the global namespace and the C-style spelling.
struct petit_exec_ctx {
 public:
  petit_exec_ctx(const petit::AttemptRequest& request, petit::AttemptControl& control,
                 std::string_view type_name)
      : request_(request), control_(control), type_name_(type_name) {}

  petit_exec_ctx(const petit_exec_ctx&) = delete;
  petit_exec_ctx& operator=(const petit_exec_ctx&) = delete;

  const petit::AttemptRequest& request() const { return request_; }
  petit::AttemptControl& control() const { return control_; }
  std::string_view type_name() const { return type_name_; }

  // Called once execute has returned (or create failed): from then on outputs are refused.
  void Finish() { over_.store(true, std::memory_order_release); }

  bool over() const { return over_.load(std::memory_order_acquire); }

  void SetError(std::string_view message) EXCLUDES(data_mu_) {
    petit::MutexLock lock(data_mu_);
    error_.assign(message);
  }
  std::string TakeError() EXCLUDES(data_mu_) {
    petit::MutexLock lock(data_mu_);
    return std::move(error_);
  }

  // An atomic rather than data_mu_: every attempt reads it once it ends, most never set it, and
  // the lock was one of about eight an in-process attempt took.
  void SetExitCode(int32_t code) {
    exit_code_.store(int64_t{code} & 0xFFFFFFFF, std::memory_order_release);
  }
  std::optional<int32_t> exit_code() const {
    const int64_t code = exit_code_.load(std::memory_order_acquire);
    if (code == kNoExitCode) return std::nullopt;
    return static_cast<int32_t>(static_cast<uint32_t>(code));
  }

  // Notes a process of the attempt for the next start's recovery (set_process); the note goes
  // with this context, when the attempt ends.
  void NoteProcess(int64_t pid, int64_t process_group, uint64_t start_ticks) EXCLUDES(data_mu_) {
    std::unique_ptr<petit::host::ProcessNote> note = petit::host::ProcessNote::Write(
        request_.run.str(), request_.task.str(), request_.attempt, pid, process_group, start_ticks);
    if (note == nullptr) return;
    petit::MutexLock lock(data_mu_);
    notes_.push_back(std::move(note));
  }

 private:
  const petit::AttemptRequest& request_;
  petit::AttemptControl& control_;
  const std::string_view type_name_;

  std::atomic<bool> over_{false};

  mutable petit::Mutex data_mu_;
  std::string error_ GUARDED_BY(data_mu_);
  static constexpr int64_t kNoExitCode = -1;  // a set code is its 32 bits, so never -1
  std::atomic<int64_t> exit_code_{kNoExitCode};
  std::vector<std::unique_ptr<petit::host::ProcessNote>> notes_ GUARDED_BY(data_mu_);
};

#endif  // PETIT_HOST_PLUGINS_EXEC_CTX_H_

// EngineAttemptControl: the engine's side of one attempt, handed to its TaskRunner. Collects the
// attempt's outputs, streams its captured output to the StateStore in bounded chunks (capped per
// stream, with a marker where the cap cut it), and carries cancellation to the runner's hook.
//
// Ownership: shared by the coordinator and the worker running the attempt; it borrows the store
// and the run and task ids, which outlive the run.
// Threads: the AttemptControl methods are thread-safe (task_runner.h). Cancel() may be called from
// any thread; Finish() and TakeOutputs() once the runner has returned.
#ifndef PETIT_CORE_SRC_EXECUTOR_ATTEMPT_CONTROL_H_
#define PETIT_CORE_SRC_EXECUTOR_ATTEMPT_CONTROL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "petit/core/context.h"
#include "petit/core/ids.h"
#include "petit/core/mutex.h"
#include "petit/core/state_store.h"
#include "petit/core/status.h"
#include "petit/core/task_runner.h"
#include "petit/core/thread_annotations.h"

namespace petit::internal {

class EngineAttemptControl final : public AttemptControl {
 public:
  // Captured output is written to the store in chunks of this size (and whatever is left at the
  // end), so memory does not grow with output size.
  static constexpr size_t kLogChunkBytes = 64 * 1024;

  EngineAttemptControl(StateStore& store, const RunId& run, const TaskId& task, uint32_t attempt,
                       size_t cap_bytes)
      : store_(store), run_(run), task_(task), attempt_(attempt), cap_bytes_(cap_bytes) {}

  Status SetOutput(std::string_view key, std::string_view value) override EXCLUDES(outputs_mu_);
  void AppendOutput(OutputStream stream, std::string_view bytes) override EXCLUDES(capture_mu_);
  void Log(LogLevel level, std::string_view message) override EXCLUDES(capture_mu_);
  void ReportProgress(double fraction, std::string_view message) override EXCLUDES(capture_mu_);
  bool cancelled() const override { return cancelled_.load(std::memory_order_acquire); }
  void OnCancel(std::function<void()> hook) override EXCLUDES(cancel_mu_);

  // Asks the attempt to stop; `timed_out` records why. Runs the runner's hook at most once.
  void Cancel(bool timed_out) EXCLUDES(cancel_mu_);
  bool timed_out() const EXCLUDES(cancel_mu_);

  // Writes what is still buffered. Returns the first storage error seen during the attempt that
  // was not an outage (IsStoreOutage); chunks an outage kept from the store are left for
  // TakeUnwritten(), and the run writes them once the store answers.
  // `unwritten` receives TakeUnwritten()'s chunks, under the same hold of the lock.
  Status Finish(std::vector<LogChunk>& unwritten) EXCLUDES(capture_mu_);
  // Writes what is buffered and drops whatever the runner writes from now on: the attempt has
  // been given up on, and the run (whose ids and store this control borrows) may end before its
  // runner returns.
  void Abandon() EXCLUDES(capture_mu_);
  // The chunks the store did not take, in order, for the run to write once it answers.
  std::vector<LogChunk> TakeUnwritten() EXCLUDES(capture_mu_);
  ValueMap TakeOutputs() EXCLUDES(outputs_mu_);

 private:
  struct Capture {
    std::string buffer;
    size_t total = 0;
    bool truncated = false;
  };

  void FlushLocked(OutputStream stream, Capture& capture) REQUIRES(capture_mu_);
  // Writes the chunks an outage kept, oldest first, until one fails; true when none is left.
  bool RetryUnwrittenLocked() REQUIRES(capture_mu_);

  StateStore& store_;
  const RunId& run_;
  const TaskId& task_;
  const uint32_t attempt_;
  const size_t cap_bytes_;

  // The three locks never nest.
  Mutex outputs_mu_;
  ValueMap outputs_ GUARDED_BY(outputs_mu_);
  size_t output_bytes_ GUARDED_BY(outputs_mu_) = 0;  // keys and values in outputs_
  // Set (after the write, under the lock) once SetOutput or AppendOutput stored anything, so the
  // many attempts that set no output and capture nothing end without taking either lock:
  // TakeOutputs and Finish run once the runner returned, after every write it made.
  std::atomic<bool> has_outputs_{false};
  std::atomic<bool> captured_{false};

  Mutex capture_mu_;
  Capture stdout_ GUARDED_BY(capture_mu_);
  Capture stderr_ GUARDED_BY(capture_mu_);
  uint32_t next_seq_ GUARDED_BY(capture_mu_) = 0;
  Status write_status_ GUARDED_BY(capture_mu_);
  bool abandoned_ GUARDED_BY(capture_mu_) = false;
  // Chunks a store outage kept from the store, in seq order; bounded by the cap like the capture.
  std::vector<LogChunk> unwritten_ GUARDED_BY(capture_mu_);

  mutable Mutex cancel_mu_;
  std::atomic<bool> cancelled_{false};  // written under cancel_mu_, read anywhere
  bool timed_out_ GUARDED_BY(cancel_mu_) = false;
  std::function<void()> hook_ GUARDED_BY(cancel_mu_);
};

}  // namespace petit::internal

#endif  // PETIT_CORE_SRC_EXECUTOR_ATTEMPT_CONTROL_H_

// TaskRunner: what a task type looks like to the engine (a port; the host implements it for every
// task type a plugin declares, tests implement it directly).
//
// The engine calls Run() on a worker thread for one attempt and passes an AttemptControl through
// which the attempt reports outputs, captured output and progress, and learns about cancellation.
// Run() must not throw; it returns an AttemptResult.
//
// Threads: Run() is called concurrently for different attempts (unless the runner says it is
// serial). AttemptControl methods are thread-safe and may be called from threads the runner starts,
// until Run() returns. The cancel hook registered with OnCancel() may run on any thread, at most
// once, and possibly before OnCancel() returns (when the attempt was already cancelled).
#ifndef PETIT_CORE_TASK_RUNNER_H_
#define PETIT_CORE_TASK_RUNNER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "petit/core/context.h"
#include "petit/core/ids.h"
#include "petit/core/log_level.h"
#include "petit/core/status.h"
#include "petit/core/task_spec.h"

namespace petit {

enum class OutputStream : uint8_t { kStdout = 1, kStderr = 2 };

enum class AttemptOutcome : uint8_t {
  kSucceeded,
  kFailed,
  kTransientFailure,
  kTimedOut,
  kCancelled,
  kInvalidParams,  // the task could not even start with these parameters; never retried
};

std::string_view AttemptOutcomeName(AttemptOutcome outcome);

struct AttemptRequest {
  JobId job;
  RunId run;
  TaskId task;
  std::string type;
  uint32_t attempt = 1;                      // 1-based
  std::string params_json;                   // templates expanded
  std::chrono::milliseconds timeout{0};      // 0 = none
  std::shared_ptr<const RunOutputs> inputs;  // outputs of the run's succeeded tasks
  std::shared_ptr<const ValueMap> config;    // job config
};

struct AttemptResult {
  AttemptOutcome outcome = AttemptOutcome::kFailed;
  std::optional<int32_t> exit_code;
  std::string error;  // empty on success
};

class AttemptControl {
 public:
  virtual ~AttemptControl() = default;
  // Records an output (un-namespaced key); it reaches downstream only if the attempt succeeds.
  virtual Status SetOutput(std::string_view key, std::string_view value) = 0;
  // Streams captured process output; the engine stores it in chunks and applies the cap.
  virtual void AppendOutput(OutputStream stream, std::string_view bytes) = 0;
  virtual void Log(LogLevel level, std::string_view message) = 0;
  virtual void ReportProgress(double fraction, std::string_view message) = 0;
  virtual bool cancelled() const = 0;
  // See the header comment for when `hook` runs. A later call replaces an earlier hook.
  virtual void OnCancel(std::function<void()> hook) = 0;
};

class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  virtual AttemptResult Run(const AttemptRequest& request, AttemptControl& control) = 0;
  // True when at most one Run() of this runner may be in flight at a time.
  virtual bool serial() const { return false; }
  // True when Run() returns soon after a cancel whatever the task does (it runs the task in a
  // process it kills, or in code the host trusts). Otherwise the engine gives a cancelled attempt
  // RunOptions::cancel_grace and then abandons it (execute_run.h).
  virtual bool stops_on_cancel() const { return false; }
};

// Task type name -> runner. Filled by the host before any run starts, then read-only.
class TaskRunnerRegistry {
 public:
  // Fails with kAlreadyExists (naming the type) when the name is taken.
  Status Register(std::string type, std::shared_ptr<TaskRunner> runner);
  TaskRunner* Find(std::string_view type) const;
  std::vector<std::string> Types() const;

 private:
  std::map<std::string, std::shared_ptr<TaskRunner>, std::less<>> runners_;
};

}  // namespace petit

#endif  // PETIT_CORE_TASK_RUNNER_H_

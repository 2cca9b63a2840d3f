// StateStore: where runs, task attempts and captured output are recorded (a port; backends in
// storage_backends/ implement it, chosen by URI).
//
// Every method is a synchronous, durable write or a consistent read: when a write returns OK, the
// record survives a crash of this process. Implementations are thread-safe: any method may be
// called from any thread, concurrently; each says how it serialises writers.
// Times are int64 microseconds since the Unix epoch; 0 means "not yet".
//
// Every backend behaves alike (the conformance suite in tests/storage_backends checks it):
// CreateRun of an existing id is kAlreadyExists; UpdateRun of an unknown id is kNotFound; a limit of
// 0 lists nothing. Outputs and log data round-trip byte for byte; free text (trigger, error) is
// stored as valid UTF-8, with invalid bytes and NUL replaced by U+FFFD.
#ifndef PETIT_CORE_STATE_STORE_H_
#define PETIT_CORE_STATE_STORE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "petit/core/context.h"
#include "petit/core/dag.h"
#include "petit/core/ids.h"
#include "petit/core/status.h"
#include "petit/core/task_runner.h"

namespace petit {

enum class RunStatus : uint8_t {
  kQueued,
  kRunning,
  kSucceeded,
  kFailed,
  kCancelled,
  kInterrupted,
};

std::string_view RunStatusName(RunStatus status);
Result<RunStatus> ParseRunStatus(std::string_view text);
bool IsTerminal(RunStatus status);

struct RunRecord {
  RunId id;
  JobId job;
  RunStatus status = RunStatus::kQueued;
  std::string trigger = "manual";  // "manual", "schedule", "api", ...
  int64_t created_us = 0;
  int64_t started_us = 0;
  int64_t ended_us = 0;
  std::string error;
};

// One attempt of one task; (run, task, attempt) is the key. Attempt 0 records a task that never
// ran (skipped, upstream_failed) so every task of a run has at least one row.
struct AttemptRecord {
  RunId run;
  TaskId task;
  uint32_t attempt = 0;
  TaskState state = TaskState::kPending;
  int64_t queued_us = 0;
  int64_t started_us = 0;
  int64_t ended_us = 0;
  std::optional<int32_t> exit_code;
  std::string error;
  ValueMap outputs;
};

struct LogChunk {
  RunId run;
  TaskId task;
  uint32_t attempt = 0;
  OutputStream stream = OutputStream::kStdout;
  uint32_t seq = 0;  // per (run, task, attempt), from 0
  std::string data;
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  virtual Status CreateRun(const RunRecord& run) = 0;
  // Replaces status, started/ended times and error of an existing run.
  virtual Status UpdateRun(const RunRecord& run) = 0;
  virtual Result<std::optional<RunRecord>> GetRun(const RunId& id) = 0;
  // Newest first; `job` empty means every job.
  virtual Result<std::vector<RunRecord>> ListRuns(const JobId& job, size_t limit) = 0;

  // Inserts or replaces the attempt keyed by (run, task, attempt).
  virtual Status SaveAttempt(const AttemptRecord& attempt) = 0;
  // SaveAttempt for each, in order, as one transaction: all are durable or none is. The engine
  // hands over everything one wake-up decided, so one commit covers many transitions.
  virtual Status SaveAttempts(std::span<const AttemptRecord> attempts) = 0;
  // Ordered by task id, then attempt.
  virtual Result<std::vector<AttemptRecord>> ListAttempts(const RunId& run) = 0;

  virtual Status AppendLog(const LogChunk& chunk) = 0;
  // In (task, attempt, seq) order; `task` empty means every task of the run.
  virtual Result<std::vector<LogChunk>> ReadLogs(const RunId& run, const TaskId& task) = 0;
};

}  // namespace petit

#endif  // PETIT_CORE_STATE_STORE_H_

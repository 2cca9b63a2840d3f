// What the API's routes share: the JSON of runs, tasks, attempts and jobs, written once for the
// original Petit's ten paths (api/compat_routes.h, its vocabulary) and for /api/v1
// (api/v1_routes.h, Petit's own), the one mapping of a Status to an HTTP answer, and the checks
// of ids, query parameters and bodies every route makes alike.
//
// Times are epoch milliseconds (`*_at`), durations `duration_ms`; what is absent is null, never
// missing. Text from the store or a job file is written as valid UTF-8 whatever its bytes.
// Pure functions and a value type; any thread.
#ifndef PETIT_HOST_API_API_JSON_H_
#define PETIT_HOST_API_API_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_types.h"
#include "petit/core/ids.h"
#include "petit/core/job.h"
#include "petit/core/state_store.h"
#include "petit/core/states.h"
#include "petit/core/status.h"

namespace petit::host {

// Appends JSON in order, placing the commas: Key then a value inside objects, values alone inside
// arrays. The caller balances Begin/End.
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& StringOrNull(std::string_view value);  // null when empty
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Microseconds as epoch milliseconds; null when 0 ("not yet").
  JsonWriter& MillisOrNull(int64_t us);
  // Millis(end) - Millis(start); null unless both are set.
  JsonWriter& DurationOrNull(int64_t start_us, int64_t end_us);
  JsonWriter& Raw(std::string_view json);  // a complete JSON value
  std::string Take() { return std::move(out_); }

 private:
  void Separate();
  std::string out_;
  bool need_comma_ = false;
};

// The one mapping of a Status code to HTTP: kNotFound 404, kInvalidArgument 400,
// kFailedPrecondition and kAlreadyExists 409, kResourceExhausted 429, kUnavailable 503, others 500.
int HttpStatusOf(StatusCode code);
// The error code word of an HTTP status: 404 "NOT_FOUND", 409 "CONFLICT", ...
std::string_view ErrorCodeOf(int http_status);
// ErrorResponse with the status's HTTP mapping and its message.
ApiResponse StatusResponse(const Status& status);
// ErrorResponse(http_status, ErrorCodeOf(http_status), message).
ApiResponse Error(int http_status, std::string_view message);

// Whose words: the original Petit's (runs pending|running|completed|failed|interrupted|cancelled;
// tasks pending|running|completed|failed|skipped) or Petit's own (core's names).
enum class Vocabulary : uint8_t { kPetit, kCompat };
std::string_view RunStatusWord(RunStatus status, Vocabulary vocabulary);
std::string_view TaskStateWord(TaskState state, Vocabulary vocabulary);

// A run: compat {id, job_id, status, started_at, ended_at, duration_ms, error}; v1 adds trigger,
// owner, created_at, retries, retried_at, occurrence_at.
void WriteRun(JsonWriter& json, const RunRecord& run, Vocabulary vocabulary);

// One task of a run, from its attempts: the latest attempt's state and times, and how many
// attempts ran (attempt 0, a task that never ran, counts none).
struct TaskSummary {
  TaskId task{};
  TaskState state = TaskState::kPending;
  uint32_t attempts = 0;
  int64_t started_us = 0;
  int64_t ended_us = 0;
  std::optional<int32_t> exit_code{};
  std::string error{};
};
// `attempts` as ListAttempts orders them (task, then attempt); one summary per task, same order.
std::vector<TaskSummary> SummariseTasks(const std::vector<AttemptRecord>& attempts);
// compat {task_id, run_id, status, attempts, started_at, ended_at, duration_ms, error};
// v1 {task_id, status, attempts, started_at, ended_at, duration_ms, exit_code, error}.
void WriteTask(JsonWriter& json, const TaskSummary& task, const RunId& run, Vocabulary vocabulary);
// {task_id, attempt, status, queued_at, started_at, ended_at, duration_ms, exit_code, error,
// outputs}
void WriteAttempt(JsonWriter& json, const AttemptRecord& attempt);

// The compat job object: {id, name, enabled, scheduled, task_count}.
void WriteCompatJob(JsonWriter& json, const Job& job);

// What a JobSummary shows beside the definition, read from the scheduler and the store.
struct JobFacts {
  bool paused = false;
  std::optional<int64_t> next_fire_us;
  std::optional<RunRecord> last_run;
  int64_t last_success_us = 0;  // when the latest successful run ended; 0 = never
};
// The members of a JobSummary (no braces, so the job route can add its definition): id, name,
// description, enabled, paused, scheduled, schedule, timezone, task_count, max_active_runs,
// next_fire_at, last_success_at, last_run {id, status, started_at, ended_at} or null.
void WriteJobSummaryMembers(JsonWriter& json, const Job& job, const JobFacts& facts);
// {tasks:[...], config, config_visible, environment_visible, overlap, catch_up, catch_up_limit,
// max_parallel_tasks, depends_on:[...], source_file}: config values and the tasks' `environment`
// values are "***" unless the job lists them in api_visible.
void WriteJobDefinition(JsonWriter& json, const Job& job);
// A task's params_json with the values of its top-level `environment` (and `env`) objects
// replaced by "***" (unless `show_environment`); the text as it is if it is not a JSON object.
std::string RedactedParams(std::string_view params_json, bool show_environment);
// The literal shown for a hidden value.
inline constexpr std::string_view kRedacted = "***";

// The run id of a path segment: nullopt when malformed (v1 answers 400, compat 404).
std::optional<RunId> ParseRunIdSegment(std::string_view text);

// A 400 answer naming the first query parameter not in `allowed` (with the closest allowed one),
// or nullopt when every parameter is known.
std::optional<ApiResponse> CheckQuery(const ApiRequest& request,
                                      const std::vector<std::string_view>& allowed);

}  // namespace petit::host

#endif  // PETIT_HOST_API_API_JSON_H_

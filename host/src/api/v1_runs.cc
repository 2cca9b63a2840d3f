// /api/v1/runs: runs, their tasks and attempts from the store; cancel and retry through the Daemon.
#include <charconv>
#include <string>
#include <utility>
#include <vector>

#include "api/api_body.h"
#include "api/api_json.h"
#include "api/v1_internal.h"
#include "petit/core/suggest.h"

namespace petit::host::v1 {
namespace {

constexpr size_t kDefaultPageSize = 50;
constexpr size_t kMaxPageSize = 1000;

std::optional<int64_t> ReadMillis(const ApiRequest& request, std::string_view key,
                                  std::optional<ApiResponse>& error) {
  std::optional<std::string_view> text = request.Query(key);
  if (!text) return std::nullopt;
  int64_t ms = 0;
  const auto [end, failure] = std::from_chars(text->data(), text->data() + text->size(), ms);
  // Up to the year 10000 in milliseconds, so that the microseconds do not overflow.
  if (failure != std::errc() || end != text->data() + text->size() || ms < 0 ||
      ms > 253'402'300'800'000) {
    error = Error(400, "query parameter '" + std::string(key) +
                           "' must be epoch milliseconds, not '" + std::string(*text) + "'");
    return std::nullopt;
  }
  return ms * 1000;
}

// GET /api/v1/runs's parameters as a store query, checked.
std::optional<RunQuery> QueryOf(const ApiRequest& request, std::optional<ApiResponse>& error) {
  RunQuery query;
  query.limit = kDefaultPageSize;
  if (std::optional<std::string_view> job = request.Query("job")) {
    if (Status valid = ValidateName(*job, "job id"); !valid.ok()) {
      error = Error(400, "query parameter 'job': " + valid.message());
      return std::nullopt;
    }
    query.job = JobId(std::string(*job));
  }
  if (std::optional<std::string_view> statuses = request.Query("status")) {
    std::vector<std::string_view> names;
    for (RunStatus status : {RunStatus::kQueued, RunStatus::kRunning, RunStatus::kSucceeded,
                             RunStatus::kFailed, RunStatus::kCancelled, RunStatus::kInterrupted}) {
      names.push_back(RunStatusName(status));
    }
    std::string_view rest = *statuses;
    while (true) {
      const size_t comma = rest.find(',');
      const std::string_view word = rest.substr(0, comma);
      Result<RunStatus> status = ParseRunStatus(word);
      if (!status.ok()) {
        std::string message = "unknown run status '" + std::string(word) + "' in 'status'";
        if (auto close = ClosestMatch(word, names)) message += " (did you mean '" + *close + "'?)";
        error = Error(400, message +
                               "; expected a comma-separated list of queued, running, "
                               "succeeded, failed, cancelled, interrupted");
        return std::nullopt;
      }
      query.statuses.push_back(*status);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  query.since_us = ReadMillis(request, "since", error);
  if (error) return std::nullopt;
  query.until_us = ReadMillis(request, "until", error);
  if (error) return std::nullopt;
  if (query.since_us && query.until_us && *query.since_us > *query.until_us) {
    error = Error(400, "query parameter 'since' is after 'until': no run can match");
    return std::nullopt;
  }
  if (std::optional<std::string_view> text = request.Query("limit")) {
    const auto [end, failure] =
        std::from_chars(text->data(), text->data() + text->size(), query.limit);
    if (failure != std::errc() || end != text->data() + text->size() || query.limit == 0 ||
        query.limit > kMaxPageSize) {
      error = Error(400, "query parameter 'limit' must be 1 to " + std::to_string(kMaxPageSize) +
                             ", not '" + std::string(*text) + "'");
      return std::nullopt;
    }
  }
  if (std::optional<std::string_view> cursor = request.Query("cursor")) {
    Result<RunCursor> after = DecodeRunCursor(*cursor);
    if (!after.ok()) {
      error = Error(400, "query parameter 'cursor' is not a cursor this API handed out: " +
                             after.status().message());
      return std::nullopt;
    }
    query.after = *after;
  }
  return query;
}

// Reads the store's query: one indexed page, wherever the runs are.
ApiResponse ListRuns(DaemonApi& daemon, const ApiRequest& request) {
  if (auto bad = CheckQuery(request, {"job", "status", "since", "until", "limit", "cursor"})) {
    return std::move(*bad);
  }
  std::optional<ApiResponse> error;
  std::optional<RunQuery> query = QueryOf(request, error);
  if (!query) return std::move(*error);
  Result<RunPage> page = daemon.store().QueryRuns(*query);
  if (!page.ok()) return StatusResponse(page.status());
  JsonWriter json;
  json.BeginObject().Key("runs").BeginArray();
  for (const RunRecord& run : page->runs) WriteRun(json, run, Vocabulary::kPetit);
  json.EndArray().Key("next_cursor");
  if (page->next) {
    json.String(EncodeRunCursor(*page->next));
  } else {
    json.Null();
  }
  json.EndObject();
  return JsonResponse(json.Take());
}

ApiResponse GetRun(DaemonApi& daemon, const ApiRequest& request) {
  if (auto bad = CheckQuery(request, {})) return std::move(*bad);
  std::optional<ApiResponse> error;
  std::optional<RunRecord> run = RunOf(daemon, request, error);
  if (!run) return std::move(*error);
  JsonWriter json;
  WriteRun(json, *run, Vocabulary::kPetit);
  return JsonResponse(json.Take());
}

ApiResponse Ended(const RunRecord& run) {
  return Error(409, "run " + run.id.str() + " has already ended (" +
                        std::string(RunStatusName(run.status)) + ")");
}

ApiResponse Cancel(DaemonApi& daemon, const ApiRequest& request) {
  if (auto bad = CheckQuery(request, {})) return std::move(*bad);
  if (auto bad = RefuseBody(request)) return std::move(*bad);
  std::optional<ApiResponse> error;
  std::optional<RunRecord> run = RunOf(daemon, request, error);
  if (!run) return std::move(*error);
  if (IsTerminal(run->status)) return Ended(*run);
  const Status status = daemon.Cancel(run->id);
  if (!status.ok()) {
    if (status.code() != StatusCode::kNotFound) return StatusResponse(status);
    // Not active here: it ended meanwhile, or another process drives it.
    std::optional<RunRecord> now = RunOf(daemon, request, error);
    if (!now) return std::move(*error);
    if (IsTerminal(now->status)) return Ended(*now);
    return Error(409, "run " + now->id.str() + " is not driven by this daemon (owner " +
                          (now->owner.empty() ? std::string("none") : now->owner) +
                          "): cancel it where it runs");
  }
  JsonWriter json;
  json.BeginObject();
  json.Key("run_id").String(run->id.str());
  json.Key("status").String("cancelling");
  json.EndObject();
  return JsonResponse(json.Take(), 202);
}

std::string_view PlanWord(TaskPlan plan) {
  switch (plan) {
    case TaskPlan::kKeep:
      return "keep";
    case TaskPlan::kRun:
      return "run";
    case TaskPlan::kInterrupted:
      return "interrupted";
  }
  return "keep";
}

void WritePlan(JsonWriter& json, const PlannedRetry& retry) {
  const Dag& dag = retry.job->dag;
  const RetryPlan& plan = retry.resumption->plan;
  json.BeginObject();
  json.Key("tasks").BeginArray();
  for (Dag::Index index : dag.TopologicalOrder()) {
    json.BeginObject();
    json.Key("task_id").String(dag.task(index).id.str());
    json.Key("action").String(PlanWord(plan.tasks[index]));
    json.Key("last_attempt").Int(plan.last_attempt[index]);
    if (plan.last_attempt[index] == 0 && plan.last_state[index] == TaskState::kPending) {
      json.Key("last_state").Null();
    } else {
      json.Key("last_state").String(TaskStateName(plan.last_state[index]));
    }
    json.EndObject();
  }
  json.EndArray();
  json.Key("run_count").Int(static_cast<int64_t>(plan.Count(TaskPlan::kRun)));
  json.Key("keep_count").Int(static_cast<int64_t>(plan.Count(TaskPlan::kKeep)));
  json.Key("text").String(DescribeRetry(retry));
  json.EndObject();
}

ApiResponse Retry(DaemonApi& daemon, const ApiRequest& request) {
  if (auto bad = CheckQuery(request, {})) return std::move(*bad);
  std::optional<ApiResponse> error;
  std::optional<RunId> id = RunIdOf(request, error);
  if (!id) return std::move(*error);
  ParsedBody body = ParseBody(request, {"from", "task", "dry_run"});
  if (body.error) return std::move(*body.error);
  std::optional<std::string> from = BodyString(*body.object, "from", error);
  if (error) return std::move(*error);
  std::optional<std::string> task = BodyString(*body.object, "task", error);
  if (error) return std::move(*error);
  const bool dry_run = BodyBool(*body.object, "dry_run", error).value_or(false);
  if (error) return std::move(*error);
  if (from && task) return Error(400, "fields 'from' and 'task' exclude each other: give one");
  RetryRequest retry;
  if (from) {
    retry.scope = RetryScope::kFromTask;
    retry.task = TaskId(*from);
  } else if (task) {
    retry.scope = RetryScope::kOnlyTask;
    retry.task = TaskId(*task);
  }
  Result<PlannedRetry> planned = daemon.Retry(*id, retry, dry_run);
  if (!planned.ok()) return StatusResponse(planned.status());
  JsonWriter json;
  json.BeginObject();
  json.Key("run_id").String(id->str());
  json.Key("job_id").String(planned->job->id.str());
  json.Key("dry_run").Bool(dry_run);
  json.Key("plan");
  WritePlan(json, *planned);
  json.EndObject();
  return JsonResponse(json.Take(), dry_run ? 200 : 202);
}

ApiResponse Tasks(DaemonApi& daemon, const ApiRequest& request) {
  if (auto bad = CheckQuery(request, {})) return std::move(*bad);
  std::optional<ApiResponse> error;
  std::optional<RunRecord> run = RunOf(daemon, request, error);
  if (!run) return std::move(*error);
  Result<std::vector<AttemptRecord>> attempts = daemon.store().ListAttempts(run->id);
  if (!attempts.ok()) return StatusResponse(attempts.status());
  const std::vector<TaskSummary> tasks = SummariseTasks(*attempts);
  JsonWriter json;
  json.BeginObject().Key("tasks").BeginArray();
  for (const TaskSummary& task : tasks) WriteTask(json, task, run->id, Vocabulary::kPetit);
  json.EndArray().Key("count").Int(static_cast<int64_t>(tasks.size())).EndObject();
  return JsonResponse(json.Take());
}

ApiResponse Attempts(DaemonApi& daemon, const ApiRequest& request) {
  if (auto bad = CheckQuery(request, {})) return std::move(*bad);
  std::optional<ApiResponse> error;
  std::optional<RunRecord> run = RunOf(daemon, request, error);
  if (!run) return std::move(*error);
  Result<std::vector<AttemptRecord>> attempts = daemon.store().ListAttempts(run->id);
  if (!attempts.ok()) return StatusResponse(attempts.status());
  JsonWriter json;
  json.BeginObject().Key("attempts").BeginArray();
  for (const AttemptRecord& attempt : *attempts) WriteAttempt(json, attempt);
  json.EndArray().Key("count").Int(static_cast<int64_t>(attempts->size())).EndObject();
  return JsonResponse(json.Take());
}

}  // namespace

std::vector<Route> RunRoutes(DaemonApi& daemon) {
  DaemonApi* d = &daemon;
  return {
      {"GET", "/api/v1/runs", Access::kRead,
       [d](const ApiRequest& request) { return ListRuns(*d, request); },
       "Runs across jobs, newest first, filtered by job, status and creation time, paged"},
      {"GET", "/api/v1/runs/{id}", Access::kRead,
       [d](const ApiRequest& request) { return GetRun(*d, request); }, "One run"},
      {"POST", "/api/v1/runs/{id}/cancel", Access::kOperate,
       [d](const ApiRequest& request) { return Cancel(*d, request); },
       "Cancel an active run (202; 409 once ended)"},
      {"POST", "/api/v1/runs/{id}/retry", Access::kOperate,
       [d](const ApiRequest& request) { return Retry(*d, request); },
       "Retry an ended run inside itself, from a task or one task; the plan either way"},
      {"GET", "/api/v1/runs/{id}/tasks", Access::kRead,
       [d](const ApiRequest& request) { return Tasks(*d, request); },
       "The tasks of a run, each with its latest attempt"},
      {"GET", "/api/v1/runs/{id}/attempts", Access::kRead,
       [d](const ApiRequest& request) { return Attempts(*d, request); },
       "Every attempt of a run with times, exit codes, errors and outputs"},
  };
}

}  // namespace petit::host::v1

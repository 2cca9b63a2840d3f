#include "api/compat_routes.h"

#include <charconv>
#include <string>
#include <string_view>
#include <utility>

#include "api/api_json.h"
#include "runtime/daemon.h"

#ifndef PETIT_VERSION
#define PETIT_VERSION "0.0.0"
#endif

namespace petit::host {
namespace {

constexpr size_t kDefaultRunsLimit = 20;
constexpr size_t kMaxRunsLimit = 10000;

// The original's answers to a store that fails: 500 INTERNAL_ERROR with the reason.
ApiResponse StoreError(const Status& status) {
  return ErrorResponse(500, "INTERNAL_ERROR", status.message());
}

ApiResponse JobNotFound(std::string_view id) {
  return ErrorResponse(404, "NOT_FOUND", "job not found: " + std::string(id));
}

ApiResponse SchedulerNotRunning() {
  return ErrorResponse(503, "SERVICE_UNAVAILABLE", "scheduler is not running");
}

ApiResponse Health(const ApiRequest&) {
  JsonWriter json;
  json.BeginObject().Key("status").String("ok").Key("version").String(PETIT_VERSION).EndObject();
  return JsonResponse(json.Take());
}

ApiResponse SchedulerState(DaemonApi& daemon) {
  const DaemonState state = daemon.State();
  const char* word = state.stopping ? "stopped" : state.scheduler_paused ? "paused" : "running";
  JsonWriter json;
  json.BeginObject();
  json.Key("state").String(word);
  json.Key("is_running").Bool(!state.stopping);
  json.Key("is_paused").Bool(state.scheduler_paused);
  json.EndObject();
  return JsonResponse(json.Take());
}

ApiResponse SetSchedulerPaused(DaemonApi& daemon, bool paused) {
  if (daemon.State().stopping) return SchedulerNotRunning();
  const Status status = paused ? daemon.PauseScheduler() : daemon.ResumeScheduler();
  if (!status.ok()) {
    if (status.code() == StatusCode::kFailedPrecondition) return SchedulerNotRunning();
    return StoreError(status);
  }
  JsonWriter json;
  json.BeginObject()
      .Key("message")
      .String(paused ? "scheduler paused" : "scheduler resumed")
      .EndObject();
  return JsonResponse(json.Take());
}

ApiResponse ListJobs(DaemonApi& daemon) {
  const auto jobs = daemon.Jobs();
  JsonWriter json;
  json.BeginObject().Key("jobs").BeginArray();
  for (const auto& job : jobs) WriteCompatJob(json, *job);
  json.EndArray().Key("count").Int(static_cast<int64_t>(jobs.size())).EndObject();
  return JsonResponse(json.Take());
}

ApiResponse GetJob(DaemonApi& daemon, const ApiRequest& request) {
  const std::string& id = request.Param("id");
  const auto job = daemon.FindJob(JobId(id));
  if (job == nullptr) return JobNotFound(id);
  JsonWriter json;
  WriteCompatJob(json, *job);
  return JsonResponse(json.Take());
}

ApiResponse Trigger(DaemonApi& daemon, const ApiRequest& request) {
  const std::string& id = request.Param("id");
  if (daemon.FindJob(JobId(id)) == nullptr) return JobNotFound(id);
  Result<RunId> run = daemon.Trigger(JobId(id), TriggerOptions{.trigger = "api"});
  if (!run.ok()) {
    switch (run.status().code()) {
      case StatusCode::kNotFound:
        return JobNotFound(id);
      case StatusCode::kResourceExhausted:
        return ErrorResponse(429, "TOO_MANY_REQUESTS", "max concurrent runs exceeded: " + id);
      case StatusCode::kUnavailable:
        if (daemon.State().stopping) return SchedulerNotRunning();
        return ErrorResponse(503, "SERVICE_UNAVAILABLE", run.status().message());
      default:
        return StoreError(run.status());
    }
  }
  JsonWriter json;
  json.BeginObject();
  json.Key("run_id").String(run->str());
  json.Key("job_id").String(id);
  json.Key("message").String("job '" + id + "' triggered");
  json.EndObject();
  return JsonResponse(json.Take());
}

ApiResponse JobRuns(DaemonApi& daemon, const ApiRequest& request) {
  const std::string& id = request.Param("id");
  if (daemon.FindJob(JobId(id)) == nullptr) return JobNotFound(id);
  size_t limit = kDefaultRunsLimit;
  if (std::optional<std::string_view> text = request.Query("limit")) {
    const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (error != std::errc() || end != text->data() + text->size() || limit > kMaxRunsLimit) {
      return ErrorResponse(400, "BAD_REQUEST",
                           "invalid limit '" + std::string(*text) + "': expected 0 to " +
                               std::to_string(kMaxRunsLimit));
    }
  }
  Result<std::vector<RunRecord>> runs = daemon.store().ListRuns(JobId(id), limit);
  if (!runs.ok()) return StoreError(runs.status());
  JsonWriter json;
  json.BeginObject().Key("runs").BeginArray();
  for (const RunRecord& run : *runs) WriteRun(json, run, Vocabulary::kCompat);
  json.EndArray().Key("count").Int(static_cast<int64_t>(runs->size())).EndObject();
  return JsonResponse(json.Take());
}

// The run of the path, or the original's 404 (a malformed id is "invalid run id").
Result<RunRecord> FindRun(DaemonApi& daemon, const ApiRequest& request,
                          std::optional<ApiResponse>& error) {
  const std::string& text = request.Param("id");
  std::optional<RunId> id = ParseRunIdSegment(text);
  if (!id) {
    error = ErrorResponse(404, "NOT_FOUND", "invalid run id");
    return NotFound("invalid run id");
  }
  Result<std::optional<RunRecord>> run = daemon.store().GetRun(*id);
  if (!run.ok()) {
    error = StoreError(run.status());
    return run.status();
  }
  if (!run->has_value()) {
    error = ErrorResponse(404, "NOT_FOUND", "run not found: " + text);
    return NotFound(text);
  }
  return std::move(**run);
}

ApiResponse GetRun(DaemonApi& daemon, const ApiRequest& request) {
  std::optional<ApiResponse> error;
  Result<RunRecord> run = FindRun(daemon, request, error);
  if (!run.ok()) return std::move(*error);
  JsonWriter json;
  WriteRun(json, *run, Vocabulary::kCompat);
  return JsonResponse(json.Take());
}

ApiResponse RunTasks(DaemonApi& daemon, const ApiRequest& request) {
  std::optional<ApiResponse> error;
  Result<RunRecord> run = FindRun(daemon, request, error);
  if (!run.ok()) return std::move(*error);
  Result<std::vector<AttemptRecord>> attempts = daemon.store().ListAttempts(run->id);
  if (!attempts.ok()) return StoreError(attempts.status());
  const std::vector<TaskSummary> tasks = SummariseTasks(*attempts);
  JsonWriter json;
  json.BeginObject().Key("tasks").BeginArray();
  for (const TaskSummary& task : tasks) WriteTask(json, task, run->id, Vocabulary::kCompat);
  json.EndArray().Key("count").Int(static_cast<int64_t>(tasks.size())).EndObject();
  return JsonResponse(json.Take());
}

}  // namespace

std::vector<Route> CompatRoutes(DaemonApi& daemon) {
  DaemonApi* d = &daemon;
  return {
      {"GET", "/api/health", Access::kPublic, Health, "Liveness (the original Petit's)"},
      {"GET", "/api/scheduler/state", Access::kRead,
       [d](const ApiRequest&) { return SchedulerState(*d); }, "Scheduler state (original)"},
      {"POST", "/api/scheduler/pause", Access::kOperate,
       [d](const ApiRequest&) { return SetSchedulerPaused(*d, true); },
       "Pause the scheduler (original)"},
      {"POST", "/api/scheduler/resume", Access::kOperate,
       [d](const ApiRequest&) { return SetSchedulerPaused(*d, false); },
       "Resume the scheduler (original)"},
      {"GET", "/api/jobs", Access::kRead, [d](const ApiRequest&) { return ListJobs(*d); },
       "List jobs (original)"},
      {"GET", "/api/jobs/{id}", Access::kRead,
       [d](const ApiRequest& request) { return GetJob(*d, request); }, "One job (original)"},
      {"POST", "/api/jobs/{id}/trigger", Access::kOperate,
       [d](const ApiRequest& request) { return Trigger(*d, request); }, "Trigger a job (original)"},
      {"GET", "/api/jobs/{id}/runs", Access::kRead,
       [d](const ApiRequest& request) { return JobRuns(*d, request); },
       "A job's runs, newest first (original)"},
      {"GET", "/api/runs/{id}", Access::kRead,
       [d](const ApiRequest& request) { return GetRun(*d, request); }, "One run (original)"},
      {"GET", "/api/runs/{id}/tasks", Access::kRead,
       [d](const ApiRequest& request) { return RunTasks(*d, request); },
       "The tasks of a run (original)"},
  };
}

}  // namespace petit::host

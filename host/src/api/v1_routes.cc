#include "api/v1_routes.h"

#include <algorithm>

#include <string>
#include <utility>
#include <vector>

#include "api/api_body.h"
#include "api/api_json.h"
#include "api/v1_internal.h"
#include "runtime/daemon.h"

#ifndef PETIT_VERSION
#define PETIT_VERSION "0.0.0"
#endif

namespace petit::host {
namespace {

ApiResponse Health(DaemonApi& daemon, const ApiRequest& request) {
  if (auto bad = CheckQuery(request, {})) return std::move(*bad);
  const DaemonState state = daemon.State();
  const bool ok = state.store.available && state.scheduler_alive;
  JsonWriter json;
  json.BeginObject();
  json.Key("status").String(ok ? "ok" : "degraded");
  json.Key("version").String(PETIT_VERSION);
  json.Key("store").BeginObject();
  json.Key("reachable").Bool(state.store.available);
  json.Key("down_since_at").MillisOrNull(state.store.down_since_us);
  json.Key("pending_writes").Int(state.store.pending_writes);
  json.Key("last_error").StringOrNull(state.store.last_error.message());
  json.EndObject();
  json.Key("scheduler").BeginObject();
  json.Key("paused").Bool(state.scheduler_paused);
  json.Key("last_tick_at").MillisOrNull(state.scheduler_last_tick_us);
  json.Key("alive").Bool(state.scheduler_alive);
  json.Key("stopping").Bool(state.stopping);
  json.EndObject();
  json.Key("active_runs").Int(static_cast<int64_t>(state.active_runs));
  json.EndObject();
  return JsonResponse(json.Take(), ok ? 200 : 503);
}

std::string SchedulerJson(DaemonApi& daemon) {
  const DaemonState state = daemon.State();
  // Paused jobs by id, from one snapshot of the scheduler (no store read): what `petit status`
  // shows without listing every job.
  std::vector<std::string> paused;
  for (const Scheduler::JobState& job : daemon.JobStates()) {
    if (job.paused) paused.push_back(job.job.str());
  }
  std::sort(paused.begin(), paused.end());
  JsonWriter json;
  json.BeginObject();
  json.Key("paused").Bool(state.scheduler_paused);
  json.Key("stopping").Bool(state.stopping);
  json.Key("jobs").Int(static_cast<int64_t>(state.jobs));
  json.Key("scheduled_jobs").Int(static_cast<int64_t>(state.scheduled_jobs));
  json.Key("active_runs").Int(static_cast<int64_t>(state.active_runs));
  json.Key("fired").Int(static_cast<int64_t>(state.fired));
  json.Key("refused").Int(static_cast<int64_t>(state.refused));
  json.Key("last_tick_at").MillisOrNull(state.scheduler_last_tick_us);
  json.Key("alive").Bool(state.scheduler_alive);
  json.Key("paused_jobs").BeginArray();
  for (const std::string& id : paused) json.String(id);
  json.EndArray();
  json.EndObject();
  return json.Take();
}

ApiResponse GetScheduler(DaemonApi& daemon, const ApiRequest& request) {
  if (auto bad = CheckQuery(request, {})) return std::move(*bad);
  return JsonResponse(SchedulerJson(daemon));
}

ApiResponse SetSchedulerPaused(DaemonApi& daemon, const ApiRequest& request, bool paused) {
  if (auto bad = CheckQuery(request, {})) return std::move(*bad);
  if (auto bad = RefuseBody(request)) return std::move(*bad);
  if (daemon.State().stopping) return Error(503, "the daemon is stopping");
  const Status status = paused ? daemon.PauseScheduler() : daemon.ResumeScheduler();
  if (!status.ok()) {
    // Refused only once stopping.
    if (status.code() == StatusCode::kFailedPrecondition) return Error(503, status.message());
    return StatusResponse(status);
  }
  return JsonResponse(SchedulerJson(daemon));
}

void WriteIds(JsonWriter& json, std::string_view key, const std::vector<JobId>& ids) {
  json.Key(key).BeginArray();
  for (const JobId& id : ids) json.String(id.str());
  json.EndArray();
}

ApiResponse Reload(DaemonApi& daemon, const HostOptions* host, const ApiRequest& request) {
  if (auto bad = CheckQuery(request, {})) return std::move(*bad);
  if (auto bad = RefuseBody(request)) return std::move(*bad);
  if (host == nullptr) return Error(503, "reload is not available: no job directory is known");
  if (daemon.State().stopping) return Error(503, "the daemon is stopping");
  Result<ReloadSummary> summary = daemon.Reload(*host);
  if (!summary.ok()) {
    if (summary.status().code() == StatusCode::kFailedPrecondition) {
      return Error(503, summary.status().message());
    }
    return StatusResponse(summary.status());
  }
  JsonWriter json;
  json.BeginObject();
  WriteIds(json, "added", summary->added);
  WriteIds(json, "changed", summary->changed);
  WriteIds(json, "removed", summary->removed);
  WriteIds(json, "kept", summary->kept);
  json.Key("unchanged").Int(static_cast<int64_t>(summary->unchanged));
  json.Key("errors").Int(static_cast<int64_t>(summary->errors));
  json.Key("needs_restart").BeginArray();
  for (const std::string& name : summary->needs_restart) json.String(name);
  json.EndArray();
  json.EndObject();
  return JsonResponse(json.Take());
}

}  // namespace

namespace v1 {

std::optional<RunId> RunIdOf(const ApiRequest& request, std::optional<ApiResponse>& error) {
  const std::string& text = request.Param("id");
  std::optional<RunId> id = ParseRunIdSegment(text);
  if (!id) {
    error = Error(400, "malformed run id '" + text +
                           "' (expected the 36-character UUID text of a run, as listed)");
  }
  return id;
}

std::optional<RunRecord> RunOf(DaemonApi& daemon, const ApiRequest& request,
                               std::optional<ApiResponse>& error) {
  std::optional<RunId> id = RunIdOf(request, error);
  if (!id) return std::nullopt;
  Result<std::optional<RunRecord>> run = daemon.store().GetRun(*id);
  if (!run.ok()) {
    error = StatusResponse(run.status());
    return std::nullopt;
  }
  if (!run->has_value()) {
    error = Error(404, "no run " + id->str());
    return std::nullopt;
  }
  return std::move(*run);
}

}  // namespace v1

std::vector<Route> V1Routes(DaemonApi& daemon, const HostOptions* host) {
  DaemonApi* d = &daemon;
  std::vector<Route> routes = {
      {"GET", "/api/v1/health", Access::kPublic,
       [d](const ApiRequest& request) { return Health(*d, request); },
       "Health with its parts: store, scheduler loop, paused (503 when degraded)"},
      {"GET", "/api/v1/scheduler", Access::kRead,
       [d](const ApiRequest& request) { return GetScheduler(*d, request); },
       "The scheduler's state and counters"},
      {"POST", "/api/v1/scheduler/pause", Access::kOperate,
       [d](const ApiRequest& request) { return SetSchedulerPaused(*d, request, true); },
       "Pause every schedule (manual triggers still run)"},
      {"POST", "/api/v1/scheduler/resume", Access::kOperate,
       [d](const ApiRequest& request) { return SetSchedulerPaused(*d, request, false); },
       "Resume the schedules, catching up per each job's policy"},
      {"POST", "/api/v1/reload", Access::kOperate,
       [d, host](const ApiRequest& request) { return Reload(*d, host, request); },
       "Re-read the job directory and petit.yaml (as SIGHUP)"},
  };
  for (auto* part : {&v1::JobRoutes, &v1::RunRoutes}) {
    for (Route& route : (*part)(daemon)) routes.push_back(std::move(route));
  }
  return routes;
}

}  // namespace petit::host

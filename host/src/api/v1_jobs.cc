// /api/v1/jobs: the jobs as loaded, with what the store and the scheduler know of them.
#include <Poco/Exception.h>

#include <array>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "api/api_body.h"
#include "api/api_json.h"
#include "api/v1_internal.h"
#include "petit/core/clock.h"
#include "petit/core/suggest.h"

namespace petit::host::v1 {
namespace {

constexpr size_t kNextFires = 5;
constexpr std::array<RunStatus, 1> kSucceeded = {RunStatus::kSucceeded};

// The job of the path's {id}, or a 404 naming the closest known id.
std::shared_ptr<const Job> JobOf(DaemonApi& daemon, const ApiRequest& request,
                                 std::optional<ApiResponse>& error) {
  const std::string& id = request.Param("id");
  if (auto job = daemon.FindJob(JobId(id))) return job;
  std::vector<std::string> ids;
  for (const auto& job : daemon.Jobs()) ids.push_back(job->id.str());
  std::vector<std::string_view> names(ids.begin(), ids.end());
  std::string message = "no job '" + id + "'";
  if (auto close = ClosestMatch(id, names)) message += " (did you mean '" + *close + "'?)";
  error = Error(404, message);
  return nullptr;
}

// What the store and the scheduler know of `job`; `paused` from the caller (one read of the job
// records serves a whole list).
Result<JobFacts> FactsOf(DaemonApi& daemon, const Job& job, bool paused) {
  JobFacts facts;
  facts.paused = paused;
  facts.next_fire_us = daemon.NextFire(job.id);
  Result<std::vector<RunRecord>> last = daemon.store().ListRuns(job.id, 1);
  if (!last.ok()) return last.status();
  if (!last->empty()) facts.last_run = std::move(last->front());
  Result<std::optional<RunRecord>> success = daemon.store().LastRun(job.id, kSucceeded, 0);
  if (!success.ok()) return success.status();
  if (success->has_value()) facts.last_success_us = (*success)->ended_us;
  return facts;
}

Result<bool> PausedOf(DaemonApi& daemon, const JobId& job) {
  Result<std::optional<JobRecord>> record = daemon.store().GetJob(job);
  if (!record.ok()) return record.status();
  return record->has_value() && (*record)->paused;
}

ApiResponse Summary(DaemonApi& daemon, const Job& job) {
  Result<bool> paused = PausedOf(daemon, job.id);
  if (!paused.ok()) return StatusResponse(paused.status());
  Result<JobFacts> facts = FactsOf(daemon, job, *paused);
  if (!facts.ok()) return StatusResponse(facts.status());
  JsonWriter json;
  json.BeginObject();
  WriteJobSummaryMembers(json, job, *facts);
  json.EndObject();
  return JsonResponse(json.Take());
}

ApiResponse ListJobs(DaemonApi& daemon, const ApiRequest& request) {
  if (auto bad = CheckQuery(request, {})) return std::move(*bad);
  const auto jobs = daemon.Jobs();
  Result<std::vector<JobRecord>> records = daemon.store().ListJobs();
  if (!records.ok()) return StatusResponse(records.status());
  std::map<JobId, bool> paused;
  for (const JobRecord& record : *records) paused[record.id] = record.paused;
  JsonWriter json;
  json.BeginObject().Key("jobs").BeginArray();
  for (const auto& job : jobs) {
    Result<JobFacts> facts = FactsOf(daemon, *job, paused[job->id]);
    if (!facts.ok()) return StatusResponse(facts.status());
    json.BeginObject();
    WriteJobSummaryMembers(json, *job, *facts);
    json.EndObject();
  }
  json.EndArray().Key("count").Int(static_cast<int64_t>(jobs.size())).EndObject();
  return JsonResponse(json.Take());
}

ApiResponse GetJob(DaemonApi& daemon, const ApiRequest& request) {
  if (auto bad = CheckQuery(request, {})) return std::move(*bad);
  std::optional<ApiResponse> error;
  const auto job = JobOf(daemon, request, error);
  if (!job) return std::move(*error);
  Result<bool> paused = PausedOf(daemon, job->id);
  if (!paused.ok()) return StatusResponse(paused.status());
  Result<JobFacts> facts = FactsOf(daemon, *job, *paused);
  if (!facts.ok()) return StatusResponse(facts.status());
  JsonWriter json;
  json.BeginObject();
  WriteJobSummaryMembers(json, *job, *facts);
  json.Key("definition");
  WriteJobDefinition(json, *job);
  json.Key("next_fires_at").BeginArray();
  if (facts->next_fire_us && job->schedule) {
    // The next fire, then the schedule's occurrences after it.
    for (int64_t fire_us : job->schedule->NextN(*facts->next_fire_us - 1, kNextFires)) {
      json.Int(fire_us / 1000);
    }
  }
  json.EndArray();
  json.EndObject();
  return JsonResponse(json.Take());
}

ApiResponse SetPaused(DaemonApi& daemon, const ApiRequest& request, bool paused) {
  if (auto bad = CheckQuery(request, {})) return std::move(*bad);
  if (auto bad = RefuseBody(request)) return std::move(*bad);
  std::optional<ApiResponse> error;
  const auto job = JobOf(daemon, request, error);
  if (!job) return std::move(*error);
  if (daemon.State().stopping) return Error(503, "the daemon is stopping");
  const Status status = daemon.SetPaused(job->id, paused);
  if (!status.ok()) {
    if (status.code() == StatusCode::kFailedPrecondition) return Error(503, status.message());
    return StatusResponse(status);
  }
  return Summary(daemon, *job);
}

// The trigger's params: strings as they are, numbers and booleans as their JSON text.
std::optional<ValueMap> TriggerParams(const Poco::JSON::Object& body,
                                      std::optional<ApiResponse>& error) {
  ValueMap params;
  if (!body.has("params") || body.isNull("params")) return params;
  Poco::JSON::Object::Ptr object = body.getObject("params");
  if (object.isNull()) {
    error = Error(400, "field 'params' must be an object of config keys to values");
    return std::nullopt;
  }
  for (const std::string& key : object->getNames()) {
    const Poco::Dynamic::Var value = object->get(key);
    try {
      if (value.isString()) {
        const std::string& text = value.extract<std::string>();
        // A config value ends up in a command line or an environment, where a NUL cannot go.
        if (text.find('\0') != std::string::npos) {
          error = Error(400, "field 'params." + key + "' holds a NUL character");
          return std::nullopt;
        }
        params[key] = text;
      } else if (value.isBoolean()) {
        params[key] = value.extract<bool>() ? "true" : "false";
      } else if (value.isNumeric()) {
        params[key] = value.convert<std::string>();
      } else {
        error = Error(400, "field 'params." + key + "' must be a string, number or boolean");
        return std::nullopt;
      }
    } catch (const Poco::Exception& e) {
      error = Error(400, "field 'params." + key + "': " + e.message());
      return std::nullopt;
    }
  }
  return params;
}

ApiResponse Trigger(DaemonApi& daemon, const ApiRequest& request) {
  if (auto bad = CheckQuery(request, {})) return std::move(*bad);
  std::optional<ApiResponse> error;
  const auto job = JobOf(daemon, request, error);
  if (!job) return std::move(*error);
  ParsedBody body = ParseBody(request, {"params"});
  if (body.error) return std::move(*body.error);
  std::optional<ValueMap> params = TriggerParams(*body.object, error);
  if (!params) return std::move(*error);
  Result<RunId> run =
      daemon.Trigger(job->id, TriggerOptions{.trigger = "api", .config = std::move(*params)});
  if (!run.ok()) return StatusResponse(run.status());
  JsonWriter json;
  json.BeginObject();
  json.Key("run_id").String(run->str());
  json.Key("job_id").String(job->id.str());
  json.EndObject();
  return JsonResponse(json.Take(), 202);
}

}  // namespace

std::vector<Route> JobRoutes(DaemonApi& daemon) {
  DaemonApi* d = &daemon;
  return {
      {"GET", "/api/v1/jobs", Access::kRead,
       [d](const ApiRequest& request) { return ListJobs(*d, request); },
       "The jobs with their schedule, next fire, last run and last success"},
      {"GET", "/api/v1/jobs/{id}", Access::kRead,
       [d](const ApiRequest& request) { return GetJob(*d, request); },
       "One job with its definition (secrets redacted) and next fire times"},
      {"POST", "/api/v1/jobs/{id}/pause", Access::kOperate,
       [d](const ApiRequest& request) { return SetPaused(*d, request, true); },
       "Pause one job's schedule"},
      {"POST", "/api/v1/jobs/{id}/resume", Access::kOperate,
       [d](const ApiRequest& request) { return SetPaused(*d, request, false); },
       "Resume one job's schedule, catching up per its policy"},
      {"POST", "/api/v1/jobs/{id}/trigger", Access::kOperate,
       [d](const ApiRequest& request) { return Trigger(*d, request); },
       "Run a job now, config values overridden for this run by `params`"},
  };
}

}  // namespace petit::host::v1

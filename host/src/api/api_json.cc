#include "api/api_json.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>

#include <sstream>
#include <utility>

#include "petit/core/json.h"
#include "petit/core/suggest.h"

namespace petit::host {
namespace {

int64_t Millis(int64_t us) { return us / 1000; }

}  // namespace

void JsonWriter::Separate() {
  if (need_comma_) out_ += ',';
  need_comma_ = true;
}

JsonWriter& JsonWriter::BeginObject() {
  Separate();
  out_ += '{';
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  out_ += '}';
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  Separate();
  out_ += '[';
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  out_ += ']';
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  Separate();
  out_ += '"';
  AppendJsonUtf8Escaped(out_, key);  // config and output keys are free text
  out_ += "\":";
  need_comma_ = false;  // the value follows without a comma
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  Separate();
  out_ += '"';
  AppendJsonUtf8Escaped(out_, value);
  out_ += '"';
  return *this;
}

JsonWriter& JsonWriter::StringOrNull(std::string_view value) {
  return value.empty() ? Null() : String(value);
}

JsonWriter& JsonWriter::Int(int64_t value) {
  Separate();
  out_ += std::to_string(value);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  Separate();
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::Null() {
  Separate();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::MillisOrNull(int64_t us) { return us == 0 ? Null() : Int(Millis(us)); }

JsonWriter& JsonWriter::DurationOrNull(int64_t start_us, int64_t end_us) {
  if (start_us == 0 || end_us == 0) return Null();
  // The difference of the two times shown, so that ended_at - started_at == duration_ms.
  return Int(Millis(end_us) - Millis(start_us));
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  Separate();
  out_ += json;
  return *this;
}

int HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kInternal:
    case StatusCode::kDataLoss:
      return 500;
  }
  return 500;
}

std::string_view ErrorCodeOf(int http_status) {
  switch (http_status) {
    case 400:
      return "BAD_REQUEST";
    case 401:
      return "UNAUTHORIZED";
    case 403:
      return "FORBIDDEN";
    case 404:
      return "NOT_FOUND";
    case 405:
      return "METHOD_NOT_ALLOWED";
    case 409:
      return "CONFLICT";
    case 413:
      return "PAYLOAD_TOO_LARGE";
    case 415:
      return "UNSUPPORTED_MEDIA_TYPE";
    case 429:
      return "TOO_MANY_REQUESTS";
    case 503:
      return "SERVICE_UNAVAILABLE";
    default:
      return "INTERNAL_ERROR";
  }
}

ApiResponse Error(int http_status, std::string_view message) {
  return ErrorResponse(http_status, ErrorCodeOf(http_status), message);
}

ApiResponse StatusResponse(const Status& status) {
  return Error(HttpStatusOf(status.code()), status.message());
}

std::string_view RunStatusWord(RunStatus status, Vocabulary vocabulary) {
  if (vocabulary == Vocabulary::kPetit) return RunStatusName(status);
  switch (status) {
    case RunStatus::kQueued:
      return "pending";
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kSucceeded:
      return "completed";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kCancelled:
      return "cancelled";
    case RunStatus::kInterrupted:
      return "interrupted";
  }
  return "failed";
}

std::string_view TaskStateWord(TaskState state, Vocabulary vocabulary) {
  if (vocabulary == Vocabulary::kPetit) return TaskStateName(state);
  switch (state) {
    case TaskState::kPending:
    case TaskState::kQueued:
      return "pending";
    case TaskState::kRunning:
      return "running";
    case TaskState::kSucceeded:
      return "completed";
    // The original knows no cancelled or interrupted task: it ended without success.
    case TaskState::kFailed:
    case TaskState::kCancelled:
    case TaskState::kInterrupted:
      return "failed";
    case TaskState::kSkipped:
    case TaskState::kUpstreamFailed:
      return "skipped";
  }
  return "failed";
}

void WriteRun(JsonWriter& json, const RunRecord& run, Vocabulary vocabulary) {
  json.BeginObject();
  json.Key("id").String(run.id.str());
  json.Key("job_id").String(run.job.str());
  json.Key("status").String(RunStatusWord(run.status, vocabulary));
  if (vocabulary == Vocabulary::kCompat) {
    // The original's started_at is always set: a run it had not started yet was created then.
    json.Key("started_at").Int(Millis(run.started_us != 0 ? run.started_us : run.created_us));
    json.Key("ended_at").MillisOrNull(run.ended_us);
    json.Key("duration_ms").DurationOrNull(run.started_us, run.ended_us);
    json.Key("error").StringOrNull(run.error);
    json.EndObject();
    return;
  }
  json.Key("trigger").String(run.trigger);
  json.Key("owner").StringOrNull(run.owner);
  json.Key("created_at").MillisOrNull(run.created_us);
  json.Key("started_at").MillisOrNull(run.started_us);
  json.Key("ended_at").MillisOrNull(run.ended_us);
  json.Key("duration_ms").DurationOrNull(run.started_us, run.ended_us);
  json.Key("error").StringOrNull(run.error);
  json.Key("retries").Int(run.retries);
  json.Key("retried_at").MillisOrNull(run.retried_us);
  json.Key("occurrence_at").MillisOrNull(run.occurrence_us);
  json.EndObject();
}

std::vector<TaskSummary> SummariseTasks(const std::vector<AttemptRecord>& attempts) {
  std::vector<TaskSummary> tasks;
  for (const AttemptRecord& attempt : attempts) {
    if (tasks.empty() || tasks.back().task != attempt.task) {
      tasks.push_back(TaskSummary{.task = attempt.task});
    }
    TaskSummary& task = tasks.back();
    if (attempt.attempt > 0) ++task.attempts;
    // The first attempt's start, the latest attempt's outcome.
    if (task.started_us == 0) task.started_us = attempt.started_us;
    task.state = attempt.state;
    task.ended_us = attempt.ended_us;
    task.exit_code = attempt.exit_code;
    task.error = attempt.error;
  }
  return tasks;
}

void WriteTask(JsonWriter& json, const TaskSummary& task, const RunId& run, Vocabulary vocabulary) {
  json.BeginObject();
  json.Key("task_id").String(task.task.str());
  if (vocabulary == Vocabulary::kCompat) json.Key("run_id").String(run.str());
  json.Key("status").String(TaskStateWord(task.state, vocabulary));
  json.Key("attempts").Int(task.attempts);
  json.Key("started_at").MillisOrNull(task.started_us);
  json.Key("ended_at").MillisOrNull(task.ended_us);
  json.Key("duration_ms").DurationOrNull(task.started_us, task.ended_us);
  if (vocabulary == Vocabulary::kPetit) {
    if (task.exit_code) {
      json.Key("exit_code").Int(*task.exit_code);
    } else {
      json.Key("exit_code").Null();
    }
  }
  json.Key("error").StringOrNull(task.error);
  json.EndObject();
}

void WriteAttempt(JsonWriter& json, const AttemptRecord& attempt) {
  json.BeginObject();
  json.Key("task_id").String(attempt.task.str());
  json.Key("attempt").Int(attempt.attempt);
  json.Key("status").String(TaskStateName(attempt.state));
  json.Key("queued_at").MillisOrNull(attempt.queued_us);
  json.Key("started_at").MillisOrNull(attempt.started_us);
  json.Key("ended_at").MillisOrNull(attempt.ended_us);
  json.Key("duration_ms").DurationOrNull(attempt.started_us, attempt.ended_us);
  if (attempt.exit_code) {
    json.Key("exit_code").Int(*attempt.exit_code);
  } else {
    json.Key("exit_code").Null();
  }
  json.Key("error").StringOrNull(attempt.error);
  json.Key("outputs").BeginObject();
  for (const auto& [key, value] : attempt.outputs) json.Key(key).String(value);
  json.EndObject();
  json.EndObject();
}

void WriteCompatJob(JsonWriter& json, const Job& job) {
  json.BeginObject();
  json.Key("id").String(job.id.str());
  json.Key("name").String(job.name);
  json.Key("enabled").Bool(job.enabled);
  json.Key("scheduled").Bool(job.schedule.has_value());
  json.Key("task_count").Int(static_cast<int64_t>(job.dag.size()));
  json.EndObject();
}

void WriteJobSummaryMembers(JsonWriter& json, const Job& job, const JobFacts& facts) {
  json.Key("id").String(job.id.str());
  json.Key("name").String(job.name);
  json.Key("description").StringOrNull(job.description);
  json.Key("enabled").Bool(job.enabled);
  json.Key("paused").Bool(facts.paused);
  json.Key("scheduled").Bool(job.schedule.has_value());
  if (job.schedule) {
    json.Key("schedule").String(job.schedule->expression());
    json.Key("timezone").String(job.schedule->time_zone());
  } else {
    json.Key("schedule").Null();
    json.Key("timezone").Null();
  }
  json.Key("task_count").Int(static_cast<int64_t>(job.dag.size()));
  json.Key("max_active_runs").Int(job.max_active_runs);
  json.Key("next_fire_at").MillisOrNull(facts.next_fire_us.value_or(0));
  json.Key("last_success_at").MillisOrNull(facts.last_success_us);
  json.Key("last_run");
  if (facts.last_run) {
    const RunRecord& run = *facts.last_run;
    json.BeginObject();
    json.Key("id").String(run.id.str());
    json.Key("status").String(RunStatusName(run.status));
    json.Key("started_at").MillisOrNull(run.started_us);
    json.Key("ended_at").MillisOrNull(run.ended_us);
    json.EndObject();
  } else {
    json.Null();
  }
}

std::string RedactedParams(std::string_view params_json, bool show_environment) {
  if (show_environment) return std::string(params_json);
  try {
    Poco::JSON::Parser parser(new Poco::JSON::ParseHandler(/*preserveObjectOrder=*/true));
    Poco::Dynamic::Var parsed = parser.parse(std::string(params_json));
    if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) return std::string(params_json);
    Poco::JSON::Object::Ptr params = parsed.extract<Poco::JSON::Object::Ptr>();
    for (const char* key : {"environment", "env"}) {
      Poco::JSON::Object::Ptr environment = params->getObject(key);
      if (environment.isNull()) continue;
      for (const std::string& name : environment->getNames()) {
        environment->set(name, std::string(kRedacted));
      }
    }
    std::ostringstream out;
    params->stringify(out);
    return out.str();
  } catch (const Poco::Exception&) {
    // Not JSON: nothing this loader wrote; show nothing of it rather than a secret.
    return "{}";
  } catch (const std::exception&) {
    return "{}";
  }
}

void WriteJobDefinition(JsonWriter& json, const Job& job) {
  json.BeginObject();
  json.Key("tasks").BeginArray();
  for (Dag::Index index : job.dag.TopologicalOrder()) {
    const TaskSpec& task = job.dag.task(index);
    json.BeginObject();
    json.Key("id").String(task.id.str());
    json.Key("name").String(task.name.empty() ? task.id.str() : task.name);
    json.Key("type").String(task.type);
    json.Key("depends_on").BeginArray();
    for (const TaskId& upstream : task.depends_on) json.String(upstream.str());
    json.EndArray();
    json.Key("trigger_rule").String(TriggerRuleName(task.trigger));
    json.Key("pools").BeginObject();
    for (const auto& [pool, slots] : task.resources.slots) json.Key(pool).Int(slots);
    json.EndObject();
    json.Key("retry").BeginObject();
    json.Key("max_retries").Int(task.retry.max_retries);
    json.Key("delay_ms").Int(task.retry.delay.count());
    json.Key("backoff_multiplier").Raw(std::to_string(task.retry.multiplier));
    json.Key("max_delay_ms").Int(task.retry.max_delay.count());
    json.Key("jitter").Raw(std::to_string(task.retry.jitter));
    json.Key("condition").String(RetryConditionName(task.retry.condition));
    json.EndObject();
    if (task.timeout) {
      json.Key("timeout_ms").Int(task.timeout->count());
    } else {
      json.Key("timeout_ms").Null();
    }
    json.Key("priority").Int(task.priority);
    json.Key("params").Raw(RedactedParams(task.params_json, job.api_shows_environment));
    json.EndObject();
  }
  json.EndArray();
  json.Key("config").BeginObject();
  for (const auto& [key, value] : *job.config) {
    json.Key(key).String(job.api_shows_config ? std::string_view(value) : kRedacted);
  }
  json.EndObject();
  json.Key("config_visible").Bool(job.api_shows_config);
  json.Key("environment_visible").Bool(job.api_shows_environment);
  json.Key("overlap").String(OverlapPolicyName(job.overlap));
  json.Key("catch_up").String(CatchUpPolicyName(job.catch_up));
  json.Key("catch_up_limit").Int(job.catch_up_limit);
  json.Key("max_parallel_tasks").Int(job.max_parallel_tasks);
  json.Key("depends_on").BeginArray();
  for (const JobDependency& dependency : job.depends_on) {
    json.BeginObject();
    json.Key("job").String(dependency.job.str());
    json.Key("condition").String(JobDependencyConditionName(dependency.condition));
    if (dependency.condition == JobDependency::Condition::kWithinWindow) {
      json.Key("window_seconds").Int(dependency.window.count());
    } else {
      json.Key("window_seconds").Null();
    }
    json.EndObject();
  }
  json.EndArray();
  json.Key("source_file").StringOrNull(job.source_file);
  json.EndObject();
}

std::optional<RunId> ParseRunIdSegment(std::string_view text) {
  Result<RunId> id = RunId::Parse(text);
  if (!id.ok()) return std::nullopt;
  return *id;
}

std::optional<ApiResponse> CheckQuery(const ApiRequest& request,
                                      const std::vector<std::string_view>& allowed) {
  for (const auto& [key, value] : request.query) {
    bool known = false;
    for (std::string_view name : allowed) known = known || name == key;
    if (known) continue;
    std::string message = "unknown query parameter '" + key + "'";
    if (allowed.empty()) {
      message += " (this path takes none)";
    } else if (auto close = ClosestMatch(key, allowed)) {
      message += " (did you mean '" + *close + "'?)";
    } else {
      message += " (expected ";
      for (size_t i = 0; i < allowed.size(); ++i) {
        message += (i > 0 ? ", " : "") + std::string(allowed[i]);
      }
      message += ")";
    }
    return Error(400, message);
  }
  return std::nullopt;
}

}  // namespace petit::host

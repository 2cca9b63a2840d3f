// The commands that drive a running daemon through its HTTP API (cli/api_client.h): status, pause,
// resume, reload, trigger --detach, retry RUN and cancel RUN. They load no plugin and open no
// store: petit.yaml is read for the daemon's address only, so `petit status` costs a process
// start and four requests on one connection.
//
// When no daemon answers they say so in one line and exit 3, except that `cancel` falls back to
// the store and the run's owner process (cancel_commands.cc), as it did before the API.
//
// The daemon's answers are read with the SDK's JSON reader (petit/plugin_json.hpp) here, the
// CLI's side of the API adapter.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "cli/api_client.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "petit/core/json.h"
#include "petit/core/states.h"
#include "petit/core/utf8.h"
#include "petit/host/exit_codes.h"
#include "petit/plugin_json.hpp"
#include "runtime/time_format.h"

namespace petit::host {
namespace {

using sdk::Json;
// A JSON object or array of an answer, null when absent; a member shares its document's life.
using JsonObject = std::shared_ptr<const Json>;
using JsonArray = std::shared_ptr<const Json>;

// How long `cancel` waits for the daemon to record the run's end, and how often it asks: as the
// store-side cancel does (cancel_commands.cc).
constexpr auto kEndPatience = std::chrono::seconds(60);
constexpr auto kEndPoll = std::chrono::milliseconds(50);

// The answer's body as a JSON object; nullptr when it is not one.
JsonObject ParseObject(const std::string& body) {
  sdk::Result<Json> parsed = Json::Parse(body);
  if (!parsed.ok() || !parsed->is_object()) return nullptr;
  return std::make_shared<const Json>(std::move(parsed).value());
}

// The member `key` of `object`; null when either is absent or the member is null.
const Json* Member(const JsonObject& object, std::string_view key) {
  if (object == nullptr) return nullptr;
  const Json* value = object->Find(key);
  return value == nullptr || value->is_null() ? nullptr : value;
}

// A string member as it is, a number or boolean as JSON writes it; `fallback` otherwise.
std::string Str(const JsonObject& object, std::string_view key, std::string fallback = "") {
  const Json* value = Member(object, key);
  if (value == nullptr) return fallback;
  if (value->is_string()) return value->string_value();
  if (value->is_number() || value->is_bool()) return value->Dump();
  return fallback;
}

std::optional<int64_t> Int(const JsonObject& object, std::string_view key) {
  const Json* value = Member(object, key);
  if (value == nullptr || !value->is_number()) return std::nullopt;
  if (std::optional<int64_t> exact = value->integer_value()) return exact;
  return static_cast<int64_t>(value->number_value());
}

bool Bool(const JsonObject& object, std::string_view key) {
  const Json* value = Member(object, key);
  return value != nullptr && value->is_bool() && value->bool_value();
}

// The member when it is a boolean; nullopt when absent or of another type.
std::optional<bool> OptBool(const JsonObject& object, std::string_view key) {
  const Json* value = Member(object, key);
  if (value == nullptr || !value->is_bool()) return std::nullopt;
  return value->bool_value();
}

// The text of element `i` of `array`; "?" for an element that is not a string.
std::string ElementText(const JsonArray& array, size_t i) {
  const Json& element = array->array_items()[i];
  return element.is_string() ? element.string_value() : "?";
}

JsonObject Obj(const JsonObject& object, std::string_view key) {
  const Json* value = Member(object, key);
  if (value == nullptr || !value->is_object()) return nullptr;
  return JsonObject(object, value);
}

JsonArray Arr(const JsonObject& object, std::string_view key) {
  const Json* value = Member(object, key);
  if (value == nullptr || !value->is_array()) return nullptr;
  return JsonArray(object, value);
}

// Element `i` of `array` when it is an object, else null.
JsonObject ObjAt(const JsonArray& array, size_t i) {
  const Json& element = array->array_items()[i];
  return element.is_object() ? JsonObject(array, &element) : nullptr;
}

// A remote command's connection to the daemon, or the exit code of why there is none.
struct Remote {
  std::unique_ptr<ApiClient> client;
  int exit_code = kExitOk;
};

Remote Connect(const Args& args) {
  std::vector<std::string> warnings;
  Result<DaemonAddress> address = FindDaemon(args, warnings);
  for (const std::string& warning : warnings) PrintError("warning: " + warning);
  if (!address.ok()) {
    PrintError(address.status().message());
    return {nullptr, kExitUsage};
  }
  Result<std::unique_ptr<ApiClient>> client = ApiClient::Create(std::move(address).value());
  if (!client.ok()) {
    PrintError(client.status().message());
    return {nullptr, kExitUsage};
  }
  return {std::move(client).value(), kExitOk};
}

// The exit code of an answer that is not a success, after printing its error in one line: the
// daemon's own message ({"error": ..., "code": ...}), or the status when the body has none.
int ReportRefusal(const ApiAnswer& answer, const ApiClient& client) {
  JsonObject body = ParseObject(answer.body);
  std::string message = Str(body, "error");
  const bool success = answer.status >= 200 && answer.status < 300;
  if (success) {  // a success we could not read: whatever answered is not a Petit daemon
    PrintError("the daemon at " + client.url() + " answered HTTP " + std::to_string(answer.status) +
               " with something that is not what Petit sends");
    return kExitHostError;
  }
  if (message.empty()) {
    message = "the daemon at " + client.url() + " answered HTTP " + std::to_string(answer.status);
  }
  message = message.substr(0, message.find('\n'));
  if (answer.status == 401 || answer.status == 403) {
    message += answer.status == 401 ? " (set PETIT_API_TOKEN to the daemon's api token)"
                                    : " (this token may not do that: use the operator token)";
  }
  PrintError(message);
  if (answer.status == 429) return kExitRunFailed;  // refused by max_concurrency, as trigger is
  if (answer.status >= 500) return kExitHostError;
  return kExitUsage;
}

// Sends a request; the answer when it is a success (2xx) whose body is a JSON object, else
// nullopt after reporting, with the exit code in `exit_code`.
std::optional<JsonObject> Call(ApiClient& client, std::string_view method, const std::string& path,
                               const std::string& json, int& exit_code) {
  Result<ApiAnswer> answer = method == "GET" ? client.Get(path) : client.Post(path, json);
  if (!answer.ok()) {
    PrintError(answer.status().message());
    exit_code = kExitHostError;
    return std::nullopt;
  }
  if (answer->status < 200 || answer->status >= 300) {
    exit_code = ReportRefusal(*answer, client);
    return std::nullopt;
  }
  JsonObject body = ParseObject(answer->body);
  if (body == nullptr) {
    PrintError("the daemon at " + client.url() + " answered " + std::string(method) + " " + path +
               " with something that is not a JSON object");
    exit_code = kExitHostError;
    return std::nullopt;
  }
  return body;
}

// "2026-12-02 03:14:39" from epoch milliseconds; "-" for none.
std::string TimeOf(std::optional<int64_t> millis) {
  if (!millis.has_value() || *millis == 0) return "-";
  return FormatTime(*millis * 1000);
}

std::string Ago(std::optional<int64_t> millis) {
  if (!millis.has_value()) return "never";
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  return FormatDuration(std::max<int64_t>(0, now_ms - *millis) * 1000) + " ago";
}

// ---- status ----

// What `petit status` reads, as the daemon answered it.
struct StatusAnswers {
  std::string health_body;
  int health_status = 0;
  JsonObject health;
  JsonObject scheduler;
  JsonObject runs;
  std::string scheduler_body;
  std::string runs_body;
};

constexpr int kActiveRunsShown = 50;

void PrintStatusText(const ApiClient& client, const StatusAnswers& answers) {
  const JsonObject& scheduler = answers.scheduler;
  const JsonObject& health = answers.health;
  const std::string state =
      Bool(scheduler, "stopping") ? "stopping" : (Bool(scheduler, "paused") ? "paused" : "running");
  std::cout << "daemon       " << client.url() << " (petit " << Str(health, "version", "?") << "), "
            << state << "\n";
  JsonObject health_scheduler = Obj(health, "scheduler");
  std::cout << "scheduler    " << (Bool(scheduler, "alive") ? "alive" : "NOT ALIVE")
            << ", last tick " << Ago(Int(scheduler, "last_tick_at")) << "; "
            << Int(scheduler, "jobs").value_or(0) << " jobs, "
            << Int(scheduler, "scheduled_jobs").value_or(0) << " scheduled; fired "
            << Int(scheduler, "fired").value_or(0) << ", refused "
            << Int(scheduler, "refused").value_or(0) << "\n";
  JsonObject store = Obj(health, "store");
  if (Bool(store, "reachable")) {
    std::cout << "store        reachable";
  } else {
    std::cout << "store        UNREACHABLE since " << TimeOf(Int(store, "down_since_at"));
    const std::string error = Str(store, "last_error");
    if (!error.empty()) std::cout << " (" << PrintableLine(error) << ")";
  }
  if (const int64_t pending = Int(store, "pending_writes").value_or(0); pending > 0) {
    std::cout << ", " << pending << " writes pending";
  }
  std::cout << "\n";
  std::vector<std::string> paused;
  if (JsonArray jobs = Arr(scheduler, "paused_jobs"); jobs != nullptr) {
    for (size_t i = 0; i < jobs->size(); ++i) paused.push_back(ElementText(jobs, i));
  }
  std::cout << "paused jobs  ";
  if (paused.empty()) std::cout << "none";
  for (size_t i = 0; i < paused.size(); ++i) std::cout << (i == 0 ? "" : ", ") << paused[i];
  std::cout << "\n";
  JsonArray runs = Arr(answers.runs, "runs");
  const int64_t listed = runs == nullptr ? 0 : static_cast<int64_t>(runs->size());
  const int64_t driven = Int(scheduler, "active_runs").value_or(listed);
  // The list is the store's, which also holds the runs of other processes (a petit trigger).
  const int64_t active = std::max(driven, listed);
  std::cout << "active runs  " << active;
  if (driven != active) std::cout << " (" << driven << " driven by this daemon)";
  std::cout << "\n";
  if (runs == nullptr) return;
  for (size_t i = 0; i < runs->size(); ++i) {
    JsonObject run = ObjAt(runs, i);
    const std::optional<int64_t> started = Int(run, "started_at");
    std::cout << "  " << Str(run, "id") << "  " << Str(run, "job_id") << "  " << Str(run, "status")
              << "  " << Str(run, "trigger") << "  "
              << (started ? "started " + TimeOf(started)
                          : "queued " + TimeOf(Int(run, "created_at")))
              << "\n";
  }
  if (static_cast<int64_t>(runs->size()) < active) {
    std::cout << "  ... and " << active - static_cast<int64_t>(runs->size())
              << " more (petit runs, or GET /api/v1/runs?status=running,queued)\n";
  }
}

// One JSON document: the daemon's own objects, as it answered them, and the paused job ids.
void PrintStatusJson(const ApiClient& client, const StatusAnswers& answers) {
  std::string out = "{\"url\":" + JsonUtf8String(client.url());
  out += ",\"health\":" + answers.health_body;
  out += ",\"scheduler\":" + answers.scheduler_body;
  out += ",\"paused_jobs\":";
  JsonArray jobs = Arr(answers.scheduler, "paused_jobs");
  out += jobs == nullptr ? "[]" : jobs->Dump();
  out += ",\"active_runs\":";
  JsonArray runs = Arr(answers.runs, "runs");
  out += runs == nullptr ? "[]" : runs->Dump();
  out += "}\n";
  std::cout << out;
}

// ---- cancel ----

// Waits until the daemon reports `run` ended; its status word, or nullopt (after reporting).
std::optional<std::string> WaitForEnd(ApiClient& client, const std::string& run, int& exit_code) {
  const auto deadline = std::chrono::steady_clock::now() + kEndPatience;
  const std::string path = "/api/v1/runs/" + run;
  while (true) {
    std::optional<JsonObject> answer = Call(client, "GET", path, "", exit_code);
    if (!answer) return std::nullopt;
    const std::string status = Str(*answer, "status");
    Result<RunStatus> parsed = ParseRunStatus(status);
    if (parsed.ok() && IsTerminal(*parsed)) return status;
    if (std::chrono::steady_clock::now() >= deadline) {
      PrintError("run " + run + " is still " + status + " " + std::to_string(kEndPatience.count()) +
                 " s after the cancel (a task's kill_grace may be longer); see petit status");
      exit_code = kExitHostError;
      return std::nullopt;
    }
    std::this_thread::sleep_for(kEndPoll);
  }
}

// The local cancel (store and owner process) in a HostEnv of its own, for when the daemon cannot
// cancel the run: none answers, or another process drives the run.
int CancelLocally(const Args& args, const std::string& daemon_note, bool daemon_knows_run = false) {
  Result<std::unique_ptr<HostEnv>> env = HostEnv::Create(args.host);
  if (!env.ok()) {
    PrintError(env.status().message());
    return kExitUsage;
  }
  return CancelThroughOwner(args, **env, daemon_note, daemon_knows_run);
}

int SetPausedRemotely(const Args& args, bool paused) {
  Remote remote = Connect(args);
  if (!remote.client) return remote.exit_code;
  const std::string verb = paused ? "pause" : "resume";
  const bool one_job = !args.operands.empty();
  const std::string path = one_job
                               ? "/api/v1/jobs/" + EncodePathSegment(args.operands[0]) + "/" + verb
                               : "/api/v1/scheduler/" + verb;
  int exit_code = kExitOk;
  std::optional<JsonObject> answer = Call(*remote.client, "POST", path, "{}", exit_code);
  if (!answer) return exit_code;
  const std::optional<bool> now_paused = OptBool(*answer, "paused");
  if (!now_paused) {
    PrintError("the daemon at " + remote.client->url() + " answered POST " + path +
               " without saying whether it is paused");
    return kExitHostError;
  }
  if (one_job) {
    std::cout << "job " << Str(*answer, "id", args.operands[0]) << " "
              << (*now_paused ? "paused" : "resumed");
    if (!paused && !Bool(*answer, "scheduled")) std::cout << " (it has no schedule)";
    std::cout << "\n";
  } else {
    std::cout << "scheduler " << (*now_paused ? "paused" : "resumed")
              << (*now_paused ? ": no schedule fires; manual triggers and retries still run" : "")
              << "\n";
  }
  return kExitOk;
}

}  // namespace

int CmdStatus(const Args& args, std::unique_ptr<HostEnv>) {
  Remote remote = Connect(args);
  if (!remote.client) return remote.exit_code;
  ApiClient& client = *remote.client;
  StatusAnswers answers;
  // Health first: a degraded daemon answers 503 with the same document.
  Result<ApiAnswer> health = client.Get("/api/v1/health");
  if (!health.ok()) {
    PrintError(health.status().message());
    return kExitHostError;
  }
  answers.health = ParseObject(health->body);
  if ((health->status != 200 && health->status != 503) || answers.health == nullptr) {
    return ReportRefusal(*health, client);
  }
  answers.health_body = health->body;
  answers.health_status = health->status;
  int exit_code = kExitOk;
  Result<ApiAnswer> scheduler = client.Get("/api/v1/scheduler");
  if (!scheduler.ok()) {
    PrintError(scheduler.status().message());
    return kExitHostError;
  }
  if (scheduler->status != 200) return ReportRefusal(*scheduler, client);
  answers.scheduler = ParseObject(scheduler->body);
  answers.scheduler_body = scheduler->body;
  std::optional<JsonObject> runs = Call(
      client, "GET", "/api/v1/runs?status=running,queued&limit=" + std::to_string(kActiveRunsShown),
      "", exit_code);
  if (!runs) return exit_code;
  answers.runs = *runs;
  if (answers.scheduler == nullptr) {
    PrintError("the daemon at " + client.url() + " answered /api/v1/scheduler with no JSON object");
    return kExitHostError;
  }
  if (args.json) {
    PrintStatusJson(client, answers);
  } else {
    PrintStatusText(client, answers);
  }
  // Degraded (store unreachable, scheduler loop stuck) is what a health check wants to see.
  return answers.health_status == 200 ? kExitOk : kExitRunFailed;
}

int CmdPause(const Args& args, std::unique_ptr<HostEnv>) { return SetPausedRemotely(args, true); }

int CmdResume(const Args& args, std::unique_ptr<HostEnv>) { return SetPausedRemotely(args, false); }

int CmdReload(const Args& args, std::unique_ptr<HostEnv>) {
  Remote remote = Connect(args);
  if (!remote.client) return remote.exit_code;
  int exit_code = kExitOk;
  std::optional<JsonObject> answer =
      Call(*remote.client, "POST", "/api/v1/reload", "{}", exit_code);
  if (!answer) return exit_code;
  auto ids = [&](const std::string& key) {
    std::string text;
    JsonArray list = Arr(*answer, key);
    const size_t count = list == nullptr ? 0 : list->size();
    text = std::to_string(count) + " " + key;
    for (size_t i = 0; i < count; ++i) {
      text += (i == 0 ? " (" : ", ") + ElementText(list, i);
    }
    if (count > 0) text += ")";
    return text;
  };
  std::cout << "reloaded: " << ids("added") << ", " << ids("changed") << ", " << ids("removed")
            << ", " << Int(*answer, "unchanged").value_or(0) << " unchanged\n";
  const int64_t errors = Int(*answer, "errors").value_or(0);
  if (JsonArray restart = Arr(*answer, "needs_restart");
      restart != nullptr && restart->size() > 0) {
    std::cout << "needs a restart to take effect:";
    for (size_t i = 0; i < restart->size(); ++i) {
      std::cout << (i == 0 ? " " : ", ") << ElementText(restart, i);
    }
    std::cout << "\n";
  }
  if (errors > 0) {
    PrintError(std::to_string(errors) + " job file error" + (errors == 1 ? "" : "s") +
               ": their jobs keep the previous definition; the daemon's log lists them "
               "(petit validate DIR prints them too)");
    return kExitUsage;
  }
  return kExitOk;
}

int CmdTriggerDetached(const Args& args, std::unique_ptr<HostEnv>) {
  Remote remote = Connect(args);
  if (!remote.client) return remote.exit_code;
  const std::string& job = args.operands.back();
  int exit_code = kExitOk;
  std::optional<JsonObject> answer =
      Call(*remote.client, "POST", "/api/v1/jobs/" + EncodePathSegment(job) + "/trigger", "{}",
           exit_code);
  if (!answer) return exit_code;
  const std::string run = Str(*answer, "run_id");
  if (run.empty() || !RunId::Parse(run).ok()) {
    PrintError("the daemon at " + remote.client->url() + " triggered job '" + job +
               "' but named no run" + (run.empty() ? "" : " (its run_id is not a run id)"));
    return kExitHostError;
  }
  std::cout << run << "\n";
  return kExitOk;
}

int CmdRetryRemote(const Args& args, std::unique_ptr<HostEnv>) {
  Result<RunId> run_id = RunId::Parse(args.operands[0]);
  if (!run_id.ok()) {
    std::error_code ec;
    // `petit retry DIR` with the run forgotten: say that, not only that DIR is no UUID.
    const bool dir = std::filesystem::is_directory(args.operands[0], ec);
    PrintError(run_id.status().message() +
               (dir ? "; '" + args.operands[0] + "' is a directory: the run is missing (petit " +
                          "retry DIR RUN, or petit retry RUN through the daemon)"
                    : std::string()));
    return kExitUsage;
  }
  if (args.retry_from && args.retry_task) {
    PrintError(
        "--from and --task exclude each other: --from reruns a task and its downstream, "
        "--task that task alone");
    return kExitUsage;
  }
  Remote remote = Connect(args);
  if (!remote.client) return remote.exit_code;
  std::string body = "{";
  if (args.retry_from) body += "\"from\":" + JsonUtf8String(*args.retry_from) + ",";
  if (args.retry_task) body += "\"task\":" + JsonUtf8String(*args.retry_task) + ",";
  body += std::string("\"dry_run\":") + (args.dry_run ? "true" : "false") + "}";
  Result<ApiAnswer> answer = remote.client->Post("/api/v1/runs/" + run_id->str() + "/retry", body);
  if (!answer.ok()) {
    if (answer.status().code() == StatusCode::kUnavailable) {
      // Without the daemon nothing knows the job's definition but its directory.
      PrintError(answer.status().message() +
                 "; to retry in this process instead: petit retry DIR " + run_id->str());
    } else {
      PrintError(answer.status().message());
    }
    return kExitHostError;
  }
  if (answer->status < 200 || answer->status >= 300) {
    return ReportRefusal(*answer, *remote.client);
  }
  JsonObject reply = ParseObject(answer->body);
  JsonObject plan = Obj(reply, "plan");
  if (plan == nullptr) {
    PrintError("the daemon at " + remote.client->url() + " answered the retry of run " +
               run_id->str() + " without a plan: whatever answered is not a Petit daemon");
    return kExitHostError;
  }
  std::cout << "retry of run " << run_id->str() << " (job " << Str(reply, "job_id", "?") << ")"
            << (args.dry_run ? ", dry run: nothing changed"
                             : ": started by the daemon at " + remote.client->url())
            << "\n"
            << Str(plan, "text");
  if (!args.dry_run) std::cout << "follow it with: petit watch " << run_id->str() << "\n";
  return kExitOk;
}

int CmdCancelRemote(const Args& args, std::unique_ptr<HostEnv>) {
  Result<RunId> run_id = RunId::Parse(args.operands[0]);
  if (!run_id.ok()) {
    PrintError(run_id.status().message());
    return kExitUsage;
  }
  Remote remote = Connect(args);
  if (!remote.client) return remote.exit_code;
  ApiClient& client = *remote.client;
  const std::string name = "run " + run_id->str();
  Result<ApiAnswer> answer = client.Post("/api/v1/runs/" + run_id->str() + "/cancel", "{}");
  if (!answer.ok()) return CancelLocally(args, answer.status().message());
  if (answer->status == 409) {
    // Ended (the daemon's refusal says so), or driven by another process: a petit trigger or
    // retry, which the store and the run's owner reach as without a daemon.
    int exit_code = kExitOk;
    std::optional<JsonObject> run =
        Call(client, "GET", "/api/v1/runs/" + run_id->str(), "", exit_code);
    if (!run) return exit_code;
    Result<RunStatus> status = ParseRunStatus(Str(*run, "status"));
    if (!status.ok() || IsTerminal(*status)) return ReportRefusal(*answer, client);
    JsonObject body = ParseObject(answer->body);
    return CancelLocally(
        args,
        "the daemon at " + client.url() + " does not drive it: " + Str(body, "error", "HTTP 409"),
        /*daemon_knows_run=*/true);
  }
  if (answer->status != 202 && answer->status != 200) return ReportRefusal(*answer, client);
  if (!args.quiet) {
    std::cout << "cancelling " << name << " through the daemon at " << client.url() << "\n"
              << std::flush;
  }
  int exit_code = kExitOk;
  std::optional<std::string> ended = WaitForEnd(client, run_id->str(), exit_code);
  if (!ended) return exit_code;
  std::cout << name << " " << *ended << "\n";
  return *ended == RunStatusName(RunStatus::kCancelled) ? kExitOk : kExitRunFailed;
}

}  // namespace petit::host

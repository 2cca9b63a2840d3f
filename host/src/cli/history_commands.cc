// `petit runs` and `petit logs`: read the store, load no plugin.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "petit/core/json.h"
#include "petit/core/suggest.h"
#include "petit/host/exit_codes.h"
#include "runtime/log_pages.h"
#include "runtime/time_format.h"

namespace petit::host {
namespace {

// Epoch milliseconds, or null for a time the run has not reached (stored as 0).
std::string JsonMillis(int64_t micros) {
  return micros == 0 ? "null" : std::to_string(micros / 1000);
}

std::string JsonTextOrNull(const std::string& text) {
  return text.empty() ? "null" : JsonUtf8String(text);
}

// `petit runs --json`: an array of the runs, newest first, shaped as the API's Run object.
std::string RunsJson(const std::vector<RunRecord>& runs) {
  std::string json = "[";
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunRecord& run = runs[i];
    if (i != 0) json += ",";
    const bool timed = run.started_us != 0 && run.ended_us != 0;
    json +=
        "\n{\"id\":" + JsonUtf8String(run.id.str()) +
        ",\"job_id\":" + JsonUtf8String(run.job.str()) +
        ",\"status\":" + JsonUtf8String(RunStatusName(run.status)) +
        ",\"trigger\":" + JsonUtf8String(run.trigger) + ",\"owner\":" + JsonTextOrNull(run.owner) +
        ",\"created_at\":" + JsonMillis(run.created_us) +
        ",\"started_at\":" + JsonMillis(run.started_us) +
        ",\"ended_at\":" + JsonMillis(run.ended_us) + ",\"duration_ms\":" +
        (timed ? std::to_string((run.ended_us - run.started_us) / 1000) : "null") +
        ",\"error\":" + JsonTextOrNull(run.error) + ",\"retries\":" + std::to_string(run.retries) +
        ",\"retried_at\":" + JsonMillis(run.retried_us) +
        ",\"occurrence_at\":" + JsonMillis(run.occurrence_us) + "}";
  }
  json += runs.empty() ? "]\n" : "\n]\n";
  return json;
}

}  // namespace

int CmdRuns(const Args& args, std::unique_ptr<HostEnv> env) {
  Result<StateStore*> store = env->StoreForReading();
  if (!store.ok()) {
    PrintError(store.status().message());
    return kExitHostError;
  }
  Result<std::vector<RunRecord>> runs =
      (*store)->ListRuns(JobId(args.job_filter.value_or("")), args.limit);
  if (!runs.ok()) {
    PrintError(runs.status().message());
    return kExitHostError;
  }
  if (args.json) {
    std::cout << RunsJson(*runs);
    return kExitOk;
  }
  std::cout << "RUN                                   JOB                 STATUS       STARTED"
               "               DURATION\n";
  for (const RunRecord& run : *runs) {
    char line[256];
    std::string duration = run.ended_us != 0 ? FormatDuration(run.ended_us - run.started_us) : "-";
    std::snprintf(line, sizeof line, "%-37s %-19s %-12s %-21s %s", run.id.str().c_str(),
                  run.job.str().c_str(), std::string(RunStatusName(run.status)).c_str(),
                  FormatTime(run.started_us).c_str(), duration.c_str());
    std::cout << line << "\n";
  }
  return kExitOk;
}

int CmdLogs(const Args& args, std::unique_ptr<HostEnv> env) {
  Result<RunId> run_id = RunId::Parse(args.operands[0]);
  if (!run_id.ok()) {
    PrintError(run_id.status().message());
    return kExitUsage;
  }
  Result<StateStore*> store = env->StoreForReading();
  if (!store.ok()) {
    PrintError(store.status().message());
    return kExitHostError;
  }
  Result<std::optional<RunRecord>> run = (*store)->GetRun(*run_id);
  if (!run.ok() || !run->has_value()) {
    PrintError(run.ok() ? "no run " + run_id->str() + " in " + env->storage_uri()
                        : run.status().message());
    return run.ok() ? kExitUsage : kExitHostError;
  }
  LogQuery query;
  query.task = TaskId(args.operands.size() > 1 ? args.operands[1] : "");
  if (!query.task.str().empty()) {
    // A task the run never had would print nothing and exit 0, like one that printed nothing.
    Result<std::vector<AttemptRecord>> attempts = (*store)->ListAttempts(*run_id);
    if (!attempts.ok()) {
      PrintError(attempts.status().message());
      return kExitHostError;
    }
    std::vector<std::string> tasks;
    for (const AttemptRecord& attempt : *attempts) {
      if (std::find(tasks.begin(), tasks.end(), attempt.task.str()) == tasks.end()) {
        tasks.push_back(attempt.task.str());
      }
    }
    if (std::find(tasks.begin(), tasks.end(), query.task.str()) == tasks.end()) {
      std::string message = "run " + run_id->str() + " has no task '" + query.task.str() + "'";
      const std::vector<std::string_view> candidates(tasks.begin(), tasks.end());
      if (auto close = ClosestMatch(query.task.str(), candidates)) {
        message += " (did you mean '" + *close + "'?)";
      }
      PrintError(message);
      return kExitUsage;
    }
  }
  std::string current;
  bool ends_with_newline = true;
  Status read = ForEachLogChunk(**store, *run_id, query, [&](const LogChunk& chunk) {
    std::string header = "== " + chunk.task.str() + " (attempt " + std::to_string(chunk.attempt) +
                         ", " + (chunk.stream == OutputStream::kStdout ? "stdout" : "stderr") +
                         ") ==";
    if (header != current) {
      if (!ends_with_newline) std::cout << "\n";
      std::cout << header << "\n";
      current = header;
    }
    std::cout << chunk.data;
    if (!chunk.data.empty()) ends_with_newline = chunk.data.back() == '\n';
  });
  if (!ends_with_newline) std::cout << "\n";
  if (!read.ok()) {
    PrintError(read.message());
    return kExitHostError;
  }
  return kExitOk;
}

}  // namespace petit::host

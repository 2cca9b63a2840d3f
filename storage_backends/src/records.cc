#include "src/records.h"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

#include "src/text_codec.h"

namespace petit::storage::internal {
namespace {

Status CheckId(std::string_view value, std::string_view what) {
  if (value.empty()) return InvalidArgument(std::string(what) + " is empty");
  if (!IsValidUtf8(value) || value.find('\0') != std::string_view::npos) {
    return InvalidArgument(std::string(what) + " '" + SanitizeText(value) +
                           "' is not valid UTF-8 text");
  }
  return Status::Ok();
}

}  // namespace

Status CheckRunId(const RunId& run) { return CheckId(run.str(), "run id"); }

Status CheckJobId(const JobId& job) { return CheckId(job.str(), "job id"); }

Result<RunRecord> NormalizeRun(const RunRecord& run) {
  PETIT_RETURN_IF_ERROR(CheckRunId(run.id));
  PETIT_RETURN_IF_ERROR(CheckJobId(run.job));
  RunRecord normalized = run;
  normalized.trigger = SanitizeText(run.trigger);
  normalized.owner = SanitizeText(run.owner);
  normalized.error = SanitizeText(run.error);
  return normalized;
}

Status CheckTaskId(const TaskId& task) { return CheckId(task.str(), "task id"); }

void NormalizeAttemptInto(const AttemptRecord& attempt, AttemptRecord& stored) {
  stored.run = attempt.run;
  stored.task = attempt.task;
  stored.attempt = attempt.attempt;
  NormalizeAttemptValueInto(attempt, stored);
}

void NormalizeAttemptValueInto(const AttemptRecord& attempt, AttemptRecord& stored) {
  stored.state = attempt.state;
  stored.queued_us = attempt.queued_us;
  stored.started_us = attempt.started_us;
  stored.ended_us = attempt.ended_us;
  stored.exit_code = attempt.exit_code;
  stored.error = SanitizeText(attempt.error);
  stored.outputs.clear();
  for (const auto& [key, value] : attempt.outputs) {
    stored.outputs.emplace_hint(stored.outputs.end(), SanitizeText(key), value);
  }
}

Result<AttemptRecord> NormalizeAttempt(const AttemptRecord& attempt) {
  PETIT_RETURN_IF_ERROR(CheckRunId(attempt.run));
  PETIT_RETURN_IF_ERROR(CheckTaskId(attempt.task));
  // Field by field, so the free text is copied once (sanitised), not copied and then replaced.
  AttemptRecord normalized;
  NormalizeAttemptInto(attempt, normalized);
  return normalized;
}

Status CheckLogChunk(const LogChunk& chunk) {
  PETIT_RETURN_IF_ERROR(CheckRunId(chunk.run));
  PETIT_RETURN_IF_ERROR(CheckId(chunk.task.str(), "task id"));
  if (chunk.stream != OutputStream::kStdout && chunk.stream != OutputStream::kStderr) {
    return InvalidArgument("log chunk has an unknown stream " +
                           std::to_string(static_cast<int>(chunk.stream)));
  }
  return Status::Ok();
}

Result<OutputStream> StreamFromStored(int64_t value) {
  if (value == static_cast<int64_t>(OutputStream::kStdout)) return OutputStream::kStdout;
  if (value == static_cast<int64_t>(OutputStream::kStderr)) return OutputStream::kStderr;
  return Internal("stored log chunk has an unknown stream " + std::to_string(value));
}

std::string DescribeRun(const RunId& run) { return "run " + run.str(); }

std::string DescribeJob(const JobId& job) { return "job '" + job.str() + "'"; }

std::string DescribeOccurrence(const JobId& job, int64_t occurrence_us) {
  constexpr int64_t kMicrosPerSecond = 1'000'000;
  int64_t seconds = occurrence_us / kMicrosPerSecond;
  int64_t micros = occurrence_us % kMicrosPerSecond;
  if (micros < 0) {
    micros += kMicrosPerSecond;
    --seconds;
  }
  const auto time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  char text[64] = "?";
  if (gmtime_r(&time, &utc) != nullptr) std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::string when = text;
  if (micros != 0) {
    char fraction[16];
    std::snprintf(fraction, sizeof fraction, ".%06lld", static_cast<long long>(micros));
    when += fraction;
  }
  return "the occurrence " + when + "Z of " + DescribeJob(job);
}

std::string DescribeAttempt(const RunId& run, const TaskId& task, uint32_t attempt) {
  return "attempt " + std::to_string(attempt) + " of task '" + task.str() + "' of run " + run.str();
}

std::string DescribeChunk(const LogChunk& chunk) {
  return "log chunk " + std::to_string(chunk.seq) + " of " +
         DescribeAttempt(chunk.run, chunk.task, chunk.attempt);
}

Status RunAlreadyEnded(const RunId& run, RunStatus status) {
  return FailedPrecondition(DescribeRun(run) + " already ended (" +
                            std::string(RunStatusName(status)) + ")");
}

Status RunNotEnded(const RunId& run, RunStatus status) {
  return FailedPrecondition(DescribeRun(run) + " has not ended (" +
                            std::string(RunStatusName(status)) + ")");
}

Status CheckHostLockOwner(std::string_view owner) {
  PETIT_RETURN_IF_ERROR(CheckId(owner, "host lock owner"));
  if (owner.size() > kMaxHostLockOwnerBytes) {
    return InvalidArgument("host lock owner is longer than " +
                           std::to_string(kMaxHostLockOwnerBytes) + " bytes");
  }
  return Status::Ok();
}

Status HostLockRefused(std::string_view display, std::string_view holder) {
  const std::string named = OneLine(SanitizeText(holder));
  return FailedPrecondition(
      "the store " + std::string(display) + " is in use by " +
      (named.empty() ? std::string("a process that did not record its name") : named));
}

}  // namespace petit::storage::internal

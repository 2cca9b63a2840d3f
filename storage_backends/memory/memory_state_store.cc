#include "memory/memory_state_store.h"

#include <span>
#include <string>
#include <vector>

#include "src/records.h"

namespace petit::storage::internal {
namespace {

Status RunNotFound(const RunId& id) { return NotFound(DescribeRun(id) + " does not exist"); }

}  // namespace

Status MemoryStateStore::CreateRun(const RunRecord& run) {
  Result<RunRecord> normalized = NormalizeRun(run);
  if (!normalized.ok()) return normalized.status();
  std::lock_guard lock(mu_);
  auto [it, inserted] = runs_.try_emplace(run.id);
  if (!inserted) return AlreadyExists(DescribeRun(run.id) + " already exists");
  it->second.record = std::move(normalized).value();
  newest_first_.emplace(run.created_us, run.id);
  return Status::Ok();
}

Status MemoryStateStore::UpdateRun(const RunRecord& run) {
  Result<RunRecord> normalized = NormalizeRun(run);
  if (!normalized.ok()) return normalized.status();
  std::lock_guard lock(mu_);
  auto it = runs_.find(run.id);
  if (it == runs_.end()) return RunNotFound(run.id);
  RunRecord& stored = it->second.record;
  stored.status = normalized->status;
  stored.started_us = normalized->started_us;
  stored.ended_us = normalized->ended_us;
  stored.error = std::move(normalized->error);
  return Status::Ok();
}

Result<std::optional<RunRecord>> MemoryStateStore::GetRun(const RunId& id) {
  std::lock_guard lock(mu_);
  auto it = runs_.find(id);
  if (it == runs_.end()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(it->second.record);
}

Result<std::vector<RunRecord>> MemoryStateStore::ListRuns(const JobId& job, size_t limit) {
  std::lock_guard lock(mu_);
  std::vector<RunRecord> runs;
  for (const auto& [created_us, id] : newest_first_) {
    if (runs.size() >= limit) break;
    const RunRecord& record = runs_.at(id).record;
    if (job.empty() || record.job == job) runs.push_back(record);
  }
  return runs;
}

Status MemoryStateStore::SaveAttempt(const AttemptRecord& attempt) {
  return SaveAttempts(std::span<const AttemptRecord>(&attempt, 1));
}

Status MemoryStateStore::SaveAttempts(std::span<const AttemptRecord> attempts) {
  std::vector<AttemptRecord> normalized;
  normalized.reserve(attempts.size());
  for (const AttemptRecord& attempt : attempts) {
    Result<AttemptRecord> record = NormalizeAttempt(attempt);
    if (!record.ok()) return record.status();
    normalized.push_back(std::move(record).value());
  }
  std::lock_guard lock(mu_);
  // Checked before anything changes, so a batch is applied whole or not at all.
  for (const AttemptRecord& attempt : normalized) {
    if (!runs_.contains(attempt.run)) {
      return NotFound("cannot save " + DescribeAttempt(attempt.run, attempt.task, attempt.attempt) +
                      ": the run does not exist");
    }
  }
  for (AttemptRecord& attempt : normalized) {
    runs_.find(attempt.run)->second.attempts.insert_or_assign(
        AttemptKey(attempt.task, attempt.attempt), std::move(attempt));
  }
  return Status::Ok();
}

Result<std::vector<AttemptRecord>> MemoryStateStore::ListAttempts(const RunId& run) {
  std::lock_guard lock(mu_);
  std::vector<AttemptRecord> attempts;
  auto it = runs_.find(run);
  if (it == runs_.end()) return attempts;
  attempts.reserve(it->second.attempts.size());
  for (const auto& [key, attempt] : it->second.attempts) attempts.push_back(attempt);
  return attempts;
}

Status MemoryStateStore::AppendLog(const LogChunk& chunk) {
  PETIT_RETURN_IF_ERROR(CheckLogChunk(chunk));
  std::lock_guard lock(mu_);
  auto it = runs_.find(chunk.run);
  if (it == runs_.end()) {
    return NotFound("cannot append " + DescribeChunk(chunk) + ": the run does not exist");
  }
  auto [log, inserted] =
      it->second.logs.try_emplace(LogKey(chunk.task, chunk.attempt, chunk.seq), chunk);
  if (!inserted) return AlreadyExists(DescribeChunk(chunk) + " already exists");
  return Status::Ok();
}

Result<std::vector<LogChunk>> MemoryStateStore::ReadLogs(const RunId& run, const TaskId& task) {
  std::lock_guard lock(mu_);
  std::vector<LogChunk> chunks;
  auto it = runs_.find(run);
  if (it == runs_.end()) return chunks;
  const auto& logs = it->second.logs;
  auto begin = logs.begin();
  auto end = logs.end();
  if (!task.empty()) {
    begin = logs.lower_bound(LogKey(task, 0, 0));
    end = logs.upper_bound(LogKey(task, UINT32_MAX, UINT32_MAX));
  }
  for (auto log = begin; log != end; ++log) chunks.push_back(log->second);
  return chunks;
}

}  // namespace petit::storage::internal

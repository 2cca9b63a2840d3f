#include "memory/memory_state_store.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "src/records.h"
#include "src/text_codec.h"

namespace petit::storage::internal {
namespace {

Status RunNotFound(const RunId& id) { return NotFound(DescribeRun(id) + " does not exist"); }

}  // namespace

// Borrows the store, which outlives it (HostLock's contract).
class MemoryStateStore::HeldHostLock final : public HostLock {
 public:
  explicit HeldHostLock(MemoryStateStore& store) : store_(store) {}
  ~HeldHostLock() override {
    MutexLock lock(store_.mu_);
    store_.host_lock_owner_.clear();
  }
  HeldHostLock(const HeldHostLock&) = delete;
  HeldHostLock& operator=(const HeldHostLock&) = delete;

 private:
  MemoryStateStore& store_;
};

Status MemoryStateStore::InsertRun(RunRecord&& run) {
  if (runs_.contains(run.id)) return AlreadyExists(DescribeRun(run.id) + " already exists");
  if (run.occurrence_us != 0) {
    auto [occurrence, inserted] =
        occurrences_.try_emplace(OccurrenceKey(run.job, run.occurrence_us), run.id);
    if (!inserted) {
      return AlreadyExists(DescribeOccurrence(run.job, run.occurrence_us) + " already has " +
                           DescribeRun(occurrence->second));
    }
  }
  newest_first_.emplace(run.created_us, run.id);
  if (!IsTerminal(run.status)) active_.emplace(run.job, run.created_us, run.id);
  const RunId id = run.id;
  runs_[id].record = std::move(run);
  return Status::Ok();
}

void MemoryStateStore::SetStatus(RunRecord& record, RunStatus status) {
  const ActiveKey key(record.job, record.created_us, record.id);
  if (IsTerminal(status)) {
    active_.erase(key);
  } else {
    active_.insert(key);
  }
  record.status = status;
}

Status MemoryStateStore::CreateRun(const RunRecord& run) {
  Result<RunRecord> normalized = NormalizeRun(run);
  if (!normalized.ok()) return normalized.status();
  MutexLock lock(mu_);
  return InsertRun(std::move(normalized).value());
}

Result<RunAdmission> MemoryStateStore::AdmitRun(const RunRecord& run, uint32_t max_active_runs) {
  Result<RunRecord> normalized = NormalizeRun(run);
  if (!normalized.ok()) return normalized.status();
  MutexLock lock(mu_);
  return AdmitLocked(std::move(normalized).value(), max_active_runs);
}

Result<RunAdmission> MemoryStateStore::AdmitLocked(RunRecord&& run, uint32_t max_active_runs) {
  RunAdmission admission;
  admission.max_active_runs = max_active_runs;
  if (run.occurrence_us != 0) {
    auto taken = occurrences_.find(OccurrenceKey(run.job, run.occurrence_us));
    if (taken != occurrences_.end()) {
      admission.verdict = RunAdmission::Verdict::kOccurrenceTaken;
      admission.other = taken->second;
      admission.other_owner = runs_.at(taken->second).record.owner;
      return admission;
    }
  }
  RunAdmission counted = CountActive(run.job, max_active_runs);
  if (!counted.admitted()) return counted;
  PETIT_RETURN_IF_ERROR(InsertRun(std::move(run)));
  return counted;
}

AdmissionCommit MemoryStateStore::AdmitRunsAndSaveJobs(std::span<const RunToAdmit> runs,
                                                       std::span<const JobRecord> jobs) {
  for (const JobRecord& job : jobs) {
    if (!CheckJobId(job.id).ok()) return StateStore::AdmitRunsAndSaveJobs(runs, jobs);
  }
  std::vector<Result<RunRecord>> normalized;
  normalized.reserve(runs.size());
  for (const RunToAdmit& one : runs) normalized.push_back(NormalizeRun(one.run));
  AdmissionCommit commit;
  commit.admissions.reserve(runs.size());
  MutexLock lock(mu_);
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!normalized[i].ok()) {
      commit.admissions.emplace_back(normalized[i].status());
      continue;
    }
    commit.admissions.push_back(
        AdmitLocked(std::move(normalized[i]).value(), runs[i].max_active_runs));
  }
  for (const JobRecord& job : jobs) jobs_.insert_or_assign(job.id, job);
  return commit;
}

RunAdmission MemoryStateStore::CountActive(const JobId& job, uint32_t max_active_runs) {
  RunAdmission admission;
  admission.max_active_runs = max_active_runs;
  if (max_active_runs == 0) return admission;
  const auto first =
      active_.lower_bound(ActiveKey(job, std::numeric_limits<int64_t>::min(), RunId()));
  for (auto it = first; it != active_.end() && std::get<0>(*it) == job; ++it) {
    ++admission.active_runs;
    admission.other = std::get<2>(*it);  // the last one met is the newest
  }
  if (admission.active_runs < max_active_runs)
    return RunAdmission{.max_active_runs = max_active_runs};
  admission.verdict = RunAdmission::Verdict::kAtLimit;
  return admission;
}

Status MemoryStateStore::UpdateRun(const RunRecord& run) {
  Result<RunRecord> normalized = NormalizeRun(run);
  if (!normalized.ok()) return normalized.status();
  MutexLock lock(mu_);
  auto it = runs_.find(run.id);
  if (it == runs_.end()) return RunNotFound(run.id);
  RunRecord& stored = it->second.record;
  SetStatus(stored, normalized->status);
  stored.started_us = normalized->started_us;
  stored.ended_us = normalized->ended_us;
  stored.error = std::move(normalized->error);
  return Status::Ok();
}

Result<std::optional<RunRecord>> MemoryStateStore::GetRun(const RunId& id) {
  MutexLock lock(mu_);
  auto it = runs_.find(id);
  if (it == runs_.end()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(it->second.record);
}

Result<std::vector<RunRecord>> MemoryStateStore::ListRuns(const JobId& job, size_t limit) {
  MutexLock lock(mu_);
  std::vector<RunRecord> runs;
  for (const auto& [created_us, id] : newest_first_) {
    if (runs.size() >= limit) break;
    const RunRecord& record = runs_.at(id).record;
    if (job.empty() || record.job == job) runs.push_back(record);
  }
  return runs;
}

Result<RunPage> MemoryStateStore::QueryRuns(const RunQuery& query) {
  if (query.after.has_value()) PETIT_RETURN_IF_ERROR(CheckRunId(query.after->id));
  RunPage page;
  if (query.limit == 0) return page;
  MutexLock lock(mu_);
  // The page starts at the first run strictly older than both the cursor and (until, ""): the
  // empty id sorts before every id, so that key admits exactly the runs created before `until`.
  // newest_first_ is ordered descending, so upper_bound(key) is the first run below key.
  std::optional<NewestFirstKey> bound;
  if (query.after.has_value()) bound.emplace(query.after->created_us, query.after->id);
  if (query.until_us.has_value()) {
    NewestFirstKey until(*query.until_us, RunId());
    if (!bound.has_value() || until < *bound) bound = std::move(until);
  }
  auto it = bound.has_value() ? newest_first_.upper_bound(*bound) : newest_first_.begin();
  for (; it != newest_first_.end(); ++it) {
    const auto& [created_us, id] = *it;
    if (query.since_us.has_value() && created_us < *query.since_us) break;
    const RunRecord& record = runs_.at(id).record;
    if (!query.job.empty() && record.job != query.job) continue;
    if (!query.statuses.empty() && std::find(query.statuses.begin(), query.statuses.end(),
                                             record.status) == query.statuses.end()) {
      continue;
    }
    if (page.runs.size() == query.limit) {
      const RunRecord& last = page.runs.back();
      page.next = RunCursor{last.created_us, last.id};
      break;
    }
    page.runs.push_back(record);
  }
  return page;
}

Status MemoryStateStore::SaveAttemptsAndUpdateRun(std::span<const AttemptRecord> attempts,
                                                  const RunRecord& run) {
  Result<RunRecord> normalized = NormalizeRun(run);
  if (!normalized.ok()) return normalized.status();
  {
    MutexLock lock(mu_);
    if (!runs_.contains(run.id)) return RunNotFound(run.id);
  }
  PETIT_RETURN_IF_ERROR(SaveAttempts(attempts));
  return UpdateRun(run);
}

Status MemoryStateStore::SaveAttempts(std::span<const AttemptRecord> attempts) {
  MutexLock lock(mu_);
  // Checked and looked up before anything changes, so a batch is applied whole or not at all. A
  // batch comes from one run almost always, so consecutive records reuse the previous lookup. A
  // stored run's id was checked when the run was created: only a batch naming an unknown run
  // has its run ids checked (an invalid one is kInvalidArgument before any kNotFound, as ever).
  const RunId* missing = nullptr;
  for (size_t i = 0; i < attempts.size(); ++i) {
    const RunId& run = attempts[i].run;
    if (i != 0 && attempts[i - 1].run == run) continue;
    if (FindRun(run) == nullptr && missing == nullptr) missing = &run;
  }
  for (size_t i = 0; i < attempts.size(); ++i) {
    const AttemptRecord& attempt = attempts[i];
    if (missing != nullptr && (i == 0 || attempt.run != attempts[i - 1].run)) {
      PETIT_RETURN_IF_ERROR(CheckRunId(attempt.run));
    }
    PETIT_RETURN_IF_ERROR(CheckTaskId(attempt.task));
  }
  if (missing != nullptr) {
    for (const AttemptRecord& attempt : attempts) {
      if (&attempt.run != missing) continue;
      return NotFound("cannot save " + DescribeAttempt(attempt.run, attempt.task, attempt.attempt) +
                      ": the run does not exist");
    }
  }
  RunEntry* entry = nullptr;
  for (size_t i = 0; i < attempts.size(); ++i) {
    const AttemptRecord& attempt = attempts[i];
    if (i == 0 || attempts[i - 1].run != attempt.run) entry = FindRun(attempt.run);
    // Normalised into the stored record, which keeps its strings' storage when replaced.
    NormalizeAttemptValueInto(attempt, entry->attempts.FindOrInsert(attempt.task, attempt.attempt));
  }
  return Status::Ok();
}

MemoryStateStore::RunEntry* MemoryStateStore::FindRun(const RunId& id) {
  if (last_found_ != nullptr && last_found_->record.id == id) return last_found_;
  auto it = runs_.find(id);
  if (it == runs_.end()) return nullptr;
  last_found_ = &it->second;
  return last_found_;
}

Result<std::vector<AttemptRecord>> MemoryStateStore::ListAttempts(const RunId& run) {
  std::vector<AttemptRecord> attempts;
  {
    MutexLock lock(mu_);
    auto it = runs_.find(run);
    if (it == runs_.end()) return attempts;
    attempts.reserve(it->second.attempts.size());
    it->second.attempts.ForEach([&](const AttemptRecord& attempt) {
      attempts.push_back(attempt);
      attempts.back().run = run;
    });
  }
  std::sort(attempts.begin(), attempts.end(), [](const AttemptRecord& a, const AttemptRecord& b) {
    return std::tie(a.task, a.attempt) < std::tie(b.task, b.attempt);
  });
  return attempts;
}

Status MemoryStateStore::AppendLog(const LogChunk& chunk) {
  PETIT_RETURN_IF_ERROR(CheckLogChunk(chunk));
  MutexLock lock(mu_);
  auto it = runs_.find(chunk.run);
  if (it == runs_.end()) {
    return NotFound("cannot append " + DescribeChunk(chunk) + ": the run does not exist");
  }
  auto [log, inserted] =
      it->second.logs.try_emplace(LogKey(chunk.task, chunk.attempt, chunk.seq), chunk);
  if (!inserted) return AlreadyExists(DescribeChunk(chunk) + " already exists");
  return Status::Ok();
}

Result<std::vector<LogChunk>> MemoryStateStore::ReadLogs(const RunId& run, const LogQuery& query) {
  MutexLock lock(mu_);
  std::vector<LogChunk> chunks;
  auto it = runs_.find(run);
  if (it == runs_.end()) return chunks;
  const auto& logs = it->second.logs;
  auto log = logs.begin();
  if (!query.task.empty()) log = logs.lower_bound(LogKey(query.task, query.attempt, 0));
  if (query.after.has_value()) {
    const LogKey after(query.after->task, query.after->attempt, query.after->seq);
    if (log == logs.end() || log->first <= after) log = logs.upper_bound(after);
  }
  for (; log != logs.end() && chunks.size() < query.limit; ++log) {
    const auto& [task, attempt, seq] = log->first;
    if (!query.task.empty() && task != query.task) break;
    if (query.attempt != 0 && attempt != query.attempt) {
      if (!query.task.empty() && attempt > query.attempt) break;
      continue;
    }
    chunks.push_back(log->second);
  }
  return chunks;
}

Result<std::vector<RunRecord>> MemoryStateStore::ListIncompleteRuns() {
  MutexLock lock(mu_);
  std::vector<RunRecord> runs;
  for (auto key = newest_first_.rbegin(); key != newest_first_.rend(); ++key) {
    const RunRecord& record = runs_.at(key->second).record;
    if (!IsTerminal(record.status)) runs.push_back(record);
  }
  return runs;
}

Status MemoryStateStore::MarkInterrupted(const RunId& run, std::string_view reason,
                                         int64_t ended_us) {
  PETIT_RETURN_IF_ERROR(CheckRunId(run));
  const std::string error = SanitizeText(reason);
  MutexLock lock(mu_);
  auto it = runs_.find(run);
  if (it == runs_.end()) return RunNotFound(run);
  RunRecord& record = it->second.record;
  if (IsTerminal(record.status)) return RunAlreadyEnded(run, record.status);
  SetStatus(record, RunStatus::kInterrupted);
  record.ended_us = ended_us;
  record.error = error;
  it->second.attempts.ForEach([&](AttemptRecord& attempt) {
    if (attempt.state != TaskState::kQueued && attempt.state != TaskState::kRunning) return;
    attempt.state = TaskState::kInterrupted;
    attempt.ended_us = ended_us;
    attempt.error = error;
  });
  return Status::Ok();
}

Result<std::vector<::petit::AttemptKey>> MemoryStateStore::InterruptStrandedAttempts(
    std::string_view reason, int64_t ended_us) {
  const std::string error = SanitizeText(reason);
  MutexLock lock(mu_);
  std::vector<::petit::AttemptKey> stranded;
  for (auto& [run_id, entry] : runs_) {
    if (!IsTerminal(entry.record.status)) continue;
    // Named again: clang 14 cannot capture a structured binding.
    const RunId& id = run_id;
    entry.attempts.ForEach([&](AttemptRecord& attempt) {
      if (attempt.state != TaskState::kQueued && attempt.state != TaskState::kRunning) return;
      attempt.state = TaskState::kInterrupted;
      attempt.ended_us = ended_us;
      attempt.error = error;
      stranded.push_back({id, attempt.task, attempt.attempt});
    });
  }
  std::sort(stranded.begin(), stranded.end(), [](const auto& a, const auto& b) {
    return std::tie(a.run, a.task, a.attempt) < std::tie(b.run, b.task, b.attempt);
  });
  return stranded;
}

Status MemoryStateStore::ReopenRun(const RunId& run, std::string_view owner, int64_t reopened_us) {
  PETIT_RETURN_IF_ERROR(CheckRunId(run));
  std::string new_owner = SanitizeText(owner);
  MutexLock lock(mu_);
  auto it = runs_.find(run);
  if (it == runs_.end()) return RunNotFound(run);
  return Reopen(it->second, std::move(new_owner), reopened_us);
}

Result<RunAdmission> MemoryStateStore::AdmitReopen(const RunId& run, std::string_view owner,
                                                   int64_t reopened_us, uint32_t max_active_runs) {
  PETIT_RETURN_IF_ERROR(CheckRunId(run));
  std::string new_owner = SanitizeText(owner);
  MutexLock lock(mu_);
  auto it = runs_.find(run);
  if (it == runs_.end()) return RunNotFound(run);
  const RunRecord& record = it->second.record;
  if (!IsTerminal(record.status)) return RunNotEnded(run, record.status);
  RunAdmission admission = CountActive(record.job, max_active_runs);
  if (!admission.admitted()) return admission;
  PETIT_RETURN_IF_ERROR(Reopen(it->second, std::move(new_owner), reopened_us));
  return admission;
}

Status MemoryStateStore::Reopen(RunEntry& entry, std::string&& new_owner, int64_t reopened_us) {
  RunRecord& record = entry.record;
  if (!IsTerminal(record.status)) return RunNotEnded(record.id, record.status);
  SetStatus(record, RunStatus::kRunning);
  record.owner = std::move(new_owner);
  record.ended_us = 0;
  record.error.clear();
  ++record.retries;
  record.retried_us = reopened_us;
  return Status::Ok();
}

Result<bool> MemoryStateStore::TakeOverRun(const RunId& run, std::string_view dead_owner,
                                           std::string_view new_owner, std::string_view reason,
                                           int64_t now_us) {
  PETIT_RETURN_IF_ERROR(CheckRunId(run));
  // Owners are stored sanitised: the dead one is compared as stored.
  const std::string expected_owner = SanitizeText(dead_owner);
  std::string owner = SanitizeText(new_owner);
  const std::string error = SanitizeText(reason);
  MutexLock lock(mu_);
  auto it = runs_.find(run);
  if (it == runs_.end()) return RunNotFound(run);
  RunRecord& record = it->second.record;
  if (IsTerminal(record.status) || record.owner != expected_owner) return false;
  it->second.attempts.ForEach([&](AttemptRecord& attempt) {
    if (attempt.state != TaskState::kQueued && attempt.state != TaskState::kRunning) return;
    attempt.state = TaskState::kInterrupted;
    attempt.ended_us = now_us;
    attempt.error = error;
  });
  SetStatus(record, RunStatus::kRunning);
  record.owner = std::move(owner);
  ++record.retries;
  record.retried_us = now_us;
  return true;
}

Result<std::optional<RunRecord>> MemoryStateStore::LastRun(const JobId& job,
                                                           std::span<const RunStatus> statuses,
                                                           int64_t ended_since_us) {
  MutexLock lock(mu_);
  const RunRecord* newest = nullptr;
  for (const auto& [id, entry] : runs_) {
    const RunRecord& record = entry.record;
    if (record.job != job || record.ended_us < ended_since_us) continue;
    if (std::find(statuses.begin(), statuses.end(), record.status) == statuses.end()) continue;
    if (newest == nullptr ||
        std::tie(record.ended_us, record.id) > std::tie(newest->ended_us, newest->id)) {
      newest = &record;
    }
  }
  if (newest == nullptr) return std::optional<RunRecord>();
  return std::optional<RunRecord>(*newest);
}

Status MemoryStateStore::SaveJob(const JobRecord& job) {
  PETIT_RETURN_IF_ERROR(CheckJobId(job.id));
  MutexLock lock(mu_);
  jobs_.insert_or_assign(job.id, job);
  return Status::Ok();
}

Result<std::optional<JobRecord>> MemoryStateStore::GetJob(const JobId& id) {
  MutexLock lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::optional<JobRecord>();
  return std::optional<JobRecord>(it->second);
}

Result<std::vector<JobRecord>> MemoryStateStore::ListJobs() {
  MutexLock lock(mu_);
  std::vector<JobRecord> jobs;
  jobs.reserve(jobs_.size());
  for (const auto& [id, job] : jobs_) jobs.push_back(job);
  return jobs;
}

Status MemoryStateStore::SaveScheduler(const SchedulerRecord& scheduler) {
  MutexLock lock(mu_);
  scheduler_ = scheduler;
  return Status::Ok();
}

Result<SchedulerRecord> MemoryStateStore::GetScheduler() {
  MutexLock lock(mu_);
  return scheduler_;
}

Result<std::unique_ptr<HostLock>> MemoryStateStore::AcquireHostLock(std::string_view owner) {
  PETIT_RETURN_IF_ERROR(CheckHostLockOwner(owner));
  MutexLock lock(mu_);
  if (!host_lock_owner_.empty()) return HostLockRefused("memory:", host_lock_owner_);
  host_lock_owner_ = owner;
  return std::unique_ptr<HostLock>(std::make_unique<HeldHostLock>(*this));
}

}  // namespace petit::storage::internal

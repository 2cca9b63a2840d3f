// FlakyStateStore: a StateStore that passes every call to a real one, except the operations a test
// has made fail (kUnavailable, as a store that stopped answering). It counts the failed calls and
// lets a test wait for the next one, and keeps the attempt batches it wrote and refused, in order.
//
// Threads: thread-safe, like the store it wraps.
#ifndef PETIT_TESTS_CORE_FLAKY_STATE_STORE_H_
#define PETIT_TESTS_CORE_FLAKY_STATE_STORE_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "petit/core/state_store.h"

namespace petit::testing {

class FlakyStateStore final : public StateStore {
 public:
  enum class Op : uint8_t { kCreateRun, kUpdateRun, kSaveAttempts, kAppendLog, kSaveJob, kReads };

  explicit FlakyStateStore(StateStore& inner) : inner_(inner) {}

  // From now on, `ops` fail; Heal() makes everything answer again.
  void Fail(std::set<Op> ops) {
    std::lock_guard lock(mu_);
    failing_ = std::move(ops);
  }
  void FailEverything() {
    Fail({Op::kCreateRun, Op::kUpdateRun, Op::kSaveAttempts, Op::kAppendLog, Op::kSaveJob,
          Op::kReads});
  }
  void Heal() { Fail({}); }

  uint64_t failures() const {
    std::lock_guard lock(mu_);
    return failures_;
  }
  // Blocks until `count` calls have failed in all; false if that took a minute (a broken test).
  bool WaitForFailures(uint64_t count) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::minutes(1), [&] { return failures_ >= count; });
  }

  // Every attempt batch written, and every one refused, in call order.
  std::vector<std::vector<AttemptRecord>> saved_batches() const {
    std::lock_guard lock(mu_);
    return saved_;
  }
  std::vector<std::vector<AttemptRecord>> refused_batches() const {
    std::lock_guard lock(mu_);
    return refused_;
  }

  Status CreateRun(const RunRecord& run) override {
    PETIT_RETURN_IF_ERROR(Check(Op::kCreateRun, "CreateRun"));
    return inner_.CreateRun(run);
  }
  // Admission creates the run, so it fails with kCreateRun.
  Result<RunAdmission> AdmitRun(const RunRecord& run, uint32_t max_active_runs) override {
    PETIT_RETURN_IF_ERROR(Check(Op::kCreateRun, "AdmitRun"));
    return inner_.AdmitRun(run, max_active_runs);
  }
  std::vector<Result<RunAdmission>> AdmitRuns(std::span<const RunToAdmit> runs) override {
    if (Status failed = Check(Op::kCreateRun, "AdmitRuns"); !failed.ok()) {
      return std::vector<Result<RunAdmission>>(runs.size(), failed);
    }
    return inner_.AdmitRuns(runs);
  }
  // Fails as AdmitRuns (kCreateRun) and as SaveJobs (kSaveJob), each part on its own, as the
  // store's two-step fallback would.
  AdmissionCommit AdmitRunsAndSaveJobs(std::span<const RunToAdmit> runs,
                                       std::span<const JobRecord> jobs) override {
    const Status runs_failed = runs.empty() ? Status::Ok() : Check(Op::kCreateRun, "AdmitRuns");
    const Status jobs_failed = jobs.empty() ? Status::Ok() : Check(Op::kSaveJob, "SaveJobs");
    if (runs_failed.ok() && jobs_failed.ok()) return inner_.AdmitRunsAndSaveJobs(runs, jobs);
    AdmissionCommit commit;
    commit.jobs_saved = jobs_failed.ok() ? inner_.SaveJobs(jobs) : jobs_failed;
    if (runs_failed.ok()) {
      commit.admissions = inner_.AdmitRuns(runs);
    } else {
      commit.admissions.assign(runs.size(), runs_failed);
    }
    return commit;
  }
  Status UpdateRun(const RunRecord& run) override {
    PETIT_RETURN_IF_ERROR(Check(Op::kUpdateRun, "UpdateRun"));
    return inner_.UpdateRun(run);
  }
  Result<std::optional<RunRecord>> GetRun(const RunId& id) override {
    PETIT_RETURN_IF_ERROR(Check(Op::kReads, "GetRun"));
    return inner_.GetRun(id);
  }
  Result<std::vector<RunRecord>> ListRuns(const JobId& job, size_t limit) override {
    PETIT_RETURN_IF_ERROR(Check(Op::kReads, "ListRuns"));
    return inner_.ListRuns(job, limit);
  }
  Result<RunPage> QueryRuns(const RunQuery& query) override {
    PETIT_RETURN_IF_ERROR(Check(Op::kReads, "QueryRuns"));
    return inner_.QueryRuns(query);
  }
  Status SaveAttempts(std::span<const AttemptRecord> attempts) override {
    std::lock_guard lock(mu_);
    // Recorded before the failure is counted, so a test that saw the count sees the batch.
    if (failing_.contains(Op::kSaveAttempts))
      refused_.emplace_back(attempts.begin(), attempts.end());
    Status failed = CheckLocked(Op::kSaveAttempts, "SaveAttempts");
    if (!failed.ok()) return failed;
    // Under mu_, so saved_ has the order the inner store applied them in.
    Status saved = inner_.SaveAttempts(attempts);
    if (saved.ok()) saved_.emplace_back(attempts.begin(), attempts.end());
    return saved;
  }
  Result<std::vector<AttemptRecord>> ListAttempts(const RunId& run) override {
    PETIT_RETURN_IF_ERROR(Check(Op::kReads, "ListAttempts"));
    return inner_.ListAttempts(run);
  }
  Status AppendLog(const LogChunk& chunk) override {
    PETIT_RETURN_IF_ERROR(Check(Op::kAppendLog, "AppendLog"));
    return inner_.AppendLog(chunk);
  }
  Result<std::vector<LogChunk>> ReadLogs(const RunId& run, const LogQuery& query) override {
    PETIT_RETURN_IF_ERROR(Check(Op::kReads, "ReadLogs"));
    return inner_.ReadLogs(run, query);
  }
  Result<std::vector<RunRecord>> ListIncompleteRuns() override {
    PETIT_RETURN_IF_ERROR(Check(Op::kReads, "ListIncompleteRuns"));
    return inner_.ListIncompleteRuns();
  }
  Status MarkInterrupted(const RunId& run, std::string_view reason, int64_t ended_us) override {
    return inner_.MarkInterrupted(run, reason, ended_us);
  }
  Result<std::vector<AttemptKey>> InterruptStrandedAttempts(std::string_view reason,
                                                            int64_t ended_us) override {
    return inner_.InterruptStrandedAttempts(reason, ended_us);
  }
  Status ReopenRun(const RunId& run, std::string_view owner, int64_t reopened_us) override {
    return inner_.ReopenRun(run, owner, reopened_us);
  }
  Result<bool> TakeOverRun(const RunId& run, std::string_view dead_owner,
                           std::string_view new_owner, std::string_view reason,
                           int64_t now_us) override {
    return inner_.TakeOverRun(run, dead_owner, new_owner, reason, now_us);
  }
  Result<RunAdmission> AdmitReopen(const RunId& run, std::string_view owner, int64_t reopened_us,
                                   uint32_t max_active_runs) override {
    return inner_.AdmitReopen(run, owner, reopened_us, max_active_runs);
  }
  Result<std::optional<RunRecord>> LastRun(const JobId& job, std::span<const RunStatus> statuses,
                                           int64_t ended_since_us) override {
    PETIT_RETURN_IF_ERROR(Check(Op::kReads, "LastRun"));
    return inner_.LastRun(job, statuses, ended_since_us);
  }
  Status SaveJob(const JobRecord& job) override {
    PETIT_RETURN_IF_ERROR(Check(Op::kSaveJob, "SaveJob"));
    return inner_.SaveJob(job);
  }
  Status SaveJobs(std::span<const JobRecord> jobs) override {
    PETIT_RETURN_IF_ERROR(Check(Op::kSaveJob, "SaveJobs"));
    return inner_.SaveJobs(jobs);
  }
  Result<std::optional<JobRecord>> GetJob(const JobId& id) override {
    PETIT_RETURN_IF_ERROR(Check(Op::kReads, "GetJob"));
    return inner_.GetJob(id);
  }
  Result<std::vector<JobRecord>> ListJobs() override { return inner_.ListJobs(); }
  Status SaveScheduler(const SchedulerRecord& scheduler) override {
    return inner_.SaveScheduler(scheduler);
  }
  Result<SchedulerRecord> GetScheduler() override { return inner_.GetScheduler(); }
  Result<std::unique_ptr<HostLock>> AcquireHostLock(std::string_view owner) override {
    return inner_.AcquireHostLock(owner);
  }

 private:
  Status Check(Op op, const char* what) {
    std::lock_guard lock(mu_);
    return CheckLocked(op, what);
  }
  Status CheckLocked(Op op, const char* what) {
    if (!failing_.contains(op)) return Status::Ok();
    ++failures_;
    cv_.notify_all();
    return Unavailable(std::string(what) + ": the test store is down");
  }

  StateStore& inner_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<Op> failing_;
  uint64_t failures_ = 0;
  std::vector<std::vector<AttemptRecord>> saved_;
  std::vector<std::vector<AttemptRecord>> refused_;
};

}  // namespace petit::testing

#endif  // PETIT_TESTS_CORE_FLAKY_STATE_STORE_H_

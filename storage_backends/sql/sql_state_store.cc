#include "sql/sql_state_store.h"

#include <soci/soci.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "sql/attempt_batch.h"
#include "sql/database.h"
#include "sql/postgresql_client.h"
#include "sql/row_mapping.h"
#include "sql/sqlite_host_lock.h"
#include "sql/statements.h"
#include "src/records.h"
#include "src/text_codec.h"

namespace petit::storage::internal {
namespace {

// `statement` on `writer`, bound to `params` when first prepared.
soci::statement& Prepared(WriterSession& writer, WriteStatement statement, WriteParams& params) {
  return writer.Prepared(
      statement, [&](soci::statement& prepared) { BindWriteParams(statement, params, prepared); });
}

// Runs `sql`, a query on runs, with the parameters `bind` adds, into `runs`.
template <typename Bind>
Status ReadRuns(soci::session& session, const std::string& sql, Bind&& bind,
                std::vector<RunRecord>& runs) {
  return ReadRows<RunRow>(
      session, sql, bind, [](const RunRow& row) { return row.ToRecord(); }, runs);
}

// Runs `sql`, a query on jobs, as ReadRuns does.
template <typename Bind>
Status ReadJobs(soci::session& session, const std::string& sql, Bind&& bind,
                std::vector<JobRecord>& jobs) {
  return ReadRows<JobRow>(
      session, sql, bind, [](const JobRow& row) { return Result<JobRecord>(row.ToRecord()); },
      jobs);
}

// Why a conditional update of the run changed nothing: kNotFound if the run is unknown, else
// `refused(run, status)` with its status (MarkInterrupted: it already ended; ReopenRun: it has not
// ended). Runs on the writer, inside the update's transaction, so it sees what the update saw.
Status WhyRunUnchanged(soci::session& session, const RunId& run,
                       Status (*refused)(const RunId&, RunStatus)) {
  std::string status;
  bool found = false;
  Query query(session);
  query.Into(status).Use(run.str(), "id").ForEachRow(RunStatusSql(), [&] { found = true; });
  if (!found) return NotFound(DescribeRun(run) + " does not exist");
  Result<RunStatus> run_status = ParseRunStatus(status);
  if (!run_status.ok()) {
    return Internal("stored " + DescribeRun(run) + ": " + run_status.status().message());
  }
  return refused(run, *run_status);
}

constexpr uint64_t Fnv1a64(std::string_view text, uint64_t hash = 0xcbf29ce484222325ULL) {
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// The PostgreSQL advisory lock that serialises the admissions of `job`: the same for every petit
// (derived from names, not from the server's hash functions), one per job, so admissions of
// different jobs do not wait for each other (a collision of two jobs only serialises them).
long long AdmissionLockKey(const JobId& job) {
  constexpr uint64_t kAdmissionSpace = Fnv1a64("petit run admission");
  return static_cast<long long>(Fnv1a64(job.str(), kAdmissionSpace));
}

// Inside an admission's transaction, on PostgreSQL: waits for the job's admission lock, held to
// the end of the transaction. (SQLite's transaction holds the database's write lock already.)
void LockAdmissions(soci::session& session, Dialect dialect, const JobId& job) {
  if (dialect != Dialect::kPostgresql) return;
  const long long key = AdmissionLockKey(job);
  session << AdmissionLockSql(), soci::use(key, "key");
}

// Inside an admission's transaction: makes `admission` kAtLimit, with the count and the newest
// active run, when the job has admission.max_active_runs (not 0) runs queued or running.
void CountActiveRuns(WriterSession& writer, WriteParams& params, const std::string& job,
                     RunAdmission& admission) {
  if (admission.max_active_runs == 0) return;
  AdmitParams& admit = params.admit;
  admit.job = job;
  std::string newest;
  uint32_t active = 0;
  soci::statement& query = Prepared(writer, WriteStatement::kActiveRunsOfJob, params);
  // Every row is fetched, so the statement has run to its end when this returns.
  if (query.execute(true)) {
    do {
      if (active++ == 0) newest = admit.id;
    } while (query.fetch());
  }
  if (active < admission.max_active_runs) return;
  admission.verdict = RunAdmission::Verdict::kAtLimit;
  admission.active_runs = active;
  Result<RunId> other = RunId::Parse(newest);
  if (other.ok()) admission.other = std::move(other).value();
}

// What a write of attempts (`what`) says when it fails, and when their run does not exist.
WriteErrors SaveErrors(const std::string& what) {
  return WriteErrors{"cannot save " + what, "", "cannot save " + what + ": the run does not exist"};
}

// What CreateRun and AdmitRun say when the run table's unique keys refuse a run.
std::string RunOrOccurrenceExists(const RunRecord& run) {
  std::string message = DescribeRun(run.id) + " already exists";
  if (run.occurrence_us != 0) {
    message += ", or " + DescribeOccurrence(run.job, run.occurrence_us) + " already has a run";
  }
  return message;
}

}  // namespace

SqlStateStore::SqlStateStore(std::unique_ptr<Database> database)
    : dialect_(database->dialect()),
      params_(std::make_unique<WriteParams>()),
      attempts_(std::make_unique<AttemptBatchWriter>(database->dialect())),
      database_(std::move(database)) {}

SqlStateStore::~SqlStateStore() = default;

Result<std::unique_ptr<SqlStateStore>> SqlStateStore::Open(Dialect dialect, std::string target,
                                                           std::string display,
                                                           const OpenOptions& options) {
  Result<std::unique_ptr<Database>> database =
      Database::Open(dialect, std::move(target), std::move(display), options);
  if (!database.ok()) return database.status();
  return std::unique_ptr<SqlStateStore>(new SqlStateStore(std::move(database).value()));
}

Status SqlStateStore::CreateRun(const RunRecord& run) {
  Result<RunRecord> normalized = NormalizeRun(run);
  if (!normalized.ok()) return normalized.status();
  const RunRecord& r = *normalized;
  const WriteErrors errors{"cannot create " + DescribeRun(r.id), RunOrOccurrenceExists(r), ""};
  return database_->Write(errors, [&](WriterSession& writer) {
    params_->run.Fill(r);
    Prepared(writer, WriteStatement::kInsertRun, *params_).execute(true);
    return Status::Ok();
  });
}

Status SqlStateStore::AdmitIn(WriterSession& writer, const RunRecord& r, RunAdmission& admission) {
  const std::string job = r.job.str();
  if (r.occurrence_us != 0) {
    AdmitParams& admit = params_->admit;
    admit.job = job;
    admit.occurrence_at = r.occurrence_us;
    soci::statement& query = Prepared(writer, WriteStatement::kOccurrenceRun, *params_);
    bool taken = false;
    if (query.execute(true)) {
      taken = true;
      // (job, occurrence) is unique: this runs the statement to its end.
      while (query.fetch()) {
      }
    }
    if (taken) {
      Result<RunId> other = RunId::Parse(admit.id);
      if (!other.ok())
        return Internal("stored run id '" + SanitizeText(admit.id) + "' is not valid");
      admission.verdict = RunAdmission::Verdict::kOccurrenceTaken;
      admission.other = std::move(other).value();
      admission.other_owner = admit.owner;
      return Status::Ok();
    }
  }
  CountActiveRuns(writer, *params_, job, admission);
  if (!admission.admitted()) return Status::Ok();
  params_->run.Fill(r);
  Prepared(writer, WriteStatement::kInsertRun, *params_).execute(true);
  return Status::Ok();
}

Result<RunAdmission> SqlStateStore::AdmitRun(const RunRecord& run, uint32_t max_active_runs) {
  Result<RunRecord> normalized = NormalizeRun(run);
  if (!normalized.ok()) return normalized.status();
  const RunRecord& r = *normalized;
  const WriteErrors errors{"cannot admit " + DescribeRun(r.id) + " of " + DescribeJob(r.job),
                           RunOrOccurrenceExists(r), ""};
  RunAdmission admission;
  admission.max_active_runs = max_active_runs;
  Status status = database_->WriteExclusive(errors, [&](WriterSession& writer) {
    admission = RunAdmission{.max_active_runs = max_active_runs};
    LockAdmissions(writer.session(), dialect_, r.job);
    return AdmitIn(writer, r, admission);
  });
  if (!status.ok()) return status;
  return admission;
}

std::vector<Result<RunAdmission>> SqlStateStore::AdmitRuns(std::span<const RunToAdmit> runs) {
  if (runs.size() <= 1) return StateStore::AdmitRuns(runs);
  std::vector<RunRecord> normalized(runs.size());
  std::vector<Status> invalid(runs.size());  // OK for a run that NormalizeRun accepted
  std::vector<JobId> jobs;
  for (size_t i = 0; i < runs.size(); ++i) {
    Result<RunRecord> one = NormalizeRun(runs[i].run);
    if (!one.ok()) {
      invalid[i] = one.status();
      continue;
    }
    normalized[i] = std::move(one).value();
    jobs.push_back(normalized[i].job);
  }
  // In one order for every batch: two hosts' batches then wait for each other, never deadlock.
  std::sort(jobs.begin(), jobs.end(),
            [](const JobId& a, const JobId& b) { return a.str() < b.str(); });
  jobs.erase(std::unique(jobs.begin(), jobs.end()), jobs.end());
  std::vector<RunAdmission> admissions(runs.size());
  const WriteErrors errors{"cannot admit " + std::to_string(runs.size()) + " runs", "", ""};
  Status status = database_->WriteExclusive(errors, [&](WriterSession& writer) {
    for (const JobId& job : jobs) LockAdmissions(writer.session(), dialect_, job);
    for (size_t i = 0; i < runs.size(); ++i) {
      if (!invalid[i].ok()) continue;
      admissions[i] = RunAdmission{.max_active_runs = runs[i].max_active_runs};
      PETIT_RETURN_IF_ERROR(AdmitIn(writer, normalized[i], admissions[i]));
    }
    return Status::Ok();
  });
  // Nothing of the batch was written: each run on its own gets its own answer (or error).
  if (!status.ok()) return StateStore::AdmitRuns(runs);
  std::vector<Result<RunAdmission>> answers;
  answers.reserve(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    if (invalid[i].ok()) {
      answers.emplace_back(std::move(admissions[i]));
    } else {
      answers.emplace_back(std::move(invalid[i]));
    }
  }
  return answers;
}

AdmissionCommit SqlStateStore::AdmitRunsAndSaveJobs(std::span<const RunToAdmit> runs,
                                                    std::span<const JobRecord> jobs) {
  if (jobs.empty() || runs.empty()) return StateStore::AdmitRunsAndSaveJobs(runs, jobs);
  for (const JobRecord& job : jobs) {
    if (!CheckJobId(job.id).ok()) return StateStore::AdmitRunsAndSaveJobs(runs, jobs);
  }
  std::vector<Result<RunRecord>> normalized;
  normalized.reserve(runs.size());
  std::vector<JobId> locked;
  locked.reserve(runs.size());
  for (const RunToAdmit& one : runs) {
    normalized.push_back(NormalizeRun(one.run));
    if (normalized.back().ok()) locked.push_back(normalized.back()->job);
  }
  const auto by_id = [](const JobId& a, const JobId& b) { return a.str() < b.str(); };
  // In one order for every writer: two hosts' ticks then wait for each other, never deadlock.
  std::sort(locked.begin(), locked.end(), by_id);
  locked.erase(std::unique(locked.begin(), locked.end()), locked.end());
  std::vector<const JobRecord*> saved;
  saved.reserve(jobs.size());
  for (const JobRecord& job : jobs) saved.push_back(&job);
  std::stable_sort(saved.begin(), saved.end(),
                   [&](const JobRecord* a, const JobRecord* b) { return by_id(a->id, b->id); });
  std::vector<RunAdmission> admissions(runs.size());
  const WriteErrors errors{"cannot admit " + std::to_string(runs.size()) + " runs and save " +
                               std::to_string(jobs.size()) + " jobs",
                           "", ""};
  Status status = database_->WriteExclusive(errors, [&](WriterSession& writer) {
    for (const JobId& job : locked) LockAdmissions(writer.session(), dialect_, job);
    for (size_t i = 0; i < runs.size(); ++i) {
      if (!normalized[i].ok()) continue;
      admissions[i] = RunAdmission{.max_active_runs = runs[i].max_active_runs};
      PETIT_RETURN_IF_ERROR(AdmitIn(writer, *normalized[i], admissions[i]));
    }
    for (const JobRecord* job : saved) {
      params_->job.Fill(*job);
      Prepared(writer, WriteStatement::kUpsertJob, *params_).execute(true);
    }
    return Status::Ok();
  });
  // Nothing was written: the two steps, each with its own answers.
  if (!status.ok()) return StateStore::AdmitRunsAndSaveJobs(runs, jobs);
  AdmissionCommit commit;
  commit.admissions.reserve(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    if (normalized[i].ok()) {
      commit.admissions.emplace_back(std::move(admissions[i]));
    } else {
      commit.admissions.emplace_back(normalized[i].status());
    }
  }
  return commit;
}

Status SqlStateStore::UpdateRun(const RunRecord& run) {
  Result<RunRecord> normalized = NormalizeRun(run);
  if (!normalized.ok()) return normalized.status();
  const RunRecord& r = *normalized;
  const WriteErrors errors{"cannot update " + DescribeRun(r.id), "", ""};
  return database_->Write(errors, [&](WriterSession& writer) { return UpdateRunIn(writer, r); });
}

Status SqlStateStore::UpdateRunIn(WriterSession& writer, const RunRecord& r) {
  params_->run.Fill(r);
  soci::statement& update = Prepared(writer, WriteStatement::kUpdateRun, *params_);
  update.execute(true);
  if (update.get_affected_rows() == 0) return NotFound(DescribeRun(r.id) + " does not exist");
  return Status::Ok();
}

Result<std::optional<RunRecord>> SqlStateStore::GetRun(const RunId& id) {
  std::vector<RunRecord> runs;
  const std::string sql = SelectRunSql(dialect_);
  Status status = database_->Read("cannot read " + DescribeRun(id), [&](soci::session& session) {
    return ReadRuns(
        session, sql, [&](Query& query) { query.Use(id.str(), "id"); }, runs);
  });
  if (!status.ok()) return status;
  if (runs.empty()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(std::move(runs.front()));
}

Result<std::vector<RunRecord>> SqlStateStore::ListRuns(const JobId& job, size_t limit) {
  std::vector<RunRecord> runs;
  if (limit == 0) return runs;
  const std::string sql = ListRunsSql(dialect_, /*of_one_job=*/!job.empty());
  const long long sql_limit = SqlLimit(limit);
  const std::string operation =
      job.empty() ? std::string("cannot list runs") : "cannot list runs of " + DescribeJob(job);
  Status status = database_->Read(operation, [&](soci::session& session) {
    return ReadRuns(
        session, sql,
        [&](Query& query) {
          if (!job.empty()) query.Use(job.str(), "job");
          query.Use(sql_limit, "limit");
        },
        runs);
  });
  if (!status.ok()) return status;
  return runs;
}

Result<RunPage> SqlStateStore::QueryRuns(const RunQuery& asked) {
  if (asked.after.has_value()) PETIT_RETURN_IF_ERROR(CheckRunId(asked.after->id));
  RunPage page;
  if (asked.limit == 0) return page;
  // Of two upper bounds (until and the cursor) one implies the other; given both, SQLite would
  // seek by one and filter by the other, reading every run between them on each page.
  RunQuery query = asked;
  if (query.after.has_value() && query.until_us.has_value()) {
    if (query.after->created_us < *query.until_us) {
      query.until_us.reset();
    } else {
      query.after.reset();
    }
  }
  std::vector<RunStatus> statuses = query.statuses;
  std::sort(statuses.begin(), statuses.end());
  statuses.erase(std::unique(statuses.begin(), statuses.end()), statuses.end());
  const bool by_status = !statuses.empty();
  std::vector<std::string> sqls;  // one per pass: an ended status and another read other indexes
  if (!by_status) sqls.push_back(QueryRunsSql(dialect_, query, std::nullopt));
  for (const RunStatus one : statuses) sqls.push_back(QueryRunsSql(dialect_, query, one));
  // One more than the page, to know whether another page follows.
  const size_t wanted = query.limit == SIZE_MAX ? SIZE_MAX : query.limit + 1;
  const long long sql_limit = SqlLimit(wanted);
  const long long since = query.since_us.value_or(0);
  const long long until = query.until_us.value_or(0);
  const long long after_created = query.after.has_value() ? query.after->created_us : 0;
  const std::string after_id = query.after.has_value() ? query.after->id.str() : std::string();
  const std::string operation = query.job.empty()
                                    ? std::string("cannot query runs")
                                    : "cannot query runs of " + DescribeJob(query.job);
  std::vector<RunRecord> runs;
  Status status = database_->Read(operation, [&](soci::session& session) {
    runs.clear();  // a read may be tried again after a reconnect
    std::vector<RunRecord> pass_runs;
    const size_t passes = by_status ? statuses.size() : 1;
    for (size_t pass = 0; pass < passes; ++pass) {
      const std::string status_name =
          by_status ? std::string(RunStatusName(statuses[pass])) : std::string();
      PETIT_RETURN_IF_ERROR(ReadRuns(
          session, sqls[pass],
          [&](Query& select) {
            if (!query.job.empty()) select.Use(query.job.str(), "job");
            if (by_status) select.Use(status_name, "status");
            if (query.since_us.has_value()) select.Use(since, "since");
            if (query.until_us.has_value()) select.Use(until, "until");
            if (query.after.has_value()) {
              select.Use(after_created, "after_created")
                  .Use(after_created, "after_created2")
                  .Use(after_id, "after_id");
            }
            select.Use(sql_limit, "limit");
          },
          pass_runs));
      std::move(pass_runs.begin(), pass_runs.end(), std::back_inserter(runs));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  auto newer = [](const RunRecord& a, const RunRecord& b) {
    return std::tie(a.created_us, a.id) > std::tie(b.created_us, b.id);
  };
  if (by_status && statuses.size() > 1) {
    std::sort(runs.begin(), runs.end(), newer);
    // A run whose status changed between two of the queries can be met twice.
    runs.erase(std::unique(runs.begin(), runs.end(),
                           [](const RunRecord& a, const RunRecord& b) { return a.id == b.id; }),
               runs.end());
  }
  if (runs.size() > query.limit) {
    runs.resize(query.limit);
    page.next = RunCursor{runs.back().created_us, runs.back().id};
  }
  page.runs = std::move(runs);
  return page;
}

Status SqlStateStore::SaveAttempts(std::span<const AttemptRecord> attempts) {
  if (attempts.empty()) return Status::Ok();
  Result<AttemptBatch> made = AttemptBatch::Make(attempts);
  if (!made.ok()) return made.status();
  AttemptBatch& batch = *made;
  const std::vector<AttemptRecord>& normalized = batch.attempts();
  const AttemptRecord& first = normalized.front();
  const std::string what =
      normalized.size() == 1
          ? DescribeAttempt(first.run, first.task, first.attempt)
          : std::to_string(normalized.size()) + " task attempts of " + DescribeRun(first.run);
  const WriteErrors errors = SaveErrors(what);
  return database_->Write(
      errors,
      [&](WriterSession& writer) {
        attempts_->Write(batch, writer);
        return Status::Ok();
      },
      /*in_transaction=*/attempts_->TakesSeveralStatements(batch));
}

Status SqlStateStore::SaveAttemptsAndUpdateRun(std::span<const AttemptRecord> attempts,
                                               const RunRecord& run) {
  if (attempts.empty()) return UpdateRun(run);
  Result<RunRecord> normalized = NormalizeRun(run);
  if (!normalized.ok()) return normalized.status();
  const RunRecord& r = *normalized;
  Result<AttemptBatch> made = AttemptBatch::Make(attempts);
  if (!made.ok()) return made.status();
  AttemptBatch& batch = *made;
  const std::string what = std::to_string(batch.attempts().size()) + " task attempts and the " +
                           "state of " + DescribeRun(r.id);
  const WriteErrors errors = SaveErrors(what);
  return database_->Write(
      errors,
      [&](WriterSession& writer) {
        attempts_->Write(batch, writer);
        return UpdateRunIn(writer, r);
      },
      /*in_transaction=*/true);
}

Result<std::vector<AttemptRecord>> SqlStateStore::ListAttempts(const RunId& run) {
  std::vector<AttemptRecord> attempts;
  const std::string sql = ListAttemptsSql(dialect_);
  Status status = database_->Read(
      "cannot list the attempts of " + DescribeRun(run), [&](soci::session& session) {
        return ReadRows<AttemptRow>(
            session, sql, [&](Query& query) { query.Use(run.str(), "run"); },
            [&](const AttemptRow& row) { return row.ToRecord(run); }, attempts);
      });
  if (!status.ok()) return status;
  return attempts;
}

Status SqlStateStore::AppendLog(const LogChunk& chunk) {
  PETIT_RETURN_IF_ERROR(CheckLogChunk(chunk));
  const std::string what = DescribeChunk(chunk);
  const WriteErrors errors{"cannot append " + what, what + " already exists",
                           "cannot append " + what + ": the run does not exist"};
  std::string data = LogDataParam(dialect_, chunk);
  return database_->Write(errors, [&](WriterSession& writer) {
    LogParams& log = params_->log;
    log.Fill(chunk, std::move(data));
    Prepared(writer, WriteStatement::kInsertLog, *params_).execute(true);
    // The parameter would otherwise keep the largest chunk ever written alive.
    std::string().swap(log.data);
    return Status::Ok();
  });
}

Result<std::vector<LogChunk>> SqlStateStore::ReadLogs(const RunId& run, const LogQuery& query) {
  std::vector<LogChunk> chunks;
  if (query.limit == 0) return chunks;
  const std::string sql = ReadLogsSql(dialect_, query);
  const long long attempt = query.attempt;
  const long long after_attempt = query.after.has_value() ? query.after->attempt : 0;
  const long long after_seq = query.after.has_value() ? query.after->seq : 0;
  const long long sql_limit = SqlLimit(query.limit);
  const std::string operation =
      "cannot read the logs of " + (query.task.empty()
                                        ? DescribeRun(run)
                                        : "task '" + query.task.str() + "' of " + DescribeRun(run));
  Status status = database_->Read(operation, [&](soci::session& session) {
    return ReadRows<LogRow>(
        session, sql,
        [&](Query& select) {
          select.Use(run.str(), "run");
          if (!query.task.empty()) select.Use(query.task.str(), "task");
          if (query.attempt != 0) select.Use(attempt, "attempt");
          if (query.after.has_value()) {
            select.Use(query.after->task.str(), "after_task")
                .Use(after_attempt, "after_attempt")
                .Use(after_seq, "after_seq");
          }
          select.Use(sql_limit, "limit");
        },
        [&](LogRow& row) { return row.ToRecord(run, dialect_); }, chunks);
  });
  if (!status.ok()) return status;
  return chunks;
}

Result<std::vector<RunRecord>> SqlStateStore::ListIncompleteRuns() {
  std::vector<RunRecord> runs;
  const std::string sql = ListIncompleteRunsSql(dialect_);
  Status status = database_->Read("cannot list the incomplete runs", [&](soci::session& session) {
    return ReadRuns(
        session, sql, [](Query&) {}, runs);
  });
  if (!status.ok()) return status;
  return runs;
}

Status SqlStateStore::MarkInterrupted(const RunId& run, std::string_view reason, int64_t ended_us) {
  PETIT_RETURN_IF_ERROR(CheckRunId(run));
  const std::string error = SanitizeText(reason);
  const WriteErrors errors{"cannot mark " + DescribeRun(run) + " interrupted", "", ""};
  return database_->Write(
      errors,
      [&](WriterSession& writer) {
        InterruptParams& interrupt = params_->interrupt;
        interrupt.run_id = run.str();
        interrupt.ended_at = ended_us;
        interrupt.error = error;
        soci::statement& interrupt_run = Prepared(writer, WriteStatement::kInterruptRun, *params_);
        interrupt_run.execute(true);
        if (interrupt_run.get_affected_rows() == 0) {
          return WhyRunUnchanged(writer.session(), run, RunAlreadyEnded);
        }
        Prepared(writer, WriteStatement::kInterruptAttempts, *params_).execute(true);
        return Status::Ok();
      },
      /*in_transaction=*/true);
}

Result<std::vector<AttemptKey>> SqlStateStore::InterruptStrandedAttempts(std::string_view reason,
                                                                         int64_t ended_us) {
  const std::string error = SanitizeText(reason);
  const std::string select = StrandedAttemptsSql();
  const std::string update = InterruptStrandedAttemptsSql(dialect_);
  std::vector<AttemptKey> stranded;
  const WriteErrors errors{"cannot interrupt the attempts stranded in ended runs", "", ""};
  Status status = database_->Write(
      errors,
      [&](WriterSession& writer) {
        std::string run;
        std::string task;
        long long attempt = 0;
        Status bad_row;
        Query query(writer.session());
        query.Into(run).Into(task).Into(attempt).ForEachRow(select, [&] {
          Result<RunId> id = RunId::Parse(run);
          if (!id.ok()) {
            bad_row = Internal("stored attempt of run '" + run + "': " + id.status().message());
            return;
          }
          stranded.push_back({*id, TaskId(task), static_cast<uint32_t>(attempt)});
        });
        PETIT_RETURN_IF_ERROR(bad_row);
        if (stranded.empty()) return Status::Ok();
        const long long ended_at = ended_us;
        writer.session() << update, soci::use(ended_at, "ended_at"), soci::use(error, "error");
        return Status::Ok();
      },
      /*in_transaction=*/true);
  if (!status.ok()) return status;
  return stranded;
}

Status SqlStateStore::ReopenRun(const RunId& run, std::string_view owner, int64_t reopened_us) {
  PETIT_RETURN_IF_ERROR(CheckRunId(run));
  const std::string new_owner = SanitizeText(owner);
  const WriteErrors errors{"cannot reopen " + DescribeRun(run), "", ""};
  return database_->Write(
      errors,
      [&](WriterSession& writer) {
        ReopenParams& reopen = params_->reopen;
        reopen.run_id = run.str();
        reopen.owner = new_owner;
        reopen.retried_at = reopened_us;
        soci::statement& reopen_run = Prepared(writer, WriteStatement::kReopenRun, *params_);
        reopen_run.execute(true);
        if (reopen_run.get_affected_rows() == 0) {
          return WhyRunUnchanged(writer.session(), run, RunNotEnded);
        }
        return Status::Ok();
      },
      // Only for the explanation of a refusal, which must see what the update saw.
      /*in_transaction=*/true);
}

Result<RunAdmission> SqlStateStore::AdmitReopen(const RunId& run, std::string_view owner,
                                                int64_t reopened_us, uint32_t max_active_runs) {
  PETIT_RETURN_IF_ERROR(CheckRunId(run));
  const std::string new_owner = SanitizeText(owner);
  const WriteErrors errors{"cannot reopen " + DescribeRun(run), "", ""};
  RunAdmission admission;
  Status status = database_->WriteExclusive(errors, [&](WriterSession& writer) {
    admission = RunAdmission{.max_active_runs = max_active_runs};
    soci::session& session = writer.session();
    std::string job;
    std::string stored_status;
    bool found = false;
    Query query(session);
    query.Into(job).Into(stored_status).Use(run.str(), "id");
    query.ForEachRow(RunJobAndStatusSql(), [&] { found = true; });
    if (!found) return NotFound(DescribeRun(run) + " does not exist");
    Result<RunStatus> run_status = ParseRunStatus(stored_status);
    if (!run_status.ok()) {
      return Internal("stored " + DescribeRun(run) + ": " + run_status.status().message());
    }
    if (!IsTerminal(*run_status)) return RunNotEnded(run, *run_status);
    LockAdmissions(session, dialect_, JobId(job));
    CountActiveRuns(writer, *params_, job, admission);
    if (!admission.admitted()) return Status::Ok();
    ReopenParams& reopen = params_->reopen;
    reopen.run_id = run.str();
    reopen.owner = new_owner;
    reopen.retried_at = reopened_us;
    soci::statement& reopen_run = Prepared(writer, WriteStatement::kReopenRun, *params_);
    reopen_run.execute(true);
    if (reopen_run.get_affected_rows() == 0) return WhyRunUnchanged(session, run, RunNotEnded);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return admission;
}

Result<bool> SqlStateStore::TakeOverRun(const RunId& run, std::string_view dead_owner,
                                        std::string_view new_owner, std::string_view reason,
                                        int64_t now_us) {
  PETIT_RETURN_IF_ERROR(CheckRunId(run));
  // Owners are stored sanitised: the dead one is compared as stored.
  const std::string expected_owner = SanitizeText(dead_owner);
  const std::string owner = SanitizeText(new_owner);
  const std::string error = SanitizeText(reason);
  const std::string take_over = TakeOverRunSql(dialect_);
  const WriteErrors errors{"cannot take over " + DescribeRun(run), "", ""};
  bool taken = false;
  Status status = database_->Write(
      errors,
      [&](WriterSession& writer) {
        taken = false;
        soci::session& session = writer.session();
        const std::string id = run.str();
        const long long retried_at = now_us;
        soci::statement update = (session.prepare << take_over, soci::use(owner, "owner"),
                                  soci::use(retried_at, "retried_at"), soci::use(id, "run_id"),
                                  soci::use(expected_owner, "dead_owner"));
        update.execute(true);
        if (update.get_affected_rows() == 0) {
          // Ended, or another owner's: refused. Only an unknown run is an error.
          Status why = WhyRunUnchanged(session, run, RunAlreadyEnded);
          return why.code() == StatusCode::kNotFound ? why : Status::Ok();
        }
        InterruptParams& interrupt = params_->interrupt;
        interrupt.run_id = id;
        interrupt.ended_at = now_us;
        interrupt.error = error;
        Prepared(writer, WriteStatement::kInterruptAttempts, *params_).execute(true);
        taken = true;
        return Status::Ok();
      },
      /*in_transaction=*/true);
  if (!status.ok()) return status;
  return taken;
}

Result<std::optional<RunRecord>> SqlStateStore::LastRun(const JobId& job,
                                                        std::span<const RunStatus> statuses,
                                                        int64_t ended_since_us) {
  std::vector<RunRecord> runs;
  if (statuses.empty()) return std::optional<RunRecord>();
  std::vector<std::string> names;
  names.reserve(statuses.size());
  for (const RunStatus status : statuses) names.emplace_back(RunStatusName(status));
  // A run not ended yet counts as ended at 0.
  const std::string sql = LastRunSql(dialect_, statuses, /*count_unended=*/ended_since_us <= 0);
  const long long since = ended_since_us;
  Status status = database_->Read("cannot find the last run of " + DescribeJob(job),
                                  [&](soci::session& session) {
                                    return ReadRuns(
                                        session, sql,
                                        [&](Query& query) {
                                          query.Use(job.str(), "job");
                                          for (size_t i = 0; i < names.size(); ++i) {
                                            query.Use(names[i], "status" + std::to_string(i));
                                          }
                                          query.Use(since, "since");
                                        },
                                        runs);
                                  });
  if (!status.ok()) return status;
  if (runs.empty()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(std::move(runs.front()));
}

Status SqlStateStore::SaveJob(const JobRecord& job) {
  PETIT_RETURN_IF_ERROR(CheckJobId(job.id));
  const WriteErrors errors{"cannot save " + DescribeJob(job.id), "", ""};
  return database_->Write(errors, [&](WriterSession& writer) {
    params_->job.Fill(job);
    Prepared(writer, WriteStatement::kUpsertJob, *params_).execute(true);
    return Status::Ok();
  });
}

Status SqlStateStore::SaveJobs(std::span<const JobRecord> jobs) {
  if (jobs.size() <= 1) return StateStore::SaveJobs(jobs);
  for (const JobRecord& job : jobs) PETIT_RETURN_IF_ERROR(CheckJobId(job.id));
  const WriteErrors errors{"cannot save " + std::to_string(jobs.size()) + " jobs", "", ""};
  return database_->Write(
      errors,
      [&](WriterSession& writer) {
        for (const JobRecord& job : jobs) {
          params_->job.Fill(job);
          Prepared(writer, WriteStatement::kUpsertJob, *params_).execute(true);
        }
        return Status::Ok();
      },
      /*in_transaction=*/true);
}

Result<std::optional<JobRecord>> SqlStateStore::GetJob(const JobId& id) {
  std::vector<JobRecord> jobs;
  const std::string sql = SelectJobSql(dialect_);
  Status status = database_->Read("cannot read " + DescribeJob(id), [&](soci::session& session) {
    return ReadJobs(
        session, sql, [&](Query& query) { query.Use(id.str(), "id"); }, jobs);
  });
  if (!status.ok()) return status;
  if (jobs.empty()) return std::optional<JobRecord>();
  return std::optional<JobRecord>(std::move(jobs.front()));
}

Result<std::vector<JobRecord>> SqlStateStore::ListJobs() {
  std::vector<JobRecord> jobs;
  const std::string sql = ListJobsSql(dialect_);
  Status status = database_->Read("cannot list jobs", [&](soci::session& session) {
    return ReadJobs(
        session, sql, [](Query&) {}, jobs);
  });
  if (!status.ok()) return status;
  return jobs;
}

Status SqlStateStore::SaveScheduler(const SchedulerRecord& scheduler) {
  const WriteErrors errors{"cannot save the scheduler state", "", ""};
  const std::string sql = UpsertSchedulerSql(dialect_);
  return database_->Write(errors, [&](WriterSession& writer) {
    const long long paused = scheduler.paused ? 1 : 0;
    const long long updated_at = scheduler.updated_us;
    writer.session() << sql, soci::use(paused, "paused"), soci::use(updated_at, "updated_at");
    return Status::Ok();
  });
}

Result<SchedulerRecord> SqlStateStore::GetScheduler() {
  SchedulerRecord record;
  const std::string sql = SelectSchedulerSql(dialect_);
  Status status = database_->Read("cannot read the scheduler state", [&](soci::session& session) {
    long long paused = 0;
    long long updated_at = 0;
    Query query(session);
    query.Into(paused).Into(updated_at);
    query.ForEachRow(sql, [&] {
      record.paused = paused != 0;
      record.updated_us = updated_at;
    });
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return record;
}

void SqlStateStore::SetLostListener(std::function<void(const Status&)> listener) {
  database_->SetLostListener(std::move(listener));
}

Result<std::unique_ptr<HostLock>> SqlStateStore::AcquireHostLock(std::string_view owner) {
  PETIT_RETURN_IF_ERROR(CheckHostLockOwner(owner));
  if (dialect_ == Dialect::kSqlite) {
    return AcquireSqliteHostLock(database_->target(), owner, database_->display());
  }
  Result<std::unique_ptr<soci::session>> session = database_->OpenSession();
  if (!session.ok()) return session.status().WithContext("cannot take the host lock");
  const PostgresqlClient* client = InstalledPostgresqlClient();
  if (client == nullptr) return Internal("this binary has no PostgreSQL client");
  return client->AcquireHostLock(std::move(session).value(), owner, database_->display());
}

}  // namespace petit::storage::internal

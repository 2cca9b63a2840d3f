#include "sql/row_mapping.h"

#include <soci/soci.h>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "src/records.h"
#include "src/text_codec.h"

namespace petit::storage::internal {
namespace {

Result<uint32_t> ToUint32(long long value, std::string_view what) {
  if (value < 0 || value > std::numeric_limits<uint32_t>::max()) {
    return Internal("stored " + std::string(what) + " " + std::to_string(value) +
                    " is out of range");
  }
  return static_cast<uint32_t>(value);
}

}  // namespace

void RunRow::Bind(Query& query) {
  query.Into(id)
      .Into(job)
      .Into(status)
      .Into(trigger)
      .Into(owner)
      .Into(created_at)
      .Into(started_at)
      .Into(ended_at)
      .Into(error)
      .Into(retries)
      .Into(retried_at)
      .Into(occurrence_at);
}

Result<RunRecord> RunRow::ToRecord() const {
  Result<RunId> run_id = RunId::Parse(id);
  if (!run_id.ok()) {
    return Internal("stored run id '" + SanitizeText(id) +
                    "' is not valid: " + run_id.status().message());
  }
  Result<RunStatus> run_status = ParseRunStatus(status);
  if (!run_status.ok()) {
    return Internal("stored " + DescribeRun(*run_id) + ": " + run_status.status().message());
  }
  Result<uint32_t> retry_count = ToUint32(retries, "retry count");
  if (!retry_count.ok()) return retry_count.status().WithContext("stored " + DescribeRun(*run_id));
  RunRecord record;
  record.id = std::move(run_id).value();
  record.job = JobId(job);
  record.status = *run_status;
  record.trigger = trigger;
  record.owner = owner;
  record.created_us = created_at;
  record.started_us = started_at;
  record.ended_us = ended_at;
  record.error = error;
  record.retries = *retry_count;
  record.retried_us = retried_at;
  record.occurrence_us = occurrence_at;
  return record;
}

void AttemptRow::Bind(Query& query) {
  query.Into(task)
      .Into(attempt)
      .Into(state)
      .Into(queued_at)
      .Into(started_at)
      .Into(ended_at)
      .Into(exit_code, exit_code_indicator)
      .Into(error)
      .Into(outputs);
}

Result<AttemptRecord> AttemptRow::ToRecord(const RunId& run) const {
  AttemptRecord record;
  record.run = run;
  record.task = TaskId(task);
  Result<uint32_t> number = ToUint32(attempt, "attempt number");
  if (!number.ok()) return number.status();
  record.attempt = *number;
  const std::string what = DescribeAttempt(run, record.task, record.attempt);
  Result<TaskState> task_state = ParseTaskState(state);
  if (!task_state.ok()) {
    return Internal("stored " + what + ": " + task_state.status().message());
  }
  record.state = *task_state;
  record.queued_us = queued_at;
  record.started_us = started_at;
  record.ended_us = ended_at;
  if (exit_code_indicator == soci::i_ok) record.exit_code = exit_code;
  record.error = error;
  Result<ValueMap> decoded = DecodeOutputs(outputs);
  if (!decoded.ok()) return decoded.status().WithContext("stored " + what);
  record.outputs = std::move(decoded).value();
  return record;
}

void LogRow::Bind(Query& query) {
  query.Into(task).Into(attempt).Into(seq).Into(stream).Into(data);
}

Result<LogChunk> LogRow::ToRecord(const RunId& run, Dialect dialect) {
  LogChunk chunk;
  chunk.run = run;
  chunk.task = TaskId(task);
  Result<uint32_t> attempt_number = ToUint32(attempt, "attempt number");
  if (!attempt_number.ok()) return attempt_number.status();
  Result<uint32_t> seq_number = ToUint32(seq, "log sequence number");
  if (!seq_number.ok()) return seq_number.status();
  Result<OutputStream> output_stream = StreamFromStored(stream);
  if (!output_stream.ok()) return output_stream.status();
  chunk.attempt = *attempt_number;
  chunk.seq = *seq_number;
  chunk.stream = *output_stream;
  if (!BytesTravelAsHex(dialect)) {
    chunk.data = std::move(data);
    return chunk;
  }
  Result<std::string> bytes = HexDecode(data);
  if (!bytes.ok()) return bytes.status().WithContext("stored " + DescribeChunk(chunk));
  chunk.data = std::move(bytes).value();
  return chunk;
}

void JobRow::Bind(Query& query) { query.Into(id).Into(paused).Into(last_fire_at).Into(updated_at); }

JobRecord JobRow::ToRecord() const {
  JobRecord job;
  job.id = JobId(id);
  job.paused = paused != 0;
  job.last_fire_us = last_fire_at;
  job.updated_us = updated_at;
  return job;
}

long long SqlLimit(size_t limit) {
  constexpr auto kMax = static_cast<size_t>(std::numeric_limits<long long>::max());
  return static_cast<long long>(std::min(limit, kMax));
}

void RunParams::Fill(const RunRecord& run) {
  run_id = run.id.str();
  job_id = run.job.str();
  status = std::string(RunStatusName(run.status));
  triggered_by = run.trigger;
  owner = run.owner;
  created_at = run.created_us;
  started_at = run.started_us;
  ended_at = run.ended_us;
  error = run.error;
  retries = run.retries;
  retried_at = run.retried_us;
  occurrence_at = run.occurrence_us;
}

void LogParams::Fill(const LogChunk& chunk, std::string&& travelling_data) {
  run_id = chunk.run.str();
  task_id = chunk.task.str();
  attempt = chunk.attempt;
  seq = chunk.seq;
  stream = static_cast<long long>(chunk.stream);
  data = std::move(travelling_data);
}

std::string LogDataParam(Dialect dialect, const LogChunk& chunk) {
  if (BytesTravelAsHex(dialect)) return HexEncode(chunk.data);
  return chunk.data;
}

void JobParams::Fill(const JobRecord& job) {
  job_id = job.id.str();
  paused = job.paused ? 1 : 0;
  last_fire_at = job.last_fire_us;
  updated_at = job.updated_us;
}

void BindWriteParams(WriteStatement statement, WriteParams& params, soci::statement& prepared) {
  RunParams& run = params.run;
  InterruptParams& interrupt = params.interrupt;
  switch (statement) {
    case WriteStatement::kInsertRun:
      prepared.exchange(soci::use(run.run_id, "run_id"));
      prepared.exchange(soci::use(run.job_id, "job_id"));
      prepared.exchange(soci::use(run.status, "status"));
      prepared.exchange(soci::use(run.triggered_by, "triggered_by"));
      prepared.exchange(soci::use(run.owner, "owner"));
      prepared.exchange(soci::use(run.created_at, "created_at"));
      prepared.exchange(soci::use(run.started_at, "started_at"));
      prepared.exchange(soci::use(run.ended_at, "ended_at"));
      prepared.exchange(soci::use(run.error, "error"));
      prepared.exchange(soci::use(run.retries, "retries"));
      prepared.exchange(soci::use(run.retried_at, "retried_at"));
      prepared.exchange(soci::use(run.occurrence_at, "occurrence_at"));
      return;
    case WriteStatement::kUpdateRun:
      prepared.exchange(soci::use(run.status, "status"));
      prepared.exchange(soci::use(run.started_at, "started_at"));
      prepared.exchange(soci::use(run.ended_at, "ended_at"));
      prepared.exchange(soci::use(run.error, "error"));
      prepared.exchange(soci::use(run.run_id, "run_id"));
      return;
    case WriteStatement::kInsertLog: {
      LogParams& log = params.log;
      prepared.exchange(soci::use(log.run_id, "run_id"));
      prepared.exchange(soci::use(log.task_id, "task_id"));
      prepared.exchange(soci::use(log.attempt, "attempt"));
      prepared.exchange(soci::use(log.seq, "seq"));
      prepared.exchange(soci::use(log.stream, "stream"));
      prepared.exchange(soci::use(log.data, "data"));
      return;
    }
    case WriteStatement::kInterruptRun:
    case WriteStatement::kInterruptAttempts:
      prepared.exchange(soci::use(interrupt.ended_at, "ended_at"));
      prepared.exchange(soci::use(interrupt.error, "error"));
      prepared.exchange(soci::use(interrupt.run_id, "run_id"));
      return;
    case WriteStatement::kReopenRun: {
      ReopenParams& reopen = params.reopen;
      prepared.exchange(soci::use(reopen.owner, "owner"));
      prepared.exchange(soci::use(reopen.retried_at, "retried_at"));
      prepared.exchange(soci::use(reopen.run_id, "run_id"));
      return;
    }
    case WriteStatement::kUpsertJob: {
      JobParams& job = params.job;
      prepared.exchange(soci::use(job.job_id, "job_id"));
      prepared.exchange(soci::use(job.paused, "paused"));
      prepared.exchange(soci::use(job.last_fire_at, "last_fire_at"));
      prepared.exchange(soci::use(job.updated_at, "updated_at"));
      return;
    }
    case WriteStatement::kOccurrenceRun: {
      AdmitParams& admit = params.admit;
      prepared.exchange(soci::into(admit.id));
      prepared.exchange(soci::into(admit.owner));
      prepared.exchange(soci::use(admit.job, "job"));
      prepared.exchange(soci::use(admit.occurrence_at, "occurrence_at"));
      return;
    }
    case WriteStatement::kActiveRunsOfJob: {
      AdmitParams& admit = params.admit;
      prepared.exchange(soci::into(admit.id));
      prepared.exchange(soci::use(admit.job, "job"));
      return;
    }
    case WriteStatement::kSavepoint:
    case WriteStatement::kReleaseSavepoint:
      return;
    case WriteStatement::kUpsertAttemptArrays:
    case WriteStatement::kUpsertAttemptRows1:
    case WriteStatement::kUpsertAttemptRows2:
    case WriteStatement::kUpsertAttemptRows4:
    case WriteStatement::kUpsertAttemptRows8:
    case WriteStatement::kUpsertAttemptRows16:
    case WriteStatement::kUpsertAttemptRows32:
    case WriteStatement::kUpsertAttemptRows64:
      break;
  }
  assert(false && "the attempt upserts bind AttemptParams, not WriteParams");
}

void AttemptParams::Fill(const AttemptRecord& a, std::string&& encoded_outputs) {
  run_id = a.run.str();
  task_id = a.task.str();
  attempt = a.attempt;
  state = TaskStateName(a.state);
  queued_at = a.queued_us;
  started_at = a.started_us;
  ended_at = a.ended_us;
  exit_code = a.exit_code.value_or(0);
  exit_code_indicator = a.exit_code.has_value() ? soci::i_ok : soci::i_null;
  error = a.error;
  outputs = std::move(encoded_outputs);
}

void AttemptParams::Bind(size_t row, soci::statement& prepared) {
  const std::string n = std::to_string(row);
  prepared.exchange(soci::use(run_id, "run_id" + n));
  prepared.exchange(soci::use(task_id, "task_id" + n));
  prepared.exchange(soci::use(attempt, "attempt" + n));
  prepared.exchange(soci::use(state, "state" + n));
  prepared.exchange(soci::use(queued_at, "queued_at" + n));
  prepared.exchange(soci::use(started_at, "started_at" + n));
  prepared.exchange(soci::use(ended_at, "ended_at" + n));
  prepared.exchange(soci::use(exit_code, exit_code_indicator, "exit_code" + n));
  prepared.exchange(soci::use(error, "error" + n));
  prepared.exchange(soci::use(outputs, "outputs" + n));
}

namespace {
thread_local ReadStatementCache* t_read_cache = nullptr;
}  // namespace

PreparedRead& ReadStatementCache::Get(soci::session& session, const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return *it->second;
  if (statements_.size() >= kMaxStatements) statements_.clear();
  return *statements_.emplace(sql, std::make_unique<PreparedRead>(session)).first->second;
}

ReadStatementCache* ReadStatementCache::Current() { return t_read_cache; }

ReadStatementCache::Scope::Scope(ReadStatementCache* cache) : previous_(t_read_cache) {
  t_read_cache = cache;
}

ReadStatementCache::Scope::~Scope() { t_read_cache = previous_; }

}  // namespace petit::storage::internal

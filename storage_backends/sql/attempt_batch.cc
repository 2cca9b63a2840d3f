#include "sql/attempt_batch.h"

#include <soci/soci.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "src/records.h"
#include "src/text_codec.h"

namespace petit::storage::internal {
namespace {

// The indexes of the last record of each (run, task, attempt) key, in order.
std::vector<size_t> LastOfEachKey(const std::vector<AttemptRecord>& records) {
  std::vector<size_t> rows;
  rows.reserve(records.size());
  if (records.size() == 1) {
    rows.push_back(0);
    return rows;
  }
  // Ids hold no NUL (CheckId), so NUL separates the parts unambiguously.
  std::unordered_set<std::string> seen;
  seen.reserve(records.size());
  for (size_t i = records.size(); i-- > 0;) {
    const AttemptRecord& r = records[i];
    std::string key = r.run.str();
    key.push_back('\0');
    key += r.task.str();
    key.push_back('\0');
    key += std::to_string(r.attempt);
    if (seen.insert(std::move(key)).second) rows.push_back(i);
  }
  std::reverse(rows.begin(), rows.end());
  return rows;
}

// The number of statements that write `rows` attempts: full chunks, then one per set bit.
size_t AttemptRowStatements(size_t rows) {
  return rows / kMaxAttemptRows + static_cast<size_t>(std::popcount(rows % kMaxAttemptRows));
}

// Builds one PostgreSQL array literal: '{"a\"b",NULL}'. Every text element is quoted, so only
// quotes and backslashes need escaping; text never holds NUL (SanitizeText, CheckId, JSON).
class ArrayLiteral {
 public:
  explicit ArrayLiteral(std::string& out) : out_(out) { out_.assign(1, '{'); }
  ~ArrayLiteral() { out_.push_back('}'); }
  ArrayLiteral(const ArrayLiteral&) = delete;
  ArrayLiteral& operator=(const ArrayLiteral&) = delete;

  void Text(std::string_view text) {
    Separate();
    out_.push_back('"');
    for (const char c : text) {
      if (c == '"' || c == '\\') out_.push_back('\\');
      out_.push_back(c);
    }
    out_.push_back('"');
  }
  void Number(long long value) {
    Separate();
    out_ += std::to_string(value);
  }
  void Null() {
    Separate();
    out_ += "NULL";
  }

 private:
  void Separate() {
    if (out_.size() > 1) out_.push_back(',');
  }
  std::string& out_;
};

// A parameter keeps its capacity for the next write, unless that would pin a rare huge batch.
void ReleaseIfLarge(std::string& parameter) {
  constexpr size_t kKeptBytes = 64 * 1024;
  if (parameter.capacity() > kKeptBytes) std::string().swap(parameter);
}

}  // namespace

Result<AttemptBatch> AttemptBatch::Make(std::span<const AttemptRecord> attempts) {
  AttemptBatch batch;
  batch.attempts_.reserve(attempts.size());
  batch.outputs_.reserve(attempts.size());
  for (const AttemptRecord& attempt : attempts) {
    Result<AttemptRecord> record = NormalizeAttempt(attempt);
    if (!record.ok()) return record.status();
    batch.outputs_.push_back(EncodeOutputs(record->outputs));
    batch.attempts_.push_back(std::move(record).value());
  }
  batch.rows_ = LastOfEachKey(batch.attempts_);
  return batch;
}

bool AttemptBatchWriter::AsArrays(const AttemptBatch& batch) const {
  return dialect_ == Dialect::kPostgresql && batch.rows_.size() > 1;
}

bool AttemptBatchWriter::TakesSeveralStatements(const AttemptBatch& batch) const {
  return !AsArrays(batch) && AttemptRowStatements(batch.rows_.size()) > 1;
}

void AttemptBatchWriter::Write(AttemptBatch& batch, WriterSession& writer) {
  if (AsArrays(batch)) {
    WriteArrays(batch, writer);
  } else {
    WriteRows(batch, writer);
  }
}

void AttemptBatchWriter::Arrays::Bind(soci::statement& prepared) {
  prepared.exchange(soci::use(run_ids, "run_ids"));
  prepared.exchange(soci::use(task_ids, "task_ids"));
  prepared.exchange(soci::use(attempts, "attempts"));
  prepared.exchange(soci::use(states, "states"));
  prepared.exchange(soci::use(queued_ats, "queued_ats"));
  prepared.exchange(soci::use(started_ats, "started_ats"));
  prepared.exchange(soci::use(ended_ats, "ended_ats"));
  prepared.exchange(soci::use(exit_codes, "exit_codes"));
  prepared.exchange(soci::use(errors, "errors"));
  prepared.exchange(soci::use(outputs, "outputs"));
}

void AttemptBatchWriter::WriteArrays(const AttemptBatch& batch, WriterSession& writer) {
  {
    ArrayLiteral run_ids(arrays_.run_ids);
    ArrayLiteral task_ids(arrays_.task_ids);
    ArrayLiteral attempts(arrays_.attempts);
    ArrayLiteral states(arrays_.states);
    ArrayLiteral queued_ats(arrays_.queued_ats);
    ArrayLiteral started_ats(arrays_.started_ats);
    ArrayLiteral ended_ats(arrays_.ended_ats);
    ArrayLiteral exit_codes(arrays_.exit_codes);
    ArrayLiteral errors(arrays_.errors);
    ArrayLiteral outputs(arrays_.outputs);
    for (const size_t row : batch.rows_) {
      const AttemptRecord& a = batch.attempts_[row];
      run_ids.Text(a.run.str());
      task_ids.Text(a.task.str());
      attempts.Number(a.attempt);
      states.Text(TaskStateName(a.state));
      queued_ats.Number(a.queued_us);
      started_ats.Number(a.started_us);
      ended_ats.Number(a.ended_us);
      if (a.exit_code.has_value()) {
        exit_codes.Number(*a.exit_code);
      } else {
        exit_codes.Null();
      }
      errors.Text(a.error);
      outputs.Text(batch.outputs_[row]);
    }
  }
  writer
      .Prepared(WriteStatement::kUpsertAttemptArrays,
                [this](soci::statement& prepared) { arrays_.Bind(prepared); })
      .execute(true);
  Arrays& p = arrays_;
  for (std::string* array : {&p.run_ids, &p.task_ids, &p.attempts, &p.states, &p.queued_ats,
                             &p.started_ats, &p.ended_ats, &p.exit_codes, &p.errors, &p.outputs}) {
    ReleaseIfLarge(*array);
  }
}

void AttemptBatchWriter::WriteRows(AttemptBatch& batch, WriterSession& writer) {
  const std::vector<size_t>& rows = batch.rows_;
  for (size_t done = 0; done < rows.size();) {
    const size_t chunk = std::bit_floor(std::min(rows.size() - done, kMaxAttemptRows));
    for (size_t i = 0; i < chunk; ++i) {
      const size_t row = rows[done + i];
      rows_.at(i).Fill(batch.attempts_[row], std::move(batch.outputs_[row]));
    }
    writer
        .Prepared(UpsertAttemptRows(chunk),
                  [this, chunk](soci::statement& prepared) {
                    for (size_t i = 0; i < chunk; ++i) rows_.at(i).Bind(i, prepared);
                  })
        .execute(true);
    done += chunk;
  }
  for (AttemptParams& row : rows_) {
    ReleaseIfLarge(row.error);
    ReleaseIfLarge(row.outputs);
  }
}

}  // namespace petit::storage::internal

// The batched attempt upserts behind StateStore::SaveAttempts: a batch is written in as few
// statements as the dialect allows. PostgreSQL takes it in one upsert of array parameters, one
// round trip however many attempts there are; SQLite, in process, gains nothing from parsing arrays
// and takes multi-row upserts of 64, 32, ..., 2 or 1 rows (kUpsertAttemptRows*).
//
// Ownership: an AttemptBatch owns copies of its records. An AttemptBatchWriter owns the parameters
// its prepared statements are bound to, so it must outlive the Database it writes through.
// Threads: an AttemptBatch is a plain value. An AttemptBatchWriter serves one write at a time: it
// is used only inside Database::Write, under the write lock.
#ifndef PETIT_STORAGE_SQL_ATTEMPT_BATCH_H_
#define PETIT_STORAGE_SQL_ATTEMPT_BATCH_H_

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "petit/core/state_store.h"
#include "petit/core/status.h"
#include "sql/database.h"
#include "sql/dialect.h"
#include "sql/row_mapping.h"
#include "sql/statements.h"

namespace petit::storage::internal {

// The attempts of one SaveAttempts call, normalized (NormalizeAttempt) and with their outputs
// encoded, prepared outside the write lock. Only the last attempt of each (run, task, attempt) key
// is written, since it replaces the earlier ones as if all were applied in order; the keys written
// are then distinct, as one upsert statement requires (PostgreSQL cannot change a row twice in
// one).
class AttemptBatch {
 public:
  // kInvalidArgument if an attempt has an invalid id.
  static Result<AttemptBatch> Make(std::span<const AttemptRecord> attempts);

  // Every attempt, normalized, in the order given.
  const std::vector<AttemptRecord>& attempts() const { return attempts_; }

 private:
  friend class AttemptBatchWriter;

  std::vector<AttemptRecord> attempts_;
  std::vector<std::string> outputs_;  // attempts_[i].outputs encoded (EncodeOutputs)
  std::vector<size_t> rows_;          // the indexes of the attempts to write, in order
};

class AttemptBatchWriter {
 public:
  explicit AttemptBatchWriter(Dialect dialect) : dialect_(dialect) {}

  AttemptBatchWriter(const AttemptBatchWriter&) = delete;
  AttemptBatchWriter& operator=(const AttemptBatchWriter&) = delete;

  // Whether `batch` takes more than one statement; they must then share a transaction.
  bool TakesSeveralStatements(const AttemptBatch& batch) const;

  // Writes `batch` on `writer`, moving its encoded outputs out. Throws soci::soci_error.
  void Write(AttemptBatch& batch, WriterSession& writer);

 private:
  // The PostgreSQL array literals of kUpsertAttemptArrays, one element per attempt.
  struct Arrays {
    std::string run_ids;
    std::string task_ids;
    std::string attempts;
    std::string states;
    std::string queued_ats;
    std::string started_ats;
    std::string ended_ats;
    std::string exit_codes;
    std::string errors;
    std::string outputs;

    void Bind(soci::statement& prepared);
  };

  bool AsArrays(const AttemptBatch& batch) const;
  void WriteArrays(const AttemptBatch& batch, WriterSession& writer);
  void WriteRows(AttemptBatch& batch, WriterSession& writer);

  const Dialect dialect_;
  std::array<AttemptParams, kMaxAttemptRows> rows_;  // of kUpsertAttemptRows*
  Arrays arrays_;                                    // of kUpsertAttemptArrays
};

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SQL_ATTEMPT_BATCH_H_

// Checks and normalisation every backend applies to records before storing them, so that all
// backends accept, reject and return the same things.
#ifndef PETIT_STORAGE_SRC_RECORDS_H_
#define PETIT_STORAGE_SRC_RECORDS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "petit/core/state_store.h"
#include "petit/core/status.h"

namespace petit::storage::internal {

// Ids must be non-empty, valid UTF-8 and free of NUL; free text (trigger, owner, errors) is
// sanitized (see text_codec.h). Return the record as it will be stored.
Result<RunRecord> NormalizeRun(const RunRecord& run);
Result<AttemptRecord> NormalizeAttempt(const AttemptRecord& attempt);
// NormalizeAttempt for an attempt already checked (CheckRunId, CheckTaskId), written over
// `stored` field by field, so that a record replaced in place keeps its strings' storage.
void NormalizeAttemptInto(const AttemptRecord& attempt, AttemptRecord& stored);
// The same for everything but the key (run, task, attempt), which `stored` keeps.
void NormalizeAttemptValueInto(const AttemptRecord& attempt, AttemptRecord& stored);
Status CheckLogChunk(const LogChunk& chunk);
Status CheckRunId(const RunId& run);
Status CheckJobId(const JobId& job);
Status CheckTaskId(const TaskId& task);

// OutputStream is persisted as its numeric value (1 stdout, 2 stderr).
Result<OutputStream> StreamFromStored(int64_t value);

// For messages: "run 0190...", "job 'etl'", "attempt 2 of task 'extract' of run 0190...".
std::string DescribeRun(const RunId& run);
std::string DescribeJob(const JobId& job);
std::string DescribeAttempt(const RunId& run, const TaskId& task, uint32_t attempt);
std::string DescribeChunk(const LogChunk& chunk);
// "the occurrence 2026-12-02T00:00:05Z of job 'etl'" (UTC, microseconds shown when not 0).
std::string DescribeOccurrence(const JobId& job, int64_t occurrence_us);

// The error every backend returns alike when a run already ended: kFailedPrecondition.
Status RunAlreadyEnded(const RunId& run, RunStatus status);
// The error every backend returns alike when a run has not ended (yet): kFailedPrecondition.
Status RunNotEnded(const RunId& run, RunStatus status);

// A host lock owner is like an id (non-empty UTF-8 text without NUL) and at most this long, so a
// refused acquirer reads it whole.
constexpr size_t kMaxHostLockOwnerBytes = 1024;
Status CheckHostLockOwner(std::string_view owner);
// The refusal every backend returns alike, kFailedPrecondition: "the store <display> is in use by
// <holder>"; `holder` is whatever the store recorded (shown sanitized, on one line), empty when
// it recorded nothing.
Status HostLockRefused(std::string_view display, std::string_view holder);

}  // namespace petit::storage::internal

#endif  // PETIT_STORAGE_SRC_RECORDS_H_

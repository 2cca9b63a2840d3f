// Admission of a run started outside the daemon (`petit trigger`, `petit retry`): a job holds at
// most max_concurrency incomplete runs in one store, whichever process drives them.
//
// Call after recovery (runtime/recovery.h): every incomplete run left then belongs to a live
// process or to another host. Admission is the store's (StateStore::AdmitRun, AdmitReopen): the
// job's active runs are counted and the run created or reopened in one transaction, so processes
// admitting at the same instant never exceed the limit.
// Threads: as thread-safe as the store.
#ifndef PETIT_HOST_RUNTIME_ADMISSION_H_
#define PETIT_HOST_RUNTIME_ADMISSION_H_

#include <string>
#include <string_view>

#include "petit/core/clock.h"
#include "petit/core/job.h"
#include "petit/core/state_store.h"

namespace petit::host {

struct Admission {
  bool admitted = true;
  std::string refusal;  // why not, for the user, when !admitted
  RunRecord run;        // when admitted: the run as the store created (queued) or reopened it
};

// Creates run `run_id` of `job` (trigger "manual", owned by `owner`, created now) if the store
// admits it. Fails only when the store does.
Result<Admission> AdmitNewRun(StateStore& store, const Job& job, const RunId& run_id,
                              std::string_view owner, const Clock& clock);

// Reopens the ended run `run_id` of `job` for a retry, owned by `owner`, if the store admits it
// (StateStore::AdmitReopen). Fails when the store does, or as ReopenRun fails (kNotFound,
// kFailedPrecondition for a run that has not ended).
Result<Admission> AdmitRetry(StateStore& store, const Job& job, const RunId& run_id,
                             std::string_view owner, const Clock& clock);

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_ADMISSION_H_

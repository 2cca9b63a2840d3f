// Admission of a run started outside the daemon (`petit trigger`, `petit retry`): a job holds at
// most max_concurrency incomplete runs in one store, whichever process drives them.
//
// Call after recovery (runtime/recovery.h): every incomplete run left then belongs to a live
// process or to another host. A new run is admitted by the store itself (StateStore::AdmitRun):
// counted and created in one transaction, so processes admitting at the same instant never
// exceed the limit. A retry reopens an ended run instead, after counting the active runs: two
// retries at the same instant can both pass.
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
  RunRecord run;        // AdmitNewRun: the run as the store created it (queued), when admitted
};

// Creates run `run_id` of `job` (trigger "manual", owned by `owner`, created now) if the store
// admits it. Fails only when the store does.
Result<Admission> AdmitNewRun(StateStore& store, const Job& job, const RunId& run_id,
                              std::string_view owner, const Clock& clock);

// Whether an ended run of `job` may run again now. Fails only when the store does.
Result<Admission> AdmitRetry(StateStore& store, const Job& job);

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_ADMISSION_H_

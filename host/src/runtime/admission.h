// Admission of a run started outside the daemon (`petit trigger`): a job holds at most
// max_concurrency incomplete runs in one store, whichever process drives them.
//
// Call after recovery (runtime/recovery.h): every incomplete run left then belongs to a live
// process or to another host. Two processes admitting at the same instant can both pass; the
// daemon's scheduler admits its own runs exactly.
// Threads: as thread-safe as the store.
#ifndef PETIT_HOST_RUNTIME_ADMISSION_H_
#define PETIT_HOST_RUNTIME_ADMISSION_H_

#include <string>

#include "petit/core/job.h"
#include "petit/core/state_store.h"

namespace petit::host {

struct Admission {
  bool admitted = true;
  std::string refusal;  // why not, for the user, when !admitted
};

// Fails only when the store does.
Result<Admission> AdmitRun(StateStore& store, const Job& job);

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_ADMISSION_H_

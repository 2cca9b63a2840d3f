#include "runtime/admission.h"

#include <vector>

namespace petit::host {

Result<Admission> AdmitRun(StateStore& store, const Job& job) {
  if (job.max_active_runs == 0) return Admission{};  // unlimited: nothing to count
  Result<std::vector<RunRecord>> incomplete = store.ListIncompleteRuns();
  if (!incomplete.ok()) return incomplete.status();
  std::vector<std::string> active;
  for (const RunRecord& other : *incomplete) {
    if (other.job == job.id) active.push_back(other.id.str());
  }
  if (AdmitsAnotherRun(job, active.size())) return Admission{};
  return Admission{.admitted = false,
                   .refusal = "job '" + job.id.str() + "' already has " +
                              std::to_string(active.size()) + " active run(s) (max_concurrency " +
                              std::to_string(job.max_active_runs) + "), newest " + active.back() +
                              ": nothing started"};
}

}  // namespace petit::host

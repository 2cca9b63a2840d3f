#include "runtime/admission.h"

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

namespace petit::host {
namespace {

Admission Refused(const Job& job, size_t active_runs, const std::string& newest) {
  return Admission{.admitted = false,
                   .refusal = "job '" + job.id.str() + "' already has " +
                              std::to_string(active_runs) + " active run(s) (max_concurrency " +
                              std::to_string(job.max_active_runs) + "), newest " + newest +
                              ": nothing started",
                   .run = {}};
}

}  // namespace

Result<Admission> AdmitNewRun(StateStore& store, const Job& job, const RunId& run_id,
                              std::string_view owner, const Clock& clock) {
  Admission admission;
  RunRecord& run = admission.run;
  run.id = run_id;
  run.job = job.id;
  run.status = RunStatus::kQueued;
  run.trigger = "manual";
  run.owner = std::string(owner);
  run.created_us = clock.NowMicros();
  Result<RunAdmission> verdict = store.AdmitRun(run, job.max_active_runs);
  if (!verdict.ok()) return verdict.status();
  if (verdict->admitted()) return admission;
  if (verdict->verdict == RunAdmission::Verdict::kAtLimit) {
    return Refused(job, verdict->active_runs, verdict->other.str());
  }
  return Admission{.admitted = false,
                   .refusal = "job '" + job.id.str() + "' not started, " + verdict->Describe(),
                   .run = {}};
}

Result<Admission> AdmitRetry(StateStore& store, const Job& job, const RunId& run_id,
                             std::string_view owner, const Clock& clock) {
  Result<RunAdmission> verdict =
      store.AdmitReopen(run_id, owner, clock.NowMicros(), job.max_active_runs);
  if (!verdict.ok()) return verdict.status();
  if (!verdict->admitted()) return Refused(job, verdict->active_runs, verdict->other.str());
  Result<std::optional<RunRecord>> stored = store.GetRun(run_id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return NotFound("run " + run_id.str() + " vanished from the store");
  return Admission{.admitted = true, .refusal = "", .run = std::move(**stored)};
}

}  // namespace petit::host

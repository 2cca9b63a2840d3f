// `petit trigger DIR JOB` and `petit retry DIR RUN`: one run in the foreground, in this process,
// with each task printed as it finishes.
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "cli/run_printer.h"
#include "petit/core/execute_run.h"
#include "petit/core/suggest.h"
#include "petit/host/exit_codes.h"
#include "runtime/admission.h"
#include "runtime/daemon_log.h"
#include "runtime/load_jobs.h"
#include "runtime/log_pages.h"
#include "runtime/recovery.h"
#include "runtime/retry.h"
#include "runtime/run_options.h"
#include "runtime/signal_canceller.h"
#include "runtime/time_format.h"

namespace petit::host {
namespace {

// What `petit trigger` and `petit retry` log beside the run's own lines (store outages, recovery)
// follows petit.yaml's `logging:`; text lines keep their old form, without a timestamp.
LogOptions ForegroundLogOptions(const HostEnv& env) {
  return {.level = env.config().logging.level,
          .format = env.config().logging.format,
          .timestamps = false};
}

// The valid job named `job_id`, or nullptr after saying why there is none.
const Job* FindJob(const LoadedJobs& loaded, const std::string& job_id, const std::string& dir) {
  if (DeclaredTwice(loaded, job_id)) {
    ReportLoad(loaded);
    PrintError(DeclaredTwiceMessage(job_id, dir));
    return nullptr;
  }
  for (const Job& candidate : loaded.jobs) {
    if (candidate.id.str() == job_id) return &candidate;
  }
  ReportLoad(loaded);
  std::vector<std::string_view> ids;
  for (const Job& candidate : loaded.jobs) ids.push_back(candidate.id.str());
  std::string message = "no valid job '" + job_id + "' in " + dir;
  if (auto close = ClosestMatch(job_id, ids)) message += " (did you mean '" + *close + "'?)";
  PrintError(message);
  return nullptr;
}

// Opens the store and recovers, admits, then runs `job` as `run_id` (continuing it when `resume`
// is set) until it ends, SIGINT/SIGTERM cancelling it. Returns the exit code.
int RunInForeground(const Args& args, HostEnv& env, const Job& job, const RunId& run_id,
                    const RunResumption* resume, StateStore& store, const std::string& owner) {
  Result<Admission> admission =
      resume != nullptr ? AdmitRetry(store, job, run_id, owner, SystemClock::Instance())
                        : AdmitNewRun(store, job, run_id, owner, SystemClock::Instance());
  if (!admission.ok()) {
    PrintError(admission.status().message());
    const StatusCode code = admission.status().code();
    return code == StatusCode::kNotFound || code == StatusCode::kFailedPrecondition
               ? kExitUsage
               : kExitHostError;
  }
  if (!admission->admitted) {
    PrintError(admission->refusal);
    return kExitRunFailed;
  }

  RunPrinter printer(store, args.quiet, args.show_output);
  RunCanceller canceller;
  RunOptions run_options = HostRunOptions(env, owner);
  DaemonLog log(ForegroundLogOptions(env));
  StoreHealth store_health([&log, &job, &run_id, limit = run_options.store_outage.limit](
                               const StoreHealthChange& change) {
    log.Log(change.available ? LogLevel::kInfo : LogLevel::kWarn,
            DescribeStoreHealth(change, limit), AboutRun(job.id, run_id));
  });
  run_options.store_health = &store_health;
  run_options.trigger = "manual";
  run_options.observer = &printer;
  run_options.canceller = &canceller;
  run_options.resume = resume;
  run_options.admitted = &admission->run;
  printer.set_run(run_id);
  if (!args.quiet) {
    std::cout << (resume != nullptr ? "retry " : "run ") << run_id.str() << "  job " << job.id.str()
              << "\n";
  }

  Result<RunRecord> run = [&] {
    // First SIGINT/SIGTERM cancels the run gracefully; a second one ends the process at once.
    SignalCanceller signals(canceller);
    return ExecuteRun(job, run_id, env.runners(), store, run_options);
  }();

  if (!run.ok()) {
    PrintError("run " + run_id.str() + ": " + run.status().message());
    const StatusCode code = run.status().code();
    return code == StatusCode::kInvalidArgument || code == StatusCode::kFailedPrecondition
               ? kExitUsage
               : kExitHostError;
  }
  printer.PrintSummary(*run);
  return run->status == RunStatus::kSucceeded ? kExitOk : kExitRunFailed;
}

// The store, after recovery, and this process's owner string; nullopt after saying why not.
std::optional<std::pair<StateStore*, std::string>> OpenAndRecover(HostEnv& env) {
  Result<StateStore*> store = env.Store();
  if (!store.ok()) {
    PrintError(store.status().message());
    return std::nullopt;
  }
  std::ostringstream recovery_lines;
  Result<std::string> owner = RecoverOnStartup(**store, recovery_lines);
  DaemonLog(ForegroundLogOptions(env)).Lines(recovery_lines.str());
  if (!owner.ok()) {
    PrintError(owner.status().message());
    return std::nullopt;
  }
  return std::make_pair(*store, *owner);
}

}  // namespace

int CmdTrigger(const Args& args, std::unique_ptr<HostEnv> env) {
  LoadedJobs loaded = LoadHostJobs(*env, args.operands[0]);
  const Job* job = FindJob(loaded, args.operands[1], args.operands[0]);
  if (job == nullptr) return kExitUsage;
  for (const Diagnostic& warning : loaded.warnings) {
    if (warning.file == job->source_file) std::cerr << "warning: " << warning.ToString() << "\n";
  }
  auto opened = OpenAndRecover(*env);
  if (!opened) return kExitHostError;
  return RunInForeground(args, *env, *job, RunId::Generate(), nullptr, *opened->first,
                         opened->second);
}

int CmdRetry(const Args& args, std::unique_ptr<HostEnv> env) {
  Result<RunId> run_id = RunId::Parse(args.operands[1]);
  if (!run_id.ok()) {
    PrintError(run_id.status().message());
    return kExitUsage;
  }
  if (args.retry_from && args.retry_task) {
    PrintError(
        "--from and --task exclude each other: --from reruns a task and its downstream, "
        "--task that task alone");
    return kExitUsage;
  }
  RetryRequest request;
  if (args.retry_from) request = {RetryScope::kFromTask, TaskId(*args.retry_from)};
  if (args.retry_task) request = {RetryScope::kOnlyTask, TaskId(*args.retry_task)};

  LoadedJobs loaded = LoadHostJobs(*env, args.operands[0]);
  auto opened = OpenAndRecover(*env);
  if (!opened) return kExitHostError;
  StateStore& store = *opened->first;
  auto find_job = [&loaded](const JobId& id) -> std::shared_ptr<const Job> {
    // Ambiguous: not found, which the plan reports with the load's errors (the duplicate's).
    if (DeclaredTwice(loaded, id.str())) return nullptr;
    for (const Job& job : loaded.jobs) {
      // Borrowed: `loaded` outlives every use of the plan.
      if (job.id == id) return std::shared_ptr<const Job>(&job, [](const Job*) {});
    }
    return nullptr;
  };
  Result<PlannedRetry> planned = PlanRunRetry(store, find_job, *run_id, request);
  if (!planned.ok()) {
    if (planned.status().code() == StatusCode::kNotFound) ReportLoad(loaded);
    PrintError(planned.status().message());
    const StatusCode code = planned.status().code();
    return code == StatusCode::kUnavailable || code == StatusCode::kInternal ||
                   code == StatusCode::kDataLoss
               ? kExitHostError
               : kExitUsage;
  }
  if (args.dry_run) {
    std::cout << "retry of run " << run_id->str() << " (job " << planned->job->id.str() << ", "
              << RunStatusName(planned->run.status) << "), dry run: nothing changed\n"
              << DescribeRetry(*planned);
    return kExitOk;
  }
  return RunInForeground(args, *env, *planned->job, *run_id, planned->resumption.get(), store,
                         opened->second);
}

}  // namespace petit::host

// `petit trigger DIR JOB`: one run in the foreground, with each task printed as it finishes.
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "petit/core/execute_run.h"
#include "petit/core/suggest.h"
#include "petit/host/exit_codes.h"
#include "runtime/admission.h"
#include "runtime/load_jobs.h"
#include "runtime/log_pages.h"
#include "runtime/recovery.h"
#include "runtime/run_options.h"
#include "runtime/signal_canceller.h"
#include "runtime/time_format.h"

namespace petit::host {
namespace {

// Prints each task as it finishes, with its captured output unless asked not to.
class TriggerPrinter final : public RunObserver {
 public:
  TriggerPrinter(StateStore& store, bool quiet, bool show_output)
      : store_(store), quiet_(quiet), show_output_(show_output) {}

  void set_run(const RunId& run) { run_ = run; }

  void OnTaskFinished(const TaskSpec& task, const AttemptRecord& attempt) override {
    ++counts_[attempt.state];
    if (quiet_) return;
    const char* mark = attempt.state == TaskState::kSucceeded ? "ok  "
                       : attempt.state == TaskState::kFailed  ? "FAIL"
                                                              : "--  ";
    std::string line =
        std::string(mark) + " " + task.id.str() + "  " + std::string(TaskStateName(attempt.state));
    if (attempt.attempt > 1) line += " (attempt " + std::to_string(attempt.attempt) + ")";
    if (attempt.started_us != 0 && attempt.ended_us >= attempt.started_us) {
      line += "  " + FormatDuration(attempt.ended_us - attempt.started_us);
    }
    if (!attempt.error.empty()) line += "  " + attempt.error;
    std::cout << line << "\n";
    if (show_output_ && attempt.attempt > 0) PrintOutput(task.id, attempt.attempt);
    std::cout.flush();
  }

  void OnTaskRetrying(const TaskSpec& task, const AttemptRecord& failed,
                      int64_t retry_at_us) override {
    if (quiet_) return;
    std::cout << "retry " << task.id.str() << "  attempt " << failed.attempt
              << " failed: " << failed.error << "; next attempt at " << FormatTime(retry_at_us)
              << "\n";
  }

  size_t count(TaskState state) const {
    auto it = counts_.find(state);
    return it == counts_.end() ? 0 : it->second;
  }

 private:
  // Prints the attempt's captured output, each line indented.
  void PrintOutput(const TaskId& task, uint32_t attempt) {
    LogQuery query;
    query.task = task;
    query.attempt = attempt;
    bool at_line_start = true;
    Status read = ForEachLogChunk(store_, run_, query, [&](const LogChunk& chunk) {
      for (char c : chunk.data) {
        if (at_line_start) std::cout << "     | ";
        std::cout << c;
        at_line_start = c == '\n';
      }
    });
    if (!at_line_start) std::cout << "\n";
    if (!read.ok()) {
      PrintError("cannot read the output of " + task.str() + ": " + read.message());
    }
  }

  StateStore& store_;
  RunId run_;
  const bool quiet_;
  const bool show_output_;
  std::map<TaskState, size_t> counts_;
};

// The valid job named `job_id`, or nullptr after saying why there is none.
const Job* FindJob(const LoadedJobs& loaded, const std::string& job_id, const std::string& dir) {
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

}  // namespace

int CmdTrigger(const Args& args, std::unique_ptr<HostEnv> env) {
  LoadedJobs loaded = LoadHostJobs(*env, args.operands[0]);
  const Job* job = FindJob(loaded, args.operands[1], args.operands[0]);
  if (job == nullptr) return kExitUsage;
  for (const Diagnostic& warning : loaded.warnings) {
    if (warning.file == job->source_file) std::cerr << "warning: " << warning.ToString() << "\n";
  }
  Result<StateStore*> store = env->Store();
  if (!store.ok()) {
    PrintError(store.status().message());
    return kExitHostError;
  }
  Result<std::string> owner = RecoverOnStartup(**store, std::cerr);
  if (!owner.ok()) {
    PrintError(owner.status().message());
    return kExitHostError;
  }
  Result<Admission> admission = AdmitRun(**store, *job);
  if (!admission.ok()) {
    PrintError(admission.status().message());
    return kExitHostError;
  }
  if (!admission->admitted) {
    PrintError(admission->refusal);
    return kExitRunFailed;
  }

  TriggerPrinter printer(**store, args.quiet, args.show_output);
  RunCanceller canceller;
  RunOptions run_options = HostRunOptions(*env, *owner);
  run_options.trigger = "manual";
  run_options.observer = &printer;
  run_options.canceller = &canceller;
  RunId run_id = RunId::Generate();
  printer.set_run(run_id);
  if (!args.quiet) std::cout << "run " << run_id.str() << "  job " << job->id.str() << "\n";

  Result<RunRecord> run = [&] {
    // First SIGINT/SIGTERM cancels the run gracefully; a second one ends the process at once.
    SignalCanceller signals(canceller);
    return ExecuteRun(*job, run_id, env->runners(), **store, run_options);
  }();

  if (!run.ok()) {
    PrintError("run " + run_id.str() + ": " + run.status().message());
    return run.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitHostError;
  }
  std::cout << "run " << run->id.str() << " " << RunStatusName(run->status) << " in "
            << FormatDuration(run->ended_us - run->started_us) << ": "
            << printer.count(TaskState::kSucceeded) << " succeeded, "
            << printer.count(TaskState::kFailed) << " failed, "
            << printer.count(TaskState::kSkipped) + printer.count(TaskState::kUpstreamFailed)
            << " not run, " << printer.count(TaskState::kCancelled) << " cancelled\n";
  return run->status == RunStatus::kSucceeded ? kExitOk : kExitRunFailed;
}

}  // namespace petit::host

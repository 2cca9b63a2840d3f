// RunPrinter: what `petit trigger` and `petit retry` print while a run goes on in the foreground:
// one line per task as it ends (with its captured output unless asked not to), one per retry, and
// a summary line at the end.
//
// Threads: a RunObserver, called by whichever thread drives the run, one call at a time.
#ifndef PETIT_HOST_CLI_RUN_PRINTER_H_
#define PETIT_HOST_CLI_RUN_PRINTER_H_

#include <cstddef>
#include <map>

#include "petit/core/execute_run.h"
#include "petit/core/state_store.h"

namespace petit::host {

class RunPrinter final : public RunObserver {
 public:
  RunPrinter(StateStore& store, bool quiet, bool show_output)
      : store_(store), quiet_(quiet), show_output_(show_output) {}

  void set_run(const RunId& run) { run_ = run; }

  void OnTaskFinished(const TaskSpec& task, const AttemptRecord& attempt) override;
  void OnTaskRetrying(const TaskSpec& task, const AttemptRecord& failed,
                      int64_t retry_at_us) override;

  // "run <id> <status> in <duration>: N succeeded, N failed, N not run, N cancelled" for what
  // this printer saw.
  void PrintSummary(const RunRecord& run) const;

 private:
  size_t count(TaskState state) const;
  // Prints the attempt's captured output, each line indented.
  void PrintOutput(const TaskId& task, uint32_t attempt);

  StateStore& store_;
  RunId run_;
  const bool quiet_;
  const bool show_output_;
  std::map<TaskState, size_t> counts_;
};

}  // namespace petit::host

#endif  // PETIT_HOST_CLI_RUN_PRINTER_H_

#include "cli/run_printer.h"

#include <iostream>
#include <string>

#include "cli/commands.h"
#include "petit/core/utf8.h"
#include "runtime/log_pages.h"
#include "runtime/time_format.h"

namespace petit::host {

void RunPrinter::OnTaskFinished(const TaskSpec& task, const AttemptRecord& attempt) {
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
  if (!attempt.error.empty()) line += "  " + PrintableLine(attempt.error);
  std::cout << line << "\n";
  if (show_output_ && attempt.attempt > 0 && attempt.started_us != 0) {
    PrintOutput(task.id, attempt.attempt);
  }
  std::cout.flush();
}

void RunPrinter::OnTaskRetrying(const TaskSpec& task, const AttemptRecord& failed,
                                int64_t retry_at_us) {
  if (quiet_) return;
  std::cout << "retry " << task.id.str() << "  attempt " << failed.attempt
            << " failed: " << PrintableLine(failed.error) << "; next attempt at "
            << FormatTime(retry_at_us) << "\n";
}

void RunPrinter::PrintSummary(const RunRecord& run) const {
  std::cout << "run " << run.id.str() << " " << RunStatusName(run.status) << " in "
            << FormatDuration(run.ended_us - run.started_us) << ": " << count(TaskState::kSucceeded)
            << " succeeded, " << count(TaskState::kFailed) << " failed, "
            << count(TaskState::kSkipped) + count(TaskState::kUpstreamFailed) << " not run, "
            << count(TaskState::kCancelled) << " cancelled\n";
}

size_t RunPrinter::count(TaskState state) const {
  auto it = counts_.find(state);
  return it == counts_.end() ? 0 : it->second;
}

void RunPrinter::PrintOutput(const TaskId& task, uint32_t attempt) {
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

}  // namespace petit::host

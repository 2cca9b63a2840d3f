#include "petit/core/states.h"

#include "enum_names.h"

namespace petit {
namespace {

constexpr internal::EnumNames<RunStatus, 6> kRunStatusNames{{
    {RunStatus::kQueued, "queued"},
    {RunStatus::kRunning, "running"},
    {RunStatus::kSucceeded, "succeeded"},
    {RunStatus::kFailed, "failed"},
    {RunStatus::kCancelled, "cancelled"},
    {RunStatus::kInterrupted, "interrupted"},
}};

constexpr internal::EnumNames<TaskState, 9> kTaskStateNames{{
    {TaskState::kPending, "pending"},
    {TaskState::kQueued, "queued"},
    {TaskState::kRunning, "running"},
    {TaskState::kSucceeded, "succeeded"},
    {TaskState::kFailed, "failed"},
    {TaskState::kSkipped, "skipped"},
    {TaskState::kUpstreamFailed, "upstream_failed"},
    {TaskState::kCancelled, "cancelled"},
    {TaskState::kInterrupted, "interrupted"},
}};

}  // namespace

std::string_view RunStatusName(RunStatus status) {
  return internal::NameOf(kRunStatusNames, status);
}

Result<RunStatus> ParseRunStatus(std::string_view text) {
  return internal::ParseName(kRunStatusNames, text, "run status");
}

bool IsTerminal(RunStatus status) {
  switch (status) {
    case RunStatus::kQueued:
    case RunStatus::kRunning:
      return false;
    case RunStatus::kSucceeded:
    case RunStatus::kFailed:
    case RunStatus::kCancelled:
    case RunStatus::kInterrupted:
      return true;
  }
  return false;
}

std::string_view TaskStateName(TaskState state) { return internal::NameOf(kTaskStateNames, state); }

Result<TaskState> ParseTaskState(std::string_view text) {
  return internal::ParseName(kTaskStateNames, text, "task state");
}

bool IsTerminal(TaskState state) {
  switch (state) {
    case TaskState::kPending:
    case TaskState::kQueued:
    case TaskState::kRunning:
      return false;
    case TaskState::kSucceeded:
    case TaskState::kFailed:
    case TaskState::kSkipped:
    case TaskState::kUpstreamFailed:
    case TaskState::kCancelled:
    case TaskState::kInterrupted:
      return true;
  }
  return false;
}

}  // namespace petit

// The states a run and a task go through (DESIGN §4), with their persisted names.
//
// Both enums are stored by name (TaskStateName / RunStatusName), so their values may be reordered
// but a name, once written to a database, must keep parsing. Plain values; every function here is
// pure and thread-safe.
#ifndef PETIT_CORE_STATES_H_
#define PETIT_CORE_STATES_H_

#include <cstdint>
#include <string_view>

#include "petit/core/status.h"

namespace petit {

// Lifecycle of a run: queued -> running -> succeeded | failed | cancelled | interrupted.
enum class RunStatus : uint8_t {
  kQueued,
  kRunning,
  kSucceeded,
  kFailed,
  kCancelled,
  kInterrupted,
};

std::string_view RunStatusName(RunStatus status);
Result<RunStatus> ParseRunStatus(std::string_view text);
bool IsTerminal(RunStatus status);

// Lifecycle of one task within a run.
enum class TaskState : uint8_t {
  kPending,  // waiting for upstream tasks
  kQueued,   // ready, waiting for a worker or resource slots
  kRunning,
  kSucceeded,
  kFailed,
  kSkipped,         // its trigger rule was not met
  kUpstreamFailed,  // not run because an upstream failed under all_success
  kCancelled,
  kInterrupted,  // the host died while it ran
};

std::string_view TaskStateName(TaskState state);
Result<TaskState> ParseTaskState(std::string_view text);
bool IsTerminal(TaskState state);

}  // namespace petit

#endif  // PETIT_CORE_STATES_H_

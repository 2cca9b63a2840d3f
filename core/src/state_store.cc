#include "petit/core/state_store.h"

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

}  // namespace petit

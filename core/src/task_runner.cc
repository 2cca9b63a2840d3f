#include "petit/core/task_runner.h"

#include <cassert>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "enum_names.h"
#include "text.h"

namespace petit {
namespace {

constexpr internal::EnumNames<AttemptOutcome, 6> kAttemptOutcomeNames{{
    {AttemptOutcome::kSucceeded, "succeeded"},
    {AttemptOutcome::kFailed, "failed"},
    {AttemptOutcome::kTransientFailure, "transient_failure"},
    {AttemptOutcome::kTimedOut, "timed_out"},
    {AttemptOutcome::kCancelled, "cancelled"},
    {AttemptOutcome::kInvalidParams, "invalid_params"},
}};

}  // namespace

std::string_view AttemptOutcomeName(AttemptOutcome outcome) {
  return internal::NameOf(kAttemptOutcomeNames, outcome);
}

Status TaskRunnerRegistry::Register(std::string type, std::shared_ptr<TaskRunner> runner) {
  assert(runner != nullptr && "register a runner, not a null pointer");
  if (type.empty()) return InvalidArgument("task type name must not be empty");
  if (runners_.find(type) != runners_.end()) {
    return AlreadyExists("task type " + internal::Quoted(type) + " is already registered");
  }
  runners_.emplace(std::move(type), std::move(runner));
  return Status::Ok();
}

TaskRunner* TaskRunnerRegistry::Find(std::string_view type) const {
  const auto it = runners_.find(type);
  return it == runners_.end() ? nullptr : it->second.get();
}

std::vector<std::string> TaskRunnerRegistry::Types() const {
  std::vector<std::string> types;
  types.reserve(runners_.size());
  for (const auto& [type, runner] : runners_) types.push_back(type);
  return types;
}

}  // namespace petit

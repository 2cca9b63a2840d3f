#include <utility>

#include "petit/testing/harness.h"

namespace petit::testing {

TaskReply TaskReply::Success(std::map<std::string, std::string> outputs) {
  TaskReply reply;
  reply.outcome = Outcome::kSucceeded;
  reply.outputs = std::move(outputs);
  return reply;
}

TaskReply TaskReply::Failure(std::string error, std::optional<int32_t> exit_code) {
  TaskReply reply;
  reply.outcome = Outcome::kFailed;
  reply.error = std::move(error);
  reply.exit_code = exit_code;
  return reply;
}

TaskReply TaskReply::Exit(int32_t exit_code) {
  TaskReply reply;
  reply.exit_code = exit_code;
  if (exit_code != 0) {
    reply.outcome = Outcome::kFailed;
    reply.error = "exited with code " + std::to_string(exit_code);
  }
  return reply;
}

TaskReply TaskReply::Hang() {
  TaskReply reply;
  reply.hang = true;
  return reply;
}

TaskReply FailingTask::operator()(const TaskCall& call) const {
  TaskReply reply = call.attempt <= failures_
                        ? TaskReply::Failure("failing attempt " + std::to_string(call.attempt) +
                                                 " of " + std::to_string(failures_),
                                             exit_code_)
                        : TaskReply::Success();
  reply.duration = duration_;
  return reply;
}

}  // namespace petit::testing

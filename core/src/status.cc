#include "petit/core/status.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace petit {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid argument";
    case StatusCode::kNotFound:
      return "not found";
    case StatusCode::kAlreadyExists:
      return "already exists";
    case StatusCode::kFailedPrecondition:
      return "failed precondition";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kInternal:
      return "internal";
    case StatusCode::kDataLoss:
      return "data loss";
    case StatusCode::kResourceExhausted:
      return "resource exhausted";
  }
  return "unknown";
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string message;
  message.reserve(context.size() + 2 + message_.size());
  message.append(context).append(": ").append(message_);
  return {code_, std::move(message)};
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string text(StatusCodeName(code_));
  text.append(": ").append(message_);
  return text;
}

namespace internal {

void ValueOfErrorResult(const Status& status) {
  std::fprintf(stderr, "petit: Result::value() called on an error: %s\n",
               status.ToString().c_str());
  std::fflush(stderr);
  assert(false && "Result::value() called on an error");
  std::abort();
}

}  // namespace internal

}  // namespace petit

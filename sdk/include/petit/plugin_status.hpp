// petit/plugin_status.hpp: Status and Result, the values the C++ SDK's Create, Execute and JSON
// getters return instead of throwing. A StatusCode is the ABI's PETIT_* status code, so a Status
// crosses the C boundary as its code plus set_error(message).
//
// OWNERSHIP: value types; a Status owns its message, a Result owns its value.
// LIFETIME: ordinary C++ values. THREADS: not synchronised; a const one may be read from several
// threads at once.
//
// Depends only on the C++17 standard library and petit/plugin.h; compiles as C++17 and C++20.
// petit/plugin.hpp includes it.
#ifndef PETIT_PLUGIN_STATUS_HPP_
#define PETIT_PLUGIN_STATUS_HPP_

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "petit/plugin.h"

namespace petit::sdk {

// The outcome of Create or Execute; the values are the ABI's PETIT_* status codes.
enum class StatusCode : int32_t {
  kOk = PETIT_OK,
  kError = PETIT_ERROR,
  kTransient = PETIT_ERROR_TRANSIENT,
  kCancelled = PETIT_CANCELLED,
  kTimedOut = PETIT_TIMED_OUT,
  kInvalidParams = PETIT_INVALID_PARAMS,
};

constexpr std::string_view StatusCodeName(StatusCode code) noexcept {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kError:
      return "error";
    case StatusCode::kTransient:
      return "transient error";
    case StatusCode::kCancelled:
      return "cancelled";
    case StatusCode::kTimedOut:
      return "timed out";
    case StatusCode::kInvalidParams:
      return "invalid parameters";
  }
  return "unknown status";
}

// A status code plus a message for the user. The OK status carries no message and never
// allocates. A value type; not synchronised.
class [[nodiscard]] Status {
 public:
  Status() noexcept = default;

  static Status Ok() noexcept { return Status(); }
  // The task failed; the retry policy decides what happens next.
  static Status Error(std::string message) { return {StatusCode::kError, std::move(message)}; }
  // Failed for a reason that may pass (network, busy resource).
  static Status Transient(std::string message) {
    return {StatusCode::kTransient, std::move(message)};
  }
  static Status Cancelled(std::string message = "cancelled") {
    return {StatusCode::kCancelled, std::move(message)};
  }
  static Status TimedOut(std::string message) {
    return {StatusCode::kTimedOut, std::move(message)};
  }
  // The parameters are wrong: a permanent failure, never retried whatever the retry policy says.
  // The same from Create and from Execute (PETIT_INVALID_PARAMS, ABI 1.1); prefer finding bad
  // parameters in Create, before the attempt starts.
  static Status InvalidParams(std::string message) {
    return {StatusCode::kInvalidParams, std::move(message)};
  }

  bool ok() const noexcept { return code_ == StatusCode::kOk; }
  StatusCode code() const noexcept { return code_; }
  int32_t abi_code() const noexcept { return static_cast<int32_t>(code_); }
  const std::string& message() const noexcept { return message_; }

  // "invalid parameters: 'ms' must be an integer" (or "ok").
  std::string ToString() const {
    std::string text(StatusCodeName(code_));
    if (!message_.empty()) text.append(": ").append(message_);
    return text;
  }

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A T or the non-OK Status that explains why there is none. Reading the value of a failed Result
// is a programmer error and throws std::logic_error (which the SDK boundary reports as
// PETIT_ERROR).
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<T, Status>, "Result<Status> is ambiguous; return a Status");

 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  template <typename U, typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                    !std::is_same_v<std::decay_t<U>, T> &&
                                                    !std::is_same_v<std::decay_t<U>, Status> &&
                                                    !std::is_same_v<std::decay_t<U>, Result>>>
  Result(U&& value) : value_(std::in_place, std::forward<U>(value)) {}  // NOLINT
  // An OK status has no value to go with it, so it becomes an error saying so.
  Result(Status status)  // NOLINT(google-explicit-constructor)
      : status_(status.ok() ? Status::Error("internal error: Result built from an OK Status")
                            : std::move(status)) {}

  bool ok() const noexcept { return value_.has_value(); }
  const Status& status() const noexcept { return status_; }

  T& value() & {
    Check();
    return *value_;
  }
  const T& value() const& {
    Check();
    return *value_;
  }
  T&& value() && {
    Check();
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void Check() const {
    if (!value_.has_value()) {
      throw std::logic_error("value of a failed Result read: " + status_.ToString());
    }
  }

  Status status_;
  std::optional<T> value_;
};

}  // namespace petit::sdk

#endif  // PETIT_PLUGIN_STATUS_HPP_

// Status and Result<T>: how core, storage and host report failures a user can cause.
//
// A Status is either OK or carries a code and a message written for the user ("jobs/etl.yaml:12:5:
// unknown key 'dependson' (did you mean 'depends_on'?)"). Result<T> holds a value or a non-OK
// Status. Programmer errors are assertions, not statuses. Both are plain values: copy them, move
// them, share them between threads like any other value type.
#ifndef PETIT_CORE_STATUS_H_
#define PETIT_CORE_STATUS_H_

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace petit {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,     // bad input: YAML, CLI arguments, parameters
  kNotFound,            // a named thing does not exist
  kAlreadyExists,       // a duplicate id or name
  kFailedPrecondition,  // the state does not allow it (a cycle, a newer database schema)
  kUnavailable,         // a resource could not be reached (database server, file system)
  kInternal,            // a failure inside a dependency that the user cannot fix directly
  kDataLoss,            // the store itself is gone or damaged (its file deleted, replaced, made
                        // unwritable, corrupt): permanent, never worth a retry
  kResourceExhausted,   // a limit is reached for now (a job's max_active_runs): try again later
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "<context>: <message>". Keeps OK statuses unchanged.
  Status WithContext(std::string_view context) const;

  // "invalid argument: <message>", or "ok".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string message) {
  return {StatusCode::kInvalidArgument, std::move(message)};
}
inline Status NotFound(std::string message) { return {StatusCode::kNotFound, std::move(message)}; }
inline Status AlreadyExists(std::string message) {
  return {StatusCode::kAlreadyExists, std::move(message)};
}
inline Status FailedPrecondition(std::string message) {
  return {StatusCode::kFailedPrecondition, std::move(message)};
}
inline Status Unavailable(std::string message) {
  return {StatusCode::kUnavailable, std::move(message)};
}
inline Status Internal(std::string message) { return {StatusCode::kInternal, std::move(message)}; }
inline Status DataLoss(std::string message) { return {StatusCode::kDataLoss, std::move(message)}; }
inline Status ResourceExhausted(std::string message) {
  return {StatusCode::kResourceExhausted, std::move(message)};
}

namespace internal {
// Reached when Result<T>::value() is called on an error, a programmer error: prints the status
// to stderr, then fails an assertion, or aborts where assertions are compiled out. Never throws.
[[noreturn]] void ValueOfErrorResult(const Status& status);
}  // namespace internal

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}        // NOLINT: implicit by design, like StatusOr
  Result(Status status) : data_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(data_).ok() && "Result needs a value or a non-OK status");
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(data_);
  }

  // Requires ok(): calling them on an error is a programmer error that stops the process (see
  // internal::ValueOfErrorResult), never an exception.
  T& value() & { return *CheckedValue(); }
  const T& value() const& { return *CheckedValue(); }
  T&& value() && { return std::move(*CheckedValue()); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  T* CheckedValue() {
    if (!ok()) internal::ValueOfErrorResult(*std::get_if<Status>(&data_));
    return std::get_if<T>(&data_);
  }
  const T* CheckedValue() const {
    if (!ok()) internal::ValueOfErrorResult(*std::get_if<Status>(&data_));
    return std::get_if<T>(&data_);
  }

  std::variant<T, Status> data_;
};

}  // namespace petit

// Returns from the enclosing function when `expr` (a Status) is not OK.
#define PETIT_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::petit::Status petit_status_ = (expr);        \
    if (!petit_status_.ok()) return petit_status_; \
  } while (false)

#endif  // PETIT_CORE_STATUS_H_

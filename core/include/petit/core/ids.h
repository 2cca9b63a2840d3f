// Identifiers: TaskId, JobId and DagId are names users write in YAML; RunId is generated.
//
// Name ids are distinct types so a task id cannot be passed where a job id is expected. A valid
// name is 1-128 characters of [A-Za-z0-9_.-] starting with a letter, digit or '_' (the original
// Petit accepted anything; we validate so ids are safe in file names, URLs and env vars).
// RunId is a UUIDv7 in its canonical text form: ids sort by creation time as strings, which is what
// "newest first" listings rely on. All types are values; Generate() is thread-safe.
#ifndef PETIT_CORE_IDS_H_
#define PETIT_CORE_IDS_H_

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "petit/core/status.h"

namespace petit {

// Checks a user-written id; the message names `what` ("task id") and the offending character.
Status ValidateName(std::string_view value, std::string_view what);

template <typename Tag>
class NameId {
 public:
  NameId() = default;
  explicit NameId(std::string value) : value_(std::move(value)) {}

  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }

  friend auto operator<=>(const NameId&, const NameId&) = default;
  friend bool operator==(const NameId&, const NameId&) = default;

 private:
  std::string value_;
};

struct TaskIdTag {};
struct JobIdTag {};
struct DagIdTag {};
using TaskId = NameId<TaskIdTag>;
using JobId = NameId<JobIdTag>;
using DagId = NameId<DagIdTag>;

class RunId {
 public:
  RunId() = default;

  // A new UUIDv7: 48 bits of Unix milliseconds, then a per-process counter and random bits, so
  // ids made in the same millisecond by this process still sort in creation order.
  static RunId Generate();
  // The same, with the timestamp given (tests and the virtual clock); 0 <= unix_ms < 2^48. Ids
  // made with the same timestamp sort in creation order; no order holds across timestamps that go
  // backwards, nor between Generate() and GenerateAt().
  static RunId GenerateAt(int64_t unix_ms);
  // Accepts the canonical 36-character form of a version 7 UUID (lower or upper case hex; the
  // result is lower case, so parsed ids compare equal to generated ones).
  static Result<RunId> Parse(std::string_view text);

  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  // Milliseconds since the Unix epoch encoded in the id; 0 for an empty id.
  int64_t unix_ms() const;

  friend auto operator<=>(const RunId&, const RunId&) = default;
  friend bool operator==(const RunId&, const RunId&) = default;

 private:
  explicit RunId(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

}  // namespace petit

template <typename Tag>
struct std::hash<petit::NameId<Tag>> {
  size_t operator()(const petit::NameId<Tag>& id) const noexcept {
    return std::hash<std::string>{}(id.str());
  }
};
template <>
struct std::hash<petit::RunId> {
  size_t operator()(const petit::RunId& id) const noexcept {
    return std::hash<std::string>{}(id.str());
  }
};

#endif  // PETIT_CORE_IDS_H_

// The CLI's client of a running daemon's live view (what `petit watch` and `petit trigger
// --follow` read): the Server-Sent Events stream of GET /api/v1/events, and the JSON of the
// answers the view reads (through cli/api_client.h), decoded into plain structs (with the SDK's
// JSON reader, petit/plugin_json.hpp). The HTTP is cli/http_client.h's.
//
// Errors: a daemon that does not answer (refused, unreachable, timed out) is kUnavailable with
// NoDaemonMessage; an answer that is not JSON as expected is kInternal naming what was wrong.
//
// Threads: the functions are independent; each call opens its own connection.
#ifndef PETIT_HOST_CLI_SSE_CLIENT_H_
#define PETIT_HOST_CLI_SSE_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/api_client.h"
#include "petit/core/status.h"

namespace petit::host {

// The "error" of an error answer's JSON, else "HTTP <status>".
std::string ErrorText(const ApiAnswer& answer);

// One Server-Sent Event; type is "message" when the event names none.
struct SseMessage {
  std::string id;
  std::string type = "message";
  std::string data;
};

// Turns an SSE byte stream, line by line, into messages (the WHATWG rules Petit's server needs:
// id, event, data (lines joined by \n), comments and retry ignored, a blank line dispatches).
class SseParser {
 public:
  // `line` without its line ending; calls `dispatch` when it completes a message.
  void FeedLine(std::string_view line, const std::function<void(SseMessage&&)>& dispatch);

 private:
  SseMessage current_;
  bool has_data_ = false;
};

enum class StreamEnd : uint8_t {
  kClosed,   // the server ended the stream
  kStopped,  // on_message returned false
};

// Ends a ReadEventStream blocked on another thread: Abort shuts the stream's socket down (and
// makes later reads with this aborter return at once). Thread-safe.
class StreamAborter {
 public:
  StreamAborter();
  ~StreamAborter();
  StreamAborter(const StreamAborter&) = delete;
  StreamAborter& operator=(const StreamAborter&) = delete;

  void Abort();
  bool aborted() const;
  // Waits for `timeout` or Abort, whichever comes first (a reconnection's back-off).
  void WaitFor(std::chrono::milliseconds timeout) const;

  struct State;  // sse_client.cc's
  State& state() const { return *state_; }

 private:
  std::unique_ptr<State> state_;
};

// GETs `path` as an event stream (sending Last-Event-ID when `last_event_id` is not empty) and
// hands each message to `on_message` until it returns false or the server ends the stream. An
// answer other than 200 is kFailedPrecondition with its error text; a connection that fails or
// stays silent for `idle` (the server pings every 15 s) is kUnavailable; so is an abort through
// `aborter` (may be null).
Result<StreamEnd> ReadEventStream(const DaemonAddress& daemon, std::string_view path,
                                  const std::string& last_event_id, std::chrono::milliseconds idle,
                                  const std::function<bool(const SseMessage&)>& on_message,
                                  StreamAborter* aborter = nullptr);

// The JSON the live view reads (shapes of the API's v1 routes), decoded. Absent (null) times are
// 0; null strings are empty.
struct EventView {
  uint64_t id = 0;
  std::string type;
  int64_t time_ms = 0;
  std::string job;
  std::string run;
  std::string task;
  uint32_t attempt = 0;
  std::string detail;
};
Result<EventView> ParseEventJson(std::string_view json);

struct RunView {
  std::string id;
  std::string job;
  std::string status;
  int64_t started_ms = 0;
  int64_t ended_ms = 0;
  std::string error;
};
Result<RunView> ParseRunJson(std::string_view json);

struct TaskRowView {
  std::string task;
  std::string status;
  uint32_t attempts = 0;
  int64_t started_ms = 0;
  int64_t ended_ms = 0;
  std::string error;
};
// {"tasks": [...]} of GET /api/v1/runs/{id}/tasks.
Result<std::vector<TaskRowView>> ParseTasksJson(std::string_view json);

// The "data" of a logs page; the "run_id" of a trigger's answer: one string field.
Result<std::string> ParseStringField(std::string_view json, const std::string& field);

}  // namespace petit::host

#endif  // PETIT_HOST_CLI_SSE_CLIENT_H_

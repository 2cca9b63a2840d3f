#include "cli/sse_client.h"

#include <charconv>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <utility>

#include "cli/http_client.h"
#include "petit/plugin_json.hpp"

namespace petit::host {
namespace {

using sdk::Json;

void Authorize(const DaemonAddress& endpoint, std::string& request) {
  if (!endpoint.token.empty()) request += "Authorization: Bearer " + endpoint.token + "\r\n";
}

// A decoding failure: what the daemon's answer lacks.
struct NotAsExpected {
  std::string why;
};

const Json& ParseObject(std::string_view json, Json& storage) {
  sdk::Result<Json> parsed = Json::Parse(json);
  if (!parsed.ok()) throw NotAsExpected{parsed.status().message()};
  storage = std::move(parsed).value();
  if (!storage.is_object()) throw NotAsExpected{"not a JSON object"};
  return storage;
}

// The member as text: a string as it is, a number or boolean as JSON writes it; "" when absent
// or null.
std::string String(const Json& object, std::string_view key) {
  const Json* value = object.Find(key);
  if (value == nullptr || value->is_null()) return "";
  if (value->is_string()) return value->string_value();
  if (value->is_number() || value->is_bool()) return value->Dump();
  throw NotAsExpected{"\"" + std::string(key) + "\" is " +
                      std::string(Json::TypeName(value->type()))};
}

// The member as an integer (a number, or a string of digits); 0 when absent or null.
int64_t Int(const Json& object, std::string_view key) {
  const Json* value = object.Find(key);
  if (value == nullptr || value->is_null()) return 0;
  if (value->is_number()) {
    if (std::optional<int64_t> exact = value->integer_value()) return *exact;
    return static_cast<int64_t>(value->number_value());
  }
  if (value->is_string()) {
    const std::string& text = value->string_value();
    int64_t number = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error == std::errc() && end == text.data() + text.size()) return number;
  }
  throw NotAsExpected{"\"" + std::string(key) + "\" is not an integer"};
}

template <typename T, typename Fn>
Result<T> Decode(std::string_view json, std::string_view what, Fn&& decode) {
  try {
    Json storage;
    return decode(ParseObject(json, storage));
  } catch (const NotAsExpected& e) {
    return Internal("the daemon's answer is not " + std::string(what) + ": " + e.why);
  }
}

}  // namespace

std::string ErrorText(const ApiAnswer& answer) {
  Result<std::string> error = ParseStringField(answer.body, "error");
  if (error.ok() && !error->empty()) return *error;
  return "HTTP " + std::to_string(answer.status);
}

struct StreamAborter::State {
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  bool aborted = false;
  HttpConnection* connection = nullptr;  // the stream being read, while it is
};

StreamAborter::StreamAborter() : state_(std::make_unique<State>()) {}
StreamAborter::~StreamAborter() = default;

void StreamAborter::Abort() {
  std::lock_guard lock(state_->mu);
  state_->aborted = true;
  // Wakes the reader's recv; the reader's thread closes the socket itself.
  if (state_->connection != nullptr) state_->connection->ShutDown();
  state_->cv.notify_all();
}

bool StreamAborter::aborted() const {
  std::lock_guard lock(state_->mu);
  return state_->aborted;
}

void StreamAborter::WaitFor(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mu);
  state_->cv.wait_for(lock, timeout, [this] { return state_->aborted; });
}

void SseParser::FeedLine(std::string_view line, const std::function<void(SseMessage&&)>& dispatch) {
  if (line.empty()) {
    if (has_data_) dispatch(std::move(current_));
    current_ = SseMessage{};
    has_data_ = false;
    return;
  }
  if (line.front() == ':') return;  // a comment: the server's keep-alive
  const size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
  if (value.starts_with(' ')) value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) current_.data += '\n';
    current_.data += value;
    has_data_ = true;
  } else if (field == "event") {
    current_.type = value.empty() ? "message" : std::string(value);
  } else if (field == "id") {
    current_.id = value;
  }
}

Result<StreamEnd> ReadEventStream(const DaemonAddress& endpoint, std::string_view path,
                                  const std::string& last_event_id, std::chrono::milliseconds idle,
                                  const std::function<bool(const SseMessage&)>& on_message,
                                  StreamAborter* aborter) {
  constexpr std::chrono::milliseconds kConnectTimeout{5000};
  HttpUrlParse url = ParseHttpUrl(endpoint.url);
  if (!url.refusal.empty()) {
    return InvalidArgument("the daemon's URL must be http://HOST[:PORT][/PREFIX], not '" +
                           endpoint.url + "' (TLS is a reverse proxy's job)");
  }
  HttpConnection connection(url.url.host, url.url.port);
  const Status aborted = Unavailable("the event stream was closed by the reader");
  // Registered before connecting, so an Abort from now on reaches the socket; unregistered
  // before the connection closes (declared after it).
  struct Registration {
    StreamAborter::State* state;
    ~Registration() {
      if (state == nullptr) return;
      std::lock_guard lock(state->mu);
      state->connection = nullptr;
    }
  } registration{aborter != nullptr ? &aborter->state() : nullptr};
  if (registration.state != nullptr) {
    std::lock_guard lock(registration.state->mu);
    if (registration.state->aborted) return aborted;
    registration.state->connection = &connection;
  }
  std::string request = "GET " + url.url.prefix + std::string(path) +
                        " HTTP/1.1\r\nHost: " + UrlHost(url.url.host) + ":" +
                        std::to_string(url.url.port) + "\r\nAccept: text/event-stream\r\n";
  Authorize(endpoint, request);
  if (!last_event_id.empty()) request += "Last-Event-ID: " + last_event_id + "\r\n";
  request += "\r\n";
  if (!connection.Connect(kConnectTimeout).ok() ||
      !connection.Send(request, kConnectTimeout).ok()) {
    return Unavailable(NoDaemonMessage(endpoint.url));
  }
  // An Abort before the connection existed did not reach its socket.
  if (aborter != nullptr && aborter->aborted()) return aborted;
  const std::string broke = "the event stream from " + endpoint.url + " broke off";
  bool received_nothing = false;
  Result<HttpResponseHead> head = connection.ReadHead(idle, received_nothing);
  if (!head.ok()) {
    if (aborter != nullptr && aborter->aborted()) return aborted;
    return Unavailable(broke + ": " + head.status().message());
  }
  if (head->status != 200) {
    ApiAnswer answer;
    answer.status = head->status;
    Result<std::string> body = connection.ReadBody(*head, idle, size_t{1} << 20);
    if (body.ok()) answer.body = std::move(body).value();
    return FailedPrecondition(ErrorText(answer));
  }
  SseParser parser;
  bool stopped = false;
  std::string line;
  while (!stopped) {
    Result<bool> more = connection.ReadBodyLine(*head, idle, line);
    if (!more.ok()) {
      if (aborter != nullptr && aborter->aborted()) return aborted;
      return Unavailable(broke + ": " + more.status().message());
    }
    if (!*more) break;
    parser.FeedLine(line, [&](SseMessage&& message) {
      if (!stopped && !on_message(message)) stopped = true;
    });
  }
  if (stopped) return StreamEnd::kStopped;
  if (aborter != nullptr && aborter->aborted()) return aborted;
  return StreamEnd::kClosed;
}

Result<EventView> ParseEventJson(std::string_view json) {
  return Decode<EventView>(json, "an event", [](const Json& o) {
    EventView event;
    event.id = static_cast<uint64_t>(Int(o, "id"));
    event.type = String(o, "type");
    event.time_ms = Int(o, "time_at");
    event.job = String(o, "job_id");
    event.run = String(o, "run_id");
    event.task = String(o, "task_id");
    event.attempt = static_cast<uint32_t>(Int(o, "attempt"));
    event.detail = String(o, "detail");
    return event;
  });
}

Result<RunView> ParseRunJson(std::string_view json) {
  return Decode<RunView>(json, "a run", [](const Json& o) {
    RunView run;
    run.id = String(o, "id");
    run.job = String(o, "job_id");
    run.status = String(o, "status");
    run.started_ms = Int(o, "started_at");
    run.ended_ms = Int(o, "ended_at");
    run.error = String(o, "error");
    if (run.status.empty()) throw NotAsExpected{"no status"};
    return run;
  });
}

Result<std::vector<TaskRowView>> ParseTasksJson(std::string_view json) {
  return Decode<std::vector<TaskRowView>>(json, "a task list", [](const Json& o) {
    const Json* tasks = o.Find("tasks");
    if (tasks == nullptr || !tasks->is_array()) throw NotAsExpected{"no tasks"};
    std::vector<TaskRowView> rows;
    for (const Json& task : tasks->array_items()) {
      if (!task.is_object()) throw NotAsExpected{"a task is not an object"};
      TaskRowView row;
      row.task = String(task, "task_id");
      row.status = String(task, "status");
      row.attempts = static_cast<uint32_t>(Int(task, "attempts"));
      row.started_ms = Int(task, "started_at");
      row.ended_ms = Int(task, "ended_at");
      row.error = String(task, "error");
      rows.push_back(std::move(row));
    }
    return rows;
  });
}

Result<std::string> ParseStringField(std::string_view json, const std::string& field) {
  return Decode<std::string>(json, "JSON with \"" + field + "\"",
                             [&field](const Json& o) { return String(o, field); });
}

}  // namespace petit::host

#include "cli/sse_client.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>

#include <condition_variable>
#include <istream>
#include <memory>
#include <mutex>
#include <ostream>
#include <utility>

namespace petit::host {
namespace {

Poco::Timespan Span(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

// A session to the endpoint's host and the full path of `path` under its prefix.
struct Target {
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
  std::string path;
};

Result<Target> Connect(const DaemonAddress& endpoint, std::string_view path,
                       std::chrono::milliseconds connect, std::chrono::milliseconds receive) {
  try {
    Poco::URI uri(endpoint.url);
    if (uri.getScheme() != "http" || uri.getHost().empty()) {
      return InvalidArgument("the daemon's URL must be http://HOST[:PORT][/PREFIX], not '" +
                             endpoint.url + "' (TLS is a reverse proxy's job)");
    }
    Target target;
    target.session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    target.session->setTimeout(Span(connect), Span(connect), Span(receive));
    std::string prefix = uri.getPath();
    while (prefix.ends_with('/')) prefix.pop_back();
    target.path = prefix + std::string(path);
    return target;
  } catch (const Poco::Exception& e) {
    return InvalidArgument("bad daemon URL '" + endpoint.url + "': " + e.displayText());
  }
}

void Authorize(const DaemonAddress& endpoint, Poco::Net::HTTPRequest& request) {
  if (!endpoint.token.empty()) request.set("Authorization", "Bearer " + endpoint.token);
}

Poco::JSON::Object::Ptr ParseObject(std::string_view json) {
  Poco::JSON::Parser parser;
  Poco::Dynamic::Var value = parser.parse(std::string(json));
  Poco::JSON::Object::Ptr object = value.extract<Poco::JSON::Object::Ptr>();
  if (object.isNull()) throw Poco::DataFormatException("not a JSON object");
  return object;
}

std::string String(const Poco::JSON::Object& object, const std::string& key) {
  if (!object.has(key) || object.isNull(key)) return "";
  return object.getValue<std::string>(key);
}

int64_t Int(const Poco::JSON::Object& object, const std::string& key) {
  if (!object.has(key) || object.isNull(key)) return 0;
  return object.getValue<int64_t>(key);
}

template <typename T, typename Fn>
Result<T> Decode(std::string_view json, std::string_view what, Fn&& decode) {
  try {
    return decode(*ParseObject(json));
  } catch (const Poco::Exception& e) {
    return Internal("the daemon's answer is not " + std::string(what) + ": " + e.displayText());
  } catch (const std::exception& e) {
    return Internal("the daemon's answer is not " + std::string(what) + ": " + e.what());
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
  Poco::Net::HTTPClientSession* session = nullptr;  // the stream being read, while it is
};

StreamAborter::StreamAborter() : state_(std::make_unique<State>()) {}
StreamAborter::~StreamAborter() = default;

void StreamAborter::Abort() {
  std::lock_guard lock(state_->mu);
  state_->aborted = true;
  if (state_->session != nullptr) {
    try {
      // Wakes the reader's recv; the reader's thread closes the socket itself.
      state_->session->socket().shutdown();
    } catch (const Poco::Exception&) {
      // Not connected (any more): the reader is not blocked on it.
    }
  }
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
  Result<Target> target = Connect(endpoint, path, std::chrono::seconds(5), idle);
  if (!target.ok()) return target.status();
  const Status aborted = Unavailable("the event stream was closed by the reader");
  // Registered before connecting, so an Abort from now on reaches the socket.
  struct Registration {
    StreamAborter::State* state;
    ~Registration() {
      if (state == nullptr) return;
      std::lock_guard lock(state->mu);
      state->session = nullptr;
    }
  } registration{aborter != nullptr ? &aborter->state() : nullptr};
  if (registration.state != nullptr) {
    std::lock_guard lock(registration.state->mu);
    if (registration.state->aborted) return aborted;
    registration.state->session = target->session.get();
  }
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, target->path,
                                 Poco::Net::HTTPMessage::HTTP_1_1);
  Authorize(endpoint, request);
  request.set("Accept", "text/event-stream");
  if (!last_event_id.empty()) request.set("Last-Event-ID", last_event_id);
  try {
    target->session->sendRequest(request);
  } catch (const Poco::Exception&) {
    return Unavailable(NoDaemonMessage(endpoint.url));
  }
  // An Abort before the connection existed did not reach its socket.
  if (aborter != nullptr && aborter->aborted()) return aborted;
  try {
    Poco::Net::HTTPResponse response;
    std::istream& in = target->session->receiveResponse(response);
    if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) {
      ApiAnswer answer;
      answer.status = static_cast<int>(response.getStatus());
      Poco::StreamCopier::copyToString(in, answer.body);
      return FailedPrecondition(ErrorText(answer));
    }
    SseParser parser;
    bool stopped = false;
    std::string line;
    while (!stopped && std::getline(in, line)) {
      if (line.ends_with('\r')) line.pop_back();
      parser.FeedLine(line, [&](SseMessage&& message) {
        if (!stopped && !on_message(message)) stopped = true;
      });
    }
    if (stopped) return StreamEnd::kStopped;
    if (aborter != nullptr && aborter->aborted()) return aborted;
    if (in.bad()) return Unavailable("the event stream from " + endpoint.url + " broke off");
    return StreamEnd::kClosed;
  } catch (const Poco::Exception& e) {
    return Unavailable("the event stream from " + endpoint.url + " broke off: " + e.displayText());
  }
}

Result<EventView> ParseEventJson(std::string_view json) {
  return Decode<EventView>(json, "an event", [](const Poco::JSON::Object& o) {
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
  return Decode<RunView>(json, "a run", [](const Poco::JSON::Object& o) {
    RunView run;
    run.id = String(o, "id");
    run.job = String(o, "job_id");
    run.status = String(o, "status");
    run.started_ms = Int(o, "started_at");
    run.ended_ms = Int(o, "ended_at");
    run.error = String(o, "error");
    if (run.status.empty()) throw Poco::DataFormatException("no status");
    return run;
  });
}

Result<std::vector<TaskRowView>> ParseTasksJson(std::string_view json) {
  return Decode<std::vector<TaskRowView>>(json, "a task list", [](const Poco::JSON::Object& o) {
    Poco::JSON::Array::Ptr tasks = o.getArray("tasks");
    if (tasks.isNull()) throw Poco::DataFormatException("no tasks");
    std::vector<TaskRowView> rows;
    for (size_t i = 0; i < tasks->size(); ++i) {
      Poco::JSON::Object::Ptr task = tasks->getObject(static_cast<unsigned>(i));
      if (task.isNull()) throw Poco::DataFormatException("a task is not an object");
      TaskRowView row;
      row.task = String(*task, "task_id");
      row.status = String(*task, "status");
      row.attempts = static_cast<uint32_t>(Int(*task, "attempts"));
      row.started_ms = Int(*task, "started_at");
      row.ended_ms = Int(*task, "ended_at");
      row.error = String(*task, "error");
      rows.push_back(std::move(row));
    }
    return rows;
  });
}

Result<std::string> ParseStringField(std::string_view json, const std::string& field) {
  return Decode<std::string>(json, "JSON with \"" + field + "\"",
                             [&field](const Poco::JSON::Object& o) { return String(o, field); });
}

}  // namespace petit::host

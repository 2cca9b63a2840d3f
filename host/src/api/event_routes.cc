#include "api/event_routes.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>
#include <variant>

#include "api/api_json.h"
#include "petit/core/json.h"
#include "runtime/daemon.h"

namespace petit::host {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kEventStreamType = "text/event-stream";

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

ApiResponse BadRequest(std::string_view message) {
  return ErrorResponse(400, "BAD_REQUEST", message);
}

ApiResponse Unavailable(const Status& status) {
  return ErrorResponse(503, "SERVICE_UNAVAILABLE", "state store: " + status.message());
}

void AppendNullableString(std::string& out, std::string_view value) {
  if (value.empty()) {
    out += "null";
  } else {
    AppendJsonUtf8Escaped(out.append("\""), value);
    out += '"';
  }
}

// One SSE event; `data` is one line of JSON (JSON text holds no raw newline).
void AppendSse(std::string& out, std::optional<uint64_t> id, std::string_view type,
               std::string_view data) {
  if (id) out += "id: " + std::to_string(*id) + "\n";
  out += "event: ";
  out += type;
  out += "\ndata: ";
  out += data;
  out += "\n\n";
}

bool EndsRun(const Event& event, const RunId& run) {
  return event.run == run &&
         (event.type == EventType::kJobCompleted || event.type == EventType::kTriggerRefused);
}

// Sleeps in the journal until an event newer than `after`, `deadline`, the journal's stop or
// kStopCheck, whichever is first; false when the stream must return (sink or journal stopping).
bool WaitForMore(const EventJournal& journal, const StreamSink& sink, uint64_t after,
                 Clock::time_point deadline) {
  while (true) {
    if (sink.stopping() || journal.stopped()) return false;
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return true;
    if (journal.Wait(after, std::min(deadline, now + kStopCheck))) return true;
  }
}

// --- GET /api/v1/events

struct EventStreamRequest {
  EventFilter filter;
  uint64_t after = 0;
  // No Last-Event-ID nor since with run=: the run's events still held, a gap only if the run
  // may be older than the oldest held.
  bool run_history = false;
  // With run=, the run as stored when it had already ended: once the journal has nothing more of
  // it, its end is sent from this record, so a run that ended before this daemon started (or
  // whose events the journal no longer holds) still ends the stream.
  std::optional<RunRecord> ended;
};

// The job_completed of `run`, an ended run, from its record: no id, since the journal never held
// it.
std::string StoredEndEvent(const RunRecord& run) {
  std::string json = "{\"id\":null,\"type\":";
  AppendJsonString(json, EventTypeName(EventType::kJobCompleted));
  json += ",\"time_at\":" + std::to_string(run.ended_us / 1000) + ",\"job_id\":";
  AppendNullableString(json, run.job.str());
  json += ",\"run_id\":";
  AppendNullableString(json, run.id.str());
  json += ",\"task_id\":null,\"attempt\":null,\"detail\":";
  AppendNullableString(json, RunStatusName(run.status));
  json += "}";
  std::string out;
  AppendSse(out, std::nullopt, EventTypeName(EventType::kJobCompleted), json);
  return out;
}

void StreamEvents(const EventRouteContext& context, const EventStreamRequest& request,
                  StreamSink& sink) {
  EventJournal& journal = context.journal;
  const EventRouteOptions& options = context.options;
  // The reconnection delay for EventSource clients; also what tells a client it is connected.
  if (!sink.Write("retry: 2000\n\n")) return;
  uint64_t after = request.after;
  bool first = true;
  Clock::time_point last_write = Clock::now();
  while (true) {
    if (sink.stopping()) return;
    JournalPage page = journal.Since(after, request.filter, options.batch);
    std::string out;
    bool gap = page.gap;
    if (first && request.run_history && gap) {
      gap = request.filter.run->unix_ms() * 1000 < page.oldest_time_us;
    }
    first = false;
    if (gap) {
      const std::string why = after > page.newest_id
                                  ? "event id " + std::to_string(after) +
                                        " is not of this daemon (its newest is " +
                                        std::to_string(page.newest_id) + ": it has restarted since)"
                                  : "events after id " + std::to_string(after) +
                                        " are no longer held (the daemon keeps the newest " +
                                        std::to_string(journal.capacity()) + ")";
      std::string data = "{\"after_id\":" + std::to_string(after) +
                         ",\"oldest_id\":" + std::to_string(page.oldest_id) + ",\"message\":" +
                         JsonString(why + "; going on from id " +
                                    std::to_string(std::max<uint64_t>(page.oldest_id, 1))) +
                         "}";
      AppendSse(out, std::nullopt, "gap", data);
    }
    bool done = false;
    for (const JournalEvent& entry : page.events) {
      AppendSse(out, entry.id, EventTypeName(entry.event.type), EventJson(entry));
      if (request.filter.run && EndsRun(entry.event, *request.filter.run)) {
        done = true;
        break;
      }
    }
    after = page.next_after;
    if (!out.empty()) {
      if (!sink.Write(out)) return;
      last_write = Clock::now();
    }
    if (done) return;
    if (page.next_after < page.newest_id) continue;  // more to read at once
    if (request.ended) {
      sink.Write(StoredEndEvent(*request.ended));
      return;
    }
    const Clock::time_point ping_at = last_write + options.ping_interval;
    if (!WaitForMore(journal, sink, after, ping_at)) return;
    if (Clock::now() >= ping_at) {
      if (!sink.Write(": ping\n\n")) return;
      last_write = Clock::now();
    }
  }
}

ApiResponse HandleEvents(const std::shared_ptr<const EventRouteContext>& context,
                         const ApiRequest& request) {
  if (auto bad = CheckQuery(request, {"job", "run", "since"})) return std::move(*bad);
  EventStreamRequest stream;
  if (auto job = request.Query("job")) {
    Status valid = ValidateName(*job, "job id");
    if (!valid.ok()) return BadRequest("job: " + valid.message());
    JobId id{std::string(*job)};
    if (context->job_known && !context->job_known(id)) {
      return ErrorResponse(404, "NOT_FOUND", "job not found: " + id.str());
    }
    stream.filter.job = std::move(id);
  }
  if (auto run = request.Query("run")) {
    Result<RunId> id = RunId::Parse(*run);
    if (!id.ok()) return BadRequest("run: " + id.status().message());
    stream.filter.run = *id;
    // A run neither stored nor journaled would never end the stream: 404, as for an unknown
    // job. (One journaled but not stored yet is a store outage's write-behind.) A store that does
    // not answer leaves it to the journal.
    Result<std::optional<RunRecord>> stored = context->store.GetRun(*id);
    if (stored.ok() && !stored->has_value() &&
        context->journal.Since(0, stream.filter, 1).events.empty()) {
      return ErrorResponse(404, "NOT_FOUND", "no run " + id->str());
    }
    if (stored.ok() && stored->has_value() && IsTerminal((*stored)->status)) {
      stream.ended = std::move(**stored);
    }
  }
  std::optional<uint64_t> since;
  if (auto text = request.Query("since")) {
    since = ParseUint(*text);
    if (!since) return BadRequest("since: expected an event id (a non-negative integer)");
  }
  if (!request.last_event_id.empty()) {
    since = ParseUint(request.last_event_id);
    if (!since) return BadRequest("Last-Event-ID: expected an event id (a non-negative integer)");
  }
  if (since) {
    stream.after = *since;
  } else if (stream.filter.run) {
    stream.after = 0;
    stream.run_history = true;
  } else {
    stream.after = context->journal.newest_id();
  }
  ApiResponse response;
  response.content_type = std::string(kEventStreamType);  // the server adds a stream's fields
  response.stream = [context, stream](StreamSink& sink) { StreamEvents(*context, stream, sink); };
  return response;
}

// --- GET /api/v1/runs/{id}/tasks/{task}/attempts/{n}/logs

struct LogPage {
  std::string data;
  uint64_t offset = 0;
  uint64_t next_offset = 0;
  bool more = false;  // output beyond next_offset is already stored
};

// The length of `data` without a trailing UTF-8 sequence that is cut short, unless that leaves
// nothing.
size_t WholeCharacters(std::string_view data) {
  const size_t size = data.size();
  for (size_t back = 1; back <= 3 && back <= size; ++back) {
    const auto byte = static_cast<unsigned char>(data[size - back]);
    if ((byte & 0xC0) == 0x80) continue;  // a continuation byte: look further back
    size_t length = 1;
    if ((byte & 0xE0) == 0xC0) length = 2;
    if ((byte & 0xF0) == 0xE0) length = 3;
    if ((byte & 0xF8) == 0xF0) length = 4;
    if (length > back && size > back) return size - back;
    return size;
  }
  return size;
}

// Where the chunks of recent attempts' output end, learned while reading them, so that a page
// at a large offset (a client paging through 32 MiB, a follower) starts reading at the chunk that
// holds it instead of reading everything before it again. Stored chunks never change, so what
// it learned stays true. Bounded: kAttempts attempts, least recently used dropped; each at most
// output_cap_bytes / 64 KiB chunks (about 16 bytes each). Thread-safe.
class LogIndex {
 public:
  static constexpr size_t kAttempts = 256;

  struct Start {
    std::optional<LogQuery::Position> after;  // read after this chunk
    uint64_t position = 0;                    // the byte where the chunk after it starts
  };

  // The latest chunk end known at or before `offset`.
  Start Find(const std::string& key, const TaskId& task, uint32_t attempt, uint64_t offset) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return {};
    Touch(it->second);
    const std::vector<Mark>& marks = it->second.marks;
    auto after =
        std::upper_bound(marks.begin(), marks.end(), offset,
                         [](uint64_t value, const Mark& mark) { return value < mark.end; });
    if (after == marks.begin()) return {};
    const Mark& mark = *std::prev(after);
    return Start{LogQuery::Position{task, attempt, mark.seq}, mark.end};
  }

  // The chunk `seq` ends at byte `end`.
  void Learn(const std::string& key, uint32_t seq, uint64_t end) {
    std::lock_guard lock(mu_);
    auto [it, added] = entries_.try_emplace(key);
    if (added) {
      lru_.push_front(key);
      it->second.lru = lru_.begin();
      if (entries_.size() > kAttempts) {
        entries_.erase(lru_.back());
        lru_.pop_back();
      }
    } else {
      Touch(it->second);
    }
    std::vector<Mark>& marks = it->second.marks;
    if (marks.empty() || end > marks.back().end) marks.push_back(Mark{end, seq});
  }

 private:
  struct Mark {
    uint64_t end;
    uint32_t seq;
  };
  struct Entry {
    std::vector<Mark> marks;  // ascending end
    std::list<std::string>::iterator lru;
  };
  void Touch(Entry& entry) { lru_.splice(lru_.begin(), lru_, entry.lru); }

  std::mutex mu_;
  std::map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recently used first
};

std::string IndexKey(const RunId& run, const TaskId& task, uint32_t attempt) {
  return run.str() + "/" + task.str() + "/" + std::to_string(attempt);
}

// Up to `limit` bytes of the attempt's output from byte `offset`. kInvalidArgument when `offset`
// lies beyond what is stored.
Result<LogPage> ReadLogPage(StateStore& store, LogIndex& index, const RunId& run,
                            const TaskId& task, uint32_t attempt, uint64_t offset, size_t limit,
                            bool ended) {
  LogPage page;
  page.offset = offset;
  const std::string key = IndexKey(run, task, attempt);
  const LogIndex::Start start = index.Find(key, task, attempt, offset);
  LogQuery query;
  query.task = task;
  query.attempt = attempt;
  query.limit = 16;
  query.after = start.after;
  uint64_t position = start.position;  // where the next chunk starts
  bool stop = false;
  while (!stop) {
    Result<std::vector<LogChunk>> chunks = store.ReadLogs(run, query);
    if (!chunks.ok()) return chunks.status();
    for (const LogChunk& chunk : *chunks) {
      const uint64_t end = position + chunk.data.size();
      index.Learn(key, chunk.seq, end);
      if (end <= offset) {
        position = end;
        continue;
      }
      if (page.data.size() >= limit) {
        page.more = true;
        stop = true;
        break;
      }
      const size_t begin = offset > position ? offset - position : 0;
      const size_t take = std::min(chunk.data.size() - begin, limit - page.data.size());
      page.data.append(chunk.data, begin, take);
      position = end;
      if (begin + take < chunk.data.size()) {
        page.more = true;
        stop = true;
        break;
      }
    }
    if (stop || chunks->size() < query.limit) break;
    const LogChunk& last = chunks->back();
    query.after = LogQuery::Position{last.task, last.attempt, last.seq};
  }
  if (offset > position && page.data.empty()) {
    return InvalidArgument("offset " + std::to_string(offset) + " is beyond the " +
                           std::to_string(position) + " bytes of output");
  }
  // A character cut by the page's end is sent whole in the next page; at the end of an ended
  // attempt's output there is no next page, so what is there is sent.
  if (page.more || !ended) page.data.resize(WholeCharacters(page.data));
  page.next_offset = offset + page.data.size();
  return page;
}

// The size in bytes of the attempt's output stored so far.
Result<uint64_t> LogSize(StateStore& store, LogIndex& index, const RunId& run, const TaskId& task,
                         uint32_t attempt) {
  const std::string key = IndexKey(run, task, attempt);
  const LogIndex::Start start = index.Find(key, task, attempt, UINT64_MAX);
  LogQuery query;
  query.task = task;
  query.attempt = attempt;
  query.limit = 64;
  query.after = start.after;
  uint64_t size = start.position;
  while (true) {
    Result<std::vector<LogChunk>> chunks = store.ReadLogs(run, query);
    if (!chunks.ok()) return chunks.status();
    for (const LogChunk& chunk : *chunks) {
      size += chunk.data.size();
      index.Learn(key, chunk.seq, size);
    }
    if (chunks->size() < query.limit) return size;
    const LogChunk& last = chunks->back();
    query.after = LogQuery::Position{last.task, last.attempt, last.seq};
  }
}

struct LogTarget {
  RunId run;
  TaskId task;
  uint32_t attempt = 0;
};

// The attempt's record, or the answer saying why there is none.
std::variant<AttemptRecord, ApiResponse> FindAttempt(StateStore& store, const LogTarget& target) {
  Result<std::vector<AttemptRecord>> attempts = store.ListAttempts(target.run);
  if (!attempts.ok()) return Unavailable(attempts.status());
  for (const AttemptRecord& record : *attempts) {
    if (record.task == target.task && record.attempt == target.attempt) return record;
  }
  if (attempts->empty()) {
    Result<std::optional<RunRecord>> run = store.GetRun(target.run);
    if (!run.ok()) return Unavailable(run.status());
    if (!run->has_value()) {
      return ErrorResponse(404, "NOT_FOUND", "run not found: " + target.run.str());
    }
  }
  return ErrorResponse(404, "NOT_FOUND",
                       "run " + target.run.str() + " has no attempt " +
                           std::to_string(target.attempt) + " of task " + target.task.str());
}

bool Ended(const AttemptRecord& attempt) {
  return attempt.ended_us != 0 || IsTerminal(attempt.state);
}

std::string LogPageJson(const LogPage& page, std::optional<bool> complete) {
  std::string json = "{\"data\":" + JsonUtf8String(page.data) +
                     ",\"offset\":" + std::to_string(page.offset) +
                     ",\"next_offset\":" + std::to_string(page.next_offset);
  if (complete) json += std::string(",\"complete\":") + (*complete ? "true" : "false");
  return json + "}";
}

std::string EndJson(const AttemptRecord& attempt, uint64_t offset) {
  std::string json = "{\"offset\":" + std::to_string(offset) + ",\"status\":";
  AppendJsonString(json, TaskStateName(attempt.state));
  json += ",\"exit_code\":" +
          (attempt.exit_code ? std::to_string(*attempt.exit_code) : std::string("null"));
  json += ",\"error\":";
  AppendNullableString(json, attempt.error);
  return json + "}";
}

void FollowLog(const EventRouteContext& context, LogIndex& index, const LogTarget& target,
               uint64_t offset, StreamSink& sink) {
  EventJournal& journal = context.journal;
  const EventRouteOptions& options = context.options;
  if (!sink.Write("retry: 2000\n\n")) return;
  const EventFilter of_run{.run = target.run};
  Clock::time_point last_write = Clock::now();
  while (!sink.stopping()) {
    // Noted before the reads: an event after it (the attempt's end) wakes the wait below.
    uint64_t seen = journal.newest_id();
    std::variant<AttemptRecord, ApiResponse> found = FindAttempt(context.store, target);
    std::string out;
    if (auto* error = std::get_if<ApiResponse>(&found)) {
      AppendSse(out, std::nullopt, "error", error->body);
      (void)sink.Write(out);
      return;
    }
    const AttemptRecord& attempt = std::get<AttemptRecord>(found);
    const bool ended = Ended(attempt);
    Result<LogPage> page = ReadLogPage(context.store, index, target.run, target.task,
                                       target.attempt, offset, options.max_log_limit, ended);
    if (!page.ok()) {
      const ApiResponse error = page.status().code() == StatusCode::kInvalidArgument
                                    ? BadRequest(page.status().message())
                                    : Unavailable(page.status());
      AppendSse(out, std::nullopt, "error", error.body);
      (void)sink.Write(out);
      return;
    }
    if (!page->data.empty()) {
      AppendSse(out, page->next_offset, "log", LogPageJson(*page, std::nullopt));
      offset = page->next_offset;
    }
    const bool complete = ended && !page->more;
    if (complete) AppendSse(out, std::nullopt, "end", EndJson(attempt, offset));
    if (!out.empty()) {
      if (!sink.Write(out)) return;
      last_write = Clock::now();
    }
    if (complete) return;
    if (page->more) continue;
    // Until the next poll, woken at once by an event of the run.
    const Clock::time_point poll_at = Clock::now() + options.log_poll_interval;
    const Clock::time_point ping_at = last_write + options.ping_interval;
    const Clock::time_point until = std::min(poll_at, ping_at);
    while (Clock::now() < until) {
      if (!WaitForMore(journal, sink, seen, until)) return;
      JournalPage news = journal.Since(seen, of_run, 1);
      if (!news.events.empty() || news.gap) break;
      seen = news.next_after;
    }
    if (Clock::now() >= ping_at) {
      if (!sink.Write(": ping\n\n")) return;
      last_write = Clock::now();
    }
  }
}

ApiResponse HandleLogs(const std::shared_ptr<const EventRouteContext>& context,
                       const std::shared_ptr<LogIndex>& index, const ApiRequest& request) {
  if (auto bad = CheckQuery(request, {"offset", "limit", "tail", "follow"})) return std::move(*bad);
  const EventRouteOptions& options = context->options;
  LogTarget target;
  Result<RunId> run = RunId::Parse(request.Param("id"));
  if (!run.ok()) return BadRequest("run id: " + run.status().message());
  target.run = *run;
  const std::string& task = request.Param("task");
  if (Status valid = ValidateName(task, "task id"); !valid.ok()) return BadRequest(valid.message());
  target.task = TaskId(task);
  std::optional<uint64_t> attempt = ParseUint(request.Param("n"));
  if (!attempt || *attempt == 0 || *attempt > UINT32_MAX) {
    return BadRequest("attempt: expected a positive integer, got '" + request.Param("n") + "'");
  }
  target.attempt = static_cast<uint32_t>(*attempt);
  uint64_t offset = 0;
  if (auto text = request.Query("offset")) {
    std::optional<uint64_t> parsed = ParseUint(*text);
    if (!parsed) return BadRequest("offset: expected a byte offset (a non-negative integer)");
    offset = *parsed;
  }
  size_t limit = options.default_log_limit;
  if (auto text = request.Query("limit")) {
    std::optional<uint64_t> parsed = ParseUint(*text);
    if (!parsed || *parsed == 0 || *parsed > options.max_log_limit) {
      return BadRequest("limit: expected 1 to " + std::to_string(options.max_log_limit) + " bytes");
    }
    limit = *parsed;
  }
  std::optional<uint64_t> tail;
  if (auto text = request.Query("tail")) {
    tail = ParseUint(*text);
    if (!tail || *tail == 0 || *tail > options.max_log_limit) {
      return BadRequest("tail: expected 1 to " + std::to_string(options.max_log_limit) + " bytes");
    }
    if (request.Query("offset") || request.Query("limit")) {
      return BadRequest("tail: not with offset or limit (tail pages backwards from the end)");
    }
  }
  bool follow = false;
  if (auto text = request.Query("follow")) {
    if (*text != "true" && *text != "false") {
      return BadRequest("follow: expected true or false, got '" + std::string(*text) + "'");
    }
    follow = *text == "true";
  }
  std::variant<AttemptRecord, ApiResponse> found = FindAttempt(context->store, target);
  if (auto* error = std::get_if<ApiResponse>(&found)) return std::move(*error);
  const AttemptRecord& record = std::get<AttemptRecord>(found);

  if (follow) {
    if (!request.last_event_id.empty()) {
      std::optional<uint64_t> resumed = ParseUint(request.last_event_id);
      if (!resumed) return BadRequest("Last-Event-ID: expected a byte offset");
      offset = *resumed;
    }
    ApiResponse response;
    response.content_type = std::string(kEventStreamType);  // the server adds a stream's fields
    response.stream = [context, index, target, offset](StreamSink& sink) {
      FollowLog(*context, *index, target, offset, sink);
    };
    return response;
  }
  const bool ended = Ended(record);
  if (tail) {
    Result<uint64_t> size =
        LogSize(context->store, *index, target.run, target.task, target.attempt);
    if (!size.ok()) return Unavailable(size.status());
    offset = *size > *tail ? *size - *tail : 0;
    limit = *tail;
  }
  Result<LogPage> page = ReadLogPage(context->store, *index, target.run, target.task,
                                     target.attempt, offset, limit, ended);
  if (page.ok() && tail) {
    // Starts at a character: the bytes of one cut by the start are left out.
    size_t skip = 0;
    while (skip < 3 && skip < page->data.size() &&
           (static_cast<unsigned char>(page->data[skip]) & 0xC0) == 0x80) {
      ++skip;
    }
    page->data.erase(0, skip);
    page->offset += skip;
  }
  if (!page.ok()) {
    if (page.status().code() == StatusCode::kInvalidArgument) {
      return BadRequest(page.status().message());
    }
    return Unavailable(page.status());
  }
  return JsonResponse(LogPageJson(*page, ended && !page->more));
}

}  // namespace

std::string EventJson(const JournalEvent& entry) {
  const Event& event = entry.event;
  std::string json = "{\"id\":" + std::to_string(entry.id) + ",\"type\":";
  AppendJsonString(json, EventTypeName(event.type));
  json += ",\"time_at\":" + std::to_string(event.time_us / 1000) + ",\"job_id\":";
  AppendNullableString(json, event.job.str());
  json += ",\"run_id\":";
  AppendNullableString(json, event.run.str());
  json += ",\"task_id\":";
  AppendNullableString(json, event.task.str());
  json += ",\"attempt\":";
  json += event.task.empty() ? std::string("null") : std::to_string(event.attempt);
  json += ",\"detail\":";
  AppendNullableString(json, event.detail);
  return json + "}";
}

std::vector<Route> EventRoutes(const EventRouteContext& context) {
  auto shared = std::make_shared<const EventRouteContext>(context);
  auto index = std::make_shared<LogIndex>();
  std::vector<Route> routes;
  routes.push_back(Route{
      .method = "GET",
      .pattern = "/api/v1/events",
      .access = Access::kRead,
      .handler = [shared](const ApiRequest& request) { return HandleEvents(shared, request); },
      .summary = "stream run, task and schedule events (Server-Sent Events; job=, run=, since=, "
                 "Last-Event-ID)"});
  routes.push_back(Route{
      .method = "GET",
      .pattern = "/api/v1/runs/{id}/tasks/{task}/attempts/{n}/logs",
      .access = Access::kRead,
      .handler = [shared,
                  index](const ApiRequest& request) { return HandleLogs(shared, index, request); },
      .summary = "an attempt's captured output by byte offset (offset=, limit=), or followed live "
                 "(follow=true, Server-Sent Events)"});
  return routes;
}

std::vector<Route> EventRoutes(DaemonApi& daemon, EventJournal& journal) {
  return EventRoutes(EventRouteContext{
      .journal = journal, .store = daemon.store(), .job_known = [&daemon](const JobId& id) {
        return daemon.FindJob(id) != nullptr;
      }});
}

}  // namespace petit::host

// The live parts of the API: the event stream and an attempt's captured output.
//
//   GET /api/v1/events?job=&run=&since=
//       Server-Sent Events from the EventJournal: for each event `id: <n>`, `event: <type>`
//       (task_queued ... trigger_refused, core/events.h) and `data: {"id", "type", "time_at",
//       "job_id", "run_id", "task_id", "attempt", "detail"}` (time_at in epoch ms; ids, attempt
//       and detail null when the event has none). It starts after the id in the Last-Event-ID
//       header, else after `since`, else with the events of `run` still held (run=), else with
//       the next event. When the journal no longer holds what was asked for, an event `gap`
//       ({"after_id", "oldest_id", "message"}, no id) comes first and the stream goes on from the
//       oldest held. A comment line ": ping" is sent after each ping_interval without events, so
//       proxies keep the connection and a gone client is noticed. With run=, the stream ends after
//       that run's job_completed (or trigger_refused: it never started).
//   GET /api/v1/runs/{id}/tasks/{task}/attempts/{n}/logs?offset=&limit=&follow=
//       The attempt's output (stdout and stderr in the order captured) by byte offset:
//       {"data", "offset", "next_offset", "complete"}; data is a JSON string (bytes that are not
//       UTF-8 become U+FFFD; a page never ends inside a character unless that is all it holds);
//       complete: the attempt has ended and next_offset is the end of its output. limit defaults
//       to 64 KiB, at most 1 MiB. follow=true streams SSE events `log` ({"data", "offset",
//       "next_offset"}, id = next_offset, so Last-Event-ID resumes) as output arrives, then an
//       event `end` ({"offset", "status", "exit_code", "error"}) once the attempt has ended.
//       Reads come from the store (another host could serve them), polled every
//       log_poll_interval and at once on an event of the run.
//
// A stream reads the journal at its client's pace: a slow client falls behind (and gets a gap
// when it falls off the ring); nothing waits for it but its own server thread. Streams return
// when a write fails, the server stops (StreamSink::stopping, checked at least every
// kStopCheck), the journal is stopped, or they are done.
//
// Threads: the routes' handlers and streams may run on several server threads at once; the
// journal and the store are thread-safe. The journal and store must outlive the routes.
#ifndef PETIT_HOST_API_EVENT_ROUTES_H_
#define PETIT_HOST_API_EVENT_ROUTES_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "api/api_types.h"
#include "petit/core/state_store.h"
#include "runtime/event_journal.h"

namespace petit::host {

class DaemonApi;

struct EventRouteOptions {
  std::chrono::milliseconds ping_interval{15000};
  std::chrono::milliseconds log_poll_interval{500};
  // Events per write of the event stream.
  size_t batch = 256;
  size_t default_log_limit = 64 * 1024;
  size_t max_log_limit = 1024 * 1024;
};

struct EventRouteContext {
  EventJournal& journal;
  StateStore& store;
  // Whether a job of that id is defined (job= of an unknown job is 404); empty: any valid id.
  std::function<bool(const JobId&)> job_known{};
  EventRouteOptions options{};
};

// How often a waiting stream checks StreamSink::stopping().
inline constexpr std::chrono::milliseconds kStopCheck{500};

std::vector<Route> EventRoutes(const EventRouteContext& context);
// The routes of `daemon`'s store and jobs, with default options.
std::vector<Route> EventRoutes(DaemonApi& daemon, EventJournal& journal);

// The `data:` JSON of one event (what the stream sends).
std::string EventJson(const JournalEvent& event);

}  // namespace petit::host

#endif  // PETIT_HOST_API_EVENT_ROUTES_H_

// EventBus: tells whoever listens what the engine did (task queued, started, retried, finished;
// job started and completed; schedule fired; trigger refused), without the engine waiting on them.
//
// Delivery policy:
// - Every event reaches every handler subscribed when it was published, in publication order
//   (the order in which Publish calls entered the queue; two publishes from one thread keep their
//   order). A handler sees only events published after its Subscribe returned.
// - Handlers run one after another, in subscription order, on ONE delivery thread owned by the
//   bus. The thread starts on the first Subscribe, so a bus nobody listens to costs no thread.
// - Publish appends to a bounded queue and returns; it never waits for a handler. When the queue
//   is full the event is DROPPED and counted in dropped(): a slow handler can never stall task
//   dispatch, and the loss is visible. The event being delivered does not count against the
//   capacity.
// - With no handler subscribed, Publish and Emit cost one atomic load; Emit does not even build
//   the event. Such events are not queued and not counted anywhere.
// - Handlers must not throw. An exception that escapes one is caught, counted in
//   handler_errors(), and delivery goes on with the next handler.
//
// Threads: every member function may be called from any thread, concurrently, including from
// inside a handler, with three exceptions that are programmer errors: Flush() and the destructor
// must not be called from a handler (they would wait for themselves), and nothing may race the
// destructor. Handlers may publish (subject to the same drop rule), subscribe and unsubscribe.
//
// Ownership: the bus owns the handlers given to Subscribe until Unsubscribe or its destruction.
#ifndef PETIT_CORE_EVENTS_H_
#define PETIT_CORE_EVENTS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "petit/core/ids.h"
#include "petit/core/mutex.h"
#include "petit/core/thread_annotations.h"

namespace petit {

enum class EventType : uint8_t {
  kTaskQueued,
  kTaskStarted,
  kTaskRetrying,
  kTaskSucceeded,
  kTaskFailed,
  kTaskSkipped,
  kTaskCancelled,
  kJobStarted,
  kJobCompleted,
  kScheduleFired,
  kTriggerRefused,
};

// "task_queued", "task_started", ... "trigger_refused"; "unknown" for a value outside the enum.
std::string_view EventTypeName(EventType type);

struct Event {
  EventType type = EventType::kTaskQueued;
  // When it happened, on the engine's clock (epoch µs), not when it was delivered.
  int64_t time_us = 0;
  // Every member has a default initializer so designated initializers may leave any out
  // (-Wmissing-field-initializers stays quiet).
  JobId job{};
  RunId run{};
  TaskId task{};  // empty for job-level events
  uint32_t attempt = 0;
  // Error message, skip reason, final status, retry time...: meant for people, not parsed.
  std::string detail{};
  // kScheduleFired and kTriggerRefused: the schedule occurrence the event is about, i.e. its
  // nominal fire time (epoch µs), so a listener can tell how late it fired; 0 for a manual
  // trigger and for other events.
  int64_t occurrence_us = 0;
  // kScheduleFired and kJobStarted: what asked for the run ("schedule", "catch_up", "manual",
  // "retry", "recovery"); empty for other events.
  std::string trigger{};
};

class EventBus {
 public:
  using HandlerId = uint64_t;
  using Handler = std::function<void(const Event&)>;

  static constexpr size_t kDefaultQueueCapacity = 65536;

  // At most `queue_capacity` (>= 1) events wait for delivery; more are dropped.
  explicit EventBus(size_t queue_capacity = kDefaultQueueCapacity);
  // Delivers every queued event to the handlers still subscribed, then stops the delivery thread.
  ~EventBus() EXCLUDES(mu_);

  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // `handler` must not be empty. Ids are never reused.
  HandlerId Subscribe(Handler handler) EXCLUDES(mu_);

  // After Unsubscribe returns, the handler is never called again, is not running, and has been
  // destroyed (its captures with it), on the calling thread. Called from inside a handler, it
  // returns at once: the handler is not called again, but when it unsubscribes itself it is of
  // course still running, and it is destroyed on the delivery thread once the current event has
  // been delivered. An unknown or already removed id is ignored.
  void Unsubscribe(HandlerId id) EXCLUDES(mu_);

  // Queues `event` for delivery, or drops it (see the policy above). Never blocks on handlers.
  void Publish(Event&& event) {
    if (!has_subscribers()) return;
    Enqueue(std::move(event));
  }

  // Publish(make()), but calls `make` only when someone listens, so an unobserved engine builds
  // no strings: bus.Emit([&] { return Event{...}; }).
  template <typename MakeEvent>
  requires std::is_invocable_r_v<Event, MakeEvent&&>
  void Emit(MakeEvent&& make) {
    if (!has_subscribers()) return;
    Enqueue(std::forward<MakeEvent>(make)());
  }

  bool has_subscribers() const { return has_subscribers_.load(std::memory_order_acquire); }

  // Blocks until every event queued before the call has been delivered to every handler.
  void Flush() EXCLUDES(mu_);

  // Events dropped because the queue was full.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Exceptions that escaped handlers (and were swallowed).
  uint64_t handler_errors() const { return handler_errors_.load(std::memory_order_relaxed); }

 private:
  struct Subscription {
    Subscription(HandlerId id_in, Handler handler_in, uint64_t first_seq_in)
        : id(id_in), handler(std::move(handler_in)), first_seq(first_seq_in) {}
    const HandlerId id;
    const Handler handler;
    // Sequence number of the first event this handler receives.
    const uint64_t first_seq;
    // Cleared by Unsubscribe (under mu_), read by the delivery thread before each call.
    std::atomic<bool> active{true};
  };
  // Replaced, never modified, so the delivery thread can call handlers from a snapshot without
  // holding mu_.
  using HandlerList = std::vector<std::shared_ptr<Subscription>>;

  void Enqueue(Event&& event) EXCLUDES(mu_);
  void DeliveryLoop() EXCLUDES(mu_);
  bool OnDeliveryThread() const REQUIRES(mu_);

  const size_t capacity_;
  std::atomic<bool> has_subscribers_{false};  // written under mu_
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> handler_errors_{0};

  mutable Mutex mu_;
  CondVar work_cv_{mu_};  // queue_ grew or stopping_ was set; waited on by delivery
  CondVar done_cv_{mu_};  // delivered_ moved; waited on by Flush and Unsubscribe
  std::deque<Event> queue_ GUARDED_BY(mu_);
  // Events are numbered in queue order from 0; event n is the n-th one queued.
  uint64_t next_seq_ GUARDED_BY(mu_) = 0;    // number of events ever queued
  uint64_t delivered_ GUARDED_BY(mu_) = 0;   // events fully delivered (also: the one in delivery)
  bool delivering_ GUARDED_BY(mu_) = false;  // event delivered_ is with the handlers
  bool delivery_waiting_ GUARDED_BY(mu_) = false;  // the delivery thread sleeps on work_cv_
  bool stopping_ GUARDED_BY(mu_) = false;
  std::shared_ptr<const HandlerList> handlers_ GUARDED_BY(mu_);  // never null
  HandlerId next_id_ GUARDED_BY(mu_) = 1;
  std::thread::id delivery_id_ GUARDED_BY(mu_);
  std::thread delivery_;  // started under mu_ by the first Subscribe; joined by the destructor
};

}  // namespace petit

#endif  // PETIT_CORE_EVENTS_H_

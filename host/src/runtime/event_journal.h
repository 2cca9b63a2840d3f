// EventJournal: the most recent events of a Daemon's EventBus, numbered, for the API's event
// stream (GET /api/v1/events) and the followed logs: a client that reconnects with the id of the
// last event it saw gets what came after, or is told it missed some.
//
// - Each event delivered by the bus gets the next id, from 1, never reused while the journal
//   lives (ids restart with the process: a client whose id is beyond the newest is told of a gap).
// - The journal keeps the newest `capacity` events in a ring; older ones are overwritten. Memory
//   is bounded by capacity x (about 170 bytes of slot + the ids, at most 128 + 36 + 128 bytes +
//   at most kMaxDetailBytes of detail, with allocator overhead): with the default 10,000 events
//   at most about 16 MiB, typically 3 MiB (a run id and a short detail per event).
// - An event the bus dropped (its queue was full, core/events.h) never gets an id; the event
//   after it is marked (Event::dropped_before), and a reader crossing the mark is told of a gap.
//
// The handler the journal subscribes to the bus is O(1) (one lock, a copy into a preallocated
// slot, a notify): it never slows the bus, and the engine never waits on the bus anyway. Readers
// hold the lock for at most kMaxScan slots per call, so a reader cannot hold up delivery either.
//
// Threads: every member may be called from any thread, concurrently. Ownership: borrows the bus,
// which must outlive the journal; the destructor unsubscribes and wakes every Wait.
#ifndef PETIT_HOST_RUNTIME_EVENT_JOURNAL_H_
#define PETIT_HOST_RUNTIME_EVENT_JOURNAL_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "petit/core/events.h"
#include "petit/core/ids.h"
#include "petit/core/mutex.h"
#include "petit/core/thread_annotations.h"

namespace petit::host {

struct JournalEvent {
  uint64_t id = 0;
  Event event;
};

// Which events a reader wants; an unset field matches everything.
struct EventFilter {
  std::optional<JobId> job{};
  std::optional<RunId> run{};

  bool Matches(const Event& event) const;
};

// One answer of EventJournal::Since.
struct JournalPage {
  // The matching events after the asked id, oldest first.
  std::vector<JournalEvent> events;
  // Events after the asked id are gone: overwritten by newer ones, dropped by the bus, or the id
  // is from before this journal (beyond its newest id). The page starts at the oldest held.
  bool gap = false;
  // Pass as `after_id` next time: the last id looked at (matching or not), so a filtered reader
  // moves on even when nothing matched.
  uint64_t next_after = 0;
  // The oldest id the ring holds (0 when empty) and the newest id given out (0 when none).
  uint64_t oldest_id = 0;
  uint64_t newest_id = 0;
  // The time (epoch µs) of the oldest event held; 0 when empty.
  int64_t oldest_time_us = 0;
};

class EventJournal {
 public:
  static constexpr size_t kDefaultCapacity = 10000;
  // Longer details are cut (at a UTF-8 boundary) so that the ring's memory stays bounded.
  static constexpr size_t kMaxDetailBytes = 1024;
  // Slots one Since call looks at, at most.
  static constexpr size_t kMaxScan = 4096;

  // Subscribes to `bus`; `capacity` >= 1 (0 is taken as 1). The ring's address space is
  // reserved at once; its slots are filled as events come.
  explicit EventJournal(EventBus& bus, size_t capacity = kDefaultCapacity);
  // Unsubscribes, then Stop().
  ~EventJournal();

  EventJournal(const EventJournal&) = delete;
  EventJournal& operator=(const EventJournal&) = delete;

  // The events after `after_id` that match `filter`, at most `max` of them (and at most kMaxScan
  // slots looked at); see JournalPage. after_id 0 asks from the oldest held, without a gap unless
  // events were dropped or overwritten since id 1.
  JournalPage Since(uint64_t after_id, const EventFilter& filter, size_t max) const EXCLUDES(mu_);

  // Blocks until an event newer than `after_id` is held, `deadline` passes, or Stop; true when
  // a newer event is there.
  bool Wait(uint64_t after_id, std::chrono::steady_clock::time_point deadline) const EXCLUDES(mu_);

  // Wakes every Wait, now and later, at once (they return whether newer events are held). For a
  // server that is stopping. Idempotent.
  void Stop() EXCLUDES(mu_);
  bool stopped() const EXCLUDES(mu_);

  // The newest id given out; 0 before the first event.
  uint64_t newest_id() const EXCLUDES(mu_);
  size_t capacity() const { return capacity_; }

  // What the bus handler does; public so tests can fill the journal without a delivery thread.
  void Append(const Event& event) EXCLUDES(mu_);

 private:
  struct Slot {
    JournalEvent entry;
    // Events the bus dropped just before this one.
    bool after_loss = false;
  };

  EventBus& bus_;
  const size_t capacity_;
  EventBus::HandlerId handler_ = 0;

  mutable Mutex mu_;
  mutable CondVar cv_{mu_};
  std::vector<Slot> slots_ GUARDED_BY(mu_);  // slot of id n: (n - 1) % size
  uint64_t newest_ GUARDED_BY(mu_) = 0;
  uint64_t dropped_seen_ GUARDED_BY(mu_) = 0;  // dropped_before of the previous event
  bool stopped_ GUARDED_BY(mu_) = false;
};

}  // namespace petit::host

#endif  // PETIT_HOST_RUNTIME_EVENT_JOURNAL_H_

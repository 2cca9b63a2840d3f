// What the engine does when the StateStore stops answering (DESIGN §11, "nothing lost").
//
// A run whose write fails keeps its tasks running: what it decides is kept in memory, in order,
// and the writes are retried with exponential backoff (StoreOutagePolicy) while no new attempt
// starts, since an attempt starts only once its `running` record is saved. When the store answers
// again the pending writes land in order and the run carries on. When it stays down past the
// policy's limit, the run's tasks are cancelled (recorded kInterrupted) and the run ends
// kInterrupted (a run whose tasks had all ended keeps the states they earned); what it could not
// write is handed to a StoreWriteBehind, which keeps trying for as long as the process lives. A
// run cancelled meanwhile (a host stopping) hands its writes over at once instead of waiting. What
// never lands is repaired by the next start's recovery.
//
// StoreHealth is the one place a process says whether its store answers: every writer reports to
// it, it tells a listener once when the store goes down and once when it is back, and keeps a
// snapshot for status pages.
//
// Threads: StoreHealth and StoreWriteBehind are thread-safe; StoreOutagePolicy is a value.
#ifndef PETIT_CORE_STORE_OUTAGE_H_
#define PETIT_CORE_STORE_OUTAGE_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "petit/core/clock.h"
#include "petit/core/mutex.h"
#include "petit/core/state_store.h"
#include "petit/core/status.h"
#include "petit/core/thread_annotations.h"

namespace petit {

// Five minutes: longer than a PostgreSQL restart or failover (seconds to a minute) and a SQLite
// writer held up by a backup, short enough that a task whose results cannot be recorded is not
// left running unseen for long.
inline constexpr std::chrono::seconds kDefaultStoreOutageLimit{300};

struct StoreOutagePolicy {
  // How long after its first failed write a run keeps retrying before it gives up.
  std::chrono::milliseconds limit = kDefaultStoreOutageLimit;
  // The wait after the first failure; each further failure doubles it, up to max_backoff.
  std::chrono::milliseconds first_backoff{100};
  std::chrono::milliseconds max_backoff{5000};

  // The wait, in microseconds, after `failures` (1 or more) failures in a row.
  int64_t BackoffUs(uint32_t failures) const;
};

// Whether a failed write may succeed when tried again: the store could not be reached, was locked
// or failed inside (kUnavailable, kInternal). Other failures (a duplicate, a missing run, a bad
// argument) are answers, and retrying cannot change them.
bool IsStoreOutage(const Status& status);

// One write to a StateStore, kept while the store does not answer.
struct StoreWrite {
  std::variant<std::vector<AttemptRecord>, LogChunk, RunRecord> what;  // RunRecord: UpdateRun
  // Applies the write; SaveAttempts and UpdateRun replace, and a chunk already stored (written by
  // a try whose answer was lost) counts as written, so applying twice is harmless.
  Status Apply(StateStore& store) const;
  // How many transitions it carries (attempt records, or 1), for StoreHealth.
  size_t transitions() const;
};

// A change of the store's health, as the listener hears it.
struct StoreHealthChange {
  bool available = false;      // false: the store went down; true: it is back
  Status error;                // down: the failure that said so
  int64_t down_for_us = 0;     // back: how long it was down
  int64_t pending_writes = 0;  // back: transitions waiting to be written when it answered
};

class StoreHealth {
 public:
  struct Snapshot {
    bool available = true;
    int64_t down_since_us = 0;   // when it went down; 0 while available
    Status last_error;           // the latest failure, kept after the store is back
    uint64_t outages = 0;        // how often it went down
    int64_t pending_writes = 0;  // transitions held in memory, waiting for the store
  };

  // Called once per change, on the thread that saw it, under this object's lock: it may log, but
  // must not call back into this object.
  using Listener = std::function<void(const StoreHealthChange&)>;
  explicit StoreHealth(Listener listener = nullptr) : listener_(std::move(listener)) {}

  void ReportFailure(const Status& error, int64_t now_us) EXCLUDES(mu_);
  void ReportSuccess(int64_t now_us) EXCLUDES(mu_);
  // Adds `delta` (negative: written) to the transitions held in memory.
  void AddPending(int64_t delta) EXCLUDES(mu_);
  Snapshot snapshot() const EXCLUDES(mu_);

 private:
  const Listener listener_;
  mutable Mutex mu_;
  Snapshot state_ GUARDED_BY(mu_);
};

// Writes what runs that gave up could not write, in the order submitted, retrying with the
// policy's backoff (without a limit) on a thread of its own until each write lands or the object
// is destroyed; what is left then is repaired by the next start's recovery (and reported through
// `on_abandoned`). A write refused for good (not IsStoreOutage) is dropped and reported likewise.
//
// Lifetime: borrows `store`, `clock` and `health` (may be nullptr), which must outlive it.
class StoreWriteBehind {
 public:
  // Told, on the writer thread, of writes that will never be made: `what` says which and why.
  using Abandoned = std::function<void(const std::string& what)>;

  StoreWriteBehind(StateStore& store, Clock& clock, StoreOutagePolicy policy,
                   StoreHealth* health = nullptr, Abandoned on_abandoned = nullptr);
  ~StoreWriteBehind() EXCLUDES(mu_);
  StoreWriteBehind(const StoreWriteBehind&) = delete;
  StoreWriteBehind& operator=(const StoreWriteBehind&) = delete;

  // Queues `writes` of run `run` behind everything submitted before.
  void Submit(const RunId& run, std::vector<StoreWrite> writes) EXCLUDES(mu_);
  // Transitions not written yet.
  size_t pending() const EXCLUDES(mu_);
  // Blocks until nothing is pending (for tests and a graceful stop); false if `timeout` of real
  // time passed first.
  bool WaitUntilWritten(std::chrono::milliseconds timeout) EXCLUDES(mu_);

 private:
  struct Queued {
    RunId run;
    StoreWrite write;
  };
  void Loop() EXCLUDES(mu_);

  StateStore& store_;
  Clock& clock_;
  const StoreOutagePolicy policy_;
  StoreHealth* const health_;
  const Abandoned on_abandoned_;

  mutable Mutex mu_;
  CondVar cv_{mu_};  // a submit, a write, or stopping
  std::deque<Queued> queue_ GUARDED_BY(mu_);
  size_t pending_ GUARDED_BY(mu_) = 0;
  bool stopping_ GUARDED_BY(mu_) = false;
  struct Waiter;
  std::unique_ptr<Waiter> waiter_;  // the clock wait of the writer thread
  std::thread thread_;
};

}  // namespace petit

#endif  // PETIT_CORE_STORE_OUTAGE_H_

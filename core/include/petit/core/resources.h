// ResourceManager: the named resource pools, cpu slots and memory of one host, shared by every run,
// so a task holds what it declares (`resources: {gpu: 1}`) while it runs and nothing is
// oversubscribed.
//
// Deadlock freedom: a request is granted all-or-nothing, in one critical section, only when every
// resource it names has enough free; a waiting request holds nothing. So two tasks that each need
// pools a and b can never each hold one and wait for the other. (Code that splits one task's needs
// into several requests and holds the first while waiting for the second gives that up; the engine
// asks for a task's whole requirement at once.)
//
// Fairness: waiters are served in order of priority (higher first), then arrival (FIFO). When
// slots come free they are offered to waiters in that order; a waiter that cannot be served yet
// reserves whatever part of its need is free at that moment, so no later waiter can take those
// slots. A big request therefore gathers its slots and is never starved by a stream of small ones,
// at the price of slots idling while it gathers. Waiters for unrelated resources do not block each
// other (this is per-resource head-of-line blocking, not one global queue). Priorities are strict:
// a steady stream of higher-priority requests can hold a lower-priority one back indefinitely.
//
// Ownership: Create returns the only manager of its pools; the host owns it. A Lease owns the
// slots it holds and returns them when destroyed. Leases share the pool state with the manager, so
// a lease may outlive the manager. Destroying the manager while requests are still queued is a
// programmer error, asserted (their callbacks would never run).
//
// Threads: every member is thread-safe. One internal mutex guards the counts and the queue. It is a
// leaf: no user code (a `granted` callback, the destructor of a callback or of a lease) runs while
// it is held. `granted` callbacks run synchronously on the thread whose call made the grant
// possible: AcquireAsync (immediate grant), a lease release, or CancelWait (removing a waiter can
// unblock those behind it). So never hold, while calling those, a lock that a `granted` callback
// takes; and keep callbacks short (typically: post the lease to the coordinator's queue), because
// they run on whichever thread released the slots. Grants made by a release (or CancelWait) inside
// a `granted` callback run after that callback returns, on the same thread, so a chain of waiters
// that each drop their lease costs queue entries, not stack frames.
#ifndef PETIT_CORE_RESOURCES_H_
#define PETIT_CORE_RESOURCES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "petit/core/status.h"
#include "petit/core/task_spec.h"

namespace petit {

namespace internal {
class ResourcePools;
}  // namespace internal

// What a host offers, from the global config. Pool names follow ValidateName rules, except that
// kCpuSlotsName and kMemoryMbName are reserved for the two system resources.
struct ResourceCapacity {
  std::map<std::string, uint32_t> pools;  // e.g. {"gpu": 2, "db_conn": 5}; every capacity >= 1
  uint32_t cpu_slots = 0;                 // 0 = not tracked
  uint64_t memory_mb = 0;                 // 0 = not tracked
  // Attempts in flight at once across every run of the host; 0 = no host-wide limit.
  uint32_t max_tasks = 0;
};

// How cpu slots and memory appear in Usage() (and why no pool may have these names).
inline constexpr std::string_view kCpuSlotsName = "cpu_slots";
inline constexpr std::string_view kMemoryMbName = "memory_mb";
inline constexpr std::string_view kMaxTasksName = "max_tasks";

class ResourceManager {
 public:
  using Ticket = uint64_t;

  // Slots held by one granted request. Move-only; the slots go back to the pools, and waiters
  // that can now run are granted, when the lease is destroyed, assigned over, or Release()d.
  // A default-constructed lease, a moved-from one and the lease for empty requirements hold
  // nothing. One lease must not be used from two threads at once (like any value).
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    // Returns the slots now; afterwards the lease is empty. Does nothing on an empty lease.
    void Release();
    bool empty() const { return held_.empty(); }

   private:
    friend class internal::ResourcePools;
    // (resource index, amount) pairs, amounts > 0.
    using Held = std::vector<std::pair<uint32_t, uint64_t>>;
    Lease(std::shared_ptr<internal::ResourcePools> pools, Held held)
        : pools_(std::move(pools)), held_(std::move(held)) {}

    std::shared_ptr<internal::ResourcePools> pools_;
    Held held_;
  };

  // Called exactly once with the lease when a queued request is granted; see Threads above.
  // It must not throw: an exception escaping it terminates the process.
  using GrantedFn = std::function<void(Lease)>;

  // Fails, naming every problem, when a pool name is not a valid name (or is reserved) or a pool
  // has capacity 0.
  static Result<std::unique_ptr<ResourceManager>> Create(const ResourceCapacity& capacity);

  ResourceManager(const ResourceManager&) = delete;
  ResourceManager& operator=(const ResourceManager&) = delete;
  ~ResourceManager();

  // Whether `req` can ever be granted here: every pool it names exists (an unknown name comes with
  // the closest pool name as a suggestion), and it asks for no more than any resource's capacity;
  // asking for cpu slots or memory when this host does not track them is an error too. Every
  // problem is listed, one per line. `petit validate` reports these; the caller adds which task.
  Status Check(const ResourceRequirements& req) const;

  // Requests `req` all-or-nothing. When `req` is empty (or asks only for zero amounts) it is
  // granted at once, ahead of any queue, without touching the pools. Otherwise, when everything it
  // needs is free and no queued waiter that goes first has reserved it, it is granted at once:
  // `granted` runs on the calling thread before AcquireAsync returns. Otherwise it is queued, and
  // `granted` runs later, exactly once, on the thread that made the grant possible, with no
  // internal lock held. Returns the ticket that names the request for CancelWait; fails (calling
  // nothing, queueing nothing) when Check(req) fails, because such a request would wait forever.
  Result<Ticket> AcquireAsync(const ResourceRequirements& req, int32_t priority, GrantedFn granted);

  // Removes a queued request; its `granted` is destroyed without being called and no slots change
  // hands for it. Returns false when the ticket is not queued: it was granted (its `granted` has
  // run or is about to run on another thread), was already cancelled, or never existed. Waiters
  // queued behind the removed one may be granted, on this thread, before CancelWait returns.
  bool CancelWait(Ticket ticket);

  // Blocking form of AcquireAsync. Returns the lease once granted, or nullopt when `stop` is
  // requested first (call request_stop() on its std::stop_source from any thread to wake the
  // caller). If a grant and the stop request race, either may win; a grant that loses is returned
  // to the pools at once. Fails like AcquireAsync for a request that can never be granted. Must not
  // be called from a `granted` callback (it would block the thread that releases slots).
  Result<std::optional<Lease>> Acquire(const ResourceRequirements& req, int32_t priority,
                                       std::stop_token stop);

  // One resource in a Usage() snapshot. `waiting` counts queued requests that need it.
  struct PoolUsage {
    std::string name;
    uint64_t capacity = 0;
    uint64_t in_use = 0;
    uint32_t waiting = 0;
  };
  // A consistent snapshot for status and metrics: the pools in name order, then kCpuSlotsName,
  // kMemoryMbName and kMaxTasksName when tracked.
  std::vector<PoolUsage> Usage() const;
  // Queued requests.
  size_t waiting() const;
  // Whether the host limits attempts in flight (ResourceCapacity::max_tasks > 0).
  bool limits_tasks() const;

 private:
  explicit ResourceManager(std::shared_ptr<internal::ResourcePools> pools);

  std::shared_ptr<internal::ResourcePools> pools_;
};

}  // namespace petit

#endif  // PETIT_CORE_RESOURCES_H_

#include "petit/core/resources.h"

#include "petit/core/suggest.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <deque>
#include <iterator>
#include <unordered_map>

#include "petit/core/ids.h"
#include "petit/core/mutex.h"
#include "petit/core/thread_annotations.h"
#include "text.h"

namespace petit {
namespace internal {
namespace {

using Lease = ResourceManager::Lease;
using Ticket = ResourceManager::Ticket;
using GrantedFn = ResourceManager::GrantedFn;

struct Grant {
  Ticket ticket;
  GrantedFn granted;
  Lease lease;
};

// The noexcept turns an exception escaping a callback into std::terminate: unwinding through the
// delivery loop would drop the grants queued behind it, and their waiters would wait forever.
void Invoke(Grant& grant) noexcept { grant.granted(std::move(grant.lease)); }

// Grants waiting to be delivered on this thread while a delivery loop runs; see Deliver.
thread_local std::deque<Grant>* t_deliveries = nullptr;

// Runs the callbacks of `grants` on this thread. A callback that releases a lease (or drops one)
// makes more grants; those are appended to the running loop instead of being delivered from inside
// the callback, so a long chain of waiters costs queue entries, not stack frames.
void Deliver(std::vector<Grant>&& grants) {
  if (grants.empty()) return;
  if (t_deliveries != nullptr) {
    std::move(grants.begin(), grants.end(), std::back_inserter(*t_deliveries));
    return;
  }
  std::deque<Grant> queue(std::make_move_iterator(grants.begin()),
                          std::make_move_iterator(grants.end()));
  t_deliveries = &queue;
  while (!queue.empty()) {
    Grant grant = std::move(queue.front());
    queue.pop_front();
    Invoke(grant);
  }
  t_deliveries = nullptr;
}

// "1 slot", "3 slots".
std::string Count(uint64_t amount, std::string_view one, std::string_view many) {
  return std::to_string(amount) + " " + std::string(amount == 1 ? one : many);
}

void AddLine(std::string& problems, const std::string& line) {
  if (!problems.empty()) problems += "\n";
  problems += line;
}

}  // namespace

// The state a manager and its leases share. Resources are numbered: the pools in name order, then
// cpu slots, memory and the task limit when tracked.
class ResourcePools : public std::enable_shared_from_this<ResourcePools> {
 public:
  using Held = Lease::Held;

  struct Resource {
    std::string name;
    uint64_t capacity;
  };

  ResourcePools(std::vector<Resource> resources, std::map<std::string, uint32_t, std::less<>> pools,
                std::optional<uint32_t> cpu_index, std::optional<uint32_t> memory_index,
                std::optional<uint32_t> tasks_index)
      : resources_(std::move(resources)),
        pool_index_(std::move(pools)),
        cpu_index_(cpu_index),
        memory_index_(memory_index),
        tasks_index_(tasks_index),
        waiting_for_(resources_.size(), 0) {
    free_.reserve(resources_.size());
    for (const Resource& resource : resources_) free_.push_back(resource.capacity);
  }

  // What `req` takes, by resource index; fails when it can never be granted. Reads only immutable
  // members, so it needs no lock.
  Result<Held> Compile(const ResourceRequirements& req) const {
    std::string problems;
    Held held;
    for (const auto& [name, amount] : req.slots) {
      auto it = pool_index_.find(name);
      if (it == pool_index_.end()) {
        AddLine(problems, UnknownPoolMessage(name));
        continue;
      }
      if (amount == 0) continue;
      const Resource& pool = resources_[it->second];
      if (amount > pool.capacity) {
        AddLine(problems, "needs " + Count(amount, "slot", "slots") + " of resource pool " +
                              Quoted(name) + ", which has " + std::to_string(pool.capacity));
        continue;
      }
      held.emplace_back(it->second, amount);
    }
    AddSystemNeed(req.cpu_slots, cpu_index_, kCpu, problems, held);
    AddSystemNeed(req.memory_mb, memory_index_, kMemory, problems, held);
    AddSystemNeed(req.task_slots, tasks_index_, kTasks, problems, held);
    if (!problems.empty()) return InvalidArgument(std::move(problems));
    return held;
  }

  Result<Ticket> AcquireAsync(const ResourceRequirements& req, int32_t priority, GrantedFn granted)
      EXCLUDES(mu_) {
    assert(granted && "AcquireAsync needs a callback");
    Result<Held> need = Compile(req);
    if (!need.ok()) return need.status();
    const Ticket ticket = next_ticket_.fetch_add(1, std::memory_order_relaxed);
    Grant own{ticket, std::move(granted), Lease()};
    if (need->empty()) {
      Invoke(own);
      return ticket;
    }
    std::vector<Grant> grants;
    {
      MutexLock lock(mu_);
      if (queue_.empty() && FitsLocked(*need)) {
        for (const auto& [index, amount] : *need) free_[index] -= amount;
        own.lease = Lease(shared_from_this(), std::move(*need));
        grants.push_back(std::move(own));
      } else {
        Enqueue(ticket, priority, std::move(*need), std::move(own.granted));
        GrantReadyLocked(grants);
      }
    }
    // Only the new waiter can have become grantable (nothing was freed, and it only narrows what
    // later waiters see), but anything else granted is delivered all the same.
    auto mine = std::find_if(grants.begin(), grants.end(),
                             [ticket](const Grant& grant) { return grant.ticket == ticket; });
    if (mine != grants.end()) {
      Grant granted_now = std::move(*mine);
      grants.erase(mine);
      Invoke(granted_now);
    }
    Deliver(std::move(grants));
    return ticket;
  }

  bool CancelWait(Ticket ticket) EXCLUDES(mu_) {
    // Destroyed after the lock is released: the callback may own anything, even a lease.
    std::optional<Waiter> removed;
    std::vector<Grant> grants;
    {
      MutexLock lock(mu_);
      auto found = by_ticket_.find(ticket);
      if (found == by_ticket_.end()) return false;
      removed.emplace(TakeLocked(found->second));
      GrantReadyLocked(grants);
    }
    Deliver(std::move(grants));
    return true;
  }

  void Release(const Held& held) EXCLUDES(mu_) {
    std::vector<Grant> grants;
    {
      MutexLock lock(mu_);
      for (const auto& [index, amount] : held) {
        free_[index] += amount;
        assert(free_[index] <= resources_[index].capacity && "a lease returned more than it held");
      }
      GrantReadyLocked(grants);
    }
    Deliver(std::move(grants));
  }

  std::vector<ResourceManager::PoolUsage> Usage() const EXCLUDES(mu_) {
    std::vector<ResourceManager::PoolUsage> usage;
    usage.reserve(resources_.size());
    MutexLock lock(mu_);
    for (size_t i = 0; i < resources_.size(); ++i) {
      usage.push_back({resources_[i].name, resources_[i].capacity,
                       resources_[i].capacity - free_[i], waiting_for_[i]});
    }
    return usage;
  }

  size_t waiting() const EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return queue_.size();
  }

  bool limits_tasks() const { return tasks_index_.has_value(); }

 private:
  struct Waiter {
    Ticket ticket;
    Held need;
    GrantedFn granted;
  };
  // Key (-priority, ticket): iteration order is service order, higher priority first, then FIFO.
  using Queue = std::map<std::pair<int64_t, Ticket>, Waiter>;

  std::string UnknownPoolMessage(const std::string& name) const {
    std::string message = "unknown resource pool " + Quoted(name);
    std::vector<std::string_view> names;
    for (const auto& [candidate, index] : pool_index_) names.push_back(candidate);
    if (std::optional<std::string> best = ClosestMatch(name, names)) {
      return message + " (did you mean " + Quoted(*best) + "?)";
    }
    // `cpu: 2` or `memory: 512` mean the system resources, which are not pools.
    if (std::optional<NameGuess> system =
            GuessName(name, {kCpuSlotsName, kMemoryMbName, kMaxTasksName})) {
      return message + " (did you mean " + Quoted(system->name) + "?)";
    }
    if (pool_index_.empty()) return message + " (this host has no resource pools)";
    message += " (pools: ";
    bool first = true;
    for (const auto& [candidate, index] : pool_index_) {
      if (!first) message += ", ";
      message += candidate;
      first = false;
    }
    return message + ")";
  }

  // How Check() speaks of cpu slots and memory.
  struct SystemResource {
    std::string_view need_one;       // "cpu slot", "MB of memory"
    std::string_view need_many;      // "cpu slots", "MB of memory"
    std::string_view noun;           // "cpu slots", "memory"
    std::string_view setting;        // the ResourceCapacity field
    std::string_view capacity_unit;  // "", " MB"
  };
  static constexpr SystemResource kCpu{"cpu slot", "cpu slots", "cpu slots", kCpuSlotsName, ""};
  static constexpr SystemResource kMemory{"MB of memory", "MB of memory", "memory", kMemoryMbName,
                                          " MB"};
  static constexpr SystemResource kTasks{"task slot", "task slots", "task slots", kMaxTasksName,
                                         ""};

  void AddSystemNeed(uint64_t amount, std::optional<uint32_t> index, const SystemResource& what,
                     std::string& problems, Held& held) const {
    if (amount == 0) return;
    std::string needs = "needs " + Count(amount, what.need_one, what.need_many);
    if (!index) {
      AddLine(problems, needs + ", but this host does not track " + std::string(what.noun) +
                            " (no " + std::string(what.setting) + " capacity is configured)");
      return;
    }
    uint64_t capacity = resources_[*index].capacity;
    if (amount > capacity) {
      AddLine(problems, needs + ", but this host has " + std::to_string(capacity) +
                            std::string(what.capacity_unit));
      return;
    }
    held.emplace_back(*index, amount);
  }

  bool FitsLocked(const Held& need) const REQUIRES(mu_) {
    for (const auto& [index, amount] : need) {
      if (amount > free_[index]) return false;
    }
    return true;
  }

  void Enqueue(Ticket ticket, int32_t priority, Held need, GrantedFn granted) REQUIRES(mu_) {
    for (const auto& [index, amount] : need) ++waiting_for_[index];
    auto [it, inserted] = queue_.emplace(std::pair<int64_t, Ticket>(-int64_t{priority}, ticket),
                                         Waiter{ticket, std::move(need), std::move(granted)});
    assert(inserted);
    by_ticket_.emplace(ticket, it);
  }

  Waiter TakeLocked(Queue::iterator it) REQUIRES(mu_) {
    Waiter waiter = std::move(it->second);
    for (const auto& [index, amount] : waiter.need) --waiting_for_[index];
    by_ticket_.erase(waiter.ticket);
    queue_.erase(it);
    return waiter;
  }

  // Grants, in service order, every waiter whose need is free once the waiters before it have
  // reserved theirs. Afterwards no queued waiter is grantable, which is why a new waiter can only
  // grant itself and a release or a cancellation is the only other moment anything changes.
  void GrantReadyLocked(std::vector<Grant>& out) REQUIRES(mu_) {
    if (queue_.empty()) return;
    scratch_ = free_;
    // Resources no waiter needs cannot change anyone's fate; once every needed one is exhausted
    // the rest of the queue cannot be served, so the scan stops there instead of walking it all.
    size_t open = 0;
    for (size_t i = 0; i < scratch_.size(); ++i) {
      if (scratch_[i] > 0 && waiting_for_[i] > 0) ++open;
    }
    for (auto it = queue_.begin(); it != queue_.end() && open > 0;) {
      Waiter& waiter = it->second;
      bool fits = true;
      for (const auto& [index, amount] : waiter.need) {
        if (amount > scratch_[index]) {
          fits = false;
          break;
        }
      }
      for (const auto& [index, amount] : waiter.need) {
        const uint64_t take = fits ? amount : std::min(amount, scratch_[index]);
        if (take == 0) continue;
        scratch_[index] -= take;
        if (scratch_[index] == 0) --open;
        if (fits) free_[index] -= take;
      }
      if (!fits) {
        ++it;
        continue;
      }
      auto next = std::next(it);
      Waiter served = TakeLocked(it);
      out.push_back(Grant{served.ticket, std::move(served.granted),
                          Lease(shared_from_this(), std::move(served.need))});
      it = next;
    }
  }

  // Immutable after construction.
  const std::vector<Resource> resources_;
  const std::map<std::string, uint32_t, std::less<>> pool_index_;
  const std::optional<uint32_t> cpu_index_;
  const std::optional<uint32_t> memory_index_;
  const std::optional<uint32_t> tasks_index_;

  std::atomic<Ticket> next_ticket_{1};

  // mu_ is a leaf lock: nothing that can run user code or take another lock happens under it.
  mutable Mutex mu_;
  std::vector<uint64_t> free_ GUARDED_BY(mu_);
  std::vector<uint32_t> waiting_for_ GUARDED_BY(mu_);
  Queue queue_ GUARDED_BY(mu_);
  std::unordered_map<Ticket, Queue::iterator> by_ticket_ GUARDED_BY(mu_);
  std::vector<uint64_t> scratch_ GUARDED_BY(mu_);
};

namespace {

// Where a blocking Acquire waits. Shared with the callback, which may run on another thread after
// Acquire has given up on it.
class GrantSlot {
 public:
  void Grant(Lease lease) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    lease_.emplace(std::move(lease));
    cv_.SignalAll();
  }
  void Stop() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    stopped_ = true;
    cv_.SignalAll();
  }
  std::optional<Lease> WaitForGrantOrStop() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    while (!lease_.has_value() && !stopped_) cv_.Wait(mu_);
    return std::exchange(lease_, std::nullopt);
  }
  Lease WaitForGrant() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    while (!lease_.has_value()) cv_.Wait(mu_);
    Lease lease = std::move(*lease_);
    lease_.reset();
    return lease;
  }

 private:
  Mutex mu_;
  CondVar cv_{mu_};
  std::optional<Lease> lease_ GUARDED_BY(mu_);
  bool stopped_ GUARDED_BY(mu_) = false;
};

}  // namespace
}  // namespace internal

ResourceManager::Lease::Lease(Lease&& other) noexcept
    : pools_(std::move(other.pools_)), held_(std::move(other.held_)) {
  other.held_.clear();
}

ResourceManager::Lease& ResourceManager::Lease::operator=(Lease&& other) noexcept {
  if (this == &other) return *this;
  Release();
  pools_ = std::move(other.pools_);
  held_ = std::move(other.held_);
  other.held_.clear();
  return *this;
}

ResourceManager::Lease::~Lease() { Release(); }

void ResourceManager::Lease::Release() {
  if (held_.empty()) return;
  // Emptied first: the release may run callbacks, and this lease must already read as empty.
  std::shared_ptr<internal::ResourcePools> pools = std::move(pools_);
  Held held = std::move(held_);
  held_.clear();
  pools->Release(held);
}

Result<std::unique_ptr<ResourceManager>> ResourceManager::Create(const ResourceCapacity& capacity) {
  using internal::Quoted;
  std::string problems;
  std::vector<internal::ResourcePools::Resource> resources;
  std::map<std::string, uint32_t, std::less<>> pools;
  for (const auto& [name, slots] : capacity.pools) {
    Status valid = ValidateName(name, "resource pool");
    if (!valid.ok()) {
      internal::AddLine(problems, valid.message());
      continue;
    }
    if (name == kCpuSlotsName || name == kMemoryMbName || name == kMaxTasksName) {
      internal::AddLine(problems, "resource pool " + Quoted(name) +
                                      " has a reserved name (cpu slots, memory and the task "
                                      "limit have settings of their own)");
      continue;
    }
    if (slots == 0) {
      internal::AddLine(problems, "resource pool " + Quoted(name) +
                                      " has capacity 0 (a pool needs at least 1 slot)");
      continue;
    }
    pools.emplace(name, static_cast<uint32_t>(resources.size()));
    resources.push_back({name, slots});
  }
  if (!problems.empty()) return InvalidArgument(std::move(problems));
  std::optional<uint32_t> cpu_index;
  if (capacity.cpu_slots > 0) {
    cpu_index = static_cast<uint32_t>(resources.size());
    resources.push_back({std::string(kCpuSlotsName), capacity.cpu_slots});
  }
  std::optional<uint32_t> memory_index;
  if (capacity.memory_mb > 0) {
    memory_index = static_cast<uint32_t>(resources.size());
    resources.push_back({std::string(kMemoryMbName), capacity.memory_mb});
  }
  std::optional<uint32_t> tasks_index;
  if (capacity.max_tasks > 0) {
    tasks_index = static_cast<uint32_t>(resources.size());
    resources.push_back({std::string(kMaxTasksName), capacity.max_tasks});
  }
  auto state = std::make_shared<internal::ResourcePools>(std::move(resources), std::move(pools),
                                                         cpu_index, memory_index, tasks_index);
  return std::unique_ptr<ResourceManager>(new ResourceManager(std::move(state)));
}

ResourceManager::ResourceManager(std::shared_ptr<internal::ResourcePools> pools)
    : pools_(std::move(pools)) {}

ResourceManager::~ResourceManager() {
  assert(pools_->waiting() == 0 && "ResourceManager destroyed with requests still queued");
}

Status ResourceManager::Check(const ResourceRequirements& req) const {
  return pools_->Compile(req).status();
}

Result<ResourceManager::Ticket> ResourceManager::AcquireAsync(const ResourceRequirements& req,
                                                              int32_t priority, GrantedFn granted) {
  return pools_->AcquireAsync(req, priority, std::move(granted));
}

bool ResourceManager::CancelWait(Ticket ticket) { return pools_->CancelWait(ticket); }

Result<std::optional<ResourceManager::Lease>> ResourceManager::Acquire(
    const ResourceRequirements& req, int32_t priority, std::stop_token stop) {
  if (stop.stop_requested()) {
    // Nothing is taken when asked to stop already, but a request that is wrong stays wrong.
    PETIT_RETURN_IF_ERROR(Check(req));
    return std::optional<Lease>();
  }
  auto slot = std::make_shared<internal::GrantSlot>();
  Result<Ticket> ticket =
      AcquireAsync(req, priority, [slot](Lease lease) { slot->Grant(std::move(lease)); });
  if (!ticket.ok()) return ticket.status();
  {
    std::stop_callback on_stop(stop, [slot] { slot->Stop(); });
    std::optional<Lease> lease = slot->WaitForGrantOrStop();
    if (lease) return lease;
  }
  if (CancelWait(*ticket)) return std::optional<Lease>();
  // The grant won the race and is being delivered on another thread; give its slots back.
  slot->WaitForGrant().Release();
  return std::optional<Lease>();
}

std::vector<ResourceManager::PoolUsage> ResourceManager::Usage() const { return pools_->Usage(); }

size_t ResourceManager::waiting() const { return pools_->waiting(); }

bool ResourceManager::limits_tasks() const { return pools_->limits_tasks(); }

}  // namespace petit

// ResourceManager: all-or-nothing grants, capacity under contention, fairness, cancellation, lease
// lifetime, configuration and requirement checks.
#include "petit/core/resources.h"

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace petit {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Lease = ResourceManager::Lease;

// A generous bound for waits that only time out when the code under test is broken.
constexpr auto kBrokenAfter = std::chrono::seconds(60);

ResourceRequirements Needs(std::map<std::string, uint32_t> slots, uint32_t cpu_slots = 0,
                           uint64_t memory_mb = 0) {
  ResourceRequirements req;
  req.slots = std::move(slots);
  req.cpu_slots = cpu_slots;
  req.memory_mb = memory_mb;
  return req;
}

std::unique_ptr<ResourceManager> MakeManager(const ResourceCapacity& capacity) {
  Result<std::unique_ptr<ResourceManager>> created = ResourceManager::Create(capacity);
  if (!created.ok()) {
    ADD_FAILURE() << created.status().ToString();
    return nullptr;
  }
  return std::move(created).value();
}

// The lease if `req` is granted at once; otherwise withdraws the request. Single-threaded use only.
std::optional<Lease> TryAcquireNow(ResourceManager& manager, const ResourceRequirements& req,
                                   int32_t priority = 0) {
  std::optional<Lease> got;
  Result<ResourceManager::Ticket> ticket =
      manager.AcquireAsync(req, priority, [&got](Lease lease) { got.emplace(std::move(lease)); });
  EXPECT_TRUE(ticket.ok()) << ticket.status().ToString();
  if (ticket.ok() && !got) {
    EXPECT_TRUE(manager.CancelWait(*ticket));
  }
  return got;
}

ResourceManager::PoolUsage UsageOf(const ResourceManager& manager, const std::string& name) {
  for (ResourceManager::PoolUsage& usage : manager.Usage()) {
    if (usage.name == name) return usage;
  }
  ADD_FAILURE() << "no usage reported for " << name;
  return {};
}

uint64_t InUse(const ResourceManager& manager, const std::string& name) {
  return UsageOf(manager, name).in_use;
}

// Where a lease granted on another thread is handed over, with a bounded wait.
class LeaseBox {
 public:
  void Put(Lease lease) {
    std::lock_guard lock(mu_);
    lease_.emplace(std::move(lease));
    cv_.notify_all();
  }
  std::optional<Lease> Take() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, kBrokenAfter, [this] { return lease_.has_value(); });
    return std::exchange(lease_, std::nullopt);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Lease> lease_;
};

// Requests stop on its token when the test runs past kBrokenAfter, so blocking Acquire calls
// return instead of hanging the test binary; reports that as a failure.
class Watchdog {
 public:
  Watchdog() = default;
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      disarmed_ = true;
    }
    cv_.notify_all();
    thread_.join();
    EXPECT_FALSE(source_.stop_requested()) << "a wait ran past " << kBrokenAfter.count() << " s";
  }
  std::stop_token token() const { return source_.get_token(); }

 private:
  void Watch() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kBrokenAfter, [this] { return disarmed_; })) source_.request_stop();
  }

  std::stop_source source_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool disarmed_ = false;  // guarded by mu_
  std::thread thread_{[this] { Watch(); }};
};

// Spins (yielding) until `condition` holds; false after kBrokenAfter.
bool Eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + kBrokenAfter;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

void JoinAll(std::vector<std::thread>& threads) {
  for (std::thread& thread : threads) thread.join();
}

TEST(ResourceManagerTest, AcquiresAndReleasesASinglePool) {
  auto manager = MakeManager({{{"gpu", 2}}});
  ASSERT_TRUE(manager);
  std::optional<Lease> first = TryAcquireNow(*manager, Needs({{"gpu", 1}}));
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->empty());
  EXPECT_EQ(InUse(*manager, "gpu"), 1u);
  std::optional<Lease> second = TryAcquireNow(*manager, Needs({{"gpu", 1}}));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(InUse(*manager, "gpu"), 2u);
  EXPECT_FALSE(TryAcquireNow(*manager, Needs({{"gpu", 1}})).has_value());

  first.reset();
  EXPECT_EQ(InUse(*manager, "gpu"), 1u);
  second->Release();
  EXPECT_TRUE(second->empty());
  EXPECT_EQ(InUse(*manager, "gpu"), 0u);
  second->Release();
  EXPECT_EQ(InUse(*manager, "gpu"), 0u);
  EXPECT_EQ(manager->waiting(), 0u);
}

TEST(ResourceManagerTest, NeverGrantsMoreThanCapacityUnderContention) {
  constexpr uint32_t kCapacity = 3;
  constexpr int kThreads = 8;
  constexpr int kRounds = 300;
  auto manager = MakeManager({{{"db", kCapacity}}});
  ASSERT_TRUE(manager);
  Watchdog watchdog;
  std::atomic<uint32_t> holders{0};
  std::atomic<uint32_t> most_holders{0};
  std::atomic<int> grants{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int round = 0; round < kRounds; ++round) {
        auto lease = manager->Acquire(Needs({{"db", 1}}), 0, watchdog.token());
        ASSERT_TRUE(lease.ok()) << lease.status().ToString();
        if (!lease->has_value()) return;
        uint32_t now = holders.fetch_add(1) + 1;
        uint32_t seen = most_holders.load();
        while (now > seen && !most_holders.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        holders.fetch_sub(1);
        grants.fetch_add(1);
      }
    });
  }
  JoinAll(threads);
  EXPECT_EQ(grants.load(), kThreads * kRounds);
  EXPECT_LE(most_holders.load(), kCapacity);
  EXPECT_GE(most_holders.load(), 1u);
  EXPECT_EQ(InUse(*manager, "db"), 0u);
  EXPECT_EQ(manager->waiting(), 0u);
}

TEST(ResourceManagerTest, AllOrNothingNeverHoldsOnePoolWithoutTheOther) {
  constexpr int kRounds = 1000;
  // Every this many rounds a worker keeps its lease until the observer has looked, so snapshots
  // are certainly taken while the pools are held, however the threads are scheduled.
  constexpr int kObservedEvery = 50;
  auto manager = MakeManager({{{"a", 1}, {"b", 1}}});
  ASSERT_TRUE(manager);
  Watchdog watchdog;
  std::atomic<int> workers_left{2};
  std::atomic<int> snapshots{0};
  std::atomic<int> snapshots_held{0};
  std::thread observer([&] {
    while (workers_left.load() > 0) {
      std::vector<ResourceManager::PoolUsage> usage = manager->Usage();
      if (usage.size() == 2) {
        EXPECT_EQ(usage[0].in_use, usage[1].in_use) << "one pool held without the other";
        EXPECT_LE(usage[0].in_use, 1u);
        if (usage[0].in_use == 1) snapshots_held.fetch_add(1);
      } else {
        ADD_FAILURE() << "expected 2 pools in Usage(), got " << usage.size();
      }
      snapshots.fetch_add(1);
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t) {
    workers.emplace_back([&] {
      for (int round = 0; round < kRounds; ++round) {
        auto lease = manager->Acquire(Needs({{"a", 1}, {"b", 1}}), 0, watchdog.token());
        EXPECT_TRUE(lease.ok());
        if (!lease.ok() || !lease->has_value()) break;
        if (round % kObservedEvery == 0) {
          const int seen = snapshots.load();
          // Two increments: the first snapshot may have started before this lease was granted.
          EXPECT_TRUE(Eventually([&] { return snapshots.load() >= seen + 2; }));
        }
        std::this_thread::yield();
      }
      workers_left.fetch_sub(1);
    });
  }
  JoinAll(workers);
  observer.join();
  EXPECT_GT(snapshots_held.load(), 0);
  EXPECT_EQ(InUse(*manager, "a"), 0u);
  EXPECT_EQ(InUse(*manager, "b"), 0u);
}

TEST(ResourceManagerTest, AWaiterHoldsNothingWhileItWaits) {
  auto manager = MakeManager({{{"a", 1}, {"b", 1}}});
  ASSERT_TRUE(manager);
  std::optional<Lease> holds_a = TryAcquireNow(*manager, Needs({{"a", 1}}));
  ASSERT_TRUE(holds_a.has_value());
  std::optional<Lease> both;
  auto ticket = manager->AcquireAsync(Needs({{"a", 1}, {"b", 1}}), 0,
                                      [&both](Lease lease) { both.emplace(std::move(lease)); });
  ASSERT_TRUE(ticket.ok());
  EXPECT_FALSE(both.has_value());
  EXPECT_EQ(InUse(*manager, "b"), 0u);
  EXPECT_EQ(UsageOf(*manager, "b").waiting, 1u);

  holds_a.reset();
  ASSERT_TRUE(both.has_value());
  EXPECT_EQ(InUse(*manager, "a"), 1u);
  EXPECT_EQ(InUse(*manager, "b"), 1u);
  EXPECT_EQ(UsageOf(*manager, "b").waiting, 0u);
}

TEST(ResourceManagerTest, TasksWantingTwoPoolsInOppositeOrdersBothComplete) {
  constexpr int kRounds = 1000;
  auto manager = MakeManager({{{"a", 1}, {"b", 1}}});
  ASSERT_TRUE(manager);
  // Taken one at a time, task 1 (a then b) and task 2 (b then a) deadlock as soon as each holds
  // its first pool. Declared as one requirement, each is granted both or neither.
  ResourceRequirements a_then_b;
  a_then_b.slots.emplace("a", 1);
  a_then_b.slots.emplace("b", 1);
  ResourceRequirements b_then_a;
  b_then_a.slots.emplace("b", 1);
  b_then_a.slots.emplace("a", 1);
  Watchdog watchdog;
  std::latch start(2);
  std::atomic<int> completed{0};
  auto task = [&](const ResourceRequirements& req) {
    start.arrive_and_wait();
    for (int round = 0; round < kRounds; ++round) {
      auto lease = manager->Acquire(req, 0, watchdog.token());
      ASSERT_TRUE(lease.ok());
      if (!lease->has_value()) return;
      EXPECT_EQ(InUse(*manager, "a"), 1u);
      EXPECT_EQ(InUse(*manager, "b"), 1u);
      completed.fetch_add(1);
    }
  };
  std::thread task1(task, std::cref(a_then_b));
  std::thread task2(task, std::cref(b_then_a));
  task1.join();
  task2.join();
  EXPECT_EQ(completed.load(), 2 * kRounds);
}

TEST(ResourceManagerTest, GrantsInArrivalOrderWithinAPriority) {
  auto manager = MakeManager({{{"gpu", 1}}});
  ASSERT_TRUE(manager);
  std::optional<Lease> holder = TryAcquireNow(*manager, Needs({{"gpu", 1}}));
  ASSERT_TRUE(holder.has_value());
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) {
    // Each waiter drops its lease on return, which grants the next one.
    auto ticket = manager->AcquireAsync(Needs({{"gpu", 1}}), 0,
                                        [&order, i](Lease /*lease*/) { order.push_back(i); });
    ASSERT_TRUE(ticket.ok());
  }
  EXPECT_EQ(manager->waiting(), 5u);
  EXPECT_TRUE(order.empty());
  holder.reset();
  EXPECT_THAT(order, ElementsAre(0, 1, 2, 3, 4));
  EXPECT_EQ(manager->waiting(), 0u);
  EXPECT_EQ(InUse(*manager, "gpu"), 0u);
}

TEST(ResourceManagerTest, ServesHigherPriorityFirstThenArrivalOrder) {
  auto manager = MakeManager({{{"gpu", 1}}});
  ASSERT_TRUE(manager);
  std::optional<Lease> holder = TryAcquireNow(*manager, Needs({{"gpu", 1}}));
  ASSERT_TRUE(holder.has_value());
  const std::vector<int32_t> priorities = {0, 5, 10, 5, -3, 10};
  std::vector<size_t> order;
  for (size_t i = 0; i < priorities.size(); ++i) {
    auto ticket = manager->AcquireAsync(Needs({{"gpu", 1}}), priorities[i],
                                        [&order, i](Lease /*lease*/) { order.push_back(i); });
    ASSERT_TRUE(ticket.ok());
  }
  holder.reset();
  EXPECT_THAT(order, ElementsAre(2u, 5u, 1u, 3u, 0u, 4u));
}

TEST(ResourceManagerTest, AHigherPriorityArrivalIsServedAheadOfLowerQueuedOnes) {
  auto manager = MakeManager({{{"p", 2}}});
  ASSERT_TRUE(manager);
  std::optional<Lease> holder = TryAcquireNow(*manager, Needs({{"p", 1}}));
  ASSERT_TRUE(holder.has_value());
  auto low = manager->AcquireAsync(Needs({{"p", 2}}), 0, [](Lease /*lease*/) {});
  ASSERT_TRUE(low.ok());
  // The free slot is claimed by the queued request for its own priority and below.
  EXPECT_FALSE(TryAcquireNow(*manager, Needs({{"p", 1}}), 0).has_value());
  std::optional<Lease> high = TryAcquireNow(*manager, Needs({{"p", 1}}), 1);
  EXPECT_TRUE(high.has_value());
  EXPECT_TRUE(manager->CancelWait(*low));
}

TEST(ResourceManagerTest, ABigRequestAtTheHeadIsNotOvertakenBySmallOnes) {
  auto manager = MakeManager({{{"s", 4}}});
  ASSERT_TRUE(manager);
  std::optional<Lease> small1 = TryAcquireNow(*manager, Needs({{"s", 1}}));
  std::optional<Lease> small2 = TryAcquireNow(*manager, Needs({{"s", 1}}));
  ASSERT_TRUE(small1.has_value() && small2.has_value());
  std::vector<std::string> order;
  std::optional<Lease> big;
  auto big_ticket = manager->AcquireAsync(Needs({{"s", 4}}), 0, [&](Lease lease) {
    order.push_back("big");
    big.emplace(std::move(lease));
  });
  ASSERT_TRUE(big_ticket.ok());
  // Two slots are free, yet none goes to the small requests behind the big one.
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(TryAcquireNow(*manager, Needs({{"s", 1}})).has_value());
  }
  for (int i = 0; i < 3; ++i) {
    auto ticket = manager->AcquireAsync(Needs({{"s", 1}}), 0,
                                        [&order](Lease /*lease*/) { order.push_back("small"); });
    ASSERT_TRUE(ticket.ok());
  }
  small1.reset();
  EXPECT_TRUE(order.empty());
  EXPECT_EQ(InUse(*manager, "s"), 1u);
  small2.reset();
  EXPECT_THAT(order, ElementsAre("big"));
  EXPECT_EQ(InUse(*manager, "s"), 4u);
  big.reset();
  EXPECT_THAT(order, ElementsAre("big", "small", "small", "small"));
  EXPECT_EQ(InUse(*manager, "s"), 0u);
}

TEST(ResourceManagerTest, ABigRequestIsGrantedDespiteAStreamOfSmallOnes) {
  // More small requesters than slots, so without reservations a freed slot would always find a
  // small taker and the big request would wait indefinitely.
  constexpr int kSmallThreads = 6;
  constexpr int kStreamingGrants = 200;
  auto manager = MakeManager({{{"s", 4}}});
  ASSERT_TRUE(manager);
  Watchdog watchdog;
  std::atomic<bool> big_done{false};
  std::atomic<int> small_grants{0};
  std::vector<std::thread> smalls;
  for (int t = 0; t < kSmallThreads; ++t) {
    smalls.emplace_back([&] {
      while (!big_done.load()) {
        auto lease = manager->Acquire(Needs({{"s", 1}}), 0, watchdog.token());
        ASSERT_TRUE(lease.ok());
        if (!lease->has_value()) return;
        small_grants.fetch_add(1);
      }
    });
  }
  std::optional<Lease> big;
  std::atomic<int> grants_when_big_granted{0};
  int grants_when_big_queued = 0;
  if (Eventually([&] { return small_grants.load() >= kStreamingGrants; })) {
    auto box = std::make_shared<LeaseBox>();
    auto ticket = manager->AcquireAsync(Needs({{"s", 4}}), 0, [&, box](Lease lease) {
      grants_when_big_granted.store(small_grants.load());
      box->Put(std::move(lease));
    });
    ASSERT_TRUE(ticket.ok());
    // Read once the big request is queued: every small request made from here on is behind it.
    grants_when_big_queued = small_grants.load();
    big = box->Take();
    if (!big && !manager->CancelWait(*ticket)) big = box->Take();
  }
  EXPECT_TRUE(big.has_value()) << "the big request was starved";
  if (big) {
    EXPECT_EQ(InUse(*manager, "s"), 4u);
    // Only small requests already granted (not yet counted) or queued when the big one arrived
    // may be counted before it is granted: at most one per thread.
    EXPECT_LE(grants_when_big_granted.load() - grants_when_big_queued, kSmallThreads);
  }
  big_done.store(true);
  big.reset();
  JoinAll(smalls);
  EXPECT_EQ(InUse(*manager, "s"), 0u);
}

TEST(ResourceManagerTest, ReleasesOnScopeExitAndWhileAnExceptionUnwinds) {
  auto manager = MakeManager({{{"p", 1}}});
  ASSERT_TRUE(manager);
  {
    std::optional<Lease> lease = TryAcquireNow(*manager, Needs({{"p", 1}}));
    ASSERT_TRUE(lease.has_value());
    EXPECT_EQ(InUse(*manager, "p"), 1u);
  }
  EXPECT_EQ(InUse(*manager, "p"), 0u);

  std::optional<Lease> waiter;
  try {
    std::optional<Lease> lease = TryAcquireNow(*manager, Needs({{"p", 1}}));
    ASSERT_TRUE(lease.has_value());
    auto ticket = manager->AcquireAsync(
        Needs({{"p", 1}}), 0, [&waiter](Lease granted) { waiter.emplace(std::move(granted)); });
    ASSERT_TRUE(ticket.ok());
    throw std::runtime_error("task failed");
  } catch (const std::runtime_error&) {
  }
  // The unwinding released the slot, and the waiter behind it was granted during the unwinding.
  ASSERT_TRUE(waiter.has_value());
  EXPECT_EQ(InUse(*manager, "p"), 1u);
  waiter.reset();
  EXPECT_EQ(InUse(*manager, "p"), 0u);
}

TEST(ResourceManagerTest, MovingALeaseMovesTheSlots) {
  auto manager = MakeManager({{{"p", 2}}});
  ASSERT_TRUE(manager);
  std::optional<Lease> first = TryAcquireNow(*manager, Needs({{"p", 1}}));
  ASSERT_TRUE(first.has_value());
  Lease moved(std::move(*first));
  EXPECT_TRUE(first->empty());
  EXPECT_FALSE(moved.empty());
  first.reset();
  EXPECT_EQ(InUse(*manager, "p"), 1u);

  std::optional<Lease> second = TryAcquireNow(*manager, Needs({{"p", 1}}));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(InUse(*manager, "p"), 2u);
  // Assigning over a lease returns what it held.
  moved = std::move(*second);
  EXPECT_EQ(InUse(*manager, "p"), 1u);
  second.reset();
  EXPECT_EQ(InUse(*manager, "p"), 1u);

  std::vector<Lease> kept;
  kept.push_back(std::move(moved));
  EXPECT_TRUE(moved.empty());  // NOLINT(bugprone-use-after-move): a moved-from lease is empty
  EXPECT_EQ(InUse(*manager, "p"), 1u);
  kept.clear();
  EXPECT_EQ(InUse(*manager, "p"), 0u);

  Lease nothing;
  EXPECT_TRUE(nothing.empty());
  nothing = Lease();
  EXPECT_EQ(InUse(*manager, "p"), 0u);
}

TEST(ResourceManagerTest, CancelWaitRemovesAWaiterAndFreesNothing) {
  auto manager = MakeManager({{{"p", 1}}});
  ASSERT_TRUE(manager);
  std::optional<Lease> holder = TryAcquireNow(*manager, Needs({{"p", 1}}));
  ASSERT_TRUE(holder.has_value());
  auto captured = std::make_shared<int>(0);
  bool called = false;
  auto ticket = manager->AcquireAsync(Needs({{"p", 1}}), 0,
                                      [captured, &called](Lease /*lease*/) { called = true; });
  ASSERT_TRUE(ticket.ok());
  EXPECT_EQ(manager->waiting(), 1u);
  EXPECT_EQ(captured.use_count(), 2);

  EXPECT_TRUE(manager->CancelWait(*ticket));
  EXPECT_EQ(manager->waiting(), 0u);
  EXPECT_EQ(UsageOf(*manager, "p").waiting, 0u);
  EXPECT_EQ(captured.use_count(), 1) << "the cancelled callback was not destroyed";
  EXPECT_EQ(InUse(*manager, "p"), 1u);
  EXPECT_FALSE(manager->CancelWait(*ticket));

  holder.reset();
  EXPECT_FALSE(called);
  EXPECT_EQ(InUse(*manager, "p"), 0u);
  EXPECT_FALSE(manager->CancelWait(987654321));
}

TEST(ResourceManagerTest, CancelWaitOfAGrantedRequestReturnsFalse) {
  auto manager = MakeManager({{{"p", 1}}});
  ASSERT_TRUE(manager);
  std::optional<Lease> got;
  auto ticket = manager->AcquireAsync(Needs({{"p", 1}}), 0,
                                      [&got](Lease lease) { got.emplace(std::move(lease)); });
  ASSERT_TRUE(ticket.ok());
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(manager->CancelWait(*ticket));
  EXPECT_EQ(InUse(*manager, "p"), 1u);
}

TEST(ResourceManagerTest, CancellingTheHeadWaiterGrantsTheOnesItHeldBack) {
  auto manager = MakeManager({{{"p", 2}}});
  ASSERT_TRUE(manager);
  std::optional<Lease> holder = TryAcquireNow(*manager, Needs({{"p", 1}}));
  ASSERT_TRUE(holder.has_value());
  auto big = manager->AcquireAsync(Needs({{"p", 2}}), 0, [](Lease /*lease*/) {
    ADD_FAILURE() << "the cancelled request was granted";
  });
  ASSERT_TRUE(big.ok());
  std::optional<Lease> small;
  auto queued = manager->AcquireAsync(Needs({{"p", 1}}), 0,
                                      [&small](Lease lease) { small.emplace(std::move(lease)); });
  ASSERT_TRUE(queued.ok());
  EXPECT_FALSE(small.has_value());

  EXPECT_TRUE(manager->CancelWait(*big));
  ASSERT_TRUE(small.has_value());
  EXPECT_EQ(InUse(*manager, "p"), 2u);
}

TEST(ResourceManagerTest, StopTokenWakesABlockedAcquire) {
  auto manager = MakeManager({{{"p", 1}}});
  ASSERT_TRUE(manager);
  std::optional<Lease> holder = TryAcquireNow(*manager, Needs({{"p", 1}}));
  ASSERT_TRUE(holder.has_value());
  std::stop_source stop;
  std::optional<Result<std::optional<Lease>>> outcome;
  std::thread blocked([&] {
    outcome.emplace(manager->Acquire(Needs({{"p", 1}}), 0, stop.get_token()));
  });
  EXPECT_TRUE(Eventually([&] { return manager->waiting() == 1; }));
  stop.request_stop();
  blocked.join();
  ASSERT_TRUE(outcome.has_value());
  ASSERT_TRUE(outcome->ok());
  EXPECT_FALSE((*outcome)->has_value());
  EXPECT_EQ(manager->waiting(), 0u);
  EXPECT_EQ(InUse(*manager, "p"), 1u);
  holder.reset();
  EXPECT_EQ(InUse(*manager, "p"), 0u);
}

TEST(ResourceManagerTest, BlockingAcquireReturnsTheLeaseWhenSlotsComeFree) {
  auto manager = MakeManager({{{"p", 1}}});
  ASSERT_TRUE(manager);
  std::optional<Lease> holder = TryAcquireNow(*manager, Needs({{"p", 1}}));
  ASSERT_TRUE(holder.has_value());
  Watchdog watchdog;
  std::optional<Result<std::optional<Lease>>> outcome;
  std::thread blocked([&] {
    outcome.emplace(manager->Acquire(Needs({{"p", 1}}), 0, watchdog.token()));
  });
  EXPECT_TRUE(Eventually([&] { return manager->waiting() == 1; }));
  holder.reset();
  blocked.join();
  ASSERT_TRUE(outcome.has_value() && outcome->ok());
  ASSERT_TRUE((*outcome)->has_value());
  EXPECT_EQ(InUse(*manager, "p"), 1u);
  outcome.reset();
  EXPECT_EQ(InUse(*manager, "p"), 0u);
}

TEST(ResourceManagerTest, AcquireWithStopAlreadyRequestedTakesNothing) {
  auto manager = MakeManager({{{"p", 1}}});
  ASSERT_TRUE(manager);
  std::stop_source stop;
  stop.request_stop();
  auto outcome = manager->Acquire(Needs({{"p", 1}}), 0, stop.get_token());
  ASSERT_TRUE(outcome.ok());
  EXPECT_FALSE(outcome->has_value());
  EXPECT_EQ(InUse(*manager, "p"), 0u);
  EXPECT_FALSE(manager->Acquire(Needs({{"q", 1}}), 0, stop.get_token()).ok());
}

TEST(ResourceManagerTest, GrantsRunOnTheThreadThatReleasedTheSlots) {
  auto manager = MakeManager({{{"p", 1}}});
  ASSERT_TRUE(manager);
  std::optional<Lease> holder = TryAcquireNow(*manager, Needs({{"p", 1}}));
  ASSERT_TRUE(holder.has_value());
  std::thread::id granted_on;
  auto ticket = manager->AcquireAsync(Needs({{"p", 1}}), 0, [&granted_on](Lease /*lease*/) {
    granted_on = std::this_thread::get_id();
  });
  ASSERT_TRUE(ticket.ok());
  std::thread::id releaser;
  std::thread release([&] {
    releaser = std::this_thread::get_id();
    holder.reset();
  });
  release.join();
  EXPECT_EQ(granted_on, releaser);
}

TEST(ResourceManagerTest, GrantedCallbacksMayCallBackIntoTheManager) {
  auto manager = MakeManager({{{"p", 1}, {"q", 1}}});
  ASSERT_TRUE(manager);
  std::optional<Lease> holder = TryAcquireNow(*manager, Needs({{"p", 1}}));
  ASSERT_TRUE(holder.has_value());
  std::optional<Lease> inner;
  uint64_t p_in_use_seen = 0;
  auto ticket = manager->AcquireAsync(Needs({{"p", 1}}), 0, [&](Lease /*lease*/) {
    p_in_use_seen = InUse(*manager, "p");
    auto again = manager->AcquireAsync(Needs({{"q", 1}}), 0,
                                       [&inner](Lease lease) { inner.emplace(std::move(lease)); });
    EXPECT_TRUE(again.ok());
  });
  ASSERT_TRUE(ticket.ok());
  holder.reset();
  EXPECT_EQ(p_in_use_seen, 1u);
  ASSERT_TRUE(inner.has_value());
  EXPECT_EQ(InUse(*manager, "q"), 1u);
  EXPECT_EQ(InUse(*manager, "p"), 0u);
}

TEST(ResourceManagerTest, LongChainsOfGrantsDoNotGrowTheStack) {
  constexpr int kWaiters = 20000;
  auto manager = MakeManager({{{"p", 1}}});
  ASSERT_TRUE(manager);
  std::optional<Lease> holder = TryAcquireNow(*manager, Needs({{"p", 1}}));
  ASSERT_TRUE(holder.has_value());
  int granted = 0;
  for (int i = 0; i < kWaiters; ++i) {
    // Each callback drops its lease, granting the next waiter from inside the callback.
    auto ticket =
        manager->AcquireAsync(Needs({{"p", 1}}), 0, [&granted](Lease /*lease*/) { ++granted; });
    ASSERT_TRUE(ticket.ok());
  }
  holder.reset();
  EXPECT_EQ(granted, kWaiters);
  EXPECT_EQ(manager->waiting(), 0u);
}

TEST(ResourceManagerTest, ALeaseMayOutliveTheManager) {
  auto manager = MakeManager({{{"p", 1}}});
  ASSERT_TRUE(manager);
  std::optional<Lease> lease = TryAcquireNow(*manager, Needs({{"p", 1}}));
  ASSERT_TRUE(lease.has_value());
  manager.reset();
  EXPECT_FALSE(lease->empty());
  lease.reset();
}

TEST(ResourceManagerTest, TracksCpuSlotsAndMemoryLikePools) {
  ResourceCapacity capacity;
  capacity.pools = {{"p", 1}};
  capacity.cpu_slots = 4;
  capacity.memory_mb = 1000;
  auto manager = MakeManager(capacity);
  ASSERT_TRUE(manager);
  std::optional<Lease> big = TryAcquireNow(*manager, Needs({}, 3, 600));
  ASSERT_TRUE(big.has_value());
  EXPECT_FALSE(TryAcquireNow(*manager, Needs({}, 2, 0)).has_value());
  EXPECT_FALSE(TryAcquireNow(*manager, Needs({}, 0, 500)).has_value());
  std::optional<Lease> rest = TryAcquireNow(*manager, Needs({{"p", 1}}, 1, 400));
  ASSERT_TRUE(rest.has_value());

  std::vector<ResourceManager::PoolUsage> usage = manager->Usage();
  ASSERT_EQ(usage.size(), 3u);
  EXPECT_EQ(usage[0].name, "p");
  EXPECT_EQ(usage[1].name, "cpu_slots");
  EXPECT_EQ(usage[1].capacity, 4u);
  EXPECT_EQ(usage[1].in_use, 4u);
  EXPECT_EQ(usage[2].name, "memory_mb");
  EXPECT_EQ(usage[2].capacity, 1000u);
  EXPECT_EQ(usage[2].in_use, 1000u);

  std::optional<Lease> later;
  auto ticket = manager->AcquireAsync(Needs({}, 2, 100), 0,
                                      [&later](Lease lease) { later.emplace(std::move(lease)); });
  ASSERT_TRUE(ticket.ok());
  EXPECT_EQ(UsageOf(*manager, "cpu_slots").waiting, 1u);
  EXPECT_EQ(UsageOf(*manager, "memory_mb").waiting, 1u);
  EXPECT_EQ(UsageOf(*manager, "p").waiting, 0u);
  big.reset();
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(InUse(*manager, "cpu_slots"), 3u);
  EXPECT_EQ(InUse(*manager, "memory_mb"), 500u);
}

TEST(ResourceManagerTest, TheHostWideTaskLimitIsTrackedLikeASystemResource) {
  ResourceCapacity capacity;
  capacity.max_tasks = 2;
  auto manager = MakeManager(capacity);
  ASSERT_TRUE(manager);
  EXPECT_TRUE(manager->limits_tasks());
  ResourceRequirements one_task;
  one_task.task_slots = 1;
  std::optional<Lease> first = TryAcquireNow(*manager, one_task);
  std::optional<Lease> second = TryAcquireNow(*manager, one_task);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(TryAcquireNow(*manager, one_task).has_value());
  EXPECT_EQ(InUse(*manager, "max_tasks"), 2u);
  first.reset();
  EXPECT_TRUE(TryAcquireNow(*manager, one_task).has_value());

  auto untracked = MakeManager({{{"gpu", 1}}});
  ASSERT_TRUE(untracked);
  EXPECT_FALSE(untracked->limits_tasks());
  Status refused = untracked->Check(one_task);
  EXPECT_THAT(refused.message(), HasSubstr("does not track task slots"));

  ResourceCapacity reserved;
  reserved.pools = {{"max_tasks", 1}};
  EXPECT_FALSE(ResourceManager::Create(reserved).ok());
}

TEST(ResourceManagerTest, UsageOmitsUntrackedCpuAndMemory) {
  auto manager = MakeManager({{{"b", 1}, {"a", 2}}});
  ASSERT_TRUE(manager);
  std::vector<ResourceManager::PoolUsage> usage = manager->Usage();
  ASSERT_EQ(usage.size(), 2u);
  EXPECT_EQ(usage[0].name, "a");
  EXPECT_EQ(usage[0].capacity, 2u);
  EXPECT_EQ(usage[1].name, "b");
}

TEST(ResourceManagerTest, CheckNamesAnUnknownPoolAndSuggestsTheClosest) {
  auto manager = MakeManager({{{"gpu", 2}, {"db_conn", 5}}});
  ASSERT_TRUE(manager);
  EXPECT_TRUE(manager->Check(Needs({{"gpu", 2}, {"db_conn", 1}})).ok());
  Status typo = manager->Check(Needs({{"gpus", 1}}));
  EXPECT_EQ(typo.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(typo.message(), "unknown resource pool 'gpus' (did you mean 'gpu'?)");
  Status far = manager->Check(Needs({{"scratch_disk", 1}}));
  EXPECT_EQ(far.message(), "unknown resource pool 'scratch_disk' (pools: db_conn, gpu)");

  auto bare = MakeManager({});
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->Check(Needs({{"gpu", 1}})).message(),
            "unknown resource pool 'gpu' (this host has no resource pools)");
  // The system resources written as pools, by an abbreviation or a word of their name.
  // (`cpu` on a host with a `gpu` pool is one edit from it: that guess stands.)
  EXPECT_EQ(bare->Check(Needs({{"cpu", 1}})).message(),
            "unknown resource pool 'cpu' (did you mean 'cpu_slots'?)");
  for (const auto& [written, meant] :
       std::vector<std::pair<std::string, std::string>>{{"cpu_slot", "cpu_slots"},
                                                        {"memory", "memory_mb"},
                                                        {"mem_mb", "memory_mb"},
                                                        {"tasks", "max_tasks"}}) {
    for (const auto* host : {bare.get(), manager.get()}) {
      EXPECT_EQ(host->Check(Needs({{written, 1}})).message(),
                "unknown resource pool '" + written + "' (did you mean '" + meant + "'?)");
    }
  }
}

TEST(ResourceManagerTest, CheckRejectsWhatExceedsCapacityAndListsEveryProblem) {
  ResourceCapacity capacity;
  capacity.pools = {{"gpu", 2}};
  capacity.cpu_slots = 4;
  auto manager = MakeManager(capacity);
  ASSERT_TRUE(manager);
  EXPECT_EQ(manager->Check(Needs({{"gpu", 3}})).message(),
            "needs 3 slots of resource pool 'gpu', which has 2");
  EXPECT_EQ(manager->Check(Needs({}, 5)).message(), "needs 5 cpu slots, but this host has 4");
  EXPECT_EQ(manager->Check(Needs({}, 0, 512)).message(),
            "needs 512 MB of memory, but this host does not track memory (no memory_mb capacity "
            "is configured)");

  Status all = manager->Check(Needs({{"gpu", 3}, {"gpx", 1}}, 5, 512));
  EXPECT_EQ(all.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(all.message(), HasSubstr("unknown resource pool 'gpx' (did you mean 'gpu'?)\n"));
  EXPECT_THAT(all.message(), HasSubstr("needs 3 slots of resource pool 'gpu', which has 2\n"));
  EXPECT_THAT(all.message(), HasSubstr("needs 5 cpu slots, but this host has 4\n"));
  EXPECT_THAT(all.message(), HasSubstr("needs 512 MB of memory"));

  ResourceCapacity memory_only;
  memory_only.memory_mb = 1024;
  auto small = MakeManager(memory_only);
  ASSERT_TRUE(small);
  EXPECT_EQ(small->Check(Needs({}, 0, 2048)).message(),
            "needs 2048 MB of memory, but this host has 1024 MB");
  EXPECT_EQ(small->Check(Needs({}, 1)).message(),
            "needs 1 cpu slot, but this host does not track cpu slots (no cpu_slots capacity is "
            "configured)");
  EXPECT_TRUE(small->Check(Needs({}, 0, 1024)).ok());
}

TEST(ResourceManagerTest, RequestsThatCanNeverBeGrantedAreRefusedNotQueued) {
  auto manager = MakeManager({{{"gpu", 2}}});
  ASSERT_TRUE(manager);
  bool called = false;
  auto ticket =
      manager->AcquireAsync(Needs({{"gpu", 3}}), 0, [&called](Lease /*lease*/) { called = true; });
  ASSERT_FALSE(ticket.ok());
  EXPECT_EQ(ticket.status().message(), "needs 3 slots of resource pool 'gpu', which has 2");
  EXPECT_FALSE(called);
  EXPECT_EQ(manager->waiting(), 0u);
  // Nothing was reserved for it: the pool is still fully available.
  std::optional<Lease> lease = TryAcquireNow(*manager, Needs({{"gpu", 2}}));
  EXPECT_TRUE(lease.has_value());

  auto blocking = manager->Acquire(Needs({{"tpu", 1}}), 0, std::stop_token());
  ASSERT_FALSE(blocking.ok());
  EXPECT_THAT(blocking.status().message(), HasSubstr("unknown resource pool 'tpu'"));
}

TEST(ResourceManagerTest, CreateRejectsBadConfigurationNamingEveryProblem) {
  ResourceCapacity bad;
  bad.pools = {{"bad name", 1}, {"", 1}, {"gpu", 0}, {"cpu_slots", 2}, {"ok", 1}};
  Result<std::unique_ptr<ResourceManager>> created = ResourceManager::Create(bad);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument);
  const std::string& message = created.status().message();
  EXPECT_THAT(message, HasSubstr("resource pool must not be empty"));
  EXPECT_THAT(message, HasSubstr("resource pool 'bad name' contains ' '"));
  EXPECT_THAT(message, HasSubstr("resource pool 'gpu' has capacity 0"));
  EXPECT_THAT(message, HasSubstr("resource pool 'cpu_slots' has a reserved name"));
  EXPECT_THAT(message, Not(HasSubstr("'ok'")));

  ResourceCapacity reserved;
  reserved.pools = {{"memory_mb", 1}};
  EXPECT_FALSE(ResourceManager::Create(reserved).ok());
  EXPECT_TRUE(ResourceManager::Create({}).ok());
}

TEST(ResourceManagerTest, EmptyRequirementsAreGrantedAtOnceWithoutTouchingPools) {
  auto manager = MakeManager({{{"p", 1}}});
  ASSERT_TRUE(manager);
  std::optional<Lease> holder = TryAcquireNow(*manager, Needs({{"p", 1}}));
  ASSERT_TRUE(holder.has_value());
  auto waiter = manager->AcquireAsync(Needs({{"p", 1}}), 100, [](Lease /*lease*/) {});
  ASSERT_TRUE(waiter.ok());

  // Even behind a queued higher-priority waiter, and even when a pool is named with 0 slots.
  for (const ResourceRequirements& req : {Needs({}), Needs({{"p", 0}})}) {
    std::optional<Lease> lease = TryAcquireNow(*manager, req, -100);
    ASSERT_TRUE(lease.has_value());
    EXPECT_TRUE(lease->empty());
    EXPECT_EQ(manager->waiting(), 1u);
    EXPECT_EQ(InUse(*manager, "p"), 1u);
  }
  auto blocking = manager->Acquire(Needs({}), 0, std::stop_token());
  ASSERT_TRUE(blocking.ok() && blocking->has_value());
  EXPECT_TRUE((*blocking)->empty());

  EXPECT_TRUE(manager->CancelWait(*waiter));
  auto without_pools = MakeManager({});
  ASSERT_TRUE(without_pools);
  EXPECT_TRUE(TryAcquireNow(*without_pools, Needs({})).has_value());
}

TEST(ResourceManagerStressTest, RandomAcquisitionsFromEightThreadsKeepTheInvariants) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 1000;
  ResourceCapacity capacity;
  capacity.pools = {{"a", 3}, {"b", 2}, {"c", 5}};
  capacity.cpu_slots = 4;
  capacity.memory_mb = 1024;
  auto manager = MakeManager(capacity);
  ASSERT_TRUE(manager);
  const std::array<std::string, 3> pools = {"a", "b", "c"};
  // Index order of Usage(): a, b, c, cpu_slots, memory_mb.
  const std::array<uint64_t, 5> limits = {3, 2, 5, 4, 1024};
  std::array<std::atomic<uint64_t>, 5> held{};

  Watchdog watchdog;
  std::atomic<int> granted{0};
  std::atomic<int> cancelled{0};
  std::atomic<bool> done{false};
  std::thread observer([&] {
    while (!done.load()) {
      for (const ResourceManager::PoolUsage& usage : manager->Usage()) {
        EXPECT_LE(usage.in_use, usage.capacity) << usage.name;
      }
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(1234 + t));
      auto chance = [&rng](uint32_t one_in) { return rng() % one_in == 0; };
      for (int round = 0; round < kRounds; ++round) {
        ResourceRequirements req;
        std::array<uint64_t, 5> amounts{};
        for (size_t p = 0; p < pools.size(); ++p) {
          if (!chance(2)) continue;
          amounts[p] = 1 + rng() % limits[p];
          req.slots.emplace(pools[p], static_cast<uint32_t>(amounts[p]));
        }
        if (chance(3)) req.cpu_slots = static_cast<uint32_t>(amounts[3] = 1 + rng() % limits[3]);
        if (chance(3)) req.memory_mb = amounts[4] = 1 + rng() % limits[4];
        const auto priority = static_cast<int32_t>(rng() % 5) - 2;

        std::optional<Lease> lease;
        if (round % 2 == 0) {
          auto outcome = manager->Acquire(req, priority, watchdog.token());
          ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
          if (!outcome->has_value()) return;
          lease = std::move(**outcome);
        } else {
          auto box = std::make_shared<LeaseBox>();
          auto ticket =
              manager->AcquireAsync(req, priority, [box](Lease got) { box->Put(std::move(got)); });
          ASSERT_TRUE(ticket.ok()) << ticket.status().ToString();
          if (chance(10) && manager->CancelWait(*ticket)) {
            cancelled.fetch_add(1);
            continue;
          }
          lease = box->Take();
          ASSERT_TRUE(lease.has_value()) << "an async request was never granted";
        }
        granted.fetch_add(1);
        for (size_t i = 0; i < amounts.size(); ++i) {
          uint64_t now = held[i].fetch_add(amounts[i]) + amounts[i];
          EXPECT_LE(now, limits[i]) << "resource " << i << " oversubscribed";
        }
        std::this_thread::yield();
        for (size_t i = 0; i < amounts.size(); ++i) held[i].fetch_sub(amounts[i]);
        lease.reset();
      }
    });
  }
  JoinAll(threads);
  done.store(true);
  observer.join();

  EXPECT_EQ(granted.load() + cancelled.load(), kThreads * kRounds);
  EXPECT_EQ(manager->waiting(), 0u);
  for (const ResourceManager::PoolUsage& usage : manager->Usage()) {
    EXPECT_EQ(usage.in_use, 0u) << usage.name;
    EXPECT_EQ(usage.waiting, 0u) << usage.name;
  }
}

}  // namespace
}  // namespace petit

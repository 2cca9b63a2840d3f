// EventBus: ordering, subscription lifetime, the drop policy, throwing handlers, shutdown.
#include "petit/core/events.h"

#include <atomic>
#include <cstdint>
#include <future>
#include <latch>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace petit {
namespace {

Event Numbered(uint32_t n) {
  Event event;
  event.type = EventType::kTaskStarted;
  event.time_us = 1'000 + n;
  event.job = JobId("job");
  event.task = TaskId("t");
  event.attempt = n;
  return event;
}

std::vector<uint32_t> Attempts(const std::vector<Event>& events) {
  std::vector<uint32_t> attempts;
  for (const Event& event : events) attempts.push_back(event.attempt);
  return attempts;
}

std::vector<uint32_t> Range(uint32_t first, uint32_t end) {
  std::vector<uint32_t> numbers;
  for (uint32_t n = first; n < end; ++n) numbers.push_back(n);
  return numbers;
}

// Records what it is given. Only the delivery thread writes; tests read after Flush(), which
// orders those writes before the read.
struct Recorder {
  std::vector<Event> events;
  EventBus::Handler Handler() {
    return [this](const Event& event) { events.push_back(event); };
  }
};

// A handler that stops inside its first call until the test lets it go, and says when it got
// there: what a stuck subscriber looks like to the bus.
class Gate {
 public:
  EventBus::Handler Handler(Recorder& recorder) {
    return [this, &recorder](const Event& event) {
      recorder.events.push_back(event);
      if (recorder.events.size() != 1) return;
      entered_.set_value();
      release_.wait();
    };
  }
  void WaitEntered() { entered_future_.wait(); }
  void Release() { release_.count_down(); }

 private:
  std::promise<void> entered_;
  std::future<void> entered_future_ = entered_.get_future();
  std::latch release_{1};
};

TEST(EventTypeNameTest, NamesEveryTypeInSnakeCase) {
  EXPECT_EQ(EventTypeName(EventType::kTaskQueued), "task_queued");
  EXPECT_EQ(EventTypeName(EventType::kTaskStarted), "task_started");
  EXPECT_EQ(EventTypeName(EventType::kTaskRetrying), "task_retrying");
  EXPECT_EQ(EventTypeName(EventType::kTaskSucceeded), "task_succeeded");
  EXPECT_EQ(EventTypeName(EventType::kTaskFailed), "task_failed");
  EXPECT_EQ(EventTypeName(EventType::kTaskSkipped), "task_skipped");
  EXPECT_EQ(EventTypeName(EventType::kTaskCancelled), "task_cancelled");
  EXPECT_EQ(EventTypeName(EventType::kJobStarted), "job_started");
  EXPECT_EQ(EventTypeName(EventType::kJobCompleted), "job_completed");
  EXPECT_EQ(EventTypeName(EventType::kScheduleFired), "schedule_fired");
  EXPECT_EQ(EventTypeName(EventType::kTriggerRefused), "trigger_refused");
  EXPECT_EQ(EventTypeName(static_cast<EventType>(200)), "unknown");
}

TEST(EventBusTest, EveryHandlerSeesTheSameEventsInPublicationOrder) {
  EventBus bus;
  Recorder a;
  Recorder b;
  Recorder c;
  bus.Subscribe(a.Handler());
  bus.Subscribe(b.Handler());
  bus.Subscribe(c.Handler());
  for (uint32_t n = 0; n < 500; ++n) bus.Publish(Numbered(n));
  bus.Flush();
  EXPECT_EQ(Attempts(a.events), Range(0, 500));
  EXPECT_EQ(Attempts(b.events), Range(0, 500));
  EXPECT_EQ(Attempts(c.events), Range(0, 500));
}

TEST(EventBusTest, HandlersRunOneAfterAnotherInSubscriptionOrderOnOneThread) {
  EventBus bus;
  std::vector<std::pair<int, uint32_t>> calls;  // (handler, event)
  std::set<std::thread::id> threads;
  for (int handler = 0; handler < 3; ++handler) {
    bus.Subscribe([handler, &calls, &threads](const Event& event) {
      calls.emplace_back(handler, event.attempt);
      threads.insert(std::this_thread::get_id());
    });
  }
  for (uint32_t n = 0; n < 3; ++n) bus.Publish(Numbered(n));
  bus.Flush();
  const std::vector<std::pair<int, uint32_t>> expected{{0, 0}, {1, 0}, {2, 0}, {0, 1}, {1, 1},
                                                       {2, 1}, {0, 2}, {1, 2}, {2, 2}};
  EXPECT_EQ(calls, expected);
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_NE(*threads.begin(), std::this_thread::get_id());
}

TEST(EventBusTest, UnsubscribedHandlerIsNeverCalledAgain) {
  EventBus bus;
  Recorder gone;
  Recorder kept;
  const EventBus::HandlerId id = bus.Subscribe(gone.Handler());
  bus.Subscribe(kept.Handler());
  bus.Publish(Numbered(0));
  bus.Flush();
  bus.Unsubscribe(id);
  bus.Publish(Numbered(1));
  bus.Publish(Numbered(2));
  bus.Flush();
  EXPECT_EQ(Attempts(gone.events), Range(0, 1));
  EXPECT_EQ(Attempts(kept.events), Range(0, 3));
}

TEST(EventBusTest, UnsubscribeWaitsForTheRunningCallAndDestroysTheHandler) {
  EventBus bus;
  Recorder recorder;
  Gate gate;
  std::atomic<bool> unsubscribe_returned{false};
  auto captured = std::make_shared<int>(0);
  const std::weak_ptr<int> watch = captured;
  auto gated = gate.Handler(recorder);
  const EventBus::HandlerId id =
      bus.Subscribe([gated, captured, &unsubscribe_returned](const Event& event) {
        gated(event);
        EXPECT_EQ(*captured, 0);
        // Still inside the call Unsubscribe is waiting for.
        EXPECT_FALSE(unsubscribe_returned.load());
      });
  bus.Publish(Numbered(0));
  gate.WaitEntered();
  captured.reset();
  std::thread unsubscriber([&] {
    bus.Unsubscribe(id);
    unsubscribe_returned.store(true);
    // The handler, and the shared_ptr it captured, are gone by now.
    EXPECT_TRUE(watch.expired());
  });
  gate.Release();
  unsubscriber.join();
  bus.Publish(Numbered(1));
  bus.Flush();
  EXPECT_EQ(Attempts(recorder.events), Range(0, 1));
  EXPECT_FALSE(bus.has_subscribers());
}

TEST(EventBusTest, HandlerSeesOnlyEventsPublishedAfterItSubscribed) {
  EventBus bus;
  Recorder early;
  Gate gate;
  bus.Subscribe(gate.Handler(early));
  bus.Publish(Numbered(0));
  gate.WaitEntered();
  bus.Publish(Numbered(1));  // still queued while the late handler subscribes
  Recorder late;
  bus.Subscribe(late.Handler());
  bus.Publish(Numbered(2));
  gate.Release();
  bus.Flush();
  EXPECT_EQ(Attempts(early.events), Range(0, 3));
  EXPECT_EQ(Attempts(late.events), Range(2, 3));
}

TEST(EventBusTest, DeliversTheTimestampGivenNotTheDeliveryTime) {
  EventBus bus;
  Recorder recorder;
  bus.Subscribe(recorder.Handler());
  const std::vector<int64_t> times{5, 3, 1'700'000'000'000'000, 0, -7};
  for (int64_t time : times) {
    Event event;
    event.time_us = time;
    bus.Publish(std::move(event));
  }
  bus.Flush();
  std::vector<int64_t> seen;
  for (const Event& event : recorder.events) seen.push_back(event.time_us);
  EXPECT_EQ(seen, times);
}

TEST(EventBusTest, CarriesEveryField) {
  EventBus bus;
  Recorder recorder;
  bus.Subscribe(recorder.Handler());
  const RunId run = RunId::GenerateAt(1'700'000'000'000);
  bus.Publish(Event{.type = EventType::kTaskRetrying,
                    .time_us = 123'456,
                    .job = JobId("etl"),
                    .run = run,
                    .task = TaskId("extract"),
                    .attempt = 3,
                    .detail = "exit code 2; retry at 2024-01-01T00:00:05Z"});
  bus.Publish(Event{.type = EventType::kJobCompleted,
                    .time_us = 200'000,
                    .job = JobId("etl"),
                    .run = run,
                    .detail = "failed"});
  bus.Flush();
  ASSERT_EQ(recorder.events.size(), 2u);
  const Event& retry = recorder.events[0];
  EXPECT_EQ(retry.type, EventType::kTaskRetrying);
  EXPECT_EQ(retry.time_us, 123'456);
  EXPECT_EQ(retry.job, JobId("etl"));
  EXPECT_EQ(retry.run, run);
  EXPECT_EQ(retry.task, TaskId("extract"));
  EXPECT_EQ(retry.attempt, 3u);
  EXPECT_EQ(retry.detail, "exit code 2; retry at 2024-01-01T00:00:05Z");
  const Event& completed = recorder.events[1];
  EXPECT_EQ(completed.type, EventType::kJobCompleted);
  EXPECT_EQ(completed.time_us, 200'000);
  EXPECT_EQ(completed.run, run);
  EXPECT_TRUE(completed.task.empty());
  EXPECT_EQ(completed.attempt, 0u);
  EXPECT_EQ(completed.detail, "failed");
}

TEST(EventBusTest, PublishFromManyThreadsKeepsEachThreadsOrderAndLosesNothing) {
  constexpr int kThreads = 4;
  constexpr uint32_t kPerThread = 5'000;
  EventBus bus(kThreads * kPerThread);
  Recorder recorder;
  bus.Subscribe(recorder.Handler());
  std::latch start(kThreads);
  std::vector<std::thread> publishers;
  for (int t = 0; t < kThreads; ++t) {
    publishers.emplace_back([&bus, &start, t] {
      start.arrive_and_wait();
      for (uint32_t n = 0; n < kPerThread; ++n) {
        Event event = Numbered(n);
        event.detail = std::to_string(t);
        bus.Publish(std::move(event));
      }
    });
  }
  for (std::thread& publisher : publishers) publisher.join();
  bus.Flush();
  EXPECT_EQ(bus.dropped(), 0u);
  ASSERT_EQ(recorder.events.size(), size_t{kThreads} * kPerThread);
  std::vector<std::vector<uint32_t>> per_thread(kThreads);
  for (const Event& event : recorder.events) {
    per_thread[static_cast<size_t>(std::stoi(event.detail))].push_back(event.attempt);
  }
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(per_thread[static_cast<size_t>(t)], Range(0, kPerThread)) << "thread " << t;
  }
}

TEST(EventBusTest, SlowHandlerNeverBlocksPublishAndOverflowIsDroppedAndCounted) {
  constexpr uint32_t kCapacity = 64;
  constexpr uint32_t kOverflow = 100;
  EventBus bus(kCapacity);
  Recorder recorder;
  Gate gate;
  bus.Subscribe(gate.Handler(recorder));
  bus.Publish(Numbered(0));
  gate.WaitEntered();
  // The handler is stuck inside event 0; if Publish waited for it, this loop would never end.
  for (uint32_t n = 1; n <= kCapacity + kOverflow; ++n) bus.Publish(Numbered(n));
  EXPECT_EQ(bus.dropped(), kOverflow);
  gate.Release();
  bus.Flush();
  // The queue kept the oldest events; the newest were dropped.
  EXPECT_EQ(Attempts(recorder.events), Range(0, kCapacity + 1));
  EXPECT_EQ(bus.dropped(), kOverflow);
}

TEST(EventBusTest, WithoutSubscribersTheEventIsNeverBuilt) {
  EventBus bus;
  int built = 0;
  auto make = [&built] {
    ++built;
    return Numbered(0);
  };
  bus.Emit(make);
  bus.Emit(make);
  EXPECT_EQ(built, 0);
  EXPECT_FALSE(bus.has_subscribers());

  Recorder recorder;
  const EventBus::HandlerId id = bus.Subscribe(recorder.Handler());
  EXPECT_TRUE(bus.has_subscribers());
  bus.Emit(make);
  bus.Flush();
  EXPECT_EQ(built, 1);
  EXPECT_EQ(recorder.events.size(), 1u);

  bus.Unsubscribe(id);
  EXPECT_FALSE(bus.has_subscribers());
  bus.Emit(make);
  EXPECT_EQ(built, 1);
  EXPECT_EQ(bus.dropped(), 0u);
}

TEST(EventBusTest, EventsPublishedWithNobodyListeningAreNotKept) {
  EventBus bus;
  bus.Publish(Numbered(0));
  bus.Flush();
  Recorder recorder;
  bus.Subscribe(recorder.Handler());
  bus.Publish(Numbered(1));
  bus.Flush();
  EXPECT_EQ(Attempts(recorder.events), Range(1, 2));
}

TEST(EventBusTest, ThrowingHandlerIsCountedAndDeliveryGoesOn) {
  EventBus bus;
  Recorder before;
  Recorder after;
  bus.Subscribe(before.Handler());
  bus.Subscribe([](const Event& event) {
    if (event.attempt % 2 == 0) throw std::runtime_error("handler bug");
    throw 42;  // not even a std::exception
  });
  bus.Subscribe(after.Handler());
  for (uint32_t n = 0; n < 4; ++n) bus.Publish(Numbered(n));
  bus.Flush();
  EXPECT_EQ(Attempts(before.events), Range(0, 4));
  EXPECT_EQ(Attempts(after.events), Range(0, 4));
  EXPECT_EQ(bus.handler_errors(), 4u);
}

// Lets the stuck handler go immediately before the bus is destroyed, on the same thread, so the
// destructor usually starts while events are still queued. Either way it must deliver them all.
struct ReleasedThenDestroyed {
  explicit ReleasedThenDestroyed(Gate& gate_in) : gate(gate_in) {}
  ~ReleasedThenDestroyed() { gate.Release(); }  // runs before `bus` is destroyed
  Gate& gate;
  EventBus bus;
};

TEST(EventBusTest, DestructorDeliversWhatIsQueued) {
  Recorder recorder;
  Gate gate;
  auto owner = std::make_unique<ReleasedThenDestroyed>(gate);
  owner->bus.Subscribe(gate.Handler(recorder));
  owner->bus.Publish(Numbered(0));
  gate.WaitEntered();
  for (uint32_t n = 1; n < 10; ++n) owner->bus.Publish(Numbered(n));
  owner.reset();
  EXPECT_EQ(Attempts(recorder.events), Range(0, 10));
}

TEST(EventBusTest, HandlerCanUnsubscribeItselfWithoutDeadlock) {
  EventBus bus;
  Recorder recorder;
  Recorder other;
  EventBus::HandlerId self = 0;
  self = bus.Subscribe([&bus, &self, &recorder](const Event& event) {
    recorder.events.push_back(event);
    bus.Unsubscribe(self);
  });
  bus.Subscribe(other.Handler());
  for (uint32_t n = 0; n < 3; ++n) bus.Publish(Numbered(n));
  bus.Flush();
  EXPECT_EQ(Attempts(recorder.events), Range(0, 1));
  EXPECT_EQ(Attempts(other.events), Range(0, 3));
}

TEST(EventBusTest, HandlerCanUnsubscribeALaterHandlerBeforeItsTurn) {
  EventBus bus;
  Recorder later;
  EventBus::HandlerId later_id = 0;
  bus.Subscribe([&bus, &later_id](const Event&) { bus.Unsubscribe(later_id); });
  later_id = bus.Subscribe(later.Handler());
  bus.Publish(Numbered(0));
  bus.Publish(Numbered(1));
  bus.Flush();
  EXPECT_TRUE(later.events.empty());
}

TEST(EventBusTest, HandlerCanSubscribeAndPublish) {
  EventBus bus;
  Recorder added;
  bool subscribed = false;
  bus.Subscribe([&](const Event& event) {
    if (event.attempt != 0) return;
    if (!subscribed) {
      subscribed = true;
      bus.Subscribe(added.Handler());
    }
    bus.Publish(Numbered(1));
  });
  bus.Publish(Numbered(0));
  bus.Flush();
  // Flush() waits only for what was queued when it was called; event 1 was queued by the
  // handler during the first Flush(), so the second one covers it.
  bus.Flush();
  EXPECT_EQ(Attempts(added.events), Range(1, 2));
}

}  // namespace
}  // namespace petit

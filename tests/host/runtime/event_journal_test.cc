// EventJournal: ids, order, filters, the ring's bound and the gaps it reports, Wait, and events
// arriving through a real EventBus from several publishers.
#include "runtime/event_journal.h"

#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "petit/core/mutex.h"

namespace petit::host {
namespace {

using std::chrono::steady_clock;

Event TaskEvent(const std::string& job, const RunId& run, const std::string& task,
                EventType type = EventType::kTaskStarted) {
  return Event{.type = type,
               .time_us = 1'000'000,
               .job = JobId(job),
               .run = run,
               .task = TaskId(task),
               .attempt = 1};
}

std::vector<uint64_t> Ids(const JournalPage& page) {
  std::vector<uint64_t> ids;
  for (const JournalEvent& e : page.events) ids.push_back(e.id);
  return ids;
}

steady_clock::time_point Far() { return steady_clock::now() + std::chrono::minutes(5); }

TEST(EventJournalTest, NumbersEventsFromOneInOrder) {
  EventBus bus;
  EventJournal journal(bus, 100);
  const RunId run = RunId::Generate();
  for (int i = 0; i < 5; ++i) journal.Append(TaskEvent("j", run, "t" + std::to_string(i)));
  JournalPage page = journal.Since(0, {}, 100);
  EXPECT_FALSE(page.gap);
  EXPECT_EQ(Ids(page), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(page.events[3].event.task.str(), "t3");
  EXPECT_EQ(page.next_after, 5u);
  EXPECT_EQ(page.oldest_id, 1u);
  EXPECT_EQ(page.newest_id, 5u);
  EXPECT_EQ(journal.newest_id(), 5u);

  page = journal.Since(3, {}, 100);
  EXPECT_FALSE(page.gap);
  EXPECT_EQ(Ids(page), (std::vector<uint64_t>{4, 5}));
  page = journal.Since(5, {}, 100);
  EXPECT_TRUE(page.events.empty());
  EXPECT_FALSE(page.gap);
  EXPECT_EQ(page.next_after, 5u);
}

TEST(EventJournalTest, AnEmptyJournalHasNoGapFromZeroAndOneFromAnyOtherId) {
  EventBus bus;
  EventJournal journal(bus, 10);
  EXPECT_FALSE(journal.Since(0, {}, 10).gap);
  JournalPage page = journal.Since(7, {}, 10);
  EXPECT_TRUE(page.gap);
  EXPECT_EQ(page.next_after, 0u);
}

TEST(EventJournalTest, MaxBoundsThePageAndNextAfterContinuesIt) {
  EventBus bus;
  EventJournal journal(bus, 100);
  const RunId run = RunId::Generate();
  for (int i = 0; i < 5; ++i) journal.Append(TaskEvent("j", run, "t"));
  JournalPage page = journal.Since(0, {}, 2);
  EXPECT_EQ(Ids(page), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(page.next_after, 2u);
  page = journal.Since(page.next_after, {}, 2);
  EXPECT_EQ(Ids(page), (std::vector<uint64_t>{3, 4}));
  EXPECT_TRUE(journal.Since(0, {}, 0).events.empty());
}

TEST(EventJournalTest, FiltersByJobByRunAndByBoth) {
  EventBus bus;
  EventJournal journal(bus, 100);
  const RunId a = RunId::Generate();
  const RunId b = RunId::Generate();
  journal.Append(TaskEvent("x", a, "t"));  // 1
  journal.Append(TaskEvent("y", b, "t"));  // 2
  journal.Append(TaskEvent("x", b, "t"));  // 3 (a run id of another job: only for the test)
  journal.Append(Event{.type = EventType::kTriggerRefused, .job = JobId("x")});  // 4, no run

  EXPECT_EQ(Ids(journal.Since(0, {.job = JobId("x")}, 10)), (std::vector<uint64_t>{1, 3, 4}));
  EXPECT_EQ(Ids(journal.Since(0, {.run = b}, 10)), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(Ids(journal.Since(0, {.job = JobId("x"), .run = b}, 10)), (std::vector<uint64_t>{3}));
  JournalPage none = journal.Since(0, {.job = JobId("z")}, 10);
  EXPECT_TRUE(none.events.empty());
  // A filtered reader still moves past what it looked at.
  EXPECT_EQ(none.next_after, 4u);
}

TEST(EventJournalTest, OverflowKeepsTheNewestAndReportsAGapToWhoeverFellOff) {
  EventBus bus;
  EventJournal journal(bus, 4);
  const RunId run = RunId::Generate();
  for (int i = 1; i <= 10; ++i) {
    Event e = TaskEvent("j", run, "t");
    e.time_us = i;
    journal.Append(e);
  }
  JournalPage page = journal.Since(0, {}, 100);
  EXPECT_TRUE(page.gap);
  EXPECT_EQ(Ids(page), (std::vector<uint64_t>{7, 8, 9, 10}));
  EXPECT_EQ(page.oldest_id, 7u);
  EXPECT_EQ(page.oldest_time_us, 7);
  // Id 6 was seen: 7 onwards are all held.
  page = journal.Since(6, {}, 100);
  EXPECT_FALSE(page.gap);
  EXPECT_EQ(Ids(page), (std::vector<uint64_t>{7, 8, 9, 10}));
  // Id 5 was seen: 6 is lost.
  page = journal.Since(5, {}, 100);
  EXPECT_TRUE(page.gap);
  EXPECT_EQ(Ids(page), (std::vector<uint64_t>{7, 8, 9, 10}));
  // An id from before this journal (a restarted daemon): beyond the newest is a gap too.
  page = journal.Since(1000, {}, 100);
  EXPECT_TRUE(page.gap);
  EXPECT_EQ(Ids(page), (std::vector<uint64_t>{7, 8, 9, 10}));
  EXPECT_EQ(journal.capacity(), 4u);
}

TEST(EventJournalTest, OneSinceLooksAtNoMoreThanMaxScanSlots) {
  EventBus bus;
  EventJournal journal(bus, EventJournal::kMaxScan * 2);
  const RunId run = RunId::Generate();
  for (size_t i = 0; i < EventJournal::kMaxScan + 10; ++i) journal.Append(TaskEvent("j", run, "t"));
  JournalPage page = journal.Since(0, {.job = JobId("other")}, 100);
  EXPECT_TRUE(page.events.empty());
  EXPECT_EQ(page.next_after, EventJournal::kMaxScan);
  page = journal.Since(page.next_after, {.job = JobId("other")}, 100);
  EXPECT_EQ(page.next_after, EventJournal::kMaxScan + 10);
}

TEST(EventJournalTest, LongDetailsAreCutAtACharacterBoundary) {
  EventBus bus;
  EventJournal journal(bus, 4);
  Event e = TaskEvent("j", RunId::Generate(), "t");
  // "é" is two bytes: an odd prefix puts the limit inside one of them.
  e.detail = "x" + std::string(2000, ' ');
  for (size_t i = 1; i < e.detail.size(); i += 2) e.detail.replace(i, 2, "\xC3\xA9");
  journal.Append(e);
  const std::string kept = journal.Since(0, {}, 1).events.at(0).event.detail;
  EXPECT_LE(kept.size(), EventJournal::kMaxDetailBytes + 3);
  EXPECT_TRUE(kept.ends_with("\xC3\xA9..."));
  e.detail = std::string(EventJournal::kMaxDetailBytes, 'a');
  journal.Append(e);
  EXPECT_EQ(journal.Since(1, {}, 1).events.at(0).event.detail, e.detail);
}

TEST(EventJournalTest, WaitReturnsAtOnceWhenNewerIsHeldAndAtTheDeadlineOtherwise) {
  EventBus bus;
  EventJournal journal(bus, 4);
  EXPECT_FALSE(journal.Wait(0, steady_clock::now()));
  journal.Append(TaskEvent("j", RunId::Generate(), "t"));
  EXPECT_TRUE(journal.Wait(0, Far()));
  EXPECT_FALSE(journal.Wait(1, steady_clock::now()));
}

TEST(EventJournalTest, WaitWakesOnAnEventPublishedOnTheBus) {
  EventBus bus;
  EventJournal journal(bus, 4);
  std::future<bool> woke = std::async(std::launch::async, [&] { return journal.Wait(0, Far()); });
  bus.Publish(TaskEvent("j", RunId::Generate(), "t"));
  EXPECT_TRUE(woke.get());
  EXPECT_EQ(journal.newest_id(), 1u);
}

TEST(EventJournalTest, WaitWakesOnStopAndLaterWaitsReturnAtOnce) {
  EventBus bus;
  EventJournal journal(bus, 4);
  std::future<bool> woke = std::async(std::launch::async, [&] { return journal.Wait(0, Far()); });
  journal.Stop();
  EXPECT_FALSE(woke.get());
  EXPECT_TRUE(journal.stopped());
  EXPECT_FALSE(journal.Wait(0, Far()));
}

TEST(EventJournalTest, ConcurrentPublishersEachKeepTheirOrderAndEveryEventGetsOneId) {
  EventBus bus;
  constexpr int kThreads = 4;
  constexpr int kEach = 500;
  EventJournal journal(bus, kThreads * kEach);
  std::vector<RunId> runs;
  for (int t = 0; t < kThreads; ++t) runs.push_back(RunId::Generate());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Event e = TaskEvent("j", runs[t], "t");
        e.attempt = static_cast<uint32_t>(i);
        bus.Publish(std::move(e));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  bus.Flush();
  ASSERT_EQ(bus.dropped(), 0u);
  JournalPage all = journal.Since(0, {}, kThreads * kEach);
  ASSERT_EQ(all.events.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_FALSE(all.gap);
  for (size_t i = 0; i < all.events.size(); ++i) EXPECT_EQ(all.events[i].id, i + 1);
  for (int t = 0; t < kThreads; ++t) {
    JournalPage mine = journal.Since(0, {.run = runs[t]}, kThreads * kEach);
    ASSERT_EQ(mine.events.size(), static_cast<size_t>(kEach));
    for (int i = 0; i < kEach; ++i)
      EXPECT_EQ(mine.events[i].event.attempt, static_cast<uint32_t>(i));
  }
}

TEST(EventJournalTest, EventsTheBusDroppedAreAGapForReadersThatCrossThem) {
  // A bus of capacity 1 behind a handler held on its first event: the third publish is dropped.
  EventBus bus(1);
  Mutex mu;
  CondVar cv(mu);
  bool entered = false;
  bool release = false;
  bus.Subscribe([&](const Event&) {
    MutexLock lock(mu);
    entered = true;
    cv.SignalAll();
    while (!release) cv.Wait(mu);
  });
  EventJournal journal(bus, 10);
  const RunId run = RunId::Generate();
  bus.Publish(TaskEvent("j", run, "a"));  // in delivery, held
  {
    MutexLock lock(mu);
    while (!entered) cv.Wait(mu);
  }
  bus.Publish(TaskEvent("j", run, "b"));  // queued
  bus.Publish(TaskEvent("j", run, "c"));  // dropped
  {
    MutexLock lock(mu);
    release = true;
    cv.SignalAll();
  }
  bus.Flush();
  bus.Publish(TaskEvent("j", run, "d"));
  bus.Flush();
  ASSERT_EQ(bus.dropped(), 1u);
  JournalPage page = journal.Since(0, {}, 10);
  ASSERT_EQ(page.events.size(), 3u);
  EXPECT_TRUE(page.gap);
  // Ids 1 (a) and 2 (b) were seen: the loss lies between b and d.
  EXPECT_TRUE(journal.Since(2, {}, 10).gap);
  // Past the loss, no gap.
  EXPECT_FALSE(journal.Since(3, {}, 10).gap);
  EXPECT_FALSE(journal.Since(1, {}, 1).gap);
}

}  // namespace
}  // namespace petit::host

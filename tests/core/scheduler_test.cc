// The scheduler on a ManualClock: every rule of DESIGN §5 that the scheduler owns, in milliseconds
// of real time. Nothing here sleeps: the scheduler's pass hook, the fake launcher and the event
// bus signal condition variables, and kPatience only bounds how long a broken build makes us wait.
#include "petit/core/scheduler.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/flaky_state_store.h"
#include "petit/core/clock.h"
#include "petit/core/events.h"
#include "petit/core/execute_run.h"
#include "petit/core/job.h"
#include "petit/core/schedule.h"
#include "petit/core/state_store.h"
#include "petit/storage/open.h"

namespace petit {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kHour = 3600 * kSecond;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kBase = 1767225600 * kSecond;  // 2026-01-01T00:00:00Z
// Generous: it only turns a hang into a failure; no test waits for it to pass.
constexpr auto kPatience = std::chrono::seconds(60);

// Records launches; a run ends only when the test says so.
class FakeLauncher final : public RunLauncher {
 public:
  Result<std::unique_ptr<RunHandle>> Launch(const RunRequest& request,
                                            RunEndCallback on_end) override {
    std::lock_guard lock(mu_);
    if (fail_launches_) {
      failed_runs_.push_back(request.run_id);
      if (admit_then_fail_ != nullptr) {
        // The admission lands, its answer is lost.
        RunRecord run;
        run.id = request.run_id;
        run.job = request.job->id;
        run.status = RunStatus::kQueued;
        run.created_us = request.occurrence_us;
        run.occurrence_us = request.occurrence_us;
        EXPECT_TRUE(admit_then_fail_->CreateRun(run).ok());
        return Unavailable("the connection was lost after COMMIT");
      }
      return Unavailable("no threads left");
    }
    if (!refusal_.empty()) return FailedPrecondition(refusal_);
    runs_.push_back(Launched{request, std::move(on_end)});
    cv_.notify_all();
    return std::unique_ptr<RunHandle>(new Handle(*this, runs_.size() - 1));
  }

  std::vector<Result<std::unique_ptr<RunHandle>>> LaunchBatch(
      std::span<const RunRequest> requests, std::vector<RunEndCallback> on_ends) override {
    {
      std::lock_guard lock(mu_);
      batches_.push_back(requests.size());
    }
    return RunLauncher::LaunchBatch(requests, std::move(on_ends));
  }

  // Keeps the records the scheduler hands over with a tick's runs, and holds the tick there while
  // Hold() is in force; then saves and launches them as the default does.
  BatchLaunch LaunchBatchSavingJobs(std::span<const RunRequest> requests,
                                    std::vector<RunEndCallback> on_ends,
                                    std::span<const JobRecord> jobs, StateStore& store) override {
    {
      std::unique_lock lock(mu_);
      job_batches_.emplace_back(jobs.begin(), jobs.end());
      held_ = hold_;
      cv_.notify_all();
      if (!cv_.wait_for(lock, kPatience, [&] { return !hold_; })) {
        ADD_FAILURE() << "the launcher was held for good";
      }
      held_ = false;
    }
    return RunLauncher::LaunchBatchSavingJobs(requests, std::move(on_ends), jobs, store);
  }

  // From now on LaunchBatchSavingJobs waits for Release().
  void Hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  void Release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    cv_.notify_all();
  }
  // Until a tick is held in LaunchBatchSavingJobs.
  bool WaitForHeld() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kPatience, [&] { return held_; });
  }

  // (job, last_fire_us relative to kBase in seconds) of the records handed over with each tick.
  std::vector<std::vector<std::pair<std::string, int64_t>>> JobBatches() {
    std::lock_guard lock(mu_);
    std::vector<std::vector<std::pair<std::string, int64_t>>> batches;
    for (const std::vector<JobRecord>& records : job_batches_) {
      auto& batch = batches.emplace_back();
      for (const JobRecord& record : records) {
        batch.emplace_back(record.id.str(), (record.last_fire_us - kBase) / kSecond);
      }
    }
    return batches;
  }

  // The size of each LaunchBatch call so far.
  std::vector<size_t> Batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }

  bool WaitForLaunches(size_t count) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kPatience, [&] { return runs_.size() >= count; });
  }

  bool WaitForCancel(size_t index) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kPatience,
                        [&] { return index < runs_.size() && runs_[index].cancelled; });
  }

  // Reports run `index` as ended, like a launcher thread whose ExecuteRun returned.
  void End(size_t index) {
    RunEndCallback on_end;
    {
      std::lock_guard lock(mu_);
      ASSERT_LT(index, runs_.size());
      ASSERT_FALSE(runs_[index].ended) << "run " << index << " ended twice";
      runs_[index].ended = true;
      on_end = runs_[index].on_end;
    }
    on_end();
  }

  // Ends every run launched, including those launched meanwhile, until `Stopped()` is called.
  void EndRunsUntilStopped() {
    std::unique_lock lock(mu_);
    while (true) {
      bool progressed =
          cv_.wait_for(lock, kPatience, [&] { return stopped_ || Unended() < runs_.size(); });
      if (!progressed) {
        ADD_FAILURE() << "the scheduler did not stop";
        return;
      }
      if (stopped_) return;
      const size_t index = Unended();
      runs_[index].ended = true;
      RunEndCallback on_end = runs_[index].on_end;
      lock.unlock();
      on_end();
      lock.lock();
    }
  }

  void Stopped() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }

  // Refuses every launch as the store's admission would (kFailedPrecondition), until cleared.
  void set_refusal(std::string refusal) {
    std::lock_guard lock(mu_);
    refusal_ = std::move(refusal);
  }

  void set_fail_launches(bool fail) {
    std::lock_guard lock(mu_);
    fail_launches_ = fail;
  }

  // With set_fail_launches: each failing launch first records its run in `store`, queued, as an
  // admission whose answer was lost would.
  void set_admit_then_fail(StateStore* store) {
    std::lock_guard lock(mu_);
    admit_then_fail_ = store;
  }

  // The run of the last launch refused while set_fail_launches was on.
  RunId last_failed_run() {
    std::lock_guard lock(mu_);
    return failed_runs_.empty() ? RunId() : failed_runs_.back();
  }

  size_t count() {
    std::lock_guard lock(mu_);
    return runs_.size();
  }

  RunRequest request(size_t index) {
    std::lock_guard lock(mu_);
    return runs_.at(index).request;
  }

  bool cancelled(size_t index) {
    std::lock_guard lock(mu_);
    return runs_.at(index).cancelled;
  }

  // (job, occurrence relative to kBase in seconds) of every launch so far.
  std::vector<std::pair<std::string, int64_t>> Fired() {
    std::lock_guard lock(mu_);
    std::vector<std::pair<std::string, int64_t>> fired;
    for (const Launched& run : runs_) {
      fired.emplace_back(run.request.job->id.str(), (run.request.occurrence_us - kBase) / kSecond);
    }
    return fired;
  }

 private:
  struct Launched {
    RunRequest request;
    RunEndCallback on_end;
    bool cancelled = false;
    bool ended = false;
  };

  class Handle final : public RunHandle {
   public:
    Handle(FakeLauncher& launcher, size_t index) : launcher_(launcher), index_(index) {}
    void Cancel() override {
      std::lock_guard lock(launcher_.mu_);
      launcher_.runs_[index_].cancelled = true;
      launcher_.cv_.notify_all();
    }

   private:
    FakeLauncher& launcher_;
    const size_t index_;
  };

  size_t Unended() const {  // requires mu_
    size_t index = 0;
    while (index < runs_.size() && runs_[index].ended) ++index;
    return index;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Launched> runs_;                       // guarded by mu_
  std::vector<size_t> batches_;                      // guarded by mu_
  std::vector<std::vector<JobRecord>> job_batches_;  // guarded by mu_
  bool hold_ = false;                                // guarded by mu_
  bool held_ = false;                                // guarded by mu_
  bool fail_launches_ = false;                       // guarded by mu_
  std::vector<RunId> failed_runs_;                   // guarded by mu_
  StateStore* admit_then_fail_ = nullptr;            // guarded by mu_
  std::string refusal_;                              // guarded by mu_
  bool stopped_ = false;                             // guarded by mu_
};

// What the scheduler thread has done: its passes, through SchedulerOptions::on_pass.
class Passes {
 public:
  SchedulerOptions Options() {
    SchedulerOptions options;
    options.on_pass = [this](const SchedulerPass& pass) {
      std::lock_guard lock(mu_);
      last_ = pass;
      ++count_;
      cv_.notify_all();
    };
    return options;
  }

  // The first pass that looked at the clock at `t_us` or later.
  std::optional<SchedulerPass> WaitForPassAt(int64_t t_us) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kPatience, [&] { return count_ > 0 && last_.now_us >= t_us; })) {
      return std::nullopt;
    }
    return last_;
  }

  bool WaitForPasses(uint64_t count) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kPatience, [&] { return count_ >= count; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  SchedulerPass last_;  // guarded by mu_
  uint64_t count_ = 0;  // guarded by mu_
};

class EventLog {
 public:
  explicit EventLog(EventBus& bus) : bus_(bus) {
    id_ = bus_.Subscribe([this](const Event& event) {
      std::lock_guard lock(mu_);
      events_.push_back(event);
      cv_.notify_all();
    });
  }
  ~EventLog() { bus_.Unsubscribe(id_); }

  // The first event of `type` for `job` whose detail contains `text`.
  std::optional<Event> WaitFor(EventType type, const std::string& job, const std::string& text) {
    std::unique_lock lock(mu_);
    std::optional<Event> found;
    cv_.wait_for(lock, kPatience, [&] {
      for (const Event& event : events_) {
        if (event.type == type && event.job.str() == job &&
            event.detail.find(text) != std::string::npos) {
          found = event;
          return true;
        }
      }
      return false;
    });
    return found;
  }

  // Every event of `type` delivered so far (after a Flush, every one published so far).
  std::vector<Event> Of(EventType type) {
    bus_.Flush();
    std::lock_guard lock(mu_);
    std::vector<Event> matching;
    for (const Event& event : events_) {
      if (event.type == type) matching.push_back(event);
    }
    return matching;
  }

 private:
  EventBus& bus_;
  EventBus::HandlerId id_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;  // guarded by mu_
};

std::shared_ptr<Job> MakeJob(const std::string& id, const std::string& expression = "",
                             const std::string& zone = "UTC") {
  auto job = std::make_shared<Job>();
  job->id = JobId(id);
  job->name = id;
  if (!expression.empty()) {
    Result<Schedule> schedule = Schedule::Parse(expression, zone);
    EXPECT_TRUE(schedule.ok()) << schedule.status().ToString();
    if (schedule.ok()) job->schedule = *schedule;
  }
  return job;
}

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore("memory:");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  void TearDown() override {
    if (scheduler_ == nullptr) return;
    std::thread stopper([&] {
      scheduler_->Stop(StopMode::kCancelRuns);
      launcher_.Stopped();
    });
    launcher_.EndRunsUntilStopped();
    stopper.join();
    scheduler_.reset();
  }

  Scheduler& Start(std::vector<std::shared_ptr<Job>> jobs,
                   const std::function<void(SchedulerOptions&)>& adjust = {}) {
    std::vector<std::shared_ptr<const Job>> shared(jobs.begin(), jobs.end());
    SchedulerOptions options = passes_.Options();
    if (adjust) adjust(options);
    scheduler_ = std::make_unique<Scheduler>(std::move(shared), clock_, *store_, launcher_, &bus_,
                                             std::move(options));
    Status started = scheduler_->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    return *scheduler_;
  }

  // Moves the clock to `t_us`, when something falls due, and waits until the scheduler has dealt
  // with it.
  SchedulerPass AdvanceTo(int64_t t_us) {
    clock_.Set(t_us);
    std::optional<SchedulerPass> pass = passes_.WaitForPassAt(t_us);
    EXPECT_TRUE(pass.has_value()) << "no scheduler pass at " << t_us;
    return pass.value_or(SchedulerPass{});
  }

  // Starts job "n", daily at 00:00:10, with every launch failing as a store that does not answer
  // fails it, and moves the clock to that first fire (kHeldFire).
  static constexpr int64_t kHeldFire = kBase + 10 * kSecond;
  Scheduler& StartAndFireWithTheStoreDown(
      const std::function<void(SchedulerOptions&)>& adjust = {}) {
    Scheduler& scheduler = Start({MakeJob("n", "10 0 0 * * *")}, adjust);
    launcher_.set_fail_launches(true);
    AdvanceTo(kHeldFire);
    return scheduler;
  }

  void SaveRecord(const std::string& job, int64_t last_fire_us, bool paused = false) {
    JobRecord record;
    record.id = JobId(job);
    record.paused = paused;
    record.last_fire_us = last_fire_us;
    record.updated_us = kBase - kDay;
    ASSERT_TRUE(store_->SaveJob(record).ok());
  }

  JobRecord Record(const std::string& job) {
    Result<std::optional<JobRecord>> record = store_->GetJob(JobId(job));
    EXPECT_TRUE(record.ok()) << record.status().ToString();
    return record.ok() && record->has_value() ? **record : JobRecord{};
  }

  // A run of `job` recorded directly, as another host process would have.
  void RecordRun(const std::string& job, RunStatus status, int64_t ended_us) {
    RunRecord run;
    run.id = RunId::GenerateAt(ended_us / 1000);
    run.job = JobId(job);
    run.status = status;
    run.created_us = run.started_us = ended_us - kSecond;
    run.ended_us = IsTerminal(status) ? ended_us : 0;
    ASSERT_TRUE(store_->CreateRun(run).ok());
  }

  ManualClock clock_{kBase + kSecond};
  std::unique_ptr<StateStore> inner_store_;  // under store_ when a test wraps it
  std::unique_ptr<StateStore> store_;
  EventBus bus_;
  EventLog events_{bus_};
  FakeLauncher launcher_;
  Passes passes_;
  std::unique_ptr<Scheduler> scheduler_;  // last: destroyed first
};

// Runs a daemon's recovery took over are still active in the store: one the job has room for is
// launched as it was taken over (no admission again); one it has no room for ends interrupted
// rather than stay running under a live owner that never runs it.
TEST_F(SchedulerTest, TakenOverRunsStartAsTheyAreOrEndInterruptedWhenThereIsNoRoom) {
  auto job = MakeJob("j");
  job->max_active_runs = 1;
  std::vector<Scheduler::ResumeRequest> resume;
  for (int i = 0; i < 2; ++i) {
    RunRecord run;
    run.id = RunId::Generate();
    run.job = JobId("j");
    run.status = RunStatus::kRunning;
    run.owner = "host/1/1";
    run.created_us = kBase - kSecond + i;
    ASSERT_TRUE(store_->CreateRun(run).ok());
    resume.push_back({run.job, run.id, std::make_shared<RunResumption>(),
                      std::make_shared<const RunRecord>(run)});
  }
  scheduler_ = std::make_unique<Scheduler>(std::vector<std::shared_ptr<const Job>>{job}, clock_,
                                           *store_, launcher_, &bus_, passes_.Options());
  Status started = scheduler_->Start(resume);
  ASSERT_TRUE(started.ok()) << started.ToString();

  ASSERT_EQ(launcher_.count(), 1u);
  const RunRequest launched = launcher_.request(0);
  EXPECT_EQ(launched.run_id, resume[0].run);
  EXPECT_EQ(launched.trigger, "recovery");
  ASSERT_NE(launched.admitted, nullptr);
  EXPECT_EQ(launched.admitted->owner, "host/1/1");
  EXPECT_EQ(store_->GetRun(resume[0].run)->value().status, RunStatus::kRunning);

  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "j", "the run stays interrupted"));
  const RunRecord refused = store_->GetRun(resume[1].run)->value();
  EXPECT_EQ(refused.status, RunStatus::kInterrupted);
  EXPECT_THAT(refused.error, ::testing::HasSubstr("not resumed"));
}

TEST_F(SchedulerTest, FiresSeveralJobsAtTheirTimesInHeapOrder) {
  std::vector<std::shared_ptr<Job>> jobs = {MakeJob("a", "@every 10s"), MakeJob("b", "@every 15s"),
                                            MakeJob("c", "@every 20s")};
  for (auto& job : jobs) job->max_active_runs = 0;
  Scheduler& scheduler = Start(jobs);
  EXPECT_EQ(scheduler.NextFire(JobId("b")), kBase + 15 * kSecond);

  for (int64_t t : {10, 15, 20, 30, 40, 45, 50, 60}) AdvanceTo(kBase + t * kSecond);

  EXPECT_THAT(launcher_.Fired(),
              ElementsAre(Pair("a", 10), Pair("b", 15), Pair("a", 20), Pair("c", 20), Pair("a", 30),
                          Pair("b", 30), Pair("a", 40), Pair("c", 40), Pair("b", 45), Pair("a", 50),
                          Pair("a", 60), Pair("b", 60), Pair("c", 60)));
  EXPECT_EQ(launcher_.request(0).trigger, "schedule");
  EXPECT_EQ(events_.Of(EventType::kScheduleFired).size(), 13u);
}

// What a listener needs to tell how late an occurrence fired (the schedule delay metric): its
// nominal time and what started it, on the event itself.
TEST_F(SchedulerTest, ScheduleFiredEventsCarryTheNominalTimeAndTheTrigger) {
  SaveRecord("late", kBase - 20 * kSecond);  // missed kBase - 10 s and kBase
  auto late = MakeJob("late", "@every 10s");
  late->catch_up = CatchUpPolicy::kLatest;
  late->max_active_runs = 0;
  auto on_time = MakeJob("j", "@every 10s");
  on_time->max_active_runs = 0;
  Start({late, on_time});
  constexpr int64_t kLateBy = 250'000;
  AdvanceTo(kBase + 10 * kSecond + kLateBy);

  std::vector<Event> fired = events_.Of(EventType::kScheduleFired);
  ASSERT_EQ(fired.size(), 3u);
  std::map<std::pair<std::string, std::string>, Event> by_job_and_trigger;
  for (const Event& event : fired) by_job_and_trigger[{event.job.str(), event.trigger}] = event;
  const Event& caught_up = by_job_and_trigger.at({"late", "catch_up"});
  EXPECT_EQ(caught_up.occurrence_us, kBase);
  EXPECT_EQ(caught_up.time_us, kBase + kSecond);  // at Start
  const Event& scheduled = by_job_and_trigger.at({"j", "schedule"});
  EXPECT_EQ(scheduled.occurrence_us, kBase + 10 * kSecond);
  EXPECT_EQ(scheduled.time_us, kBase + 10 * kSecond + kLateBy);
  EXPECT_EQ(by_job_and_trigger.at({"late", "schedule"}).occurrence_us, kBase + 10 * kSecond);
}

TEST_F(SchedulerTest, JobStatesSnapshotsEachJobsPauseAndNextFire) {
  SaveRecord("paused", kBase, /*paused=*/true);
  Scheduler& scheduler =
      Start({MakeJob("a", "@every 10s"), MakeJob("paused", "@every 10s"), MakeJob("manual")});
  auto states_by_job = [&] {
    std::map<std::string, Scheduler::JobState> states;
    for (const Scheduler::JobState& state : scheduler.JobStates()) states[state.job.str()] = state;
    return states;
  };
  std::map<std::string, Scheduler::JobState> states = states_by_job();
  ASSERT_EQ(states.size(), 3u);
  EXPECT_FALSE(states["a"].paused);
  EXPECT_EQ(states["a"].next_fire_us, kBase + 10 * kSecond);
  EXPECT_TRUE(states["paused"].paused);
  EXPECT_EQ(states["paused"].next_fire_us, std::nullopt);
  EXPECT_FALSE(states["manual"].paused);
  EXPECT_EQ(states["manual"].next_fire_us, std::nullopt);

  ASSERT_TRUE(scheduler.SetPaused(JobId("a"), true).ok());
  ASSERT_TRUE(scheduler.UpdateJobs({MakeJob("a", "@every 10s")}).ok());  // the others removed
  states = states_by_job();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_TRUE(states["a"].paused);
  EXPECT_EQ(states["a"].next_fire_us, std::nullopt);
}

TEST_F(SchedulerTest, FiresAtMidnightUtcEveryDay) {
  Scheduler& scheduler = Start({MakeJob("daily", "0 0 * * *")});
  EXPECT_EQ(scheduler.NextFire(JobId("daily")), kBase + kDay);
  AdvanceTo(kBase + kDay);
  launcher_.End(0);
  AdvanceTo(kBase + 2 * kDay);
  EXPECT_THAT(launcher_.Fired(),
              ElementsAre(Pair("daily", kDay / kSecond), Pair("daily", 2 * kDay / kSecond)));
  EXPECT_EQ(scheduler.NextFire(JobId("daily")), kBase + 3 * kDay);
}

TEST_F(SchedulerTest, FiresOnceAtTheEndOfASpringForwardGap) {
  clock_.Set(1772946000 * kSecond);  // 2026-03-08T00:00:00-05:00, New York
  Scheduler& scheduler = Start({MakeJob("gap", "30 2 * * *", "America/New_York")});
  const int64_t gap_end = 1772953200 * kSecond;  // 03:00 EDT: 02:30 does not exist that day
  EXPECT_EQ(scheduler.NextFire(JobId("gap")), gap_end);
  AdvanceTo(gap_end);
  ASSERT_EQ(launcher_.count(), 1u);
  EXPECT_EQ(launcher_.request(0).occurrence_us, gap_end);
  EXPECT_EQ(scheduler.NextFire(JobId("gap")), 1773037800 * kSecond);  // 03-09 02:30 EDT
}

TEST_F(SchedulerTest, FiresOnceInAFallBackFold) {
  clock_.Set(1793505600 * kSecond);  // 2026-11-01T00:00:00-04:00, New York
  Scheduler& scheduler = Start({MakeJob("fold", "30 1 * * *", "America/New_York")});
  const int64_t first_0130 = 1793511000 * kSecond;  // 01:30 EDT; 01:30 EST comes an hour later
  AdvanceTo(first_0130);
  ASSERT_EQ(launcher_.count(), 1u);
  EXPECT_EQ(launcher_.request(0).occurrence_us, first_0130);
  EXPECT_EQ(scheduler.NextFire(JobId("fold")), 1793601000 * kSecond);  // 11-02 01:30 EST
}

TEST_F(SchedulerTest, PersistsTheLastOccurrenceDealtWithBeforeLaunching) {
  Start({MakeJob("j", "@every 10s")});
  EXPECT_EQ(Record("j").last_fire_us, kBase);  // first sight: the latest past occurrence
  AdvanceTo(kBase + 10 * kSecond);
  EXPECT_EQ(Record("j").last_fire_us, kBase + 10 * kSecond);
  EXPECT_FALSE(Record("j").paused);
}

TEST_F(SchedulerTest, ARecordTheStoreDidNotTakeIsSavedAgainOnceItAnswersAndNothingFiresTwice) {
  inner_store_ = std::move(store_);
  auto flaky = std::make_unique<testing::FlakyStateStore>(*inner_store_);
  testing::FlakyStateStore& store = *flaky;
  store_ = std::move(flaky);
  Start({MakeJob("j", "@every 10s")});
  store.Fail({testing::FlakyStateStore::Op::kSaveJob});
  AdvanceTo(kBase + 10 * kSecond);
  ASSERT_EQ(launcher_.count(), 1u);
  EXPECT_EQ(Record("j").last_fire_us, kBase) << "the store took a save it was to refuse";
  EXPECT_THAT(scheduler_->stats().last_store_error.message(), HasSubstr("the test store is down"));

  // Still down at the first retry, which is counted; then the store answers.
  const uint64_t failures = store.failures();
  AdvanceTo(kBase + 10 * kSecond + 100'000);
  EXPECT_EQ(store.failures(), failures + 1);
  store.Heal();
  AdvanceTo(kBase + 10 * kSecond + 400'000);
  EXPECT_EQ(Record("j").last_fire_us, kBase + 10 * kSecond);
  EXPECT_EQ(launcher_.count(), 1u);
  launcher_.End(0);
  AdvanceTo(kBase + 20 * kSecond);
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("j", 10), Pair("j", 20)));
}

// So that 1,000 jobs due at one second cost one commit each way, not 1,000: the records of a
// tick's fires are saved in one store call (one failure when the store is down, and every one
// saved again once it answers), and their runs launched in one batch.
TEST_F(SchedulerTest, TheOccurrencesOfOneTickAreSavedTogetherAndLaunchedInOneBatch) {
  inner_store_ = std::move(store_);
  auto flaky = std::make_unique<testing::FlakyStateStore>(*inner_store_);
  testing::FlakyStateStore& store = *flaky;
  store_ = std::move(flaky);
  Start({MakeJob("a", "@every 10s"), MakeJob("b", "@every 10s"), MakeJob("c", "@every 20s")});
  AdvanceTo(kBase + 10 * kSecond);
  EXPECT_THAT(launcher_.Batches(), ElementsAre(2u));
  EXPECT_EQ(Record("a").last_fire_us, kBase + 10 * kSecond);
  EXPECT_EQ(Record("b").last_fire_us, kBase + 10 * kSecond);
  launcher_.End(0);
  launcher_.End(1);

  store.Fail({testing::FlakyStateStore::Op::kSaveJob});
  const uint64_t failures = store.failures();
  AdvanceTo(kBase + 20 * kSecond);
  EXPECT_THAT(launcher_.Batches(), ElementsAre(2u, 3u));
  EXPECT_EQ(store.failures(), failures + 1) << "one save per job rather than one per tick";
  EXPECT_THAT(scheduler_->stats().last_store_error.message(), HasSubstr("3 jobs"));
  store.Heal();
  AdvanceTo(kBase + 20 * kSecond + 100'000);
  for (const char* job : {"a", "b", "c"}) {
    EXPECT_EQ(Record(job).last_fire_us, kBase + 20 * kSecond) << job;
  }
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("a", 10), Pair("b", 10), Pair("a", 20),
                                             Pair("b", 20), Pair("c", 20)));
}

// A tick's records, refused occurrences' included, go to the launcher with the tick's runs, so
// that the commit admitting the runs saves them (RunLauncher::LaunchBatchSavingJobs). A pause asked
// for while that commit is under way waits for it: the tick's older copy of the record must not
// overwrite the pause.
TEST_F(SchedulerTest, ATicksRecordsGoWithItsRunsAndAPauseMeanwhileWaitsForThem) {
  Start({MakeJob("a", "@every 10s"), MakeJob("b", "@every 10s")});
  AdvanceTo(kBase + 10 * kSecond);
  launcher_.End(0);  // a's run; b's stays active, so b's next occurrences are refused
  AdvanceTo(kBase + 20 * kSecond);
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("a", 10), Pair("b", 10), Pair("a", 20)));
  EXPECT_THAT(launcher_.JobBatches(), ElementsAre(ElementsAre(Pair("a", 10), Pair("b", 10)),
                                                  ElementsAre(Pair("a", 20), Pair("b", 20))));
  EXPECT_EQ(Record("b").last_fire_us, kBase + 20 * kSecond);
  launcher_.End(2);

  launcher_.Hold();
  clock_.Set(kBase + 30 * kSecond);
  ASSERT_TRUE(launcher_.WaitForHeld());
  std::latch asked(1);
  std::thread pauser([&] {
    asked.count_down();
    Status paused = scheduler_->SetPaused(JobId("a"), true);
    EXPECT_TRUE(paused.ok()) << paused.ToString();
  });
  asked.wait();
  launcher_.Release();
  pauser.join();
  EXPECT_TRUE(Record("a").paused) << "the tick's commit overwrote the pause";
  EXPECT_EQ(Record("a").last_fire_us, kBase + 30 * kSecond);
  EXPECT_EQ(Record("b").last_fire_us, kBase + 30 * kSecond);
}

TEST_F(SchedulerTest, OverlapSkipDropsTheOccurrenceAndSaysWhy) {
  Start({MakeJob("j", "@every 10s")});
  AdvanceTo(kBase + 10 * kSecond);
  AdvanceTo(kBase + 20 * kSecond);
  EXPECT_EQ(launcher_.count(), 1u);
  std::optional<Event> refused =
      events_.WaitFor(EventType::kTriggerRefused, "j", "max_active_runs 1, overlap skip");
  ASSERT_TRUE(refused.has_value());
  EXPECT_THAT(refused->detail, HasSubstr("2026-01-01T00:00:20"));
  EXPECT_EQ(Record("j").last_fire_us, kBase + 20 * kSecond);  // dealt with, even when dropped

  launcher_.End(0);
  AdvanceTo(kBase + 30 * kSecond);
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("j", 10), Pair("j", 30)));
}

TEST_F(SchedulerTest, OverlapQueueKeepsOneOccurrenceAndStartsItWhenARunEnds) {
  auto job = MakeJob("j", "@every 10s");
  job->overlap = OverlapPolicy::kQueue;
  Start({job});
  AdvanceTo(kBase + 10 * kSecond);
  AdvanceTo(kBase + 20 * kSecond);  // waits
  AdvanceTo(kBase + 30 * kSecond);  // refused: one already waits
  EXPECT_EQ(launcher_.count(), 1u);
  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "j", "one occurrence already waits"));

  launcher_.End(0);
  ASSERT_TRUE(launcher_.WaitForLaunches(2));
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("j", 10), Pair("j", 20)));
  EXPECT_FALSE(launcher_.cancelled(0));
}

TEST_F(SchedulerTest, OverlapCancelPreviousCancelsTheOldestRunAndStartsWhenItHasEnded) {
  auto job = MakeJob("j", "@every 10s");
  job->overlap = OverlapPolicy::kCancelPrevious;
  Start({job});
  AdvanceTo(kBase + 10 * kSecond);
  AdvanceTo(kBase + 20 * kSecond);
  ASSERT_TRUE(launcher_.WaitForCancel(0));
  EXPECT_EQ(launcher_.count(), 1u);  // max_active_runs holds while the cancelled run winds down

  launcher_.End(0);
  ASSERT_TRUE(launcher_.WaitForLaunches(2));
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("j", 10), Pair("j", 20)));
  EXPECT_FALSE(launcher_.cancelled(1));
}

TEST_F(SchedulerTest, CatchUpNoneSkipsWhatWasMissed) {
  SaveRecord("j", kBase - 50 * kSecond);
  Scheduler& scheduler = Start({MakeJob("j", "@every 10s")});
  EXPECT_EQ(launcher_.count(), 0u);
  EXPECT_EQ(Record("j").last_fire_us, kBase);
  EXPECT_EQ(scheduler.NextFire(JobId("j")), kBase + 10 * kSecond);
  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "j", "catch_up none"));
}

TEST_F(SchedulerTest, CatchUpLatestRunsTheLatestMissedOccurrenceOnce) {
  SaveRecord("j", kBase - 50 * kSecond);
  auto job = MakeJob("j", "@every 10s");
  job->catch_up = CatchUpPolicy::kLatest;
  Start({job});
  ASSERT_EQ(launcher_.count(), 1u);  // Start launches catch-up runs before it returns
  EXPECT_EQ(launcher_.request(0).trigger, "catch_up");
  EXPECT_EQ(launcher_.request(0).occurrence_us, kBase);
  EXPECT_EQ(Record("j").last_fire_us, kBase);
}

TEST_F(SchedulerTest, CatchUpAllRunsTheLatestLimitOldestFirstAsRunSlotsFree) {
  SaveRecord("j", kBase - 50 * kSecond);  // missed: -40, -30, -20, -10, 0
  auto job = MakeJob("j", "@every 10s");
  job->catch_up = CatchUpPolicy::kAll;
  job->catch_up_limit = 3;
  Start({job});
  ASSERT_EQ(launcher_.count(), 1u);
  launcher_.End(0);
  ASSERT_TRUE(launcher_.WaitForLaunches(2));
  launcher_.End(1);
  ASSERT_TRUE(launcher_.WaitForLaunches(3));
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("j", -20), Pair("j", -10), Pair("j", 0)));
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(launcher_.request(i).trigger, "catch_up");
  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "j", "catch_up_limit 3"));
  EXPECT_EQ(Record("j").last_fire_us, kBase);
}

TEST_F(SchedulerTest, CatchUpFindsMissedOccurrencesOfASparseScheduleAcrossAWeekend) {
  // 2026-01-01 is a Thursday. Last dealt with: Wednesday 09:00; now: Monday 10:00.
  SaveRecord("weekdays", kBase - kDay + 9 * kHour);
  clock_.Set(kBase + 4 * kDay + 10 * kHour);
  auto job = MakeJob("weekdays", "0 9 * * MON-FRI");
  job->catch_up = CatchUpPolicy::kAll;
  job->catch_up_limit = 5;
  job->max_active_runs = 0;
  Start({job});
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("weekdays", (9 * kHour) / kSecond),
                                             Pair("weekdays", (kDay + 9 * kHour) / kSecond),
                                             Pair("weekdays", (4 * kDay + 9 * kHour) / kSecond)));
}

TEST_F(SchedulerTest, AJobSeenForTheFirstTimeDoesNotCatchUp) {
  auto job = MakeJob("j", "@every 10s");
  job->catch_up = CatchUpPolicy::kAll;
  Start({job});
  EXPECT_EQ(launcher_.count(), 0u);
  EXPECT_EQ(Record("j").last_fire_us, kBase);
}

TEST_F(SchedulerTest, DisabledAndPausedJobsNeverFire) {
  auto disabled = MakeJob("off", "@every 10s");
  disabled->enabled = false;
  SaveRecord("paused", kBase - 50 * kSecond, /*paused=*/true);
  auto paused = MakeJob("paused", "@every 10s");
  paused->catch_up = CatchUpPolicy::kAll;
  auto enabled = MakeJob("on", "@every 10s");
  enabled->max_active_runs = 0;
  Scheduler& scheduler = Start({enabled, disabled, paused});
  EXPECT_EQ(scheduler.NextFire(JobId("off")), std::nullopt);
  EXPECT_EQ(scheduler.NextFire(JobId("paused")), std::nullopt);
  AdvanceTo(kBase + 10 * kSecond);
  AdvanceTo(kBase + 20 * kSecond);
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("on", 10), Pair("on", 20)));
  EXPECT_EQ(Record("paused").last_fire_us, kBase - 50 * kSecond);
}

TEST_F(SchedulerTest, ResumingAPausedJobCatchesUpAndPausingStopsIt) {
  SaveRecord("j", kBase - 50 * kSecond, /*paused=*/true);
  auto job = MakeJob("j", "@every 10s");
  job->catch_up = CatchUpPolicy::kLatest;
  job->max_active_runs = 0;
  auto other = MakeJob("other", "@every 10s");
  other->max_active_runs = 0;
  Scheduler& scheduler = Start({job, other});
  AdvanceTo(kBase + 10 * kSecond);
  ASSERT_TRUE(scheduler.SetPaused(JobId("j"), false).ok());
  EXPECT_FALSE(Record("j").paused);
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("other", 10), Pair("j", 10)));
  EXPECT_EQ(launcher_.request(1).trigger, "catch_up");

  AdvanceTo(kBase + 20 * kSecond);
  ASSERT_TRUE(scheduler.SetPaused(JobId("j"), true).ok());
  EXPECT_TRUE(Record("j").paused);
  AdvanceTo(kBase + 30 * kSecond);
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("other", 10), Pair("j", 10), Pair("j", 20),
                                             Pair("other", 20), Pair("other", 30)));
}

// Each resume queues a fire time, and the paused one stays queued until it comes due: a yearly
// job paused and resumed 10,000 times (through the API, say) must not keep 10,000 of them.
TEST_F(SchedulerTest, PausingAndResumingKeepsTheQueuedFireTimesBounded) {
  auto yearly = MakeJob("yearly", "0 0 1 1 *");
  yearly->catch_up = CatchUpPolicy::kNone;
  auto often = MakeJob("often", "@every 10s");
  often->max_active_runs = 0;
  Scheduler& scheduler = Start({yearly, often});
  EXPECT_EQ(scheduler.stats().queued_fire_times, 2u);
  size_t most = 0;
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(scheduler.SetPaused(JobId("yearly"), true).ok());
    ASSERT_TRUE(scheduler.SetPaused(JobId("yearly"), false).ok());
    most = std::max(most, scheduler.stats().queued_fire_times);
  }
  EXPECT_LE(most, 2 * 2 + kMaxStaleFireTimes);
  EXPECT_EQ(scheduler.NextFire(JobId("yearly")), kBase + 365 * kDay);
  // The live entries survive the drops: both jobs still fire.
  AdvanceTo(kBase + 10 * kSecond);
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("often", 10)));
}

TEST_F(SchedulerTest, APausedSchedulerFiresNoScheduleAndResumingCatchesUpPerPolicy) {
  auto latest = MakeJob("latest", "@every 10s");
  latest->catch_up = CatchUpPolicy::kLatest;
  latest->max_active_runs = 0;
  auto all = MakeJob("all", "@every 10s");
  all->catch_up = CatchUpPolicy::kAll;
  all->catch_up_limit = 2;
  all->max_active_runs = 0;
  auto none = MakeJob("none", "@every 10s");
  none->max_active_runs = 0;
  auto manual = MakeJob("manual");
  Scheduler& scheduler = Start({latest, all, none, manual});
  AdvanceTo(kBase + 10 * kSecond);
  ASSERT_EQ(launcher_.count(), 3u);

  ASSERT_TRUE(scheduler.SetSchedulerPaused(true).ok());
  EXPECT_TRUE(scheduler.stats().paused);
  Result<SchedulerRecord> record = store_->GetScheduler();
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_TRUE(record->paused);
  EXPECT_EQ(scheduler.NextFire(JobId("latest")), std::nullopt);
  clock_.Set(kBase + 45 * kSecond);  // 20, 30 and 40 fall due while paused
  // Manual triggers still run.
  ASSERT_TRUE(scheduler.Trigger(JobId("manual")).ok());
  EXPECT_EQ(launcher_.count(), 4u);

  ASSERT_TRUE(scheduler.SetSchedulerPaused(false).ok());
  EXPECT_FALSE(scheduler.stats().paused);
  EXPECT_FALSE(store_->GetScheduler()->paused);
  constexpr int64_t kManual = -kBase / kSecond;
  // Catch-up runs are launched before SetSchedulerPaused returns: latest runs 40 once, all runs
  // the latest two, none skips them.
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("latest", 10), Pair("all", 10), Pair("none", 10),
                                             Pair("manual", kManual), Pair("latest", 40),
                                             Pair("all", 30), Pair("all", 40)));
  for (size_t i = 4; i < 7; ++i) EXPECT_EQ(launcher_.request(i).trigger, "catch_up");
  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "none", "catch_up none"));
  EXPECT_EQ(Record("none").last_fire_us, kBase + 40 * kSecond);
  EXPECT_EQ(scheduler.NextFire(JobId("latest")), kBase + 50 * kSecond);
  AdvanceTo(kBase + 50 * kSecond);
  EXPECT_EQ(launcher_.count(), 10u);
}

TEST_F(SchedulerTest, APausedSchedulerStaysPausedAcrossARestart) {
  auto job = MakeJob("j", "@every 10s");
  job->catch_up = CatchUpPolicy::kLatest;
  Scheduler& first = Start({job});
  ASSERT_TRUE(first.SetSchedulerPaused(true).ok());
  first.Stop(StopMode::kCancelRuns);
  scheduler_.reset();

  clock_.Set(kBase + 25 * kSecond);
  Scheduler& again = Start({job});
  EXPECT_TRUE(again.stats().paused);
  EXPECT_EQ(again.NextFire(JobId("j")), std::nullopt);
  EXPECT_EQ(launcher_.count(), 0u);
  // Resuming the job alone does not arm it while the whole scheduler is paused.
  ASSERT_TRUE(again.SetPaused(JobId("j"), false).ok());
  EXPECT_EQ(again.NextFire(JobId("j")), std::nullopt);

  ASSERT_TRUE(again.SetSchedulerPaused(false).ok());
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("j", 20)));
  EXPECT_EQ(launcher_.request(0).trigger, "catch_up");
  EXPECT_EQ(again.NextFire(JobId("j")), kBase + 30 * kSecond);
}

TEST_F(SchedulerTest, PausingTheSchedulerDropsWaitingOccurrencesButKeepsAWaitingTrigger) {
  auto scheduled = MakeJob("s", "@every 10s");
  scheduled->overlap = OverlapPolicy::kQueue;
  auto triggered = MakeJob("t");
  triggered->overlap = OverlapPolicy::kQueue;
  Scheduler& scheduler = Start({scheduled, triggered});
  AdvanceTo(kBase + 10 * kSecond);
  AdvanceTo(kBase + 20 * kSecond);  // waits for the run of 10
  ASSERT_TRUE(scheduler.Trigger(JobId("t")).ok());
  Result<RunId> waiting_trigger = scheduler.Trigger(JobId("t"));
  ASSERT_TRUE(waiting_trigger.ok());
  ASSERT_EQ(launcher_.count(), 2u);

  ASSERT_TRUE(scheduler.SetSchedulerPaused(true).ok());
  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "s", "the scheduler was paused"));
  launcher_.End(1);  // the trigger's first run: the waiting trigger starts
  ASSERT_TRUE(launcher_.WaitForLaunches(3));
  EXPECT_EQ(launcher_.request(2).run_id, *waiting_trigger);
}

TEST_F(SchedulerTest, CancelStopsOneActiveRunOrDropsAWaitingOne) {
  auto job = MakeJob("q");
  job->overlap = OverlapPolicy::kQueue;
  Scheduler& scheduler = Start({job, MakeJob("other")});
  Result<RunId> first = scheduler.Trigger(JobId("q"));
  Result<RunId> waiting = scheduler.Trigger(JobId("q"));
  ASSERT_TRUE(scheduler.Trigger(JobId("other")).ok());
  ASSERT_TRUE(first.ok() && waiting.ok());
  ASSERT_EQ(launcher_.count(), 2u);

  ASSERT_TRUE(scheduler.Cancel(*waiting).ok());
  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "q", "cancelled before it started"));
  ASSERT_TRUE(scheduler.Cancel(*first).ok());
  ASSERT_TRUE(launcher_.WaitForCancel(0));
  EXPECT_FALSE(launcher_.cancelled(1));
  EXPECT_TRUE(scheduler.Cancel(*first).ok());  // asking again changes nothing

  launcher_.End(0);
  EXPECT_EQ(scheduler.stats().active_runs, 1u);
  EXPECT_EQ(launcher_.count(), 2u);  // the dropped trigger never starts
  EXPECT_EQ(scheduler.Cancel(*first).code(), StatusCode::kNotFound);
  EXPECT_EQ(scheduler.Cancel(RunId::GenerateAt(1)).code(), StatusCode::kNotFound);
}

TEST_F(SchedulerTest, LastSuccessDependencyNeedsTheOtherJobsLatestFinishedRunToHaveSucceeded) {
  auto down = MakeJob("down", "@every 10s");
  down->depends_on = {JobDependency{.job = JobId("up")}};
  RecordRun("up", RunStatus::kSucceeded, kBase - 20 * kSecond);
  RecordRun("up", RunStatus::kFailed, kBase - 10 * kSecond);
  Start({down, MakeJob("up")});
  AdvanceTo(kBase + 10 * kSecond);
  EXPECT_EQ(launcher_.count(), 0u);
  std::optional<Event> refused =
      events_.WaitFor(EventType::kTriggerRefused, "down", "dependency on job 'up' (last_success)");
  ASSERT_TRUE(refused.has_value());
  EXPECT_THAT(refused->detail, HasSubstr("failed"));

  RecordRun("up", RunStatus::kSucceeded, kBase + 15 * kSecond);
  AdvanceTo(kBase + 20 * kSecond);
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("down", 20)));
}

TEST_F(SchedulerTest, LastCompleteDependencyWaitsForTheOtherJobsLatestRunToFinish) {
  auto down = MakeJob("down", "@every 10s");
  down->depends_on = {
      JobDependency{.job = JobId("up"), .condition = JobDependency::Condition::kLastComplete}};
  RecordRun("up", RunStatus::kFailed, kBase - 20 * kSecond);
  RecordRun("up", RunStatus::kRunning, kBase - 10 * kSecond);
  Start({down});
  AdvanceTo(kBase + 10 * kSecond);
  EXPECT_EQ(launcher_.count(), 0u);
  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "down", "is still running"));

  RecordRun("up", RunStatus::kFailed, kBase + 15 * kSecond);  // whatever its status
  AdvanceTo(kBase + 20 * kSecond);
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("down", 20)));
}

TEST_F(SchedulerTest, LastCompleteDependencyCountsRunsThisSchedulerStarted) {
  auto down = MakeJob("down", "@every 10s");
  down->depends_on = {
      JobDependency{.job = JobId("up"), .condition = JobDependency::Condition::kLastComplete}};
  RecordRun("up", RunStatus::kSucceeded, kBase - 20 * kSecond);
  Scheduler& scheduler = Start({down, MakeJob("up")});
  ASSERT_TRUE(scheduler.Trigger(JobId("up")).ok());  // launched, not yet in the store
  AdvanceTo(kBase + 10 * kSecond);
  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "down", "has a run in progress"));
  ASSERT_EQ(launcher_.count(), 1u);
  EXPECT_EQ(launcher_.request(0).job->id.str(), "up");
}

TEST_F(SchedulerTest, WithinWindowDependencyNeedsARecentSuccess) {
  auto down = MakeJob("down", "@every 10s");
  down->depends_on = {JobDependency{.job = JobId("up"),
                                    .condition = JobDependency::Condition::kWithinWindow,
                                    .window = std::chrono::seconds(60)}};
  RecordRun("up", RunStatus::kSucceeded, kBase - 120 * kSecond);
  RecordRun("up", RunStatus::kFailed, kBase);
  Start({down});
  AdvanceTo(kBase + 10 * kSecond);
  EXPECT_TRUE(
      events_.WaitFor(EventType::kTriggerRefused, "down", "has not succeeded in the last 60 s"));

  RecordRun("up", RunStatus::kSucceeded, kBase + 15 * kSecond);
  AdvanceTo(kBase + 20 * kSecond);
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("down", 20)));
}

TEST_F(SchedulerTest, ManualTriggerIsRefusedAtTheLimitWithTheReason) {
  Scheduler& scheduler = Start({MakeJob("m")});
  Result<RunId> first = scheduler.Trigger(JobId("m"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(launcher_.count(), 1u);
  EXPECT_EQ(launcher_.request(0).run_id, *first);
  EXPECT_EQ(launcher_.request(0).trigger, "manual");

  Result<RunId> second = scheduler.Trigger(JobId("m"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("1 run active (max_active_runs 1"));
  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "m", "manual trigger"));

  launcher_.End(0);
  EXPECT_TRUE(scheduler.Trigger(JobId("m")).ok());
  EXPECT_EQ(launcher_.count(), 2u);
}

TEST_F(SchedulerTest, ATriggersConfigValuesReplaceTheJobsForThatRunOnly) {
  auto job = MakeJob("m");
  job->max_active_runs = 0;
  job->config = std::make_shared<const ValueMap>(ValueMap{{"day", "monday"}, {"size", "1"}});
  Scheduler& scheduler = Start({job});
  Result<RunId> with = scheduler.Trigger(
      JobId("m"), TriggerOptions{.trigger = "api", .config = {{"day", "friday"}}});
  ASSERT_TRUE(with.ok()) << with.status().ToString();
  ASSERT_EQ(launcher_.count(), 1u);
  EXPECT_EQ(launcher_.request(0).trigger, "api");
  EXPECT_EQ(*launcher_.request(0).job->config, (ValueMap{{"day", "friday"}, {"size", "1"}}));
  ASSERT_TRUE(scheduler.Trigger(JobId("m")).ok());
  ASSERT_EQ(launcher_.count(), 2u);
  EXPECT_EQ(*launcher_.request(1).job->config, (ValueMap{{"day", "monday"}, {"size", "1"}}));

  Result<RunId> unknown = scheduler.Trigger(JobId("m"), TriggerOptions{.config = {{"dayy", "x"}}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("no config key 'dayy' (did you mean 'day'?)"));
  EXPECT_EQ(launcher_.count(), 2u);
}

TEST_F(SchedulerTest, ManualTriggerQueuesUnderOverlapQueue) {
  auto job = MakeJob("m");
  job->overlap = OverlapPolicy::kQueue;
  Scheduler& scheduler = Start({job});
  ASSERT_TRUE(scheduler.Trigger(JobId("m")).ok());
  Result<RunId> queued = scheduler.Trigger(JobId("m"));
  ASSERT_TRUE(queued.ok());
  EXPECT_FALSE(scheduler.Trigger(JobId("m")).ok());
  EXPECT_EQ(launcher_.count(), 1u);

  launcher_.End(0);
  ASSERT_TRUE(launcher_.WaitForLaunches(2));
  EXPECT_EQ(launcher_.request(1).run_id, *queued);
}

TEST_F(SchedulerTest, ManualTriggerOfAnUnknownJobSuggestsTheClosest) {
  Scheduler& scheduler = Start({MakeJob("nightly_etl")});
  Result<RunId> run = scheduler.Trigger(JobId("nightly_elt"));
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(run.status().message(), HasSubstr("did you mean 'nightly_etl'"));
}

TEST_F(SchedulerTest, ALaunchFailureIsRefusedAndFreesTheRunSlot) {
  Scheduler& scheduler = Start({MakeJob("m")});
  launcher_.set_fail_launches(true);
  Result<RunId> failed = scheduler.Trigger(JobId("m"));
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("no threads left"));
  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "m", "could not be started"));
  launcher_.set_fail_launches(false);
  EXPECT_TRUE(scheduler.Trigger(JobId("m")).ok());
  EXPECT_EQ(scheduler.stats().active_runs, 1u);
}

// A store that does not answer when an occurrence fires (a PostgreSQL restart: an outage, not a
// refusal) does not cost the occurrence: its run keeps its slot and starts once the store
// answers, tried again with the outage backoff (0.1 s, then 0.2 s, ...).
TEST_F(SchedulerTest, AnOccurrenceTheStoreCannotAdmitStartsOnceItAnswersWithinTheLimit) {
  Scheduler& scheduler = StartAndFireWithTheStoreDown();
  constexpr int64_t kFire = kHeldFire;
  EXPECT_EQ(launcher_.count(), 0u);
  EXPECT_EQ(scheduler.stats().active_runs, 1u) << "the occurrence keeps its run slot";
  AdvanceTo(kFire + 100'000);  // tried again, still down
  EXPECT_EQ(launcher_.count(), 0u);
  launcher_.set_fail_launches(false);
  AdvanceTo(kFire + 300'000);
  ASSERT_TRUE(launcher_.WaitForLaunches(1));
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("n", 10)));
  EXPECT_TRUE(events_.WaitFor(EventType::kScheduleFired, "n", "(trigger schedule): run started"));
  EXPECT_TRUE(events_.Of(EventType::kTriggerRefused).empty());
}

// Past the outage limit the occurrence is refused, saying for how long the store did not answer,
// and its run slot is free again; a stop meanwhile refuses it at once instead of waiting.
TEST_F(SchedulerTest, AnOccurrenceTheStoreCannotAdmitPastTheLimitOrAtAStopIsRefused) {
  Scheduler& scheduler = StartAndFireWithTheStoreDown(
      [](SchedulerOptions& options) { options.store_outage.limit = std::chrono::seconds(1); });
  constexpr int64_t kFire = kHeldFire;
  for (const int64_t retry_us : {100'000, 300'000, 700'000}) AdvanceTo(kFire + retry_us);
  EXPECT_TRUE(events_.Of(EventType::kTriggerRefused).empty());
  AdvanceTo(kFire + kSecond);  // the limit
  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "n",
                              "no threads left (the state store did not answer for 1 s)"));
  EXPECT_EQ(scheduler.stats().active_runs, 0u);
  EXPECT_EQ(launcher_.count(), 0u);

  AdvanceTo(kFire + kDay);  // the next day's occurrence, held again, then the stop
  EXPECT_EQ(scheduler.stats().active_runs, 1u);
  scheduler.Stop(StopMode::kWaitForRuns);
  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "n", "the scheduler is stopping"));
  EXPECT_EQ(scheduler.stats().active_runs, 0u);
}

// What the operator does to a job or a run still applies to an occurrence an outage holds: a
// cancel of its run or a pause of the job drops it (its slot freed), and it never starts.
TEST_F(SchedulerTest, ACancelOrAPauseDropsAnOccurrenceTheStoreCouldNotAdmit) {
  Scheduler& scheduler = StartAndFireWithTheStoreDown();
  constexpr int64_t kFire = kHeldFire;
  const RunId held = launcher_.last_failed_run();
  ASSERT_FALSE(held.empty());
  EXPECT_EQ(scheduler.stats().active_runs, 1u);
  EXPECT_TRUE(scheduler.Cancel(held).ok());
  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "n", "cancelled before it started"));
  EXPECT_EQ(scheduler.stats().active_runs, 0u);

  AdvanceTo(kFire + kDay);
  EXPECT_EQ(scheduler.stats().active_runs, 1u);
  ASSERT_TRUE(scheduler.SetPaused(JobId("n"), true).ok());
  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "n", "the job was paused"));
  EXPECT_EQ(scheduler.stats().active_runs, 0u);

  launcher_.set_fail_launches(false);
  ASSERT_TRUE(scheduler.SetPaused(JobId("n"), false).ok());
  AdvanceTo(kFire + 2 * kDay);
  ASSERT_TRUE(launcher_.WaitForLaunches(1));
  // Only the third day's occurrence ran: neither dropped one was tried again.
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("n", 10 + 2 * kDay / kSecond)));
}

// An admission the store took though its answer was lost (a connection cut after the COMMIT):
// the held run is found queued and starts as admitted, not refused as a duplicate of itself.
TEST_F(SchedulerTest, AHeldOccurrenceWhoseAdmissionLandedStartsAsAdmitted) {
  launcher_.set_admit_then_fail(store_.get());
  StartAndFireWithTheStoreDown();
  const RunId held = launcher_.last_failed_run();
  ASSERT_FALSE(held.empty());
  launcher_.set_fail_launches(false);
  AdvanceTo(kHeldFire + 100'000);
  ASSERT_TRUE(launcher_.WaitForLaunches(1));
  const RunRequest started = launcher_.request(0);
  EXPECT_EQ(started.run_id, held);
  ASSERT_NE(started.admitted, nullptr);
  EXPECT_EQ(started.admitted->id, held);
  EXPECT_TRUE(events_.Of(EventType::kTriggerRefused).empty());
}

TEST_F(SchedulerTest, AnOccurrenceTheStoreRefusesIsRefusedWithItsReasonAndNeverAnnouncedStarted) {
  Scheduler& scheduler = Start({MakeJob("s", "* * * * * *")});
  const std::string reason = "refused: occurrence already created by other-host/1/1 as run x";
  launcher_.set_refusal(reason);
  AdvanceTo(kBase + 2 * kSecond);
  std::optional<Event> refused = events_.WaitFor(EventType::kTriggerRefused, "s", reason);
  ASSERT_TRUE(refused.has_value());
  EXPECT_THAT(refused->detail, Not(HasSubstr("could not be started")));
  // Published before the refusal if at all: it was not.
  EXPECT_TRUE(events_.Of(EventType::kScheduleFired).empty());
  EXPECT_EQ(scheduler.stats().fired, 0u);
  EXPECT_EQ(scheduler.stats().active_runs, 0u);

  launcher_.set_refusal("");
  AdvanceTo(kBase + 3 * kSecond);
  EXPECT_TRUE(events_.WaitFor(EventType::kScheduleFired, "s", "(trigger schedule): run started"));
  EXPECT_EQ(launcher_.count(), 1u);
}

TEST_F(SchedulerTest, StopWaitsForActiveRunsAndDropsWaitingOnes) {
  auto job = MakeJob("q");
  job->overlap = OverlapPolicy::kQueue;
  Scheduler& scheduler = Start({job});
  ASSERT_TRUE(scheduler.Trigger(JobId("q")).ok());
  ASSERT_TRUE(scheduler.Trigger(JobId("q")).ok());  // waits

  std::atomic<bool> stop_returned{false};
  std::thread stopper([&] {
    scheduler.Stop(StopMode::kWaitForRuns);
    stop_returned = true;
  });
  // Waiting occurrences are dropped only once Stop has begun.
  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "q", "the scheduler is stopping"));
  EXPECT_FALSE(stop_returned);
  EXPECT_FALSE(launcher_.cancelled(0));
  Result<RunId> late = scheduler.Trigger(JobId("q"));
  EXPECT_FALSE(late.ok());
  EXPECT_THAT(late.status().message(), HasSubstr("stopping"));

  launcher_.End(0);
  stopper.join();
  EXPECT_TRUE(stop_returned);
  EXPECT_EQ(launcher_.count(), 1u);
  EXPECT_EQ(scheduler.stats().active_runs, 0u);
}

TEST_F(SchedulerTest, StopCancelsActiveRunsAndFiresNothingMore) {
  Scheduler& scheduler = Start({MakeJob("j", "@every 10s")});
  AdvanceTo(kBase + 10 * kSecond);
  ASSERT_EQ(launcher_.count(), 1u);

  std::atomic<bool> stop_returned{false};
  std::thread stopper([&] {
    scheduler.Stop(StopMode::kCancelRuns);
    stop_returned = true;
  });
  ASSERT_TRUE(launcher_.WaitForCancel(0));
  EXPECT_FALSE(stop_returned);  // the cancelled run has not ended yet
  launcher_.End(0);
  stopper.join();

  clock_.Set(kBase + kHour);
  EXPECT_EQ(launcher_.count(), 1u);
  EXPECT_EQ(scheduler.NextFire(JobId("j")), std::nullopt);
}

TEST_F(SchedulerTest, NothingDueMeansNoWakeups) {
  Scheduler& scheduler = Start({MakeJob("hourly", "@hourly")});
  ASSERT_TRUE(passes_.WaitForPasses(1));  // the pass Start began with
  for (int i = 0; i < 100; ++i) clock_.Advance(kSecond);
  const SchedulerPass pass = AdvanceTo(kBase + kHour);
  // One wake-up for the fire, or none when the thread had not yet gone back to waiting after its
  // first pass; never one per clock move.
  EXPECT_LE(pass.wakeups, 1u);
  EXPECT_EQ(pass.launched, 1u);
  EXPECT_LE(scheduler.stats().wakeups, 1u);
}

TEST_F(SchedulerTest, AClockThatJumpsBackwardsDoesNotRefire) {
  Start({MakeJob("j", "@every 10s")});
  AdvanceTo(kBase + 10 * kSecond);
  launcher_.End(0);
  clock_.Set(kBase - kHour);
  clock_.Set(kBase + 5 * kSecond);
  AdvanceTo(kBase + 20 * kSecond);
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("j", 10), Pair("j", 20)));
}

TEST_F(SchedulerTest, AClockThatJumpsForwardFiresOnceForTheLatestOccurrence) {
  Scheduler& scheduler = Start({MakeJob("j", "@every 10s")});
  AdvanceTo(kBase + kHour + 5 * kSecond);
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("j", 3600)));
  EXPECT_TRUE(events_.WaitFor(EventType::kScheduleFired, "j", "the clock jumped"));
  EXPECT_EQ(scheduler.NextFire(JobId("j")), kBase + kHour + 10 * kSecond);
}

// A host that was late (suspended, held by its store) missed occurrences as a stopped one does:
// `catch_up: all` runs each of them, oldest first, within catch_up_limit.
TEST_F(SchedulerTest, ALateLoopCatchesUpEachMissedOccurrenceUnderCatchUpAll) {
  auto job = MakeJob("j", "@every 10s");
  job->catch_up = CatchUpPolicy::kAll;
  job->max_active_runs = 0;
  Scheduler& scheduler = Start({job});
  AdvanceTo(kBase + 35 * kSecond);
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("j", 10), Pair("j", 20), Pair("j", 30)));
  for (size_t i = 0; i < launcher_.count(); ++i) {
    EXPECT_EQ(launcher_.request(i).trigger, "catch_up");
  }
  EXPECT_EQ(Record("j").last_fire_us, kBase + 30 * kSecond);
  EXPECT_EQ(scheduler.NextFire(JobId("j")), kBase + 40 * kSecond);

  AdvanceTo(kBase + 40 * kSecond);  // on time again: a plain scheduled fire
  ASSERT_EQ(launcher_.count(), 4u);
  EXPECT_EQ(launcher_.request(3).trigger, "schedule");
}

TEST_F(SchedulerTest, ALateLoopCatchesUpNoMoreThanTheLimit) {
  auto job = MakeJob("j", "@every 10s");
  job->catch_up = CatchUpPolicy::kAll;
  job->catch_up_limit = 2;
  job->max_active_runs = 0;
  Start({job});
  AdvanceTo(kBase + kHour + 5 * kSecond);
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("j", 3590), Pair("j", 3600)));
  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "j", "catch_up_limit 2"));
}

TEST_F(SchedulerTest, ARestartWithTheClockBehindTheLastFireWaitsForTheNextOccurrence) {
  SaveRecord("j", kBase + kHour);
  auto job = MakeJob("j", "@every 10s");
  job->catch_up = CatchUpPolicy::kAll;
  Scheduler& scheduler = Start({job});
  EXPECT_EQ(launcher_.count(), 0u);
  EXPECT_EQ(scheduler.NextFire(JobId("j")), kBase + kHour + 10 * kSecond);
}

std::vector<std::shared_ptr<const Job>> Jobs(std::vector<std::shared_ptr<Job>> jobs) {
  return {jobs.begin(), jobs.end()};
}

TEST_F(SchedulerTest, UpdateJobsChangesRemovesAndAddsJobs) {
  auto changed = MakeJob("changed", "@every 10s");
  auto removed = MakeJob("removed", "@every 10s");
  auto kept = MakeJob("kept", "@every 10s");
  for (auto& job : {changed, removed, kept}) job->max_active_runs = 0;
  Scheduler& scheduler = Start({changed, removed, kept});
  AdvanceTo(kBase + 10 * kSecond);

  auto changed_again = MakeJob("changed", "@every 30s");
  auto added = MakeJob("added", "@every 10s");
  for (auto& job : {changed_again, added}) job->max_active_runs = 0;
  ASSERT_TRUE(scheduler.UpdateJobs(Jobs({kept, changed_again, added})).ok());
  EXPECT_EQ(scheduler.NextFire(JobId("changed")), kBase + 30 * kSecond);
  EXPECT_EQ(scheduler.NextFire(JobId("removed")), std::nullopt);
  EXPECT_EQ(scheduler.NextFire(JobId("added")), kBase + 20 * kSecond);
  EXPECT_EQ(scheduler.Trigger(JobId("removed")).status().code(), StatusCode::kNotFound);

  AdvanceTo(kBase + 20 * kSecond);
  AdvanceTo(kBase + 30 * kSecond);
  EXPECT_THAT(
      launcher_.Fired(),
      ElementsAre(Pair("changed", 10), Pair("removed", 10), Pair("kept", 10), Pair("kept", 20),
                  Pair("added", 20), Pair("changed", 30), Pair("kept", 30), Pair("added", 30)));
  // A new job was seen for the first time: its record starts at its latest past occurrence.
  EXPECT_EQ(Record("added").last_fire_us, kBase + 30 * kSecond);
}

TEST_F(SchedulerTest, UpdateJobsLeavesARunningRunOnItsDefinitionAndKeepsTheJobRecord) {
  SaveRecord("paused", kBase - 50 * kSecond, /*paused=*/true);
  auto job = MakeJob("j", "@every 10s");
  job->description = "old";
  auto paused = MakeJob("paused", "@every 10s");
  Scheduler& scheduler = Start({job, paused});
  AdvanceTo(kBase + 10 * kSecond);
  ASSERT_EQ(launcher_.count(), 1u);

  auto edited = MakeJob("j", "@every 10s");
  edited->description = "new";
  auto paused_edited = MakeJob("paused", "@every 5s");
  ASSERT_TRUE(scheduler.UpdateJobs(Jobs({edited, paused_edited})).ok());
  EXPECT_EQ(launcher_.request(0).job->description, "old");
  EXPECT_FALSE(launcher_.cancelled(0));
  EXPECT_TRUE(Record("paused").paused);
  EXPECT_EQ(scheduler.NextFire(JobId("paused")), std::nullopt);
  EXPECT_EQ(scheduler.NextFire(JobId("j")), kBase + 20 * kSecond);

  launcher_.End(0);
  AdvanceTo(kBase + 20 * kSecond);
  ASSERT_TRUE(launcher_.WaitForLaunches(2));
  EXPECT_EQ(launcher_.request(1).job->description, "new");
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("j", 10), Pair("j", 20)));
}

TEST_F(SchedulerTest, UpdateJobsLetsTheRunsOfARemovedJobFinishAndDropsItsWaitingOnes) {
  auto job = MakeJob("j", "@every 10s");
  job->overlap = OverlapPolicy::kQueue;
  Scheduler& scheduler = Start({job});
  AdvanceTo(kBase + 10 * kSecond);
  AdvanceTo(kBase + 20 * kSecond);  // queued behind the run of 10
  ASSERT_EQ(launcher_.count(), 1u);

  ASSERT_TRUE(scheduler.UpdateJobs({}).ok());
  EXPECT_TRUE(events_.WaitFor(EventType::kTriggerRefused, "j", "the job was removed"));
  EXPECT_FALSE(launcher_.cancelled(0));
  EXPECT_EQ(scheduler.stats().active_runs, 1u);
  launcher_.End(0);
  EXPECT_EQ(scheduler.stats().active_runs, 0u);
  AdvanceTo(kBase + 30 * kSecond);
  EXPECT_EQ(launcher_.count(), 1u);

  // Listed again: it fires from its next occurrence, without catching up.
  ASSERT_TRUE(scheduler.UpdateJobs(Jobs({job})).ok());
  EXPECT_EQ(scheduler.NextFire(JobId("j")), kBase + 40 * kSecond);
  AdvanceTo(kBase + 40 * kSecond);
  EXPECT_THAT(launcher_.Fired(), ElementsAre(Pair("j", 10), Pair("j", 40)));
}

TEST_F(SchedulerTest, HeartbeatBeatsWhileNothingIsDue) {
  std::mutex mu;
  std::condition_variable beat;
  int beats = 0;
  SchedulerOptions options;
  options.heartbeat = [&] {
    std::lock_guard lock(mu);
    ++beats;
    beat.notify_all();
  };
  options.heartbeat_interval_us = kSecond;
  scheduler_ = std::make_unique<Scheduler>(Jobs({MakeJob("hourly", "@hourly")}), clock_, *store_,
                                           launcher_, &bus_, std::move(options));
  ASSERT_TRUE(scheduler_->Start().ok());
  std::unique_lock lock(mu);
  ASSERT_TRUE(beat.wait_for(lock, kPatience, [&] { return beats >= 1; }));
  lock.unlock();
  clock_.Advance(kSecond);
  lock.lock();
  EXPECT_TRUE(beat.wait_for(lock, kPatience, [&] { return beats >= 2; }));
  EXPECT_EQ(launcher_.count(), 0u);
}

// IdleUntil: what a virtual-time harness (petit::testing) waits for before it moves the clock.
// The scheduler says it sleeps, and until when, only when no pass is pending: a run that ends
// with an occurrence queued behind it makes it busy until the pass that launches that occurrence.
TEST_F(SchedulerTest, IdleUntilSaysWhenTheThreadSleepsWithNothingToDo) {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t idles = 0;  // guarded by mu
  SchedulerOptions options = passes_.Options();
  options.on_idle = [&] {
    std::lock_guard lock(mu);
    ++idles;
    cv.notify_all();
  };
  std::shared_ptr<Job> job = MakeJob("q", "@every 10s");
  job->overlap = OverlapPolicy::kQueue;
  scheduler_ = std::make_unique<Scheduler>(std::vector<std::shared_ptr<const Job>>{job}, clock_,
                                           *store_, launcher_, &bus_, std::move(options));
  EXPECT_FALSE(scheduler_->IdleUntil().has_value()) << "not running";
  ASSERT_TRUE(scheduler_->Start().ok());
  const auto wait_idle = [&]() -> std::optional<int64_t> {
    for (;;) {
      uint64_t seen;
      {
        std::lock_guard lock(mu);
        seen = idles;
      }
      if (std::optional<int64_t> until = scheduler_->IdleUntil()) return until;
      std::unique_lock lock(mu);
      if (!cv.wait_for(lock, kPatience, [&] { return idles != seen; })) return std::nullopt;
    }
  };
  EXPECT_EQ(wait_idle(), kBase + 10 * kSecond);
  clock_.Set(kBase + 10 * kSecond);
  EXPECT_EQ(wait_idle(), kBase + 20 * kSecond);
  EXPECT_EQ(launcher_.count(), 1u);
  clock_.Set(kBase + 20 * kSecond);  // queued behind the active run
  EXPECT_EQ(wait_idle(), kBase + 30 * kSecond);
  EXPECT_EQ(launcher_.count(), 1u);
  launcher_.End(0);
  // Idle again only after the pass that launched the queued occurrence.
  EXPECT_EQ(wait_idle(), kBase + 30 * kSecond);
  EXPECT_EQ(launcher_.count(), 2u);
}

}  // namespace
}  // namespace petit

// `petit simulate`'s pieces without the binary: the parsers of its arguments, each class of bad
// input, and the text and JSON renderers on a timeline built by hand. The end-to-end test on real
// job files is tests/integration/simulate_test.cc.
#include "cli/simulate_command.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "petit/core/schedule.h"
#include "runtime/time_format.h"

namespace petit::host {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kSecond = 1'000'000;

int64_t Utc(const std::string& iso) { return *ParseIsoTime(iso); }

// ---------------------------------------------------------------------------------------------
// Times

TEST(SimulationTimeTest, OffsetsAndZIdentifyOneInstant) {
  EXPECT_EQ(*ParseSimulationTime("2026-11-01T00:00Z", "UTC"), Utc("2026-11-01T00:00:00Z"));
  EXPECT_EQ(*ParseSimulationTime("2026-11-01T00:00:30Z", "Asia/Tokyo"),
            Utc("2026-11-01T00:00:30Z"));
  EXPECT_EQ(*ParseSimulationTime("2026-11-01T00:00-04:00", "UTC"), Utc("2026-11-01T04:00:00Z"));
  EXPECT_EQ(*ParseSimulationTime("2026-11-01T00:00+0530", "UTC"), Utc("2026-10-31T18:30:00Z"));
  EXPECT_EQ(*ParseSimulationTime("2026-11-01T00:00+09", "UTC"), Utc("2026-10-31T15:00:00Z"));
  EXPECT_EQ(*ParseSimulationTime("2026-11-01", "UTC"), Utc("2026-11-01T00:00:00Z"));
}

TEST(SimulationTimeTest, WallTimeIsReadInTheDefaultOrBracketedZoneWithTheDstRule) {
  EXPECT_EQ(*ParseSimulationTime("2026-11-01T00:00", "America/New_York"),
            Utc("2026-11-01T04:00:00Z"));
  EXPECT_EQ(*ParseSimulationTime("2026-11-01T00:00[Europe/Paris]", "America/New_York"),
            Utc("2026-10-31T23:00:00Z"));
  // In the fold: the first 01:30 (EDT); in the gap: its end, 03:00 EDT.
  EXPECT_EQ(*ParseSimulationTime("2026-11-01T01:30", "America/New_York"),
            Utc("2026-11-01T05:30:00Z"));
  EXPECT_EQ(*ParseSimulationTime("2026-03-08T02:30", "America/New_York"),
            Utc("2026-03-08T07:00:00Z"));
}

TEST(SimulationTimeTest, RejectsEveryMalformedShapeWithTheExpectedForms) {
  for (const char* bad :
       {"", "now", "tomorrow", "2026", "2026-11", "2026-1-01", "26-11-01", "2026-11-01T",
        "2026-11-01T1:00", "2026-11-01T01", "2026-11-01T01:00:0", "2026-11-01T01:00Zulu",
        "2026-11-01T01:00 UTC", "2026-11-01T01:00[", "2026-11-01T01:00[]", "1762000000"}) {
    Result<int64_t> time = ParseSimulationTime(bad, "UTC");
    ASSERT_FALSE(time.ok()) << bad;
    EXPECT_THAT(time.status().message(), HasSubstr("2026-11-01T00:00Z")) << bad;
  }
}

TEST(SimulationTimeTest, RejectsDatesAndOffsetsOutOfRangeAndUnknownZones) {
  for (const char* bad : {"2026-02-31T00:00Z", "2026-13-01T00:00Z", "2026-11-01T24:00Z",
                          "2026-11-01T23:60Z", "2026-11-01T23:00:60Z"}) {
    Result<int64_t> time = ParseSimulationTime(bad, "UTC");
    ASSERT_FALSE(time.ok()) << bad;
    EXPECT_THAT(time.status().message(), HasSubstr("not a valid date")) << bad;
  }
  for (const char* bad : {"2026-11-01T00:00+24:00", "2026-11-01T00:00+01:60", "2026-11-01T00:00+1",
                          "2026-11-01T00:00-04:00:00"}) {
    Result<int64_t> time = ParseSimulationTime(bad, "UTC");
    ASSERT_FALSE(time.ok()) << bad;
    EXPECT_THAT(time.status().message(), HasSubstr("UTC offset")) << bad;
  }
  Result<int64_t> zone = ParseSimulationTime("2026-11-01T00:00[America/New_Yrok]", "UTC");
  ASSERT_FALSE(zone.ok());
  EXPECT_THAT(zone.status().message(), HasSubstr("America/New_York"));
}

TEST(SimulationTimeTest, RejectsInstantsBeforeTheEpochInEveryForm) {
  // Schedules do not fire before 1970: a window there would silently show nothing.
  for (const char* bad : {"0000-01-01T00:00Z", "1969-12-31T23:59:59Z", "1970-01-01T00:00+00:01",
                          "1969-12-31T18:00[America/New_York]", "1900-06-01"}) {
    Result<int64_t> time = ParseSimulationTime(bad, "America/New_York");
    ASSERT_FALSE(time.ok()) << bad;
    EXPECT_THAT(time.status().message(), HasSubstr("before 1970-01-01T00:00Z")) << bad;
  }
  EXPECT_EQ(*ParseSimulationTime("1970-01-01T00:00Z", "UTC"), 0);
  EXPECT_TRUE(ParseSimulationTime("9999-12-31T23:59:59Z", "UTC").ok());
}

// ---------------------------------------------------------------------------------------------
// Durations and specs

TEST(SimulationDurationTest, UnitsCombineLargestFirst) {
  EXPECT_EQ(*ParseSimulationDuration("90s"), 90 * kSecond);
  EXPECT_EQ(*ParseSimulationDuration("5m"), 300 * kSecond);
  EXPECT_EQ(*ParseSimulationDuration("1h30m"), 5400 * kSecond);
  EXPECT_EQ(*ParseSimulationDuration("250ms"), 250'000);
  EXPECT_EQ(*ParseSimulationDuration("2d1s500ms"), (2 * 86400 + 1) * kSecond + 500'000);
  EXPECT_EQ(*ParseSimulationDuration("0s"), 0);
}

TEST(SimulationDurationTest, RejectsMissingUnitsUnknownUnitsOrderAndOverflow) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {"90", "a unit must follow 90"},
      {"s", "a number must come before"},
      {"1.5s", "unknown unit '.'"},
      {"5min", "unknown unit 'min'"},
      {"-5s", "a number must come before"},
      {"30m1h", "largest first"},
      {"1s1s", "largest first"},
      {"9999999999999d", "too large"},
      {"200000d", "too large"},
  };
  for (const auto& [text, why] : cases) {
    Result<int64_t> duration = ParseSimulationDuration(text);
    ASSERT_FALSE(duration.ok()) << text;
    EXPECT_THAT(duration.status().message(), HasSubstr(why)) << text;
    EXPECT_THAT(duration.status().message(), HasSubstr("e.g. 90s")) << text;
  }
}

TEST(FailSpecTest, OneAttemptARangeOrEvery) {
  Result<FailSpec> one = ParseFailSpec("nightly.extract@2");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->task, "nightly.extract");
  EXPECT_EQ(one->first_attempt, 2u);
  EXPECT_EQ(one->last_attempt, 2u);
  Result<FailSpec> range = ParseFailSpec("extract@1..3");
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->first_attempt, 1u);
  EXPECT_EQ(range->last_attempt, 3u);
  Result<FailSpec> every = ParseFailSpec("extract@*");
  ASSERT_TRUE(every.ok());
  EXPECT_EQ(every->last_attempt, FailSpec::kEveryAttempt);
}

TEST(FailSpecTest, RejectsEachMalformedShape) {
  for (const char* bad :
       {"extract", "@1", "extract@", "extract@0", "extract@x", "extract@-1", "extract@3..1",
        "extract@1..", "extract@..2", "extract@1...2", "extract@99999999", "extract@1,2"}) {
    Result<FailSpec> spec = ParseFailSpec(bad);
    ASSERT_FALSE(spec.ok()) << bad;
    EXPECT_THAT(spec.status().message(), HasSubstr("expected TASK@N, TASK@N..M or TASK@*")) << bad;
  }
}

TEST(DurationSpecTest, TaskEqualsDuration) {
  Result<DurationSpec> spec = ParseDurationSpec("nightly.extract=1h30m");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->task, "nightly.extract");
  EXPECT_EQ(spec->micros, 5400 * kSecond);
  for (const char* bad : {"extract", "=5s", "extract=", "extract=5", "extract=5x"}) {
    Result<DurationSpec> rejected = ParseDurationSpec(bad);
    ASSERT_FALSE(rejected.ok()) << bad;
    EXPECT_THAT(rejected.status().message(), HasSubstr(bad)) << bad;
  }
}

// ---------------------------------------------------------------------------------------------
// Task names

std::shared_ptr<const Job> MakeJob(const std::string& id, const std::vector<std::string>& tasks,
                                   const std::string& cron = "", const std::string& zone = "UTC") {
  auto job = std::make_shared<Job>();
  job->id = JobId(id);
  job->dag = Dag(DagId(id));
  for (const std::string& task : tasks) {
    TaskSpec spec;
    spec.id = TaskId(task);
    spec.type = "noop";
    job->dag.AddTask(std::move(spec));
  }
  EXPECT_TRUE(job->dag.Validate().ok());
  if (!cron.empty()) job->schedule = *Schedule::Parse(cron, zone);
  return job;
}

TEST(ResolveTaskRefTest, QualifiedOrUniqueNamesResolve) {
  const std::vector<std::shared_ptr<const Job>> jobs = {MakeJob("a", {"extract", "load"}),
                                                        MakeJob("b", {"load", "report"})};
  Result<TaskRef> qualified = ResolveTaskRef("b.load", jobs);
  ASSERT_TRUE(qualified.ok());
  EXPECT_EQ(qualified->job.str(), "b");
  EXPECT_EQ(qualified->task.str(), "load");
  Result<TaskRef> unique = ResolveTaskRef("report", jobs);
  ASSERT_TRUE(unique.ok());
  EXPECT_EQ(unique->job.str(), "b");
}

TEST(ResolveTaskRefTest, AmbiguousAndUnknownNamesSayWhatToWrite) {
  const std::vector<std::shared_ptr<const Job>> jobs = {MakeJob("a", {"extract", "load"}),
                                                        MakeJob("b", {"load", "report"})};
  Result<TaskRef> ambiguous = ResolveTaskRef("load", jobs);
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_THAT(ambiguous.status().message(), HasSubstr("a.load b.load"));
  Result<TaskRef> typo = ResolveTaskRef("a.extrcat", jobs);
  ASSERT_FALSE(typo.ok());
  EXPECT_THAT(typo.status().message(), HasSubstr("did you mean 'a.extract'"));
  Result<TaskRef> wrong_job = ResolveTaskRef("b.extract", jobs);
  ASSERT_FALSE(wrong_job.ok());
  EXPECT_THAT(wrong_job.status().message(), HasSubstr("no task 'b.extract'"));
}

// ---------------------------------------------------------------------------------------------
// The fire budget

TEST(FireBudgetTest, CountsFiresOfEveryScheduledJobUpToTheBudget) {
  const int64_t from = Utc("2026-01-01T00:00:00Z");
  const std::vector<std::shared_ptr<const Job>> jobs = {MakeJob("hourly", {"a"}, "0 * * * *"),
                                                        MakeJob("manual", {"a"}),
                                                        MakeJob("minutely", {"a"}, "* * * * *")};
  // One hour: 1 + 60 fires (the ends are (from, until]).
  EXPECT_TRUE(CheckFireBudget(jobs, from, from + 3600 * kSecond, 61).ok());
  Status over = CheckFireBudget(jobs, from, from + 3600 * kSecond, 60);
  ASSERT_FALSE(over.ok());
  EXPECT_THAT(over.message(), HasSubstr("more than 60 times"));
  EXPECT_THAT(over.message(), HasSubstr("job minutely, '* * * * *'"));
  EXPECT_THAT(over.message(), HasSubstr("--job"));
}

TEST(FireBudgetTest, AYearOfAPerSecondScheduleIsRefusedQuickly) {
  const int64_t from = Utc("2026-01-01T00:00:00Z");
  const std::vector<std::shared_ptr<const Job>> jobs = {MakeJob("busy", {"a"}, "* * * * * *")};
  // Counting stops at the budget: this returns at once instead of stepping 31 million fires.
  Status over = CheckFireBudget(jobs, from, from + 366LL * 86400 * kSecond);
  ASSERT_FALSE(over.ok());
  EXPECT_THAT(over.message(),
              HasSubstr("more than " + std::to_string(kMaxSimulatedFires) + " times"));
  EXPECT_TRUE(CheckFireBudget(jobs, from, from + 3600 * kSecond).ok());
}

// ---------------------------------------------------------------------------------------------
// Renderers, on a timeline built by hand

using testing::EntryKind;
using testing::RefusalReason;
using testing::TimelineEntry;

const std::string kRun1 = RunId::GenerateAt(1).str();
const std::string kRun2 = RunId::GenerateAt(2).str();
const std::string kNeverRan = RunId::GenerateAt(3).str();

TimelineEntry Entry(EntryKind kind, const std::string& when, const std::string& job,
                    const std::string& run = "", const std::string& task = "", uint32_t attempt = 0,
                    const std::string& detail = "") {
  TimelineEntry entry;
  entry.kind = kind;
  entry.time_us = Utc(when);
  entry.job = job;
  entry.run = run;
  entry.task = task;
  entry.attempt = attempt;
  entry.detail = detail;
  return entry;
}

TimelineEntry Fired(const std::string& when, const std::string& job, const std::string& run,
                    const std::string& local) {
  TimelineEntry entry = Entry(EntryKind::kFired, when, job, run, "", 0,
                              "occurrence " + local + " (trigger schedule): run started");
  entry.occurrence_us = Utc(when);
  entry.trigger = "schedule";
  return entry;
}

TimelineEntry AttemptEnded(const std::string& started, const std::string& ended,
                           const std::string& task, uint32_t attempt, const std::string& status,
                           const std::string& error = "") {
  TimelineEntry entry = Entry(EntryKind::kAttemptEnded, ended, "nightly", kRun1, task, attempt);
  entry.started_us = Utc(started);
  entry.ended_us = Utc(ended);
  entry.status = status;
  entry.error = error;
  if (status == "failed") entry.exit_code = 1;
  return entry;
}

// New York: 01:30 across the fall-back fold, with a failed attempt retried after 2 s, a failure
// with no retry left, a skip, and a job refused because the first one failed.
Simulation HandBuilt() {
  Simulation sim;
  sim.from_us = Utc("2026-11-01T04:00:00Z");
  sim.until_us = Utc("2026-11-02T05:00:00Z");
  sim.zone = "America/New_York";
  auto nightly = std::const_pointer_cast<Job>(
      MakeJob("nightly", {"extract", "notify"}, "30 1 * * *", "America/New_York"));
  auto report =
      std::const_pointer_cast<Job>(MakeJob("report", {"build"}, "0 3 * * *", "America/New_York"));
  report->depends_on.push_back({JobId("nightly")});
  sim.jobs = {nightly, report};

  std::vector<TimelineEntry> e;
  e.push_back(Fired("2026-11-01T05:30:00Z", "nightly", kRun1, "2026-11-01T01:30:00-04:00"));
  TimelineEntry started = Entry(EntryKind::kRunStarted, "2026-11-01T05:30:00Z", "nightly", kRun1);
  started.trigger = "schedule";
  e.push_back(started);
  e.push_back(
      Entry(EntryKind::kAttemptStarted, "2026-11-01T05:30:00Z", "nightly", kRun1, "extract", 1));
  e.push_back(AttemptEnded("2026-11-01T05:30:00Z", "2026-11-01T05:31:30Z", "extract", 1, "failed",
                           "injected by --fail extract@1..2"));
  TimelineEntry retry =
      Entry(EntryKind::kRetryScheduled, "2026-11-01T05:31:30Z", "nightly", kRun1, "extract", 1);
  retry.retry_at_us = Utc("2026-11-01T05:31:32Z");
  retry.delay_us = 2 * kSecond;
  e.push_back(retry);
  e.push_back(
      Entry(EntryKind::kAttemptStarted, "2026-11-01T05:31:32Z", "nightly", kRun1, "extract", 2));
  e.push_back(AttemptEnded("2026-11-01T05:31:32Z", "2026-11-01T05:33:02Z", "extract", 2, "failed",
                           "injected by --fail extract@1..2"));
  TimelineEntry skipped = Entry(EntryKind::kTaskSkipped, "2026-11-01T05:33:02Z", "nightly", kRun1,
                                "notify", 0, "trigger rule all_success: upstream 'extract' failed");
  skipped.status = "upstream_failed";
  e.push_back(skipped);
  TimelineEntry ended = Entry(EntryKind::kRunEnded, "2026-11-01T05:33:02Z", "nightly", kRun1);
  ended.status = "failed";
  e.push_back(ended);
  TimelineEntry refused =
      Entry(EntryKind::kRefused, "2026-11-01T08:00:00Z", "report", kNeverRan, "", 0,
            "occurrence 2026-11-01T03:00:00-05:00: dependency on job 'nightly' not met: its "
            "latest finished run " +
                kRun1 + " failed");
  refused.occurrence_us = Utc("2026-11-01T08:00:00Z");
  refused.reason = RefusalReason::kDependency;
  e.push_back(refused);
  e.push_back(Fired("2026-11-02T06:30:00Z", "nightly", kRun2, "2026-11-02T01:30:00-05:00"));
  sim.timeline = testing::Timeline(std::move(e));
  sim.active_at_until = 1;
  return sim;
}

TEST(SimulationTextTest, ShowsFiresWithDstNotesRetriesSkipsAndRefusals) {
  const std::string text = RenderSimulationText(HandBuilt());
  EXPECT_THAT(text, HasSubstr("from 2026-11-01T00:00:00-04:00 until 2026-11-02T00:00:00-05:00 "
                              "(times in America/New_York); no command was run"));
  EXPECT_THAT(text, HasSubstr("2026-11-01T01:30:00-04:00  nightly #1          fired: occurrence "
                              "2026-11-01T01:30:00-04:00 (trigger schedule): run started\n"));
  EXPECT_THAT(text, HasSubstr("DST: 01:30 happens twice on 2026-11-01 in America/New_York (at "
                              "-04:00, then at -05:00 after clocks go back); fired once, at "
                              "-04:00\n"));
  EXPECT_THAT(text, HasSubstr("2026-11-01T01:31:30-04:00  nightly #1 extract  attempt 1 failed "
                              "after 1m30s (exit code 1): injected by --fail extract@1..2\n"));
  EXPECT_THAT(text, HasSubstr("nightly #1 extract  attempt 2 in 2s, at 2026-11-01T01:31:32-04:00 "
                              "(retry delay)\n"));
  EXPECT_THAT(text, HasSubstr("attempt 2 failed after 1m30s (exit code 1): injected by --fail "
                              "extract@1..2; no retry left\n"));
  EXPECT_THAT(text, HasSubstr("nightly #1 notify   upstream_failed: trigger rule all_success: "
                              "upstream 'extract' failed\n"));
  EXPECT_THAT(text, HasSubstr("nightly #1          run failed after 3m2s\n"));
  // A refused occurrence's run id is no run: no number; the run its reason names is #1.
  EXPECT_THAT(text, HasSubstr("report              not fired (dependency): occurrence "
                              "2026-11-01T03:00:00-05:00: dependency on job 'nightly' not met: "
                              "its latest finished run #1 failed\n"));
  // The second day's 01:30 is unambiguous: no DST line under it.
  const size_t second = text.find("fired: occurrence 2026-11-02");
  ASSERT_NE(second, std::string::npos);
  EXPECT_THAT(text.substr(second), Not(HasSubstr("DST:")));
  // A run started by a fire is not announced twice.
  EXPECT_THAT(text, Not(HasSubstr("run started (")));
  EXPECT_THAT(text, HasSubstr("\n2 fired, 1 not fired; 1 run started, 1 failed, 1 still running "
                              "at --until; 2 task attempts, 1 retry, 1 not run\n"));
}

TEST(SimulationTextTest, GapFireSaysWhichWallTimeDoesNotExistAndWhenItFired) {
  Simulation sim;
  sim.from_us = Utc("2026-03-08T05:00:00Z");
  sim.until_us = Utc("2026-03-09T05:00:00Z");
  sim.zone = "America/New_York";
  sim.jobs = {MakeJob("backup", {"copy"}, "30 2 * * *", "America/New_York")};
  sim.timeline = testing::Timeline(
      {Fired("2026-03-08T07:00:00Z", "backup", kRun1, "2026-03-08T03:00:00-04:00")});
  const std::string text = RenderSimulationText(sim);
  EXPECT_THAT(text, HasSubstr("DST: 02:30 does not exist on 2026-03-08 in America/New_York "
                              "(clocks jump from 02:00 -05:00 to 03:00 -04:00); fired once, at "
                              "03:00-04:00, the end of the gap\n"));
}

TEST(SimulationTextTest, DependenciesAreListedAsMetUnderTheFireThatStartedARun) {
  Simulation sim = HandBuilt();
  std::vector<TimelineEntry> entries = sim.timeline.entries();
  entries.push_back(Fired("2026-11-02T08:00:00Z", "report", "run-3", "2026-11-02T03:00:00-05:00"));
  sim.timeline = testing::Timeline(std::move(entries));
  const std::string text = RenderSimulationText(sim);
  EXPECT_THAT(text, HasSubstr("depends on nightly (last_success): met\n"));
}

TEST(SimulationJsonTest, ParsesAndCarriesDstRetriesAndSummary) {
  const Simulation sim = HandBuilt();
  const std::string json = RenderSimulationJson(sim);
  Poco::JSON::Parser parser;
  Poco::JSON::Object::Ptr root;
  ASSERT_NO_THROW(root = parser.parse(json).extract<Poco::JSON::Object::Ptr>()) << json;
  EXPECT_EQ(root->getValue<std::string>("from"), "2026-11-01T00:00:00-04:00");
  EXPECT_EQ(root->getValue<std::string>("zone"), "America/New_York");
  EXPECT_TRUE(root->isNull("stopped_at"));
  Poco::JSON::Array::Ptr jobs = root->getArray("jobs");
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ(jobs->getObject(1)->getArray("depends_on")->getElement<std::string>(0),
            "nightly (last_success)");
  Poco::JSON::Array::Ptr events = root->getArray("events");
  ASSERT_EQ(events->size(), sim.timeline.size());
  Poco::JSON::Object::Ptr fired = events->getObject(0);
  EXPECT_EQ(fired->getValue<std::string>("kind"), "fired");
  EXPECT_EQ(fired->getValue<int>("run_number"), 1);
  EXPECT_EQ(fired->getValue<std::string>("occurrence"), "2026-11-01T01:30:00-04:00");
  Poco::JSON::Object::Ptr dst = fired->getObject("dst");
  ASSERT_TRUE(dst);
  EXPECT_EQ(dst->getValue<std::string>("kind"), "fold");
  EXPECT_EQ(dst->getValue<std::string>("wall_time"), "2026-11-01T01:30:00");
  EXPECT_EQ(dst->getValue<std::string>("offset_before"), "-04:00");
  EXPECT_EQ(dst->getValue<std::string>("offset_after"), "-05:00");
  Poco::JSON::Object::Ptr failed = events->getObject(3);
  EXPECT_EQ(failed->getValue<std::string>("kind"), "attempt_ended");
  EXPECT_EQ(failed->getValue<int>("exit_code"), 1);
  EXPECT_EQ(failed->getValue<int64_t>("duration_us"), 90 * kSecond);
  Poco::JSON::Object::Ptr retry = events->getObject(4);
  EXPECT_EQ(retry->getValue<std::string>("kind"), "retry_scheduled");
  EXPECT_EQ(retry->getValue<int64_t>("delay_us"), 2 * kSecond);
  EXPECT_EQ(retry->getValue<std::string>("retry_at"), "2026-11-01T01:31:32-04:00");
  EXPECT_EQ(events->getObject(9)->getValue<std::string>("reason"), "dependency");
  EXPECT_EQ(events->getObject(9)->getValue<std::string>("run"), kNeverRan);
  EXPECT_FALSE(events->getObject(9)->has("run_number"));
  EXPECT_EQ(events->getObject(10)->getValue<int>("run_number"), 2);
  EXPECT_FALSE(events->getObject(10)->has("dst"));
  Poco::JSON::Object::Ptr summary = root->getObject("summary");
  EXPECT_EQ(summary->getValue<int>("fired"), 2);
  EXPECT_EQ(summary->getValue<int>("not_fired"), 1);
  EXPECT_EQ(summary->getObject("runs_ended")->getValue<int>("failed"), 1);
  EXPECT_EQ(summary->getValue<int>("still_running"), 1);
  EXPECT_EQ(summary->getValue<int>("retries"), 1);
  EXPECT_EQ(summary->getValue<int>("not_run"), 1);
}

TEST(SimulationJsonTest, EscapesNamesAndDetails) {
  Simulation sim = HandBuilt();
  std::vector<TimelineEntry> entries = sim.timeline.entries();
  entries[7].detail = "quote \" backslash \\ newline \n tab \t";
  sim.timeline = testing::Timeline(std::move(entries));
  const std::string json = RenderSimulationJson(sim);
  Poco::JSON::Parser parser;
  Poco::JSON::Object::Ptr root = parser.parse(json).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(root->getArray("events")->getObject(7)->getValue<std::string>("detail"),
            "quote \" backslash \\ newline \n tab \t");
}

}  // namespace
}  // namespace petit::host

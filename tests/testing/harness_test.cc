// TestHarness: jobs from YAML (string, directory) and from JobBuilder through the real loader;
// virtual time through schedules, retries, timeouts and stand-in durations; refusals (overlap,
// dependency, paused) and catch-up; failure injection; stand-ins and real plugins.
#include "petit/testing/harness.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "host/scratch_dir.h"

namespace petit::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kSecond = 1'000'000;
const int64_t kStart = UtcMicros(2026, 3, 2, 0, 0);  // a Monday, no DST change nearby

HarnessOptions At(int64_t start_us) {
  HarnessOptions options;
  options.start_us = start_us;
  return options;
}

// Every command succeeds at once.
void SucceedCommands(TestHarness& harness) {
  harness.StandIn("command", [](const TaskCall&) { return TaskReply::Success(); });
}

TEST(HarnessTest, LoadErrorsNameFileLineAndKey) {
  TestHarness harness;
  Status bad = harness.LoadYaml("id: j\ntasks:\n  - {id: a, type: command, command: x, retyr: 1}\n",
                                "bad.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.message(), HasSubstr("bad.yaml:3:"));
  EXPECT_THAT(bad.message(), HasSubstr("unknown key 'retyr'"));
  EXPECT_TRUE(harness.JobIds().empty());
  // Malformed YAML and a wrong value are refused the same way.
  EXPECT_FALSE(harness.LoadYaml("id: [", "broken.yaml").ok());
  EXPECT_FALSE(
      harness.LoadYaml("id: j\nschedule: \"61 * * * *\"\ntasks: [{id: a, type: noop}]\n").ok());
}

TEST(HarnessTest, LoadsADirectoryAsPetitDoes) {
  petit::host::testing::ScratchDir dir;
  std::ofstream(dir.path() / "a.yaml") << "id: a\ntasks: [{id: t, type: command, command: x}]\n";
  std::ofstream(dir.path() / "b.yml") << "id: b\ntasks: [{id: t, type: command, command: x}]\n";
  std::ofstream(dir.path() / "petit.yaml") << "storage: memory\n";  // not a job
  TestHarness harness;
  ASSERT_TRUE(harness.LoadDirectory(dir.path().string()).ok());
  EXPECT_THAT(harness.JobIds(), ElementsAre("a", "b"));
  EXPECT_FALSE(harness.LoadDirectory((dir.path() / "missing").string()).ok());
}

TEST(HarnessTest, JobBuilderJobsGoThroughTheLoader) {
  JobBuilder builder("built");
  builder.Schedule("0 */2 * * *", "Europe/Paris").Config("region", "eu \"west\"");
  builder.Command("a", "echo hi");
  JobBuilder::Task b;
  b.id = "b";
  b.type = "custom_type";
  b.params = {{"url", "http://x"}};
  b.depends_on = {"a"};
  b.condition = "all_done";
  b.max_attempts = 2;
  b.delay_secs = 5;
  builder.AddTask(b);
  TestHarness harness(At(kStart));
  ASSERT_TRUE(harness.Add(builder).ok()) << builder.Yaml();
  std::vector<std::string> seen;
  harness.StandIn("command", [](const TaskCall&) { return TaskReply::Success({{"k", "v"}}); });
  std::atomic<int> b_calls{0};
  harness.StandIn("custom_type", [&](const TaskCall& call) {
    ++b_calls;
    EXPECT_EQ(call.inputs.at("a.k"), "v");
    EXPECT_EQ(call.config.at("region"), "eu \"west\"");
    EXPECT_THAT(call.params_json, HasSubstr("http://x"));
    return TaskReply::Success();
  });
  harness.AdvanceBy(4h);
  EXPECT_EQ(harness.timeline().FireTimes("built").size(), 2u);
  EXPECT_EQ(b_calls.load(), 2);
  // A builder whose job the loader refuses is refused with the loader's message.
  JobBuilder wrong("wrong");
  wrong.CatchUp("sometimes").Command("a", "x");
  EXPECT_THAT(harness.Add(wrong).message(), HasSubstr("<JobBuilder>:"));
  EXPECT_THAT(harness.Add(wrong).message(), HasSubstr("catch-up policy 'sometimes'"));
}

TEST(HarnessTest, ScheduleFiresEveryOccurrenceInVirtualTime) {
  TestHarness harness(At(kStart));
  ASSERT_TRUE(harness
                  .LoadYaml("id: tick\nschedule: \"@every 90s\"\n"
                            "tasks: [{id: a, type: command, command: x}]\n")
                  .ok());
  SucceedCommands(harness);
  const auto real_start = std::chrono::steady_clock::now();
  harness.AdvanceBy(1h);
  EXPECT_LT(std::chrono::steady_clock::now() - real_start, 10s);
  const Timeline timeline = harness.timeline();
  const std::vector<int64_t> fires = timeline.FireTimes("tick");
  ASSERT_EQ(fires.size(), 40u);
  for (size_t i = 1; i < fires.size(); ++i) EXPECT_EQ(fires[i] - fires[i - 1], 90 * kSecond);
  EXPECT_EQ(timeline.Count(EntryKind::kRunEnded, "tick"), 40u);
  EXPECT_EQ(harness.Now(), kStart + 3600 * kSecond);
  ASSERT_TRUE(harness.NextFire("tick").has_value());
  EXPECT_EQ(*harness.NextFire("tick"), fires.back() + 90 * kSecond);
  EXPECT_EQ(harness.NextDueTime(), harness.NextFire("tick"));
}

TEST(HarnessTest, ManualTriggerRunsAtOnceWithoutMovingTheClock) {
  TestHarness harness(At(kStart));
  ASSERT_TRUE(harness.LoadYaml("id: j\ntasks: [{id: a, type: command, command: x}]\n").ok());
  SucceedCommands(harness);
  Result<std::string> run = harness.Trigger("j");
  ASSERT_TRUE(run.ok()) << run.status().message();
  const Timeline timeline = harness.timeline();
  EXPECT_THAT(timeline.FireTriggers("j"), ElementsAre("manual"));
  EXPECT_THAT(timeline.RunStatuses("j"), ElementsAre("succeeded"));
  EXPECT_EQ(timeline.Of(EntryKind::kRunEnded, "j").at(0).run, *run);
  EXPECT_EQ(harness.Now(), kStart);
  EXPECT_FALSE(harness.Trigger("nope").ok());
}

TEST(HarnessTest, StandInDurationsTakeVirtualTime) {
  TestHarness harness(At(kStart));
  ASSERT_TRUE(harness
                  .LoadYaml(R"(
id: chain
tasks:
  - {id: a, type: command, command: x}
  - {id: b, type: command, command: x, depends_on: [a]}
)")
                  .ok());
  harness.StandIn("command", [](const TaskCall&) {
    return TaskReply::Success().Taking(std::chrono::minutes(20));
  });
  harness.Duration("chain", "b", 3h);  // injected: overrides b's stand-in
  ASSERT_TRUE(harness.Trigger("chain").ok());
  EXPECT_EQ(harness.active_runs(), 1u);
  EXPECT_EQ(harness.NextDueTime(), kStart + 20 * 60 * kSecond);
  ASSERT_TRUE(harness.RunUntilIdle());
  const Timeline timeline = harness.timeline();
  const auto ends = timeline.Of(EntryKind::kAttemptEnded, "chain");
  ASSERT_EQ(ends.size(), 2u);
  EXPECT_EQ(ends[0].ended_us - ends[0].started_us, 20 * 60 * kSecond);
  EXPECT_EQ(ends[1].started_us, ends[0].ended_us);
  EXPECT_EQ(ends[1].ended_us - ends[1].started_us, 3 * 3600 * kSecond);
  EXPECT_EQ(harness.Now(), kStart + (20 * 60 + 3 * 3600) * kSecond);
  EXPECT_EQ(harness.active_runs(), 0u);
}

TEST(HarnessTest, TimeoutsElapseInVirtualTimeAndAreRetried) {
  TestHarness harness(At(kStart));
  ASSERT_TRUE(harness
                  .LoadYaml(R"(
id: slow
tasks:
  - id: a
    type: command
    command: x
    timeout_secs: 30
    retry: {max_attempts: 3, delay_secs: 10}
)")
                  .ok());
  SucceedCommands(harness);
  harness.TimeOutAttempt("slow", "a", 1);
  harness.TimeOutAttempt("", "a", 2);  // any job
  ASSERT_TRUE(harness.Trigger("slow").ok());
  ASSERT_TRUE(harness.RunUntilIdle()) << harness.timeline().ToText();
  const Timeline timeline = harness.timeline();
  const auto ends = timeline.Of(EntryKind::kAttemptEnded, "slow", "a");
  ASSERT_EQ(ends.size(), 3u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(ends[i].timed_out) << ends[i].error;
    EXPECT_EQ(ends[i].status, "failed");
    EXPECT_EQ(ends[i].ended_us - ends[i].started_us, 30 * kSecond);
  }
  EXPECT_FALSE(ends[2].timed_out);
  EXPECT_EQ(ends[2].status, "succeeded");
  EXPECT_THAT(timeline.RetryDelays("slow", "a"), ElementsAre(10 * kSecond, 10 * kSecond));
  EXPECT_EQ(harness.Now(), kStart + (30 + 10 + 30 + 10) * kSecond);
}

TEST(HarnessTest, InjectedFailuresAndExitCodes) {
  TestHarness harness(At(kStart));
  ASSERT_TRUE(harness
                  .LoadYaml(R"(
id: j
tasks:
  - id: a
    type: command
    command: x
    retry: {max_attempts: 3, delay_secs: 1}
  - {id: b, type: command, command: x, depends_on: [a]}
  - {id: c, type: command, command: x, depends_on: [b]}
  - {id: d, type: command, command: x, depends_on: [b], condition: on_failure}
)")
                  .ok());
  SucceedCommands(harness);
  harness.FailAttempt("j", "a", 2, 9, "disk full");  // attempt 1 succeeds: never reached
  harness.FailAttempt("j", "a", 1, 4);
  harness.ExitCode("j", "b", 7);
  harness.FailAttempt("other_job", "c", 1);  // another job's: no effect here
  ASSERT_TRUE(harness.Trigger("j").ok());
  ASSERT_TRUE(harness.RunUntilIdle());
  const Timeline timeline = harness.timeline();
  const auto a = timeline.Of(EntryKind::kAttemptEnded, "j", "a");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].exit_code, 4);
  EXPECT_EQ(a[1].exit_code, 9);
  EXPECT_THAT(a[1].error, HasSubstr("disk full"));
  EXPECT_EQ(a[2].status, "succeeded");
  const auto b = timeline.Of(EntryKind::kAttemptEnded, "j", "b");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].status, "failed");
  EXPECT_EQ(b[0].exit_code, 7);
  // c (all_success) does not run; d (on_failure) does.
  const auto skipped = timeline.Of(EntryKind::kTaskSkipped, "j");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].task, "c");
  EXPECT_EQ(skipped[0].status, "upstream_failed");
  EXPECT_THAT(skipped[0].detail, HasSubstr("upstream 'b' did not succeed"));
  EXPECT_EQ(timeline.Count(EntryKind::kAttemptEnded, "j", "d"), 1u);
  EXPECT_THAT(timeline.RunStatuses("j"), ElementsAre("failed"));
}

TEST(HarnessTest, FailingTaskFailsNTimesThenSucceeds) {
  for (uint32_t failures : {0u, 1u, 3u}) {
    TestHarness harness(At(kStart));
    ASSERT_TRUE(harness
                    .LoadYaml(R"(
id: j
tasks:
  - id: a
    type: flaky
    retry: {max_attempts: 4, delay_secs: 2}
)")
                    .ok());
    harness.StandIn("flaky", FailingTask(failures, 3));
    ASSERT_TRUE(harness.Trigger("j").ok());
    ASSERT_TRUE(harness.RunUntilIdle());
    const auto ends = harness.timeline().Of(EntryKind::kAttemptEnded, "j", "a");
    ASSERT_EQ(ends.size(), failures + 1);
    for (uint32_t i = 0; i < failures; ++i) {
      EXPECT_EQ(ends[i].status, "failed");
      EXPECT_EQ(ends[i].exit_code, 3);
    }
    EXPECT_EQ(ends.back().status, "succeeded");
  }
  // More failures than attempts: the run fails.
  TestHarness harness(At(kStart));
  ASSERT_TRUE(
      harness
          .LoadYaml(
              "id: j\ntasks:\n  - {id: a, type: flaky, retry: {max_attempts: 2, delay_secs: 1}}\n")
          .ok());
  harness.StandIn("flaky", FailingTask(5));
  ASSERT_TRUE(harness.Trigger("j").ok());
  ASSERT_TRUE(harness.RunUntilIdle());
  EXPECT_THAT(harness.timeline().RunStatuses("j"), ElementsAre("failed"));
}

TEST(HarnessTest, OverlapSkipRefusesOccurrencesWhileARunIsActive) {
  TestHarness harness(At(kStart));
  ASSERT_TRUE(
      harness
          .LoadYaml(
              "id: j\nschedule: \"*/10 * * * *\"\ntasks: [{id: a, type: command, command: x}]\n")
          .ok());
  harness.StandIn("command", [](const TaskCall&) { return TaskReply::Success().Taking(25min); });
  harness.AdvanceBy(1h);
  const Timeline timeline = harness.timeline();
  // Runs start at :10 (ends :35), :40 (ends 1:05); :20, :30, :50, 1:00 are refused.
  EXPECT_THAT(timeline.FireTimes("j"),
              ElementsAre(kStart + 600 * kSecond, kStart + 2400 * kSecond));
  const auto refused = timeline.Of(EntryKind::kRefused, "j");
  ASSERT_EQ(refused.size(), 4u);
  for (const auto& r : refused) {
    EXPECT_EQ(r.reason, RefusalReason::kOverlap) << r.detail;
  }
  EXPECT_EQ(refused[0].occurrence_us, kStart + 1200 * kSecond);
}

TEST(HarnessTest, UnmetJobDependencyRefusesTheOccurrence) {
  TestHarness harness(At(kStart));
  ASSERT_TRUE(
      harness.LoadYaml("id: up\ntasks: [{id: a, type: command, command: x}]\n", "up.yaml").ok());
  ASSERT_TRUE(harness
                  .LoadYaml("id: down\nschedule: \"0 * * * *\"\ndepends_on: [up]\n"
                            "tasks: [{id: a, type: command, command: x}]\n",
                            "down.yaml")
                  .ok());
  SucceedCommands(harness);
  harness.AdvanceBy(1h);  // up never ran
  ASSERT_TRUE(harness.Trigger("up").ok());
  harness.AdvanceBy(1h);  // now it has succeeded
  const Timeline timeline = harness.timeline();
  const auto refused = timeline.Of(EntryKind::kRefused, "down");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].reason, RefusalReason::kDependency);
  EXPECT_THAT(refused[0].detail, HasSubstr("up"));
  EXPECT_THAT(timeline.FireTimes("down"), ElementsAre(kStart + 7200 * kSecond));
}

TEST(HarnessTest, PausedJobsDoNotFireAndCatchUpOnResume) {
  TestHarness harness(At(kStart));
  ASSERT_TRUE(harness
                  .LoadYaml("id: j\nschedule: \"0 * * * *\"\ncatch_up: latest\n"
                            "tasks: [{id: a, type: command, command: x}]\n")
                  .ok());
  SucceedCommands(harness);
  ASSERT_TRUE(harness.Pause("j").ok());
  EXPECT_FALSE(harness.NextFire("j").has_value());
  harness.AdvanceBy(3h + 30min);
  EXPECT_TRUE(harness.timeline().FireTimes("j").empty());
  ASSERT_TRUE(harness.Pause("j", false).ok());
  harness.AdvanceBy(1h);
  const Timeline timeline = harness.timeline();
  EXPECT_THAT(timeline.FireTriggers("j"), ElementsAre("catch_up", "schedule"));
  EXPECT_THAT(timeline.FireTimes("j"),
              ElementsAre(kStart + 3 * 3600 * kSecond, kStart + 4 * 3600 * kSecond));
  // catch_up: latest runs only the latest missed occurrence, silently.
  EXPECT_EQ(timeline.Count(EntryKind::kRefused, "j"), 0u) << timeline.ToText();
}

TEST(HarnessTest, CatchUpNoneSaysWhatItSkips) {
  TestHarness harness(At(kStart));
  ASSERT_TRUE(harness
                  .LoadYaml("id: j\nschedule: \"0 * * * *\"\n"
                            "tasks: [{id: a, type: command, command: x}]\n")
                  .ok());
  SucceedCommands(harness);
  ASSERT_TRUE(harness.Pause("j").ok());
  harness.AdvanceBy(2h + 30min);
  ASSERT_TRUE(harness.Pause("j", false).ok());
  harness.AdvanceBy(1h);
  const Timeline timeline = harness.timeline();
  EXPECT_THAT(timeline.FireTimes("j"), ElementsAre(kStart + 3 * 3600 * kSecond));
  const auto refused = timeline.Of(EntryKind::kRefused, "j");
  ASSERT_EQ(refused.size(), 1u) << timeline.ToText();
  EXPECT_EQ(refused[0].reason, RefusalReason::kMissed);
  EXPECT_EQ(refused[0].occurrence_us, kStart + 2 * 3600 * kSecond);
}

TEST(HarnessTest, CatchUpLimitAndDowntime) {
  TestHarness harness(At(kStart));
  ASSERT_TRUE(harness
                  .LoadYaml("id: j\nschedule: \"0 * * * *\"\ncatch_up: all\ncatch_up_limit: 2\n"
                            "tasks: [{id: a, type: command, command: x}]\n")
                  .ok());
  SucceedCommands(harness);
  ASSERT_TRUE(harness.Start().ok());
  harness.Stop();
  EXPECT_FALSE(harness.running());
  harness.AdvanceBy(5h + 10min);  // down: nothing fires
  EXPECT_TRUE(harness.timeline().FireTimes("j").empty());
  ASSERT_TRUE(harness.Start().ok());
  ASSERT_TRUE(harness.RunUntilIdle());
  EXPECT_THAT(harness.timeline().FireTimes("j", "catch_up"),
              ElementsAre(kStart + 4 * 3600 * kSecond, kStart + 5 * 3600 * kSecond));
  EXPECT_THAT(harness.timeline().RunStatuses("j"), ElementsAre("succeeded", "succeeded"));
}

TEST(HarnessTest, UnknownTypesSucceedOrAreRefused) {
  TestHarness lenient(At(kStart));
  ASSERT_TRUE(lenient.LoadYaml("id: j\ntasks: [{id: a, type: mystery}]\n").ok());
  ASSERT_TRUE(lenient.Trigger("j").ok());
  EXPECT_THAT(lenient.timeline().RunStatuses("j"), ElementsAre("succeeded"));

  HarnessOptions strict_options = At(kStart);
  strict_options.succeed_unknown_types = false;
  TestHarness strict(strict_options);
  Status refused = strict.LoadYaml("id: j\ntasks: [{id: a, type: mystery}]\n", "j.yaml");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), HasSubstr("mystery"));
  strict.StandIn("mystery", [](const TaskCall&) { return TaskReply::Success(); });
  EXPECT_TRUE(strict.LoadYaml("id: j\ntasks: [{id: a, type: mystery}]\n", "j.yaml").ok());
}

TEST(HarnessTest, AStandInThatThrowsFailsItsAttempt) {
  TestHarness harness(At(kStart));
  ASSERT_TRUE(harness.LoadYaml("id: j\ntasks: [{id: a, type: boom}]\n").ok());
  harness.StandIn("boom", [](const TaskCall&) -> TaskReply { throw std::runtime_error("kaput"); });
  ASSERT_TRUE(harness.Trigger("j").ok());
  const auto ends = harness.timeline().Of(EntryKind::kAttemptEnded, "j", "a");
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_THAT(ends[0].error, HasSubstr("kaput"));
}

TEST(HarnessTest, AStandInThatBlocksIsNamedInsteadOfHangingSilently) {
  HarnessOptions options = At(kStart);
  options.stall_report_after = 20ms;
  std::promise<void> unblock;
  std::shared_future<void> unblocked = unblock.get_future().share();
  std::vector<std::string> reports;
  // The report releases the stand-in, so the test ends only if the stall was reported.
  options.on_stall = [&](const std::string& message) {
    reports.push_back(message);
    if (reports.size() == 1) unblock.set_value();
  };
  TestHarness harness(options);
  ASSERT_TRUE(harness.LoadYaml("id: j\ntasks: [{id: a, type: stuck}]\n").ok());
  harness.StandIn("stuck", [unblocked](const TaskCall&) {
    unblocked.wait();
    return TaskReply::Success();
  });
  ASSERT_TRUE(harness.Trigger("j").ok());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_THAT(reports[0], HasSubstr("the stand-in of type 'stuck' in j.a attempt 1"));
  EXPECT_THAT(reports[0], HasSubstr("TaskReply::Hang()"));
  EXPECT_EQ(harness.timeline().Of(EntryKind::kAttemptEnded, "j", "a").size(), 1u);
}

// The retry delays of every run of a job with jitter, as one harness sees them.
std::vector<int64_t> JitteredDelays() {
  TestHarness harness(At(kStart));
  EXPECT_TRUE(harness
                  .LoadYaml("id: j\nschedule: {cron: \"0 * * * *\"}\n"
                            "tasks: [{id: a, type: flaky, retry: {max_attempts: 5, delay_secs: 10,"
                            " jitter: 1}}]\n")
                  .ok());
  harness.StandIn("flaky", FailingTask(4));
  harness.AdvanceBy(3h + 1min);  // runs at 01:00, 02:00, 03:00, each retried within a minute
  std::vector<int64_t> delays;
  for (const auto& entry : harness.timeline().Of(EntryKind::kRetryScheduled, "j", "a")) {
    delays.push_back(entry.delay_us);
  }
  return delays;
}

TEST(HarnessTest, RetryJitterIsTheSameOnEveryRunOfATest) {
  const std::vector<int64_t> first = JitteredDelays();
  ASSERT_EQ(first.size(), 12u);  // 3 runs, 4 retries each
  EXPECT_EQ(JitteredDelays(), first);
  // The jitter is applied (delays below 10 s, not all one value), only drawn from a fixed seed.
  for (int64_t delay : first) EXPECT_LE(delay, 10 * kSecond);
  EXPECT_NE(std::count(first.begin(), first.end(), first.front()), 12);
}

TEST(HarnessTest, AdvanceToAnEarlierTimeLeavesTheClockWhereItIs) {
  TestHarness harness(At(kStart));
  ASSERT_TRUE(harness.Add(JobBuilder("hourly").Schedule("0 * * * *").Command("a", "true")).ok());
  SucceedCommands(harness);
  harness.AdvanceTo(kStart + 3600 * kSecond);
  harness.AdvanceTo(kStart);  // backwards: nothing moves, nothing fires again
  EXPECT_EQ(harness.Now(), kStart + 3600 * kSecond);
  EXPECT_EQ(harness.timeline().FireTimes("hourly").size(), 1u);
  harness.AdvanceTo(kStart + 7200 * kSecond);
  EXPECT_EQ(harness.timeline().FireTimes("hourly").size(), 2u);
}

TEST(HarnessTest, RealPluginsRunForReal) {
  HarnessOptions options = At(kStart);
  options.plugin_dirs = {PETIT_PLUGIN_DIR};
  TestHarness harness(options);
  ASSERT_TRUE(harness
                  .LoadYaml(R"(
id: real
tasks:
  - id: f
    type: fail
    params: {times: 2}
    retry: {max_attempts: 3, delay_secs: 60}
  - id: out
    type: set_output
    params: {outputs: {k: v}}
    depends_on: [f]
)")
                  .ok());
  ASSERT_TRUE(harness.Trigger("real").ok());
  ASSERT_TRUE(harness.RunUntilIdle());
  const Timeline timeline = harness.timeline();
  EXPECT_THAT(timeline.RunStatuses("real"), ElementsAre("succeeded")) << timeline.ToText();
  const auto f = timeline.Of(EntryKind::kAttemptEnded, "real", "f");
  ASSERT_EQ(f.size(), 3u);
  EXPECT_THAT(f[0].error, HasSubstr("failed on purpose"));
  EXPECT_THAT(timeline.RetryDelays("real", "f"), ElementsAre(60 * kSecond, 60 * kSecond));
  // A plugin's parameters are checked against its schema by the loader.
  EXPECT_FALSE(harness.LoadYaml("id: bad\ntasks: [{id: f, type: fail, params: {tims: 2}}]\n").ok());
  // A directory that does not exist is an error when the harness starts.
  options.plugin_dirs = {"/nonexistent/petit/plugins"};
  TestHarness missing(options);
  EXPECT_FALSE(missing.Start().ok());
}

// The same scenario twice gives the same timeline: virtual time leaves nothing to chance.
TEST(HarnessTest, TimelinesAreDeterministic) {
  const auto scenario = [] {
    TestHarness harness(At(kStart));
    EXPECT_TRUE(harness
                    .LoadYaml(R"(
id: j
schedule: "*/5 * * * *"
overlap: queue
tasks:
  - {id: a, type: command, command: x}
  - {id: b, type: command, command: x, depends_on: [a], retry: {max_attempts: 2, delay_secs: 30}}
  - {id: c, type: command, command: x, depends_on: [a]}
)")
                    .ok());
    harness.StandIn("command", [](const TaskCall& call) {
      TaskReply reply =
          call.task == "b" && call.attempt == 1 ? TaskReply::Failure() : TaskReply::Success();
      return reply.Taking(call.task == "a" ? 4min : 90s);
    });
    harness.AdvanceBy(2h);
    std::string text;
    for (const TimelineEntry& e : harness.timeline().entries()) {
      text += std::string(EntryKindName(e.kind)) + " " + FormatTime(e.time_us) + " " + e.task +
              " " + std::to_string(e.attempt) + " " + e.status + "\n";
    }
    return text;
  };
  const std::string first = scenario();
  EXPECT_GT(first.size(), 1000u);
  EXPECT_EQ(first, scenario());
}

}  // namespace
}  // namespace petit::testing

// End to end: `petit simulate` on job directories, with the real binary and plugins loaded (the
// job files are checked against their schemas) but no task run: every task here is a command
// that would create a file, and no such file may exist afterwards. Times are fixed with
// --from/--until, so every expected time is exact; the JSON timeline is parsed and checked.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/petit_process.h"
#include "petit/plugin.hpp"

namespace petit {
namespace {

namespace fs = std::filesystem;
using sdk::Json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using testing::Outcome;
using testing::ShellQuote;

constexpr int64_t kSecond = 1'000'000;

class SimulateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "petit-simulate-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    jobs_ = dir_ / "jobs";
    spawned_ = dir_ / "spawned";
    fs::create_directories(jobs_);
  }
  void TearDown() override {
    // Whatever a test simulated, no task may have run.
    EXPECT_FALSE(fs::exists(spawned_)) << "a task command ran: " << spawned_;
    fs::remove_all(dir_);
  }

  // A command task that would leave a file behind if it ran.
  std::string Touch() const { return "touch " + spawned_.string(); }

  void Write(const std::string& name, const std::string& yaml) {
    std::ofstream(jobs_ / name) << yaml;
  }

  Outcome Simulate(const std::string& args) {
    return testing::RunPetit(PETIT_EXE, "simulate " + ShellQuote(jobs_.string()) + " " + args,
                             dir_);
  }

  // The JSON timeline of a simulation that must succeed.
  Json SimulateJson(const std::string& args) {
    const Outcome r = Simulate(args + " --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    sdk::Result<Json> doc = Json::Parse(r.out);
    EXPECT_TRUE(doc.ok()) << r.out;
    return doc.ok() ? *doc : Json();
  }

  static std::vector<Json> Events(const Json& doc, const std::string& kind,
                                  const std::string& job = "") {
    std::vector<Json> out;
    const Json* events = doc.Find("events");
    if (events == nullptr) return out;
    for (const Json& e : events->array_items()) {
      if (e.Find("kind")->string_value() != kind) continue;
      if (!job.empty() && e.Find("job")->string_value() != job) continue;
      out.push_back(e);
    }
    return out;
  }

  static std::string Str(const Json& e, const std::string& key) {
    const Json* value = e.Find(key);
    return value != nullptr && value->is_string() ? value->string_value() : "<none>";
  }

  static int64_t Int(const Json& e, const std::string& key) {
    const Json* value = e.Find(key);
    return value != nullptr && value->is_number() ? static_cast<int64_t>(value->number_value())
                                                  : -1;
  }

  fs::path dir_;
  fs::path jobs_;
  fs::path spawned_;
};

TEST_F(SimulateTest, FallBackFiresOnceAtTheFirstOffsetAndSaysSo) {
  Write("nightly.yaml",
        "id: nightly\n"
        "schedule: {cron: \"30 1 * * *\", timezone: America/New_York}\n"
        "tasks:\n"
        "  - {id: work, type: command, command: \"" +
            Touch() + "\"}\n");
  const std::string window = "--from 2026-10-31T12:00 --until 2026-11-02T12:00";
  const Json doc = SimulateJson(window);
  EXPECT_EQ(Str(doc, "from"), "2026-10-31T12:00:00-04:00");
  EXPECT_EQ(Str(doc, "until"), "2026-11-02T12:00:00-05:00");
  const std::vector<Json> fired = Events(doc, "fired", "nightly");
  ASSERT_EQ(fired.size(), 2u) << doc.Dump();
  EXPECT_EQ(Str(fired[0], "occurrence"), "2026-11-01T01:30:00-04:00");
  const Json* dst = fired[0].Find("dst");
  ASSERT_NE(dst, nullptr);
  EXPECT_EQ(Str(*dst, "kind"), "fold");
  EXPECT_EQ(Str(*dst, "wall_time"), "2026-11-01T01:30:00");
  EXPECT_EQ(Str(*dst, "offset_before"), "-04:00");
  EXPECT_EQ(Str(*dst, "offset_after"), "-05:00");
  EXPECT_EQ(Str(fired[1], "occurrence"), "2026-11-02T01:30:00-05:00");
  EXPECT_EQ(fired[1].Find("dst"), nullptr);
  EXPECT_EQ(Int(*doc.Find("summary")->Find("runs_ended"), "succeeded"), 2);

  const Outcome text = Simulate(window);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("DST: 01:30 happens twice on 2026-11-01 in America/New_York "
                                  "(at -04:00, then at -05:00 after clocks go back); fired once, "
                                  "at -04:00"));
  EXPECT_THAT(text.out, HasSubstr("no command was run"));
}

TEST_F(SimulateTest, SpringForwardFiresAtTheEndOfTheGap) {
  Write("backup.yaml",
        "id: backup\n"
        "schedule: {cron: \"30 2 * * *\", timezone: America/New_York}\n"
        "tasks:\n"
        "  - {id: copy, type: command, command: \"" +
            Touch() + "\"}\n");
  const Json doc = SimulateJson("--from 2026-03-07T12:00 --until 2026-03-09T12:00");
  const std::vector<Json> fired = Events(doc, "fired", "backup");
  ASSERT_EQ(fired.size(), 2u) << doc.Dump();
  EXPECT_EQ(Str(fired[0], "occurrence"), "2026-03-08T03:00:00-04:00");
  const Json* dst = fired[0].Find("dst");
  ASSERT_NE(dst, nullptr);
  EXPECT_EQ(Str(*dst, "kind"), "gap");
  EXPECT_EQ(Str(*dst, "wall_time"), "2026-03-08T02:30:00");
  EXPECT_THAT(Str(*dst, "note"), HasSubstr("02:30 does not exist on 2026-03-08"));
  EXPECT_EQ(Str(fired[1], "occurrence"), "2026-03-09T02:30:00-04:00");
  EXPECT_EQ(fired[1].Find("dst"), nullptr);
}

TEST_F(SimulateTest, CatchUpAfterADowntimeFollowsEachJobsPolicy) {
  Write("all.yaml",
        "id: hourly_all\n"
        "schedule: \"0 * * * *\"\n"
        "catch_up: all\n"
        "catch_up_limit: 2\n"
        "tasks:\n"
        "  - {id: work, type: command, command: \"" +
            Touch() + "\"}\n");
  Write("none.yaml",
        "id: hourly_none\n"
        "schedule: \"0 * * * *\"\n"
        "tasks:\n"
        "  - {id: work, type: command, command: \"" +
            Touch() + "\"}\n");
  const Json doc = SimulateJson(
      "--stopped-at 2026-05-01T00:30Z --from 2026-05-01T05:10Z --until 2026-05-01T06:30Z");
  EXPECT_EQ(Str(doc, "stopped_at"), "2026-05-01T00:30:00+00:00");
  // catch_up all, limit 2: the two latest missed occurrences run, oldest first (the newer one
  // waits for the run slot of the older: max_active_runs 1), the older ones are skipped.
  const std::vector<Json> fired = Events(doc, "fired", "hourly_all");
  ASSERT_EQ(fired.size(), 3u) << doc.Dump();
  EXPECT_EQ(Str(fired[0], "trigger"), "catch_up");
  EXPECT_EQ(Str(fired[0], "occurrence"), "2026-05-01T05:00:00+00:00");
  EXPECT_EQ(Str(fired[0], "time"), "2026-05-01T05:10:00+00:00");
  EXPECT_THAT(Str(fired[0], "detail"), HasSubstr("run waits for a free run slot"));
  EXPECT_EQ(Str(fired[1], "trigger"), "catch_up");
  EXPECT_EQ(Str(fired[1], "occurrence"), "2026-05-01T04:00:00+00:00");
  EXPECT_THAT(Str(fired[1], "detail"), HasSubstr("run started"));
  EXPECT_EQ(Str(fired[2], "trigger"), "schedule");
  EXPECT_EQ(Str(fired[2], "occurrence"), "2026-05-01T06:00:00+00:00");
  std::vector<int64_t> run_order;  // run numbers as their runs end
  for (const Json& e : Events(doc, "run_ended", "hourly_all"))
    run_order.push_back(Int(e, "run_number"));
  EXPECT_THAT(run_order, ElementsAre(Int(fired[1], "run_number"), Int(fired[0], "run_number"),
                                     Int(fired[2], "run_number")));
  const std::vector<Json> skipped_all = Events(doc, "refused", "hourly_all");
  ASSERT_EQ(skipped_all.size(), 1u);
  EXPECT_EQ(Str(skipped_all[0], "reason"), "missed");
  EXPECT_THAT(Str(skipped_all[0], "detail"), HasSubstr("catch_up_limit 2"));
  // catch_up none (the default): the missed occurrences are skipped, the schedule goes on.
  const std::vector<Json> refused = Events(doc, "refused", "hourly_none");
  ASSERT_EQ(refused.size(), 1u) << doc.Dump();
  EXPECT_EQ(Str(refused[0], "reason"), "missed");
  EXPECT_THAT(Str(refused[0], "detail"), HasSubstr("catch_up none"));
  const std::vector<Json> none_fired = Events(doc, "fired", "hourly_none");
  ASSERT_EQ(none_fired.size(), 1u);
  EXPECT_EQ(Str(none_fired[0], "occurrence"), "2026-05-01T06:00:00+00:00");
}

TEST_F(SimulateTest, OverlapSkipRefusesOccurrencesWhileALongRunIsActive) {
  Write("poll.yaml",
        "id: poll\n"
        "schedule: \"*/10 * * * *\"\n"
        "overlap: skip\n"
        "tasks:\n"
        "  - {id: fetch, type: command, command: \"" +
            Touch() + "\"}\n");
  const Json doc =
      SimulateJson("--from 2026-05-01T00:05Z --until 2026-05-01T00:45Z --duration fetch=25m");
  const std::vector<Json> fired = Events(doc, "fired", "poll");
  ASSERT_EQ(fired.size(), 2u) << doc.Dump();
  EXPECT_EQ(Str(fired[0], "occurrence"), "2026-05-01T00:10:00+00:00");
  EXPECT_EQ(Str(fired[1], "occurrence"), "2026-05-01T00:40:00+00:00");
  const std::vector<Json> refused = Events(doc, "refused", "poll");
  ASSERT_EQ(refused.size(), 2u);
  for (const Json& r : refused) {
    EXPECT_EQ(Str(r, "reason"), "overlap");
    EXPECT_THAT(Str(r, "detail"), HasSubstr("overlap skip"));
  }
  EXPECT_EQ(Str(refused[0], "occurrence"), "2026-05-01T00:20:00+00:00");
  EXPECT_EQ(Str(refused[1], "occurrence"), "2026-05-01T00:30:00+00:00");
  const std::vector<Json> ended = Events(doc, "attempt_ended", "poll");
  ASSERT_FALSE(ended.empty());
  EXPECT_EQ(Int(ended[0], "duration_us"), 25 * 60 * kSecond);
  EXPECT_EQ(Int(*doc.Find("summary"), "still_running"), 1);
}

TEST_F(SimulateTest, CrossJobDependencyUnmetThenMet) {
  Write("extract.yaml",
        "id: extract\n"
        "schedule: \"0 1 * * *\"\n"
        "tasks:\n"
        "  - {id: pull, type: command, command: \"" +
            Touch() + "\"}\n");
  Write("report.yaml",
        "id: report\n"
        "schedule: \"30 0 * * *\"\n"
        "depends_on: [extract]\n"
        "tasks:\n"
        "  - {id: build, type: command, command: \"" +
            Touch() + "\"}\n");
  // Day 1 00:30: extract has never run; day 2 00:30: it succeeded at 01:00 the day before.
  const std::string window = "--from 2026-05-01T00:00Z --until 2026-05-02T00:45Z";
  const Json doc = SimulateJson(window);
  const std::vector<Json> refused = Events(doc, "refused", "report");
  ASSERT_EQ(refused.size(), 1u) << doc.Dump();
  EXPECT_EQ(Str(refused[0], "reason"), "dependency");
  EXPECT_EQ(Str(refused[0], "occurrence"), "2026-05-01T00:30:00+00:00");
  const std::vector<Json> fired = Events(doc, "fired", "report");
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(Str(fired[0], "occurrence"), "2026-05-02T00:30:00+00:00");
  ASSERT_NE(fired[0].Find("dependencies_met"), nullptr);
  EXPECT_TRUE(fired[0].Find("dependencies_met")->bool_value());

  const Outcome text = Simulate(window);
  EXPECT_THAT(text.out, HasSubstr("depends on extract (last_success): met"));

  // --job report simulates the job it depends on too; when extract fails, report is refused.
  const Json failing = SimulateJson(window + " --job report --fail pull@*");
  const std::vector<Json> unmet = Events(failing, "refused", "report");
  ASSERT_EQ(unmet.size(), 2u) << failing.Dump();
  EXPECT_THAT(Str(unmet[1], "detail"), HasSubstr("extract"));
  EXPECT_TRUE(Events(failing, "fired", "report").empty());
  EXPECT_EQ(Events(failing, "fired", "extract").size(), 1u);
}

TEST_F(SimulateTest, FailedAttemptsAreRetriedAfterTheirBackoffDelays) {
  Write("load.yaml",
        "id: load\n"
        "schedule: \"0 3 * * *\"\n"
        "tasks:\n"
        "  - id: copy\n"
        "    type: command\n"
        "    command: \"" +
            Touch() +
            "\"\n"
            "    retry: {max_attempts: 4, delay_secs: 1, backoff_multiplier: 2}\n");
  const Json doc =
      SimulateJson("--from 2026-05-01T00:00Z --until 2026-05-01T04:00Z --fail load.copy@1..3");
  std::vector<int64_t> delays;
  for (const Json& r : Events(doc, "retry_scheduled", "load")) delays.push_back(Int(r, "delay_us"));
  EXPECT_THAT(delays, ElementsAre(1 * kSecond, 2 * kSecond, 4 * kSecond)) << doc.Dump();
  const std::vector<Json> ended = Events(doc, "attempt_ended", "load");
  ASSERT_EQ(ended.size(), 4u);
  EXPECT_EQ(Str(ended[0], "status"), "failed");
  EXPECT_THAT(Str(ended[0], "error"), HasSubstr("--fail load.copy@1..3"));
  EXPECT_EQ(Str(ended[3], "status"), "succeeded");
  EXPECT_EQ(Str(ended[3], "time"), "2026-05-01T03:00:07+00:00");
  EXPECT_EQ(Int(*doc.Find("summary")->Find("runs_ended"), "succeeded"), 1);
}

TEST_F(SimulateTest, TriggerRulesSkipOrRunTheDownstreamOfAFailure) {
  Write("etl.yaml",
        "id: etl\n"
        "schedule: \"0 2 * * *\"\n"
        "tasks:\n"
        "  - {id: extract, type: command, command: \"" +
            Touch() +
            "\"}\n"
            "  - {id: load, type: command, command: \"" +
            Touch() +
            "\", depends_on: [extract]}\n"
            "  - {id: alert, type: command, command: \"" +
            Touch() + "\", depends_on: [extract], condition: on_failure}\n");
  const std::string window = "--from 2026-05-01T00:00Z --until 2026-05-01T03:00Z";
  const Json doc = SimulateJson(window + " --fail extract@1");
  const std::vector<Json> skipped = Events(doc, "task_skipped", "etl");
  ASSERT_EQ(skipped.size(), 1u) << doc.Dump();
  EXPECT_EQ(Str(skipped[0], "task"), "load");
  EXPECT_THAT(Str(skipped[0], "detail"), HasSubstr("extract"));
  std::vector<std::string> ran;
  for (const Json& e : Events(doc, "attempt_ended", "etl")) {
    ran.push_back(Str(e, "task") + " " + Str(e, "status"));
  }
  EXPECT_THAT(ran, ElementsAre("extract failed", "alert succeeded"));
  EXPECT_EQ(Int(*doc.Find("summary")->Find("runs_ended"), "failed"), 1);
  // Without the failure it is the other way round.
  const Json clean = SimulateJson(window);
  ASSERT_EQ(Events(clean, "task_skipped", "etl").size(), 1u);
  EXPECT_EQ(Str(Events(clean, "task_skipped", "etl")[0], "task"), "alert");

  const Outcome text = Simulate(window + " --fail extract@1");
  EXPECT_THAT(text.out, HasSubstr("etl #1 load     upstream_failed: "));
}

TEST_F(SimulateTest, BadArgumentsGetOneLineAndExitTwo) {
  Write("a.yaml",
        "id: a\n"
        "schedule: {cron: \"0 1 * * *\", timezone: America/New_York}\n"
        "tasks:\n"
        "  - {id: work, type: command, command: \"" +
            Touch() + "\"}\n");
  Write("b.yaml",
        "id: b\n"
        "schedule: {cron: \"0 1 * * *\", timezone: Europe/Paris}\n"
        "tasks:\n"
        "  - {id: work, type: command, command: \"" +
            Touch() + "\"}\n");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--from yesterday", "--from 'yesterday': expected ISO 8601"},
      {"--from 2026-02-30T00:00Z", "not a valid date"},
      {"--from 2026-05-01T00:00Z --until 2026-04-30T00:00Z", "--until must be after --from"},
      {"--from 2026-05-01T00:00Z --until 2027-06-01T00:00Z", "more than 366 days"},
      {"--from 2026-05-01T00:00", "several zones (a in America/New_York, b in Europe/Paris)"},
      {"--from 2026-05-01T00:00Z --stopped-at 2026-05-02T00:00Z", "--stopped-at must be before"},
      {"--fail work@1", "task 'work' is in several jobs; write one of a.work b.work"},
      {"--fail a.wrok@1", "did you mean 'a.work'"},
      {"--fail a.work", "expected TASK@N, TASK@N..M or TASK@*"},
      {"--fail a.work@2", "has at most 1 attempt"},
      {"--duration a.work=5", "a unit must follow 5"},
      {"--duration nope=5s", "no task 'nope'"},
      {"--job c", "--job: no job 'c'"},
      {"--from", "option --from needs a value"},
      {"--fial a.work@1", "did you mean '--fail'"},
  };
  for (const auto& [args, message] : cases) {
    const Outcome r = Simulate(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(message)) << args;
    EXPECT_THAT(r.err, StartsWith("petit: ")) << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
    EXPECT_EQ(r.out, "") << args;
  }
  // With --job, a wall time is read in that job's zone.
  const Json doc = SimulateJson("--job b --from 2026-05-01T00:00 --until 2026-05-02T00:00");
  EXPECT_EQ(Str(doc, "from"), "2026-05-01T00:00:00+02:00");
}

TEST_F(SimulateTest, SpansTooBusyOrBeforeTheEpochAreRefusedAtOnceInOneLine) {
  Write("busy.yaml",
        "id: busy\n"
        "schedule: {cron: \"* * * * * *\"}\n"
        "tasks:\n"
        "  - {id: work, type: command, command: \"" +
            Touch() + "\"}\n");
  const std::vector<std::pair<std::string, std::string>> cases = {
      // 31 million fires: refused before the clock moves, not simulated for hours.
      {"--from 2026-01-01T00:00Z --until 2027-01-01T00:00Z", "fire more than 20000 times"},
      {"--from 2026-01-01T00:00Z --until 2026-01-01T06:00Z", "job busy, '* * * * * *'"},
      {"--from 2026-01-01T00:00Z --stopped-at 2025-12-31T00:00Z", "fire more than 20000 times"},
      // Schedules do not fire before 1970: such a window would show nothing without a word.
      {"--from 0000-01-01T00:00Z --until 0000-01-02T00:00Z", "before 1970-01-01T00:00Z"},
      {"--from 2026-01-01T00:00Z --stopped-at 1969-12-31T00:00Z", "--stopped-at '1969-12-31"},
  };
  for (const auto& [args, message] : cases) {
    const Outcome r = Simulate(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(message)) << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
    EXPECT_EQ(r.out, "") << args;
  }
  EXPECT_EQ(Simulate("--from 2026-01-01T00:00Z --until 2026-01-01T00:00:30Z").exit_code, 0);
}

TEST_F(SimulateTest, TheSameCommandPrintsTheSameTimelineEvenWithRetryJitter) {
  Write("j.yaml",
        "id: j\n"
        "schedule: {cron: \"0 * * * *\"}\n"
        "tasks:\n"
        "  - id: work\n"
        "    type: command\n"
        "    command: \"" +
            Touch() +
            "\"\n"
            "    retry: {max_attempts: 4, delay_secs: 30, backoff_multiplier: 2, jitter: 1}\n");
  const std::string args = "--from 2026-01-01T00:00Z --until 2026-01-01T04:00Z --fail work@1..3";
  const Outcome first = Simulate(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("(retry delay)"));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Simulate(args).out, first.out);
}

TEST_F(SimulateTest, WithoutSchedulesBareTimesAreReadInPetitYamlsZone) {
  Write("petit.yaml", "timezone: Asia/Tokyo\n");
  Write("adhoc.yaml",
        "id: adhoc\n"
        "tasks:\n"
        "  - {id: work, type: command, command: \"" +
            Touch() + "\"}\n");
  const Json doc = SimulateJson("--from 2026-05-01T00:00 --until 2026-05-02T00:00");
  EXPECT_EQ(Str(doc, "from"), "2026-05-01T00:00:00+09:00");
  EXPECT_EQ(Str(doc, "zone"), "Asia/Tokyo");
  EXPECT_EQ(doc.Find("events")->array_items().size(), 0u);
}

TEST_F(SimulateTest, ResourcePoolsOfPetitYamlAreSharedByTheRuns) {
  Write("petit.yaml", "pools: {gpu: 1}\n");
  for (const std::string id : {"train_a", "train_b"}) {
    Write(id + ".yaml", "id: " + id +
                            "\n"
                            "schedule: \"0 1 * * *\"\n"
                            "tasks:\n"
                            "  - {id: fit, type: command, command: \"" +
                            Touch() +
                            "\", "
                            "resources: {gpu: 1}}\n");
  }
  const Json doc = SimulateJson(
      "--from 2026-05-01T00:00Z --until 2026-05-01T02:00Z --duration train_a.fit=10m "
      "--duration train_b.fit=10m");
  std::vector<std::string> starts;
  for (const Json& e : Events(doc, "attempt_started")) starts.push_back(Str(e, "time"));
  // One gpu: the second attempt starts when the first releases it.
  EXPECT_THAT(starts, ElementsAre("2026-05-01T01:00:00+00:00", "2026-05-01T01:10:00+00:00"))
      << doc.Dump();
  EXPECT_EQ(Int(*doc.Find("summary")->Find("runs_ended"), "succeeded"), 2);
}

TEST_F(SimulateTest, InvalidJobFilesAreReportedAsValidateDoes) {
  Write("broken.yaml", "id: broken\nshedule: \"@daily\"\ntasks: []\n");
  const Outcome r = Simulate("--from 2026-05-01T00:00Z");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("broken.yaml"));
  EXPECT_THAT(r.err, HasSubstr("shedule"));
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace petit

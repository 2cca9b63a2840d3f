// The example of README's "Testing your jobs and plugins": a job author checks, in well under a
// second of real time, that a job scheduled at 01:30 New York time fires once across the
// fall-back, that a failing task backs off 1, 2 then 4 s, and that catch-up fills three runs
// missed while the host was down.
#include <chrono>

#include <gtest/gtest.h>

#include "petit/testing/harness.h"

namespace {

using namespace std::chrono_literals;
using petit::testing::FailingTask;
using petit::testing::TaskCall;
using petit::testing::TaskReply;
using petit::testing::TestHarness;
using petit::testing::UtcMicros;

TEST(ExampleTest, DstBackoffAndCatchUp) {
  const auto real_start = std::chrono::steady_clock::now();
  TestHarness harness({.start_us = UtcMicros(2026, 10, 31, 12, 0)});
  ASSERT_TRUE(harness
                  .LoadYaml(R"(
id: nightly
schedule: {cron: "30 1 * * *", timezone: America/New_York}
tasks:
  - {id: backup, type: command, command: ./backup.sh}
)")
                  .ok());
  ASSERT_TRUE(harness
                  .LoadYaml(R"(
id: flaky
tasks:
  - id: upload
    type: command
    command: ./upload.sh
    retry: {max_attempts: 4, delay_secs: 1, backoff_multiplier: 2}
)",
                            "flaky.yaml")
                  .ok());
  ASSERT_TRUE(harness
                  .LoadYaml(R"(
id: hourly
schedule: "0 * * * *"
catch_up: all
tasks:
  - {id: report, type: command, command: ./report.sh}
)",
                            "hourly.yaml")
                  .ok());
  // Nothing is spawned: `command` tasks succeed, except upload, which fails three times.
  harness.StandIn("command", [](const TaskCall& call) {
    return call.task == "upload" ? FailingTask(3)(call) : TaskReply::Success();
  });

  // 1. DST: 01:30 on 1 November 2026 happens twice in New York (EDT, then EST); it fires once.
  harness.AdvanceTo(UtcMicros(2026, 11, 2, 12, 0));
  EXPECT_EQ(harness.timeline().FireTimes("nightly"),
            (std::vector<int64_t>{UtcMicros(2026, 11, 1, 5, 30),     // 01:30 EDT
                                  UtcMicros(2026, 11, 2, 6, 30)}));  // 01:30 EST, next night

  // 2. Exponential backoff: 1 s, 2 s, 4 s, then the fourth attempt succeeds.
  ASSERT_TRUE(harness.Trigger("flaky").ok());
  harness.AdvanceBy(10s);
  EXPECT_EQ(harness.timeline().RetryDelays("flaky", "upload"),
            (std::vector<int64_t>{1'000'000, 2'000'000, 4'000'000}));
  EXPECT_EQ(harness.timeline().RunStatuses("flaky"), (std::vector<std::string>{"succeeded"}));

  // 3. Catch-up: the host is down from 12:00 to 15:30; 13:00, 14:00 and 15:00 are run on restart.
  harness.AdvanceTo(UtcMicros(2026, 11, 3, 12, 0));
  harness.Stop();
  harness.AdvanceTo(UtcMicros(2026, 11, 3, 15, 30));
  ASSERT_TRUE(harness.Start().ok());
  harness.Settle();
  EXPECT_EQ(harness.timeline().FireTimes("hourly", "catch_up"),
            (std::vector<int64_t>{UtcMicros(2026, 11, 3, 13, 0), UtcMicros(2026, 11, 3, 14, 0),
                                  UtcMicros(2026, 11, 3, 15, 0)}));
  EXPECT_TRUE(harness.RunUntilIdle());
  EXPECT_EQ(harness.timeline().RunStatuses("hourly").back(), "succeeded");

  // Three days of schedules in well under a second.
  EXPECT_LT(std::chrono::steady_clock::now() - real_start, 1s);
}

}  // namespace

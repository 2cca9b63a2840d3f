// Timeline: queries, text and JSON, and the time helpers tests write times with.
#include "petit/testing/timeline.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace petit::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TimelineEntry Entry(EntryKind kind, int64_t time_us, std::string job, std::string task = "") {
  TimelineEntry entry;
  entry.kind = kind;
  entry.time_us = time_us;
  entry.job = std::move(job);
  entry.task = std::move(task);
  return entry;
}

Timeline Sample() {
  std::vector<TimelineEntry> entries;
  TimelineEntry fired = Entry(EntryKind::kFired, 3'000'000, "a");
  fired.occurrence_us = 3'000'000;
  fired.trigger = "schedule";
  entries.push_back(fired);
  TimelineEntry late = Entry(EntryKind::kFired, 9'000'000, "a");
  late.occurrence_us = 1'000'000;  // a catch-up announced after the scheduled one
  late.trigger = "catch_up";
  entries.push_back(late);
  entries.push_back(Entry(EntryKind::kAttemptStarted, 3'000'000, "a", "t"));
  TimelineEntry ended = Entry(EntryKind::kAttemptEnded, 4'000'000, "a", "t");
  ended.status = "failed";
  ended.exit_code = 2;
  ended.error = "quote \" backslash \\ newline \n tab \t bell \x07";
  ended.started_us = 3'000'000;
  ended.ended_us = 4'000'000;
  entries.push_back(ended);
  TimelineEntry retry = Entry(EntryKind::kRetryScheduled, 4'000'000, "a", "t");
  retry.retry_at_us = 6'000'000;
  retry.delay_us = 2'000'000;
  entries.push_back(retry);
  TimelineEntry refused = Entry(EntryKind::kRefused, 5'000'000, "b");
  refused.reason = RefusalReason::kOverlap;
  refused.detail = "1 run active";
  entries.push_back(refused);
  TimelineEntry run_end = Entry(EntryKind::kRunEnded, 7'000'000, "a");
  run_end.status = "succeeded";
  entries.push_back(run_end);
  return Timeline(entries);
}

TEST(TimelineTest, Queries) {
  const Timeline timeline = Sample();
  EXPECT_EQ(timeline.size(), 7u);
  EXPECT_EQ(timeline.Count(EntryKind::kFired), 2u);
  EXPECT_EQ(timeline.Count(EntryKind::kFired, "b"), 0u);
  EXPECT_EQ(timeline.Of(EntryKind::kAttemptEnded, "a", "t").at(0).exit_code, 2);
  EXPECT_TRUE(timeline.Of(EntryKind::kAttemptEnded, "a", "other").empty());
  EXPECT_EQ(timeline.Find({.job = "b"}).size(), 1u);
  EXPECT_EQ(timeline.Find({.task = "t"}).size(), 3u);
  EXPECT_EQ(timeline.Find({.job = "a", .kind = EntryKind::kRunEnded}).size(), 1u);
  EXPECT_EQ(timeline.Find({}).size(), 7u);
  EXPECT_THAT(timeline.FireTimes("a"), ElementsAre(1'000'000, 3'000'000));  // oldest first
  EXPECT_THAT(timeline.FireTimes("a", "catch_up"), ElementsAre(1'000'000));
  EXPECT_THAT(timeline.FireTriggers("a"), ElementsAre("schedule", "catch_up"));
  EXPECT_THAT(timeline.RetryDelays("a", "t"), ElementsAre(2'000'000));
  EXPECT_THAT(timeline.RunStatuses("a"), ElementsAre("succeeded"));
}

TEST(TimelineTest, TextHasOneLinePerEntry) {
  const std::string text = Sample().ToText();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 7 + 1);  // the error holds a newline
  EXPECT_THAT(text, HasSubstr("1970-01-01T00:00:03Z  fired"));
  EXPECT_THAT(text, HasSubstr("failed exit 2 after 1000 ms"));
  EXPECT_THAT(text, HasSubstr("retry at 1970-01-01T00:00:06Z (delay 2000 ms)"));
  EXPECT_THAT(text, HasSubstr("overlap: 1 run active"));
}

TEST(TimelineTest, JsonEscapesEveryControlCharacter) {
  const std::string json = Sample().ToJson();
  EXPECT_EQ(json.rfind("{\"entries\":[{\"kind\":\"fired\"", 0), 0u) << json;
  EXPECT_THAT(json, HasSubstr(R"(quote \" backslash \\ newline \n tab \t bell \u0007)"));
  EXPECT_THAT(json, HasSubstr(R"("reason":"overlap")"));
  EXPECT_THAT(json, HasSubstr(R"("exit_code":2)"));
  EXPECT_THAT(json, HasSubstr(R"("delay_us":2000000)"));
  for (const char c : json) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
  EXPECT_EQ(Timeline().ToJson(), "{\"entries\":[]}");
}

TEST(TimelineTest, NamesOfEveryKindAndReason) {
  for (int kind = 0; kind <= static_cast<int>(EntryKind::kTaskSkipped); ++kind) {
    EXPECT_NE(EntryKindName(static_cast<EntryKind>(kind)), "unknown");
  }
  for (int reason = 0; reason <= static_cast<int>(RefusalReason::kOther); ++reason) {
    EXPECT_NE(RefusalReasonName(static_cast<RefusalReason>(reason)), "unknown");
  }
}

TEST(TimelineTest, TimesRoundTrip) {
  EXPECT_EQ(UtcMicros(1970, 1, 1), 0);
  EXPECT_EQ(UtcMicros(2026, 11, 1, 5, 30), 1793511000LL * 1'000'000);
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTime(UtcMicros(2024, 2, 29, 23, 59, 59) + 5), "2024-02-29T23:59:59.000005Z");
  EXPECT_EQ(FormatTime(-1'000'000), "1969-12-31T23:59:59Z");
  for (int64_t t : {int64_t{0}, UtcMicros(2000, 2, 29, 12), UtcMicros(2099, 12, 31, 23, 59, 59),
                    UtcMicros(2026, 3, 8, 7, 0) + 123'456}) {
    EXPECT_EQ(ParseTime(FormatTime(t)), t) << FormatTime(t);
  }
  EXPECT_EQ(ParseTime("2026-11-01 01:30:00-04:00"), UtcMicros(2026, 11, 1, 5, 30));
  EXPECT_EQ(ParseTime("2026-11-01T01:30:00+05:30"), UtcMicros(2026, 10, 31, 20, 0));
  EXPECT_EQ(ParseTime("2026-11-01T01:30:00.5Z"), UtcMicros(2026, 11, 1, 1, 30) + 500'000);
}

TEST(TimelineTest, ParseTimeRefusesWhatIsNotATime) {
  for (const char* text :
       {"", "2026", "2026-11-01", "2026-11-01T01:30", "2026-11-01T01:30:00", "2026-13-01T00:00:00Z",
        "2026-11-32T00:00:00Z", "2026-11-01T24:00:00Z", "2026-11-01T01:60:00Z",
        "2026-11-01T01:30:00.Z", "2026-11-01T01:30:00Zjunk", "2026-11-01T01:30:00+5",
        "x026-11-01T00:00:00Z", "2026/11/01T00:00:00Z"}) {
    EXPECT_FALSE(ParseTime(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace petit::testing

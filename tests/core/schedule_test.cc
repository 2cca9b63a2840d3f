// Conformance suite for Schedule (DESIGN §5): pure functions of time values, no clock, no sleeps.
// Expected local times are written with their offset, so each one names exactly one instant; the
// DST transitions they rely on were read from the system tzdata with the date library:
//   America/New_York     2026-03-08 02:00 EST -> 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT -> 01:00
//   EST (06:00Z) Europe/London        2026-03-29 01:00 GMT -> 02:00 BST (01:00Z); 2026-10-25 02:00
//   BST -> 01:00 GMT (01:00Z) Australia/Lord_Howe  2026-04-05 02:00 +11 -> 01:30 +10:30 (2026-04-04
//   15:00Z);
//                        2026-10-04 02:00 +10:30 -> 02:30 +11 (2026-10-03 15:30Z)
#include "petit/core/schedule.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace petit {
namespace {

using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int64_t kMicros = 1'000'000;

// "2026-03-08T07:00:00Z" or "2026-03-08T02:00:00-05:00" as microseconds since the epoch.
int64_t At(std::string_view iso) {
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  char zone[8] = {};
  const std::string text(iso);
  if (std::sscanf(text.c_str(), "%d-%u-%uT%d:%d:%d%7s", &year, &month, &day, &hour, &minute,
                  &second, zone) != 7) {
    throw std::invalid_argument("bad test time " + text);
  }
  int64_t offset = 0;
  const std::string_view z(zone);
  if (z != "Z") {
    int offset_hours = 0;
    int offset_minutes = 0;
    if (std::sscanf(zone + 1, "%d:%d", &offset_hours, &offset_minutes) != 2) {
      throw std::invalid_argument("bad test offset " + text);
    }
    offset = (offset_hours * 3600 + offset_minutes * 60) * (z.front() == '-' ? -1 : 1);
  }
  const std::chrono::sys_days date{std::chrono::year{year} / std::chrono::month{month} /
                                   std::chrono::day{day}};
  const int64_t seconds =
      date.time_since_epoch().count() * 86400 + hour * 3600 + minute * 60 + second - offset;
  return seconds * kMicros;
}

Schedule Make(std::string_view expression, std::string_view zone = "UTC") {
  Result<Schedule> schedule = Schedule::Parse(expression, zone);
  if (!schedule.ok()) throw std::invalid_argument(schedule.status().ToString());
  return *schedule;
}

// The next fire after `after` as local time with offset, or "none".
std::string Next(const Schedule& schedule, std::string_view after) {
  const std::optional<int64_t> next = schedule.NextAfter(At(after));
  return next ? schedule.FormatLocal(*next) : "none";
}

std::vector<std::string> NextLocal(const Schedule& schedule, std::string_view after, size_t n) {
  std::vector<std::string> out;
  for (const int64_t t : schedule.NextN(At(after), n)) out.push_back(schedule.FormatLocal(t));
  return out;
}

// The error message of an expression Parse() must reject.
std::string Rejection(std::string_view expression, std::string_view zone = "UTC") {
  Result<Schedule> schedule = Schedule::Parse(expression, zone);
  if (schedule.ok()) return "accepted";
  EXPECT_EQ(schedule.status().code(), StatusCode::kInvalidArgument) << expression;
  return schedule.status().message();
}

// ---------------------------------------------------------------------------------------------
// Fields

TEST(ScheduleTest, FiveFieldStepFiresOnEveryFifthMinute) {
  const Schedule s = Make("*/5 * * * *");
  EXPECT_THAT(NextLocal(s, "2026-05-10T10:02:30Z", 3),
              ElementsAre("2026-05-10T10:05:00+00:00", "2026-05-10T10:10:00+00:00",
                          "2026-05-10T10:15:00+00:00"));
}

TEST(ScheduleTest, SixFieldsPutSecondsFirst) {
  EXPECT_THAT(NextLocal(Make("*/20 * * * * *"), "2026-05-10T10:00:05Z", 3),
              ElementsAre("2026-05-10T10:00:20+00:00", "2026-05-10T10:00:40+00:00",
                          "2026-05-10T10:01:00+00:00"));
  EXPECT_EQ(Next(Make("30 15 8 * * *"), "2026-05-10T10:00:00Z"), "2026-05-11T08:15:30+00:00");
}

TEST(ScheduleTest, FiveFieldsFireOnTheMinute) {
  EXPECT_EQ(Next(Make("* * * * *"), "2026-05-10T10:00:00Z"), "2026-05-10T10:01:00+00:00");
}

TEST(ScheduleTest, ListsRangesAndStepsCombine) {
  EXPECT_THAT(NextLocal(Make("0 8-18/4,23 * * *"), "2026-05-10T00:00:00Z", 5),
              ElementsAre("2026-05-10T08:00:00+00:00", "2026-05-10T12:00:00+00:00",
                          "2026-05-10T16:00:00+00:00", "2026-05-10T23:00:00+00:00",
                          "2026-05-11T08:00:00+00:00"));
  EXPECT_THAT(NextLocal(Make("5,10-12 * * * *"), "2026-05-10T00:00:00Z", 5),
              ElementsAre("2026-05-10T00:05:00+00:00", "2026-05-10T00:10:00+00:00",
                          "2026-05-10T00:11:00+00:00", "2026-05-10T00:12:00+00:00",
                          "2026-05-10T01:05:00+00:00"));
}

TEST(ScheduleTest, SingleValueWithStepRunsToTheEndOfTheField) {
  EXPECT_THAT(NextLocal(Make("10/20 * * * *"), "2026-05-10T00:00:00Z", 4),
              ElementsAre("2026-05-10T00:10:00+00:00", "2026-05-10T00:30:00+00:00",
                          "2026-05-10T00:50:00+00:00", "2026-05-10T01:10:00+00:00"));
}

TEST(ScheduleTest, MonthNamesAreCaseInsensitive) {
  EXPECT_THAT(NextLocal(Make("0 0 1 jan,JUL *"), "2026-02-01T00:00:00Z", 2),
              ElementsAre("2026-07-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"));
  EXPECT_THAT(NextLocal(Make("0 0 1 Mar-MAY *"), "2026-01-01T00:00:00Z", 4),
              ElementsAre("2026-03-01T00:00:00+00:00", "2026-04-01T00:00:00+00:00",
                          "2026-05-01T00:00:00+00:00", "2027-03-01T00:00:00+00:00"));
}

TEST(ScheduleTest, DayNameRangeSkipsTheWeekend) {
  // 2026-05-09 is a Saturday.
  EXPECT_THAT(NextLocal(Make("0 9 * * mon-Fri"), "2026-05-09T12:00:00Z", 6),
              ElementsAre("2026-05-11T09:00:00+00:00", "2026-05-12T09:00:00+00:00",
                          "2026-05-13T09:00:00+00:00", "2026-05-14T09:00:00+00:00",
                          "2026-05-15T09:00:00+00:00", "2026-05-18T09:00:00+00:00"));
}

TEST(ScheduleTest, ZeroAndSevenAreBothSunday) {
  const std::vector<std::string> sundays = {"2026-05-10T00:00:00+00:00",
                                            "2026-05-17T00:00:00+00:00"};
  EXPECT_EQ(NextLocal(Make("0 0 * * 0"), "2026-05-09T00:00:00Z", 2), sundays);
  EXPECT_EQ(NextLocal(Make("0 0 * * 7"), "2026-05-09T00:00:00Z", 2), sundays);
  EXPECT_EQ(NextLocal(Make("0 0 * * sun"), "2026-05-09T00:00:00Z", 2), sundays);
}

TEST(ScheduleTest, RangeEndingOnSundayIncludesIt) {
  // 2026-05-07 is a Thursday.
  const std::vector<std::string> friday_to_sunday = {
      "2026-05-08T00:00:00+00:00", "2026-05-09T00:00:00+00:00", "2026-05-10T00:00:00+00:00",
      "2026-05-15T00:00:00+00:00"};
  EXPECT_EQ(NextLocal(Make("0 0 * * FRI-SUN"), "2026-05-07T00:00:00Z", 4), friday_to_sunday);
  EXPECT_EQ(NextLocal(Make("0 0 * * 5-7"), "2026-05-07T00:00:00Z", 4), friday_to_sunday);
}

TEST(ScheduleTest, DayOfMonthAndDayOfWeekAreOredWhenBothRestricted) {
  // April 2026: Mondays are the 6th, 13th, 20th and 27th; the 15th is a Wednesday.
  EXPECT_THAT(NextLocal(Make("0 0 15 * MON"), "2026-04-01T00:00:00Z", 5),
              ElementsAre("2026-04-06T00:00:00+00:00", "2026-04-13T00:00:00+00:00",
                          "2026-04-15T00:00:00+00:00", "2026-04-20T00:00:00+00:00",
                          "2026-04-27T00:00:00+00:00"));
}

TEST(ScheduleTest, DayFieldStartingWithStarKeepsVixieAndSemantics) {
  // `*/2` starts with `*`, so the day of month is "unrestricted" and both fields must match:
  // odd-numbered Mondays only (April 2026: the 13th and the 27th).
  EXPECT_THAT(NextLocal(Make("0 0 */2 * MON"), "2026-04-01T00:00:00Z", 2),
              ElementsAre("2026-04-13T00:00:00+00:00", "2026-04-27T00:00:00+00:00"));
  // The same days written without `*` are restricted: odd days or Mondays.
  EXPECT_THAT(NextLocal(Make("0 0 1-31/2 * MON"), "2026-04-04T00:00:00Z", 3),
              ElementsAre("2026-04-05T00:00:00+00:00", "2026-04-06T00:00:00+00:00",
                          "2026-04-07T00:00:00+00:00"));
}

TEST(ScheduleTest, StarDayOfWeekLeavesDayOfMonthAlone) {
  EXPECT_THAT(NextLocal(Make("0 0 1,15 * *"), "2026-04-01T00:00:00Z", 3),
              ElementsAre("2026-04-15T00:00:00+00:00", "2026-05-01T00:00:00+00:00",
                          "2026-05-15T00:00:00+00:00"));
}

TEST(ScheduleTest, LastDayOfMonthFollowsMonthLengthsAndLeapYears) {
  EXPECT_THAT(NextLocal(Make("0 0 L * *"), "2026-01-15T00:00:00Z", 4),
              ElementsAre("2026-01-31T00:00:00+00:00", "2026-02-28T00:00:00+00:00",
                          "2026-03-31T00:00:00+00:00", "2026-04-30T00:00:00+00:00"));
  EXPECT_EQ(Next(Make("0 0 L 2 *"), "2027-03-01T00:00:00Z"), "2028-02-29T00:00:00+00:00");
}

TEST(ScheduleTest, LastDayOfMonthCombinesWithOtherDays) {
  EXPECT_THAT(NextLocal(Make("0 12 15,l * *"), "2026-02-01T00:00:00Z", 3),
              ElementsAre("2026-02-15T12:00:00+00:00", "2026-02-28T12:00:00+00:00",
                          "2026-03-15T12:00:00+00:00"));
}

TEST(ScheduleTest, HashPicksTheNthWeekdayOfTheMonth) {
  // 2026-01-01 is a Thursday: Fridays fall on the 2nd, 9th, 16th, ...
  EXPECT_THAT(NextLocal(Make("0 0 * * FRI#2"), "2026-01-01T00:00:00Z", 3),
              ElementsAre("2026-01-09T00:00:00+00:00", "2026-02-13T00:00:00+00:00",
                          "2026-03-13T00:00:00+00:00"));
  EXPECT_EQ(Next(Make("0 0 * * 5#3"), "2026-01-01T00:00:00Z"), "2026-01-16T00:00:00+00:00");
}

TEST(ScheduleTest, FifthWeekdaySkipsMonthsWithoutOne) {
  // 2026 months with five Mondays: March, June, August, November.
  EXPECT_THAT(NextLocal(Make("0 0 * * MON#5"), "2026-01-01T00:00:00Z", 4),
              ElementsAre("2026-03-30T00:00:00+00:00", "2026-06-29T00:00:00+00:00",
                          "2026-08-31T00:00:00+00:00", "2026-11-30T00:00:00+00:00"));
}

TEST(ScheduleTest, HashItemsMixWithPlainDaysInAList) {
  // First Sunday (Jan 4) and every Saturday.
  EXPECT_THAT(NextLocal(Make("0 0 * * 7#1,SAT"), "2026-01-01T00:00:00Z", 3),
              ElementsAre("2026-01-03T00:00:00+00:00", "2026-01-04T00:00:00+00:00",
                          "2026-01-10T00:00:00+00:00"));
}

TEST(ScheduleTest, MacrosExpandToTheirCronEquivalents) {
  const std::vector<std::pair<std::string_view, std::string_view>> macros = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}};
  const int64_t start = At("2026-05-10T10:20:00Z");
  for (const auto& [macro, fields] : macros) {
    const Schedule schedule = Make(macro, "Europe/London");
    EXPECT_FALSE(schedule.is_interval());
    EXPECT_EQ(schedule.NextN(start, 5), Make(fields, "Europe/London").NextN(start, 5)) << macro;
  }
  EXPECT_EQ(Next(Make("@weekly"), "2026-05-10T10:20:00Z"), "2026-05-17T00:00:00+00:00");
}

TEST(ScheduleTest, MacrosAreCaseInsensitive) {
  EXPECT_EQ(Next(Make("@DAILY"), "2026-05-10T10:20:00Z"), "2026-05-11T00:00:00+00:00");
  EXPECT_EQ(Next(Make("@Hourly"), "2026-05-10T10:20:00Z"), "2026-05-10T11:00:00+00:00");
}

// ---------------------------------------------------------------------------------------------
// @every

TEST(ScheduleTest, EveryIsAnchoredAtTheUnixEpoch) {
  const Schedule s = Make("@every 90s");
  EXPECT_TRUE(s.is_interval());
  EXPECT_EQ(s.NextAfter(0), 90 * kMicros);
  EXPECT_EQ(s.NextAfter(-1), 0);
  // 2026-05-10T10:00:00Z is 1778407200 s, 10 s past a multiple of 90.
  EXPECT_EQ(Next(s, "2026-05-10T10:00:00Z"), "2026-05-10T10:01:30+00:00");
  EXPECT_EQ(s.NextN(At("2026-05-10T10:01:30Z"), 2),
            (std::vector<int64_t>{At("2026-05-10T10:03:00Z"), At("2026-05-10T10:04:30Z")}));
}

TEST(ScheduleTest, EveryAcceptsCompoundDurations) {
  EXPECT_EQ(Next(Make("@every 1h30m"), "2026-05-10T10:00:00Z"), "2026-05-10T10:30:00+00:00");
  EXPECT_EQ(Make("@every 1h30m").NextAfter(0), 5400 * kMicros);
  EXPECT_EQ(Next(Make("@every 2d"), "2026-05-10T10:00:00Z"), "2026-05-11T00:00:00+00:00");
  EXPECT_EQ(Make("@EVERY 1D2H3M4S").NextAfter(0), (86400 + 7200 + 180 + 4) * kMicros);
}

TEST(ScheduleTest, EveryIgnoresTheZoneAndItsDaylightSaving) {
  // Across New York's fall-back fold, an hourly interval stays exactly 3600 s apart.
  const Schedule s = Make("@every 1h", "America/New_York");
  const std::vector<int64_t> fires = s.NextN(At("2026-11-01T04:30:00Z"), 4);
  ASSERT_EQ(fires.size(), 4u);
  EXPECT_EQ(fires[0], At("2026-11-01T05:00:00Z"));
  for (size_t i = 1; i < fires.size(); ++i) EXPECT_EQ(fires[i] - fires[i - 1], 3600 * kMicros);
  EXPECT_EQ(s.FormatLocal(fires[1]), "2026-11-01T01:00:00-05:00");
}

// ---------------------------------------------------------------------------------------------
// NextAfter, NextN, ranges of time

TEST(ScheduleTest, NextAfterIsStrictlyAfter) {
  const Schedule s = Make("0 * * * *");
  const int64_t fire = At("2026-05-10T10:00:00Z");
  EXPECT_EQ(s.NextAfter(fire - 1), fire);
  EXPECT_EQ(s.NextAfter(fire), At("2026-05-10T11:00:00Z"));
  EXPECT_EQ(s.NextAfter(fire + 1), At("2026-05-10T11:00:00Z"));
}

TEST(ScheduleTest, NextNReturnsAscendingFireTimes) {
  const Schedule s = Make("*/10 * * * * *");
  const std::vector<int64_t> fires = s.NextN(At("2026-05-10T10:00:00Z"), 100);
  ASSERT_EQ(fires.size(), 100u);
  for (size_t i = 1; i < fires.size(); ++i) EXPECT_EQ(fires[i] - fires[i - 1], 10 * kMicros);
  EXPECT_TRUE(s.NextN(0, 0).empty());
}

TEST(ScheduleTest, FebruaryTwentyNinthWaitsForTheNextLeapYear) {
  EXPECT_THAT(NextLocal(Make("0 0 29 2 *"), "2026-01-01T00:00:00Z", 2),
              ElementsAre("2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"));
  // 2100 is not a leap year; 2400 is.
  EXPECT_EQ(Next(Make("0 0 29 2 *"), "2096-03-01T00:00:00Z"), "2104-02-29T00:00:00+00:00");
}

TEST(ScheduleTest, YearRollsOver) {
  EXPECT_EQ(Next(Make("0 0 1 1 *"), "2026-12-31T23:59:59Z"), "2027-01-01T00:00:00+00:00");
  EXPECT_EQ(Next(Make("59 23 31 12 *"), "2026-12-31T23:59:00Z"), "2027-12-31T23:59:00+00:00");
  EXPECT_EQ(Next(Make("*/15 * * * *"), "2026-12-31T23:50:00Z"), "2027-01-01T00:00:00+00:00");
  EXPECT_EQ(Next(Make("0 0 1 1 *", "Australia/Lord_Howe"), "2026-12-31T12:00:00Z"),
            "2027-01-01T00:00:00+11:00");
}

TEST(ScheduleTest, ThirtyFirstSkipsShortMonths) {
  EXPECT_THAT(NextLocal(Make("0 0 31 * *"), "2026-04-01T00:00:00Z", 3),
              ElementsAre("2026-05-31T00:00:00+00:00", "2026-07-31T00:00:00+00:00",
                          "2026-08-31T00:00:00+00:00"));
  EXPECT_EQ(Next(Make("0 0 30 * *"), "2026-02-01T00:00:00Z"), "2026-03-30T00:00:00+00:00");
}

TEST(ScheduleTest, WorksBeforeTheEpoch) {
  EXPECT_EQ(Next(Make("0 0 * * *"), "1969-12-31T12:00:00Z"), "1970-01-01T00:00:00+00:00");
  EXPECT_EQ(Next(Make("0 0 1 1 *"), "1900-06-01T00:00:00Z"), "1901-01-01T00:00:00+00:00");
}

TEST(ScheduleTest, FireTimesEndWithYear9999) {
  EXPECT_EQ(Next(Make("0 0 1 1 *"), "9998-06-01T00:00:00Z"), "9999-01-01T00:00:00+00:00");
  EXPECT_EQ(Make("0 0 1 1 *").NextAfter(At("9999-06-01T00:00:00Z")), std::nullopt);
  EXPECT_EQ(Make("@every 1d").NextAfter(At("9999-12-31T00:00:00Z")), std::nullopt);
}

TEST(ScheduleTest, CopiesShareOneDefinition) {
  const Schedule original = Make("0 9 * * MON-FRI", "Europe/London");
  const Schedule copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(copy.expression(), "0 9 * * MON-FRI");
  EXPECT_EQ(copy.time_zone(), "Europe/London");
  EXPECT_EQ(copy.NextN(0, 3), original.NextN(0, 3));
}

TEST(ScheduleTest, KeepsTheExpressionAsWrittenAndToleratesSpacing) {
  const Schedule s = Make("  */5\t*  * * *  ");
  EXPECT_EQ(s.expression(), "  */5\t*  * * *  ");
  EXPECT_FALSE(s.is_interval());
  EXPECT_EQ(Next(s, "2026-05-10T10:02:00Z"), "2026-05-10T10:05:00+00:00");
}

// ---------------------------------------------------------------------------------------------
// Time zones and daylight saving

TEST(ScheduleTest, ZoneDefaultsToUtc) {
  EXPECT_EQ(Make("0 0 * * *").time_zone(), "UTC");
  EXPECT_EQ(Make("0 0 * * *", "").time_zone(), "UTC");
  EXPECT_EQ(Next(Make("0 0 * * *", ""), "2026-05-10T10:00:00Z"), "2026-05-11T00:00:00+00:00");
}

TEST(ScheduleTest, UnknownTimeZoneIsRejectedByName) {
  Result<Schedule> mars = Schedule::Parse("0 0 * * *", "Mars/Olympus_Mons");
  ASSERT_FALSE(mars.ok());
  EXPECT_EQ(mars.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(mars.status().message(), HasSubstr("unknown time zone 'Mars/Olympus_Mons'"));
  EXPECT_THAT(Rejection("0 0 * * *", "Europe/Londn"),
              HasSubstr("unknown time zone 'Europe/Londn' (did you mean 'Europe/London'?)"));
  EXPECT_THAT(Rejection("@every 1h", "Nowhere"), HasSubstr("unknown time zone 'Nowhere'"));
  // Another case or separators: too many edits for a typo, but the same name (issue 13).
  EXPECT_THAT(Rejection("@daily", "america/new york"),
              HasSubstr("unknown time zone 'america/new york' (did you mean 'America/New_York'?)"));
  EXPECT_THAT(Rejection("@daily", "EUROPE/LONDON"), HasSubstr("(did you mean 'Europe/London'?)"));
}

TEST(ScheduleTest, WallTimeFollowsTheZoneOffsetThroughTheYear) {
  const Schedule s = Make("0 30 9 * * MON-FRI", "Europe/London");
  EXPECT_EQ(s.time_zone(), "Europe/London");
  EXPECT_EQ(s.NextAfter(At("2026-01-05T00:00:00Z")), At("2026-01-05T09:30:00Z"));
  EXPECT_EQ(s.NextAfter(At("2026-07-06T00:00:00Z")), At("2026-07-06T08:30:00Z"));
  EXPECT_EQ(Next(s, "2026-07-06T00:00:00Z"), "2026-07-06T09:30:00+01:00");
}

TEST(ScheduleTest, NewYorkSpringGapFiresOnceAtTheEndOfTheGap) {
  const Schedule s = Make("30 2 * * *", "America/New_York");
  EXPECT_EQ(s.NextAfter(At("2026-03-07T12:00:00Z")), At("2026-03-08T07:00:00Z"));
  EXPECT_THAT(NextLocal(s, "2026-03-07T12:00:00Z", 2),
              ElementsAre("2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"));
}

TEST(ScheduleTest, NewYorkSpringGapCollapsesWallTimesInsideItIntoOneFire) {
  // 02:00, 02:15, 02:30, 02:45 and 03:00 all name the gap's end: one fire at 03:00 EDT.
  EXPECT_THAT(NextLocal(Make("*/15 * * * *", "America/New_York"), "2026-03-08T01:40:00-05:00", 4),
              ElementsAre("2026-03-08T01:45:00-05:00", "2026-03-08T03:00:00-04:00",
                          "2026-03-08T03:15:00-04:00", "2026-03-08T03:30:00-04:00"));
  EXPECT_THAT(NextLocal(Make("0 * * * *", "America/New_York"), "2026-03-08T00:30:00-05:00", 3),
              ElementsAre("2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00",
                          "2026-03-08T04:00:00-04:00"));
}

TEST(ScheduleTest, NewYorkFallFoldFiresOnceAtTheFirstOccurrence) {
  const Schedule s = Make("30 1 * * *", "America/New_York");
  EXPECT_EQ(s.NextAfter(At("2026-10-31T12:00:00Z")), At("2026-11-01T05:30:00Z"));
  EXPECT_THAT(NextLocal(s, "2026-10-31T12:00:00Z", 2),
              ElementsAre("2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"));
}

TEST(ScheduleTest, NewYorkFallFoldDoesNotRepeatTheHour) {
  EXPECT_THAT(NextLocal(Make("0 * * * *", "America/New_York"), "2026-11-01T00:30:00-04:00", 3),
              ElementsAre("2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00",
                          "2026-11-01T03:00:00-05:00"));
  EXPECT_THAT(NextLocal(Make("*/15 * * * *", "America/New_York"), "2026-11-01T01:40:00-04:00", 3),
              ElementsAre("2026-11-01T01:45:00-04:00", "2026-11-01T02:00:00-05:00",
                          "2026-11-01T02:15:00-05:00"));
}

TEST(ScheduleTest, SearchStartingInsideTheRepeatedHourSkipsToItsEnd) {
  // 01:10 EST is the second pass through 01:10: 01:15 and 01:30 already fired an hour ago.
  EXPECT_EQ(Next(Make("*/15 * * * *", "America/New_York"), "2026-11-01T01:10:00-05:00"),
            "2026-11-01T02:00:00-05:00");
  EXPECT_EQ(Next(Make("30 1 * * *", "America/New_York"), "2026-11-01T01:10:00-05:00"),
            "2026-11-02T01:30:00-05:00");
  // The same wall clock on its first pass still has the fold ahead of it.
  EXPECT_EQ(Next(Make("*/15 * * * *", "America/New_York"), "2026-11-01T01:10:00-04:00"),
            "2026-11-01T01:15:00-04:00");
}

TEST(ScheduleTest, LondonGapAndFold) {
  const Schedule s = Make("30 1 * * *", "Europe/London");
  // 2026-03-29: 01:00 GMT jumps to 02:00 BST, so 01:30 fires at 02:00 BST.
  EXPECT_EQ(s.NextAfter(At("2026-03-28T12:00:00Z")), At("2026-03-29T01:00:00Z"));
  EXPECT_EQ(Next(s, "2026-03-28T12:00:00Z"), "2026-03-29T02:00:00+01:00");
  // 2026-10-25: 02:00 BST falls back to 01:00 GMT; 01:30 fires at 01:30 BST only.
  EXPECT_THAT(NextLocal(s, "2026-10-24T12:00:00Z", 2),
              ElementsAre("2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00+00:00"));
}

TEST(ScheduleTest, LordHoweHalfHourFoldFiresOnce) {
  // 2026-04-05 02:00 +11:00 falls back to 01:30 +10:30: 01:30-01:59 happen twice.
  const Schedule s = Make("45 1 * * *", "Australia/Lord_Howe");
  EXPECT_EQ(s.NextAfter(At("2026-04-04T00:00:00Z")), At("2026-04-04T14:45:00Z"));
  EXPECT_THAT(NextLocal(s, "2026-04-04T00:00:00Z", 2),
              ElementsAre("2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"));
  EXPECT_THAT(
      NextLocal(Make("*/15 * * * *", "Australia/Lord_Howe"), "2026-04-05T01:20:00+11:00", 4),
      ElementsAre("2026-04-05T01:30:00+11:00", "2026-04-05T01:45:00+11:00",
                  "2026-04-05T02:00:00+10:30", "2026-04-05T02:15:00+10:30"));
}

TEST(ScheduleTest, LordHoweHalfHourGapFiresAtItsEnd) {
  // 2026-10-04 02:00 +10:30 jumps to 02:30 +11:00: 02:15 fires at 02:30.
  const Schedule s = Make("15 2 * * *", "Australia/Lord_Howe");
  EXPECT_EQ(s.NextAfter(At("2026-10-03T00:00:00Z")), At("2026-10-03T15:30:00Z"));
  EXPECT_EQ(Next(s, "2026-10-03T00:00:00Z"), "2026-10-04T02:30:00+11:00");
  EXPECT_THAT(
      NextLocal(Make("*/15 * * * *", "Australia/Lord_Howe"), "2026-10-04T01:50:00+10:30", 3),
      ElementsAre("2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00",
                  "2026-10-04T03:00:00+11:00"));
}

TEST(ScheduleTest, FormatLocalWritesIso8601WithOffset) {
  EXPECT_EQ(Make("@daily", "America/New_York").FormatLocal(At("2026-03-08T07:00:00Z")),
            "2026-03-08T03:00:00-04:00");
  EXPECT_EQ(Make("@daily", "America/New_York").FormatLocal(At("2026-01-08T07:00:00Z")),
            "2026-01-08T02:00:00-05:00");
  EXPECT_EQ(Make("@daily", "Australia/Lord_Howe").FormatLocal(At("2026-06-01T00:00:00Z")),
            "2026-06-01T10:30:00+10:30");
  EXPECT_EQ(Make("@daily").FormatLocal(At("2026-06-01T00:00:00Z") + 250'000),
            "2026-06-01T00:00:00.250000+00:00");
  EXPECT_EQ(Make("@daily").FormatLocal(-kMicros / 2), "1969-12-31T23:59:59.500000+00:00");
}

// ---------------------------------------------------------------------------------------------
// Rejected expressions: each message names the field and the bad value.

TEST(ScheduleTest, RejectsDatesThatNeverOccur) {
  EXPECT_THAT(Rejection("0 0 31 2 *"), HasSubstr("can never fire"));
  EXPECT_THAT(Rejection("0 0 31 2 *"), HasSubstr("day-of-month field '31'"));
  EXPECT_THAT(Rejection("0 0 30 2 *"), HasSubstr("month field '2'"));
  EXPECT_THAT(Rejection("0 0 31 APR,JUN,SEP,NOV *"), HasSubstr("can never fire"));
  EXPECT_THAT(Rejection("0 0 0 30,31 FEB *"), HasSubstr("can never fire"));
}

TEST(ScheduleTest, RejectsWrongFieldCount) {
  EXPECT_THAT(Rejection("0 0 * *"), StartsWith("expected 5 or 6 fields, got 4"));
  EXPECT_THAT(Rejection("0 0 0 * * * *"), StartsWith("expected 5 or 6 fields, got 7"));
  EXPECT_EQ(Rejection(""), "empty schedule expression");
  EXPECT_EQ(Rejection(" \t "), "empty schedule expression");
}

TEST(ScheduleTest, RejectsValuesOutOfRangeNamingTheField) {
  EXPECT_EQ(Rejection("0 25 * * *"), "hour field '25': value out of range 0-23");
  EXPECT_EQ(Rejection("60 * * * *"), "minute field '60': value out of range 0-59");
  EXPECT_EQ(Rejection("60 0 0 * * *"), "second field '60': value out of range 0-59");
  EXPECT_EQ(Rejection("0 0 0 * *"), "day-of-month field '0': value out of range 1-31");
  EXPECT_EQ(Rejection("0 0 32 * *"), "day-of-month field '32': value out of range 1-31");
  EXPECT_EQ(Rejection("0 0 * 13 *"), "month field '13': value out of range 1-12");
  EXPECT_EQ(Rejection("0 0 * * 8"), "day-of-week field '8': value out of range 0-7");
  EXPECT_EQ(Rejection("0 0 * * 99999999999"),
            "day-of-week field '99999999999': value out of range 0-7");
}

TEST(ScheduleTest, RejectsTheBadPartOfAListByName) {
  EXPECT_EQ(Rejection("0 1,25 * * *"), "hour field '1,25': value '25' out of range 0-23");
  EXPECT_EQ(Rejection("0 1-30 * * *"), "hour field '1-30': value '30' out of range 0-23");
}

TEST(ScheduleTest, RejectsUnknownNames) {
  EXPECT_EQ(Rejection("0 0 * * FRX"),
            "day-of-week field 'FRX': unknown name (did you mean 'FRI'?)");
  EXPECT_THAT(Rejection("0 0 1 FOO *"), StartsWith("month field 'FOO': unknown name"));
  EXPECT_THAT(Rejection("0 0 * * MON-FRIDAY"),
              StartsWith("day-of-week field 'MON-FRIDAY': unknown name 'FRIDAY'"));
  EXPECT_THAT(Rejection("0 0 * * MONDAY"), HasSubstr("(expected 0-7 or SUN..SAT)"));
  // A whole name for its abbreviation gets the abbreviation too (issue 13).
  EXPECT_THAT(Rejection("0 0 * * MONDAY"), HasSubstr("; did you mean 'MON'?"));
  EXPECT_THAT(Rejection("0 0 1 January *"), HasSubstr("; did you mean 'JAN'?"));
  EXPECT_THAT(Rejection("0 0 * * Thursday"), HasSubstr("; did you mean 'THU'?"));
  EXPECT_THAT(Rejection("every 5 minutes"), HasSubstr("an interval is written '@every 5m'"));
  EXPECT_THAT(Rejection("Every hour"), HasSubstr("an interval is written '@every 5m'"));
}

TEST(ScheduleTest, RejectsNamesAndJunkInNumericFields) {
  EXPECT_EQ(Rejection("MON * * * *"), "minute field 'MON': value is not a number");
  EXPECT_EQ(Rejection("1x * * * *"), "minute field '1x': value is not a number");
  EXPECT_THAT(Rejection("0 0 1 * -1"), Eq("day-of-week field '-1': item is missing a value"));
}

TEST(ScheduleTest, RejectsBadSteps) {
  EXPECT_EQ(Rejection("*/0 * * * *"), "minute field '*/0': step must be at least 1");
  EXPECT_EQ(Rejection("*/ * * * *"), "minute field '*/': step needs a number after '/'");
  EXPECT_THAT(Rejection("*/90 * * * *"),
              StartsWith("minute field '*/90': step is larger than the field's range 0-59"));
  EXPECT_THAT(Rejection("*/90 * * * *"), HasSubstr("@every"));
}

TEST(ScheduleTest, RejectsBackwardRangesAndEmptyItems) {
  EXPECT_THAT(Rejection("0 5-1 * * *"), StartsWith("hour field '5-1': range goes backwards"));
  EXPECT_EQ(Rejection("1,,2 * * * *"), "minute field '1,,2': empty list item");
  EXPECT_EQ(Rejection("0 0 1 *, *"), "month field '*,': empty list item");
}

TEST(ScheduleTest, RejectsLastDayOutsideDayOfMonth) {
  EXPECT_THAT(Rejection("0 0 * * L"),
              StartsWith("day-of-week field 'L': 'L' (last day of the month) is only allowed"));
  EXPECT_THAT(Rejection("0 0 L-5 * *"), StartsWith("day-of-month field 'L-5'"));
}

TEST(ScheduleTest, RejectsBadNthWeekday) {
  EXPECT_THAT(Rejection("0 0 1#2 * *"),
              StartsWith("day-of-month field '1#2': '#' (n-th weekday of the month) is only"));
  EXPECT_EQ(Rejection("0 0 * * FRI#6"),
            "day-of-week field 'FRI#6': occurrence '6' after '#' must be 1-5");
  EXPECT_EQ(Rejection("0 0 * * FRI#0"),
            "day-of-week field 'FRI#0': occurrence '0' after '#' must be 1-5");
  EXPECT_THAT(Rejection("0 0 * * MON-FRI#2"), HasSubstr("'#' takes a single day"));
}

TEST(ScheduleTest, RejectsQuestionMarkWithAHint) {
  EXPECT_EQ(Rejection("0 0 ? * MON"), "day-of-month field '?': '?' is not supported; write '*'");
}

TEST(ScheduleTest, RejectsUnknownMacros) {
  EXPECT_THAT(Rejection("@fortnightly"), StartsWith("unknown macro '@fortnightly'"));
  EXPECT_THAT(Rejection("@reboot"), StartsWith("unknown macro '@reboot'"));
  EXPECT_THAT(Rejection("@dayly"), HasSubstr("(did you mean '@daily'?)"));
  EXPECT_EQ(Rejection("@daily 5"), "macro '@daily' takes no arguments");
}

TEST(ScheduleTest, RejectsBadEveryDurations) {
  EXPECT_EQ(Rejection("@every 0s"), "@every: duration '0s' must be at least 1s");
  EXPECT_EQ(Rejection("@every 0h0m"), "@every: duration '0h0m' must be at least 1s");
  EXPECT_THAT(Rejection("@every"), StartsWith("@every: missing duration"));
  EXPECT_EQ(Rejection("@every 5x"), "@every: duration '5x' has an unknown unit 'x' (use d h m s)");
  EXPECT_EQ(Rejection("@every 90"),
            "@every: duration '90' ends with a number without a unit (d h m s)");
  EXPECT_THAT(Rejection("@every 1.5h"), StartsWith("@every: duration '1.5h' is not whole"));
  EXPECT_THAT(Rejection("@every 30m1h"), StartsWith("@every: duration '30m1h' must give each"));
  EXPECT_THAT(Rejection("@every 1h1h"), StartsWith("@every: duration '1h1h' must give each"));
  EXPECT_THAT(Rejection("@every 1h 30m"), StartsWith("@every: expected one duration"));
  EXPECT_EQ(Rejection("@every 146098d"), "@every: duration '146098d' is longer than 400 years");
  EXPECT_EQ(Rejection("@every 9999999999999s"),
            "@every: duration '9999999999999s' is longer than 400 years");
}

TEST(ScheduleTest, ControlCharactersInErrorsAreEscaped) {
  EXPECT_EQ(Rejection("0 \x1b[2J * * *"), "hour field '\\x1b[2J': value is not a number");
}

// ---------------------------------------------------------------------------------------------
// ExplainFire and LocalTimeToMicros: what the DST rule did, for `petit simulate`

// Local wall seconds of "2026-11-01T01:30:00" (read as if it were UTC).
int64_t Wall(std::string_view iso) { return At(std::string(iso) + "Z") / kMicros; }

TEST(ScheduleDstNoteTest, FoldFireIsTheFirstOfTwoOffsets) {
  const Schedule s = Make("30 1 * * *", "America/New_York");
  const DstNote note = s.ExplainFire(At("2026-11-01T01:30:00-04:00"));
  EXPECT_EQ(note.kind, DstNote::Kind::kFold);
  EXPECT_EQ(note.wall_seconds, Wall("2026-11-01T01:30:00"));
  EXPECT_EQ(note.offset_before_seconds, -4 * 3600);
  EXPECT_EQ(note.offset_after_seconds, -5 * 3600);
}

TEST(ScheduleDstNoteTest, GapFireNamesTheMatchedWallTimesItStandsFor) {
  const Schedule once = Make("30 2 * * *", "America/New_York");
  const DstNote note = once.ExplainFire(*once.NextAfter(At("2026-03-08T00:00:00-05:00")));
  EXPECT_EQ(note.kind, DstNote::Kind::kGap);
  EXPECT_EQ(note.wall_seconds, Wall("2026-03-08T02:30:00"));
  EXPECT_EQ(note.wall_times, 1u);
  EXPECT_EQ(note.offset_before_seconds, -5 * 3600);
  EXPECT_EQ(note.offset_after_seconds, -4 * 3600);

  const Schedule quarterly = Make("*/15 * * * *", "America/New_York");
  const DstNote four = quarterly.ExplainFire(At("2026-03-08T03:00:00-04:00"));
  EXPECT_EQ(four.kind, DstNote::Kind::kGap);
  EXPECT_EQ(four.wall_seconds, Wall("2026-03-08T02:00:00"));
  EXPECT_EQ(four.wall_times, 4u);
}

TEST(ScheduleDstNoteTest, OrdinaryFiresAndTheTransitionInstantItselfHaveNoNote) {
  const Schedule daily = Make("30 1 * * *", "America/New_York");
  EXPECT_EQ(daily.ExplainFire(At("2026-11-02T01:30:00-05:00")).kind, DstNote::Kind::kNone);
  // 03:00 exists; a schedule matching nothing in the gap fires there as on any day.
  const Schedule three = Make("0 3 * * *", "America/New_York");
  EXPECT_EQ(three.ExplainFire(At("2026-03-08T03:00:00-04:00")).kind, DstNote::Kind::kNone);
  // London's autumn fold is 01:00-02:00; the rule is the same in every zone.
  const Schedule london = Make("30 1 * * *", "Europe/London");
  EXPECT_EQ(london.ExplainFire(At("2026-10-25T01:30:00+01:00")).kind, DstNote::Kind::kFold);
  EXPECT_EQ(Make("30 1 * * *").ExplainFire(At("2026-11-01T01:30:00Z")).kind, DstNote::Kind::kNone);
  EXPECT_EQ(
      Make("@every 30m", "America/New_York").ExplainFire(At("2026-11-01T01:30:00-04:00")).kind,
      DstNote::Kind::kNone);
}

TEST(ScheduleDstNoteTest, LocalTimeToMicrosFollowsTheScheduleRule) {
  EXPECT_EQ(*LocalTimeToMicros("America/New_York", Wall("2026-07-01T12:00:00")),
            At("2026-07-01T12:00:00-04:00"));
  EXPECT_EQ(*LocalTimeToMicros("America/New_York", Wall("2026-11-01T01:30:00")),
            At("2026-11-01T01:30:00-04:00"));
  EXPECT_EQ(*LocalTimeToMicros("America/New_York", Wall("2026-03-08T02:30:00")),
            At("2026-03-08T03:00:00-04:00"));
  EXPECT_EQ(*LocalTimeToMicros("UTC", Wall("2026-03-08T02:30:00")), At("2026-03-08T02:30:00Z"));
  EXPECT_EQ(*LocalTimeToMicros("", Wall("2026-03-08T02:30:00")), At("2026-03-08T02:30:00Z"));
  EXPECT_FALSE(LocalTimeToMicros("Mars/Olympus", 0).ok());
  EXPECT_FALSE(LocalTimeToMicros("UTC", std::numeric_limits<int64_t>::min()).ok());
  EXPECT_FALSE(LocalTimeToMicros("UTC", std::numeric_limits<int64_t>::max()).ok());
}

}  // namespace
}  // namespace petit

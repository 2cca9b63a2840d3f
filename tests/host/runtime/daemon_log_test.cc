// DaemonLog: levels, the text and json formats, and the lines of engine events.
#include "runtime/daemon_log.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "petit/core/execute_run.h"
#include "petit/core/utf8.h"

namespace petit::host {
namespace {

using ::testing::HasSubstr;

constexpr LogLevel kLevels[] = {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn,
                                LogLevel::kError};

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// `line` as a JSON object; fails the test (and returns an empty object) when it is not one.
Poco::JSON::Object::Ptr ParseObject(const std::string& line) {
  try {
    Poco::Dynamic::Var parsed = Poco::JSON::Parser().parse(line);
    if (parsed.type() == typeid(Poco::JSON::Object::Ptr)) {
      return parsed.extract<Poco::JSON::Object::Ptr>();
    }
    ADD_FAILURE() << "not a JSON object: " << line;
  } catch (const Poco::Exception& e) {
    ADD_FAILURE() << "not JSON (" << e.displayText() << "): " << line;
  }
  return new Poco::JSON::Object();
}

std::set<std::string> Keys(const Poco::JSON::Object::Ptr& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : *object) keys.insert(key);
  return keys;
}

TEST(DaemonLogTest, WritesALineExactlyWhenItsLevelIsAtOrAboveTheConfiguredOne) {
  for (LogFormat format : {LogFormat::kText, LogFormat::kJson}) {
    for (LogLevel configured : kLevels) {
      std::ostringstream out;
      DaemonLog log(LogOptions{.level = configured, .format = format}, &out);
      for (LogLevel level : kLevels) log.Log(level, "at " + std::string(LogLevelName(level)));
      std::string written = out.str();
      for (LogLevel level : kLevels) {
        const bool shown =
            written.find("at " + std::string(LogLevelName(level))) != std::string::npos;
        EXPECT_EQ(shown, level >= configured)
            << LogLevelName(level) << " with level " << LogLevelName(configured) << " in "
            << LogFormatName(format) << ":\n"
            << written;
        EXPECT_EQ(log.Enabled(level), level >= configured);
      }
    }
  }
}

TEST(DaemonLogTest, TextLinesAreTimestampedWithTheLevelAsAPrefixButForInfo) {
  std::ostringstream out;
  DaemonLog log(LogOptions{.level = LogLevel::kDebug}, &out);
  log.Debug("d");
  log.Info("i", AboutRun(JobId("etl"), RunId::Generate()));  // text lines do not show fields
  log.Warn("w");
  log.Error("e");
  std::vector<std::string> lines = SplitLines(out.str());
  ASSERT_EQ(lines.size(), 4u) << out.str();
  const std::string stamp = R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z )";
  EXPECT_TRUE(std::regex_match(lines[0], std::regex(stamp + "petit: debug: d"))) << lines[0];
  EXPECT_TRUE(std::regex_match(lines[1], std::regex(stamp + "petit: i"))) << lines[1];
  EXPECT_TRUE(std::regex_match(lines[2], std::regex(stamp + "petit: warning: w"))) << lines[2];
  EXPECT_TRUE(std::regex_match(lines[3], std::regex(stamp + "petit: error: e"))) << lines[3];

  std::ostringstream bare;
  DaemonLog foreground(LogOptions{.timestamps = false}, &bare);
  foreground.Warn("state store unreachable");
  EXPECT_EQ(bare.str(), "petit: warning: state store unreachable\n");
}

TEST(DaemonLogTest, JsonLinesCarryTimeLevelMessageAndOnlyTheIdsTheyAreAbout) {
  std::ostringstream out;
  DaemonLog log(LogOptions{.level = LogLevel::kDebug, .format = LogFormat::kJson}, &out);
  const RunId run = RunId::Generate();
  log.Info("plain");
  log.Warn("about a job", AboutJob(JobId("etl")));
  LogFields task = AboutRun(JobId("etl"), run);
  task.task_id = "load";
  task.attempt = 3;
  task.event = "task_failed";
  log.Error("about a task", task);

  std::vector<std::string> lines = SplitLines(out.str());
  ASSERT_EQ(lines.size(), 3u) << out.str();
  Poco::JSON::Object::Ptr plain = ParseObject(lines[0]);
  EXPECT_EQ(Keys(plain), (std::set<std::string>{"time", "level", "msg"}));
  EXPECT_TRUE(std::regex_match(plain->getValue<std::string>("time"),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  EXPECT_EQ(plain->getValue<std::string>("level"), "info");
  EXPECT_EQ(plain->getValue<std::string>("msg"), "plain");

  Poco::JSON::Object::Ptr job = ParseObject(lines[1]);
  EXPECT_EQ(Keys(job), (std::set<std::string>{"time", "level", "msg", "job_id"}));
  EXPECT_EQ(job->getValue<std::string>("level"), "warn");
  EXPECT_EQ(job->getValue<std::string>("job_id"), "etl");

  Poco::JSON::Object::Ptr about = ParseObject(lines[2]);
  EXPECT_EQ(Keys(about), (std::set<std::string>{"time", "level", "msg", "job_id", "run_id",
                                                "task_id", "attempt", "event"}));
  EXPECT_EQ(about->getValue<std::string>("level"), "error");
  EXPECT_EQ(about->getValue<std::string>("run_id"), run.str());
  EXPECT_EQ(about->getValue<std::string>("task_id"), "load");
  EXPECT_EQ(about->getValue<int>("attempt"), 3);
  EXPECT_EQ(about->getValue<std::string>("event"), "task_failed");
}

// Whatever bytes a message holds (an OS error, a task's error text), each json line stays one
// line of valid UTF-8 JSON whose msg reads back as the message, invalid bytes as U+FFFD.
TEST(DaemonLogTest, JsonLinesStayValidWhateverTheMessageHolds) {
  const std::string fffd(kUtf8ReplacementCharacter);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"quote \" backslash \\ slash /", "quote \" backslash \\ slash /"},
      {"two\nlines\r\n", "two\nlines\r\n"},
      {std::string("nul\0tab\tbell\a", 12), std::string("nul\0tab\tbell\a", 12)},
      {"caf\xC3\xA9 \xF0\x9F\x9A\x80", "caf\xC3\xA9 \xF0\x9F\x9A\x80"},
      {"stray \x80 continuation", "stray " + fffd + " continuation"},
      {"truncated \xE2\x82", "truncated " + fffd + fffd},
      {"overlong \xC0\xAF", "overlong " + fffd + fffd},
      {"surrogate \xED\xA0\x80", "surrogate " + fffd + fffd + fffd},
      {"beyond \xF4\x90\x80\x80", "beyond " + fffd + fffd + fffd + fffd},
      {"\xFF\xFE", fffd + fffd},
  };
  for (const auto& [message, expected] : cases) {
    std::ostringstream out;
    DaemonLog log(LogOptions{.format = LogFormat::kJson}, &out);
    LogFields fields;
    fields.task_id = message;  // ids are checked names, but the log does not rely on it
    log.Info(message, fields);
    const std::string text = out.str();
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line: " << text;
    EXPECT_TRUE(IsValidUtf8(text)) << text;
    Poco::JSON::Object::Ptr line = ParseObject(text.substr(0, text.size() - 1));
    EXPECT_EQ(line->getValue<std::string>("msg"), expected) << text;
    EXPECT_EQ(line->getValue<std::string>("task_id"), expected) << text;
  }
}

// A message holding what a plugin wrote (an error, a log line) is one text line that moves no
// cursor: a terminal or the journal shows its escapes as text.
TEST(DaemonLogTest, TextLinesShowControlCharactersAsEscapes) {
  std::ostringstream out;
  DaemonLog log(LogOptions{.timestamps = false}, &out);
  log.Warn("task failed: \x1b[2Jgone\n2026-01-01T00:00:00.000Z petit: run ok \xff");
  EXPECT_EQ(out.str(),
            "petit: warning: task failed: \\x1b[2Jgone\\n2026-01-01T00:00:00.000Z petit: run ok "
            "\xEF\xBF\xBD\n");
}

TEST(DaemonLogTest, LinesOfConcurrentWritersNeverInterleave) {
  std::ostringstream out;
  DaemonLog log(LogOptions{.format = LogFormat::kJson}, &out);
  constexpr int kThreads = 4;
  constexpr int kLines = 200;
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < kLines; ++i) {
          log.Info("thread " + std::to_string(t) + " line " + std::to_string(i) +
                   std::string(100, 'x'));
        }
      });
    }
  }
  std::vector<std::string> lines = SplitLines(out.str());
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kLines));
  for (const std::string& line : lines) {
    EXPECT_THAT(ParseObject(line)->getValue<std::string>("msg"), HasSubstr(" line "));
  }
}

TEST(DaemonLogTest, RecoveryTextKeepsItsLevelsWithoutThePetitPrefix) {
  std::ostringstream out;
  DaemonLog log(LogOptions{.format = LogFormat::kJson}, &out);
  log.Lines("petit: interrupted run r of job j\npetit: warning: cannot read x\nerror: broken\n");
  std::vector<std::string> lines = SplitLines(out.str());
  ASSERT_EQ(lines.size(), 3u) << out.str();
  EXPECT_EQ(ParseObject(lines[0])->getValue<std::string>("level"), "info");
  EXPECT_EQ(ParseObject(lines[0])->getValue<std::string>("msg"), "interrupted run r of job j");
  EXPECT_EQ(ParseObject(lines[1])->getValue<std::string>("level"), "warn");
  EXPECT_EQ(ParseObject(lines[1])->getValue<std::string>("msg"), "cannot read x");
  EXPECT_EQ(ParseObject(lines[2])->getValue<std::string>("level"), "error");
}

Event MakeEvent(EventType type, std::string detail = "") {
  Event event;
  event.type = type;
  event.job = JobId("etl");
  event.run = RunId::Generate();
  if (type < EventType::kJobStarted) {
    event.task = TaskId("load");
    event.attempt = 2;
  }
  event.detail = std::move(detail);
  return event;
}

// One line per state change: every task and run transition, fire and refusal at info, a task
// queued and the bus's own run completion (the launcher logs the run's end) at debug.
TEST(LogEventTest, EveryTransitionIsOneLineAtItsLevelWithItsIds) {
  const std::vector<std::pair<EventType, LogLevel>> expected = {
      {EventType::kTaskQueued, LogLevel::kDebug},    {EventType::kTaskStarted, LogLevel::kInfo},
      {EventType::kTaskRetrying, LogLevel::kInfo},   {EventType::kTaskSucceeded, LogLevel::kInfo},
      {EventType::kTaskFailed, LogLevel::kInfo},     {EventType::kTaskSkipped, LogLevel::kInfo},
      {EventType::kTaskCancelled, LogLevel::kInfo},  {EventType::kJobStarted, LogLevel::kInfo},
      {EventType::kJobCompleted, LogLevel::kDebug},  {EventType::kScheduleFired, LogLevel::kInfo},
      {EventType::kTriggerRefused, LogLevel::kInfo},
  };
  for (const auto& [type, level] : expected) {
    const Event event = MakeEvent(type, "why");
    for (LogLevel configured : kLevels) {
      std::ostringstream out;
      DaemonLog log(LogOptions{.level = configured, .format = LogFormat::kJson}, &out);
      LogEvent(log, event);
      std::vector<std::string> lines = SplitLines(out.str());
      ASSERT_EQ(lines.size(), level >= configured ? 1u : 0u)
          << EventTypeName(type) << " at level " << LogLevelName(configured) << ": " << out.str();
      if (lines.empty()) continue;
      Poco::JSON::Object::Ptr line = ParseObject(lines[0]);
      EXPECT_EQ(line->getValue<std::string>("level"), LogLevelName(level));
      EXPECT_EQ(line->getValue<std::string>("event"), EventTypeName(type));
      EXPECT_EQ(line->getValue<std::string>("job_id"), "etl");
      EXPECT_EQ(line->getValue<std::string>("run_id"), event.run.str());
      EXPECT_THAT(line->getValue<std::string>("msg"), HasSubstr("job etl"));
      EXPECT_THAT(line->getValue<std::string>("msg"), HasSubstr(": why"));
      if (type < EventType::kJobStarted) {
        EXPECT_EQ(line->getValue<std::string>("task_id"), "load");
        EXPECT_EQ(line->getValue<int>("attempt"), 2);
      } else {
        EXPECT_FALSE(line->has("task_id"));
        EXPECT_FALSE(line->has("attempt"));
      }
    }
  }
}

TEST(LogEventTest, FiresAndRefusalsKeepTheirTextForm) {
  std::ostringstream out;
  DaemonLog log(LogOptions{.timestamps = false}, &out);
  Event fired =
      MakeEvent(EventType::kScheduleFired, "occurrence X (trigger schedule): run started");
  LogEvent(log, fired);
  LogEvent(log, MakeEvent(EventType::kTriggerRefused, "1 active run of max 1 (max_concurrency)"));
  EXPECT_EQ(out.str(), "petit: job etl run " + fired.run.str() +
                           ": occurrence X (trigger schedule): run started\n"
                           "petit: job etl refused: 1 active run of max 1 (max_concurrency)\n");
}

TEST(LogEventTest, AnAbandonedWorkerIsAWarning) {
  std::ostringstream out;
  DaemonLog log(LogOptions{.level = LogLevel::kWarn, .timestamps = false}, &out);
  LogEvent(log,
           MakeEvent(EventType::kTaskFailed,
                     "timed out; " + std::string(kAbandonedWorkerNote) + " (it ignored cancel)"));
  EXPECT_THAT(out.str(), HasSubstr("petit: warning: job etl run "));
  EXPECT_THAT(out.str(), HasSubstr(" task load (attempt 2) failed: timed out; "));
}

}  // namespace
}  // namespace petit::host

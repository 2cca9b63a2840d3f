// End to end: `petit validate` (and `list`) on job directories, with the real binary and plugins.
// Fire times are computed from a fixed `--now`, so every expected time is exact.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/yaml_limits.h"
#include "integration/petit_process.h"
#include "petit/plugin.hpp"

namespace petit {
namespace {

namespace fs = std::filesystem;
using sdk::Json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

using testing::Outcome;
using testing::ReadFile;
using testing::ShellQuote;

// 2026-03-07T12:00:00Z, the day before New York springs forward (2026-03-08 02:00 -> 03:00).
constexpr char kNow[] = "2026-03-07T12:00:00Z";

class ValidateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "petit-validate-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    jobs_ = dir_ / "jobs";
    fs::create_directories(jobs_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Outcome Run(const std::string& args) {
    return testing::RunPetit(PETIT_EXE, "--storage memory: " + args, dir_);
  }

  Outcome Validate(const std::string& extra = "") {
    return Run("validate " + ShellQuote(jobs_.string()) + " --now " + kNow + " " + extra);
  }

  void Write(const std::string& name, const std::string& yaml) {
    std::ofstream(jobs_ / name) << yaml;
  }

  std::string Path(const std::string& name) const { return (jobs_ / name).string(); }

  fs::path dir_;
  fs::path jobs_;
};

TEST_F(ValidateTest, ReportsEveryErrorOfEveryFileInOnePassAndExitsTwo) {
  Write("a_keys.yaml", R"(id: keys
shedule: "@daily"
tasks:
  - {id: t, type: command, command: "true"}
)");
  Write("b_cron.yaml", R"(id: cron
schedule: "0 0 31 2 *"
tasks:
  - {id: t, type: command, command: "true"}
)");
  Write("c_zone.yaml", R"(id: zone
schedule: {cron: "@hourly", timezone: Mars/Olympus}
tasks:
  - {id: t, type: command, command: "true"}
)");
  Write("d_params.yaml", R"(id: params
tasks:
  - id: wait
    type: sleep
    params: {ms: soon}
)");
  Write("e_needs.yaml", R"(id: needs
depends_on: [keys]
tasks:
  - {id: t, type: command, command: "true"}
)");
  Write("f_ping.yaml",
        "id: ping\ndepends_on: [pong]\ntasks: [{id: t, type: command, command: x}]\n");
  Write("g_pong.yaml",
        "id: pong\ndepends_on: [ping]\ntasks: [{id: t, type: command, command: x}]\n");
  Write("h_dup.yaml", "id: good\ntasks: [{id: t, type: command, command: x}]\n");
  Write("good.yaml", "id: good\ntasks: [{id: t, type: command, command: x}]\n");

  Outcome r = Validate();
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr(Path("a_keys.yaml") +
                               ":2:1: unknown key 'shedule' in job (did you mean 'schedule'?)"));
  EXPECT_THAT(r.err, HasSubstr(Path("b_cron.yaml") + ":2:11: invalid schedule '0 0 31 2 *'"));
  EXPECT_THAT(r.err, HasSubstr(Path("c_zone.yaml") + ":2:39: unknown time zone 'Mars/Olympus'"));
  EXPECT_THAT(r.err, HasSubstr(Path("d_params.yaml") +
                               ":5:18: task 'wait' (type sleep): parameter 'ms' must be an "
                               "integer, not a string"));
  EXPECT_THAT(r.err, HasSubstr(Path("e_needs.yaml") +
                               ":2:14: job 'needs' depends on job 'keys', which has errors"));
  EXPECT_THAT(r.err, HasSubstr(Path("f_ping.yaml") + ":2:14: job dependency cycle: ping -> "
                                                     "pong -> ping"));
  EXPECT_THAT(r.err, HasSubstr(Path("h_dup.yaml") + ":1:5: job id 'good' is already used by " +
                               Path("good.yaml") + ":1:5"));
  EXPECT_THAT(r.out, HasSubstr("ok  good (1 tasks)  " + Path("good.yaml")));
  EXPECT_THAT(r.out, HasSubstr("9 files, 1 valid jobs, 7 errors"));
}

TEST_F(ValidateTest, PrintsTheNextThreeFireTimesInEachJobsTimeZone) {
  std::ofstream(jobs_ / "petit.yaml") << "timezone: Asia/Tokyo\n";
  Write("nightly.yaml", R"(id: nightly
schedule:
  cron: "30 2 * * *"
  timezone: America/New_York
tasks: [{id: t, type: command, command: x}]
)");
  Write("morning.yaml", R"(id: morning
schedule: "0 9 * * *"
tasks: [{id: t, type: command, command: x}]
)");
  Write("manual.yaml", "id: manual\ntasks: [{id: t, type: command, command: x}]\n");
  Outcome r = Validate();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // 02:30 does not exist in New York on 2026-03-08: it fires once, at the end of the gap.
  EXPECT_THAT(r.out, HasSubstr("ok  nightly (1 tasks)  " + Path("nightly.yaml") +
                               "\n    schedule '30 2 * * *' in America/New_York, next:  "
                               "2026-03-08T03:00:00-04:00  2026-03-09T02:30:00-04:00  "
                               "2026-03-10T02:30:00-04:00\n"));
  // Without a zone of its own a schedule uses petit.yaml's; 12:00Z is 21:00 in Tokyo.
  EXPECT_THAT(r.out, HasSubstr("    schedule '0 9 * * *' in Asia/Tokyo, next:  "
                               "2026-03-08T09:00:00+09:00  2026-03-09T09:00:00+09:00  "
                               "2026-03-10T09:00:00+09:00\n"));
  EXPECT_THAT(r.out, HasSubstr("ok  manual (1 tasks)  " + Path("manual.yaml") + "\nok  morning"));
}

TEST_F(ValidateTest, WithoutNowTheFireTimesAreFutureAndAscending) {
  Write("hourly.yaml",
        "id: hourly\nschedule: \"@hourly\"\ntasks: [{id: t, type: command, "
        "command: x}]\n");
  const std::time_t before = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&before, &utc);
  char before_text[32];
  std::strftime(before_text, sizeof before_text, "%Y-%m-%dT%H:%M:%S+00:00", &utc);
  Outcome r = Run("validate " + ShellQuote(jobs_.string()) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  sdk::Result<Json> doc = Json::Parse(r.out);
  ASSERT_TRUE(doc.ok()) << r.out;
  const Json& next = *doc->Find("jobs")->array_items().at(0).Find("next");
  ASSERT_EQ(next.size(), 3u);
  const std::regex hour(R"(\d{4}-\d\d-\d\dT\d\d:00:00\+00:00)");
  std::vector<std::string> times;
  for (const Json& t : next.array_items()) {
    EXPECT_TRUE(std::regex_match(t.string_value(), hour)) << t.string_value();
    times.push_back(t.string_value());
  }
  // Same zone and format throughout, so text order is time order.
  EXPECT_GT(times[0], std::string(before_text));
  EXPECT_LT(times[0], times[1]);
  EXPECT_LT(times[1], times[2]);
}

TEST_F(ValidateTest, JsonIsOneDocumentWithJobsAndErrors) {
  Write("ok.yaml", R"(id: ok
schedule: {cron: "0 0 * * MON", timezone: Europe/London}
tasks: [{id: t, type: command, command: x}]
)");
  Write("manual.yaml", "id: manual\nenabled: false\ntasks: [{id: t, type: command, command: x}]\n");
  Write("bad.yaml", "id: bad\ntasks:\n  - {id: t, type: command, command: x, retry: {delay: 5}}\n");
  Outcome r = Validate("--json");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  sdk::Result<Json> doc = Json::Parse(r.out);
  ASSERT_TRUE(doc.ok()) << doc.status().message() << "\n" << r.out;
  EXPECT_FALSE(doc->Find("valid")->bool_value());

  const Json::Elements& jobs = doc->Find("jobs")->array_items();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].Find("id")->string_value(), "manual");
  EXPECT_TRUE(jobs[0].Find("schedule")->is_null());
  EXPECT_TRUE(jobs[0].Find("timezone")->is_null());
  EXPECT_EQ(jobs[0].Find("next")->size(), 0u);
  EXPECT_FALSE(jobs[0].Find("enabled")->bool_value());
  const Json& ok = jobs[1];
  EXPECT_EQ(ok.Find("id")->string_value(), "ok");
  EXPECT_EQ(ok.Find("file")->string_value(), Path("ok.yaml"));
  EXPECT_EQ(ok.Find("schedule")->string_value(), "0 0 * * MON");
  EXPECT_EQ(ok.Find("timezone")->string_value(), "Europe/London");
  std::vector<std::string> next;
  for (const Json& t : ok.Find("next")->array_items()) next.push_back(t.string_value());
  EXPECT_THAT(next, ElementsAre("2026-03-09T00:00:00+00:00", "2026-03-16T00:00:00+00:00",
                                "2026-03-23T00:00:00+00:00"));

  const Json::Elements& errors = doc->Find("errors")->array_items();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].Find("file")->string_value(), Path("bad.yaml"));
  EXPECT_EQ(errors[0].Find("line")->integer_value(), 3);
  EXPECT_EQ(errors[0].Find("column")->integer_value(), 48);
  EXPECT_EQ(errors[0].Find("key")->string_value(), "tasks.t.retry.delay");
  // The unit the key names is part of the suggestion (issue 13: `delay` once got no hint).
  EXPECT_EQ(errors[0].Find("message")->string_value(),
            "unknown key 'delay' in retry of task 't' (did you mean 'delay_secs'? it is in "
            "seconds)");
  EXPECT_TRUE(doc->Find("warnings")->is_array());
}

TEST_F(ValidateTest, JsonSaysValidAndExitsZeroWhenAllIsWell) {
  Write("ok.yaml",
        "id: ok\nschedule: \"@every 90s\"\ntasks: [{id: t, type: command, command: x}]\n");
  Outcome r = Validate("--json");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  sdk::Result<Json> doc = Json::Parse(r.out);
  ASSERT_TRUE(doc.ok()) << r.out;
  EXPECT_TRUE(doc->Find("valid")->bool_value());
  EXPECT_EQ(doc->Find("errors")->size(), 0u);
  const Json& next = *doc->Find("jobs")->array_items().at(0).Find("next");
  ASSERT_EQ(next.size(), 3u);
  // `@every` is anchored at the epoch: 12:00:00 is a multiple of 90 s, so the next is 12:01:30.
  EXPECT_EQ(next.array_items()[0].string_value(), "2026-03-07T12:01:30+00:00");
  EXPECT_EQ(next.array_items()[2].string_value(), "2026-03-07T12:04:30+00:00");
}

TEST_F(ValidateTest, ProblemsOfPetitYamlAreReportedTheSameWay) {
  std::ofstream(jobs_ / "petit.yaml") << "timezone: Europe/Lodnon\napi: {bind: 0.0.0.0}\n";
  Write("ok.yaml", "id: ok\ntasks: [{id: t, type: command, command: x}]\n");
  Outcome text = Validate();
  EXPECT_EQ(text.exit_code, 2);
  EXPECT_THAT(text.err, HasSubstr((jobs_ / "petit.yaml").string() +
                                  ":1:11: unknown time zone 'Europe/Lodnon' (did you mean "
                                  "'Europe/London'?)"));
  EXPECT_THAT(text.err, HasSubstr((jobs_ / "petit.yaml").string() +
                                  ":2:13: the API may listen on '0.0.0.0' only with a 'token'"));
  Outcome json = Validate("--json");
  EXPECT_EQ(json.exit_code, 2);
  sdk::Result<Json> doc = Json::Parse(json.out);
  ASSERT_TRUE(doc.ok()) << json.out << json.err;
  const Json::Elements& errors = doc->Find("errors")->array_items();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].Find("key")->string_value(), "timezone");
  EXPECT_EQ(errors[1].Find("key")->string_value(), "api.bind");
}

// One pass lists every error: an invalid petit.yaml does not hide the job files' own errors,
// which are checked with its defaults (and a warning says so).
TEST_F(ValidateTest, AnInvalidPetitYamlDoesNotHideTheJobFilesErrors) {
  std::ofstream(jobs_ / "petit.yaml") << "api: {port: 70000}\n";
  Write("ok.yaml", "id: ok\ntasks: [{id: t, type: command, command: x}]\n");
  Write("bad.yaml", "id: bad\ntasks:\n  - id: t\n    type: [command]\n");
  Outcome text = Validate();
  EXPECT_EQ(text.exit_code, 2) << text.out << text.err;
  EXPECT_THAT(text.err, HasSubstr((jobs_ / "petit.yaml").string() + ":1:13: 'port' must be"));
  EXPECT_THAT(text.err, HasSubstr("bad.yaml:4:11: 'type' must be a string, not a list"));
  EXPECT_THAT(text.err, HasSubstr("job files checked with petit.yaml's defaults"));
  EXPECT_THAT(text.out, HasSubstr("2 files, 0 valid jobs, 2 errors"));
  Outcome json = Validate("--json");
  EXPECT_EQ(json.exit_code, 2);
  sdk::Result<Json> doc = Json::Parse(json.out);
  ASSERT_TRUE(doc.ok()) << json.out << json.err;
  EXPECT_EQ(doc->Find("files")->integer_value(), 2);
  ASSERT_EQ(doc->Find("errors")->array_items().size(), 2u);
  EXPECT_EQ(doc->Find("errors")->array_items()[1].Find("key")->string_value(), "tasks.t.type");
}

// A petit.yaml that is not a file (a FIFO nobody writes to, a directory, a dangling symlink) is
// an error naming it, at once, never a wait nor a silent run on the default settings; so is a
// --config that names one.
TEST_F(ValidateTest, APetitYamlThatIsNotAFileIsAnErrorAtOnce) {
  Write("ok.yaml", "id: ok\ntasks: [{id: t, type: command, command: x}]\n");
  const fs::path config = jobs_ / "petit.yaml";
  const fs::path fifo = dir_ / "config.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  struct Case {
    std::string name;
    std::function<void()> make;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"fifo", [&] { fs::create_symlink(fifo, config); }, "not a regular file"},
      {"directory", [&] { fs::create_directory(config); }, "it is a directory"},
      {"dangling symlink", [&] { fs::create_symlink(dir_ / "nowhere.yaml", config); },
       "No such file or directory"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    fs::remove_all(config);
    c.make();
    const Outcome outcome = Validate();
    EXPECT_EQ(outcome.exit_code, 2) << outcome.err;
    EXPECT_THAT(outcome.err, HasSubstr(config.string() + ": cannot read the config file"));
    EXPECT_THAT(outcome.err, HasSubstr(c.reason));
  }
  fs::remove_all(config);
  const Outcome explicit_fifo = Validate("--config " + ShellQuote(fifo.string()));
  EXPECT_EQ(explicit_fifo.exit_code, 2) << explicit_fifo.err;
  EXPECT_THAT(explicit_fifo.err, HasSubstr(fifo.string() + ": cannot read the config file (not "
                                                           "a regular file"));
}

TEST_F(ValidateTest, TheOriginalPetitFormatValidatesWithTheRealPlugins) {
  Outcome r =
      Run("validate " +
          ShellQuote(std::string(PETIT_SOURCE_DIR) + "/tests/fixtures/jobs/original_format") +
          " --now " + kNow);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("9 files, 9 valid jobs, 0 errors"));
  EXPECT_THAT(r.out,
              HasSubstr("    schedule '0 0 2 * * *' in UTC, next:  2026-03-08T02:00:00+00:00"));
  EXPECT_THAT(r.err, Not(HasSubstr("warning")));
}

TEST_F(ValidateTest, ListShowsEachJobsSchedule) {
  Write("nightly.yaml",
        "id: nightly\nschedule: {cron: \"@daily\", timezone: Europe/Paris}\n"
        "tasks: [{id: t, type: command, command: x}]\nname: Nightly build\n");
  Write("manual.yaml", "id: manual\ntasks: [{id: t, type: command, command: x}]\n");
  Outcome r = Run("list " + ShellQuote(jobs_.string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "manual\t1 tasks\tenabled\t-\tmanual\n"
            "nightly\t1 tasks\tenabled\t@daily (Europe/Paris)\tNightly build\n");
}

TEST_F(ValidateTest, AMalformedNowIsAUsageError) {
  Outcome r = Run("validate " + ShellQuote(jobs_.string()) + " --now yesterday");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--now needs a time like 2026-03-08T00:00:00Z, not 'yesterday'"));
  Outcome offset =
      Run("validate " + ShellQuote(jobs_.string()) + " --now 2026-03-07T13:00:00+01:00");
  EXPECT_EQ(offset.exit_code, 0) << offset.err;
}

// Hostile job files (yaml_limits.h): each ends `petit validate` with exit 2 and one line naming the
// file, line and column, in a moment and in little memory, where yaml-cpp (the parser before
// libyaml) alone looped forever or ran for 40 s through gigabytes. The bounds leave room for a
// sanitizer build, and for the largest file within the limits (a million nodes: about 1.5 s of
// yaml-cpp's scanning on an idle core, less of libyaml's) on a loaded machine.
#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer keeps up to 256 MiB of freed memory in quarantine, which counts as resident.
constexpr auto kHostileTime = std::chrono::seconds(20);
constexpr long kHostileRssKb = (400 + 256) * 1024;
#else
constexpr auto kHostileTime = std::chrono::seconds(5);
constexpr long kHostileRssKb = 100 * 1024;
#endif

struct Bounded {
  int exit_code = -1;
  std::string err;
  std::chrono::steady_clock::duration took{};
  long max_rss_kb = 0;
};

// `petit validate DIR` as a child of our own, under `timeout` so that a regression ends instead
// of hanging the suite; wait4 gives its peak memory alone.
Bounded ValidateBounded(const fs::path& jobs, const fs::path& scratch) {
  const std::string petit = PETIT_EXE;
  const std::string dir = jobs.string();
  const std::string err_path = (scratch / "hostile-stderr.txt").string();
  std::vector<std::string> argv = {"timeout",   "-s",      "KILL",     "60", petit,
                                   "--storage", "memory:", "validate", dir};
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  Bounded result;
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = -1;
  const int spawned = posix_spawnp(&pid, "timeout", &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return result;
  int status = 0;
  struct rusage usage {};
  if (wait4(pid, &status, 0, &usage) != pid) return result;
  result.took = std::chrono::steady_clock::now() - start;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.max_rss_kb = usage.ru_maxrss;
  result.err = ReadFile(err_path);
  return result;
}

std::string Repeat(const std::string& piece, size_t times) {
  std::string text;
  for (size_t i = 0; i < times; ++i) text += piece;
  return text;
}

std::string AliasBomb() {
  std::string text = "id: laughs\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int level = 1; level < 10; ++level) {
    const std::string previous = "*l" + std::to_string(level - 1) + ", ";
    text += "l" + std::to_string(level) + ": &l" + std::to_string(level) + " [" +
            Repeat(previous, 10) + "]\n";
  }
  return text + "config: {v: *l9}\ntasks: [{id: t, type: command, command: x}]\n";
}

// Eleven flow lists of 95,000 items, one a line: more nodes than the limit, no list too long.
std::string ElevenLists() {
  std::string text;
  for (int list = 0; list < 11; ++list) {
    text += "x" + std::to_string(list) + ": [" + Repeat("1,", 95'000) + "]\n";
  }
  return text;
}

TEST_F(ValidateTest, HostileFilesAreOneLineEachQuicklyAndInLittleMemory) {
  const std::string task = "tasks: [{id: t, type: command, command: x}]\n";
  std::string many_tasks = "id: wide\ntasks:\n";
  for (size_t i = 0; i <= host::kMaxTasksPerJob; ++i) {
    many_tasks += "  - {id: t" + std::to_string(i) + "}\n";
  }
  const std::vector<std::pair<std::string, std::string>> cases = {
      {",", ":1:1: ',' cannot start a YAML value here"},
      {",,", ":1:1: ',' cannot start a YAML value here"},
      {"id: a\n" + task + "---\n,", ":4:1: ',' cannot start a YAML value here"},
      {"{id: a, tasks: []},", ":1:19: ',' cannot start a YAML value here"},
      {AliasBomb(), ":6:45: aliases expand to more than 100000 nodes"},
      {"id: a\nconfig: {x: &t " + std::string(60'000, 'x') + "}\ntasks:\n" +
           Repeat("  - {id: t, type: command, command: *t}\n", 4'000),
       ":73:37: aliases expand to more than 4194304 bytes of text"},
      {Repeat("[", 1'000'000), ":1:65: lists and mappings nested more than 64 deep"},
      {"id: a\nx: [[" + Repeat("1,", 500'000) + "]]\n",
       ":2:400006: a list of more than 200000 items"},
      {Repeat("[", 100) + Repeat("]", 100), ":1:65: lists and mappings nested more than 64 deep"},
      // A tree of 100,000 nodes, then a megabyte-deep unclosed nest.
      {"id: a\nx:\n" + Repeat("  - [1, 1, 1, 1, 1, 1, 1, 1, 1]\n", 11'000) +
           "z: " + Repeat("[", 99'990) + "\n",
       ":11003:67: lists and mappings nested more than 64 deep"},
      {"id: a\nx:\n" + Repeat("  - 1\n", 250'000), ":200003:5: a list of more than 200000 items"},
      {"id: a\n" + ElevenLists(), ":12:99957: more than 1000000 YAML nodes"},
      {"id: z\nschedule: {cron: '@daily', timezone: " + std::string(1'000'000, 'Z') + "}\n" + task,
       ":2:38: a value of 1000000 bytes"},
      {"? " + std::string(1'000'000, 'k') + "\n: 1\n", ":1:3: a key of 1000000 bytes"},
      {Repeat("---\nid: a\n", 100'000), ":129:1: more than 64 YAML documents"},
      {"id: a\n" + Repeat("# " + std::string(1'000, '-') + "\n", 17'000),
       ":16729:30: the file is longer than 16777216 bytes"},
      {"id: a\nconfig: {" + Repeat("k: 1, ", 10'001) + "}\n" + task,
       ":2:60010: a mapping of more than 10000 entries"},
      {many_tasks, ":3:3: a job holds at most 100000 tasks, and this one has 100001"},
  };
  for (const auto& [text, error] : cases) {
    fs::remove_all(jobs_);
    fs::create_directories(jobs_);
    Write("hostile.yaml", text);
    const Bounded r = ValidateBounded(jobs_, dir_);
    EXPECT_EQ(r.exit_code, 2) << error << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("error: " + Path("hostile.yaml") + error, 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err.substr(0, 300);
    EXPECT_LT(r.took, kHostileTime) << error;
    EXPECT_LT(r.max_rss_kb, kHostileRssKb) << error;
  }
}

// A generated file of 10,000 unknown keys: one line each, the first thousand with a suggestion,
// and no more time than a hostile file.
TEST_F(ValidateTest, TenThousandUnknownKeysAreListedQuickly) {
  std::string text = "id: many\n";
  for (int i = 0; i < 9'990; ++i) text += "retryDelay" + std::to_string(i) + ": 1\n";
  text += "tasks: [{id: t, type: command, command: x}]\n";
  Write("many.yaml", text);
  const Bounded r = ValidateBounded(jobs_, dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 9'990);
  EXPECT_THAT(r.err, HasSubstr(":2:1: unknown key 'retryDelay0' in job (did you mean"));
  EXPECT_THAT(r.err, HasSubstr(":9991:1: unknown key 'retryDelay9989' in job\n"));
  EXPECT_LT(r.took, kHostileTime);
  EXPECT_LT(r.max_rss_kb, kHostileRssKb);
}

// What YAML parsers accept without a word, and parameters of the wrong shape, with the real
// plugins: each file gets one line naming file, line, column and field, and what to write.
TEST_F(ValidateTest, SilentYamlAndWrongParameterShapesAreOneLineEach) {
  const std::string task = "  - id: t\n    type: command\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"id: a\ntasks:\n" + task +
           "    command: echo\n    retry:\n      max_attempts: 2\n"
           "      max_attempts: 5\n",
       ":8:7: duplicate key 'max_attempts' in tasks.t.retry: first at line 7"},
      {"id: a\ntasks:\n" + task + "    command: echo\n    environment:\n      A: x\n      'A': y\n",
       ":8:7: duplicate key 'A' in tasks.t.environment: first at line 7"},
      {"id: a\ntasks:\n" + task + "    command: [echo, hi]\n",
       ":5:14: task 't' (type command): parameter 'command' must be a string, not a list (for "
       "example command: \"...\")"},
      {"id: a\ntasks:\n" + task + "    command: echo\n    environment: [A=b]\n",
       ":6:18: task 't' (type command): parameter 'environment' must be a mapping, not a list "
       "(for example environment: {NAME: \"...\"})"},
      {"id: a\ntasks:\n" + task + "    command: echo\n    args: \"a b\"\n",
       ":6:11: task 't' (type command): parameter 'args' must be a list, not a string (for "
       "example args: [\"...\", \"...\"])"},
      {"id: a\nconfig: &c {x: 1}\ntasks:\n" + task + "    command: echo\n    <<: *c\n",
       ":7:5: YAML merge keys ('<<') are not supported"},
      {"id: a\ntasks:\n" + task + "    command: !!binary ZWNobw==\n",
       ":5:14: the YAML tag '!!binary' on tasks.t.command is not supported"},
  };
  for (const auto& [text, error] : cases) {
    fs::remove_all(jobs_);
    fs::create_directories(jobs_);
    Write("odd.yaml", text);
    const Outcome r = Validate();
    EXPECT_EQ(r.exit_code, 2) << error << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("error: " + Path("odd.yaml") + error, 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

// A generated mapping of 5,000 keys written twice: one line each, as quick as a hostile file.
TEST_F(ValidateTest, FiveThousandDuplicateKeysAreListedQuickly) {
  std::string keys;
  for (int i = 0; i < 5'000; ++i) keys += "  k" + std::to_string(i) + ": 1\n";
  Write("twice.yaml",
        "id: twice\nconfig:\n" + keys + keys + "tasks: [{id: t, type: command, command: x}]\n");
  const Bounded r = ValidateBounded(jobs_, dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 5'000);
  EXPECT_THAT(r.err, HasSubstr(":5003:3: duplicate key 'k0' in config: first at line 3;"));
  EXPECT_LT(r.took, kHostileTime);
  EXPECT_LT(r.max_rss_kb, kHostileRssKb);
}

TEST_F(ValidateTest, ALongMisspeltTimeZoneOrDependencyAnswersAtOnce) {
  const std::string zone = "Europe/" + std::string(60'000, 'x');
  const std::string dep(60'000, 'd');
  Write("long.yaml", "id: long\nschedule: {cron: '@daily', timezone: " + zone +
                         "}\ntasks:\n  - {id: " + dep +
                         "e, type: command, command: x}\n  - {id: t, type: command, command: x, "
                         "depends_on: [" +
                         dep + "]}\n");
  const Bounded r = ValidateBounded(jobs_, dir_);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr(Path("long.yaml") + ":2:38: "));
  EXPECT_THAT(r.err, HasSubstr("unknown time zone"));
  EXPECT_THAT(r.err, HasSubstr(Path("long.yaml") + ":5:"));
  EXPECT_LT(r.took, kHostileTime);
}

// A job written by someone used to Airflow, Dagu or the original Petit's loose keys: every
// mistake is one line naming file, line, column and what to write instead, with the real plugins.
TEST_F(ValidateTest, ANewUsersMistakesEachSayWhatToWrite) {
  Write("etl.yaml", R"(id: etl
cron: "0 2 * * *"
tasks:
  - id: extract
    type: command
    command: ./extract.sh
    timeout: 600
    retries: 3
  - id: load
    type: command
    command: ./load.sh
    dependencies: [extract]
    retry:
      delay: 30
      max_attempts: 2
    timeout_secs: 10m
  - id: notify
    type: sleep
    depends_on: [Load]
    command: echo done
)");
  Outcome r = Validate();
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  const std::string file = Path("etl.yaml");
  EXPECT_THAT(r.err,
              HasSubstr(file + ":2:1: unknown key 'cron' in job (did you mean 'schedule'?)"));
  EXPECT_THAT(r.err, HasSubstr(file + ":7:5: unknown key 'timeout' in task 'extract' (did you mean "
                                      "'timeout_secs'? it is in seconds)"));
  EXPECT_THAT(r.err, HasSubstr(file + ":8:5: unknown key 'retries' in task 'extract' (did you mean "
                                      "'retry: {max_attempts: ...}'?"));
  EXPECT_THAT(r.err, HasSubstr(file + ":12:5: unknown key 'dependencies' in task 'load' (did you "
                                      "mean 'depends_on'?)"));
  EXPECT_THAT(r.err, HasSubstr(file + ":14:7: unknown key 'delay' in retry of task 'load' (did you "
                                      "mean 'delay_secs'? it is in seconds)"));
  EXPECT_THAT(r.err, HasSubstr(file + ":16:19: 'timeout_secs' must be a number (seconds), not "
                                      "'10m': write timeout_secs: 600"));
  EXPECT_THAT(r.err, HasSubstr(file + ":20:5: unknown key 'command' in task 'notify' ('command' is "
                                      "a key of tasks of type command;"));
  EXPECT_THAT(r.err, HasSubstr(file + ":19:18: task 'notify' depends on unknown task 'Load' (did "
                                      "you mean 'load'?)"));
  EXPECT_THAT(r.err, HasSubstr(file + ":17:5: task 'notify' (type sleep): missing required "
                                      "parameter 'ms'"));
  EXPECT_THAT(r.out, HasSubstr("1 files, 0 valid jobs, 9 errors"));
}

TEST_F(ValidateTest, ANewUsersMistakesInPetitYamlSayWhereTheKeyBelongs) {
  std::ofstream(jobs_ / "petit.yaml") << "port: 8080\nlog_level: debug\nshutdown_grace: 1m\n";
  Write("ok.yaml", "id: ok\ntasks: [{id: t, type: command, command: x}]\n");
  Outcome r = Validate();
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  const std::string file = (jobs_ / "petit.yaml").string();
  EXPECT_THAT(r.err, HasSubstr(file + ":1:1: unknown key 'port' in petit.yaml (did you mean "
                                      "'api: {port: ...}'?)"));
  EXPECT_THAT(r.err, HasSubstr(file + ":2:1: unknown key 'log_level' in petit.yaml (did you mean "
                                      "'logging: {level: ...}'?)"));
  EXPECT_THAT(r.err, HasSubstr(file + ":3:17: 'shutdown_grace' must be an integer (seconds), not "
                                      "'1m': write shutdown_grace: 60"));
}

TEST_F(ValidateTest, AnUnknownTaskTypeListsTheLoadedTypesAndHowToLoadMore) {
  Write("t.yaml", "id: t\ntasks:\n  - {id: a, type: spark_submit}\n  - {id: b, type: Sleep}\n");
  Outcome r = Validate();
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr(Path("t.yaml") + ":3:19: unknown task type 'spark_submit'; the "
                                                "known types are "));
  EXPECT_THAT(r.err, HasSubstr("sleep"));
  EXPECT_THAT(r.err, HasSubstr("(--plugin-dir DIR, or plugin_dirs in petit.yaml); `petit "
                               "plugins` lists them"));
  EXPECT_THAT(r.err, HasSubstr(Path("t.yaml") + ":4:19: unknown task type 'Sleep' (did you mean "
                                                "'sleep'?)"));
}

}  // namespace
}  // namespace petit

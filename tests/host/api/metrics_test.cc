// GET /metrics: a real Daemon (memory store, the builtin plugin) runs jobs that succeed, fail,
// retry and hold pool slots; the exposition is parsed and its values checked against what the
// runs did, and `promtool check metrics` (Debian prometheus) must accept it, with 1,000 jobs too.
#include "api/metrics.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/metrics_routes.h"
#include "config/job_loader.h"
#include "runtime/daemon.h"
#include "runtime/host_env.h"
#include "runtime/load_jobs.h"

#ifndef PETIT_PROMTOOL
#define PETIT_PROMTOOL ""
#endif

namespace petit::host {
namespace {

using metrics_text::EscapeHelp;
using metrics_text::EscapeLabelValue;
using metrics_text::LabelPair;

std::unique_ptr<HostEnv> MemoryHost(std::optional<std::string> config_path = std::nullopt) {
  HostOptions options;
  options.storage_uri = "memory:";
  options.plugin_dirs = {PETIT_PLUGIN_DIR};
  options.config_path = std::move(config_path);
  Result<std::unique_ptr<HostEnv>> env = HostEnv::Create(options);
  EXPECT_TRUE(env.ok()) << env.status().message();
  if (!env.ok()) return nullptr;
  (*env)->LoadPlugins();
  return std::move(env).value();
}

std::vector<Job> Jobs(const std::vector<std::string>& yamls) {
  std::vector<Job> jobs;
  for (const std::string& yaml : yamls) {
    LoadedJobs loaded = LoadJobFromString(yaml, "test.yaml", JobLoaderOptions());
    EXPECT_TRUE(loaded.errors.empty()) << loaded.errors.front().ToString();
    for (Job& job : loaded.jobs) jobs.push_back(std::move(job));
  }
  return jobs;
}

// Room for both of the test's runs at once: a trigger right after a run's end could otherwise
// meet the scheduler before it has counted that end (and be refused by overlap skip).
constexpr const char* kOk = R"(
id: ok
max_concurrency: 5
tasks:
  - id: a
    type: noop
  - id: b
    type: noop
    depends_on: [a]
)";

// Fails its first attempt, and its retry succeeds.
constexpr const char* kFlaky = R"(
id: flaky
tasks:
  - id: t
    type: fail
    params: {times: 1}
    retry: {max_attempts: 1, delay_secs: 0}
)";

// Fails without a retry; its downstream task is upstream_failed (counted as skipped).
constexpr const char* kBroken = R"(
id: broken
max_concurrency: 5
tasks:
  - id: t
    type: fail
    params: {times: 100}
  - id: after
    type: noop
    depends_on: [t]
)";

// Every event of the daemon, for the test to wait on. Subscribed after the Metrics, so by the
// time it sees an event the metrics handler has counted it (one delivery thread, in
// subscription order).
class EventLog {
 public:
  explicit EventLog(EventBus& bus) : bus_(bus) {
    id_ = bus_.Subscribe([this](const Event& event) {
      std::lock_guard lock(mu_);
      events_.push_back(event);
      changed_.notify_all();
    });
  }
  ~EventLog() { bus_.Unsubscribe(id_); }

  // Waits until `count` events satisfy `match`; false after a minute (a failure, not a timing).
  bool WaitFor(size_t count, const std::function<bool(const Event&)>& match) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(60),
                             [&] { return CountLocked(match) >= count; });
  }
  bool WaitForRunsEnded(size_t count) {
    return WaitFor(count, [](const Event& e) { return e.type == EventType::kJobCompleted; });
  }
  std::vector<Event> Matching(const std::function<bool(const Event&)>& match) {
    std::lock_guard lock(mu_);
    std::vector<Event> found;
    for (const Event& event : events_) {
      if (match(event)) found.push_back(event);
    }
    return found;
  }

 private:
  size_t CountLocked(const std::function<bool(const Event&)>& match) const {
    size_t n = 0;
    for (const Event& event : events_) n += match(event) ? 1 : 0;
    return n;
  }

  EventBus& bus_;
  EventBus::HandlerId id_ = 0;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Event> events_;
};

// The samples of an exposition, by `name{labels}` exactly as written, and the metric names
// that have HELP and TYPE lines. Fails the test on a line that is neither a comment nor a sample.
struct Exposition {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
  std::vector<std::string> helps;

  std::optional<double> Get(const std::string& series) const {
    auto it = samples.find(series);
    if (it == samples.end()) return std::nullopt;
    return it->second;
  }
  size_t CountWithPrefix(const std::string& prefix) const {
    size_t n = 0;
    for (const auto& [key, value] : samples) n += key.starts_with(prefix) ? 1 : 0;
    return n;
  }
};

Exposition Parse(const std::string& text) {
  Exposition parsed;
  std::istringstream in(text);
  std::string line;
  EXPECT_TRUE(text.ends_with('\n'));
  while (std::getline(in, line)) {
    if (line.starts_with("# HELP ")) {
      parsed.helps.push_back(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      const size_t name_end = line.find(' ', 7);
      parsed.types[line.substr(7, name_end - 7)] = line.substr(name_end + 1);
      continue;
    }
    // The value follows the last space (a label value may hold spaces, a value never does).
    const size_t space = line.rfind(' ');
    if (space == std::string::npos || line.empty() || line[0] == '#') {
      ADD_FAILURE() << "not a sample line: " << line;
      continue;
    }
    const std::string value = line.substr(space + 1);
    double number = 0;
    if (value == "+Inf") {
      number = std::numeric_limits<double>::infinity();
    } else {
      size_t used = 0;
      number = std::stod(value, &used);
      EXPECT_EQ(used, value.size()) << line;
    }
    EXPECT_TRUE(parsed.samples.emplace(line.substr(0, space), number).second)
        << "series twice: " << line;
  }
  return parsed;
}

// `promtool check metrics` on `text`: its exit status and what it printed. The test fails,
// rather than skips, without promtool: scripts/dev installs it (Debian prometheus).
struct PromtoolResult {
  int exit_code = -1;
  std::string output;
};

std::string TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "petit-metrics-XXXXXX").string();
  EXPECT_NE(mkdtemp(pattern.data()), nullptr);
  return pattern;
}

// Runs promtool with `arguments` (shell words, already quoted) and stdin from `input_file`.
PromtoolResult RunPromtool(const std::string& arguments, const std::string& input_file = "") {
  PromtoolResult result;
  const std::string promtool = PETIT_PROMTOOL;
  if (promtool.empty() || promtool.ends_with("NOTFOUND") || access(promtool.c_str(), X_OK) != 0) {
    result.output = "promtool not found (CMake's find_program gave '" + promtool +
                    "'): install Debian's prometheus package (scripts/dev does) and reconfigure";
    return result;
  }
  std::string command = "'" + promtool + "' " + arguments;
  if (!input_file.empty()) command += " < '" + input_file + "'";
  command += " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    result.output = "popen failed";
    return result;
  }
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// `promtool check metrics` on `text`.
PromtoolResult Promtool(const std::string& text) {
  const std::filesystem::path dir = TempDir();
  std::ofstream(dir / "metrics.txt") << text;
  PromtoolResult result = RunPromtool("check metrics", (dir / "metrics.txt").string());
  std::filesystem::remove_all(dir);
  return result;
}

void ExpectPromtoolAccepts(const std::string& text) {
  const PromtoolResult result = Promtool(text);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "") << "promtool's lint found problems";
}

std::string Series(const std::string& name, const std::string& labels) {
  return name + "{" + labels + "}";
}

std::string JobLabel(const std::string& job) { return "job_id=\"" + job + "\""; }

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TEST(MetricsTextTest, LabelValuesEscapeBackslashQuoteAndNewlineOnly) {
  EXPECT_EQ(EscapeLabelValue("plain_id-1.2"), "plain_id-1.2");
  EXPECT_EQ(EscapeLabelValue(R"(a\b)"), R"(a\\b)");
  EXPECT_EQ(EscapeLabelValue(R"(say "hi")"), R"(say \"hi\")");
  EXPECT_EQ(EscapeLabelValue("two\nlines"), R"(two\nlines)");
  EXPECT_EQ(EscapeLabelValue("\\\"\n"), R"(\\\"\n)");
  EXPECT_EQ(EscapeLabelValue("tab\there"), "tab\there");  // the format escapes nothing else
  EXPECT_EQ(EscapeLabelValue("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(EscapeLabelValue(""), "");
  EXPECT_EQ(LabelPair("job_id", "a\"b"), R"(job_id="a\"b")");
  // HELP text escapes backslash and newline, not quotes.
  EXPECT_EQ(EscapeHelp("a \"b\" \\ c\nd"), R"(a "b" \\ c\nd)");
}

TEST(MetricsTextTest, EscapedLabelValuesPassPromtool) {
  // Job ids cannot hold these characters (ValidateName), but the version label and any future
  // label go through the same escaping.
  std::string text;
  metrics_text::AppendHeader(text, "petit_test_info", "gauge", "A help with \\ and\na newline.");
  for (const char* value : {"back\\slash", "quo\"te", "new\nline", "\\\"\n\\n", "caf\xc3\xa9"}) {
    metrics_text::AppendSample(text, "petit_test_info", LabelPair("value", value), uint64_t{1});
  }
  metrics_text::Buckets buckets({0.5, 1});
  metrics_text::Histogram histogram(buckets);
  histogram.Observe(0.5);  // on a bound: counts in that bound's bucket
  histogram.Observe(2);
  metrics_text::AppendHeader(text, "petit_test_seconds", "histogram", "A histogram.");
  histogram.Append(text, "petit_test_seconds", LabelPair("value", "x\"y"));
  ExpectPromtoolAccepts(text);
  const Exposition parsed = Parse(text);
  EXPECT_EQ(parsed.Get(R"(petit_test_info{value="quo\"te"})"), 1.0);
  EXPECT_EQ(parsed.Get(R"(petit_test_info{value="new\nline"})"), 1.0);
  EXPECT_EQ(parsed.Get(R"(petit_test_seconds_bucket{value="x\"y",le="0.5"})"), 1.0);
  EXPECT_EQ(parsed.Get(R"(petit_test_seconds_bucket{value="x\"y",le="1"})"), 1.0);
  EXPECT_EQ(parsed.Get(R"(petit_test_seconds_bucket{value="x\"y",le="+Inf"})"), 2.0);
  EXPECT_EQ(parsed.Get(R"(petit_test_seconds_sum{value="x\"y"})"), 2.5);
  EXPECT_EQ(parsed.Get(R"(petit_test_seconds_count{value="x\"y"})"), 2.0);
}

TEST(MetricsTextTest, ValuesAreIntegersWithoutFractionsAndFloatsRoundTrip) {
  auto format = [](double value) {
    std::string out;
    metrics_text::AppendValue(out, value);
    return out;
  };
  EXPECT_EQ(format(0), "0");
  EXPECT_EQ(format(3), "3");
  EXPECT_EQ(format(-2), "-2");
  EXPECT_EQ(format(1764646800), "1764646800");
  EXPECT_EQ(format(0.25), "0.25");
  EXPECT_EQ(std::stod(format(1764646800.123456)), 1764646800.123456);
  EXPECT_EQ(format(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format(std::numeric_limits<double>::quiet_NaN()), "NaN");
  std::string out;
  metrics_text::AppendValue(out, uint64_t{18446744073709551615u});
  EXPECT_EQ(out, "18446744073709551615");
}

// The alert rule the README shows, taken from the README: promtool accepts it, and on a daily
// job it fires once an occurrence has passed without a success for longer than its `for`, and
// not when the occurrence's run succeeds.
TEST(MetricsReadmeTest, TheAlertRuleFiresWhenAnOccurrencePassesWithoutASuccess) {
  std::ifstream readme(std::string(PETIT_SOURCE_DIR) + "/README.md");
  const std::string text((std::istreambuf_iterator<char>(readme)), {});
  const size_t section = text.find("\n### Metrics\n");
  ASSERT_NE(section, std::string::npos);
  const size_t begin = text.find("```yaml\n", section);
  ASSERT_NE(begin, std::string::npos);
  const size_t end = text.find("```\n", begin + 8);
  ASSERT_NE(end, std::string::npos);
  const std::string rules = text.substr(begin + 8, end - begin - 8);
  ASSERT_NE(rules.find("alert: PetitJobMissedItsSuccess"), std::string::npos) << rules;

  const std::filesystem::path dir = TempDir();
  std::ofstream(dir / "rules.yml") << rules;
  // One sample a minute (Prometheus forgets a series after 5 minutes without one). The job fires
  // daily at midnight; its day-0 run succeeded at 00:10. Day 1's occurrence fails in the first
  // case, and succeeds at 00:10 in the second.
  std::ofstream(dir / "test.yml") << "rule_files: ['" << (dir / "rules.yml").string() << R"(']
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'petit_job_last_success_timestamp_seconds{job_id="nightly_report"}'
        values: '600x2879'
      - series: 'petit_job_next_fire_timestamp_seconds{job_id="nightly_report"}'
        values: '86400x1439 172800x1439'
    alert_rule_test:
      - eval_time: 23h
        alertname: PetitJobMissedItsSuccess
        exp_alerts: []
      - eval_time: 25h
        alertname: PetitJobMissedItsSuccess
        exp_alerts: []
      - eval_time: 27h
        alertname: PetitJobMissedItsSuccess
        exp_alerts:
          - exp_labels: {job_id: nightly_report}
            exp_annotations:
              summary: "nightly_report: last success 1d 23h 50m 0s before its next fire"
  - interval: 1m
    input_series:
      - series: 'petit_job_last_success_timestamp_seconds{job_id="nightly_report"}'
        values: '600x1449 87000x1429'
      - series: 'petit_job_next_fire_timestamp_seconds{job_id="nightly_report"}'
        values: '86400x1439 172800x1439'
    alert_rule_test:
      - eval_time: 27h
        alertname: PetitJobMissedItsSuccess
        exp_alerts: []
)";
  const PromtoolResult checked = RunPromtool("check rules '" + (dir / "rules.yml").string() + "'");
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  const PromtoolResult tested = RunPromtool("test rules '" + (dir / "test.yml").string() + "'");
  EXPECT_EQ(tested.exit_code, 0) << tested.output;
  std::filesystem::remove_all(dir);
}

class MetricsDaemonTest : public ::testing::Test {
 protected:
  void Start(std::vector<Job> jobs, std::optional<std::string> config_path = std::nullopt) {
    Result<std::unique_ptr<Daemon>> daemon =
        Daemon::Start(MemoryHost(std::move(config_path)), std::move(jobs), log_);
    ASSERT_TRUE(daemon.ok()) << daemon.status().message();
    daemon_ = std::move(daemon).value();
    metrics_ = std::make_unique<Metrics>(*daemon_);
    events_ = std::make_unique<EventLog>(daemon_->events());
  }
  void TearDown() override {
    events_.reset();
    metrics_.reset();
    if (daemon_) daemon_->Stop(StopMode::kCancelRuns);
  }
  // Renders after every event published so far has been counted.
  Exposition Scrape() {
    daemon_->events().Flush();
    const std::string text = metrics_->Render();
    last_text_ = text;
    return Parse(text);
  }
  RunId Trigger(const std::string& job) {
    Result<RunId> run = daemon_->Trigger(JobId(job));
    EXPECT_TRUE(run.ok()) << run.status().message();
    return run.ok() ? *run : RunId();
  }

  DaemonLog log_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<EventLog> events_;
  std::string last_text_;
};

TEST_F(MetricsDaemonTest, CountsRunsTasksRetriesAndDurationsOfWhatTheRunsDid) {
  Start(Jobs({kOk, kFlaky, kBroken}));
  const double before = NowSeconds();
  Trigger("ok");
  Trigger("flaky");
  const RunId broken = Trigger("broken");
  Trigger("ok");
  ASSERT_TRUE(events_->WaitForRunsEnded(4));
  // The failed run again, inside the same run: trigger "retry".
  Result<PlannedRetry> retried = daemon_->Retry(broken, RetryRequest{}, /*dry_run=*/false);
  ASSERT_TRUE(retried.ok()) << retried.status().message();
  ASSERT_TRUE(events_->WaitForRunsEnded(5));
  const double after = NowSeconds();

  const Exposition m = Scrape();
  const std::string ok = JobLabel("ok");
  const std::string flaky = JobLabel("flaky");
  const std::string bad = JobLabel("broken");
  // Runs started, by trigger.
  EXPECT_EQ(m.Get(Series("petit_runs_started_total", ok + ",trigger=\"manual\"")), 2);
  EXPECT_EQ(m.Get(Series("petit_runs_started_total", flaky + ",trigger=\"manual\"")), 1);
  EXPECT_EQ(m.Get(Series("petit_runs_started_total", bad + ",trigger=\"manual\"")), 1);
  EXPECT_EQ(m.Get(Series("petit_runs_started_total", bad + ",trigger=\"retry\"")), 1);
  EXPECT_EQ(m.Get(Series("petit_runs_started_total", ok + ",trigger=\"schedule\"")), std::nullopt);
  // Runs finished, by status; succeeded and failed are there at 0 too.
  EXPECT_EQ(m.Get(Series("petit_runs_finished_total", ok + ",status=\"succeeded\"")), 2);
  EXPECT_EQ(m.Get(Series("petit_runs_finished_total", ok + ",status=\"failed\"")), 0);
  EXPECT_EQ(m.Get(Series("petit_runs_finished_total", flaky + ",status=\"succeeded\"")), 1);
  EXPECT_EQ(m.Get(Series("petit_runs_finished_total", bad + ",status=\"succeeded\"")), 0);
  EXPECT_EQ(m.Get(Series("petit_runs_finished_total", bad + ",status=\"failed\"")), 2);
  EXPECT_EQ(m.Get(Series("petit_runs_finished_total", bad + ",status=\"cancelled\"")),
            std::nullopt);
  // Tasks finished: ok's two tasks twice; flaky's one task once (its failed attempt was
  // retried, not finished); broken's t failed and `after` was upstream_failed, twice.
  EXPECT_EQ(m.Get(Series("petit_tasks_finished_total", ok + ",status=\"succeeded\"")), 4);
  EXPECT_EQ(m.Get(Series("petit_tasks_finished_total", ok + ",status=\"failed\"")), 0);
  EXPECT_EQ(m.Get(Series("petit_tasks_finished_total", flaky + ",status=\"succeeded\"")), 1);
  EXPECT_EQ(m.Get(Series("petit_tasks_finished_total", flaky + ",status=\"failed\"")), 0);
  EXPECT_EQ(m.Get(Series("petit_tasks_finished_total", bad + ",status=\"failed\"")), 2);
  EXPECT_EQ(m.Get(Series("petit_tasks_finished_total", bad + ",status=\"skipped\"")), 2);
  EXPECT_EQ(m.Get(Series("petit_task_retries_total", flaky)), 1);
  EXPECT_EQ(m.Get(Series("petit_task_retries_total", ok)), 0);
  EXPECT_EQ(m.Get(Series("petit_task_retries_total", bad)), 0);

  // Run durations: one observation per ended run, summing what the events say.
  EXPECT_EQ(m.Get(Series("petit_run_duration_seconds_count", ok)), 2);
  EXPECT_EQ(m.Get(Series("petit_run_duration_seconds_bucket", ok + ",le=\"+Inf\"")), 2);
  EXPECT_EQ(m.Get(Series("petit_run_duration_seconds_count", bad)), 2);
  double ok_run_seconds = 0;
  for (const Event& end : events_->Matching([](const Event& e) {
         return e.type == EventType::kJobCompleted && e.job.str() == "ok";
       })) {
    const std::vector<Event> start = events_->Matching(
        [&](const Event& e) { return e.type == EventType::kJobStarted && e.run == end.run; });
    ASSERT_EQ(start.size(), 1u);
    ok_run_seconds += static_cast<double>(end.time_us - start[0].time_us) / 1e6;
  }
  ASSERT_TRUE(m.Get(Series("petit_run_duration_seconds_sum", ok)).has_value());
  EXPECT_NEAR(*m.Get(Series("petit_run_duration_seconds_sum", ok)), ok_run_seconds, 1e-9);
  // Cumulative buckets never decrease and end at the count.
  double previous = 0;
  for (const char* le :
       {"0.1", "0.5", "2", "10", "30", "60", "300", "900", "3600", "14400", "+Inf"}) {
    const std::optional<double> bucket =
        m.Get(Series("petit_run_duration_seconds_bucket", ok + ",le=\"" + le + "\""));
    ASSERT_TRUE(bucket.has_value()) << le;
    EXPECT_GE(*bucket, previous) << le;
    previous = *bucket;
  }

  // Task durations per attempt that ran, by task type: ok's 4 noops, flaky's 2 fail attempts,
  // broken's 2 (first run and retry); never-run tasks have none.
  EXPECT_EQ(m.Get(Series("petit_task_duration_seconds_count", ok + ",task_type=\"noop\"")), 4);
  EXPECT_EQ(m.Get(Series("petit_task_duration_seconds_count", flaky + ",task_type=\"fail\"")), 2);
  EXPECT_EQ(m.Get(Series("petit_task_duration_seconds_count", bad + ",task_type=\"fail\"")), 2);
  EXPECT_EQ(m.Get(Series("petit_task_duration_seconds_count", bad + ",task_type=\"noop\"")),
            std::nullopt);
  // Queue waits: one per attempt started (4 + 2 + 2).
  EXPECT_EQ(m.Get("petit_task_queue_wait_seconds_count"), 8);
  EXPECT_EQ(m.Get("petit_task_queue_wait_seconds_bucket{le=\"+Inf\"}"), 8);

  // Last success: ok and flaky succeeded between `before` and `after`; broken never did.
  for (const std::string& job : {ok, flaky}) {
    const std::optional<double> last =
        m.Get(Series("petit_job_last_success_timestamp_seconds", job));
    ASSERT_TRUE(last.has_value()) << job;
    EXPECT_GE(*last, before - 1e-3);
    EXPECT_LE(*last, after + 1e-3);
  }
  EXPECT_EQ(m.Get(Series("petit_job_last_success_timestamp_seconds", bad)), std::nullopt);

  // Gauges read at scrape time (active runs: in the pool test, where a run is known to be on).
  EXPECT_EQ(m.Get("petit_scheduler_paused"), 0);
  EXPECT_EQ(m.Get("petit_store_up"), 1);
  EXPECT_EQ(m.Get("petit_store_pending_writes"), 0);
  EXPECT_EQ(m.Get("petit_events_dropped_total"), 0);
  EXPECT_EQ(m.CountWithPrefix("petit_build_info{version=\""), 1u);
  for (const std::string& job : {ok, flaky, bad}) {
    EXPECT_EQ(m.Get(Series("petit_job_paused", job)), 0) << job;
    // None has a schedule.
    EXPECT_EQ(m.Get(Series("petit_job_next_fire_timestamp_seconds", job)), std::nullopt) << job;
  }
  ASSERT_TRUE(daemon_->SetPaused(JobId("ok"), true).ok());
  ASSERT_TRUE(daemon_->PauseScheduler().ok());
  const Exposition paused = Scrape();
  EXPECT_EQ(paused.Get(Series("petit_job_paused", ok)), 1);
  EXPECT_EQ(paused.Get(Series("petit_job_paused", flaky)), 0);
  EXPECT_EQ(paused.Get("petit_scheduler_paused"), 1);

  // Every family has HELP and TYPE, counters end in _total and nothing else does.
  for (const auto& [name, type] : paused.types) {
    EXPECT_EQ(type == "counter", name.ends_with("_total")) << name << " " << type;
    EXPECT_NE(std::find(paused.helps.begin(), paused.helps.end(), name), paused.helps.end())
        << name;
  }
  ExpectPromtoolAccepts(last_text_);
}

// Whatever an event carries, labels stay within their lists: an unknown trigger counts as
// "other", an unknown status is not counted, a job the daemon does not have (one a reload
// removed while its run went on) makes no series, and a task type is the job's definition's.
TEST_F(MetricsDaemonTest, UnexpectedEventValuesAddNoLabelValues) {
  Start(Jobs({kOk}));
  const RunId run = RunId::Generate();
  EventBus& bus = daemon_->events();
  bus.Publish(Event{.type = EventType::kJobStarted,
                    .time_us = 1'000'000,
                    .job = JobId("ok"),
                    .run = run,
                    .trigger = "a trigger nobody knows"});
  bus.Publish(Event{.type = EventType::kTaskStarted,
                    .time_us = 1'000'000,
                    .job = JobId("ok"),
                    .run = run,
                    .task = TaskId("not_in_the_job"),
                    .attempt = 1});
  bus.Publish(Event{.type = EventType::kTaskFailed,
                    .time_us = 3'000'000,
                    .job = JobId("ok"),
                    .run = run,
                    .task = TaskId("not_in_the_job"),
                    .attempt = 1});
  bus.Publish(Event{.type = EventType::kJobCompleted,
                    .time_us = 4'000'000,
                    .job = JobId("ok"),
                    .run = run,
                    .detail = "exploded"});
  for (EventType type :
       {EventType::kJobStarted, EventType::kTaskQueued, EventType::kTaskStarted,
        EventType::kTaskSucceeded, EventType::kJobCompleted, EventType::kTriggerRefused}) {
    bus.Publish(Event{.type = type,
                      .time_us = 1'000'000,
                      .job = JobId("ghost"),
                      .run = RunId::Generate(),
                      .task = TaskId("t"),
                      .attempt = 1,
                      .detail = "succeeded"});
  }
  // A schedule fire without a nominal time (a manual trigger's) is no delay.
  bus.Publish(Event{.type = EventType::kScheduleFired,
                    .time_us = 1'000'000,
                    .job = JobId("ok"),
                    .run = RunId::Generate(),
                    .trigger = "schedule"});
  const Exposition m = Scrape();
  const std::string ok = JobLabel("ok");
  EXPECT_EQ(m.Get(Series("petit_runs_started_total", ok + ",trigger=\"other\"")), 1);
  EXPECT_EQ(m.CountWithPrefix("petit_runs_started_total{"), 1u);
  EXPECT_EQ(m.Get(Series("petit_runs_finished_total", ok + ",status=\"succeeded\"")), 0);
  EXPECT_EQ(m.Get(Series("petit_runs_finished_total", ok + ",status=\"failed\"")), 0);
  EXPECT_EQ(m.CountWithPrefix("petit_runs_finished_total{"), 2u);
  EXPECT_EQ(m.Get(Series("petit_run_duration_seconds_sum", ok)), 3);
  EXPECT_EQ(m.Get(Series("petit_task_duration_seconds_sum", ok + ",task_type=\"unknown\"")), 2);
  EXPECT_EQ(m.Get("petit_schedule_delay_seconds_count"), 0);
  for (const auto& [series, value] : m.samples) {
    EXPECT_EQ(series.find("ghost"), std::string::npos) << series;
  }
  ExpectPromtoolAccepts(last_text_);
}

TEST_F(MetricsDaemonTest, ProcessMetricsDescribeThisProcess) {
  Start(Jobs({kOk}));
  const Exposition m = Scrape();
  const double now = NowSeconds();
  ASSERT_TRUE(m.Get("process_start_time_seconds").has_value());
  EXPECT_LE(*m.Get("process_start_time_seconds"), now + 1);
  EXPECT_GT(*m.Get("process_start_time_seconds"), now - 24 * 3600);  // this test's process
  ASSERT_TRUE(m.Get("process_open_fds").has_value());
  ASSERT_TRUE(m.Get("process_max_fds").has_value());
  EXPECT_GE(*m.Get("process_open_fds"), 3);
  EXPECT_LE(*m.Get("process_open_fds"), *m.Get("process_max_fds"));
  ASSERT_TRUE(m.Get("process_resident_memory_bytes").has_value());
  ASSERT_TRUE(m.Get("process_virtual_memory_bytes").has_value());
  EXPECT_GT(*m.Get("process_resident_memory_bytes"), 1 << 20);
  EXPECT_GE(*m.Get("process_virtual_memory_bytes"), *m.Get("process_resident_memory_bytes"));
  ASSERT_TRUE(m.Get("process_cpu_seconds_total").has_value());
  EXPECT_GT(*m.Get("process_cpu_seconds_total"), 0);
  EXPECT_EQ(m.types.at("process_cpu_seconds_total"), "counter");
}

TEST_F(MetricsDaemonTest, ScheduleDelayIsActualMinusNominalFireTimeAndNextFireIsExported) {
  constexpr const char* kEverySecond = R"(
id: tick
schedule: "* * * * * *"
tasks:
  - id: t
    type: noop
)";
  Start(Jobs({kEverySecond, kOk}));
  // Real time: the first fire comes within a second.
  ASSERT_TRUE(
      events_->WaitFor(1, [](const Event& e) { return e.type == EventType::kScheduleFired; }));
  const Exposition running = Scrape();
  const std::optional<double> next =
      running.Get(Series("petit_job_next_fire_timestamp_seconds", JobLabel("tick")));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, std::floor(*next)) << "a whole second";
  EXPECT_GT(*next, NowSeconds() - 2);
  EXPECT_LE(*next, NowSeconds() + 2);
  EXPECT_EQ(running.Get(Series("petit_job_next_fire_timestamp_seconds", JobLabel("ok"))),
            std::nullopt);

  // No more fires (Stop returns once the scheduler has announced its last), then every fire seen
  // must be in the histogram with its own delay.
  daemon_->Stop(StopMode::kWaitForRuns);
  const Exposition m = Scrape();
  const std::vector<Event> fired = events_->Matching([](const Event& e) {
    return e.type == EventType::kScheduleFired && e.trigger == "schedule";
  });
  ASSERT_GE(fired.size(), 1u);
  double delays = 0;
  for (const Event& event : fired) {
    EXPECT_EQ(event.occurrence_us % 1000000, 0) << "a nominal time is a whole second";
    EXPECT_GE(event.time_us, event.occurrence_us);
    delays += static_cast<double>(event.time_us - event.occurrence_us) / 1e6;
  }
  EXPECT_EQ(m.Get("petit_schedule_delay_seconds_count"), static_cast<double>(fired.size()));
  ASSERT_TRUE(m.Get("petit_schedule_delay_seconds_sum").has_value());
  EXPECT_NEAR(*m.Get("petit_schedule_delay_seconds_sum"), delays, 1e-9);
  EXPECT_EQ(m.Get(Series("petit_job_next_fire_timestamp_seconds", JobLabel("tick"))), std::nullopt)
      << "a stopped daemon fires nothing next";
  EXPECT_GE(*m.Get(Series("petit_runs_started_total", JobLabel("tick") + ",trigger=\"schedule\"")),
            1);
  ExpectPromtoolAccepts(last_text_);
}

TEST_F(MetricsDaemonTest, PoolSlotsShowWhatRunningTasksHold) {
  const std::filesystem::path dir = TempDir();
  std::ofstream(dir / "petit.yaml") << "pools: {gpu: 2, db: 1}\n";
  constexpr const char* kHolds = R"(
id: holds
tasks:
  - id: long
    type: sleep
    params: {ms: 600000}
    resources: {gpu: 1}
)";
  Start(Jobs({kHolds}), (dir / "petit.yaml").string());
  const Exposition idle = Scrape();
  EXPECT_EQ(idle.Get(R"(petit_pool_slots{pool="gpu",state="used"})"), 0);
  EXPECT_EQ(idle.Get(R"(petit_pool_slots{pool="gpu",state="free"})"), 2);
  EXPECT_EQ(idle.Get(R"(petit_pool_slots{pool="db",state="free"})"), 1);
  EXPECT_EQ(idle.Get(R"(petit_pool_waiting_tasks{pool="gpu"})"), 0);

  const RunId run = Trigger("holds");
  ASSERT_TRUE(
      events_->WaitFor(1, [](const Event& e) { return e.type == EventType::kTaskStarted; }));
  const Exposition busy = Scrape();
  EXPECT_EQ(busy.Get(R"(petit_pool_slots{pool="gpu",state="used"})"), 1);
  EXPECT_EQ(busy.Get(R"(petit_pool_slots{pool="gpu",state="free"})"), 1);
  EXPECT_EQ(busy.Get(R"(petit_pool_slots{pool="db",state="used"})"), 0);
  EXPECT_EQ(busy.Get("petit_active_runs"), 1);
  ExpectPromtoolAccepts(last_text_);

  ASSERT_TRUE(daemon_->Cancel(run).ok());
  ASSERT_TRUE(events_->WaitForRunsEnded(1));
  const Exposition ended = Scrape();
  EXPECT_EQ(ended.Get(R"(petit_pool_slots{pool="gpu",state="used"})"), 0);
  EXPECT_EQ(
      ended.Get(Series("petit_runs_finished_total", JobLabel("holds") + ",status=\"cancelled\"")),
      1);
  EXPECT_EQ(
      ended.Get(Series("petit_tasks_finished_total", JobLabel("holds") + ",status=\"cancelled\"")),
      1);
  daemon_->Stop(StopMode::kWaitForRuns);  // returns once the scheduler has counted every end
  EXPECT_EQ(Scrape().Get("petit_active_runs"), 0);
  std::filesystem::remove_all(dir);
}

TEST_F(MetricsDaemonTest, LastSuccessIsSeededFromTheStoreAndRemovedJobsLoseTheirSeries) {
  const std::filesystem::path dir = TempDir();
  // Room for several runs of a: a trigger right after a run's end must not meet overlap skip.
  std::ofstream(dir / "a.yaml") << "id: a\nmax_concurrency: 5\ntasks:\n  - id: t\n    type: noop\n";
  std::ofstream(dir / "b.yaml") << "id: b\ntasks:\n  - id: t\n    type: noop\n";
  std::unique_ptr<HostEnv> env = MemoryHost();
  ASSERT_NE(env, nullptr);
  LoadedJobs loaded = LoadHostJobs(*env, dir.string());
  ASSERT_TRUE(loaded.errors.empty());
  Result<std::unique_ptr<Daemon>> daemon =
      Daemon::Start(std::move(env), std::move(loaded.jobs), log_);
  ASSERT_TRUE(daemon.ok()) << daemon.status().message();
  daemon_ = std::move(daemon).value();

  // A run that ends before the metrics exist: its success comes from the store.
  {
    EventLog before(daemon_->events());
    const RunId run = Trigger("a");
    ASSERT_TRUE(before.WaitForRunsEnded(1));
    Result<std::optional<RunRecord>> record = daemon_->GetRun(run);
    ASSERT_TRUE(record.ok() && record->has_value());
    metrics_ = std::make_unique<Metrics>(*daemon_);
    events_ = std::make_unique<EventLog>(daemon_->events());
    const Exposition seeded = Scrape();
    EXPECT_EQ(seeded.Get(Series("petit_job_last_success_timestamp_seconds", JobLabel("a"))),
              static_cast<double>((*record)->ended_us) / 1e6);
    EXPECT_EQ(seeded.Get(Series("petit_job_last_success_timestamp_seconds", JobLabel("b"))),
              std::nullopt);
  }
  Trigger("a");
  Trigger("b");
  ASSERT_TRUE(events_->WaitForRunsEnded(2));
  const Exposition both = Scrape();
  EXPECT_EQ(both.Get(Series("petit_runs_finished_total", JobLabel("b") + ",status=\"succeeded\"")),
            1);

  // Reload: b is gone, c is new (and seeded: it has no run), a's task changes type.
  std::filesystem::remove(dir / "b.yaml");
  std::ofstream(dir / "a.yaml") << "id: a\nmax_concurrency: 5\ntasks:\n  - id: t\n    type: fail\n"
                                   "    params: {times: 100}\n";
  std::ofstream(dir / "c.yaml") << "id: c\ntasks:\n  - id: t\n    type: noop\n";
  HostOptions host;
  host.jobs_dir = dir.string();
  Result<ReloadSummary> summary = daemon_->Reload(host);
  ASSERT_TRUE(summary.ok()) << summary.status().message();
  const Exposition reloaded = Scrape();
  for (const auto& [series, value] : reloaded.samples) {
    EXPECT_EQ(series.find(JobLabel("b")), std::string::npos) << series;
  }
  EXPECT_EQ(reloaded.Get(Series("petit_job_paused", JobLabel("c"))), 0);
  EXPECT_EQ(
      reloaded.Get(Series("petit_runs_finished_total", JobLabel("c") + ",status=\"succeeded\"")),
      0);
  EXPECT_TRUE(
      reloaded.Get(Series("petit_job_last_success_timestamp_seconds", JobLabel("a"))).has_value());
  // A job added by the reload counts its runs from its first event, scrape or not; a changed job
  // keeps its counts and finds its tasks' new types.
  Trigger("c");
  Trigger("a");
  ASSERT_TRUE(events_->WaitForRunsEnded(4));
  const Exposition after = Scrape();
  EXPECT_EQ(after.Get(Series("petit_runs_started_total", JobLabel("c") + ",trigger=\"manual\"")),
            1);
  const std::string a = JobLabel("a");
  EXPECT_EQ(after.Get(Series("petit_runs_finished_total", a + ",status=\"succeeded\"")), 1);
  EXPECT_EQ(after.Get(Series("petit_runs_finished_total", a + ",status=\"failed\"")), 1);
  EXPECT_EQ(after.Get(Series("petit_task_duration_seconds_count", a + ",task_type=\"noop\"")), 1);
  EXPECT_EQ(after.Get(Series("petit_task_duration_seconds_count", a + ",task_type=\"fail\"")), 1);
  ExpectPromtoolAccepts(last_text_);
  std::filesystem::remove_all(dir);
}

TEST_F(MetricsDaemonTest, TheRouteServesTheTextFormatToReaders) {
  Start(Jobs({kOk}));
  std::vector<Route> routes = MetricsRoutes(*metrics_);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].method, "GET");
  EXPECT_EQ(routes[0].pattern, "/metrics");
  EXPECT_EQ(routes[0].access, Access::kRead);
  ApiRequest request;
  request.method = "GET";
  request.path = "/metrics";
  const ApiResponse response = routes[0].handler(request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_FALSE(response.stream);
  const Exposition m = Parse(response.body);
  EXPECT_EQ(m.Get(Series("petit_job_paused", JobLabel("ok"))), 0);
  ExpectPromtoolAccepts(response.body);
}

TEST_F(MetricsDaemonTest, AThousandJobsPassPromtoolWithOneSeriesSetEach) {
  constexpr int kJobs = 1000;
  std::vector<std::string> yamls;
  for (int i = 0; i < kJobs; ++i) {
    yamls.push_back("id: job_" + std::to_string(i) +
                    "\nschedule: \"0 3 * * *\"\ntasks:\n  - id: a\n    type: noop\n"
                    "  - id: b\n    type: noop\n    depends_on: [a]\n");
  }
  Start(Jobs(yamls));
  for (int i = 0; i < kJobs; i += 10) Trigger("job_" + std::to_string(i));
  ASSERT_TRUE(events_->WaitForRunsEnded(kJobs / 10));
  const Exposition m = Scrape();
  EXPECT_EQ(m.CountWithPrefix("petit_job_paused{"), static_cast<size_t>(kJobs));
  EXPECT_EQ(m.CountWithPrefix("petit_job_next_fire_timestamp_seconds{"),
            static_cast<size_t>(kJobs));
  EXPECT_EQ(m.CountWithPrefix("petit_job_last_success_timestamp_seconds{"),
            static_cast<size_t>(kJobs / 10));
  EXPECT_EQ(m.CountWithPrefix("petit_run_duration_seconds_count{"),
            static_cast<size_t>(kJobs / 10));
  EXPECT_EQ(
      m.Get(Series("petit_runs_finished_total", JobLabel("job_990") + ",status=\"succeeded\"")), 1);
  EXPECT_EQ(
      m.Get(Series("petit_runs_finished_total", JobLabel("job_991") + ",status=\"succeeded\"")), 0);
  ExpectPromtoolAccepts(last_text_);
}

}  // namespace
}  // namespace petit::host

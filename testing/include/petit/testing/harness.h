// petit/testing/harness.h: run jobs in a test, on a virtual clock, with the real engine.
//
// A TestHarness loads jobs from YAML (a string or a directory) through the same loader `petit`
// uses (the host's config/job_loader: the harness depends on the host's config loader on purpose,
// so a job behaves here exactly as it does under `petit run`), or from a JobBuilder. It runs them
// with the engine itself (core's Scheduler and ExecuteRun) on an in-memory state store and a
// virtual clock (core's ManualClock) that only the test moves:
//
//   petit::testing::TestHarness harness({.start_us = petit::testing::UtcMicros(2026, 11, 1)});
//   ASSERT_TRUE(harness.LoadYaml(R"(
//     id: nightly
//     schedule: {cron: "0 30 1 * * *", timezone: America/New_York}
//     tasks: [{id: a, type: command, command: "true"}]
//   )").ok());
//   harness.StandIn("command", [](const TaskCall&) { return TaskReply::Success(); });
//   harness.AdvanceBy(std::chrono::hours(48));
//   EXPECT_EQ(harness.timeline().FireTimes("nightly").size(), 2u);
//
// Virtual time: AdvanceTo(t) moves the clock to t through every intermediate due time (a schedule
// occurrence, a retry delay, an attempt's timeout, the end of a stand-in's virtual duration),
// letting the engine react to each before moving on, so hours of schedule take microseconds of
// real time. Between two moves the harness waits until the system is quiescent: the scheduler
// thread waits for its next fire time with nothing to do, and every active run's coordinator
// waits for its next timer with only stand-in attempts (blocked on virtual time) in flight. That
// state is reported by hooks of the engine (core's Scheduler::IdleUntil and RunOptions::on_idle),
// never guessed with sleeps. An attempt of a real plugin runs for real and is waited for.
//
// Task types: a stand-in (StandIn) is a function that answers for every task of a type: it gets
// the task's parameters, inputs and config (TaskCall) and says what the attempt does (TaskReply:
// outcome, exit code, outputs, virtual duration, hang until cancelled). Nothing is spawned. Or
// HarnessOptions::plugin_dirs loads real plugins with the host's plugin loader. A type neither
// stands in for nor loaded succeeds at once (HarnessOptions::succeed_unknown_types) or is an
// error at Load.
//
// Failure injection (FailAttempt, TimeOutAttempt, ExitCode, Duration) overrides what a task's
// stand-in says, per job and task (an empty job matches every job).
//
// OWNERSHIP: the harness owns its clock, store, scheduler, runs and loaded plugins; stand-ins are
// copied in. Destroying it cancels the runs still active.
// THREADS: a TestHarness is used from one thread (the test's). Stand-ins are called on the
// engine's worker threads, possibly several at once: they must be thread-safe (a stateless lambda
// or FailingTask is). A stand-in must return: one that blocks holds the harness, which names it
// after HarnessOptions::stall_report_after of real time (on_stall is called on the test's thread,
// with the harness's lock held: it may release the stand-in, not call the harness).
#ifndef PETIT_TESTING_HARNESS_H_
#define PETIT_TESTING_HARNESS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "petit/plugin_status.hpp"
#include "petit/testing/timeline.h"

namespace petit::testing {

using Status = ::petit::sdk::Status;
template <typename T>
using Result = ::petit::sdk::Result<T>;

// What a stand-in is told about the attempt it answers for.
struct TaskCall {
  std::string job{};
  std::string run{};
  std::string task{};
  std::string type{};
  uint32_t attempt = 1;       // 1-based
  std::string params_json{};  // the task's parameters, templates expanded
  // Outputs of the run's succeeded upstream tasks, "<task>.<key>" -> value.
  std::map<std::string, std::string> inputs{};
  std::map<std::string, std::string> config{};  // the job's config values, as text
  int64_t now_us = 0;                           // the virtual time the attempt starts
  std::chrono::milliseconds timeout{0};         // 0 = none
};

// What an attempt does, as a stand-in (or an injected fault) says.
struct TaskReply {
  enum class Outcome : uint8_t {
    kSucceeded,
    kFailed,            // retried per the task's retry policy
    kTransientFailure,  // retried also under `condition: transient_only`
    kInvalidParams,     // never retried
  };
  Outcome outcome = Outcome::kSucceeded;
  std::optional<int32_t> exit_code{};
  std::string error{};
  std::map<std::string, std::string> outputs{};  // un-namespaced keys
  std::string stdout_data{};
  std::string stderr_data{};
  // Virtual time the attempt takes before it returns (the harness's clock must reach it).
  std::chrono::microseconds duration{0};
  // The attempt runs until cancelled or until its timeout (then it has timed out); `duration`
  // and `outcome` are ignored.
  bool hang = false;

  static TaskReply Success(std::map<std::string, std::string> outputs = {});
  static TaskReply Failure(std::string error = "failed", std::optional<int32_t> exit_code = 1);
  static TaskReply Exit(int32_t exit_code);  // succeeds with 0, fails otherwise
  static TaskReply Hang();
  // This reply, taking `d` of virtual time.
  TaskReply& Taking(std::chrono::microseconds d) {
    duration = d;
    return *this;
  }
};

using StandInFn = std::function<TaskReply(const TaskCall&)>;

// A stand-in that fails its first `failures` attempts (of every run) and then succeeds, so a
// retry policy can be checked. Copyable and thread-safe (it reads only TaskCall::attempt).
class FailingTask {
 public:
  explicit FailingTask(uint32_t failures, int32_t exit_code = 1,
                       std::chrono::microseconds duration = std::chrono::microseconds(0))
      : failures_(failures), exit_code_(exit_code), duration_(duration) {}
  TaskReply operator()(const TaskCall& call) const;
  uint32_t failures() const { return failures_; }

 private:
  uint32_t failures_;
  int32_t exit_code_;
  std::chrono::microseconds duration_{};
};

// Builds a job in code. It is written out as job YAML and loaded through the real loader, so a
// job built here is checked exactly as a file would be.
class JobBuilder {
 public:
  explicit JobBuilder(std::string id) : id_(std::move(id)) {}

  JobBuilder& Schedule(std::string cron, std::string time_zone = {});
  JobBuilder& CatchUp(std::string policy, uint32_t limit = 0);  // "none", "latest", "all"
  JobBuilder& Overlap(std::string policy);  // "skip", "queue", "cancel_previous"
  JobBuilder& MaxActiveRuns(uint32_t runs);
  JobBuilder& DependsOnJob(std::string job, std::string condition = "last_success");
  JobBuilder& Config(std::string key, std::string value);

  struct Task {
    std::string id{};
    std::string type = "command";
    // Parameters: for `command`, {"command": "..."}; for other types, written under `params`.
    std::map<std::string, std::string> params{};
    std::vector<std::string> depends_on{};
    std::string condition{};    // trigger rule: all_success, on_failure, all_done, always
    uint32_t max_attempts = 0;  // 0 = no retry block
    double delay_secs = 0;
    double backoff_multiplier = 0;  // 0 = fixed delay
    double max_delay_secs = 0;
    uint32_t timeout_secs = 0;
  };
  JobBuilder& AddTask(Task task);
  // A command task with `command` and the given upstreams.
  JobBuilder& Command(std::string id, std::string command,
                      std::vector<std::string> depends_on = {});

  // The job file this builder stands for.
  std::string Yaml() const;

 private:
  std::string id_{};
  std::string cron_{};
  std::string time_zone_{};
  std::string catch_up_{};
  uint32_t catch_up_limit_ = 0;
  std::string overlap_{};
  std::optional<uint32_t> max_active_runs_{};
  std::vector<std::pair<std::string, std::string>> depends_on_{};
  std::vector<std::pair<std::string, std::string>> config_{};
  std::vector<Task> tasks_{};
};

struct HarnessOptions {
  int64_t start_us = 0;  // where the virtual clock starts (epoch µs)
  // The zone of schedules that name none (petit.yaml's `timezone`).
  std::string default_time_zone = "UTC";
  // Load the real plugins of these directories (as `petit run --plugin-dir`); stand-ins replace
  // their types where both exist.
  std::vector<std::string> plugin_dirs{};
  // A task type with neither stand-in nor plugin succeeds at once; false: Load* refuses the job.
  bool succeed_unknown_types = true;
  uint32_t max_parallel_tasks = 4;  // attempts in flight per run
  // Resource pools tasks may ask for (petit.yaml's `pools`, `cpu_slots`, `memory_mb`), shared by
  // every run; 0 = not tracked. A task asking for what these can never grant fails its run.
  std::map<std::string, uint32_t> pools{};
  uint32_t cpu_slots = 0;
  uint64_t memory_mb = 0;
  // A stand-in or real plugin that takes real time (blocks) holds the harness, which waits for
  // it. When nothing happens for this long, the harness says what it waits for (the job, task,
  // attempt and type) through on_stall, or on stderr when on_stall is empty, once per stall, and
  // goes on waiting; 0 = never.
  std::chrono::milliseconds stall_report_after{30'000};
  std::function<void(const std::string&)> on_stall{};
};

class TestHarness {
 public:
  explicit TestHarness(HarnessOptions options = {});
  ~TestHarness();
  TestHarness(const TestHarness&) = delete;
  TestHarness& operator=(const TestHarness&) = delete;

  // Jobs: added before or after Start (after: the scheduler takes the new set at once, as a
  // reload does). Errors are the loader's, one per line, naming file, line and key.
  Status LoadYaml(std::string_view yaml, std::string_view file_name = "job.yaml");
  Status LoadDirectory(const std::string& dir);
  Status Add(const JobBuilder& job);
  std::vector<std::string> JobIds() const;

  // Task types.
  void StandIn(std::string type, StandInFn stand_in);
  // Failure injection for `task` of `job` (empty job: any job), overriding its stand-in.
  // Attempt `attempt` fails (exit code `exit_code`).
  void FailAttempt(std::string job, std::string task, uint32_t attempt, int32_t exit_code = 1,
                   std::string error = "injected failure");
  // Attempt `attempt` hangs until its timeout (or cancel).
  void TimeOutAttempt(std::string job, std::string task, uint32_t attempt);
  // Every attempt (or only `attempt`, when not 0) returns exit code `code`: 0 succeeds.
  void ExitCode(std::string job, std::string task, int32_t code, uint32_t attempt = 0);
  // Every attempt takes `duration` of virtual time.
  void Duration(std::string job, std::string task, std::chrono::microseconds duration);

  // Starts the scheduler (catch-up of missed occurrences happens here, as at `petit run`), or
  // fails naming the plugins that did not load. Called implicitly by the first Advance*, Trigger,
  // Pause or Settle (unless Stop() was called).
  Status Start();
  // Stops the scheduler, cancelling active runs: the host going down. Advance* then moves the
  // clock with nothing running (the downtime) until Start() brings the host back, which catches
  // up what the downtime missed per each job's catch_up policy.
  void Stop();
  bool running() const;

  // Runs `job` now (trigger "manual"), through admission; the run id.
  Result<std::string> Trigger(std::string_view job);
  Status Pause(std::string_view job, bool paused = true);

  // Moves the virtual clock to `t` through every due time before it, and waits until the system
  // is quiescent at `t`. The clock never moves backwards: a `t` before Now() only waits.
  void AdvanceTo(int64_t t_us);
  void AdvanceBy(std::chrono::microseconds d);
  // Moves through due times until no run is active (at most `limit` of virtual time); false if
  // runs were still active at the limit.
  bool RunUntilIdle(std::chrono::microseconds limit = std::chrono::hours(24 * 366));
  // Waits until quiescent without moving the clock.
  void Settle();

  int64_t Now() const;
  // The earliest time something is due (a fire, retry, timeout, stand-in end); nullopt if none.
  std::optional<int64_t> NextDueTime();
  // The next fire time of `job`'s schedule, nullopt if none.
  std::optional<int64_t> NextFire(std::string_view job) const;
  size_t active_runs() const;

  // What happened so far (waits for the engine's events to be delivered).
  Timeline timeline();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_{};
};

}  // namespace petit::testing

#endif  // PETIT_TESTING_HARNESS_H_

// The integration suite (label `integration`): what a user does with Petit, end to end, with the
// real `petit` binary and the real plugins, each test on SQLite and on PostgreSQL (the server named
// by PETIT_TEST_POSTGRES_URI; without it the PostgreSQL cases fail, or skip under
// PETIT_TEST_ALLOW_NO_POSTGRES=1, as every PostgreSQL test does):
//
//   - a complete workflow: YAML, `petit validate`, `petit trigger`, outputs passed downstream
//     through `${{ }}`, the results and captured logs read back through `petit runs` and `petit
//     logs` and the store;
//   - recovery: `petit run` killed with SIGKILL while its runs' tasks run, restarted; every run
//   ends
//     as documented and nothing stays running;
//   - resource contention: two runs of many tasks on a pool of two never hold more than two and
//     all finish;
//   - a DAG mixing every trigger rule, each task ending in the state the rules give it;
//   - a chain of job dependencies (b on a, c on b) firing in order, and a job whose dependency
//     failed not firing;
//   - plugin tasks that throw (in the host's process), crash their worker process (SIGSEGV under
//     process isolation) and hang until `petit cancel`: the run ends with the right states and the
//     daemon carries on;
//   - every job of examples/ validates and runs to the result its comments promise.
//
// Nothing sleeps: tests wait for the daemon's log lines, for a FIFO a task writes to, or for a
// process to exit, each within a patience that only a broken build reaches. (Tasks themselves
// sleep briefly where the work must take time for tasks to overlap.)
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/api_any_port.h"
#include "integration/daemon_process.h"
#include "integration/petit_process.h"
#include "integration/store_backends.h"
#include "petit/core/state_store.h"
#include "petit/storage/open.h"

namespace petit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Outcome;
using testing::ShellQuote;

constexpr int kPatienceMs = 60'000;
constexpr char kListening[] = "api listening on http://127.0.0.1:";
// A PostgreSQL advisory lock is released when the server notices its killed holder's connection,
// a moment after the kill: a daemon started before then exits 3, and is started again.
constexpr int kMaxLockRefusals = 200;

using testing::Backend;

// A FIFO the test holds open read-write, so a task's write never blocks and never sees a hang-up;
// tasks write one line each when they reach the point the test waits for.
class Fifo {
 public:
  explicit Fifo(const fs::path& path) : path_(path) {
    if (mkfifo(path.c_str(), 0600) != 0) {
      ADD_FAILURE() << "mkfifo " << path << ": " << std::strerror(errno);
      return;
    }
    fd_ = open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) ADD_FAILURE() << "open " << path << ": " << std::strerror(errno);
  }
  ~Fifo() {
    if (fd_ >= 0) close(fd_);
  }
  Fifo(const Fifo&) = delete;
  Fifo& operator=(const Fifo&) = delete;

  const fs::path& path() const { return path_; }

  // The next line written; nullopt when none comes within the patience.
  std::optional<std::string> ReadLine() {
    for (;;) {
      const size_t end = buffer_.find('\n');
      if (end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        return line;
      }
      pollfd fd{fd_, POLLIN, 0};
      if (fd_ < 0 || poll(&fd, 1, kPatienceMs) != 1) return std::nullopt;
      char chunk[256];
      const ssize_t n = read(fd_, chunk, sizeof chunk);
      if (n > 0) buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  fs::path path_;
  int fd_ = -1;
  std::string buffer_;
};

class IntegrationSuiteTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    store_.Open(GetParam(), fs::path(temp_.path()) / "petit.db");
    if (IsSkipped() || HasFatalFailure()) return;
    uri_ = store_.uri();
    dir_ = temp_.path();
    jobs_ = dir_ / "jobs";
    fs::create_directories(jobs_);
  }

  void TearDown() override { daemon_.reset(); }

  void WriteJob(const std::string& name, const std::string& yaml) {
    std::ofstream(jobs_ / name) << yaml;
  }

  // `petit --storage URI <args>` in the foreground.
  Outcome Petit(const std::string& args) {
    return testing::RunPetit(PETIT_EXE, "--storage " + ShellQuote(uri_) + " " + args, dir_);
  }

  // `petit <args> --server URL`, to the running daemon.
  Outcome Remote(const std::string& args) {
    return testing::RunPetit(PETIT_EXE, args + " --server " + url_, dir_);
  }

  // Starts `petit run` on the jobs and the store and waits until its API listens; starts it again
  // while a killed daemon's store lock is still held.
  void StartDaemon() {
    daemon_.reset();
    for (int refusal = 0; refusal <= kMaxLockRefusals; ++refusal) {
      auto daemon = std::make_unique<testing::DaemonProcess>(
          PETIT_EXE, std::vector<std::string>{"run", jobs_.string(), "--storage", uri_});
      if (daemon->WaitForLine(kListening, "")) {
        const std::string& err = daemon->err();
        const size_t at = err.find(kListening) + sizeof kListening - 1;
        url_ = "http://127.0.0.1:" + std::to_string(std::stoi(err.substr(at)));
        daemon_ = std::move(daemon);
        return;
      }
      const int status = daemon->WaitForExit();
      if (status != 3 || daemon->err().find("in use by") == std::string::npos) {
        FAIL() << "petit run did not start (exit " << status << "):\n" << daemon->err();
      }
    }
    FAIL() << "the store stayed locked";
  }

  // The run id `petit trigger JOB --detach` printed.
  std::string TriggerDetached(const std::string& job) {
    const Outcome trigger = Remote("trigger " + job + " --detach");
    EXPECT_EQ(trigger.exit_code, 0) << trigger.out << trigger.err;
    return trigger.out.substr(0, trigger.out.find('\n'));
  }

  std::unique_ptr<StateStore> Store() {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // The job's runs, oldest first.
  std::vector<RunRecord> Runs(const std::string& job) {
    std::unique_ptr<StateStore> store = Store();
    if (store == nullptr) return {};
    Result<std::vector<RunRecord>> runs = store->ListRuns(JobId(job), 1000);
    EXPECT_TRUE(runs.ok()) << runs.status().ToString();
    if (!runs.ok()) return {};
    std::vector<RunRecord> oldest_first(runs->rbegin(), runs->rend());
    return oldest_first;
  }

  RunRecord Run(const std::string& id) {
    std::unique_ptr<StateStore> store = Store();
    Result<RunId> run = RunId::Parse(id);
    EXPECT_TRUE(run.ok()) << "not a run id: '" << id << "'";
    if (store == nullptr || !run.ok()) return {};
    Result<std::optional<RunRecord>> found = store->GetRun(*run);
    EXPECT_TRUE(found.ok() && found->has_value()) << "run " << id;
    return found.ok() && found->has_value() ? **found : RunRecord{};
  }

  // Each task's attempts, in attempt order.
  std::map<std::string, std::vector<AttemptRecord>> Attempts(const std::string& id) {
    std::map<std::string, std::vector<AttemptRecord>> by_task;
    std::unique_ptr<StateStore> store = Store();
    Result<RunId> run = RunId::Parse(id);
    if (store == nullptr || !run.ok()) return by_task;
    Result<std::vector<AttemptRecord>> attempts = store->ListAttempts(*run);
    EXPECT_TRUE(attempts.ok()) << attempts.status().ToString();
    if (!attempts.ok()) return by_task;
    for (const AttemptRecord& attempt : *attempts) by_task[attempt.task.str()].push_back(attempt);
    for (auto& [task, list] : by_task) {
      std::sort(list.begin(), list.end(), [](const AttemptRecord& a, const AttemptRecord& b) {
        return a.attempt < b.attempt;
      });
    }
    return by_task;
  }

  // Each task's last state, by name (`task=state` pairs), for one readable comparison.
  std::map<std::string, std::string> FinalStates(const std::string& id) {
    std::map<std::string, std::string> states;
    for (const auto& [task, attempts] : Attempts(id)) {
      states[task] = std::string(TaskStateName(attempts.back().state));
    }
    return states;
  }

  // No run and no attempt of the store is left unfinished.
  void ExpectNothingRunning() {
    std::unique_ptr<StateStore> store = Store();
    ASSERT_NE(store, nullptr);
    Result<std::vector<RunRecord>> incomplete = store->ListIncompleteRuns();
    ASSERT_TRUE(incomplete.ok()) << incomplete.status().ToString();
    for (const RunRecord& run : *incomplete) {
      ADD_FAILURE() << "run " << run.id.str() << " of " << run.job.str() << " is still "
                    << RunStatusName(run.status);
    }
    Result<std::vector<RunRecord>> all = store->ListRuns(JobId(), 1000);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    for (const RunRecord& run : *all) {
      Result<std::vector<AttemptRecord>> attempts = store->ListAttempts(run.id);
      ASSERT_TRUE(attempts.ok()) << attempts.status().ToString();
      for (const AttemptRecord& attempt : *attempts) {
        EXPECT_TRUE(IsTerminal(attempt.state))
            << "run " << run.id.str() << " task " << attempt.task.str() << " attempt "
            << attempt.attempt << " is still " << TaskStateName(attempt.state);
      }
    }
  }

  testing::TempDir temp_;
  testing::BackendStore store_;
  std::string uri_;
  fs::path dir_;
  fs::path jobs_;
  std::string url_;
  std::unique_ptr<testing::DaemonProcess> daemon_;
};

// YAML to results: validate, trigger, outputs flowing downstream through every kind of template
// (an output in args, a multi-line output in the environment, job config, a plugin parameter of
// the builtin plugin), and what the run left read back through `petit runs`, `petit logs` and the
// store.
TEST_P(IntegrationSuiteTest, ACompleteWorkflowRunsFromYamlToResultsAndLogs) {
  WriteJob("pipeline.yaml", R"yaml(id: pipeline
description: extract, transform, load, publish
config: {greeting: hello}
tasks:
  - id: extract
    type: command
    shell: |
      echo extracting
      echo "rows=3" >> "$PETIT_OUTPUT"
      printf 'note<<EOF\nline one\nline two\nEOF\n' >> "$PETIT_OUTPUT"
      echo "extract warning" >&2
  - id: transform
    type: command
    command: sh
    args: ["-c", 'echo "transform got $0 rows, $1"; echo "total=$(($0 * 2))" >> "$PETIT_OUTPUT"',
           "${{ tasks.extract.outputs.rows }}", "${{ config.greeting }}"]
    depends_on: [extract]
  - id: load
    type: command
    environment:
      NOTE: "${{ tasks.extract.outputs.note }}"
      TOTAL: "${{ tasks.transform.outputs.total }}"
    shell: 'echo "load: $TOTAL rows, note [$NOTE]"'
    depends_on: [transform]
  - id: publish
    type: set_output
    params: {outputs: {published: "${{ tasks.transform.outputs.total }} rows of ${{ job.id }}"}}
    depends_on: [load]
)yaml");
  const Outcome validate = Petit("validate " + ShellQuote(jobs_.string()));
  ASSERT_EQ(validate.exit_code, 0) << validate.out << validate.err;
  EXPECT_THAT(validate.out, HasSubstr("pipeline"));

  const Outcome trigger = Petit("trigger " + ShellQuote(jobs_.string()) + " pipeline");
  ASSERT_EQ(trigger.exit_code, 0) << trigger.out << trigger.err;
  EXPECT_THAT(trigger.out, HasSubstr("| load: 6 rows, note [line one\n     | line two]"));

  const std::vector<RunRecord> runs = Runs("pipeline");
  ASSERT_EQ(runs.size(), 1u);
  const std::string run = runs[0].id.str();
  EXPECT_EQ(runs[0].status, RunStatus::kSucceeded);
  EXPECT_EQ(FinalStates(run), (std::map<std::string, std::string>{{"extract", "succeeded"},
                                                                  {"load", "succeeded"},
                                                                  {"publish", "succeeded"},
                                                                  {"transform", "succeeded"}}));
  auto attempts = Attempts(run);
  ASSERT_EQ(attempts["extract"].size(), 1u);
  EXPECT_EQ(attempts["extract"][0].outputs["rows"], "3");
  EXPECT_EQ(attempts["extract"][0].outputs["note"], "line one\nline two");
  ASSERT_EQ(attempts["transform"].size(), 1u);
  EXPECT_EQ(attempts["transform"][0].outputs["total"], "6");
  EXPECT_EQ(attempts["transform"][0].outputs["stdout"], "transform got 3 rows, hello\n");
  ASSERT_EQ(attempts["publish"].size(), 1u);
  EXPECT_EQ(attempts["publish"][0].outputs["published"], "6 rows of pipeline");

  const Outcome listed = Petit("runs --job pipeline");
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr(run));
  EXPECT_THAT(listed.out, HasSubstr("succeeded"));

  const Outcome all_logs = Petit("logs " + run);
  EXPECT_EQ(all_logs.exit_code, 0) << all_logs.err;
  EXPECT_THAT(all_logs.out, HasSubstr("extracting"));
  EXPECT_THAT(all_logs.out, HasSubstr("extract warning"));  // stderr is captured too
  EXPECT_THAT(all_logs.out, HasSubstr("transform got 3 rows, hello"));
  EXPECT_THAT(all_logs.out, HasSubstr("load: 6 rows, note [line one\nline two]"));
}

// `petit run` killed with SIGKILL while two runs' first tasks run, a third run waits for a host
// slot (max_tasks 2) and a fourth's task waits out its retry delay: the restarted daemon resumes
// them all; the task with a retry left runs again and its run succeeds, the one without is
// interrupted for good and its run fails, its downstream never running, the waiting run runs, and
// the retry runs (at once: the delay's end was in the dead daemon's memory). No task process of
// the dead daemon is left, and nothing stays running in the store.
TEST_P(IntegrationSuiteTest, AKilledDaemonsRunsEndCorrectlyAfterRestart) {
  Fifo fifo(dir_ / "started.fifo");
  // Tells the test it runs, then runs on until killed in its first attempt; later ones finish.
  const std::string block =
      "  - id: block\n    type: command\n    command: sh\n"
      "    args: ['-c', 'echo \"$PETIT_RUN_ID $PETIT_ATTEMPT $$\" > " +
      fifo.path().string() + "; [ \"$PETIT_ATTEMPT\" = 1 ] && exec sleep 1000; exit 0']\n";
  const std::string after =
      "  - id: after\n    type: command\n    command: echo\n    args: [after]\n"
      "    depends_on: [block]\n";
  WriteJob("resumable.yaml",
           "id: resumable\ntasks:\n" + block + "    retry: {max_attempts: 1}\n" + after);
  WriteJob("once.yaml", "id: once\ntasks:\n" + block + after);
  WriteJob("flaky.yaml",
           "id: flaky\ntasks:\n  - id: t\n    type: command\n    command: sh\n"
           "    args: ['-c', '[ \"$PETIT_ATTEMPT\" -ge 2 ]']\n"
           "    retry: {max_attempts: 1, delay_secs: 600}\n");
  WriteJob("waiting.yaml",
           "id: waiting\ntasks:\n  - id: late\n    type: command\n    command: echo\n"
           "    args: [late]\n");
  std::ofstream(jobs_ / "petit.yaml")
      << testing::kApiAnyPort << "shutdown_grace: 1\nmax_tasks: 2\n";

  StartDaemon();
  ASSERT_NE(daemon_, nullptr);
  const std::string flaky = TriggerDetached("flaky");
  ASSERT_TRUE(daemon_->WaitForLine("run " + flaky + " task t (attempt 1) failed", "retrying"))
      << daemon_->err();
  const std::string resumable = TriggerDetached("resumable");
  const std::string once = TriggerDetached("once");
  std::set<std::string> started;
  std::vector<pid_t> killed_tasks;
  for (int i = 0; i < 2; ++i) {
    const std::optional<std::string> line = fifo.ReadLine();
    ASSERT_TRUE(line.has_value()) << "a task never started:\n" << daemon_->err();
    const size_t pid_at = line->rfind(' ');
    started.insert(line->substr(0, pid_at));
    killed_tasks.push_back(static_cast<pid_t>(std::stol(line->substr(pid_at + 1))));
  }
  EXPECT_EQ(started, (std::set<std::string>{resumable + " 1", once + " 1"}));
  // Both host slots are taken: this run is admitted, and its task waits.
  const std::string waiting = TriggerDetached("waiting");
  daemon_->Kill();
  // Killed mid-run: every run is still recorded unfinished.
  EXPECT_EQ(Run(resumable).status, RunStatus::kRunning);
  EXPECT_EQ(Run(once).status, RunStatus::kRunning);
  EXPECT_FALSE(IsTerminal(Run(waiting).status));
  EXPECT_TRUE(FinalStates(waiting).empty() || FinalStates(waiting)["late"] == "queued")
      << "the waiting task ran";

  StartDaemon();
  ASSERT_NE(daemon_, nullptr);
  ASSERT_TRUE(daemon_->WaitFor("run " + resumable + " ended: succeeded")) << daemon_->err();
  ASSERT_TRUE(daemon_->WaitFor("run " + once + " ended: failed")) << daemon_->err();
  ASSERT_TRUE(daemon_->WaitFor("run " + waiting + " ended: succeeded")) << daemon_->err();
  ASSERT_TRUE(daemon_->WaitFor("run " + flaky + " ended: succeeded")) << daemon_->err();
  const std::optional<std::string> rerun = fifo.ReadLine();
  ASSERT_TRUE(rerun.has_value());
  EXPECT_EQ(rerun->substr(0, rerun->rfind(' ')), resumable + " 2");
  EXPECT_EQ(daemon_->Terminate(), 0) << daemon_->err();
  for (const pid_t task : killed_tasks) {
    EXPECT_TRUE(testing::WaitForProcessExit(task))
        << "task process " << task << " outlived its daemon";
  }

  const RunRecord resumed = Run(resumable);
  EXPECT_EQ(resumed.status, RunStatus::kSucceeded);
  EXPECT_EQ(resumed.retries, 1u);
  auto attempts = Attempts(resumable);
  ASSERT_EQ(attempts["block"].size(), 2u);
  EXPECT_EQ(attempts["block"][0].state, TaskState::kInterrupted);
  EXPECT_EQ(attempts["block"][1].state, TaskState::kSucceeded);
  ASSERT_EQ(attempts["after"].size(), 1u);
  EXPECT_EQ(attempts["after"][0].state, TaskState::kSucceeded);

  EXPECT_EQ(Run(once).status, RunStatus::kFailed);
  attempts = Attempts(once);
  ASSERT_EQ(attempts["block"].size(), 1u);
  EXPECT_EQ(attempts["block"][0].state, TaskState::kInterrupted);
  for (const AttemptRecord& attempt : attempts["after"]) {
    EXPECT_NE(attempt.state, TaskState::kSucceeded) << "ran after an interrupted upstream";
    EXPECT_EQ(attempt.started_us, 0) << "ran after an interrupted upstream";
  }
  EXPECT_EQ(Run(waiting).status, RunStatus::kSucceeded);
  EXPECT_EQ(FinalStates(waiting)["late"], "succeeded");
  attempts = Attempts(flaky);
  ASSERT_EQ(attempts["t"].size(), 2u);
  EXPECT_EQ(attempts["t"][0].state, TaskState::kFailed);
  EXPECT_EQ(attempts["t"][1].state, TaskState::kSucceeded);
  ExpectNothingRunning();
}

// Two runs of eight tasks that each take a slot of a pool of two, on a daemon with workers to
// spare: at no moment do more than two run, both runs finish, every task once.
TEST_P(IntegrationSuiteTest, ManyTasksOnASmallPoolNeverExceedItAndAllFinish) {
  const fs::path ledger = dir_ / "ledger";
  std::string yaml = "id: crowd\nmax_concurrency: 2\ntasks:\n";
  for (int i = 0; i < 8; ++i) {
    yaml += "  - id: t" + std::to_string(i) +
            "\n    type: command\n    resources: {slot: 1}\n"
            "    shell: 'echo \"+ $PETIT_RUN_ID $PETIT_TASK_ID\" >> " +
            ledger.string() + "; sleep 0.2; echo \"- $PETIT_RUN_ID $PETIT_TASK_ID\" >> " +
            ledger.string() + "'\n";
  }
  WriteJob("crowd.yaml", yaml);
  std::ofstream(jobs_ / "petit.yaml")
      << testing::kApiAnyPort << "shutdown_grace: 1\nmax_parallel_tasks: 8\npools: {slot: 2}\n";

  StartDaemon();
  ASSERT_NE(daemon_, nullptr);
  const std::string first = TriggerDetached("crowd");
  const std::string second = TriggerDetached("crowd");
  ASSERT_TRUE(daemon_->WaitFor("run " + first + " ended: succeeded")) << daemon_->err();
  ASSERT_TRUE(daemon_->WaitFor("run " + second + " ended: succeeded")) << daemon_->err();
  EXPECT_EQ(daemon_->Terminate(), 0) << daemon_->err();

  // Each line is appended whole (one write under O_APPEND), in the order the tasks wrote them.
  std::istringstream in(testing::ReadFile(ledger));
  std::string sign;
  std::string run;
  std::string task;
  int inside = 0;
  int most = 0;
  std::set<std::string> entered;
  std::set<std::string> left;
  while (in >> sign >> run >> task) {
    if (sign == "+") {
      EXPECT_TRUE(entered.insert(run + " " + task).second) << "ran twice: " << run << " " << task;
      most = std::max(most, ++inside);
    } else {
      EXPECT_TRUE(left.insert(run + " " + task).second);
      --inside;
    }
  }
  EXPECT_EQ(entered.size(), 16u);
  EXPECT_EQ(left, entered);
  EXPECT_LE(most, 2) << "the pool of 2 was exceeded";
  EXPECT_EQ(most, 2) << "16 tasks of 0.2 s on two slots never overlapped: the pool was not used";
  for (const std::string& id : {first, second}) {
    for (const auto& [name, state] : FinalStates(id)) EXPECT_EQ(state, "succeeded") << name;
    EXPECT_EQ(FinalStates(id).size(), 8u);
  }
  ExpectNothingRunning();
}

// Every trigger rule against succeeded, failed, upstream_failed and skipped upstreams.
TEST_P(IntegrationSuiteTest, AComplexDagEndsEachTaskInTheStateItsTriggerRuleGives) {
  const auto task = [](const std::string& id, const std::string& command,
                       const std::string& depends_on, const std::string& condition) {
    return "  - id: " + id + "\n    type: command\n    command: \"" + command + "\"\n" +
           (depends_on.empty() ? "" : "    depends_on: [" + depends_on + "]\n") +
           (condition.empty() ? "" : "    condition: " + condition + "\n");
  };
  WriteJob("rules.yaml", "id: rules\ntasks:\n" + task("ok", "true", "", "") +
                             task("bad", "false", "", "") + task("ok_then", "true", "ok", "") +
                             task("bad_then", "true", "bad", "all_success") +
                             task("bad_then_then", "true", "bad_then", "") +
                             task("rescue", "true", "ok, bad", "on_failure") +
                             task("rescue_upstream_failed", "true", "bad_then", "on_failure") +
                             task("no_rescue", "true", "ok", "on_failure") +
                             task("after_no_rescue", "true", "no_rescue", "") +
                             task("cleanup", "true", "ok, bad, bad_then", "all_done") +
                             task("cleanup_after_skip", "true", "ok, no_rescue", "all_done") +
                             task("always", "true", "bad_then_then, no_rescue", "always") +
                             task("failing_always", "false", "always", "") +
                             task("after_failing_always", "true", "failing_always", "all_done"));
  const Outcome trigger = Petit("trigger " + ShellQuote(jobs_.string()) + " rules");
  EXPECT_EQ(trigger.exit_code, 1) << trigger.out << trigger.err;

  const std::vector<RunRecord> runs = Runs("rules");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, RunStatus::kFailed);  // a task failed
  EXPECT_EQ(FinalStates(runs[0].id.str()), (std::map<std::string, std::string>{
                                               {"ok", "succeeded"},
                                               {"bad", "failed"},
                                               {"ok_then", "succeeded"},
                                               {"bad_then", "upstream_failed"},
                                               {"bad_then_then", "upstream_failed"},
                                               {"rescue", "succeeded"},
                                               {"rescue_upstream_failed", "succeeded"},
                                               {"no_rescue", "skipped"},
                                               {"after_no_rescue", "skipped"},
                                               {"cleanup", "succeeded"},
                                               {"cleanup_after_skip", "skipped"},
                                               {"always", "succeeded"},
                                               {"failing_always", "failed"},
                                               {"after_failing_always", "succeeded"},
                                           }));
}

// b depends on a, c on b, all firing every second: b fires only once a has succeeded, c once b
// has, so the first runs start in that order, each after its upstream's first success ended; e
// depends on d, which always fails, and never fires.
TEST_P(IntegrationSuiteTest, ACrossJobDependencyChainFiresInOrder) {
  const auto job = [&](const std::string& id, const std::string& depends_on,
                       const std::string& command) {
    WriteJob(id + ".yaml", "id: " + id + "\nschedule: \"@every 1s\"\n" +
                               (depends_on.empty() ? "" : "depends_on: [" + depends_on + "]\n") +
                               "tasks:\n  - id: work\n    type: command\n    command: \"" +
                               command + "\"\n");
  };
  job("a", "", "true");
  job("b", "a", "true");
  job("c", "b", "true");
  job("d", "", "false");
  job("e", "d", "true");
  std::ofstream(jobs_ / "petit.yaml") << testing::kApiAnyPort << "shutdown_grace: 1\n";

  StartDaemon();
  ASSERT_NE(daemon_, nullptr);
  ASSERT_TRUE(daemon_->WaitForLine("job c run ", " ended: succeeded")) << daemon_->err();
  EXPECT_EQ(daemon_->Terminate(), 0) << daemon_->err();
  EXPECT_THAT(daemon_->err(), HasSubstr("dependency on job 'a' (last_success) not met"));
  EXPECT_THAT(daemon_->err(), HasSubstr("dependency on job 'd' (last_success) not met"));

  // The first run of `job` that succeeded.
  const auto first_success = [&](const std::string& id) {
    for (const RunRecord& run : Runs(id)) {
      if (run.status == RunStatus::kSucceeded) return run;
    }
    ADD_FAILURE() << "job " << id << " never succeeded:\n" << daemon_->err();
    return RunRecord{};
  };
  const RunRecord a = first_success("a");
  const RunRecord b = first_success("b");
  const RunRecord c = first_success("c");
  ASSERT_FALSE(Runs("b").empty());
  ASSERT_FALSE(Runs("c").empty());
  EXPECT_GE(Runs("b").front().started_us, a.ended_us) << "b started before a succeeded";
  EXPECT_GE(Runs("c").front().started_us, b.ended_us) << "c started before b succeeded";
  EXPECT_LT(a.occurrence_us, b.occurrence_us);
  EXPECT_LT(b.occurrence_us, c.occurrence_us);
  EXPECT_FALSE(Runs("d").empty());
  EXPECT_TRUE(Runs("e").empty()) << "e fired though d never succeeded";
  ExpectNothingRunning();
}

// In one run of the daemon, plugin tasks that fail every way a plugin can: throwing a
// std::exception from execute and a non-exception from create (both in the daemon's own process,
// where the SDK's wrapper must catch them), and ending their worker process by SIGSEGV, abort()
// and exit(0) (process isolation, the default for third-party plugins); a task after all of them
// (all_done) runs. Then a plugin task that hangs ignoring its cancel and a command that would sleep
// for ever are cancelled with `petit cancel`: the run ends cancelled with each task's state, both
// processes are gone, and the daemon runs the next run as if nothing happened.
TEST_P(IntegrationSuiteTest, CrashingThrowingAndHangingPluginTasksLeaveTheHostRunning) {
  const fs::path plugins = dir_ / "plugins";
  fs::create_directories(plugins);
  fs::create_symlink(fs::path(PETIT_FIXTURE_PLUGIN_DIR) / "throws.so", plugins / "throws.so");
  fs::create_symlink(fs::path(PETIT_FIXTURE_PLUGIN_DIR) / "extra" / "misbehaves.so",
                     plugins / "misbehaves.so");
  Fifo started(dir_ / "started.fifo");
  const std::string fifo = started.path().string();
  WriteJob("faults.yaml", R"(id: faults
tasks:
  - id: throws
    type: throws.execute
  - id: throws_in_create
    type: throws.create
  - id: segfaults
    type: misbehaves.segfault
  - id: aborts
    type: misbehaves.abort
  - id: exits
    type: misbehaves.exit
    params: {code: 0}
  - id: after_faults
    type: set_output
    params: {outputs: {answer: "42"}}
    depends_on: [throws, throws_in_create, segfaults, aborts, exits]
    condition: all_done
  - id: hangs
    type: misbehaves.hang
    params: {started_fifo: ")" +
                              fifo + R"("}
    depends_on: [after_faults]
  - id: sleeps
    type: command
    command: sh
    args: ["-c", "echo \"sleeps $$\" > )" +
                              fifo + R"(; exec sleep 1000"]
    depends_on: [after_faults]
  - id: never
    type: misbehaves.ok
    depends_on: [hangs, sleeps]
)");
  WriteJob("next.yaml", "id: next\ntasks:\n  - id: ok\n    type: noop\n");
  // Third-party plugins run in worker processes by default; the throwing types run in the host.
  std::ofstream(jobs_ / "petit.yaml")
      << testing::kApiAnyPort << "shutdown_grace: 1\nmax_parallel_tasks: 8\nplugin_dirs: ["
      << plugins.string()
      << "]\nplugins:\n  cancel_grace_ms: 200\n"
         "  per_type: {throws.execute: in_process, throws.create: in_process}\n";

  // A segfault ends the worker as in a release build, not through the sanitizer's report.
  setenv("ASAN_OPTIONS", "detect_leaks=1:handle_segv=0", 1);
  StartDaemon();
  ASSERT_NE(daemon_, nullptr);
  const std::string run = TriggerDetached("faults");
  pid_t worker = 0;
  pid_t sleeper = 0;
  for (int i = 0; i < 2; ++i) {
    const std::optional<std::string> line = started.ReadLine();
    ASSERT_TRUE(line.has_value()) << "a task never started:\n" << daemon_->err();
    if (line->starts_with("sleeps ")) {
      sleeper = static_cast<pid_t>(std::stol(line->substr(7)));
    } else {
      worker = static_cast<pid_t>(std::stol(*line));
    }
  }
  ASSERT_GT(worker, 0);
  ASSERT_GT(sleeper, 0);
  EXPECT_NE(worker, daemon_->pid()) << "the hanging task runs in a worker process";

  const Outcome cancel = Remote("cancel " + run);
  EXPECT_EQ(cancel.exit_code, 0) << cancel.out << cancel.err;
  EXPECT_THAT(cancel.out, HasSubstr("cancelled"));
  ASSERT_TRUE(daemon_->WaitFor("run " + run + " ended: cancelled")) << daemon_->err();
  EXPECT_TRUE(testing::WaitForProcessExit(worker)) << "the hung worker outlived the cancel";
  EXPECT_TRUE(testing::WaitForProcessExit(sleeper)) << "the sleeping command outlived the cancel";

  // The daemon is alive and runs the next run.
  const std::string next = TriggerDetached("next");
  ASSERT_TRUE(daemon_->WaitFor("run " + next + " ended: succeeded")) << daemon_->err();
  EXPECT_EQ(daemon_->Terminate(), 0) << daemon_->err();

  EXPECT_EQ(Run(run).status, RunStatus::kCancelled);
  EXPECT_EQ(FinalStates(run), (std::map<std::string, std::string>{{"throws", "failed"},
                                                                  {"throws_in_create", "failed"},
                                                                  {"segfaults", "failed"},
                                                                  {"aborts", "failed"},
                                                                  {"exits", "failed"},
                                                                  {"after_faults", "succeeded"},
                                                                  {"hangs", "cancelled"},
                                                                  {"sleeps", "cancelled"},
                                                                  {"never", "cancelled"}}));
  auto attempts = Attempts(run);
  const auto error_of = [&](const std::string& task) {
    return attempts[task].empty() ? std::string("no attempt") : attempts[task].back().error;
  };
  EXPECT_THAT(error_of("throws"), HasSubstr("boom in execute"));
  EXPECT_NE(error_of("throws_in_create"), "");
  EXPECT_EQ(error_of("segfaults"), "plugin 'misbehaves' crashed: SIGSEGV during task segfaults");
  EXPECT_EQ(error_of("aborts"), "plugin 'misbehaves' crashed: SIGABRT during task aborts");
  EXPECT_EQ(error_of("exits"), "plugin 'misbehaves' exited with status 0 during task exits");
  EXPECT_THAT(error_of("hangs"), HasSubstr("ignored cancel for 200 ms"));
  ASSERT_FALSE(attempts["after_faults"].empty());
  EXPECT_EQ(attempts["after_faults"].back().outputs["answer"], "42");
  EXPECT_EQ(Run(next).status, RunStatus::kSucceeded);
  ExpectNothingRunning();
}

// What each example's comments promise, task by task: a line of its captured output. An example
// added without an entry here fails, so none goes untested.
const std::map<std::string, std::map<std::string, std::string>>& ExampleResults() {
  static const auto* const results = new std::map<std::string, std::map<std::string, std::string>>{
      {"hello_world", {{"greet", "Hello, World from Petit!"}}},
      {"diamond",
       {{"fetch", "fetching the sample dataset"},
        {"left", "left branch started\nleft branch done"},
        {"right", "right branch in /tmp"},
        {"report", "joined: left and right"}}},
  };
  return *results;
}

TEST_P(IntegrationSuiteTest, EveryExampleValidatesAndRunsToItsDocumentedResult) {
  const fs::path examples = fs::path(PETIT_SOURCE_DIR) / "examples";
  const Outcome validate = Petit("validate " + ShellQuote(examples.string()));
  ASSERT_EQ(validate.exit_code, 0) << validate.out << validate.err;

  const std::regex id_line("^id: *([A-Za-z0-9_.-]+)");
  std::set<std::string> seen;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(examples)) {
    const std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".yaml" && ext != ".yml") ||
        entry.path().filename() == "petit.yaml") {
      continue;
    }
    std::istringstream in(testing::ReadFile(entry.path()));
    std::string job;
    for (std::string line; job.empty() && std::getline(in, line);) {
      std::smatch match;
      if (std::regex_search(line, match, id_line)) job = match[1];
    }
    SCOPED_TRACE(entry.path().string() + ": job " + job);
    ASSERT_FALSE(job.empty()) << "no top-level id";
    seen.insert(job);
    const auto expected = ExampleResults().find(job);
    if (expected == ExampleResults().end()) {
      ADD_FAILURE() << "add the documented result of this example to ExampleResults()";
      continue;
    }
    const Outcome trigger = Petit("trigger " + ShellQuote(examples.string()) + " " + job);
    EXPECT_EQ(trigger.exit_code, 0) << trigger.out << trigger.err;
    const std::vector<RunRecord> runs = Runs(job);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].status, RunStatus::kSucceeded);
    const std::map<std::string, std::string> states = FinalStates(runs[0].id.str());
    EXPECT_EQ(states.size(), expected->second.size()) << "tasks ran without an expected result";
    const Outcome logs = Petit("logs " + runs[0].id.str());
    EXPECT_EQ(logs.exit_code, 0) << logs.err;
    for (const auto& [task, text] : expected->second) {
      EXPECT_EQ(states.contains(task) ? states.at(task) : "missing", "succeeded") << task;
      EXPECT_THAT(logs.out, HasSubstr("== " + task + " (attempt 1, stdout) ==\n" + text)) << task;
    }
  }
  for (const auto& [job, tasks] : ExampleResults()) {
    EXPECT_TRUE(seen.contains(job))
        << "example " << job << " is gone: drop it from ExampleResults()";
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, IntegrationSuiteTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

}  // namespace
}  // namespace petit

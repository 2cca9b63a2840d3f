// Process isolation (plugins/process_task_runner.h) end to end: real runs (ExecuteRun, memory
// store) of the `misbehaves` fixture's task types in `petit __plugin-worker` children of the
// real petit binary. Every way a plugin can end its process (a crash by signal, exit() with any
// status, a leak past its memory limit, a hang past its cancel) fails that attempt alone with one
// line saying what happened, the retry policy applies, and the run's other tasks go on.
#include "plugins/process_task_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "petit/core/execute_run.h"
#include "petit/core/job.h"
#include "petit/storage/open.h"
#include "plugins/plugin_loader.h"
#include "realtime_limit.h"

namespace petit::host {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

const std::string kPetit = std::string(PETIT_BINARY_DIR) + "/bin/petit";
const std::string kMisbehaves = std::string(PETIT_FIXTURE_PLUGIN_DIR) + "/extra/misbehaves.so";
constexpr uint64_t kMemoryLimitMb = 128;
constexpr std::chrono::milliseconds kCancelGrace{50};

const char* const kTypes[] = {"misbehaves.segfault", "misbehaves.abort", "misbehaves.exit",
                              "misbehaves.hang",     "misbehaves.leak",  "misbehaves.ok",
                              "misbehaves.escape"};

class ProcessIsolationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A sanitizer build of the worker must show a crash as the signal it is, and a leak as
    // malloc returning NULL (which the fixture then writes through), as a release build does.
    setenv("ASAN_OPTIONS", "detect_leaks=1:handle_segv=0:allocator_may_return_null=1", 1);
  }

  void SetUp() override {
    for (const char* type : kTypes) {
      ProcessIsolationOptions options;
      options.worker_executable = kPetit;
      options.plugin_file = kMisbehaves;
      options.plugin_name = "misbehaves";
      options.type_name = type;
      options.memory_limit_mb = kMemoryLimitMb;
      options.cancel_grace = kCancelGrace;
      ASSERT_TRUE(registry_.Register(type, std::make_shared<ProcessTaskRunner>(options)).ok());
    }
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore("memory:");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  static TaskSpec Task(const std::string& id, const std::string& type,
                       const std::string& params = "{}") {
    TaskSpec spec;
    spec.id = TaskId(id);
    spec.type = type;
    spec.params_json = params;
    return spec;
  }

  // The misbehaving task `bad` beside `ok` and `echo` (which reads ok's output), two at a time.
  static Job MakeJob(TaskSpec bad) {
    Job job;
    job.id = JobId("isolation");
    job.dag.AddTask(std::move(bad));
    job.dag.AddTask(Task("ok", "misbehaves.ok"));
    TaskSpec echo = Task("echo", "misbehaves.ok", R"({"input": "ok.answer"})");
    echo.depends_on.push_back(TaskId("ok"));
    job.dag.AddTask(std::move(echo));
    EXPECT_TRUE(job.dag.Validate().ok());
    return job;
  }

  RunRecord Run(const Job& job) {
    RunOptions options;
    options.max_parallel_tasks = 2;
    Result<RunRecord> run = ExecuteRun(job, RunId::Generate(), registry_, *store_, options);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? *run : RunRecord{};
  }

  std::vector<AttemptRecord> Attempts(const RunRecord& run, const std::string& task) {
    std::vector<AttemptRecord> found;
    Result<std::vector<AttemptRecord>> attempts = store_->ListAttempts(run.id);
    EXPECT_TRUE(attempts.ok()) << attempts.status().ToString();
    if (!attempts.ok()) return found;
    for (const AttemptRecord& attempt : *attempts) {
      if (attempt.task.str() == task && attempt.attempt > 0) found.push_back(attempt);
    }
    return found;
  }

  // The other tasks of MakeJob's run succeeded, with their outputs and captured output.
  void ExpectOthersSucceeded(const RunRecord& run) {
    const std::vector<AttemptRecord> ok = Attempts(run, "ok");
    ASSERT_EQ(ok.size(), 1u);
    EXPECT_EQ(ok[0].state, TaskState::kSucceeded) << ok[0].error;
    EXPECT_EQ(ok[0].outputs.at("answer"), "42");
    EXPECT_EQ(ok[0].outputs.at("extra_fds"), "0") << "the worker inherited descriptors";
    const std::vector<AttemptRecord> echo = Attempts(run, "echo");
    ASSERT_EQ(echo.size(), 1u);
    EXPECT_EQ(echo[0].state, TaskState::kSucceeded) << echo[0].error;
    EXPECT_EQ(echo[0].outputs.at("echo"), "42") << "inputs reach the worker";

    LogQuery query;
    query.task = TaskId("ok");
    Result<std::vector<LogChunk>> logs = store_->ReadLogs(run.id, query);
    ASSERT_TRUE(logs.ok()) << logs.status().ToString();
    std::string out;
    for (const LogChunk& chunk : *logs) out += chunk.data;
    EXPECT_THAT(out, HasSubstr("hello\n"));
    EXPECT_THAT(out, HasSubstr("[info] misbehaves.ok ran"));
  }

  TaskRunnerRegistry registry_;
  std::unique_ptr<StateStore> store_;
};

struct Misbehaviour {
  std::string name;
  std::string type;
  std::string params;         // a JSON object's members, without braces
  int64_t timeout_ms;         // 0 = none
  std::string error_pattern;  // after "plugin 'misbehaves' "
};

class MisbehaviourTest : public ProcessIsolationTest,
                         public ::testing::WithParamInterface<Misbehaviour> {};

// Every class of fault: the attempt fails with its own message, the one retry runs and fails the
// same way, and the other tasks succeed.
TEST_P(MisbehaviourTest, FailsTheAttemptAloneAndRetries) {
  const Misbehaviour& m = GetParam();
  TaskSpec bad = Task("bad", m.type, "{" + m.params + "}");
  bad.retry.max_retries = 1;
  if (m.timeout_ms > 0) bad.timeout = std::chrono::milliseconds(m.timeout_ms);
  const RunRecord run = Run(MakeJob(std::move(bad)));
  EXPECT_EQ(run.status, RunStatus::kFailed);

  const std::vector<AttemptRecord> attempts = Attempts(run, "bad");
  ASSERT_EQ(attempts.size(), 2u) << "one attempt and its retry";
  for (const AttemptRecord& attempt : attempts) {
    EXPECT_EQ(attempt.state, TaskState::kFailed);
    EXPECT_THAT(attempt.error,
                MatchesRegex(".*plugin 'misbehaves' " + m.error_pattern + " during task bad.*"));
  }
  ExpectOthersSucceeded(run);
}

// The same faults on the first attempt only: the retry succeeds and so does the run.
TEST_P(MisbehaviourTest, ARetryThatBehavesSucceeds) {
  const Misbehaviour& m = GetParam();
  const std::string params = m.params.empty() ? "" : m.params + ", ";
  TaskSpec bad = Task("bad", m.type, "{" + params + R"("until_attempt": 1})");
  bad.retry.max_retries = 1;
  if (m.timeout_ms > 0) bad.timeout = std::chrono::milliseconds(m.timeout_ms);
  const RunRecord run = Run(MakeJob(std::move(bad)));
  EXPECT_EQ(run.status, RunStatus::kSucceeded);
  const std::vector<AttemptRecord> attempts = Attempts(run, "bad");
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_THAT(attempts[0].error, MatchesRegex(".*plugin 'misbehaves' " + m.error_pattern + ".*"));
  EXPECT_EQ(attempts[1].state, TaskState::kSucceeded) << attempts[1].error;
  ExpectOthersSucceeded(run);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, MisbehaviourTest,
    ::testing::Values(
        Misbehaviour{"segfault", "misbehaves.segfault", "", 0, "crashed: SIGSEGV"},
        Misbehaviour{"abort", "misbehaves.abort", "", 0, "crashed: SIGABRT"},
        Misbehaviour{"exit0", "misbehaves.exit", "", 0, "exited with status 0"},
        Misbehaviour{"exit7", "misbehaves.exit", R"("code": 7)", 0, "exited with status 7"},
        Misbehaviour{"leak", "misbehaves.leak", "", 0, "exceeded its memory limit of 128 MB"},
        // A timeout cancels the attempt; the plugin ignores it and is killed after the grace. The
        // timeout leaves a sanitizer build's worker time to start for the retry.
        Misbehaviour{"hang", "misbehaves.hang", "", 2000, "ignored cancel for 50 ms"}),
    [](const ::testing::TestParamInfo<Misbehaviour>& param) { return param.param.name; });

// A run whose plugin crashes does not disturb another run going on at the same time.
TEST_F(ProcessIsolationTest, OtherRunsCarryOn) {
  Job crashing;
  crashing.id = JobId("crashing");
  crashing.dag.AddTask(Task("crash", "misbehaves.segfault"));
  ASSERT_TRUE(crashing.dag.Validate().ok());
  RunRecord crashed;
  std::thread other([&] { crashed = Run(crashing); });
  const RunRecord run = Run(MakeJob(Task("bad", "misbehaves.ok")));
  other.join();
  EXPECT_EQ(crashed.status, RunStatus::kFailed);
  EXPECT_EQ(run.status, RunStatus::kSucceeded);
  ExpectOthersSucceeded(run);
}

// The host's scheduler thread may be real-time by RLIMIT_RTPRIO (the packaged unit's
// LimitRTPRIO=1); the worker gives the plugin no such right.
TEST_F(ProcessIsolationTest, ThePluginMayNotMakeItselfRealTime) {
  RunRecord run;
  {
    const testing_support::ScopedRealtimeLimit limit;
    if (!limit.granted()) {
      GTEST_SKIP() << "cannot give this process an RLIMIT_RTPRIO of 1 (its hard limit is "
                   << limit.previous_hard_limit() << ")";
    }
    run = Run(MakeJob(Task("bad", "misbehaves.ok")));
  }
  ASSERT_EQ(run.status, RunStatus::kSucceeded);
  const std::vector<AttemptRecord> ok = Attempts(run, "ok");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].outputs.at("realtime_limit"), "0");
}

// A descendant of the worker in a session of its own (setsid), which the kill of the worker's
// group does not reach, holds the worker's socket for ever; the attempt still ends when the
// worker does: with its result, or failed once the worker ignored the cancel for the grace.
TEST_F(ProcessIsolationTest, ADescendantInASessionOfItsOwnDoesNotHoldTheAttemptOpen) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("petit-escape-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::vector<pid_t> escaped;
  for (const bool hang : {false, true}) {
    SCOPED_TRACE(hang ? "the worker hangs" : "the worker succeeds");
    const std::string pid_file = (dir / (hang ? "hang.pid" : "ok.pid")).string();
    TaskSpec bad =
        Task("bad", "misbehaves.escape",
             R"({"pid_file": ")" + pid_file + R"(", "hang": )" + (hang ? "1" : "0") + "}");
    if (hang) bad.timeout = std::chrono::milliseconds(2000);
    const RunRecord run = Run(MakeJob(std::move(bad)));
    std::ifstream in(pid_file);
    long pid = 0;
    in >> pid;
    if (pid > 0) escaped.push_back(static_cast<pid_t>(pid));
    EXPECT_GT(pid, 0) << "the task did not start its descendant";
    const std::vector<AttemptRecord> attempts = Attempts(run, "bad");
    ASSERT_EQ(attempts.size(), 1u);
    if (hang) {
      EXPECT_EQ(run.status, RunStatus::kFailed);
      EXPECT_EQ(attempts[0].state, TaskState::kFailed);
      EXPECT_THAT(attempts[0].error, HasSubstr("ignored cancel for 50 ms"));
    } else {
      EXPECT_EQ(run.status, RunStatus::kSucceeded);
      EXPECT_EQ(attempts[0].state, TaskState::kSucceeded) << attempts[0].error;
    }
    ExpectOthersSucceeded(run);
  }
  for (const pid_t pid : escaped) ::kill(pid, SIGKILL);
  std::filesystem::remove_all(dir);
}

// A plugin that cannot be loaded in the worker fails the attempt with the loader's reason.
TEST_F(ProcessIsolationTest, APluginTheWorkerCannotLoadFailsTheAttempt) {
  ProcessIsolationOptions options;
  options.worker_executable = kPetit;
  options.plugin_file = std::string(PETIT_FIXTURE_PLUGIN_DIR) + "/not_elf.so";
  options.plugin_name = "not_elf";
  options.type_name = "anything";
  TaskRunnerRegistry registry;
  ASSERT_TRUE(registry.Register("anything", std::make_shared<ProcessTaskRunner>(options)).ok());
  Job job;
  job.id = JobId("unloadable");
  job.dag.AddTask(Task("t", "anything"));
  ASSERT_TRUE(job.dag.Validate().ok());
  Result<RunRecord> run = ExecuteRun(job, RunId::Generate(), registry, *store_, RunOptions{});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->status, RunStatus::kFailed);
  const std::vector<AttemptRecord> attempts = Attempts(*run, "t");
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_THAT(attempts[0].error, HasSubstr("cannot load plugin"));
}

// Waits for process `pid` (not a child of this one) to end; false when it is still alive after
// `limit`, which only a broken PR_SET_PDEATHSIG reaches.
bool WaitForExit(pid_t pid, std::chrono::milliseconds limit) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return errno == ESRCH;
  pollfd fd{pidfd, POLLIN, 0};
  const int ready = ::poll(&fd, 1, static_cast<int>(limit.count()));
  ::close(pidfd);
  return ready == 1;
}

// The worker dies with its host: `petit trigger` is killed with SIGKILL while its worker hangs.
TEST_F(ProcessIsolationTest, TheWorkerDiesWithTheHost) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("petit-isolation-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "jobs");
  const std::string started = (dir / "started").string();
  ASSERT_EQ(::mkfifo(started.c_str(), 0600), 0);
  std::ofstream(dir / "jobs" / "petit.yaml") << "storage: \"memory:\"\n";
  std::ofstream(dir / "jobs" / "hang.yaml")
      << "id: hang\ntasks:\n  - id: hang\n    type: misbehaves.hang\n"
      << "    params: {started_fifo: \"" << started << "\"}\n";

  const pid_t host = ::fork();
  ASSERT_GE(host, 0);
  if (host == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    const std::string jobs = (dir / "jobs").string();
    const std::string plugins = std::string(PETIT_FIXTURE_PLUGIN_DIR) + "/extra";
    ::execl(kPetit.c_str(), kPetit.c_str(), "trigger", jobs.c_str(), "hang", "--plugin-dir",
            plugins.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::ifstream fifo(started);  // opens once the worker runs the task
  pid_t worker = 0;
  fifo >> worker;
  ASSERT_GT(worker, 0);
  EXPECT_NE(worker, host) << "the task ran in the host, not in a worker";

  ::kill(host, SIGKILL);
  int status = 0;
  ::waitpid(host, &status, 0);
  EXPECT_TRUE(WaitForExit(worker, std::chrono::seconds(30))) << "worker " << worker << " lives on";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace petit::host

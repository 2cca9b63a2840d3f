// End to end: the real `petit` binary, the real plugins, job files on disk, SQLite state.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/petit_process.h"
#include "petit/core/state_store.h"
#include "petit/storage/open.h"
#include "runtime/recovery.h"

namespace petit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

using testing::Outcome;
using testing::ReadFile;
using testing::ShellQuote;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "petit-cli-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    jobs_ = dir_ / "jobs";
    fs::create_directories(jobs_);
    db_ = dir_ / "state" / "petit.db";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string StorageUri() const { return "sqlite://" + db_.string(); }

  Outcome Run(const std::string& args) {
    // The default --storage comes first so a test may override it: the last one wins.
    return testing::RunPetit(PETIT_EXE, "--storage " + ShellQuote(StorageUri()) + " " + args, dir_);
  }

  void WriteJob(const std::string& name, const std::string& yaml) {
    std::ofstream(jobs_ / name) << yaml;
  }

  std::unique_ptr<StateStore> OpenStore() {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(StorageUri());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // The attempts of the only run recorded so far, by task id (the last attempt of each task).
  std::map<std::string, AttemptRecord> OnlyRunAttempts(RunRecord* run_out = nullptr) {
    std::unique_ptr<StateStore> store = OpenStore();
    std::map<std::string, AttemptRecord> by_task;
    if (!store) return by_task;
    Result<std::vector<RunRecord>> runs = store->ListRuns(JobId(), 10);
    EXPECT_TRUE(runs.ok());
    EXPECT_EQ(runs->size(), 1u);
    if (!runs.ok() || runs->size() != 1) return by_task;
    if (run_out != nullptr) *run_out = runs->front();
    Result<std::vector<AttemptRecord>> attempts = store->ListAttempts(runs->front().id);
    EXPECT_TRUE(attempts.ok());
    for (const AttemptRecord& attempt : *attempts) by_task[attempt.task.str()] = attempt;
    return by_task;
  }

  fs::path dir_;
  fs::path jobs_;
  fs::path db_;
};

TEST_F(CliTest, ValidatesTheShippedExamples) {
  Outcome r = Run("validate " + ShellQuote(std::string(PETIT_SOURCE_DIR) + "/examples"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("hello_world"));
  EXPECT_THAT(r.out, HasSubstr("diamond"));
}

TEST_F(CliTest, TriggerHelloWorldPrintsOutputAndRecordsTheRunInSqlite) {
  Outcome r =
      Run("trigger " + ShellQuote(std::string(PETIT_SOURCE_DIR) + "/examples") + " hello_world");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("Hello, World from Petit!"));
  EXPECT_THAT(r.out, HasSubstr("succeeded"));

  RunRecord run;
  std::map<std::string, AttemptRecord> attempts = OnlyRunAttempts(&run);
  EXPECT_EQ(run.job.str(), "hello_world");
  EXPECT_EQ(run.status, RunStatus::kSucceeded);
  EXPECT_GT(run.ended_us, 0);
  ASSERT_EQ(attempts.count("greet"), 1u);
  EXPECT_EQ(attempts["greet"].state, TaskState::kSucceeded);
  EXPECT_EQ(attempts["greet"].attempt, 1u);
  EXPECT_EQ(attempts["greet"].exit_code, 0);
}

// A task's process is noted for the next start's recovery (process_registry.h) where the store
// outlives the run; with memory: no later start could recover the run, so nothing is noted and
// the runtime directory stays as it was. The task itself counts the host directories there.
TEST_F(CliTest, ProcessesAreNotedForRecoveryOnlyWhereTheStoreOutlivesTheProcess) {
  const fs::path registry = dir_ / "runtime";
  fs::create_directories(registry);
  struct RuntimeDir {
    explicit RuntimeDir(const fs::path& path) { setenv("PETIT_RUNTIME_DIR", path.c_str(), 1); }
    ~RuntimeDir() { unsetenv("PETIT_RUNTIME_DIR"); }
  } runtime_dir(registry);
  const fs::path seen = dir_ / "seen.txt";
  WriteJob("notes.yaml", "id: notes\ntasks:\n  - {id: look, type: command, shell: \"ls " +
                             registry.string() + " | wc -l > " + seen.string() + "\"}\n");

  Outcome durable = Run("trigger " + ShellQuote(jobs_.string()) + " notes --quiet");
  ASSERT_EQ(durable.exit_code, 0) << durable.out << durable.err;
  EXPECT_EQ(ReadFile(seen), "1\n") << "SQLite: the host's notes directory, while its task ran";
  EXPECT_TRUE(fs::is_empty(registry)) << "removed at exit";

  Outcome memory = testing::RunPetit(
      PETIT_EXE, "--storage memory: trigger " + ShellQuote(jobs_.string()) + " notes --quiet",
      dir_);
  ASSERT_EQ(memory.exit_code, 0) << memory.out << memory.err;
  EXPECT_EQ(ReadFile(seen), "0\n") << "memory: nothing noted";
  EXPECT_TRUE(fs::is_empty(registry));
}

TEST_F(CliTest, DiamondRunsEachTaskOnlyAfterItsOwnUpstreams) {
  Outcome r = Run("trigger " + ShellQuote(std::string(PETIT_SOURCE_DIR) + "/examples") +
                  " diamond --max-parallel 2");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::map<std::string, AttemptRecord> a = OnlyRunAttempts();
  ASSERT_EQ(a.size(), 4u);
  for (const auto& [id, attempt] : a) EXPECT_EQ(attempt.state, TaskState::kSucceeded) << id;
  EXPECT_GE(a["left"].started_us, a["fetch"].ended_us);
  EXPECT_GE(a["right"].started_us, a["fetch"].ended_us);
  EXPECT_GE(a["report"].started_us, a["left"].ended_us);
  EXPECT_GE(a["report"].started_us, a["right"].ended_us);
  EXPECT_THAT(r.out, HasSubstr("joined: left and right"));
}

// With waves, `late` would wait for every task of the first wave, including `blocker`, which
// itself waits for `late`'s marker: the run could only end by blocker's timeout.
TEST_F(CliTest, TaskStartsAsSoonAsItsOwnDependenciesFinishNotInWaves) {
  fs::path marker = dir_ / "late-ran";
  WriteJob("nowaves.yaml", R"(
id: nowaves
tasks:
  - id: quick
    type: command
    command: "true"
  - id: blocker
    type: command
    shell: "while [ ! -f )" + marker.string() +
                               R"( ]; do sleep 0.01; done"
    timeout_secs: 60
  - id: late
    type: command
    command: touch
    args: [")" + marker.string() +
                               R"("]
    depends_on: [quick]
)");
  Outcome r = Run("trigger " + ShellQuote(jobs_.string()) + " nowaves --max-parallel 2");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::map<std::string, AttemptRecord> a = OnlyRunAttempts();
  // `late` started while `blocker` was still running (blocker ends only after late's marker
  // exists). Their end times may come in either order: blocker can see the marker and exit
  // before late's own exit is recorded.
  EXPECT_LT(a["late"].started_us, a["blocker"].ended_us);
  EXPECT_GT(a["blocker"].ended_us, a["blocker"].started_us);
}

TEST_F(CliTest, FailedTaskMakesTriggerExitNonZeroAndDownstreamIsUpstreamFailed) {
  WriteJob("fails.yaml", R"(
id: fails
tasks:
  - id: boom
    type: command
    shell: "echo about to fail >&2; exit 3"
  - id: after
    type: command
    command: echo
    args: [never]
    depends_on: [boom]
  - id: cleanup
    type: command
    command: echo
    args: [cleaning up]
    depends_on: [boom]
    condition: all_done
)");
  Outcome r = Run("trigger " + ShellQuote(jobs_.string()) + " fails");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("exited with code 3"));
  EXPECT_THAT(r.out, HasSubstr("about to fail"));
  RunRecord run;
  std::map<std::string, AttemptRecord> a = OnlyRunAttempts(&run);
  EXPECT_EQ(run.status, RunStatus::kFailed);
  EXPECT_EQ(a["boom"].state, TaskState::kFailed);
  EXPECT_EQ(a["boom"].exit_code, 3);
  EXPECT_EQ(a["after"].state, TaskState::kUpstreamFailed);
  EXPECT_EQ(a["cleanup"].state, TaskState::kSucceeded);
}

TEST_F(CliTest, RetriesAFailingTaskAndCountsAttempts) {
  fs::path counter = dir_ / "count";
  WriteJob("flaky.yaml", R"(
id: flaky
tasks:
  - id: flaky
    type: command
    shell: "echo x >> )" + counter.string() +
                             R"(; [ $(wc -l < )" + counter.string() + R"() -ge 3 ]"
    retry:
      max_attempts: 2
      delay_secs: 0
)");
  Outcome r = Run("trigger " + ShellQuote(jobs_.string()) + " flaky");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::map<std::string, AttemptRecord> a = OnlyRunAttempts();
  EXPECT_EQ(a["flaky"].attempt, 3u);
  EXPECT_EQ(a["flaky"].state, TaskState::kSucceeded);
}

TEST_F(CliTest, TasksShareAPoolFromPetitYamlAndUnknownPoolsAreValidationErrors) {
  std::ofstream(jobs_ / "petit.yaml") << "pools: {db: 1}\n";
  WriteJob("pooled.yaml", R"(
id: pooled
tasks:
  - {id: one, type: command, command: "true", resources: {db: 1}}
  - {id: two, type: command, command: "true", resources: {db: 1}}
)");
  Outcome r = Run("trigger " + ShellQuote(jobs_.string()) + " pooled --max-parallel 2");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::map<std::string, AttemptRecord> a = OnlyRunAttempts();
  // One slot: the two tasks never overlap.
  EXPECT_TRUE(a["one"].ended_us <= a["two"].started_us || a["two"].ended_us <= a["one"].started_us);

  WriteJob("typo.yaml", R"(
id: typo
tasks:
  - {id: t, type: command, command: "true", resources: {dbb: 1}}
)");
  Outcome v = Run("validate " + ShellQuote(jobs_.string()));
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_THAT(
      v.err,
      HasSubstr("typo.yaml:4:57: task 't': unknown resource pool 'dbb' (did you mean 'db'?)"));
}

TEST_F(CliTest, UpstreamOutputsReachCommandsThroughTemplates) {
  WriteJob("data.yaml", R"yaml(
id: data
config:
  greeting: hello
tasks:
  - id: produce
    type: command
    shell: 'echo "count=42" >> "$PETIT_OUTPUT"'
  - id: consume
    type: command
    command: echo
    args: ["${{ config.greeting }} ${{ tasks.produce.outputs.count }}"]
    depends_on: [produce]
)yaml");
  Outcome r = Run("trigger " + ShellQuote(jobs_.string()) + " data");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("hello 42"));
}

TEST_F(CliTest, ValidateReportsEveryErrorWithFileLineColumnAndSuggestion) {
  WriteJob("a_typo.yaml", R"(id: typo
tasks:
  - id: one
    type: command
    comand: echo
)");
  WriteJob("b_cycle.yaml", R"(id: cycle
tasks:
  - id: a
    type: command
    command: "true"
    depends_on: [c]
  - id: b
    type: command
    command: "true"
    depends_on: [a]
  - id: c
    type: command
    command: "true"
    depends_on: [b]
)");
  WriteJob("c_missing.yaml", R"(id: missing
tasks:
  - id: a
    type: command
    command: "true"
    depends_on: [nope]
)");
  Outcome r = Run("validate " + ShellQuote(jobs_.string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("a_typo.yaml:5:5: unknown key 'comand' in task 'one' "
                               "(did you mean 'command'?)"));
  EXPECT_THAT(r.err, HasSubstr("b_cycle.yaml"));
  EXPECT_THAT(r.err, HasSubstr("a -> c -> b -> a"));
  EXPECT_THAT(r.err, HasSubstr("c_missing.yaml:6:18: task 'a' depends on unknown task 'nope'"));
}

TEST_F(CliTest, TriggerOfAnUnknownJobSuggestsTheClosestId) {
  Outcome r =
      Run("trigger " + ShellQuote(std::string(PETIT_SOURCE_DIR) + "/examples") + " hello_wrld");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("did you mean 'hello_world'?"));
}

TEST_F(CliTest, UnknownOptionIsAUsageError) {
  Outcome r = Run("validate . --max-paralel 2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown option '--max-paralel' (did you mean '--max-parallel'?)"));
}

// A listing that could not be written (a full disk, a closed descriptor) must not read as
// complete to the script that asked for it: one line on stderr and exit 3.
TEST_F(CliTest, OutputThatCannotBeWrittenIsAnErrorNotASuccess) {
  WriteJob("one.yaml", "id: one\ntasks: [{id: t, type: command, command: \"true\"}]\n");
  const fs::path err = dir_ / "err.txt";
  for (const std::string redirect : {">/dev/full", ">&-"}) {
    SCOPED_TRACE(redirect);
    for (const std::string command : {"list", "validate"}) {
      SCOPED_TRACE(command);
      const std::string line = ShellQuote(PETIT_EXE) + " --storage memory: " + command + " " +
                               ShellQuote(jobs_.string()) + " " + redirect + " 2>" +
                               ShellQuote(err.string()) + " </dev/null";
      const int status = std::system(line.c_str());
      ASSERT_TRUE(WIFEXITED(status));
      EXPECT_EQ(WEXITSTATUS(status), 3) << ReadFile(err);
      EXPECT_THAT(ReadFile(err), HasSubstr("petit: cannot write to standard output"));
    }
  }
}

TEST_F(CliTest, LogsPrintsTheCapturedOutputOfARun) {
  ASSERT_EQ(Run("trigger " + ShellQuote(std::string(PETIT_SOURCE_DIR) + "/examples") +
                " hello_world --no-output")
                .exit_code,
            0);
  RunRecord run;
  OnlyRunAttempts(&run);
  Outcome r = Run("logs " + run.id.str() + " greet");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Hello, World from Petit!"));
  // A task the run does not have is an error, not an empty log.
  Outcome typo = Run("logs " + run.id.str() + " gret");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_THAT(typo.err, HasSubstr("run " + run.id.str() +
                                  " has no task 'gret' (did you mean "
                                  "'greet'?)"));
  Outcome runs = Run("runs");
  EXPECT_THAT(runs.out, HasSubstr(run.id.str()));
  EXPECT_THAT(runs.out, HasSubstr("succeeded"));
}

TEST_F(CliTest, TriggerPrintsEachTasksOutputIndentedUnderItsLine) {
  Outcome r =
      Run("trigger " + ShellQuote(std::string(PETIT_SOURCE_DIR) + "/examples") + " hello_world");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("     | Hello, World from Petit!\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("     | \n")));
}

TEST_F(CliTest, LogsPagesThroughManyChunksAndKeepsLinesSplitAcrossChunksWhole) {
  RunRecord run;
  run.id = RunId::Generate();
  run.job = JobId("chatty");
  run.status = RunStatus::kSucceeded;
  run.created_us = run.started_us = 1'000;
  run.ended_us = 2'000;
  std::string expected = "== talk (attempt 1, stdout) ==\n";
  {
    std::unique_ptr<StateStore> store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateRun(run).ok());
    // 41 chunks (more than one page), lines cut in the middle by chunk boundaries.
    for (uint32_t seq = 0; seq <= 40; ++seq) {
      LogChunk chunk{run.id, TaskId("talk"),
                     1,      OutputStream::kStdout,
                     seq,    "part " + std::to_string(seq) + (seq % 2 == 1 ? "\n" : " ")};
      expected += chunk.data;
      ASSERT_TRUE(store->AppendLog(chunk).ok());
    }
  }
  expected += "\n";  // the last chunk ends mid-line: the listing still ends with a newline
  Outcome r = Run("logs " + run.id.str());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, expected);
}

TEST_F(CliTest, UnreachableStorageIsAOneLineError) {
  // Nothing listens on port 1 of the loopback: the store cannot be reached (exit 3).
  Outcome r = Run("trigger " + ShellQuote(std::string(PETIT_SOURCE_DIR) + "/examples") +
                  " hello_world --storage " +
                  ShellQuote("postgresql://petit@127.0.0.1:1/petit?connect_timeout=5"));
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("succeeded")));
}

// A URI that cannot name a store at all is bad usage (exit 2, one line), as the README says,
// before anything starts; not a store that failed (exit 3).
TEST_F(CliTest, AStorageUriThatNamesNoStoreIsAUsageError) {
  for (const std::string uri : {"sqlite:", "sqlite://", "bogus://nowhere", "memory:foo"}) {
    SCOPED_TRACE(uri);
    const std::string trigger =
        "trigger " + ShellQuote(std::string(PETIT_SOURCE_DIR) + "/examples") + " hello_world";
    for (const std::string& command : {std::string("runs"), trigger}) {
      Outcome r = Run(command + " --storage " + ShellQuote(uri));
      EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
      EXPECT_THAT(r.err, HasSubstr(uri));
      EXPECT_THAT(r.out, Not(HasSubstr("succeeded")));
    }
  }
}

// An empty word (a script's variable that expanded to nothing) would widen what a command does:
// every run's log instead of one task's, every job's runs. It is bad usage, as are extra operands.
TEST_F(CliTest, EmptyArgumentsAndExtraOperandsAreUsageErrors) {
  const std::string run = RunId::Generate().str();
  struct Case {
    std::string args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"''", "the command is empty"},
           {"--storage memory: logs " + run + " ''", "the argument after '" + run + "' is empty"},
           {"--storage memory: runs --job ''", "--job is empty"},
           {"pause '' --server http://127.0.0.1:1", "the argument after 'pause' is empty"},
           {"version extra", "usage: petit version"},
           {"help me", "usage: petit help"},
           // The jobs directory without the run: the run is missing, not a malformed run id.
           {"retry " + ShellQuote(std::string(PETIT_SOURCE_DIR) + "/examples"),
            "is a directory: the run is missing"},
       }) {
    Outcome r = Run(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << ": " << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.args << ": " << r.err;
    EXPECT_EQ(r.out, "") << c.args;
  }
}

// An option the command does not read is bad usage, not ignored: `trigger --dry-run` ran the job.
TEST_F(CliTest, AnOptionTheCommandDoesNotReadIsAUsageErrorAndNothingRuns) {
  const std::string examples = ShellQuote(std::string(PETIT_SOURCE_DIR) + "/examples");
  struct Case {
    std::string args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"trigger " + examples + " hello_world --dry-run",
            "trigger DIR JOB does not take --dry-run (--dry-run is for retry RUN, retry DIR RUN)"},
           {"trigger " + examples + " diamond --task fetch", "does not take --task"},
           {"validate " + examples + " --detach", "validate DIR does not take --detach"},
           {"runs --format svg", "runs does not take --format (--format is for graph DIR JOB)"},
           {"version --json", "version does not take --json"},
           {"trigger " + examples + " hello_world --quiet=0", "option --quiet takes no value"},
       }) {
    Outcome r = Run(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << ": " << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.args << ": " << r.err;
    EXPECT_EQ(r.out, "") << c.args;
  }
  EXPECT_FALSE(std::filesystem::exists(db_)) << "no run may have started";
}

TEST_F(CliTest, TriggerRefusesAJobAtItsMaxConcurrencyHeldByALiveProcess) {
  Result<std::string> self = host::CurrentProcessOwner();
  ASSERT_TRUE(self.ok()) << self.status().ToString();
  RunRecord active;
  active.id = RunId::Generate();
  active.job = JobId("hello_world");
  active.status = RunStatus::kRunning;
  active.owner = *self;  // this test process: alive, so recovery leaves the run alone
  active.created_us = active.started_us = 1'000;
  {
    std::unique_ptr<StateStore> store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateRun(active).ok());
  }
  const std::string examples = ShellQuote(std::string(PETIT_SOURCE_DIR) + "/examples");
  Outcome refused = Run("trigger " + examples + " hello_world --no-output");
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("job 'hello_world' already has 1 active run(s) "
                                     "(max_concurrency 1), newest " +
                                     active.id.str() + ": nothing started"));

  {
    std::unique_ptr<StateStore> store = OpenStore();
    ASSERT_NE(store, nullptr);
    Result<std::vector<RunRecord>> runs = store->ListRuns(JobId("hello_world"), 10);
    ASSERT_TRUE(runs.ok());
    EXPECT_EQ(runs->size(), 1u);
    active.status = RunStatus::kSucceeded;
    active.ended_us = 2'000;
    ASSERT_TRUE(store->UpdateRun(active).ok());
  }
  Outcome admitted = Run("trigger " + examples + " hello_world --no-output");
  EXPECT_EQ(admitted.exit_code, 0) << admitted.out << admitted.err;
}

TEST_F(CliTest, TriggerFirstInterruptsRunsLeftRunningByDeadProcessesOfThisHost) {
  Result<std::string> self = host::CurrentProcessOwner();
  ASSERT_TRUE(self.ok()) << self.status().ToString();
  // This test's own pid with another start time: a process that died and whose pid was reused.
  const std::string reused = self->substr(0, self->rfind('/') + 1) + "0";
  RunRecord unowned;
  RunRecord dead;
  RunRecord foreign;
  {
    std::unique_ptr<StateStore> store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto create = [&](RunRecord& run, const std::string& owner, int64_t created_us) {
      run.id = RunId::Generate();
      run.job = JobId("diamond");
      run.status = RunStatus::kRunning;
      run.owner = owner;
      run.created_us = created_us;
      run.started_us = created_us;
      ASSERT_TRUE(store->CreateRun(run).ok());
    };
    create(unowned, "", 1'000);
    create(dead, reused, 2'000);
    create(foreign, "build-host.invalid/1/1", 3'000);
    AttemptRecord attempt;
    attempt.run = dead.id;
    attempt.task = TaskId("fetch");
    attempt.attempt = 1;
    attempt.state = TaskState::kRunning;
    ASSERT_TRUE(store->SaveAttempts(std::array{attempt}).ok());
  }

  Outcome r = Run("trigger " + ShellQuote(std::string(PETIT_SOURCE_DIR) + "/examples") +
                  " hello_world --no-output");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("petit: interrupted run " + unowned.id.str() +
                               " of job diamond: the host process (not recorded) died\n"));
  EXPECT_THAT(r.err, HasSubstr("petit: interrupted run " + dead.id.str() +
                               " of job diamond: the host process " + reused + " died\n"));
  EXPECT_THAT(r.err, Not(HasSubstr(foreign.id.str())));

  std::unique_ptr<StateStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (const RunRecord* run : {&unowned, &dead}) {
    Result<std::optional<RunRecord>> stored = store->GetRun(run->id);
    ASSERT_TRUE(stored.ok() && stored->has_value());
    EXPECT_EQ((*stored)->status, RunStatus::kInterrupted);
    EXPECT_GT((*stored)->ended_us, 0);
  }
  Result<std::vector<AttemptRecord>> attempts = store->ListAttempts(dead.id);
  ASSERT_TRUE(attempts.ok() && attempts->size() == 1);
  EXPECT_EQ(attempts->at(0).state, TaskState::kInterrupted);
  Result<std::vector<RunRecord>> incomplete = store->ListIncompleteRuns();
  ASSERT_TRUE(incomplete.ok()) << incomplete.status().ToString();
  ASSERT_EQ(incomplete->size(), 1u);
  EXPECT_EQ(incomplete->at(0).id, foreign.id);
  // The new run names the petit process that drove it: this host, another pid.
  Result<std::vector<RunRecord>> triggered = store->ListRuns(JobId("hello_world"), 10);
  ASSERT_TRUE(triggered.ok() && triggered->size() == 1);
  const std::string& owner = triggered->at(0).owner;
  const std::string host = self->substr(0, self->find('/') + 1);
  EXPECT_EQ(owner.rfind(host, 0), 0u) << owner;
  EXPECT_NE(owner, *self);
  EXPECT_EQ(std::count(owner.begin(), owner.end(), '/'), 2) << owner;
}

}  // namespace
}  // namespace petit

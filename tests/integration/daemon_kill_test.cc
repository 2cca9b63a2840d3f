// Crash testing of the real daemon: `petit run` with command tasks in flight is killed with
// SIGKILL at random moments, restarted, and after every kill the store and the machine are checked:
//
//   - the store opens and passes its integrity check (PRAGMA integrity_check for SQLite);
//   - every acknowledged transition is there: each task appends "start RUN TASK ATTEMPT" to a side
//     file once it has been told to run (the store must then hold that attempt), and each run the
//     daemon said ended ("ended: STATUS") must be stored so ("run started" is not an
//     acknowledgement: the scheduler logs it when it admits the run, before the run is written);
//   - no attempt stays running after recovery: once the restarted daemon is ready, every unfinished
//     run, and every attempt still queued or running, belongs to that daemon;
//   - nothing ran twice: each side-file line appears once, and each schedule occurrence the
//     daemons logged started one run;
//   - no task process is left alive: every task starts long-lived descendants (one in its process
//     group, one that called setsid, and where the host can give attempts cgroups (or with
//     PETIT_CRASH_ESCAPES=all) two that cleared their environment with env -i) named
//     "crashmark-TAG-RUN-TASK-ATTEMPT-KIND" in argv[0], so /proc shows them whatever their
//     environment holds; one whose attempt is not running under the live daemon must exit.
//
// The kill count is PETIT_CRASH_KILLS per backend (default kDefaultKills, bounded for CI; the
// bench script bench/crash_bench.py runs 1,000), the moments come from a seeded RNG
// (PETIT_CRASH_SEED to replay; the seed is printed with every failure). Nothing sleeps: each kill
// waits for a random number of lines of the daemon's log, and each check for the events it needs.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "integration/api_any_port.h"
#include "integration/daemon_process.h"
#include "integration/store_backends.h"
#include "petit/core/state_store.h"
#include "petit/storage/open.h"
#include "runtime/task_cgroups.h"

extern char** environ;

namespace petit {
namespace {

namespace fs = std::filesystem;

// Bounds every wait so a broken daemon fails the test instead of hanging it.
constexpr auto kPatience = std::chrono::seconds(60);
// How long a process that should be gone gets to exit after recovery signalled it (a SIGKILL'd
// process exits asynchronously); a leaked one sleeps for 1,000 s.
constexpr auto kExitPatience = std::chrono::seconds(15);
constexpr int kDefaultKills = 20;
// A kill comes after 0 to kMaxLinesBeforeKill lines of the daemon's log past its ready line; 0
// includes kills during startup and recovery (no line waited for at all).
constexpr int kMaxLinesBeforeKill = 12;
// A PostgreSQL advisory lock is released when the server notices the killed connection, a moment
// after the kill; a daemon started before then exits 3 and is started again.
constexpr int kMaxLockRefusals = 200;
constexpr const char* kJobs[] = {"chain", "fan", "solo"};

int MillisLeft(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// The petit binary: PETIT_CRASH_PETIT (the bench runs a copy, or a release build), else this
// build's.
std::string Petit() {
  const char* petit = std::getenv("PETIT_CRASH_PETIT");
  return petit != nullptr && *petit != '\0' ? petit : PETIT_EXE;
}

// A running `petit run`, its stderr read line by line through a pipe.
class Daemon {
 public:
  Daemon(const std::vector<std::string>& args) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2: " << std::strerror(errno);
      return;
    }
    err_fd_ = fds[0];
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    std::vector<std::string> argv_strings = {Petit()};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : argv_strings) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int rc =
        posix_spawn(&pid_, argv_strings[0].c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
      ADD_FAILURE() << "posix_spawn " << argv_strings[0] << ": " << std::strerror(rc);
      pid_ = -1;
    }
  }
  ~Daemon() {
    Kill();
    if (err_fd_ >= 0) close(err_fd_);
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Reads until a complete line contains `text`; false at end of file or after kPatience.
  bool WaitForLine(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    for (;;) {
      for (; scanned_ < lines_.size(); ++scanned_) {
        if (lines_[scanned_].find(text) != std::string::npos) {
          ++scanned_;
          return true;
        }
      }
      if (!ReadSome(deadline)) return false;
    }
  }

  // Reads until `count` more complete lines have arrived; false at end of file or after kPatience.
  bool WaitForLines(size_t count) {
    const size_t target = lines_.size() + count;
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (lines_.size() < target) {
      if (!ReadSome(deadline)) return false;
    }
    return true;
  }

  // SIGKILL, as a crash would; reaps it and reads what it had written.
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    Drain();
  }

  // SIGTERM; returns the exit status once it exited (-1 when killed or not within kPatience).
  int Terminate() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    return WaitForExit();
  }

  // Reads to end of file; the exit status (-1 when killed by a signal or not done in time).
  int WaitForExit() {
    if (pid_ <= 0) return -1;
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (ReadSome(deadline)) {
    }
    if (MillisLeft(deadline) == 0) return -1;
    int status = 0;
    if (waitpid(pid_, &status, 0) != pid_) return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  pid_t pid() const { return pid_; }
  const std::vector<std::string>& lines() const { return lines_; }
  std::string Log() const {
    std::string text;
    for (const std::string& line : lines_) text += line + "\n";
    return text + partial_;
  }

 private:
  void Drain() {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (ReadSome(deadline)) {
    }
  }

  bool ReadSome(std::chrono::steady_clock::time_point deadline) {
    if (err_fd_ < 0) return false;
    pollfd fd{err_fd_, POLLIN, 0};
    if (poll(&fd, 1, MillisLeft(deadline)) <= 0) return false;
    char buffer[4096];
    const ssize_t n = read(err_fd_, buffer, sizeof buffer);
    if (n <= 0) return false;
    partial_.append(buffer, static_cast<size_t>(n));
    for (size_t end = partial_.find('\n'); end != std::string::npos; end = partial_.find('\n')) {
      lines_.push_back(partial_.substr(0, end));
      partial_.erase(0, end + 1);
    }
    return true;
  }

  pid_t pid_ = -1;
  int err_fd_ = -1;
  std::vector<std::string> lines_;
  size_t scanned_ = 0;
  std::string partial_;
};

struct AttemptKey {
  std::string run;
  std::string task;
  uint32_t attempt = 0;
  auto operator<=>(const AttemptKey&) const = default;
};

std::string Describe(const AttemptKey& key) {
  return key.run + "/" + key.task + "#" + std::to_string(key.attempt);
}

// A process named "crashmark-TAG-RUN-TASK-ATTEMPT-KIND" in argv[0].
struct MarkedProcess {
  pid_t pid = 0;
  AttemptKey attempt;
  std::string kind;
};

std::vector<MarkedProcess> FindMarkedProcesses(const std::string& prefix) {
  std::vector<MarkedProcess> found;
  for (const fs::directory_entry& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string argv0;
    if (!std::getline(in, argv0, '\0') || argv0.rfind(prefix, 0) != 0) continue;
    // RUN holds dashes; TASK, ATTEMPT and KIND do not.
    std::string rest = argv0.substr(prefix.size());
    MarkedProcess process;
    process.pid = static_cast<pid_t>(std::stol(name));
    size_t dash = rest.rfind('-');
    if (dash == std::string::npos) continue;
    process.kind = rest.substr(dash + 1);
    rest.resize(dash);
    dash = rest.rfind('-');
    if (dash == std::string::npos) continue;
    process.attempt.attempt = static_cast<uint32_t>(std::stoul(rest.substr(dash + 1)));
    rest.resize(dash);
    dash = rest.rfind('-');
    if (dash == std::string::npos) continue;
    process.attempt.task = rest.substr(dash + 1);
    process.attempt.run = rest.substr(0, dash);
    found.push_back(std::move(process));
  }
  return found;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

using testing::Backend;

class DaemonKillTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    store_.Open(GetParam(), fs::path(temp_.path()) / "state" / "petit.db");
    if (IsSkipped() || HasFatalFailure()) return;
    uri_ = store_.uri();
    dir_ = temp_.path();
    jobs_ = dir_ / "jobs";
    side_ = dir_ / "side.log";
    fs::create_directories(jobs_);
    const char* kills = std::getenv("PETIT_CRASH_KILLS");
    kills_ = kills != nullptr && *kills != '\0' ? std::atoi(kills) : kDefaultKills;
    const char* seed = std::getenv("PETIT_CRASH_SEED");
    seed_ = seed != nullptr && *seed != '\0' ? std::strtoull(seed, nullptr, 10)
                                             : std::random_device{}();
    // The descendants that clear their environment can only be found through the attempts'
    // cgroups; without them, PETIT_CRASH_ESCAPES=all shows what escapes.
    const char* escapes = std::getenv("PETIT_CRASH_ESCAPES");
    all_escapes_ = escapes != nullptr && *escapes != '\0' ? std::string(escapes) == "all"
                                                          : host::TaskCgroupsBase().has_value();
    // Unique per test, so concurrent tests (and other suites) never see each other's processes.
    tag_ = std::to_string(getpid()) + "x" + std::to_string(seed_ % 100000);
    prefix_ = "crashmark-" + tag_ + "-";
    WriteJobs();
  }

  void TearDown() override {
    // Whatever a failed check left alive, so the machine stays clean.
    for (const MarkedProcess& process : FindMarkedProcesses(prefix_)) kill(process.pid, SIGKILL);
  }

  // Each task: notes its start in the side file, starts its long-lived descendants, works a little
  // (the duration of the task itself, not a synchronisation), then ends them and succeeds.
  void WriteJobs() {
    const fs::path script = dir_ / "task.sh";
    std::string escapes;
    if (all_escapes_) {
      escapes =
          "env -i /bin/bash -c \"exec -a $m-cleared sleep 1000\" & p3=$!\n"
          "env -i setsid /bin/bash -c \"exec -a $m-hidden sleep 1000\" & p4=$!\n";
    }
    std::ofstream(script) << "m=" << prefix_
                          << "$PETIT_RUN_ID-$PETIT_TASK_ID-$PETIT_ATTEMPT\n"
                             "echo \"start $PETIT_RUN_ID $PETIT_TASK_ID $PETIT_ATTEMPT\" >> '"
                          << side_.string()
                          << "'\n"
                             "bash -c \"exec -a $m-member sleep 1000\" & p1=$!\n"
                             "setsid bash -c \"exec -a $m-escaped sleep 1000\" & p2=$!\n"
                          << escapes
                          << "sleep 0.$((RANDOM % 4))\n"
                             "kill $p1 $p2 $p3 $p4 2>/dev/null\n"
                             "wait\n";
    const std::string task =
        "    type: command\n    command: /bin/bash\n    args: ['" + script.string() + "']\n";
    std::ofstream(jobs_ / "petit.yaml") << petit::testing::kApiAnyPort << "shutdown_grace: 1\n";
    std::ofstream(jobs_ / "chain.yaml")
        << "id: chain\nschedule: \"@every 1s\"\nmax_concurrency: 1\n"
           "tasks:\n  - id: a\n"
        << task << "    retry: {max_attempts: 2}\n  - id: b\n"
        << task << "    depends_on: [a]\n";
    std::ofstream(jobs_ / "fan.yaml") << "id: fan\nschedule: \"@every 1s\"\nmax_concurrency: 1\n"
                                         "tasks:\n  - id: x\n"
                                      << task << "  - id: y\n"
                                      << task << "    retry: {max_attempts: 1}\n  - id: z\n"
                                      << task << "    depends_on: [x, y]\n";
    std::ofstream(jobs_ / "solo.yaml") << "id: solo\nschedule: \"*/2 * * * * *\"\n"
                                          "tasks:\n  - id: s\n"
                                       << task << "    retry: {max_attempts: 3}\n";
  }

  std::vector<std::string> RunArgs() const { return {"run", jobs_.string(), "--storage", uri_}; }

  // Starts a daemon and waits until it is ready (recovery done, schedules armed); restarts it
  // while the store's lock is still held by the killed one.
  std::unique_ptr<Daemon> StartReady() {
    for (int refusal = 0; refusal <= kMaxLockRefusals; ++refusal) {
      auto daemon = std::make_unique<Daemon>(RunArgs());
      if (daemon->WaitForLine(" jobs (")) return daemon;
      const int status = daemon->WaitForExit();
      Remember(*daemon);
      if (status != 3 || daemon->Log().find("in use by") == std::string::npos) {
        ADD_FAILURE() << "petit run did not get ready (exit " << status << "):\n" << daemon->Log();
        return nullptr;
      }
    }
    ADD_FAILURE() << "the store stayed locked";
    return nullptr;
  }

  // Records what a daemon printed about runs, once it is gone or at a check.
  void Remember(const Daemon& daemon) {
    for (const std::string& line : daemon.lines()) {
      // "job J run R: occurrence T (trigger schedule): run started"
      size_t at = line.find(": occurrence ");
      if (at != std::string::npos && line.find("run started") != std::string::npos) {
        const size_t job_at = line.find("job ");
        const size_t run_at = line.find(" run ", job_at);
        if (job_at == std::string::npos || run_at == std::string::npos) continue;
        const std::string job = line.substr(job_at + 4, run_at - job_at - 4);
        const std::string run = line.substr(run_at + 5, at - run_at - 5);
        const size_t time_end = line.find(' ', at + 13);
        occurrences_[{job, line.substr(at + 13, time_end - at - 13)}].insert(run);
      }
      // "job J run R ended: STATUS in ..."
      at = line.find(" ended: ");
      if (at != std::string::npos) {
        const size_t run_at = line.rfind(" run ", at);
        const size_t status_end = line.find(' ', at + 8);
        if (run_at == std::string::npos) continue;
        ended_runs_[line.substr(run_at + 5, at - run_at - 5)] =
            line.substr(at + 8, status_end - at - 8);
      }
    }
  }

  std::unique_ptr<StateStore> OpenStore() {
    Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  void CheckSqliteIntegrity() {
    if (GetParam() != Backend::kSqlite) return;
    const std::string path = uri_.substr(std::string("sqlite://").size());
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    std::unique_ptr<sqlite3, int (*)(sqlite3*)> closer(db, sqlite3_close);
    for (const char* pragma : {"PRAGMA integrity_check", "PRAGMA foreign_key_check"}) {
      sqlite3_stmt* statement = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(db, pragma, -1, &statement, nullptr), SQLITE_OK);
      std::string result;
      while (sqlite3_step(statement) == SQLITE_ROW) {
        const unsigned char* text = sqlite3_column_text(statement, 0);
        result += text != nullptr ? reinterpret_cast<const char*>(text) : "NULL";
        result += ";";
      }
      sqlite3_finalize(statement);
      if (std::string(pragma) == "PRAGMA integrity_check") {
        EXPECT_EQ(result, "ok;") << pragma;
      } else {
        EXPECT_EQ(result, "") << pragma;
      }
    }
  }

  // Side-file lines, each once; returns the attempts they name.
  std::set<AttemptKey> CheckSideFile() {
    std::set<AttemptKey> started;
    std::istringstream in(ReadFile(side_));
    std::string word;
    AttemptKey key;
    while (in >> word >> key.run >> key.task >> key.attempt) {
      EXPECT_TRUE(started.insert(key).second) << "attempt ran twice: " << Describe(key);
    }
    return started;
  }

  // The store as it is now: every run of the jobs and its attempts.
  struct Snapshot {
    std::map<std::string, RunRecord> runs;
    std::map<AttemptKey, AttemptRecord> attempts;
  };
  // Each run's attempts are read before the run itself: an attempt the live daemon wrote belongs
  // to a run it had already created or reopened, so the pair read is never older for the run.
  Snapshot Read(StateStore& store) {
    Snapshot snapshot;
    for (const char* job : kJobs) {
      Result<std::vector<RunRecord>> runs = store.ListRuns(JobId(job), 1u << 20);
      EXPECT_TRUE(runs.ok()) << runs.status().ToString();
      if (!runs.ok()) continue;
      for (RunRecord run : *runs) {
        const std::string id = run.id.str();
        if (settled_.contains(id)) {
          snapshot.runs[id] = std::move(run);
          continue;
        }
        Result<std::vector<AttemptRecord>> attempts = store.ListAttempts(run.id);
        EXPECT_TRUE(attempts.ok()) << attempts.status().ToString();
        Result<std::optional<RunRecord>> fresh = store.GetRun(run.id);
        EXPECT_TRUE(fresh.ok()) << fresh.status().ToString();
        if (!attempts.ok() || !fresh.ok() || !fresh->has_value()) continue;
        run = **fresh;
        // An interrupted run may still be resumed by the next start.
        bool all_over = IsTerminal(run.status) && run.status != RunStatus::kInterrupted;
        for (const AttemptRecord& attempt : *attempts) {
          snapshot.attempts[{id, attempt.task.str(), attempt.attempt}] = attempt;
          if (!IsTerminal(attempt.state)) all_over = false;
        }
        if (all_over) settled_.insert(id);
        snapshot.runs[id] = std::move(run);
      }
    }
    return snapshot;
  }

  // What must hold whenever no daemon runs (right after a kill) or one has just got ready.
  void CheckAcknowledged(const Snapshot& snapshot) {
    for (const AttemptKey& key : CheckSideFile()) {
      if (settled_.contains(key.run)) continue;  // checked when it settled
      EXPECT_TRUE(snapshot.attempts.contains(key))
          << "a task ran without its attempt in the store: " << Describe(key);
    }
    for (const auto& [run, status] : ended_runs_) {
      const auto stored = snapshot.runs.find(run);
      ASSERT_NE(stored, snapshot.runs.end()) << "acknowledged run missing: " << run;
      EXPECT_EQ(std::string(RunStatusName(stored->second.status)), status) << "run " << run;
    }
    for (const auto& [occurrence, runs] : occurrences_) {
      EXPECT_LE(runs.size(), 1u) << "occurrence " << occurrence.first << " " << occurrence.second
                                 << " started " << runs.size() << " runs";
    }
  }

  // Once a restarted daemon is ready: nothing unfinished belongs to a dead process, and no task
  // process outlives its attempt.
  // A run the live daemon ends between the reads of its attempts and of itself looks like a
  // violation once; one that persists in a second reading is real.
  void CheckRecovered(StateStore& store, pid_t live) {
    const std::string live_owner = "/" + std::to_string(live) + "/";
    if (!Violations(Read(store), live_owner).empty()) {
      const Snapshot snapshot = Read(store);
      for (const std::string& violation : Violations(snapshot, live_owner)) {
        ADD_FAILURE() << violation;
      }
    }
    CheckNoLeftovers(Read(store), live_owner);
  }

  std::vector<std::string> Violations(const Snapshot& snapshot, const std::string& live_owner) {
    std::vector<std::string> violations;
    for (const auto& [id, run] : snapshot.runs) {
      if (IsTerminal(run.status)) continue;
      if (run.owner.find(live_owner) == std::string::npos) {
        violations.push_back("run " + id + " is " + std::string(RunStatusName(run.status)) +
                             " under " + run.owner);
      }
    }
    for (const auto& [key, attempt] : snapshot.attempts) {
      if (IsTerminal(attempt.state) || attempt.state == TaskState::kPending) continue;
      const auto run = snapshot.runs.find(key.run);
      const bool live_run = run != snapshot.runs.end() && !IsTerminal(run->second.status) &&
                            run->second.owner.find(live_owner) != std::string::npos;
      if (!live_run) {
        violations.push_back("attempt " + Describe(key) + " stays " +
                             std::string(TaskStateName(attempt.state)));
      }
    }
    return violations;
  }

  void CheckNoLeftovers(const Snapshot& snapshot, const std::string& live_owner) {
    for (const MarkedProcess& process : FindMarkedProcesses(prefix_)) {
      const auto attempt = snapshot.attempts.find(process.attempt);
      const auto run = snapshot.runs.find(process.attempt.run);
      const bool running =
          attempt != snapshot.attempts.end() && attempt->second.state == TaskState::kRunning &&
          run != snapshot.runs.end() && run->second.owner.find(live_owner) != std::string::npos;
      if (running) continue;
      // Read before the process was listed, or signalled and not yet gone: it must exit.
      if (testing::WaitForProcessExit(process.pid, kExitPatience)) continue;
      ADD_FAILURE() << "process " << process.pid << " (" << process.kind << ") of attempt "
                    << Describe(process.attempt) << " is still alive";
      kill(process.pid, SIGKILL);
    }
  }

  testing::TempDir temp_;
  testing::BackendStore store_;
  std::string uri_;
  fs::path dir_;
  fs::path jobs_;
  fs::path side_;
  int kills_ = kDefaultKills;
  uint64_t seed_ = 0;
  bool all_escapes_ = false;
  std::string tag_;
  std::string prefix_;

  std::map<std::pair<std::string, std::string>, std::set<std::string>> occurrences_;
  std::map<std::string, std::string> ended_runs_;
  std::set<std::string> settled_;
};

TEST_P(DaemonKillTest, EveryKillLeavesAConsistentStoreAndNothingRunning) {
  SCOPED_TRACE("PETIT_CRASH_SEED=" + std::to_string(seed_) + " (replay with this)");
  std::mt19937_64 rng(seed_);
  std::uniform_int_distribution<int> lines(0, kMaxLinesBeforeKill);
  for (int kill_number = 1; kill_number <= kills_; ++kill_number) {
    SCOPED_TRACE("kill " + std::to_string(kill_number) + " of " + std::to_string(kills_));
    std::unique_ptr<Daemon> daemon = StartReady();
    ASSERT_NE(daemon, nullptr);
    {
      std::unique_ptr<StateStore> store = OpenStore();
      ASSERT_NE(store, nullptr);
      CheckRecovered(*store, daemon->pid());
    }
    // The moment: after a random number of the daemon's log lines.
    const int wait_lines = lines(rng);
    if (wait_lines > 0 && !daemon->WaitForLines(static_cast<size_t>(wait_lines))) {
      ADD_FAILURE() << "the daemon stopped logging:\n" << daemon->Log();
    }
    daemon->Kill();
    Remember(*daemon);
    CheckSqliteIntegrity();
    std::unique_ptr<StateStore> store = OpenStore();
    ASSERT_NE(store, nullptr);
    CheckAcknowledged(Read(*store));
    if (HasFailure()) {
      ADD_FAILURE() << "last daemon's log:\n" << daemon->Log();
      return;
    }
  }
  // A last start recovers the last kill, then a graceful stop: nothing may be left at all.
  std::unique_ptr<Daemon> last = StartReady();
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->Terminate(), 0) << last->Log();
  Remember(*last);
  CheckSqliteIntegrity();
  std::unique_ptr<StateStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  const Snapshot snapshot = Read(*store);
  CheckAcknowledged(snapshot);
  for (const auto& [id, run] : snapshot.runs) {
    EXPECT_TRUE(IsTerminal(run.status)) << "run " << id << " " << RunStatusName(run.status);
  }
  for (const auto& [key, attempt] : snapshot.attempts) {
    EXPECT_TRUE(IsTerminal(attempt.state)) << Describe(key) << " " << TaskStateName(attempt.state);
  }
  CheckNoLeftovers(snapshot, "/no live daemon/");
  const size_t attempts = CheckSideFile().size();
  RecordProperty("runs", static_cast<int>(snapshot.runs.size()));
  RecordProperty("attempts", static_cast<int>(attempts));
  std::printf("kills %d, runs %zu, task attempts %zu, seed %llu\n", kills_, snapshot.runs.size(),
              attempts, static_cast<unsigned long long>(seed_));
}

INSTANTIATE_TEST_SUITE_P(Backends, DaemonKillTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

}  // namespace
}  // namespace petit

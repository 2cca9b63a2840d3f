// End to end: `petit trigger` and `petit run` on a PostgreSQL server of the test's own, which the
// test stops while a task runs and starts again. The task goes on, petit says once that the store
// is down and once that it is back, and the run ends recorded as it ran: downstream task run,
// nothing left running. Skipped when the PostgreSQL binaries are absent.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/api_any_port.h"
#include "integration/petit_process.h"
#include "petit/core/state_store.h"
#include "petit/storage/open.h"
#include "storage_backends/own_postgres_server.h"

extern char** environ;

namespace petit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Bounds every wait so a broken build fails instead of hanging; nothing waits for it to elapse.
constexpr int kPatienceMs = 120'000;

// A `petit` of this build in the background (petit_process.h).
class Background : public testing::BackgroundPetit {
 public:
  Background(const std::vector<std::string>& args, const fs::path& dir)
      : BackgroundPetit(PETIT_EXE, args, dir) {}
};

// Waits, woken by inotify on each write, until `file` contains `text`.
bool WaitForText(const fs::path& file, const std::string& text) {
  const int watch = inotify_init1(IN_CLOEXEC);
  if (watch < 0) return false;
  inotify_add_watch(watch, file.c_str(), IN_MODIFY);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(kPatienceMs);
  bool found = false;
  while (!(found = testing::ReadFile(file).find(text) != std::string::npos)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        give_up - std::chrono::steady_clock::now());
    pollfd fd{watch, POLLIN, 0};
    if (left.count() <= 0 || poll(&fd, 1, static_cast<int>(left.count())) != 1) break;
    char events[4096];
    (void)read(watch, events, sizeof events);
  }
  close(watch);
  return found;
}

class TriggerStoreOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::OwnPostgresServer::Available()) {
      GTEST_SKIP() << "no PostgreSQL binaries (set PGBIN)";
    }
    std::string pattern = (fs::temp_directory_path() / "petit-outage-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    fs::create_directories(dir_ / "jobs");
    for (const char* name : {"started.fifo", "go.fifo"}) {
      ASSERT_EQ(mkfifo((dir_ / name).c_str(), 0600), 0) << std::strerror(errno);
    }
    // Read-write, so neither side's open blocks and the pipes never report a hang-up.
    started_fd_ = open((dir_ / "started.fifo").c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    go_fd_ = open((dir_ / "go.fifo").c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(started_fd_, 0);
    ASSERT_GE(go_fd_, 0);
    std::optional<std::string> uri = server_.Start();
    ASSERT_TRUE(uri.has_value()) << "the test's own PostgreSQL server did not start";
    uri_ = *uri;
  }
  void TearDown() override {
    if (started_fd_ >= 0) close(started_fd_);
    if (go_fd_ >= 0) close(go_fd_);
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  bool TaskStarted() {
    pollfd fd{started_fd_, POLLIN, 0};
    if (poll(&fd, 1, kPatienceMs) != 1) return false;
    char buffer[64];
    return read(started_fd_, buffer, sizeof buffer) > 0;
  }

  fs::path dir_;
  int started_fd_ = -1;
  int go_fd_ = -1;
  testing::OwnPostgresServer server_{PETIT_PG_TEST_SERVER};
  std::string uri_;
};

TEST_F(TriggerStoreOutageTest, ARunOutlivesAPostgresRestartAndEndsRecordedAsItRan) {
  std::ofstream(dir_ / "jobs" / "outage.yaml")
      << "id: outage\n"
         "tasks:\n"
         "  - id: a\n"
         "    type: command\n"
         "    command: sh\n"
         "    args: [\"-c\", \"echo started > '"
      << (dir_ / "started.fifo").string() << "'; read line < '" << (dir_ / "go.fifo").string()
      << "'; echo a done\"]\n"
         "  - id: b\n"
         "    type: command\n"
         "    command: \"true\"\n"
         "    depends_on: [a]\n";
  Background trigger({"--storage", uri_, "trigger", (dir_ / "jobs").string(), "outage"}, dir_);
  ASSERT_TRUE(TaskStarted()) << trigger.err();

  ASSERT_TRUE(server_.Stop());
  ASSERT_EQ(write(go_fd_, "go\n", 3), 3);  // a ends, and writes its output, with the store down
  ASSERT_TRUE(WaitForText(trigger.err_path(), "state store unavailable")) << trigger.err();
  ASSERT_TRUE(server_.Start().has_value());

  EXPECT_EQ(trigger.Wait(), 0) << trigger.out() << trigger.err();
  EXPECT_THAT(trigger.err(), HasSubstr("state store available again after"));

  Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Result<std::vector<RunRecord>> runs = (*store)->ListRuns(JobId(), 10);
  ASSERT_TRUE(runs.ok() && runs->size() == 1);
  EXPECT_EQ(runs->front().status, RunStatus::kSucceeded) << runs->front().error;
  Result<std::vector<AttemptRecord>> attempts = (*store)->ListAttempts(runs->front().id);
  ASSERT_TRUE(attempts.ok());
  std::map<std::string, TaskState> last;
  for (const AttemptRecord& attempt : *attempts) last[attempt.task.str()] = attempt.state;
  EXPECT_EQ(last["a"], TaskState::kSucceeded);
  EXPECT_EQ(last["b"], TaskState::kSucceeded);
  LogQuery query;
  query.task = TaskId("a");
  Result<std::vector<LogChunk>> logs = (*store)->ReadLogs(runs->front().id, query);
  ASSERT_TRUE(logs.ok());
  std::string output;
  for (const LogChunk& chunk : *logs) output += chunk.data;
  EXPECT_THAT(output, HasSubstr("a done"));
}

TEST_F(TriggerStoreOutageTest, ADaemonOutlivesAPostgresRestartAndSaysSo) {
  // Fires every two seconds; only the first run waits for the test, later ones end at once.
  const fs::path marker = dir_ / "released";
  std::ofstream(dir_ / "jobs" / "outage.yaml")
      << "id: outage\n"
         "schedule: \"*/2 * * * * *\"\n"
         "tasks:\n"
         "  - id: a\n"
         "    type: command\n"
         "    command: sh\n"
         "    args: [\"-c\", \"echo started > '"
      << (dir_ / "started.fifo").string() << "'; [ -f '" << marker.string()
      << "' ] || read line < '" << (dir_ / "go.fifo").string()
      << "'; echo a done\"]\n"
         "  - id: b\n"
         "    type: command\n"
         "    command: \"true\"\n"
         "    depends_on: [a]\n";
  std::ofstream(dir_ / "jobs" / "petit.yaml") << petit::testing::kApiAnyPort;
  Background daemon({"--storage", uri_, "run", (dir_ / "jobs").string()}, dir_);
  ASSERT_TRUE(TaskStarted()) << daemon.err();

  ASSERT_TRUE(server_.Stop());
  std::ofstream(marker) << "";
  ASSERT_EQ(write(go_fd_, "go\n", 3), 3);
  ASSERT_TRUE(WaitForText(daemon.err_path(), "state store unavailable")) << daemon.err();
  ASSERT_TRUE(server_.Start().has_value());
  ASSERT_TRUE(WaitForText(daemon.err_path(), "state store available again after")) << daemon.err();
  ASSERT_TRUE(WaitForText(daemon.err_path(), "ended: succeeded")) << daemon.err();
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(), 0) << daemon.err();

  // Every run ended, the first one succeeded with its downstream task, and no attempt was left
  // running or queued.
  Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Result<std::vector<RunRecord>> runs = (*store)->ListRuns(JobId(), 100);
  ASSERT_TRUE(runs.ok() && !runs->empty());
  EXPECT_EQ(runs->back().status, RunStatus::kSucceeded) << runs->back().error;
  for (const RunRecord& run : *runs) {
    EXPECT_TRUE(IsTerminal(run.status)) << run.id.str();
    Result<std::vector<AttemptRecord>> attempts = (*store)->ListAttempts(run.id);
    ASSERT_TRUE(attempts.ok());
    for (const AttemptRecord& attempt : *attempts) {
      EXPECT_NE(attempt.state, TaskState::kRunning) << run.id.str() << " " << attempt.task.str();
      EXPECT_NE(attempt.state, TaskState::kQueued) << run.id.str() << " " << attempt.task.str();
    }
  }
  Result<std::vector<AttemptRecord>> first = (*store)->ListAttempts(runs->back().id);
  ASSERT_TRUE(first.ok());
  std::map<std::string, TaskState> last;
  for (const AttemptRecord& attempt : *first) last[attempt.task.str()] = attempt.state;
  EXPECT_EQ(last["a"], TaskState::kSucceeded);
  EXPECT_EQ(last["b"], TaskState::kSucceeded);
}

}  // namespace
}  // namespace petit

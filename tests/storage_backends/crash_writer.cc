// crash_writer URI: the process crash_safety_test kills, many times over.
//
// It takes commands on stdin, one per line:
//   write SEED   fork a writer, which opens the store at URI and writes runs to it the way the
//                engine does, forever (well, for kMaxRuns runs), announcing each operation before
//                it and acknowledging it after it returned OK (crash_workload.h has the format)
//   kill         SIGKILL that writer
// and, once the writer is dead and reaped, prints "ended <how>" ("ended signal 9", "ended exit 2")
// after the writer's last line. End of input kills a writer still running and exits.
// Forking one ready process instead of starting a new one per kill keeps a long series of kills
// cheap under the sanitizers, whose start-up dominates otherwise. This process itself never
// opens the store, so every writer starts with none of its state.
//
// Each run: CreateRun; then engine wake-ups, each one SaveAttempts batch in which some running
// tasks end and some ready tasks start, followed by output chunks of tasks still running; then
// UpdateRun to succeeded. SEED decides the shape of everything; run ids are generated.
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "petit/core/state_store.h"
#include "petit/storage/open.h"
#include "storage_backends/crash_workload.h"

namespace petit::testing {
namespace {

constexpr int kMaxRuns = 10'000;
constexpr uint32_t kMaxTasksPerRun = 30;
constexpr uint32_t kMaxStartsPerWakeUp = 16;
constexpr uint32_t kMaxLogChunkBytes = 2 * 1024;
// Out of this many still-running tasks, about one writes an output chunk after a wake-up.
constexpr uint32_t kLogOneIn = 3;

// _exit: a forked writer must not run the exit handlers it inherited.
[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "crash_writer: %s\n", message.c_str());
  _exit(2);
}

// One write(2) per line: a pipe write of at most PIPE_BUF bytes is atomic, so the reader never
// sees half a line however the writer dies.
void WriteLine(std::string line) {
  line.push_back('\n');
  if (line.size() > kMaxTranscriptLine) Die("transcript line too long: " + line);
  for (;;) {
    const ssize_t written = write(STDOUT_FILENO, line.data(), line.size());
    if (written == static_cast<ssize_t>(line.size())) return;
    if (written < 0 && errno == EINTR) continue;
    Die(std::string("cannot write the transcript: ") + std::strerror(errno));
  }
}

class Writer {
 public:
  Writer(StateStore& store, uint64_t seed) : store_(store), rng_(seed) {}

  void WriteRun() {
    CrashOp create = NewOp(CrashOp::Kind::kCreateRun, RunId::Generate());
    const RunId run = create.run;
    Do(create, [&] { return store_.CreateRun(MakeCrashRun(run, RunStatus::kRunning)); });

    const uint32_t tasks = Uniform(1, kMaxTasksPerRun);
    uint32_t next_task = 0;
    std::vector<uint32_t> running;
    std::map<uint32_t, uint32_t> next_seq;
    while (next_task < tasks || !running.empty()) {
      CrashOp wake_up = NewOp(CrashOp::Kind::kSaveAttempts, run);
      std::shuffle(running.begin(), running.end(), rng_);
      uint32_t ending = Uniform(0, static_cast<uint32_t>(running.size()));
      uint32_t starting = std::min(Uniform(0, kMaxStartsPerWakeUp), tasks - next_task);
      if (ending == 0 && starting == 0) {
        if (next_task < tasks) {
          starting = 1;
        } else {
          ending = static_cast<uint32_t>(running.size());
        }
      }
      for (uint32_t i = 0; i < ending; ++i) {
        const uint32_t task = running.back();
        running.pop_back();
        wake_up.attempts.emplace_back(task,
                                      task % 7 == 3 ? TaskState::kFailed : TaskState::kSucceeded);
      }
      for (uint32_t i = 0; i < starting; ++i) {
        wake_up.attempts.emplace_back(next_task, TaskState::kRunning);
        running.push_back(next_task++);
      }
      Do(wake_up, [&] {
        std::vector<AttemptRecord> records;
        for (const auto& [task, state] : wake_up.attempts) {
          records.push_back(MakeCrashAttempt(run, task, state));
        }
        return store_.SaveAttempts(records);
      });

      for (const uint32_t task : running) {
        if (Uniform(1, kLogOneIn) != 1) continue;
        CrashOp log = NewOp(CrashOp::Kind::kAppendLog, run);
        log.task = task;
        log.seq = next_seq[task]++;
        log.size = Uniform(1, kMaxLogChunkBytes);
        Do(log, [&] { return store_.AppendLog(MakeCrashLogChunk(run, task, log.seq, log.size)); });
      }
    }

    const CrashOp finish = NewOp(CrashOp::Kind::kFinishRun, run);
    Do(finish, [&] { return store_.UpdateRun(MakeCrashRun(run, RunStatus::kSucceeded)); });
  }

 private:
  CrashOp NewOp(CrashOp::Kind kind, const RunId& run) {
    CrashOp op;
    op.number = next_op_++;
    op.kind = kind;
    op.run = run;
    return op;
  }

  template <typename Call>
  void Do(const CrashOp& op, Call&& call) {
    WriteLine(FormatCrashOp(op));
    const Status status = call();
    if (!status.ok()) Die(FormatCrashOp(op) + ": " + status.ToString());
    WriteLine("ok " + std::to_string(op.number));
  }

  uint32_t Uniform(uint32_t low, uint32_t high) {
    return std::uniform_int_distribution<uint32_t>(low, high)(rng_);
  }

  StateStore& store_;
  std::mt19937_64 rng_;
  uint64_t next_op_ = 0;
};

[[noreturn]] void WriteForever(const char* uri, uint64_t seed) {
  Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri);
  if (!store.ok()) Die(store.status().ToString());
  Writer writer(**store, seed);
  for (int i = 0; i < kMaxRuns; ++i) writer.WriteRun();
  _exit(0);
}

// Commands from stdin, read with read(2) so that poll(2) on stdin tells the truth.
class Commands {
 public:
  // The next line; nullopt at end of input.
  std::optional<std::string> Next() {
    for (;;) {
      const size_t newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      char chunk[256];
      const ssize_t got = read(STDIN_FILENO, chunk, sizeof chunk);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(got));
    }
  }
  bool HasLine() const { return buffer_.find('\n') != std::string::npos; }

 private:
  std::string buffer_;
};

std::string DescribeEnd(int status) {
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  return "status " + std::to_string(status);
}

// Waits for `kill` on stdin (or its end) or for the writer to die by itself, then reaps it.
void Supervise(pid_t writer, Commands& commands) {
  // The syscall itself: Debian 12's <sys/pidfd.h> declares pidfd_open without C linkage.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, writer, 0));
  if (pidfd < 0) Die(std::string("pidfd_open: ") + std::strerror(errno));
  for (;;) {
    if (!commands.HasLine()) {
      pollfd ready[2] = {{STDIN_FILENO, POLLIN, 0}, {pidfd, POLLIN, 0}};
      if (poll(ready, 2, -1) < 0) {
        if (errno == EINTR) continue;
        Die(std::string("poll: ") + std::strerror(errno));
      }
      if (ready[0].revents == 0) break;  // the writer died by itself
    }
    const std::optional<std::string> command = commands.Next();
    if (!command || *command == "kill") {
      kill(writer, SIGKILL);
      break;
    }
    Die("unexpected command while a writer runs: " + *command);
  }
  close(pidfd);
  int status = 0;
  while (waitpid(writer, &status, 0) < 0) {
    if (errno != EINTR) Die(std::string("waitpid: ") + std::strerror(errno));
  }
  WriteLine("ended " + DescribeEnd(status));
}

int Main(int argc, char** argv) {
  if (argc != 2) Die("usage: crash_writer URI (commands on stdin)");
  Commands commands;
  while (std::optional<std::string> command = commands.Next()) {
    constexpr std::string_view kWrite = "write ";
    uint64_t seed = 0;
    const std::string_view seed_text = std::string_view(*command).substr(
        command->starts_with(kWrite) ? kWrite.size() : command->size());
    const auto [end, error] =
        std::from_chars(seed_text.data(), seed_text.data() + seed_text.size(), seed);
    if (!command->starts_with(kWrite) || error != std::errc() ||
        end != seed_text.data() + seed_text.size()) {
      Die("unexpected command: " + *command);
    }
    const pid_t writer = fork();
    if (writer < 0) Die(std::string("fork: ") + std::strerror(errno));
    if (writer == 0) WriteForever(argv[1], seed);
    Supervise(writer, commands);
  }
  return 0;
}

}  // namespace
}  // namespace petit::testing

int main(int argc, char** argv) { return petit::testing::Main(argc, argv); }

// Crash safety: a writer process (crash_writer.cc) records runs the way the engine does and is
// SIGKILLed at random points, mid-transaction included. After each kill the database must open
// (SQLite: `PRAGMA integrity_check` says ok) and hold exactly what the writer had acknowledged,
// plus at most the one operation it was in (all of it or none of it: SaveAttempts is one
// transaction). Every round continues on the same database, so each writer starts on the WAL its
// killed predecessor left behind and has to recover it.
//
// The writer announces each operation before calling the store and acknowledges it after the call
// returned OK, over a pipe; the test synchronises on that pipe only.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "petit/core/state_store.h"
#include "petit/storage/open.h"
#include "storage_backends/crash_workload.h"
#include "storage_backends/test_databases.h"

extern char** environ;

namespace petit {
namespace {

using testing::CrashOp;

constexpr int kSqliteRounds = 40;
constexpr int kPostgresqlRounds = 8;
// The writer is killed after a uniformly chosen number of transcript lines in [1, this]; two lines
// per operation, a few dozen operations per run.
constexpr size_t kMaxLinesBeforeKill = 100;
// ... and then after a random delay up to this, of the order of one store call of the writer.
constexpr std::chrono::microseconds kMaxKillDelay{2'000};
// How long the writer may stay silent before the test gives up on it (a hang, not a crash).
constexpr int kWriterSilenceLimitMs = 120'000;
// Waiting for the server to end the killed writer's backends.
constexpr int kBackendEndLimitMs = 60'000;

// Every record in a store, keyed by its identity; the value is every stored field, as text.
// Comparing two of these compares two databases field by field.
using DbImage = std::map<std::string, std::string>;

std::string RunKey(const RunId& run) { return "run " + run.str(); }

std::string AttemptKey(const AttemptRecord& a) {
  return "attempt " + a.run.str() + " " + a.task.str() + " " + std::to_string(a.attempt);
}

std::string ChunkKey(const LogChunk& c) {
  return "log " + c.run.str() + " " + c.task.str() + " " + std::to_string(c.attempt) + " " +
         std::to_string(c.seq);
}

// The fields of the port's records (a backend may keep more, such as the run's owner).
std::string RunValue(const RunRecord& r) {
  return "job=" + r.job.str() + " status=" + std::string(RunStatusName(r.status)) +
         " trigger=" + r.trigger + " created=" + std::to_string(r.created_us) +
         " started=" + std::to_string(r.started_us) + " ended=" + std::to_string(r.ended_us) +
         " error=" + r.error;
}

std::string AttemptValue(const AttemptRecord& a) {
  std::string value =
      "state=" + std::string(TaskStateName(a.state)) + " queued=" + std::to_string(a.queued_us) +
      " started=" + std::to_string(a.started_us) + " ended=" + std::to_string(a.ended_us) +
      " exit=" + (a.exit_code ? std::to_string(*a.exit_code) : "null") + " error=" + a.error +
      " outputs={";
  for (const auto& [key, output] : a.outputs) {
    value += key + "(" + std::to_string(key.size()) + ")=" + output + "(" +
             std::to_string(output.size()) + ");";
  }
  return value + "}";
}

std::string ChunkValue(const LogChunk& c) {
  return "stream=" + std::to_string(static_cast<int>(c.stream)) +
         " size=" + std::to_string(c.data.size()) + " data=" + c.data;
}

void Apply(const CrashOp& op, DbImage& db) {
  switch (op.kind) {
    case CrashOp::Kind::kCreateRun:
      db[RunKey(op.run)] = RunValue(testing::MakeCrashRun(op.run, RunStatus::kRunning));
      return;
    case CrashOp::Kind::kFinishRun:
      db[RunKey(op.run)] = RunValue(testing::MakeCrashRun(op.run, RunStatus::kSucceeded));
      return;
    case CrashOp::Kind::kSaveAttempts:
      for (const auto& [task, state] : op.attempts) {
        const AttemptRecord attempt = testing::MakeCrashAttempt(op.run, task, state);
        db[AttemptKey(attempt)] = AttemptValue(attempt);
      }
      return;
    case CrashOp::Kind::kAppendLog: {
      const LogChunk chunk = testing::MakeCrashLogChunk(op.run, op.task, op.seq, op.size);
      db[ChunkKey(chunk)] = ChunkValue(chunk);
      return;
    }
  }
}

// The run that an image's key is about ("run <id>", "attempt <id> ...", "log <id> ...").
std::string_view RunOfKey(std::string_view key) {
  const size_t begin = key.find(' ') + 1;
  return key.substr(begin, key.find(' ', begin) - begin);
}

// Every run record of `image`, and the attempts and chunks of `runs` only.
DbImage Restrict(const DbImage& image, const std::set<std::string, std::less<>>& runs) {
  DbImage restricted;
  for (const auto& [key, value] : image) {
    if (key.starts_with("run ") || runs.contains(RunOfKey(key))) restricted.emplace(key, value);
  }
  return restricted;
}

// Reads the store as an image: every run record, and the attempts and chunks of `only_runs` (of
// every run if null).
Result<DbImage> ReadImage(const std::string& uri,
                          const std::set<std::string, std::less<>>* only_runs) {
  Result<std::unique_ptr<StateStore>> store = storage::OpenStateStore(uri);
  if (!store.ok()) return store.status().WithContext("the database does not open after a kill");
  constexpr size_t kEveryRun = 1'000'000;
  Result<std::vector<RunRecord>> runs = (*store)->ListRuns(JobId(), kEveryRun);
  if (!runs.ok()) return runs.status();
  LogQuery every_chunk;
  every_chunk.limit = SIZE_MAX;
  DbImage image;
  for (const RunRecord& run : *runs) {
    image[RunKey(run.id)] = RunValue(run);
    if (only_runs != nullptr && !only_runs->contains(run.id.str())) continue;
    Result<std::vector<AttemptRecord>> attempts = (*store)->ListAttempts(run.id);
    if (!attempts.ok()) return attempts.status();
    for (const AttemptRecord& attempt : *attempts)
      image[AttemptKey(attempt)] = AttemptValue(attempt);
    Result<std::vector<LogChunk>> chunks = (*store)->ReadLogs(run.id, every_chunk);
    if (!chunks.ok()) return chunks.status();
    for (const LogChunk& chunk : *chunks) image[ChunkKey(chunk)] = ChunkValue(chunk);
  }
  return image;
}

// Log data is binary and long: failure messages show a short, escaped prefix.
std::string Printable(std::string_view text) {
  constexpr size_t kShown = 160;
  std::string out;
  for (size_t i = 0; i < text.size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  if (text.size() > kShown) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

std::string Diff(const DbImage& expected, const DbImage& actual) {
  constexpr int kShownDifferences = 8;
  std::string out;
  int total = 0;
  auto note = [&](const std::string& line) {
    if (++total <= kShownDifferences) out += "\n    " + line;
  };
  for (const auto& [key, value] : expected) {
    auto it = actual.find(key);
    if (it == actual.end()) {
      note("missing: " + key);
    } else if (it->second != value) {
      note("changed: " + key + "\n      expected " + Printable(value) + "\n      stored   " +
           Printable(it->second));
    }
  }
  for (const auto& [key, value] : actual) {
    if (!expected.contains(key)) note("unexpected: " + key + " = " + Printable(value));
  }
  if (total > kShownDifferences) {
    out += "\n    ... " + std::to_string(total - kShownDifferences) + " more";
  }
  return std::to_string(total) + " difference(s):" + out;
}

struct Transcript {
  std::vector<CrashOp> acknowledged;
  std::optional<CrashOp> in_flight;  // announced, never acknowledged
  std::vector<std::string> lines;
};

Result<Transcript> ParseTranscript(std::vector<std::string> lines) {
  Transcript transcript;
  for (const std::string& line : lines) {
    if (line.starts_with("do ")) {
      if (transcript.in_flight) {
        return Internal("operation " + std::to_string(transcript.in_flight->number) +
                        " was never acknowledged, yet the writer went on: " + line);
      }
      Result<CrashOp> op = testing::ParseCrashOp(line);
      if (!op.ok()) return op.status();
      transcript.in_flight = std::move(op).value();
      continue;
    }
    uint64_t number = 0;
    const std::string_view digits = std::string_view(line).substr(line.starts_with("ok ") ? 3 : 0);
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
    if (!line.starts_with("ok ") || error != std::errc() || end != digits.data() + digits.size() ||
        !transcript.in_flight || transcript.in_flight->number != number) {
      return Internal("unexpected transcript line '" + line + "'");
    }
    transcript.acknowledged.push_back(std::move(*transcript.in_flight));
    transcript.in_flight.reset();
  }
  transcript.lines = std::move(lines);
  return transcript;
}

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Reads newline-terminated lines from a pipe.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}

  // The next line without its newline; nullopt at end of file.
  Result<std::optional<std::string>> Next() {
    for (;;) {
      const size_t newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return std::optional<std::string>(std::move(line));
      }
      if (end_of_file_) {
        if (!buffer_.empty()) return Internal("the transcript ends in a torn line: " + buffer_);
        return std::optional<std::string>();
      }
      pollfd ready{fd_, POLLIN, 0};
      const int polled = poll(&ready, 1, kWriterSilenceLimitMs);
      if (polled < 0 && errno == EINTR) continue;
      if (polled == 0) {
        return Unavailable("the writer wrote nothing for " +
                           std::to_string(kWriterSilenceLimitMs / 1000) + " s");
      }
      char chunk[4096];
      const ssize_t got = read(fd_, chunk, sizeof chunk);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return Internal(std::string("reading the transcript: ") + std::strerror(errno));
      if (got == 0) end_of_file_ = true;
      buffer_.append(chunk, static_cast<size_t>(got));
    }
  }

 private:
  int fd_;
  std::string buffer_;
  bool end_of_file_ = false;
};

// crash_writer, started once per series: each round it forks a writer, which the test has it
// kill (see crash_writer.cc for the protocol).
class WriterProcess {
 public:
  static Result<std::unique_ptr<WriterProcess>> Start(const std::string& uri) {
    int commands[2];
    int transcript[2];
    // A socket for the commands: send(MSG_NOSIGNAL) reports a dead crash_writer as an error
    // instead of a SIGPIPE that would end the test.
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, commands) != 0) {
      return Internal(std::string("socketpair: ") + std::strerror(errno));
    }
    if (pipe2(transcript, O_CLOEXEC) != 0) {
      close(commands[0]);
      close(commands[1]);
      return Internal(std::string("pipe2: ") + std::strerror(errno));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // dup2 clears FD_CLOEXEC on the copies: the child keeps these two and nothing else of ours.
    posix_spawn_file_actions_adddup2(&actions, commands[1], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, transcript[1], STDOUT_FILENO);
    std::string program = PETIT_CRASH_WRITER;
    std::string uri_copy = uri;
    char* argv[] = {program.data(), uri_copy.data(), nullptr};
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    // Only the child may hold the write end, so that its death is our end of file.
    close(commands[1]);
    close(transcript[1]);
    if (spawned != 0) {
      close(commands[0]);
      close(transcript[0]);
      return Internal("cannot start " + program + ": " + std::strerror(spawned));
    }
    return std::unique_ptr<WriterProcess>(new WriterProcess(pid, commands[0], transcript[0]));
  }

  // Closing the transcript first: a crash_writer blocked on a full pipe then fails instead of
  // waiting forever; closing the commands makes it kill a writer still running and exit.
  ~WriterProcess() {
    transcript_fd_.reset();
    commands_.reset();
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }

  WriterProcess(const WriterProcess&) = delete;
  WriterProcess& operator=(const WriterProcess&) = delete;

  // Starts a writer with `seed`, reads `kill_after` lines of its transcript, lets it run on for
  // `delay`, has it SIGKILLed and returns everything it wrote before it died. Returns only once
  // the writer is dead and reaped.
  Result<Transcript> WriteAndKill(uint64_t seed, size_t kill_after,
                                  std::chrono::microseconds delay) {
    PETIT_RETURN_IF_ERROR(Send("write " + std::to_string(seed)));
    std::vector<std::string> lines;
    while (lines.size() < kill_after) {
      Result<std::string> line = NextLine();
      if (!line.ok()) return line.status();
      if (line->starts_with(kEnded)) {
        return Internal("the writer ended by itself (" + line->substr(kEnded.size()) + ") after " +
                        std::to_string(lines.size()) + " transcript lines; its stderr is above");
      }
      lines.push_back(std::move(line).value());
    }
    // Not a wait for anything: a kill sent the moment a line arrives lands in the first
    // microseconds of the next store call, and commits would hardly ever be interrupted.
    // Spinning (sleeps are too coarse) a random while spreads kills over whole calls.
    const auto kill_at = std::chrono::steady_clock::now() + delay;
    while (std::chrono::steady_clock::now() < kill_at) {
    }
    PETIT_RETURN_IF_ERROR(Send("kill"));
    // crash_writer prints "ended" after reaping the writer: every line before it is complete.
    for (;;) {
      Result<std::string> line = NextLine();
      if (!line.ok()) return line.status();
      if (line->starts_with(kEnded)) {
        const std::string how = line->substr(kEnded.size());
        if (how != "signal " + std::to_string(SIGKILL)) {
          return Internal("the writer ended by itself (" + how + "); its stderr is above");
        }
        break;
      }
      lines.push_back(std::move(line).value());
    }
    return ParseTranscript(std::move(lines));
  }

 private:
  static constexpr std::string_view kEnded = "ended ";

  WriterProcess(pid_t pid, int commands, int transcript)
      : pid_(pid), commands_(commands), transcript_fd_(transcript), transcript_(transcript) {}

  Status Send(std::string command) {
    command.push_back('\n');
    size_t sent = 0;
    while (sent < command.size()) {
      const ssize_t n =
          send(commands_->get(), command.data() + sent, command.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Internal(std::string("crash_writer is gone: ") + std::strerror(errno));
      sent += static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  Result<std::string> NextLine() {
    Result<std::optional<std::string>> line = transcript_.Next();
    if (!line.ok()) return line.status();
    if (!line->has_value()) return Internal("crash_writer exited; its stderr is above");
    return std::move(**line);
  }

  pid_t pid_;
  std::optional<UniqueFd> commands_;
  std::optional<UniqueFd> transcript_fd_;
  LineReader transcript_;
};

// Kept alive while the store is read after a kill.
class Hold {
 public:
  virtual ~Hold() = default;
};

// A raw connection that checks the file and then stays open while the store reads it, closing
// last without a checkpoint: the WAL the killed writer left is still there for the next writer.
class SqliteCheck final : public Hold {
 public:
  static Result<std::unique_ptr<SqliteCheck>> Open(const std::string& path) {
    sqlite3* db = nullptr;
    const int opened = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
    std::unique_ptr<SqliteCheck> check(new SqliteCheck(db));
    if (opened != SQLITE_OK) {
      return Internal("sqlite3_open_v2(" + path + "): " + sqlite3_errstr(opened));
    }
    if (sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, static_cast<int*>(nullptr)) !=
        SQLITE_OK) {
      return Internal(std::string("SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE: ") + sqlite3_errmsg(db));
    }
    std::vector<std::string> rows;
    char* error = nullptr;
    const int ran = sqlite3_exec(
        db, "PRAGMA integrity_check",
        [](void* out, int, char** values, char**) {
          static_cast<std::vector<std::string>*>(out)->push_back(values[0] ? values[0] : "NULL");
          return 0;
        },
        &rows, &error);
    if (ran != SQLITE_OK) {
      std::string message = error != nullptr ? error : sqlite3_errstr(ran);
      sqlite3_free(error);
      return Internal("PRAGMA integrity_check failed: " + message);
    }
    if (rows != std::vector<std::string>{"ok"}) {
      std::string message = "PRAGMA integrity_check:";
      for (const std::string& row : rows) message += "\n  " + row;
      return Internal(message);
    }
    return check;
  }
  ~SqliteCheck() override { sqlite3_close(db_); }

 private:
  explicit SqliteCheck(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// A killed client's transaction is ended by its server backend, which may still be reading the
// client's last messages (a COMMIT included) when the test looks. Ending those backends and
// waiting for them makes the outcome final before the store is read.
Status EndOtherBackends(const std::string& conninfo) {
  const std::string others =
      " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
      "AND backend_type = 'client backend'";
  try {
    soci::session session(soci::postgresql, conninfo);
    long long signalled = 0;
    session << "SELECT count(pg_terminate_backend(pid, " + std::to_string(kBackendEndLimitMs) +
                   "))" + others,
        soci::into(signalled);
    long long left = 0;
    session << "SELECT count(*)" + others, soci::into(left);
    if (left != 0) {
      return Internal(std::to_string(left) + " backend(s) of the killed writer did not end");
    }
  } catch (const std::exception& error) {
    return Internal(std::string("cannot end the killed writer's backends: ") + error.what());
  }
  return Status::Ok();
}

uint64_t SeriesSeed() {
  if (const char* fixed = std::getenv("PETIT_CRASH_SEED"); fixed != nullptr && *fixed != '\0') {
    return std::strtoull(fixed, nullptr, 10);
  }
  return std::random_device()();
}

struct SeriesTally {
  int between_operations = 0;  // killed after an acknowledgement, before the next announcement
  int in_flight_lost = 0;      // killed inside an operation that left nothing in the database
  int in_flight_kept = 0;      // ... or that did, all of it
};

// Runs `rounds` write-and-kill rounds against `uri`; `after_kill` runs between the kill and the
// read. Fails the current test on the first round whose database is not as acknowledged.
// Each round compares every run record, and the attempts and chunks of the runs its writer
// touched (older runs are never written again); every kFullCheckEvery rounds and at the end, all
// of the database.
void RunSeries(const std::string& uri, int rounds,
               const std::function<Result<std::unique_ptr<Hold>>()>& after_kill,
               const std::function<void(int round)>& before_round, SeriesTally& tally) {
  constexpr int kFullCheckEvery = 10;
  const uint64_t seed = SeriesSeed();
  SCOPED_TRACE("seed " + std::to_string(seed) +
               " (rerun with PETIT_CRASH_SEED=" + std::to_string(seed) + ")");
  Result<std::unique_ptr<WriterProcess>> writer = WriterProcess::Start(uri);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  std::mt19937_64 rng(seed);
  DbImage acknowledged;
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    before_round(round);
    const size_t kill_after = std::uniform_int_distribution<size_t>(1, kMaxLinesBeforeKill)(rng);
    const std::chrono::microseconds delay(
        std::uniform_int_distribution<int64_t>(0, kMaxKillDelay.count())(rng));
    Result<Transcript> transcript = (*writer)->WriteAndKill(seed + round, kill_after, delay);
    ASSERT_TRUE(transcript.ok()) << transcript.status().ToString();
    std::set<std::string, std::less<>> touched;
    for (const CrashOp& op : transcript->acknowledged) touched.insert(op.run.str());
    if (transcript->in_flight) touched.insert(transcript->in_flight->run.str());
    const bool full = round % kFullCheckEvery == kFullCheckEvery - 1 || round == rounds - 1;

    Result<std::unique_ptr<Hold>> hold = after_kill();
    ASSERT_TRUE(hold.ok()) << hold.status().ToString();
    std::unique_ptr<Hold> held = std::move(hold).value();
    Result<DbImage> stored = ReadImage(uri, full ? nullptr : &touched);
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    held.reset();

    for (const CrashOp& op : transcript->acknowledged) Apply(op, acknowledged);
    auto view = [&](const DbImage& image) { return full ? image : Restrict(image, touched); };
    if (*stored == view(acknowledged)) {
      ++(transcript->in_flight ? tally.in_flight_lost : tally.between_operations);
      continue;
    }
    std::string failure = "the database differs from what the writer acknowledged: " +
                          Diff(view(acknowledged), *stored);
    if (transcript->in_flight) {
      DbImage with_in_flight = acknowledged;
      Apply(*transcript->in_flight, with_in_flight);
      if (*stored == view(with_in_flight)) {
        acknowledged = std::move(with_in_flight);
        ++tally.in_flight_kept;
        continue;
      }
      failure += "\nand from it with the interrupted operation (" +
                 testing::FormatCrashOp(*transcript->in_flight) +
                 ") applied whole: " + Diff(view(with_in_flight), *stored);
    }
    failure += "\nlast transcript lines:";
    const size_t from = transcript->lines.size() > 6 ? transcript->lines.size() - 6 : 0;
    for (size_t i = from; i < transcript->lines.size(); ++i) {
      failure += "\n  " + transcript->lines[i];
    }
    FAIL() << failure;
  }
}

void Report(std::string_view backend, int rounds, const SeriesTally& tally) {
  std::cout << backend << ": " << rounds << " kills: " << tally.in_flight_lost
            << " inside an operation that left nothing, " << tally.in_flight_kept
            << " inside one that had committed, " << tally.between_operations
            << " between operations\n";
}

TEST(CrashSafetyTest, SqliteKeepsEveryAcknowledgedWriteAcrossKills) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/petit.db";
  int rounds_on_a_left_wal = 0;
  SeriesTally tally;
  RunSeries(
      "sqlite://" + path, kSqliteRounds,
      [&]() -> Result<std::unique_ptr<Hold>> {
        Result<std::unique_ptr<SqliteCheck>> check = SqliteCheck::Open(path);
        if (!check.ok()) return check.status();
        return std::unique_ptr<Hold>(std::move(check).value());
      },
      [&](int) {
        struct stat wal {};
        if (stat((path + "-wal").c_str(), &wal) == 0 && wal.st_size > 0) ++rounds_on_a_left_wal;
      },
      tally);
  if (HasFatalFailure()) return;
  Report("SQLite", kSqliteRounds, tally);
  // Otherwise the series would only test a checkpointed file, never WAL recovery.
  EXPECT_GT(rounds_on_a_left_wal, kSqliteRounds / 2)
      << "the writers did not start on the WAL their killed predecessors left";
}

TEST(CrashSafetyTest, PostgresqlKeepsEveryAcknowledgedWriteAcrossKills) {
  PETIT_REQUIRE_POSTGRES();
  Result<std::unique_ptr<testing::ScratchPostgresDatabase>> database =
      testing::ScratchPostgresDatabase::Create(*testing::PostgresServerUri());
  ASSERT_TRUE(database.ok()) << database.status().ToString();
  const std::string conninfo = (*database)->conninfo();
  SeriesTally tally;
  RunSeries((*database)->uri(), kPostgresqlRounds,
            [&]() -> Result<std::unique_ptr<Hold>> {
              Status ended = EndOtherBackends(conninfo);
              if (!ended.ok()) return ended;
              return std::unique_ptr<Hold>();
            },
            [](int) {}, tally);
  if (HasFatalFailure()) return;
  Report("PostgreSQL", kPostgresqlRounds, tally);
}

}  // namespace
}  // namespace petit
